//! KYC auth: every factor's success and failure, OTP lifecycle, results.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use esignet_mock_authenticator::{
    KYC_NAMESPACE, MockSettings, OTP_NAMESPACE, PsutMode, sha3_256_b64u,
};
use esignet_spi::{Authenticator, KycAuthRequest};
use serde_json::{Value, json};

use crate::support::{
    ALEX, ISSUER, PRIYA, RELYING_PARTY, SIDDHARTH, SREYMOM, challenge, harness, harness_with, kbi,
};

const TXN: &str = "q7RkZ2x9Lm";

/// Capture output shaped like the mock SBI device's, bound to `transaction_id`.
fn sbi_capture_for(transaction_id: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = json!({"bioType": "Finger", "bioSubType": "UNKNOWN", "bioValue": "AQIDBA",
                         "transactionId": transaction_id, "purpose": "Auth"});
    let data = format!(
        "eyJ4NWMiOlsiTUlJQiJdLCJhbGciOiJSUzI1NiJ9.{}.c2ln",
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    STANDARD.encode(
        json!([{
            "specVersion": "1.0",
            "data": data,
            "hash": "E3B0C44298FC1C149AFBF4C8996FB924",
            "sessionKey": "a2V5",
            "thumbprint": "AB12"
        }])
        .to_string(),
    )
}

fn sbi_capture() -> String {
    sbi_capture_for(TXN)
}

#[tokio::test]
async fn otp_login_succeeds_after_send_otp_with_a_pairwise_subject() {
    let harness = harness();
    harness.send_otp(TXN, SIDDHARTH, &["email"]).await.unwrap();
    let result = harness
        .auth(TXN, SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap();
    assert_eq!(
        result.partner_specific_user_token,
        sha3_256_b64u(&format!("{SIDDHARTH}{RELYING_PARTY}")).unwrap()
    );
    assert_eq!(result.kyc_token.len(), 43);
    assert!(harness.cache.live(OTP_NAMESPACE).is_empty(), "OTP consumed");
    let issued = harness.cache.live(KYC_NAMESPACE);
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].0, sha3_256_b64u(&result.kyc_token).unwrap());
    let record = String::from_utf8(issued[0].1.clone()).unwrap();
    assert!(
        !record.contains(SIDDHARTH),
        "the individual id is stored hashed"
    );
}

