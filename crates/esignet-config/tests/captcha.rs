//! The `[captcha]` section: defaults, the three kinds, and every validation rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use esignet_config::{CaptchaKind, ConfigErrors, RemoteCaptchaProvider, Settings, load};

fn load_env(pairs: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
    load(
        None,
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>(),
    )
}

fn problems(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    match load_env(pairs) {
        Ok(settings) => panic!("expected problems: {settings:?}"),
        Err(errors) => errors
            .problems()
            .iter()
            .map(|p| (p.key.clone(), p.message.clone()))
            .collect(),
    }
}

#[test]
fn captcha_is_off_by_default() {
    let captcha = load_env(&[]).unwrap().captcha;
    assert_eq!(captcha.kind, CaptchaKind::None);
    assert!(captcha.required.is_empty());
    assert!(!captcha.is_enabled());
    assert_eq!(captcha.pow_difficulty_bits, 14);
    assert_eq!(captcha.pow_challenge_ttl, Duration::from_secs(300));
    assert!(captcha.remote.is_none());
}

#[test]
fn proof_of_work_with_normalised_actions_in_canonical_order() {
    let captcha = load_env(&[
        ("ESIGNET_CAPTCHA__KIND", "pow"),
        ("ESIGNET_CAPTCHA__REQUIRED", "PWD, send-otp"),
        ("ESIGNET_CAPTCHA__POW_DIFFICULTY_BITS", "18"),
    ])
    .unwrap()
    .captcha;
    assert_eq!(captcha.kind, CaptchaKind::Pow);
    assert_eq!(captcha.required, ["send-otp", "pwd"]);
    assert_eq!(captcha.pow_difficulty_bits, 18);
    assert!(captcha.is_enabled());
}

#[test]
fn remote_with_the_provider_default_url_and_a_redacted_secret() {
    let settings = load_env(&[
        ("ESIGNET_CAPTCHA__KIND", "remote"),
        ("ESIGNET_CAPTCHA__REQUIRED", "send-otp,kbi"),
        ("ESIGNET_CAPTCHA__REMOTE_PROVIDER", "turnstile"),
        ("ESIGNET_CAPTCHA__REMOTE_SECRET", "top-secret-value"),
        ("ESIGNET_CAPTCHA__REMOTE_SITE_KEY", "0x4AAAA"),
    ])
    .unwrap();
    let remote = settings.captcha.remote.clone().unwrap();
    assert_eq!(remote.provider, RemoteCaptchaProvider::Turnstile);
    assert_eq!(
        remote.verify_url.as_str(),
        "https://challenges.cloudflare.com/turnstile/v0/siteverify"
    );
    assert_eq!(remote.secret.expose(), "top-secret-value");
    assert_eq!(remote.site_key, "0x4AAAA");
    assert_eq!(remote.timeout, Duration::from_secs(5));
    assert!(!format!("{settings:?}").contains("top-secret-value"));
}

#[test]
fn a_loopback_verify_url_may_be_plain_http() {
    let remote = load_env(&[
        ("ESIGNET_CAPTCHA__KIND", "remote"),
        ("ESIGNET_CAPTCHA__REMOTE_SECRET", "s"),
        ("ESIGNET_CAPTCHA__REMOTE_SITE_KEY", "k"),
        (
            "ESIGNET_CAPTCHA__REMOTE_VERIFY_URL",
            "http://127.0.0.1:9000/siteverify",
        ),
    ])
    .unwrap()
    .captcha
    .remote
    .unwrap();
    assert_eq!(remote.verify_url.port(), Some(9000));
}

#[test]
fn every_captcha_problem_is_reported() {
    let found = problems(&[
        ("ESIGNET_CAPTCHA__KIND", "remote"),
        ("ESIGNET_CAPTCHA__REQUIRED", "send-otp,otp,SEND-OTP"),
        ("ESIGNET_CAPTCHA__POW_DIFFICULTY_BITS", "4"),
        (
            "ESIGNET_CAPTCHA__REMOTE_VERIFY_URL",
            "http://captcha.example/siteverify",
        ),
        ("ESIGNET_CAPTCHA__REMOTE_TIMEOUT_SECS", "0"),
    ]);
    let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
    for key in [
        "captcha.required",
        "captcha.pow_difficulty_bits",
        "captcha.remote_verify_url",
        "captcha.remote_secret",
        "captcha.remote_site_key",
        "captcha.remote_timeout_secs",
    ] {
        assert!(keys.contains(&key), "{key} missing from {found:?}");
    }
    assert!(
        found
            .iter()
            .any(|(_, m)| m.contains("\"otp\" is not an action"))
    );
    assert!(found.iter().any(|(_, m)| m.contains("listed twice")));
    assert!(found.iter().any(|(_, m)| m.contains("https")));
}

#[test]
fn required_actions_need_a_captcha_kind() {
    let found = problems(&[("ESIGNET_CAPTCHA__REQUIRED", "pwd")]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "captcha.required");
    assert!(found[0].1.contains("captcha.kind"));
    let found = problems(&[("ESIGNET_CAPTCHA__KIND", "hashcash")]);
    assert_eq!(found[0].0, "captcha.kind");
}
