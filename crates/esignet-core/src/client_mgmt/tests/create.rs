//! Registration: stored record, every validation code, business errors, outages, audit.

use super::*;
use crate::codes::*;

#[tokio::test]
async fn create_v3_stores_the_validated_record() {
    let fixture = Fixture::new().await;
    let mut body = v3_body("health-portal");
    // The kid is kept in the canonical JWK.
    body["publicKey"]["kid"] = json!("sig-1");
    body["redirectUris"] = json!(["https://*.example.org/callback", "http://localhost:5000/**"]);
    body["encPublicKey"] = with_member(rsa_key(), "use", "enc");
    let response = fixture.create_v3(body.clone()).await.unwrap();
    assert_eq!(
        response,
        ClientResponse {
            client_id: "health-portal".into(),
            status: ClientStatus::Active
        }
    );

    let stored = fixture.stored("health-portal").await;
    let jwk = esignet_jose::PublicJwk::from_json(&body["publicKey"]).unwrap();
    assert_eq!(
        Value::Object(stored.name.clone()),
        json!({"@none": "Health portal", "fra": "Portail santé", "ara": "بوابة الصحة"})
    );
    assert_eq!(stored.name.keys().next().map(String::as_str), Some("@none"));
    assert_eq!(stored.relying_party_id, "rp-health");
    assert_eq!(stored.logo_uri, "https://rp.example.org/logo.png");
    assert_eq!(
        stored.redirect_uris,
        ["https://*.example.org/callback", "http://localhost:5000/**"]
    );
    assert_eq!(stored.claims, ["name", "email"]);
    assert_eq!(stored.acr_values, ["mosip:idp:acr:generated-code"]);
    assert_eq!(stored.public_key, jwk.to_json());
    assert_eq!(stored.public_key["kid"], "sig-1");
    assert_eq!(stored.public_key_hash, jwk.identity_hash());
    let enc = esignet_jose::PublicJwk::from_json(&body["encPublicKey"]).unwrap();
    assert_eq!(stored.enc_public_key, Some(enc.to_json()));
    assert_eq!(stored.grant_types, ["authorization_code"]);
    assert_eq!(stored.auth_methods, ["private_key_jwt"]);
    assert_eq!(stored.status, ClientStatus::Active);
    assert_eq!(stored.additional_config, Some(full_additional_config()));
    assert_eq!(stored.created_at, datetime!(2025-03-01 10:00:00 UTC));
    assert_eq!(stored.updated_at, None);

    let event = fixture.audit.last();
    assert_eq!(event.action, AuditAction::OauthClientCreate);
    assert_eq!(event.status, AuditStatus::Success);
    assert_eq!(event.client_id.as_deref(), Some("health-portal"));
    assert_eq!(event.error_code, None);
    assert_eq!(event.individual_id_hash, None);
    assert_eq!(event.at, datetime!(2025-03-01 10:00:00 UTC));
}

#[tokio::test]
async fn create_v1_stores_a_single_name_and_no_additional_config() {
    let fixture = Fixture::new().await;
    let body = remove(
        remove(v3_body("legacy"), "clientNameLangMap"),
        "additionalConfig",
    );
    let request: CreateClientV1Request = serde_json::from_value(body).unwrap();
    let response = fixture.manager.create_v1(request).await.unwrap();
    assert_eq!(response.status, ClientStatus::Active);
    let stored = fixture.stored("legacy").await;
    assert_eq!(
        Value::Object(stored.name),
        json!({"@none": "Health portal"})
    );
    assert_eq!(stored.additional_config, None);
    assert_eq!(stored.enc_public_key, None);
    assert_eq!(fixture.audit.last().action, AuditAction::OidcClientCreate);
}