#[tokio::test]
async fn otp_requires_send_otp_first() {
    let harness = harness();
    let error = harness
        .auth(TXN, SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_transaction");
    assert!(harness.cache.live(KYC_NAMESPACE).is_empty());
}

#[tokio::test]
async fn otp_works_only_once() {
    let harness = harness();
    harness.send_otp(TXN, SIDDHARTH, &["phone"]).await.unwrap();
    harness
        .auth(TXN, SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap();
    let error = harness
        .auth(TXN, SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_transaction");
}

#[tokio::test]
async fn wrong_otp_fails_and_leaves_the_pending_otp_usable() {
    let harness = harness();
    harness.send_otp(TXN, SIDDHARTH, &["phone"]).await.unwrap();
    for wrong in ["111112", "", "1111111", "11111"] {
        let error = harness
            .auth(TXN, SIDDHARTH, vec![challenge("OTP", wrong)])
            .await
            .unwrap_err();
        assert_eq!(error.code, "auth_failed", "{wrong:?}");
    }
    harness
        .auth(TXN, SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap();
}

#[tokio::test]
async fn otp_is_bound_to_transaction_and_individual() {
    let harness = harness();
    harness.send_otp(TXN, SIDDHARTH, &["phone"]).await.unwrap();
    let error = harness
        .auth("otherTxn01", SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_transaction");
    let error = harness
        .auth(TXN, PRIYA, vec![challenge("OTP", "111111")])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_transaction");
    // The right pair still works.
    harness
        .auth(TXN, SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap();
}

#[tokio::test]
async fn pending_otp_expires_after_otp_ttl() {
    let harness = harness();
    harness.send_otp(TXN, SIDDHARTH, &["phone"]).await.unwrap();
    harness.clock.advance(time::Duration::seconds(599));
    harness
        .auth(TXN, SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap();

    harness.send_otp(TXN, SIDDHARTH, &["phone"]).await.unwrap();
    harness.clock.advance(time::Duration::seconds(601));
    let error = harness
        .auth(TXN, SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_transaction");
}

#[tokio::test]
async fn configured_otp_replaces_the_default() {
    let mut settings = MockSettings::new(ISSUER);
    settings.otp = "246810".into();
    let harness = harness_with(settings);
    harness.send_otp(TXN, SIDDHARTH, &["phone"]).await.unwrap();
    let error = harness
        .auth(TXN, SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap_err();
    assert_eq!(error.code, "auth_failed");
    harness
        .auth(TXN, SIDDHARTH, vec![challenge("OTP", "246810")])
        .await
        .unwrap();
}

#[tokio::test]
async fn otp_needs_a_transaction_id() {
    let harness = harness();
    let error = harness
        .auth("  ", SIDDHARTH, vec![challenge("OTP", "111111")])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_transaction_id");
}

#[tokio::test]
async fn pin_login() {
    let harness = harness();
    harness
        .auth(TXN, SIDDHARTH, vec![challenge("PIN", "482916")])
        .await
        .unwrap();
    for wrong in ["482917", "739201", ""] {
        let error = harness
            .auth(TXN, SIDDHARTH, vec![challenge("PIN", wrong)])
            .await
            .unwrap_err();
        assert_eq!(error.code, "auth_failed", "{wrong:?}");
    }
}

#[tokio::test]
async fn password_login() {
    let harness = harness();
    harness
        .auth(TXN, SREYMOM, vec![challenge("PWD", "Sreymom1992")])
        .await
        .unwrap();
    for wrong in ["sreymom1992", "Sreymom199", "Mansour1987"] {
        let error = harness
            .auth(TXN, SREYMOM, vec![challenge("PWD", wrong)])
            .await
            .unwrap_err();
        assert_eq!(error.code, "auth_failed", "{wrong:?}");
    }
}

#[tokio::test]
async fn kbi_login() {
    let harness = harness();
    harness
        .auth(
            TXN,
            PRIYA,
            vec![kbi(
                json!({"dateOfBirth": "1995-03-08", "email": "priya.ramaswamy@example.org"}),
            )],
        )
        .await
        .unwrap();
    for answers in [
        json!({"dateOfBirth": "1995-03-09"}),
        json!({"dateOfBirth": "1995-03-08", "phone": "+919876543211"}),
        json!({"fullName": "Priya Lakshmi Ramaswamy"}),
        json!({}),
    ] {
        let error = harness
            .auth(TXN, PRIYA, vec![kbi(answers.clone())])
            .await
            .unwrap_err();
        assert_eq!(error.code, "auth_failed", "{answers}");
    }
    // Asking about a field the persona does not have fails.
    let error = harness
        .auth(TXN, ALEX, vec![kbi(json!({"phone": ""}))])
        .await
        .unwrap_err();
    assert_eq!(error.code, "auth_failed");
}

#[tokio::test]
async fn biometric_login_accepts_capture_output_and_rejects_garbage() {
    let harness = harness();
    harness
        .auth(TXN, SREYMOM, vec![challenge("BIO", &sbi_capture())])
        .await
        .unwrap();
    for garbage in [
        "bm90IGpzb24".to_owned(),
        STANDARD.encode(r#"[{"data": ""}]"#),
        STANDARD.encode("[]"),
        // Well-formed, but captured for another login.
        sbi_capture_for("Zx8wV7u6T5"),
    ] {
        let error = harness
            .auth(TXN, SREYMOM, vec![challenge("BIO", &garbage)])
            .await
            .unwrap_err();
        assert_eq!(error.code, "auth_failed", "{garbage}");
    }
}

#[tokio::test]
async fn every_challenge_must_pass() {
    let harness = harness();
    harness
        .auth(
            TXN,
            SIDDHARTH,
            vec![challenge("PIN", "482916"), challenge("PWD", "Mansour1987")],
        )
        .await
        .unwrap();
    // Java's mock let the last factor decide; here a failure anywhere fails the login.
    for challenges in [
        vec![
            challenge("PIN", "482916"),
            challenge("PWD", "wrongPassword1"),
        ],
        vec![challenge("PIN", "000000"), challenge("PWD", "Mansour1987")],
    ] {
        let error = harness.auth(TXN, SIDDHARTH, challenges).await.unwrap_err();
        assert_eq!(error.code, "auth_failed");
    }
    assert_eq!(harness.cache.live(KYC_NAMESPACE).len(), 1);
}

#[tokio::test]
async fn a_failing_factor_does_not_burn_the_otp() {
    let harness = harness();
    harness.send_otp(TXN, SIDDHARTH, &["phone"]).await.unwrap();
    let error = harness
        .auth(
            TXN,
            SIDDHARTH,
            vec![challenge("OTP", "111111"), challenge("PIN", "000000")],
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, "auth_failed");
    assert_eq!(harness.cache.live(OTP_NAMESPACE).len(), 1);
    harness
        .auth(
            TXN,
            SIDDHARTH,
            vec![challenge("OTP", "111111"), challenge("PIN", "482916")],
        )
        .await
        .unwrap();
    assert!(harness.cache.live(OTP_NAMESPACE).is_empty());
}

#[tokio::test]
async fn unsupported_and_unknown_factor_types_are_refused() {
    let harness = harness();
    for factor in ["IDT", "FACE", "pin", ""] {
        let error = harness
            .auth(
                TXN,
                SIDDHARTH,
                vec![challenge(factor, "eyJ0eXAiOiJKV1QifQ")],
            )
            .await
            .unwrap_err();
        assert_eq!(error.code, "invalid_auth_factor_type", "{factor:?}");
    }
    // Refused before any factor is evaluated: a good PIN next to an IDT still fails.
    let error = harness
        .auth(
            TXN,
            SIDDHARTH,
            vec![
                challenge("PIN", "482916"),
                challenge("IDT", "eyJ0eXAiOiJKV1QifQ"),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_auth_factor_type");
}

#[tokio::test]
async fn challenge_format_must_fit_the_factor() {
    let harness = harness();
    let mut pin = challenge("PIN", "482916");
    pin.format = "alpha-numeric".into();
    let error = harness.auth(TXN, SIDDHARTH, vec![pin]).await.unwrap_err();
    assert_eq!(error.code, "invalid_challenge_format");
}

#[tokio::test]
async fn no_challenge_and_unknown_individual_fail() {
    let harness = harness();
    let error = harness.auth(TXN, SIDDHARTH, vec![]).await.unwrap_err();
    assert_eq!(error.code, "auth_failed");
    let error = harness
        .auth(TXN, "1111111111", vec![challenge("PIN", "482916")])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_individual_id");
    assert!(harness.cache.live(KYC_NAMESPACE).is_empty());
}

#[tokio::test]
async fn claims_metadata_only_when_required() {
    let harness = harness();
    let result = harness
        .auth(TXN, SIDDHARTH, vec![challenge("PIN", "482916")])
        .await
        .unwrap();
    let metadata = &result.claims_metadata;
    let frameworks = |claim: &str| -> Vec<String> {
        metadata[claim]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["trust_framework"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(frameworks("name"), ["eidas", "de_aml"]);
    assert_eq!(frameworks("birthdate"), ["eidas"]);
    assert_eq!(frameworks("address"), ["eidas"]);
    assert_eq!(metadata["email"], Value::Array(vec![]));
    assert!(metadata.contains_key("picture"));

    let without = harness
        .mock
        .kyc_auth(
            RELYING_PARTY,
            "client",
            false,
            KycAuthRequest {
                transaction_id: TXN.into(),
                individual_id: SIDDHARTH.into(),
                challenges: vec![challenge("PIN", "482916")],
            },
        )
        .await
        .unwrap();
    assert!(without.claims_metadata.is_empty());
}

#[tokio::test]
async fn subjects_are_pairwise_per_relying_party_or_the_id_when_configured() {
    let harness = harness();
    let request = || KycAuthRequest {
        transaction_id: TXN.into(),
        individual_id: SIDDHARTH.into(),
        challenges: vec![challenge("PIN", "482916")],
    };
    let first = harness
        .mock
        .kyc_auth("rp-a", "c", false, request())
        .await
        .unwrap();
    let again = harness
        .mock
        .kyc_auth("rp-a", "c", false, request())
        .await
        .unwrap();
    let other = harness
        .mock
        .kyc_auth("rp-b", "c", false, request())
        .await
        .unwrap();
    assert_eq!(
        first.partner_specific_user_token,
        again.partner_specific_user_token
    );
    assert_ne!(
        first.partner_specific_user_token,
        other.partner_specific_user_token
    );
    assert_ne!(first.kyc_token, again.kyc_token, "tokens are fresh");

    let mut settings = MockSettings::new(ISSUER);
    settings.psut_mode = PsutMode::IndividualId;
    let harness = harness_with(settings);
    let result = harness
        .mock
        .kyc_auth("rp-a", "c", false, request())
        .await
        .unwrap();
    assert_eq!(result.partner_specific_user_token, SIDDHARTH);
}

#[tokio::test]
async fn cache_outage_is_an_unknown_error() {
    let harness = harness();
    harness.cache.go_down();
    let error = harness
        .auth(TXN, SIDDHARTH, vec![challenge("PIN", "482916")])
        .await
        .unwrap_err();
    assert_eq!(error.code, "unknown_error");
}
