//! The endpoints eSignet calls, over real HTTP: send-otp, kyc-auth with every factor, and the
//! three kyc-exchange versions (JWS checked with `jsonwebtoken`, JWE opened with `josekit`).

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::{
    CLIENT, Mock, RP, SID, SID_PASSWORD, SID_PIN, SREYMOM, b64u_json, errors, verify_kyc,
};
use serde_json::{Value, json};

fn auth_path() -> String {
    format!("/v2/kyc-auth/{RP}/{CLIENT}")
}

async fn auth(mock: &Mock, body: Value) -> Value {
    mock.post(&auth_path(), &body).await
}

#[tokio::test]
async fn send_otp_masks_the_destinations() {
    let mock = Mock::start().await;
    let path = format!("/send-otp/{RP}/{CLIENT}");
    let sent = mock
        .post(
            &path,
            &json!({"transactionId": "T1", "individualId": SID, "otpChannels": ["email", "phone"]}),
        )
        .await;
    assert_eq!(errors(&sent), Vec::<String>::new());
    assert_eq!(
        sent["response"],
        json!({"transactionId": "T1", "maskedEmail": "XXdXXaXXhXXaXXoXX@example.com",
               "maskedMobile": "XXXXXXX345678"})
    );

    for (body, code) in [
        (
            json!({"transactionId": "T1", "individualId": SREYMOM, "otpChannels": ["email"]}),
            "no_email_mobile_found",
        ),
        (
            json!({"transactionId": "T1", "individualId": SID, "otpChannels": ["fax"]}),
            "invalid_otp_channel",
        ),
        (
            json!({"transactionId": "T1", "individualId": SID, "otpChannels": []}),
            "invalid_otp_channel",
        ),
        (
            json!({"transactionId": "T1", "individualId": "999999", "otpChannels": ["email"]}),
            "invalid_individual_id",
        ),
        (
            json!({"transactionId": " ", "individualId": SID, "otpChannels": ["email"]}),
            "invalid_transaction_id",
        ),
        (
            json!({"transactionId": "T1", "otpChannels": ["email"]}),
            "invalid_individual_id",
        ),
        (
            json!({"transactionId": "T1", "individualId": 42}),
            "invalid_request",
        ),
    ] {
        let response = mock.post(&path, &body).await;
        assert_eq!(errors(&response), [code], "{body}");
        assert_eq!(response["response"], Value::Null);
    }
}

#[tokio::test]
async fn otp_login_works_once_and_only_after_send_otp() {
    let mock = Mock::start().await;
    let before = auth(
        &mock,
        json!({"transactionId": "T2", "individualId": SID, "otp": "111111"}),
    )
    .await;
    assert_eq!(errors(&before), ["invalid_transaction"]);

    let (kyc_token, psut) = mock.login_with_otp("T2", SID).await;
    assert_eq!(kyc_token.len(), 43);
    assert_eq!(
        psut,
        esignet_jose::sha3_256_b64url(format!("{SID}{RP}").as_bytes()),
        "sub = SHA3-256-B64U(individualId + relyingPartyId)"
    );
    let again = auth(
        &mock,
        json!({"transactionId": "T2", "individualId": SID, "otp": "111111"}),
    )
    .await;
    assert_eq!(errors(&again), ["invalid_transaction"]);

    mock.post(
        &format!("/send-otp/{RP}/{CLIENT}"),
        &json!({"transactionId": "T3", "individualId": SID, "otpChannels": ["email"]}),
    )
    .await;
    let wrong = auth(
        &mock,
        json!({"transactionId": "T3", "individualId": SID, "otp": "222222"}),
    )
    .await;
    assert_eq!(errors(&wrong), ["auth_failed"]);
    let other_transaction = auth(
        &mock,
        json!({"transactionId": "T4", "individualId": SID, "otp": "111111"}),
    )
    .await;
    assert_eq!(errors(&other_transaction), ["invalid_transaction"]);
}