#[tokio::test]
async fn create_v2_stores_language_names_and_requires_them() {
    let fixture = Fixture::new().await;
    let body = remove(v3_body("v2-client"), "additionalConfig");
    let request: CreateClientV2Request = serde_json::from_value(body.clone()).unwrap();
    fixture.manager.create_v2(request).await.unwrap();
    let stored = fixture.stored("v2-client").await;
    assert_eq!(
        Value::Object(stored.name),
        json!({"@none": "Health portal", "fra": "Portail santé", "ara": "بوابة الصحة"})
    );
    assert_eq!(stored.additional_config, None);
    assert_eq!(fixture.audit.last().action, AuditAction::OauthClientCreate);

    for names in [Value::Null, json!({})] {
        let body = set(
            set(body.clone(), "clientId", json!("other")),
            "clientNameLangMap",
            names,
        );
        let request: CreateClientV2Request = serde_json::from_value(body).unwrap();
        assert_eq!(
            code_of(fixture.manager.create_v2(request).await),
            INVALID_CLIENT_NAME
        );
    }
}

#[tokio::test]
async fn create_accepts_the_boundaries() {
    let fixture = Fixture::new().await;
    let id = "i".repeat(100);
    let mut body = json!({
        "clientId": id,
        "clientName": "n".repeat(256),
        "clientNameLangMap": {"fil": "l".repeat(50), "tgl": "Tagalog"},
        "relyingPartyId": "r".repeat(100),
        "userClaims": [],
        "authContextRefs": ["mosip:idp:acr:generated-code mosip:idp:acr:password"],
        "redirectUris": [
            "io.mosip.residentapp://oauth",
            "https://rp.example.org/cb?",
            "https://rp.example.org/a/*/c",
            "http://localhost:3000/**",
            "https://rp.example.org/cb?lang=en",
        ],
        "additionalConfig": {},
        "publicKey": rsa_key(),
        "logoUri": "http://localhost:8080/logo.png",
    });
    body["userClaims"] = strings("name", 30);
    body["authContextRefs"] = strings("mosip:idp:acr:password", 30);
    body["grantTypes"] = strings("authorization_code", 3);
    body["clientAuthMethods"] = strings("private_key_jwt", 3);
    fixture.create_v3(body).await.unwrap();
    assert_eq!(fixture.stored(&id).await.additional_config, Some(json!({})));

    // No claims at all is allowed on create.
    let empty_claims = set(v3_body("no-claims"), "userClaims", json!([]));
    fixture.create_v3(empty_claims).await.unwrap();
    assert!(fixture.stored("no-claims").await.claims.is_empty());
}

