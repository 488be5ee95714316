//! KYC exchange: token lifecycle, claims, verified claims, the signature.

use esignet_mock_authenticator::sha3_256_b64u;
use esignet_spi::{Authenticator, TokenSigner};
use serde_json::{Value, json};

use crate::support::{
    CLIENT, KID, PRIYA, RELYING_PARTY, SIDDHARTH, SREYMOM, START, exchange_request, harness,
    verify_kyc,
};

const TXN: &str = "Zx8wV7u6T5";

#[tokio::test]
async fn kyc_is_a_verifiable_jws_with_subject_issuer_audience_and_claims() {
    let harness = harness();
    let auth = harness.pin_login(TXN, SIDDHARTH).await;
    harness.clock.advance(time::Duration::seconds(30));
    let request = exchange_request(
        TXN,
        SIDDHARTH,
        &auth.kyc_token,
        &[
            "name",
            "email",
            "phone_number",
            "birthdate",
            "gender",
            "picture",
            "address",
        ],
        &["en"],
    );
    let result = harness
        .mock
        .kyc_exchange(RELYING_PARTY, CLIENT, request)
        .await
        .unwrap();
    assert_eq!(
        result.encrypted_kyc.split('.').count(),
        3,
        "a compact JWS, not a JWE"
    );

    let claims = verify_kyc(&result.encrypted_kyc);
    let photo = harness
        .mock
        .directory()
        .get(SIDDHARTH)
        .unwrap()
        .encoded_photo
        .clone();
    assert_eq!(
        Value::Object(claims),
        json!({
            "sub": sha3_256_b64u(&format!("{SIDDHARTH}{RELYING_PARTY}")).unwrap(),
            "iss": crate::support::ISSUER,
            "aud": CLIENT,
            "iat": START.unix_timestamp() + 30,
            "name": "Siddharth Kumar Mansour",
            "email": "siddharth.mansour@example.com",
            "phone_number": "+212612345678",
            "birthdate": "1987-11-25",
            "gender": "Male",
            "picture": photo,
            "address": {
                "street_address": "12 Rue des Jardins",
                "locality": "Rabat",
                "region": "Rabat-Sale-Kenitra",
                "country": "Morocco",
                "postal_code": "45009",
                "zoneinfo": "Africa/Casablanca"
            }
        })
    );
    // The service's own signer also accepts it (same key), as the JWKS will advertise.
    assert!(harness.signer.verify_jws(&result.encrypted_kyc).is_some());
}

#[tokio::test]
async fn several_locales_give_tagged_claims() {
    let harness = harness();
    let auth = harness.pin_login(TXN, SREYMOM).await;
    let request = exchange_request(
        TXN,
        SREYMOM,
        &auth.kyc_token,
        &["name", "given_name", "phone_number", "email"],
        &["km", "en", "fr"],
    );
    let result = harness
        .mock
        .kyc_exchange(RELYING_PARTY, CLIENT, request)
        .await
        .unwrap();
    let claims = verify_kyc(&result.encrypted_kyc);
    assert_eq!(claims["name#km"], "ចាន់ ស្រីមុំ");
    assert_eq!(claims["name#en"], "Chan Sreymom");
    assert_eq!(claims["given_name#km"], "ស្រីមុំ");
    assert_eq!(claims["given_name#en"], "Sreymom");
    assert_eq!(claims["phone_number"], "+85512345678");
    assert!(!claims.contains_key("name"));
    assert!(!claims.contains_key("name#fr"), "no French name held");
    assert!(!claims.contains_key("email"), "no e-mail held");
}

#[tokio::test]
async fn claims_not_accepted_are_absent() {
    let harness = harness();
    let auth = harness.pin_login(TXN, PRIYA).await;
    let request = exchange_request(TXN, PRIYA, &auth.kyc_token, &["given_name"], &["ta"]);
    let result = harness
        .mock
        .kyc_exchange(RELYING_PARTY, CLIENT, request)
        .await
        .unwrap();
    let claims = verify_kyc(&result.encrypted_kyc);
    let keys: Vec<&str> = claims.keys().map(String::as_str).collect();
    assert_eq!(keys, ["sub", "iss", "aud", "iat", "given_name"]);
    assert_eq!(claims["given_name"], "பிரியா");
}

