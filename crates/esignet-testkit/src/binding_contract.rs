//! The contract suite of the wallet public key registry ([`BindingStore`]).

use esignet_spi::{BindingStore, KeyBindingRecord, StoreError};
use serde_json::json;
use time::Duration;
use time::macros::datetime;

use crate::fixtures::unique_id;

/// A binding with every field set, for `id_hash` and `auth_factor`; the key, thumbprint and
/// subject derive from `key_id`, so different ids never share a key. Timestamps have microsecond
/// precision, the finest every backend keeps.
pub fn sample_binding(id_hash: &str, auth_factor: &str, key_id: &str) -> KeyBindingRecord {
    KeyBindingRecord {
        id_hash: id_hash.to_owned(),
        auth_factor: auth_factor.to_owned(),
        psu_token: format!("psut-{id_hash}"),
        public_key: json!({"kty": "EC", "crv": "P-256", "x": format!("x-{key_id}"), "y": "y"})
            .to_string(),
        public_key_hash: format!("key-hash-{key_id}"),
        certificate: format!(
            "-----BEGIN CERTIFICATE-----\nMIIB{key_id}\n-----END CERTIFICATE-----\n"
        ),
        thumbprint: format!("thumb-{key_id}"),
        wallet_binding_id: format!("wbid-{key_id}"),
        expires_at: datetime!(2031-02-03 04:05:06.123456 UTC),
        created_at: datetime!(2030-02-03 04:05:06.654321 UTC),
    }
}

/// Checks every rule of [`BindingStore`]: unknown lookups are absent, records round-trip with
/// every field, re-binding a factor replaces the record (and the old thumbprint stops
/// matching), one key may be bound twice for the same subject but never for a different one,
/// and a refused save writes nothing.
///
/// # Panics
///
/// On the first violation, naming the rule broken.
pub async fn binding_store_contract(store: &dyn BindingStore) {
    let resident = unique_id("id-hash");
    assert!(
        matches!(store.get_binding(&resident, "WLA").await, Ok(None)),
        "get_binding of an unknown resident must be Ok(None)"
    );
    assert!(
        matches!(
            store.find_binding_by_thumbprint(&resident, "none").await,
            Ok(None)
        ),
        "find_binding_by_thumbprint of an unknown thumbprint must be Ok(None)"
    );

    // Round trip.
    let first = sample_binding(&resident, "WLA", &unique_id("key"));
    store
        .save_binding(&first)
        .await
        .expect("save a new binding");
    assert_eq!(
        store.get_binding(&resident, "WLA").await.expect("get"),
        Some(first.clone()),
        "a binding must round-trip unchanged"
    );
    assert_eq!(
        store
            .find_binding_by_thumbprint(&resident, &first.thumbprint)
            .await
            .expect("find"),
        Some(first.clone()),
        "a binding must be found by its certificate thumbprint"
    );
    assert!(
        matches!(
            store
                .find_binding_by_thumbprint(&unique_id("other"), &first.thumbprint)
                .await,
            Ok(None)
        ),
        "a thumbprint only matches for its own resident"
    );

    // Re-binding the factor replaces the record.
    let mut second = sample_binding(&resident, "WLA", &unique_id("key"));
    second.expires_at += Duration::days(1);
    store.save_binding(&second).await.expect("re-bind");
    assert_eq!(
        store.get_binding(&resident, "WLA").await.expect("get"),
        Some(second.clone()),
        "re-binding replaces the factor's record"
    );
    assert!(
        matches!(
            store
                .find_binding_by_thumbprint(&resident, &first.thumbprint)
                .await,
            Ok(None)
        ),
        "the replaced certificate no longer matches"
    );

    // The same key for another factor of the same subject is fine.
    let mut other_factor = second.clone();
    other_factor.auth_factor = "PIN".to_owned();
    other_factor.thumbprint = unique_id("thumb");
    store
        .save_binding(&other_factor)
        .await
        .expect("the same subject may bind one key for two factors");

    // The same key for a different subject is refused, and nothing is written.
    let intruder = unique_id("id-hash");
    let mut stolen = second.clone();
    stolen.id_hash = intruder.clone();
    stolen.psu_token = format!("psut-{intruder}");
    stolen.thumbprint = unique_id("thumb");
    let refused = store.save_binding(&stolen).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict("public_key"))),
        "a key bound to another subject must be Conflict(\"public_key\"), got {refused:?}"
    );
    assert!(
        matches!(store.get_binding(&intruder, "WLA").await, Ok(None)),
        "a refused binding writes nothing"
    );
}
