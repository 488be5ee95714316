//! Contract suites for the durable stores: [`ClientStore`], [`ConsentStore`], [`KeyStore`].
//!
//! Each suite creates its own records under fresh ids, so it can run against a database that
//! other tests (or earlier runs) have already written to.

use esignet_spi::{ClientStatus, ClientStore, ConsentStore, KeyStore, StoreError};
use serde_json::json;
use time::Duration;

use crate::fixtures::{sample_client, sample_consent, sample_key, unique_id};

/// Checks every rule of [`ClientStore`]: lookups of unknown ids, full-fidelity round trips, the
/// two uniqueness rules on insert and update, and `NotFound` for updates of unknown clients.
///
/// # Panics
///
/// On the first violation, naming the rule broken.
pub async fn client_store_contract(store: &dyn ClientStore) {
    // Unknown ids are absent, not an error.
    let unknown = store.get_client(&unique_id("no-such-client")).await;
    assert!(
        matches!(unknown, Ok(None)),
        "get_client of an unknown id must be Ok(None), got {unknown:?}"
    );

    // Every field survives the round trip, with both optional fields set.
    let full = sample_client(&unique_id("client-full"));
    store
        .insert_client(&full)
        .await
        .expect("insert of a new client");
    assert_eq!(
        store.get_client(&full.client_id).await.expect("get"),
        Some(full.clone()),
        "a client with every field set must round-trip unchanged"
    );

    // ... and with both optional fields unset, an inactive status, a one-language name and
    // empty lists.
    let mut sparse = sample_client(&unique_id("client-sparse"));
    sparse.enc_public_key = None;
    sparse.additional_config = None;
    sparse.updated_at = None;
    sparse.status = ClientStatus::Inactive;
    sparse.name = [("@none".to_owned(), json!("Only one name"))]
        .into_iter()
        .collect();
    sparse.claims = Vec::new();
    sparse.acr_values = Vec::new();
    store
        .insert_client(&sparse)
        .await
        .expect("insert of a client without optional fields");
    assert_eq!(
        store.get_client(&sparse.client_id).await.expect("get"),
        Some(sparse.clone()),
        "a client with optional fields unset must round-trip unchanged"
    );

    // A second client with the same id (but its own key) is refused, and the first is untouched.
    let mut same_id = sample_client(&full.client_id);
    same_id.public_key_hash = unique_id("pkh-other");
    same_id.relying_party_id = "someone-else".to_owned();
    let duplicate = store.insert_client(&same_id).await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict("client_id"))),
        "insert of an existing client id must be Conflict(\"client_id\"), got {duplicate:?}"
    );
    assert_eq!(
        store.get_client(&full.client_id).await.expect("get"),
        Some(full.clone()),
        "a refused insert must not change the existing client"
    );

    // A new id with a key another client already has is refused and stores nothing.
    let mut same_key = sample_client(&unique_id("client-same-key"));
    same_key.public_key_hash = full.public_key_hash.clone();
    same_key.public_key = full.public_key.clone();
    let duplicate = store.insert_client(&same_key).await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict("public_key"))),
        "insert with another client's public key hash must be Conflict(\"public_key\"), got \
         {duplicate:?}"
    );
    let stored = store.get_client(&same_key.client_id).await;
    assert!(
        matches!(stored, Ok(None)),
        "a refused insert must store nothing, got {stored:?}"
    );

    // Update replaces every field but the id, including setting optional fields to None.
    let mut updated = sample_client(&full.client_id);
    updated.name = [
        ("@none".to_owned(), json!("Renamed portal")),
        ("tam".to_owned(), json!("சுகாதார போர்டல்")),
    ]
    .into_iter()
    .collect();
    updated.relying_party_id = "rp-renamed".to_owned();
    updated.logo_uri = "https://rp.example.org/new-logo.svg".to_owned();
    updated.redirect_uris = vec!["https://rp.example.org/other-callback".to_owned()];
    updated.claims = vec!["birthdate".to_owned()];
    updated.acr_values = vec!["mosip:idp:acr:biometrics".to_owned()];
    updated.public_key = json!({"kty": "EC", "crv": "P-256", "x": "xx", "y": "yy"});
    updated.public_key_hash = unique_id("pkh-rotated");
    updated.enc_public_key = None;
    updated.status = ClientStatus::Inactive;
    updated.additional_config = Some(json!({"consent_expire_in_mins": 60, "nested": [1, 2.5]}));
    updated.updated_at = Some(full.created_at + Duration::days(3));
    store
        .update_client(&updated)
        .await
        .expect("update of an existing client");
    assert_eq!(
        store.get_client(&full.client_id).await.expect("get"),
        Some(updated.clone()),
        "an updated client must read back exactly as written"
    );

    // An update that keeps the client's own key is not a conflict with itself.
    let mut same_own_key = updated.clone();
    same_own_key.status = ClientStatus::Active;
    store
        .update_client(&same_own_key)
        .await
        .expect("update keeping the client's own public key");
    assert_eq!(
        store.get_client(&full.client_id).await.expect("get"),
        Some(same_own_key.clone())
    );

    // The key released by the update is free again for another client.
    let mut reuses_released = sample_client(&unique_id("client-reuse"));
    reuses_released.public_key_hash = full.public_key_hash.clone();
    store
        .insert_client(&reuses_released)
        .await
        .expect("a public key hash released by an update may be reused");

    // An update taking another client's key is refused and changes nothing.
    let mut steals_key = same_own_key.clone();
    steals_key.public_key_hash = sparse.public_key_hash.clone();
    steals_key.logo_uri = "https://attacker.example.org/logo.png".to_owned();
    let stolen = store.update_client(&steals_key).await;
    assert!(
        matches!(stolen, Err(StoreError::Conflict("public_key"))),
        "update to another client's public key hash must be Conflict(\"public_key\"), got \
         {stolen:?}"
    );
    assert_eq!(
        store.get_client(&full.client_id).await.expect("get"),
        Some(same_own_key),
        "a refused update must not change the client"
    );

    // Updating a client that does not exist is NotFound and creates nothing.
    let ghost = sample_client(&unique_id("client-ghost"));
    let missing = store.update_client(&ghost).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound)),
        "update of an unknown client must be NotFound, got {missing:?}"
    );
    let stored = store.get_client(&ghost.client_id).await;
    assert!(
        matches!(stored, Ok(None)),
        "a failed update must not create the client, got {stored:?}"
    );
}