#[tokio::test]
async fn kyc_token_is_single_use() {
    let harness = harness();
    let auth = harness.pin_login(TXN, SIDDHARTH).await;
    let request = || exchange_request(TXN, SIDDHARTH, &auth.kyc_token, &["name"], &[]);
    harness
        .mock
        .kyc_exchange(RELYING_PARTY, CLIENT, request())
        .await
        .unwrap();
    let error = harness
        .mock
        .kyc_exchange(RELYING_PARTY, CLIENT, request())
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_kyc_token");
}

#[tokio::test]
async fn kyc_token_must_match_transaction_and_individual() {
    let harness = harness();
    for (transaction, individual) in [("otherTxn01", SIDDHARTH), (TXN, PRIYA)] {
        let auth = harness.pin_login(TXN, SIDDHARTH).await;
        let request = exchange_request(transaction, individual, &auth.kyc_token, &["name"], &[]);
        let error = harness
            .mock
            .kyc_exchange(RELYING_PARTY, CLIENT, request)
            .await
            .unwrap_err();
        assert_eq!(error.code, "invalid_kyc_token", "{transaction}");
    }
    for token in ["", "not-a-token-we-issued"] {
        let request = exchange_request(TXN, SIDDHARTH, token, &["name"], &[]);
        let error = harness
            .mock
            .kyc_exchange(RELYING_PARTY, CLIENT, request)
            .await
            .unwrap_err();
        assert_eq!(error.code, "invalid_kyc_token", "{token:?}");
    }
}

#[tokio::test]
async fn kyc_token_expires_after_kyc_token_ttl() {
    let harness = harness();
    let fresh = harness.pin_login(TXN, SIDDHARTH).await;
    let stale = harness.pin_login(TXN, SIDDHARTH).await;
    harness.clock.advance(time::Duration::seconds(179));
    let request = exchange_request(TXN, SIDDHARTH, &fresh.kyc_token, &["name"], &[]);
    harness
        .mock
        .kyc_exchange(RELYING_PARTY, CLIENT, request)
        .await
        .unwrap();

    harness.clock.advance(time::Duration::seconds(2));
    let request = exchange_request(TXN, SIDDHARTH, &stale.kyc_token, &["name"], &[]);
    let error = harness
        .mock
        .kyc_exchange(RELYING_PARTY, CLIENT, request)
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_kyc_token");
}

fn verified_request(
    token: &str,
    individual: &str,
    accepted: &[&str],
    verified: Value,
) -> esignet_spi::KycExchangeRequest {
    let mut request = exchange_request(TXN, individual, token, accepted, &["en"]);
    for claim in accepted {
        request
            .accepted_claim_details
            .insert((*claim).to_owned(), Value::Null);
    }
    request
        .accepted_claim_details
        .insert("verified_claims".to_owned(), verified);
    request
}

#[tokio::test]
async fn verified_exchange_filters_by_trust_framework_value() {
    let harness = harness();
    let auth = harness.pin_login(TXN, SIDDHARTH).await;
    let request = verified_request(
        &auth.kyc_token,
        SIDDHARTH,
        &["name", "birthdate", "email"],
        json!({
            "verification": {"trust_framework": {"value": "eidas"}},
            "claims": {"name": null, "birthdate": {"essential": true}, "email": null}
        }),
    );
    let result = harness
        .mock
        .verified_kyc_exchange(RELYING_PARTY, CLIENT, request)
        .await
        .unwrap();
    let claims = verify_kyc(&result.encrypted_kyc);
    assert_eq!(
        claims["email"], "siddharth.mansour@example.com",
        "unverified: top level"
    );
    assert!(!claims.contains_key("name") && !claims.contains_key("birthdate"));
    let verified = claims["verified_claims"].as_array().unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(
        verified[0]["claims"],
        json!({"name": "Siddharth Kumar Mansour", "birthdate": "1987-11-25"})
    );
    let verification = &verified[0]["verification"];
    assert_eq!(verification["trust_framework"], "eidas");
    assert_eq!(verification["time"], "2023-04-11T09:30Z");
    assert_eq!(verification["verification_process"], "demo-kyc-2023-0411");
    assert_eq!(verification["assurance_level"], "substantial");
    assert_eq!(verification["evidence"][0]["type"], "document");
}

