//! PUT (v1..v3) and PATCH: what changes, what is kept, every validation code, business errors.

use time::Duration;

use super::*;
use crate::codes::*;

async fn update_v3(fixture: &Fixture, client_id: &str, body: Value) -> Result<ClientResponse> {
    fixture
        .manager
        .update_v3(client_id, serde_json::from_value(body).unwrap())
        .await
}

async fn patch(fixture: &Fixture, client_id: &str, body: Value) -> Result<ClientResponse> {
    fixture
        .manager
        .patch(client_id, serde_json::from_value(body).unwrap())
        .await
}

const LATER: time::OffsetDateTime = datetime!(2025-03-01 11:00:00 UTC);

#[tokio::test]
async fn update_v3_replaces_the_updatable_fields_only() {
    let fixture = Fixture::new().await;
    let enc_key = rsa_key();
    let body = set(v3_body("portal"), "encPublicKey", enc_key.clone());
    fixture.create_v3(body).await.unwrap();
    let before = fixture.stored("portal").await;
    fixture.clock.advance(Duration::hours(1));

    let response = update_v3(&fixture, "portal", update_v3_body())
        .await
        .unwrap();
    assert_eq!(
        response,
        ClientResponse {
            client_id: "portal".into(),
            status: ClientStatus::Inactive
        }
    );
    let after = fixture.stored("portal").await;
    assert_eq!(
        Value::Object(after.name.clone()),
        json!({"@none": "Health portal 2", "spa": "Portal de salud"})
    );
    assert_eq!(after.logo_uri, "https://rp.example.org/logo2.png");
    assert_eq!(
        after.redirect_uris,
        ["https://rp.example.org/cb2", "https://rp.example.org/app/*"]
    );
    assert_eq!(after.claims, ["phone_number"]);
    assert_eq!(
        after.acr_values,
        ["mosip:idp:acr:password mosip:idp:acr:biometrics"]
    );
    assert_eq!(after.status, ClientStatus::Inactive);
    assert_eq!(
        after.additional_config,
        Some(json!({"userinfo_response_type": "JWS"}))
    );
    assert_eq!(after.updated_at, Some(LATER));
    // Not updatable by PUT.
    assert_eq!(after.public_key, before.public_key);
    assert_eq!(after.public_key_hash, before.public_key_hash);
    assert_eq!(after.enc_public_key, before.enc_public_key);
    assert_eq!(after.relying_party_id, before.relying_party_id);
    assert_eq!(after.created_at, before.created_at);

    let event = fixture.audit.last();
    assert_eq!(event.action, AuditAction::OauthClientUpdate);
    assert_eq!(event.status, AuditStatus::Success);
    assert_eq!(event.client_id.as_deref(), Some("portal"));
    assert_eq!(event.at, LATER);
}

#[tokio::test]
async fn update_v1_drops_language_names_and_keeps_additional_config() {
    let fixture = Fixture::new().await;
    fixture.registered("legacy").await;
    let body = remove(
        remove(update_v3_body(), "clientNameLangMap"),
        "additionalConfig",
    );
    let request: UpdateClientV1Request = serde_json::from_value(body).unwrap();
    fixture.manager.update_v1("legacy", request).await.unwrap();
    let stored = fixture.stored("legacy").await;
    assert_eq!(
        Value::Object(stored.name),
        json!({"@none": "Health portal 2"})
    );
    assert_eq!(stored.additional_config, Some(full_additional_config()));
    assert_eq!(stored.status, ClientStatus::Inactive);
    assert_eq!(fixture.audit.last().action, AuditAction::OidcClientUpdate);
}

#[tokio::test]
async fn update_v2_replaces_language_names_and_keeps_additional_config() {
    let fixture = Fixture::new().await;
    fixture.registered("v2").await;
    let body = remove(update_v3_body(), "additionalConfig");
    let request: UpdateClientV2Request = serde_json::from_value(body.clone()).unwrap();
    fixture.manager.update_v2("v2", request).await.unwrap();
    let stored = fixture.stored("v2").await;
    assert_eq!(
        Value::Object(stored.name),
        json!({"@none": "Health portal 2", "spa": "Portal de salud"})
    );
    assert_eq!(stored.additional_config, Some(full_additional_config()));
    assert_eq!(fixture.audit.last().action, AuditAction::OauthClientUpdate);

    let request: UpdateClientV2Request =
        serde_json::from_value(remove(body, "clientNameLangMap")).unwrap();
    assert_eq!(
        code_of(fixture.manager.update_v2("v2", request).await),
        INVALID_CLIENT_NAME
    );
}