/// Checks every rule of [`ConsentStore`]: one current consent per (client, subject) that each
/// save replaces, an append-only history in save order, deletion that keeps history, and full
/// separation between different (client, subject) pairs.
///
/// # Panics
///
/// On the first violation, naming the rule broken.
pub async fn consent_store_contract(store: &dyn ConsentStore) {
    let client = unique_id("consent-client");
    let other_client = unique_id("consent-other-client");
    let psut = unique_id("psut");
    let other_psut = unique_id("psut-other");

    let absent = store.get_consent(&client, &psut).await;
    assert!(
        matches!(absent, Ok(None)),
        "get_consent with no consent saved must be Ok(None), got {absent:?}"
    );
    assert_eq!(
        store
            .consent_history(&client, &psut)
            .await
            .expect("history"),
        Vec::new(),
        "history with no consent saved must be empty"
    );

    // First save: current and history both hold it, every field intact.
    let first = sample_consent(&client, &psut);
    store.save_consent(&first).await.expect("first save");
    assert_eq!(
        store.get_consent(&client, &psut).await.expect("get"),
        Some(first.clone()),
        "a saved consent must round-trip unchanged"
    );

    // Second save replaces the current one; optional fields unset and empty lists round-trip.
    let mut second = sample_consent(&client, &psut);
    second.expires_at = None;
    second.signature = None;
    second.accepted_claims = Vec::new();
    second.permitted_scopes = Vec::new();
    second.claims = json!({"userinfo": {"phone_number": null}});
    second.authorization_scopes = json!({});
    second.hash = "a-different-request".to_owned();
    second.created_at = first.created_at + Duration::minutes(5);
    store.save_consent(&second).await.expect("second save");
    assert_eq!(
        store.get_consent(&client, &psut).await.expect("get"),
        Some(second.clone()),
        "a later save must replace the current consent"
    );
    assert_eq!(
        store
            .consent_history(&client, &psut)
            .await
            .expect("history"),
        vec![first.clone(), second.clone()],
        "history must keep every save, oldest first"
    );

    // Other pairs sharing the client or the subject are independent.
    let same_client = sample_consent(&client, &other_psut);
    let same_subject = sample_consent(&other_client, &psut);
    store.save_consent(&same_client).await.expect("save");
    store.save_consent(&same_subject).await.expect("save");
    assert_eq!(
        store.get_consent(&client, &psut).await.expect("get"),
        Some(second.clone()),
        "consent of another subject or client must not replace this one"
    );
    assert_eq!(
        store.get_consent(&client, &other_psut).await.expect("get"),
        Some(same_client.clone())
    );
    assert_eq!(
        store.get_consent(&other_client, &psut).await.expect("get"),
        Some(same_subject.clone())
    );
    assert_eq!(
        store
            .consent_history(&client, &other_psut)
            .await
            .expect("history"),
        vec![same_client.clone()],
        "history is per (client, subject)"
    );
    let unrelated = store.get_consent(&other_client, &other_psut).await;
    assert!(matches!(unrelated, Ok(None)), "got {unrelated:?}");

    // Delete removes the current consent only; history stays; other pairs are untouched.
    store
        .delete_consent(&client, &psut)
        .await
        .expect("delete existing consent");
    let deleted = store.get_consent(&client, &psut).await;
    assert!(
        matches!(deleted, Ok(None)),
        "a deleted consent must be absent, got {deleted:?}"
    );
    assert_eq!(
        store
            .consent_history(&client, &psut)
            .await
            .expect("history"),
        vec![first.clone(), second.clone()],
        "delete must keep the history"
    );
    assert_eq!(
        store.get_consent(&client, &other_psut).await.expect("get"),
        Some(same_client)
    );
    store
        .delete_consent(&client, &psut)
        .await
        .expect("deleting an absent consent is not an error");

    // Saving after delete makes a new current consent; saving the same record again appends it
    // again, because the history records saves, not distinct records.
    let mut third = sample_consent(&client, &psut);
    third.created_at = second.created_at + Duration::days(1);
    store.save_consent(&third).await.expect("save after delete");
    store
        .save_consent(&third)
        .await
        .expect("save the same record again");
    assert_eq!(
        store.get_consent(&client, &psut).await.expect("get"),
        Some(third.clone())
    );
    assert_eq!(
        store
            .consent_history(&client, &psut)
            .await
            .expect("history"),
        vec![first, second, third.clone(), third],
        "history must hold every save in order"
    );
}

