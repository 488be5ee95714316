//! Captcha on send-otp and authenticate, with the real proof-of-work verifier at low difficulty.

use std::sync::Arc;
use std::time::Duration;

use esignet_cache_memory::MemoryCache;
use esignet_captcha::{PowCaptcha, PowChallenge, PowConfig, solve};
use esignet_core::api::{AuthenticateRequest, SendOtpRequest};
use esignet_core::{AuthenticateVersion, CaptchaPolicy, DetailsHeaders, Error, codes};
use esignet_spi::{AuthChallenge, CaptchaError, CaptchaVerifier};
use serde_json::Value;

use crate::harness::{Harness, RESIDENT};

/// A harness whose core requires a proof-of-work captcha (8 bits) for `required`.
async fn harness(required: &[&str]) -> Harness {
    let mut h = Harness::new().await;
    let verifier = PowCaptcha::new(
        [9; 32],
        PowConfig {
            difficulty_bits: 8,
            challenge_ttl: Duration::from_secs(120),
        },
        MemoryCache::new(h.clock.clone()),
        h.clock.clone(),
    );
    let required = required.iter().map(|a| (*a).to_owned()).collect();
    h.core = h
        .core
        .with_captcha(CaptchaPolicy::new(Arc::new(verifier), required));
    h
}

/// A solved token for `action`, obtained through the core like the page does.
fn token(h: &Harness, action: &str) -> String {
    let challenge: PowChallenge =
        serde_json::from_value(h.core.captcha_challenge(Some(action)).unwrap()).unwrap();
    solve(&challenge).unwrap()
}

async fn send_otp(
    h: &Harness,
    txn: &(String, String),
    captcha_token: Option<&str>,
) -> esignet_core::Result<()> {
    h.core
        .send_otp(
            DetailsHeaders {
                key: Some(&txn.0),
                hash: Some(&txn.1),
            },
            SendOtpRequest {
                transaction_id: Some(txn.0.clone()),
                individual_id: Some(RESIDENT.into()),
                otp_channels: vec!["email".into()],
                captcha_token: captcha_token.map(str::to_owned),
            },
        )
        .await
        .map(|_| ())
}

async fn authenticate(
    h: &Harness,
    txn: &(String, String),
    factor: &str,
    captcha_token: Option<&str>,
) -> esignet_core::Result<()> {
    let (challenge, format) = match factor {
        "PWD" => ("Mansour1987", "alpha-numeric"),
        _ => ("111111", "alpha-numeric"),
    };
    h.core
        .authenticate(
            AuthenticateVersion::V2OrV3,
            DetailsHeaders {
                key: Some(&txn.0),
                hash: Some(&txn.1),
            },
            AuthenticateRequest {
                transaction_id: Some(txn.0.clone()),
                individual_id: Some(RESIDENT.into()),
                challenge_list: vec![AuthChallenge {
                    auth_factor_type: factor.into(),
                    challenge: challenge.into(),
                    format: format.into(),
                }],
                captcha_token: captcha_token.map(str::to_owned),
            },
        )
        .await
        .map(|_| ())
}

fn invalid_captcha() -> esignet_core::Result<()> {
    Err(Error::code(codes::INVALID_CAPTCHA))
}

#[tokio::test]
async fn send_otp_requires_a_valid_unused_token_for_send_otp() {
    let h = harness(&["send-otp"]).await;
    let txn = h.start("openid email").await;
    assert_eq!(send_otp(&h, &txn, None).await, invalid_captcha());
    assert_eq!(send_otp(&h, &txn, Some("  ")).await, invalid_captcha());
    assert_eq!(
        send_otp(&h, &txn, Some("not.a.solution")).await,
        invalid_captcha()
    );
    let for_password = token(&h, "pwd");
    assert_eq!(
        send_otp(&h, &txn, Some(&for_password)).await,
        invalid_captcha()
    );

    let valid = token(&h, "send-otp");
    assert_eq!(send_otp(&h, &txn, Some(&valid)).await, Ok(()));
    assert_eq!(
        send_otp(&h, &txn, Some(&valid)).await,
        invalid_captcha(),
        "replay"
    );
    assert_eq!(
        send_otp(&h, &txn, Some(&token(&h, "send-otp"))).await,
        Ok(())
    );
}