#[tokio::test]
async fn update_rejects_each_invalid_field_with_its_code() {
    let fixture = Fixture::new().await;
    fixture.registered("portal").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("clientName", Value::Null, INVALID_CLIENT_NAME),
        ("clientName", json!(" "), INVALID_CLIENT_NAME),
        ("clientNameLangMap", Value::Null, INVALID_CLIENT_NAME),
        ("clientNameLangMap", json!({}), INVALID_CLIENT_NAME),
        (
            "clientNameLangMap",
            json!({"fr": "x"}),
            INVALID_LANGUAGE_CODE,
        ),
        (
            "clientNameLangMap",
            json!({"fra": ""}),
            INVALID_CLIENT_NAME_VALUE,
        ),
        (
            "clientNameLangMap",
            json!({"fra": "l".repeat(51)}),
            INVALID_CLIENT_NAME_LENGTH,
        ),
        ("logoUri", Value::Null, INVALID_URI),
        ("logoUri", json!("ftp//broken"), INVALID_URI),
        ("redirectUris", Value::Null, INVALID_REDIRECT_URI),
        ("redirectUris", json!([]), INVALID_REDIRECT_URI),
        ("userClaims", Value::Null, INVALID_CLAIM),
        ("userClaims", json!([]), INVALID_CLAIM),
        ("userClaims", json!(["address"]), INVALID_CLAIM),
        ("authContextRefs", Value::Null, INVALID_ACR),
        ("authContextRefs", json!(["unknown"]), INVALID_ACR),
        ("status", Value::Null, INVALID_STATUS),
        ("status", json!("active"), INVALID_STATUS),
        ("status", json!("DELETED"), INVALID_STATUS),
        ("status", json!(" ACTIVE"), INVALID_STATUS),
        ("grantTypes", Value::Null, UNSUPPORTED_GRANT_TYPE),
        (
            "grantTypes",
            json!(["client_credentials"]),
            UNSUPPORTED_GRANT_TYPE,
        ),
        ("clientAuthMethods", Value::Null, INVALID_CLIENT_AUTH),
        ("clientAuthMethods", json!(["none"]), INVALID_CLIENT_AUTH),
        ("additionalConfig", Value::Null, INVALID_ADDITIONAL_CONFIG),
        (
            "additionalConfig",
            json!({"require_pkce": "yes"}),
            INVALID_ADDITIONAL_CONFIG,
        ),
    ];
    let before = fixture.stored("portal").await;
    for (field, value, expected) in cases {
        let body = set(update_v3_body(), field, value.clone());
        let error = update_v3(&fixture, "portal", body).await;
        assert_eq!(code_of(error), expected, "{field} = {value}");
    }
    assert_eq!(fixture.stored("portal").await, before);
}

#[tokio::test]
async fn unknown_or_malformed_client_ids_are_invalid_client_id() {
    let fixture = Fixture::new().await;
    for client_id in ["missing", "", "has space", &"c".repeat(101)] {
        let error = update_v3(&fixture, client_id, update_v3_body()).await;
        assert_eq!(code_of(error), INVALID_CLIENT_ID, "{client_id:?}");
        assert_eq!(
            code_of(patch(&fixture, client_id, json!({})).await),
            INVALID_CLIENT_ID
        );
    }
    let event = fixture.audit.last();
    assert_eq!(event.status, AuditStatus::Error);
    assert_eq!(event.client_id, None, "a malformed id is not audited");

    // Fields are checked before the lookup, as eSignet's bean validation runs first.
    let body = set(update_v3_body(), "status", json!("GONE"));
    assert_eq!(
        code_of(update_v3(&fixture, "missing", body).await),
        INVALID_STATUS
    );
}