#[tokio::test]
async fn create_rejects_each_invalid_field_with_its_code() {
    let fixture = Fixture::new().await;
    let private_ec = PrivateKey::generate_ec_p256()
        .unwrap()
        .private_jwk_json()
        .unwrap();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("clientId", Value::Null, INVALID_CLIENT_ID),
        ("clientId", json!(""), INVALID_CLIENT_ID),
        ("clientId", json!("has space"), INVALID_CLIENT_ID),
        ("clientId", json!("tab\tbed"), INVALID_CLIENT_ID),
        ("clientId", json!("c".repeat(101)), INVALID_CLIENT_ID),
        ("clientName", Value::Null, INVALID_CLIENT_NAME),
        ("clientName", json!(""), INVALID_CLIENT_NAME),
        ("clientName", json!("   "), INVALID_CLIENT_NAME),
        ("clientName", json!("n".repeat(257)), INVALID_CLIENT_NAME),
        ("clientNameLangMap", Value::Null, INVALID_CLIENT_NAME),
        ("clientNameLangMap", json!({}), INVALID_CLIENT_NAME),
        (
            "clientNameLangMap",
            json!({"en": "x"}),
            INVALID_LANGUAGE_CODE,
        ),
        (
            "clientNameLangMap",
            json!({"ENG": "x"}),
            INVALID_LANGUAGE_CODE,
        ),
        (
            "clientNameLangMap",
            json!({"xyz": "x"}),
            INVALID_LANGUAGE_CODE,
        ),
        (
            "clientNameLangMap",
            json!({"@none": "x"}),
            INVALID_LANGUAGE_CODE,
        ),
        (
            "clientNameLangMap",
            json!({"fra": ""}),
            INVALID_CLIENT_NAME_VALUE,
        ),
        (
            "clientNameLangMap",
            json!({"fra": "  "}),
            INVALID_CLIENT_NAME_VALUE,
        ),
        (
            "clientNameLangMap",
            json!({"fra": null}),
            INVALID_CLIENT_NAME_VALUE,
        ),
        (
            "clientNameLangMap",
            json!({"fra": 5}),
            INVALID_CLIENT_NAME_VALUE,
        ),
        (
            "clientNameLangMap",
            json!({"fra": "l".repeat(51)}),
            INVALID_CLIENT_NAME_LENGTH,
        ),
        ("publicKey", Value::Null, INVALID_PUBLIC_KEY),
        ("publicKey", json!({}), INVALID_PUBLIC_KEY),
        ("publicKey", json!("a key"), INVALID_PUBLIC_KEY),
        ("publicKey", json!([ec_key()]), INVALID_PUBLIC_KEY),
        (
            "publicKey",
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            INVALID_PUBLIC_KEY,
        ),
        (
            "publicKey",
            json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
            INVALID_PUBLIC_KEY,
        ),
        (
            "publicKey",
            json!({"kty": "RSA", "n": "not base64!", "e": "AQAB"}),
            INVALID_PUBLIC_KEY,
        ),
        ("publicKey", private_ec, INVALID_PUBLIC_KEY),
        ("publicKey", rsa_1024_key(), INVALID_PUBLIC_KEY),
        (
            "publicKey",
            with_member(ec_key(), "use", "enc"),
            INVALID_PUBLIC_KEY,
        ),
        (
            "publicKey",
            with_member(ec_key(), "alg", "RS256"),
            INVALID_PUBLIC_KEY,
        ),
        ("relyingPartyId", Value::Null, INVALID_RP_ID),
        ("relyingPartyId", json!(""), INVALID_RP_ID),
        ("relyingPartyId", json!("rp health"), INVALID_RP_ID),
        ("relyingPartyId", json!("r".repeat(101)), INVALID_RP_ID),
        ("userClaims", Value::Null, INVALID_CLAIM),
        (
            "userClaims",
            json!(["name", "favourite_colour"]),
            INVALID_CLAIM,
        ),
        ("userClaims", strings("name", 31), INVALID_CLAIM),
        ("authContextRefs", Value::Null, INVALID_ACR),
        ("authContextRefs", json!([]), INVALID_ACR),
        (
            "authContextRefs",
            json!(["mosip:idp:acr:unknown"]),
            INVALID_ACR,
        ),
        (
            "authContextRefs",
            json!(["mosip:idp:acr:password mosip:idp:acr:x"]),
            INVALID_ACR,
        ),
        ("authContextRefs", json!([""]), INVALID_ACR),
        (
            "authContextRefs",
            strings("mosip:idp:acr:password", 31),
            INVALID_ACR,
        ),
        ("logoUri", Value::Null, INVALID_URI),
        ("logoUri", json!(""), INVALID_URI),
        ("logoUri", json!("not a url"), INVALID_URI),
        ("logoUri", json!("/logo.png"), INVALID_URI),
        ("logoUri", json!("javascript:alert(1)"), INVALID_URI),
        ("logoUri", json!("data:image/png;base64,AAAA"), INVALID_URI),
        ("redirectUris", Value::Null, INVALID_REDIRECT_URI),
        ("redirectUris", json!([]), INVALID_REDIRECT_URI),
        (
            "redirectUris",
            strings("https://rp.example.org/cb", 6),
            INVALID_REDIRECT_URI,
        ),
        (
            "redirectUris",
            json!(["https://rp.example.org/cb", ""]),
            INVALID_REDIRECT_URI,
        ),
        ("redirectUris", json!(["   "]), INVALID_REDIRECT_URI),
        ("redirectUris", json!(["not a url"]), INVALID_REDIRECT_URI),
        ("redirectUris", json!(["/callback"]), INVALID_REDIRECT_URI),
        ("redirectUris", json!(["**"]), INVALID_REDIRECT_URI),
        ("grantTypes", Value::Null, UNSUPPORTED_GRANT_TYPE),
        ("grantTypes", json!([]), UNSUPPORTED_GRANT_TYPE),
        ("grantTypes", json!(["implicit"]), UNSUPPORTED_GRANT_TYPE),
        (
            "grantTypes",
            strings("authorization_code", 4),
            UNSUPPORTED_GRANT_TYPE,
        ),
        ("clientAuthMethods", Value::Null, INVALID_CLIENT_AUTH),
        ("clientAuthMethods", json!([]), INVALID_CLIENT_AUTH),
        (
            "clientAuthMethods",
            json!(["client_secret_basic"]),
            INVALID_CLIENT_AUTH,
        ),
        (
            "clientAuthMethods",
            strings("private_key_jwt", 4),
            INVALID_CLIENT_AUTH,
        ),
        ("additionalConfig", Value::Null, INVALID_ADDITIONAL_CONFIG),
        ("additionalConfig", json!("JWS"), INVALID_ADDITIONAL_CONFIG),
        ("encPublicKey", ec_key(), INVALID_PUBLIC_KEY),
        (
            "encPublicKey",
            with_member(rsa_key(), "use", "wrap"),
            INVALID_PUBLIC_KEY,
        ),
        (
            "encPublicKey",
            with_member(rsa_key(), "alg", "RSA1_5"),
            INVALID_PUBLIC_KEY,
        ),
        ("encPublicKey", json!({}), INVALID_PUBLIC_KEY),
    ];
    for (field, value, expected) in cases {
        let body = set(v3_body("rejected"), field, value.clone());
        let error = fixture.create_v3(body).await;
        assert_eq!(code_of(error), expected, "{field} = {value}");
    }
    // Also when the field is absent rather than null.
    let body = remove(v3_body("rejected"), "redirectUris");
    assert_eq!(code_of(fixture.create_v3(body).await), INVALID_REDIRECT_URI);
    assert!(
        fixture
            .store
            .get_client("rejected")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn additional_config_follows_the_schema() {
    let fixture = Fixture::new().await;
    let invalid = [
        json!([]),
        json!({"unknown_flag": true}),
        json!({"userinfo_response_type": "JWT"}),
        json!({"userinfo_response_type": null}),
        json!({"purpose": "verify"}),
        json!({"purpose": {}}),
        json!({"purpose": {"type": "register"}}),
        json!({"purpose": {"type": "verify", "colour": "red"}}),
        json!({"purpose": {"type": "verify", "title": "Verify"}}),
        json!({"purpose": {"type": "verify", "title": {"fra": "Vérifier"}}}),
        json!({"purpose": {"type": "verify", "title": {"@none": "x", "fra": 2}}}),
        json!({"purpose": {"type": "verify", "subTitle": {"@none": 1}}}),
        json!({"signup_banner_required": "true"}),
        json!({"forgot_pwd_link_required": 1}),
        json!({"require_pushed_authorization_requests": null}),
        json!({"dpop_bound_access_tokens": "yes"}),
        json!({"require_pkce": 0}),
        json!({"consent_expire_in_mins": 9}),
        json!({"consent_expire_in_mins": 10.5}),
        json!({"consent_expire_in_mins": -20}),
        json!({"consent_expire_in_mins": "20"}),
    ];
    for config in invalid {
        let body = set(v3_body("configured"), "additionalConfig", config.clone());
        assert_eq!(
            code_of(fixture.create_v3(body).await),
            INVALID_ADDITIONAL_CONFIG,
            "{config}"
        );
    }
    let valid = [
        json!({"purpose": null, "consent_expire_in_mins": 10}),
        json!({"purpose": {"type": "login", "title": null, "subTitle": {"@none": "Sub", "khm": "ក"}}}),
        json!({"purpose": {"type": "none"}, "userinfo_response_type": "JWS"}),
        full_additional_config(),
    ];
    for (index, config) in valid.into_iter().enumerate() {
        let id = format!("configured-{index}");
        let body = set(v3_body(&id), "additionalConfig", config.clone());
        fixture.create_v3(body).await.unwrap();
        assert_eq!(fixture.stored(&id).await.additional_config, Some(config));
    }
}

#[tokio::test]
async fn the_first_failing_field_is_reported() {
    let fixture = Fixture::new().await;
    let body = set(
        set(v3_body("two-errors"), "logoUri", json!("nope")),
        "clientName",
        json!(""),
    );
    assert_eq!(code_of(fixture.create_v3(body).await), INVALID_CLIENT_NAME);
    let body = set(
        set(v3_body("two-errors"), "redirectUris", json!([])),
        "publicKey",
        json!({}),
    );
    assert_eq!(code_of(fixture.create_v3(body).await), INVALID_PUBLIC_KEY);
}

#[tokio::test]
async fn duplicates_are_business_errors() {
    let fixture = Fixture::new().await;
    let first = fixture.registered("first").await;

    let same_id = v3_body("first");
    assert_eq!(
        code_of(fixture.create_v3(same_id).await),
        DUPLICATE_CLIENT_ID
    );
    let event = fixture.audit.last();
    assert_eq!(event.status, AuditStatus::Error);
    assert_eq!(event.error_code.as_deref(), Some(DUPLICATE_CLIENT_ID));
    assert_eq!(event.client_id.as_deref(), Some("first"));

    // The same key under another kid is still the same key.
    let same_key = set(
        v3_body("second"),
        "publicKey",
        with_member(first["publicKey"].clone(), "kid", "another-kid"),
    );
    assert_eq!(
        code_of(fixture.create_v3(same_key).await),
        DUPLICATE_PUBLIC_KEY
    );
    assert!(fixture.store.get_client("second").await.unwrap().is_none());
}

#[tokio::test]
async fn failed_validation_is_audited_without_a_malformed_id() {
    let fixture = Fixture::new().await;
    let body = set(v3_body("bad id"), "clientName", json!(""));
    assert_eq!(code_of(fixture.create_v3(body).await), INVALID_CLIENT_ID);
    let event = fixture.audit.last();
    assert_eq!(event.action, AuditAction::OauthClientCreate);
    assert_eq!(event.status, AuditStatus::Error);
    assert_eq!(event.client_id, None);
    assert_eq!(event.error_code.as_deref(), Some(INVALID_CLIENT_ID));
}

#[tokio::test]
async fn store_failures_on_create() {
    let (manager, audit) = scripted(ScriptedStore::down());
    let request = serde_json::from_value(v3_body("c1")).unwrap();
    let error = manager.create_v3(request).await.unwrap_err();
    assert!(matches!(error, Error::Unavailable(_)), "{error:?}");
    assert_eq!(
        audit.last().error_code.as_deref(),
        Some(SERVICE_UNAVAILABLE)
    );

    // An unknown uniqueness rule or a corrupt store is an internal error, not a business one.
    let failures: [Failure; 2] = [
        || StoreError::Conflict("kid"),
        || StoreError::Corrupt("bad row".into()),
    ];
    for failure in failures {
        let (manager, _) = scripted(ScriptedStore {
            get: Box::new(|| Ok(None)),
            write_error: Box::new(failure),
        });
        let request = serde_json::from_value(v3_body("c1")).unwrap();
        assert_eq!(code_of(manager.create_v3(request).await), UNKNOWN_ERROR);
    }
}
