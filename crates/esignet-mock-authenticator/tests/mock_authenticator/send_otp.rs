//! Send OTP: channels, masking, the pending-OTP record.

use std::time::Duration;

use esignet_mock_authenticator::{OTP_NAMESPACE, sha3_256_b64u};
use esignet_spi::Authenticator;

use crate::support::{ALEX, SIDDHARTH, SREYMOM, harness};

#[tokio::test]
async fn masks_both_destinations_and_echoes_the_transaction() {
    let harness = harness();
    let result = harness
        .send_otp("Ab3dE5gH9k", SIDDHARTH, &["email", "phone"])
        .await
        .unwrap();
    assert_eq!(result.transaction_id, "Ab3dE5gH9k");
    assert_eq!(
        result.masked_email.as_deref(),
        Some("XXdXXaXXhXXaXXoXX@example.com")
    );
    assert_eq!(result.masked_mobile.as_deref(), Some("XXXXXXX345678"));
}

#[tokio::test]
async fn records_one_pending_otp_keyed_by_transaction_and_individual() {
    let harness = harness();
    harness
        .send_otp("txn0000001", SIDDHARTH, &["phone"])
        .await
        .unwrap();
    let live = harness.cache.live(OTP_NAMESPACE);
    assert_eq!(live.len(), 1);
    assert_eq!(
        live[0].0,
        sha3_256_b64u(&format!("txn0000001{SIDDHARTH}")).unwrap()
    );
    let record = String::from_utf8(live[0].1.clone()).unwrap();
    assert!(!record.contains("111111"), "the OTP is stored hashed");
    assert!(!record.contains(SIDDHARTH));

    harness.clock.advance(time::Duration::seconds(599));
    assert_eq!(harness.cache.live(OTP_NAMESPACE).len(), 1);
    harness.clock.advance(time::Duration::seconds(2));
    assert!(
        harness.cache.live(OTP_NAMESPACE).is_empty(),
        "TTL is otp_ttl"
    );
}

#[tokio::test]
async fn identity_without_email_cannot_get_an_email_otp() {
    let harness = harness();
    let error = harness
        .send_otp("txn0000001", SREYMOM, &["email"])
        .await
        .unwrap_err();
    assert_eq!(error.code, "no_email_mobile_found");
    assert!(
        harness.cache.live(OTP_NAMESPACE).is_empty(),
        "nothing recorded"
    );

    let result = harness
        .send_otp("txn0000001", SREYMOM, &["email", "phone"])
        .await
        .unwrap();
    assert_eq!(result.masked_email, None);
    assert_eq!(result.masked_mobile.as_deref(), Some("XXXXXXX45678"));
}

#[tokio::test]
async fn identity_without_phone_cannot_get_an_sms_otp() {
    let harness = harness();
    let error = harness
        .send_otp("txn0000001", ALEX, &["phone"])
        .await
        .unwrap_err();
    assert_eq!(error.code, "no_email_mobile_found");
}

#[tokio::test]
async fn unknown_individual_and_unsupported_channels_are_refused() {
    let harness = harness();
    let error = harness
        .send_otp("txn0000001", "1111111111", &["email"])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_individual_id");
    let error = harness
        .send_otp(" ", SIDDHARTH, &["email"])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_transaction_id");
    let error = harness
        .send_otp("txn0000001", SIDDHARTH, &["email", "sms"])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_otp_channel");
    assert!(harness.cache.live(OTP_NAMESPACE).is_empty());
}

#[tokio::test]
async fn supported_channels_follow_the_settings() {
    let harness = harness();
    assert!(harness.mock.is_supported_otp_channel("email"));
    assert!(harness.mock.is_supported_otp_channel("PHONE"));
    assert!(!harness.mock.is_supported_otp_channel("mobile"));
    assert!(!harness.mock.is_supported_otp_channel(""));

    let mut settings = esignet_mock_authenticator::MockSettings::new(crate::support::ISSUER);
    settings.otp_channels = vec!["mobile".into()];
    settings.otp_ttl = Duration::from_secs(60);
    let harness = crate::support::harness_with(settings);
    assert!(harness.mock.is_supported_otp_channel("mobile"));
    let result = harness
        .send_otp("txn0000001", SIDDHARTH, &["mobile"])
        .await
        .unwrap();
    assert_eq!(result.masked_mobile.as_deref(), Some("XXXXXXX345678"));
    let error = harness
        .send_otp("txn0000001", SIDDHARTH, &["email"])
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_otp_channel");
}

#[tokio::test]
async fn cache_outage_is_send_otp_failed() {
    let harness = harness();
    harness.cache.go_down();
    let error = harness
        .send_otp("txn0000001", SIDDHARTH, &["email"])
        .await
        .unwrap_err();
    assert_eq!(error.code, "send_otp_failed");
}