#[tokio::test]
async fn the_captcha_is_checked_before_the_transaction_as_in_esignet() {
    let h = harness(&["send-otp"]).await;
    let unknown = ("no-such-transaction".to_owned(), "hash".to_owned());
    assert_eq!(send_otp(&h, &unknown, None).await, invalid_captcha());
    assert_eq!(
        send_otp(&h, &unknown, Some(&token(&h, "send-otp"))).await,
        Err(Error::code(codes::INVALID_TRANSACTION))
    );
}

#[tokio::test]
async fn send_otp_without_a_required_captcha_needs_no_token() {
    let h = harness(&["pwd"]).await;
    let txn = h.start("openid email").await;
    assert_eq!(send_otp(&h, &txn, None).await, Ok(()));
    // The OTP factor is not protected either: the whole login runs without a token.
    assert_eq!(authenticate(&h, &txn, "OTP", None).await, Ok(()));
}

#[tokio::test]
async fn authenticate_checks_the_captcha_of_a_protected_factor() {
    let h = harness(&["pwd"]).await;
    let txn = h.start("openid email").await;
    assert_eq!(authenticate(&h, &txn, "PWD", None).await, invalid_captcha());
    assert_eq!(
        authenticate(&h, &txn, "PWD", Some(&token(&h, "send-otp"))).await,
        invalid_captcha()
    );
    // With a valid token the captcha passes and the request goes on to the factor rules (the
    // test client's ACR allows OTP only).
    assert_eq!(
        authenticate(&h, &txn, "PWD", Some(&token(&h, "pwd"))).await,
        Err(Error::code(codes::AUTH_FACTOR_MISMATCH))
    );
}

/// A verifier whose backend is down.
struct Broken;

#[async_trait::async_trait]
impl CaptchaVerifier for Broken {
    fn kind(&self) -> &'static str {
        "remote"
    }
    async fn verify(&self, _: &str, _: &str) -> Result<bool, CaptchaError> {
        Err(CaptchaError::Unavailable("provider down".into()))
    }
    fn challenge(&self, _: &str) -> Result<Option<Value>, CaptchaError> {
        Err(CaptchaError::Unavailable("provider down".into()))
    }
}

#[tokio::test]
async fn a_failing_verifier_is_failed_to_validate_captcha() {
    let mut h = Harness::new().await;
    h.core = h.core.with_captcha(CaptchaPolicy::new(
        Arc::new(Broken),
        vec!["SEND-OTP".into()],
    ));
    let txn = h.start("openid email").await;
    let failed = Error::code(codes::FAILED_TO_VALIDATE_CAPTCHA);
    assert_eq!(send_otp(&h, &txn, Some("token")).await, Err(failed.clone()));
    assert_eq!(
        send_otp(&h, &txn, None).await,
        invalid_captcha(),
        "blank is never sent"
    );
    assert_eq!(h.core.captcha_challenge(Some("send-otp")), Err(failed));
}

#[tokio::test]
async fn challenges_are_issued_for_known_actions_only() {
    let h = harness(&["send-otp"]).await;
    let challenge = h.core.captcha_challenge(Some("kbi")).unwrap();
    assert_eq!(challenge["kind"], "pow");
    assert_eq!(challenge["action"], "kbi");
    for bad in [None, Some(""), Some("login"), Some("otp")] {
        assert_eq!(
            h.core.captcha_challenge(bad),
            Err(Error::code(codes::INVALID_REQUEST)),
            "{bad:?}"
        );
    }
    // Captcha off: nothing to render.
    let plain = Harness::new().await;
    assert_eq!(
        plain.core.captcha_challenge(Some("send-otp")),
        Err(Error::code(codes::INVALID_REQUEST))
    );
    assert!(plain.core.captcha().required().is_empty());
}