#[tokio::test]
async fn verified_exchange_filters_by_trust_framework_values() {
    let harness = harness();
    let auth = harness.pin_login(TXN, SIDDHARTH).await;
    let request = verified_request(
        &auth.kyc_token,
        SIDDHARTH,
        &["name", "birthdate"],
        json!([{
            "verification": {"trust_framework": {"values": ["de_aml", "jp_aml"]}},
            "claims": {"name": null, "birthdate": null}
        }]),
    );
    let result = harness
        .mock
        .verified_kyc_exchange(RELYING_PARTY, CLIENT, request)
        .await
        .unwrap();
    let claims = verify_kyc(&result.encrypted_kyc);
    assert_eq!(
        claims["birthdate"], "1987-11-25",
        "only eidas-verified: top level"
    );
    assert_eq!(
        claims["verified_claims"],
        json!([{
            "verification": {
                "trust_framework": "de_aml",
                "time": "2022-01-20T14:05Z",
                "verification_process": "demo-aml-2022-0120",
                "evidence": [{"type": "document", "method": "pipp",
                              "document_details": {"type": "passport",
                                                   "issuer": {"name": "Demo Passport Office", "country": "MA"}}}]
            },
            "claims": {"name": "Siddharth Kumar Mansour"}
        }])
    );
}

#[tokio::test]
async fn verified_exchange_without_a_match_has_no_verified_claims() {
    let harness = harness();
    let auth = harness.pin_login(TXN, PRIYA).await;
    let request = verified_request(
        &auth.kyc_token,
        PRIYA,
        &["name"],
        json!({"verification": {"trust_framework": null}, "claims": {"name": null}}),
    );
    let result = harness
        .mock
        .verified_kyc_exchange(RELYING_PARTY, CLIENT, request)
        .await
        .unwrap();
    let claims = verify_kyc(&result.encrypted_kyc);
    assert_eq!(claims["name"], "Priya Lakshmi Ramaswamy");
    assert!(!claims.contains_key("verified_claims"));
}

#[tokio::test]
async fn signing_failure_is_data_exchange_failed_and_spends_the_token() {
    let harness = harness();
    let auth = harness.pin_login(TXN, SIDDHARTH).await;
    harness.signer.break_it();
    let request = || exchange_request(TXN, SIDDHARTH, &auth.kyc_token, &["name"], &[]);
    let error = harness
        .mock
        .kyc_exchange(RELYING_PARTY, CLIENT, request())
        .await
        .unwrap_err();
    assert_eq!(error.code, "data_exchange_failed");
    let error = harness
        .mock
        .kyc_exchange(RELYING_PARTY, CLIENT, request())
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_kyc_token");
}

#[tokio::test]
async fn cache_outage_is_data_exchange_failed() {
    let harness = harness();
    let auth = harness.pin_login(TXN, SIDDHARTH).await;
    harness.cache.go_down();
    let request = exchange_request(TXN, SIDDHARTH, &auth.kyc_token, &["name"], &[]);
    let error = harness
        .mock
        .kyc_exchange(RELYING_PARTY, CLIENT, request)
        .await
        .unwrap_err();
    assert_eq!(error.code, "data_exchange_failed");
}

#[tokio::test]
async fn signing_certificates_are_the_signers() {
    let harness = harness();
    let certificates = harness.mock.kyc_signing_certificates().await.unwrap();
    assert_eq!(certificates, harness.signer.certificates());
    assert_eq!(certificates.len(), 1);
    assert_eq!(certificates[0].key_id, KID);
    assert!(
        certificates[0]
            .certificate_pem
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
}