#[tokio::test]
async fn patch_changes_only_the_given_fields() {
    let fixture = Fixture::new().await;
    fixture.registered("portal").await;
    let before = fixture.stored("portal").await;
    fixture.clock.advance(Duration::hours(1));

    // Nothing given (or only nulls): everything kept, the update time stamped.
    let response = patch(
        &fixture,
        "portal",
        json!({"clientName": null, "encPublicKey": null}),
    )
    .await
    .unwrap();
    assert_eq!(response.status, ClientStatus::Active);
    let after = fixture.stored("portal").await;
    assert_eq!(
        ClientRecord {
            updated_at: None,
            ..after.clone()
        },
        before
    );
    assert_eq!(after.updated_at, Some(LATER));
    assert_eq!(fixture.audit.last().action, AuditAction::OauthClientUpdate);

    let enc_key = with_member(with_member(rsa_key(), "use", "enc"), "alg", "RSA-OAEP-256");
    let response = patch(
        &fixture,
        "portal",
        json!({
            "status": "INACTIVE",
            "encPublicKey": enc_key,
            "userClaims": ["birthdate"],
            "additionalConfig": {"dpop_bound_access_tokens": true},
        }),
    )
    .await
    .unwrap();
    assert_eq!(response.status, ClientStatus::Inactive);
    let after = fixture.stored("portal").await;
    let expected_enc = esignet_jose::PublicJwk::from_json(&enc_key)
        .unwrap()
        .to_json();
    assert_eq!(after.enc_public_key, Some(expected_enc));
    assert_eq!(after.claims, ["birthdate"]);
    assert_eq!(
        after.additional_config,
        Some(json!({"dpop_bound_access_tokens": true}))
    );
    assert_eq!(after.status, ClientStatus::Inactive);
    assert_eq!(after.name, before.name);
    assert_eq!(after.redirect_uris, before.redirect_uris);
    assert_eq!(after.acr_values, before.acr_values);
    assert_eq!(after.logo_uri, before.logo_uri);
    assert_eq!(after.public_key, before.public_key);
}

#[tokio::test]
async fn an_encryption_key_labelled_for_signing_is_stored_for_encryption() {
    let fixture = Fixture::new().await;
    fixture.registered("portal").await;
    // What key generators produce: a signature `alg`, sometimes `use: sig`, and a kid.
    let labelled = with_member(
        with_member(with_member(rsa_key(), "alg", "RS256"), "use", "sig"),
        "kid",
        "enc-1",
    );
    patch(
        &fixture,
        "portal",
        json!({"encPublicKey": labelled.clone()}),
    )
    .await
    .unwrap();
    let stored = fixture.stored("portal").await.enc_public_key.unwrap();
    assert_eq!(stored["kid"], "enc-1");
    assert_eq!(stored.get("alg"), None);
    assert_eq!(stored.get("use"), None);
    assert_eq!(stored["n"], labelled["n"]);
    // As labelled, the key could not encrypt; as stored, it can.
    let as_given = esignet_jose::PublicJwk::from_json(&labelled).unwrap();
    assert!(esignet_jose::encrypt_compact(b"{}", &as_given, Some("JWT")).is_err());
    let key = esignet_jose::PublicJwk::from_json(&stored).unwrap();
    assert!(esignet_jose::encrypt_compact(b"{}", &key, Some("JWT")).is_ok());
}

#[tokio::test]
async fn patch_names_keep_the_other_part() {
    let fixture = Fixture::new().await;
    fixture.registered("portal").await;

    patch(&fixture, "portal", json!({"clientName": "Renamed"}))
        .await
        .unwrap();
    assert_eq!(
        Value::Object(fixture.stored("portal").await.name),
        json!({"@none": "Renamed", "fra": "Portail santé", "ara": "بوابة الصحة"})
    );

    patch(
        &fixture,
        "portal",
        json!({"clientNameLangMap": {"hin": "स्वास्थ्य"}}),
    )
    .await
    .unwrap();
    assert_eq!(
        Value::Object(fixture.stored("portal").await.name),
        json!({"@none": "Renamed", "hin": "स्वास्थ्य"})
    );

    // An empty map removes every language variant.
    patch(&fixture, "portal", json!({"clientNameLangMap": {}}))
        .await
        .unwrap();
    assert_eq!(
        Value::Object(fixture.stored("portal").await.name),
        json!({"@none": "Renamed"})
    );
}

