//! The plan's token-endpoint and private_key_jwt modules.

use josekit::jws::{JwsHeader, PS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::json;

use super::{CLIENT, Fapi, SECOND_CLIENT, assertion_with};
use crate::harness::{unix_now, uuid};

/// The token form of a fresh code with the first client's assertion edited by `edit`.
async fn with_assertion(fapi: &Fapi, edit: impl FnOnce(&mut serde_json::Value)) -> super::Answer {
    let code = fapi.code().await;
    let assertion = assertion_with(&fapi.key, |claims| {
        claims["iss"] = json!(CLIENT);
        claims["sub"] = json!(CLIENT);
        claims["aud"] = json!(fapi.issuer());
        edit(claims);
    });
    // The server asks for its DPoP nonce before it looks at the client: present one, so the
    // assertion is what decides.
    let nonce = fapi.token_nonce(&code).await;
    let endpoint = fapi.server.token_endpoint();
    fapi.post(
        &endpoint,
        &fapi.token_form(CLIENT, &code, assertion),
        Some(fapi.proof("POST", &endpoint, Some(&nonce), None)),
    )
    .await
}

#[tokio::test]
async fn ensure_client_id_in_token_endpoint() {
    // The first client's assertion under the second client's id: not that client.
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let answer = fapi
        .token(fapi.token_form(SECOND_CLIENT, &code, fapi.assertion(&fapi.key, CLIENT)))
        .await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_client"));
}

#[tokio::test]
async fn ensure_holder_of_key_required() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let answer = fapi
        .post(
            &fapi.server.token_endpoint(),
            &fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT)),
            None,
        )
        .await;
    assert_eq!(
        (answer.status, answer.error().0),
        (400, "invalid_dpop_proof")
    );
}

#[tokio::test]
async fn ensure_authorization_code_is_bound_to_client() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let answer = fapi
        .token(fapi.token_form(
            SECOND_CLIENT,
            &code,
            fapi.assertion(&fapi.second_key, SECOND_CLIENT),
        ))
        .await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_grant"));
}

#[tokio::test]
async fn attempt_reuse_authorization_code_after_one_second() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let first = fapi
        .token(fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT)))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let again = fapi
        .token(fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT)))
        .await;
    assert_eq!((again.status, again.error().0), (400, "invalid_grant"));
}

#[tokio::test]
async fn attempt_to_use_expired_auth_code() {
    let fapi = Fapi::start(&[("ESIGNET_TOKENS__AUTH_CODE_LIFETIME_SECS", "1")]).await;
    let code = fapi.code().await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let answer = fapi
        .token(fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT)))
        .await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_grant"));
}

#[tokio::test]
async fn ensure_signed_client_assertion_with_rs256_fails() {
    // FAPI 2.0 §5.4.1 allows PS256, ES256 and EdDSA only; a FAPI deployment lists those in
    // security.client_assertion_signing_algs (RS256 stays in the default for eSignet's RPs).
    let fapi = Fapi::start_with_key_alg(
        &[(
            "ESIGNET_SECURITY__CLIENT_ASSERTION_SIGNING_ALGS",
            r#"["PS256","ES256"]"#,
        )],
        Some("PS256"),
    )
    .await;
    let code = fapi.code_with(ps256_assertion).await;
    let mut rs256_key = fapi.key.clone();
    rs256_key.set_algorithm("RS256");
    let answer = fapi
        .token_with_assertion(
            fapi.token_form(CLIENT, &code, fapi.assertion(&rs256_key, CLIENT)),
            |fapi, client| {
                let mut key = fapi.key.clone();
                key.set_algorithm("RS256");
                fapi.assertion(&key, client)
            },
        )
        .await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_client"));
    // The same request signed PS256 succeeds.
    let answer = fapi
        .token_with_assertion(
            fapi.token_form(CLIENT, &code, ps256_assertion(&fapi, CLIENT)),
            ps256_assertion,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// A PS256 client assertion with the issuer as audience.
fn ps256_assertion(fapi: &Fapi, client: &str) -> String {
    let now = unix_now();
    let claims = json!({"iss": client, "sub": client, "aud": fapi.issuer(),
        "iat": now, "exp": now + 60, "jti": uuid()});
    let mut header = JwsHeader::new();
    if let Some(kid) = fapi.key.key_id() {
        header.set_key_id(kid);
    }
    let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let signer = PS256.signer_from_jwk(&fapi.key).unwrap();
    jwt::encode_with_signer(&payload, &header, &signer).unwrap()
}

#[tokio::test]
async fn ensure_client_assertion_in_token_endpoint() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let mut form = fapi.token_form(CLIENT, &code, String::new());
    form.retain(|(name, _)| !name.starts_with("client_assertion"));
    let answer = fapi.token(form).await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_client"));
}

#[tokio::test]
async fn ensure_client_assertion_with_exp_is_5_minutes_in_past_fails() {
    let fapi = Fapi::start(&[]).await;
    let answer = with_assertion(&fapi, |claims| {
        let now = unix_now();
        claims["iat"] = json!(now - 360);
        claims["exp"] = json!(now - 300);
    })
    .await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_client"));
}

#[tokio::test]
async fn ensure_client_assertion_with_wrong_aud_fails() {
    let fapi = Fapi::start(&[]).await;
    let answer = with_assertion(&fapi, |claims| {
        claims["aud"] = json!("https://some-other-server.example");
    })
    .await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_client"));
}

#[tokio::test]
async fn ensure_client_assertion_with_no_sub_fails() {
    let fapi = Fapi::start(&[]).await;
    let answer = with_assertion(&fapi, |claims| {
        claims.as_object_mut().unwrap().remove("sub");
    })
    .await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_client"));
}