/// Checks every rule of [`KeyStore`]: listing per application newest first (by `created_at`,
/// whatever the insertion order), binary-exact round trips, and `Conflict("kid")` on duplicate
/// key ids across applications.
///
/// # Panics
///
/// On the first violation, naming the rule broken.
pub async fn key_store_contract(store: &dyn KeyStore) {
    let application = unique_id("APP");
    let other_application = unique_id("OTHER_APP");

    assert_eq!(
        store.list_keys(&application).await.expect("list"),
        Vec::new(),
        "an application without keys lists nothing"
    );

    let oldest = sample_key(&application, &unique_id("kid-oldest"));
    let mut middle = sample_key(&application, &unique_id("kid-middle"));
    middle.created_at = oldest.created_at + Duration::days(30);
    middle.algorithm = "ES256".to_owned();
    let mut newest = sample_key(&application, &unique_id("kid-newest"));
    newest.created_at = oldest.created_at + Duration::days(60);
    newest.not_before = newest.created_at;
    let foreign = sample_key(&other_application, &unique_id("kid-foreign"));

    // Inserted out of order: the listing order must come from created_at.
    for key in [&middle, &newest, &foreign, &oldest] {
        store.insert_key(key).await.expect("insert of a new key");
    }
    assert_eq!(
        store.list_keys(&application).await.expect("list"),
        vec![newest.clone(), middle.clone(), oldest.clone()],
        "keys must list newest first, only for the application asked, every field intact"
    );
    assert_eq!(
        store.list_keys(&other_application).await.expect("list"),
        vec![foreign.clone()]
    );

    // A kid is unique across applications; a refused insert changes nothing.
    let mut duplicate = sample_key(&application, &middle.kid);
    duplicate.created_at = newest.created_at + Duration::days(1);
    let refused = store.insert_key(&duplicate).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict("kid"))),
        "insert of an existing kid must be Conflict(\"kid\"), got {refused:?}"
    );
    let cross_application = sample_key(&other_application, &oldest.kid);
    let refused = store.insert_key(&cross_application).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict("kid"))),
        "a kid used by another application must be Conflict(\"kid\"), got {refused:?}"
    );
    assert_eq!(
        store.list_keys(&application).await.expect("list"),
        vec![newest, middle, oldest],
        "refused inserts must not change the keys"
    );
    assert_eq!(
        store.list_keys(&other_application).await.expect("list"),
        vec![foreign]
    );
}