/// What an SBI device returns for a face capture made for `transaction` (signature unchecked),
/// encoded as the login UI sends it.
fn sbi_capture(transaction: &str) -> String {
    let b64u = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let payload = json!({"bioType": "Face", "bioSubType": "", "bioValue": b64u(b"face image"),
                         "transactionId": transaction});
    let data = format!(
        "{}.{}.{}",
        b64u(br#"{"alg":"RS256"}"#),
        b64u(payload.to_string().as_bytes()),
        b64u(b"signature")
    );
    base64::engine::general_purpose::STANDARD
        .encode(json!([{"specVersion": "1.0", "data": data}]).to_string())
}

#[tokio::test]
async fn every_factor_authenticates() {
    let mock = Mock::start().await;
    let cases = [
        json!({"pin": SID_PIN}),
        json!({"password": SID_PASSWORD}),
        json!({"kbi": b64u_json(&json!({"dateOfBirth": "1987-11-25"}))}),
        json!({"kbi": b64u_json(&json!({"email": "siddharth.mansour@example.com", "phone": "+212612345678"}))}),
        json!({"biometrics": sbi_capture("TF4")}),
        json!({"pin": SID_PIN, "password": SID_PASSWORD}),
    ];
    for (index, factors) in cases.into_iter().enumerate() {
        let mut body = json!({"transactionId": format!("TF{index}"), "individualId": SID});
        body.as_object_mut()
            .unwrap()
            .extend(factors.as_object().unwrap().clone());
        let response = auth(&mock, body).await;
        assert_eq!(errors(&response), Vec::<String>::new(), "{factors}");
        assert_eq!(response["response"]["authStatus"], true);
        assert!(response["response"]["kycToken"].is_string());
        assert!(response["response"].get("claimMetadata").is_none());
    }
}

#[tokio::test]
async fn failing_factors_are_errors() {
    let mock = Mock::start().await;
    let cases = [
        (json!({"pin": "000000"}), "auth_failed"),
        (json!({"password": "mansour1987"}), "auth_failed"),
        (
            json!({"kbi": b64u_json(&json!({"dateOfBirth": "1987-11-26"}))}),
            "auth_failed",
        ),
        (
            json!({"kbi": b64u_json(&json!({"favouriteColour": "blue"}))}),
            "auth_failed",
        ),
        (json!({"biometrics": "garbage"}), "auth_failed"),
        (
            json!({"biometrics": sbi_capture("another login")}),
            "auth_failed",
        ),
        (json!({"pin": SID_PIN, "password": "wrong"}), "auth_failed"),
        (json!({}), "auth_failed"),
        // A wallet token must be a JWT naming the individual (eSignet verifies the signature).
        (json!({"tokens": ["eyJ.eyJ.sig"]}), "auth_failed"),
    ];
    for (factors, code) in cases {
        let mut body = json!({"transactionId": "TX", "individualId": SID});
        body.as_object_mut()
            .unwrap()
            .extend(factors.as_object().unwrap().clone());
        let response = auth(&mock, body).await;
        assert_eq!(errors(&response), [code], "{factors}");
        assert_eq!(response["response"], Value::Null);
    }
    let unknown = auth(
        &mock,
        json!({"transactionId": "TX", "individualId": "999999", "pin": "1"}),
    )
    .await;
    assert_eq!(errors(&unknown), ["invalid_individual_id"]);
}

#[tokio::test]
async fn v1_kyc_auth_never_returns_claim_metadata() {
    let mock = Mock::start().await;
    let body = json!({"transactionId": "T5", "individualId": SID, "pin": SID_PIN,
                      "claimMetadataRequired": true});
    let v1 = mock.post(&format!("/kyc-auth/{RP}/{CLIENT}"), &body).await;
    assert_eq!(errors(&v1), Vec::<String>::new());
    assert!(v1["response"].get("claimMetadata").is_none());
    let v2 = auth(&mock, body).await;
    let metadata = &v2["response"]["claimMetadata"];
    assert_eq!(
        metadata["name"].as_array().unwrap().len(),
        2,
        "eidas and de_aml"
    );
    assert_eq!(metadata["birthdate"][0]["trust_framework"], "eidas");
    assert_eq!(metadata["address"][0]["trust_framework"], "eidas");
    assert_eq!(metadata["email"], json!([]));
}

fn exchange_body(transaction: &str, kyc_token: &str, claims: &[&str]) -> Value {
    json!({
        "requestDateTime": "2024-07-24T08:53:05.142",
        "transactionId": transaction,
        "kycToken": kyc_token,
        "individualId": SID,
        "acceptedClaims": claims,
        "claimLocales": ["eng", "fra"],
    })
}

#[tokio::test]
async fn v1_exchange_returns_a_signed_kyc_once() {
    let mock = Mock::start().await;
    let (kyc_token, psut) = mock.login_with_otp("T6", SID).await;
    let path = format!("/kyc-exchange/{RP}/{CLIENT}");
    let body = exchange_body(
        "T6",
        &kyc_token,
        &["name", "email", "picture", "birthdate", "address"],
    );
    let response = mock.post(&path, &body).await;
    assert_eq!(errors(&response), Vec::<String>::new());
    let kyc = response["response"]["kyc"].as_str().unwrap();
    let claims = verify_kyc(&mock, kyc).await;
    assert_eq!(claims["sub"], psut);
    assert_eq!(claims["name#eng"], "Siddharth Kumar Mansour");
    assert_eq!(claims["name#fra"], "Siddharth Kumar Mansour");
    assert_eq!(claims["email"], "siddharth.mansour@example.com");
    assert_eq!(claims["birthdate"], "1987-11-25");
    assert!(
        claims["picture"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert!(claims["address#eng"].is_null() && claims["address"]["locality#eng"].is_string());
    assert!(claims.get("verified_claims").is_none());
    assert!(claims.get("phone_number").is_none(), "only accepted claims");

    let replay = mock.post(&path, &body).await;
    assert_eq!(errors(&replay), ["invalid_kyc_token"]);
    let (other_token, _) = mock.login_with_otp("T7", SID).await;
    let wrong_transaction = mock
        .post(&path, &exchange_body("T8", &other_token, &["name"]))
        .await;
    assert_eq!(errors(&wrong_transaction), ["invalid_kyc_token"]);
}

#[tokio::test]
async fn v2_exchange_releases_verified_claims() {
    let mock = Mock::start().await;
    let (kyc_token, _) = mock.login_with_otp("T9", SID).await;
    let mut body = exchange_body("T9", &kyc_token, &["email"]);
    body["claimLocales"] = json!(["eng"]);
    body["acceptedClaimDetail"] = json!({
        "name": {"essential": true},
        "birthdate": null,
        "verified_claims": {
            "verification": {"trust_framework": {"value": "eidas"}},
            "claims": {"name": null, "birthdate": null}
        }
    });
    let response = mock
        .post(&format!("/v2/kyc-exchange/{RP}/{CLIENT}"), &body)
        .await;
    assert_eq!(errors(&response), Vec::<String>::new());
    let claims = verify_kyc(&mock, response["response"]["kyc"].as_str().unwrap()).await;
    let verified = claims["verified_claims"].as_array().unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0]["verification"]["trust_framework"], "eidas");
    assert_eq!(verified[0]["claims"]["name"], "Siddharth Kumar Mansour");
    assert_eq!(verified[0]["claims"]["birthdate"], "1987-11-25");
    assert!(
        claims.get("name").is_none(),
        "released under verified_claims only"
    );
    assert_eq!(claims["email"], "siddharth.mansour@example.com");
}

#[tokio::test]
async fn v3_exchange_encrypts_to_the_partner_key() {
    let mock = Mock::start().await;
    let (kyc_token, psut) = mock.login_with_otp("T10", SID).await;
    let path = format!("/v3/kyc-exchange/{RP}/{CLIENT}");
    let mut body = exchange_body("T10", &kyc_token, &["name", "phone_number"]);
    body["respType"] = json!("JWE");

    // No partner key yet: refused before the token is spent.
    let refused = mock.post(&path, &body).await;
    assert_eq!(errors(&refused), ["data_exchange_failed"]);

    let mut private = josekit::jwk::Jwk::generate_rsa_key(2048).unwrap();
    private.set_key_id("partner-enc-1");
    // josekit's public half drops the kid; the registered key carries it.
    let mut public = private.to_public_key().unwrap();
    public.set_key_id("partner-enc-1");
    let registered = mock
        .post_wrapped(
            "/partner",
            json!({"partnerId": RP, "clientId": CLIENT, "key": public.to_string(), "status": "ACTIVE"}),
        )
        .await;
    assert_eq!(errors(&registered), Vec::<String>::new());

    let response = mock.post(&path, &body).await;
    assert_eq!(errors(&response), Vec::<String>::new());
    let jwe = response["response"]["kyc"].as_str().unwrap();
    assert_eq!(jwe.split('.').count(), 5);
    private.set_algorithm("RSA-OAEP-256");
    let decrypter = josekit::jwe::RSA_OAEP_256
        .decrypter_from_jwk(&private)
        .unwrap();
    let (payload, header) = josekit::jwe::deserialize_compact(jwe, &decrypter).unwrap();
    assert_eq!(header.content_encryption(), Some("A256GCM"));
    assert_eq!(header.content_type(), Some("JWT"));
    assert_eq!(header.key_id(), Some("partner-enc-1"));
    let claims = verify_kyc(&mock, std::str::from_utf8(&payload).unwrap()).await;
    assert_eq!(claims["sub"], psut);
    assert_eq!(claims["phone_number"], "+212612345678");

    // JWS (or no respType) from v3 is a plain signed KYC; other types are refused.
    let (token, _) = mock.login_with_otp("T11", SID).await;
    let mut plain = exchange_body("T11", &token, &["name"]);
    plain["respType"] = json!("JWT");
    assert_eq!(
        errors(&mock.post(&path, &plain).await),
        ["invalid_resp_type"]
    );
    plain["respType"] = json!("JWS");
    let response = mock.post(&path, &plain).await;
    assert_eq!(
        response["response"]["kyc"]
            .as_str()
            .unwrap()
            .split('.')
            .count(),
        3
    );
}

#[tokio::test]
async fn slow_backend_model_delays_the_authentication_calls() {
    let data = tempfile::tempdir().unwrap();
    let mock = Mock::start_in(data, std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    mock.get("/keys.json").await;
    let unaffected = started.elapsed();
    let started = std::time::Instant::now();
    let response = auth(
        &mock,
        json!({"transactionId": "T12", "individualId": SID, "pin": "0"}),
    )
    .await;
    assert_eq!(errors(&response), ["auth_failed"]);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert!(unaffected < std::time::Duration::from_millis(300));
}
