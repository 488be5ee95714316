//! The `[wallet]` section: eSignet's defaults, overrides and the validation rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use esignet_config::{ConfigErrors, Settings, load};

fn load_env(pairs: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
    load(
        None,
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>(),
    )
}

fn problem_keys(pairs: &[(&str, &str)]) -> Vec<String> {
    match load_env(pairs) {
        Ok(settings) => panic!("expected problems: {settings:?}"),
        Err(errors) => errors.problems().iter().map(|p| p.key.clone()).collect(),
    }
}

#[test]
fn defaults_are_esignets() {
    let wallet = load_env(&[]).unwrap().wallet;
    assert_eq!(wallet.link_code_ttl, Duration::from_secs(60));
    assert_eq!(wallet.link_code_length, 15);
    assert_eq!(wallet.link_code_limit, 10);
    assert_eq!(wallet.active_link_codes, 2);
    assert_eq!(wallet.link_status_timeout, Duration::from_secs(25));
    assert_eq!(wallet.link_auth_code_timeout, Duration::from_secs(25));
    assert_eq!(wallet.linked_ttl, Duration::from_secs(300));
    assert_eq!(wallet.linked_auth_ttl, Duration::from_secs(120));
    assert_eq!(wallet.consented_ttl, Duration::from_secs(300));
    assert_eq!(wallet.binding_audience, "esignet-binding");
    assert_eq!(
        wallet.certificate_validity,
        Duration::from_secs(10 * 86_400)
    );
    assert!(wallet.encrypt_binding_id);
}

#[test]
fn every_key_can_be_set_from_the_environment() {
    let wallet = load_env(&[
        ("ESIGNET_WALLET__LINK_CODE_TTL_SECS", "2"),
        ("ESIGNET_WALLET__LINK_STATUS_TIMEOUT_SECS", "1"),
        ("ESIGNET_WALLET__BINDING_AUDIENCE", "my-wallets"),
        ("ESIGNET_WALLET__CERTIFICATE_VALIDITY_DAYS", "30"),
        ("ESIGNET_WALLET__ENCRYPT_BINDING_ID", "false"),
    ])
    .unwrap()
    .wallet;
    assert_eq!(wallet.link_code_ttl, Duration::from_secs(2));
    assert_eq!(wallet.link_status_timeout, Duration::from_secs(1));
    assert_eq!(wallet.binding_audience, "my-wallets");
    assert_eq!(
        wallet.certificate_validity,
        Duration::from_secs(30 * 86_400)
    );
    assert!(!wallet.encrypt_binding_id);
}

#[test]
fn long_polls_must_end_before_the_request_timeout() {
    assert_eq!(
        problem_keys(&[
            ("ESIGNET_SERVER__REQUEST_TIMEOUT_SECS", "20"),
            ("ESIGNET_WALLET__LINK_AUTH_CODE_TIMEOUT_SECS", "10"),
        ]),
        ["wallet.link_status_timeout_secs"]
    );
}

#[test]
fn out_of_range_values_are_reported_together() {
    let keys = problem_keys(&[
        ("ESIGNET_WALLET__LINK_CODE_LENGTH", "4"),
        ("ESIGNET_WALLET__ACTIVE_LINK_CODES", "0"),
        ("ESIGNET_WALLET__LINKED_TTL_SECS", "0"),
        ("ESIGNET_WALLET__BINDING_AUDIENCE", " "),
        ("ESIGNET_WALLET__CERTIFICATE_VALIDITY_DAYS", "0"),
    ]);
    for key in [
        "wallet.link_code_length",
        "wallet.active_link_codes",
        "wallet.linked_ttl_secs",
        "wallet.binding_audience",
        "wallet.certificate_validity_days",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} in {keys:?}");
    }
}