#[tokio::test]
async fn patch_rejects_each_invalid_field_with_its_code() {
    let fixture = Fixture::new().await;
    fixture.registered("portal").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("clientName", json!(""), INVALID_CLIENT_NAME),
        ("clientName", json!("n".repeat(257)), INVALID_CLIENT_NAME),
        (
            "clientNameLangMap",
            json!({"english": "x"}),
            INVALID_LANGUAGE_CODE,
        ),
        (
            "clientNameLangMap",
            json!({"eng": " "}),
            INVALID_CLIENT_NAME_VALUE,
        ),
        (
            "clientNameLangMap",
            json!({"eng": "l".repeat(51)}),
            INVALID_CLIENT_NAME_LENGTH,
        ),
        ("logoUri", json!(""), INVALID_URI),
        ("redirectUris", json!([]), INVALID_REDIRECT_URI),
        ("redirectUris", json!(["no scheme"]), INVALID_REDIRECT_URI),
        ("userClaims", json!([]), INVALID_CLAIM),
        ("authContextRefs", json!([]), INVALID_ACR),
        ("status", json!("SUSPENDED"), INVALID_STATUS),
        ("grantTypes", json!(["password"]), UNSUPPORTED_GRANT_TYPE),
        (
            "clientAuthMethods",
            json!(["client_secret_post"]),
            INVALID_CLIENT_AUTH,
        ),
        (
            "additionalConfig",
            json!({"consent_expire_in_mins": 5}),
            INVALID_ADDITIONAL_CONFIG,
        ),
        ("encPublicKey", json!({}), INVALID_PUBLIC_KEY),
        ("encPublicKey", ec_key(), INVALID_PUBLIC_KEY),
        ("encPublicKey", rsa_1024_key(), INVALID_PUBLIC_KEY),
        (
            "encPublicKey",
            with_member(rsa_key(), "use", "other"),
            INVALID_PUBLIC_KEY,
        ),
        (
            "encPublicKey",
            with_member(rsa_key(), "alg", "RSA-OAEP"),
            INVALID_PUBLIC_KEY,
        ),
        (
            "encPublicKey",
            PrivateKey::generate_ec_p256()
                .unwrap()
                .private_jwk_json()
                .unwrap(),
            INVALID_PUBLIC_KEY,
        ),
    ];
    let before = fixture.stored("portal").await;
    for (field, value, expected) in cases {
        let error = patch(&fixture, "portal", json!({ field: value.clone() })).await;
        assert_eq!(code_of(error), expected, "{field} = {value}");
    }
    assert_eq!(fixture.stored("portal").await, before);
}

#[tokio::test]
async fn store_failures_on_update() {
    let (manager, audit) = scripted(ScriptedStore::down());
    let request = serde_json::from_value(update_v3_body()).unwrap();
    let error = manager.update_v3("portal", request).await.unwrap_err();
    assert!(matches!(error, Error::Unavailable(_)), "{error:?}");
    let error = manager
        .patch("portal", PatchClientRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unavailable(_)), "{error:?}");
    assert_eq!(
        audit.last().error_code.as_deref(),
        Some(SERVICE_UNAVAILABLE)
    );

    // Read fine, write fails: unavailable, deleted in between (race), or a key conflict.
    let existing = stored_record("portal");
    let cases: [(Failure, &str); 3] = [
        (
            || StoreError::Unavailable("timeout".into()),
            SERVICE_UNAVAILABLE,
        ),
        (|| StoreError::NotFound, INVALID_CLIENT_ID),
        (|| StoreError::Conflict("public_key"), DUPLICATE_PUBLIC_KEY),
    ];
    for (failure, expected) in cases {
        let record = existing.clone();
        let (manager, _) = scripted(ScriptedStore {
            get: Box::new(move || Ok(Some(record.clone()))),
            write_error: Box::new(failure),
        });
        let error = manager.patch("portal", PatchClientRequest::default()).await;
        assert_eq!(code_of(error), expected);
    }

    // A corrupt stored row is an internal error.
    let (manager, _) = scripted(ScriptedStore {
        get: Box::new(|| Err(StoreError::Corrupt("bad json".into()))),
        write_error: Box::new(|| StoreError::NotFound),
    });
    let error = manager.patch("portal", PatchClientRequest::default()).await;
    assert_eq!(code_of(error), UNKNOWN_ERROR);
}
