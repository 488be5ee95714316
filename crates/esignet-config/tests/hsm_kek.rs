//! `keys.pkcs11_kek`: the key-encryption key held in the HSM, and its validation rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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

const HSM: &[(&str, &str)] = &[
    ("ESIGNET_KEYS__BACKEND", "pkcs11"),
    ("ESIGNET_KEYS__PKCS11_MODULE", "/opt/hsm/libpkcs11.so"),
    ("ESIGNET_KEYS__PKCS11_TOKEN_LABEL", "esignet"),
    ("ESIGNET_KEYS__PKCS11_PIN", "1234"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut pairs = HSM.to_vec();
    pairs.extend_from_slice(extra);
    pairs
}

#[test]
fn the_kek_is_software_unless_asked() {
    let settings = load_env(HSM).unwrap();
    assert!(!settings.keys.pkcs11.unwrap().kek);
    let settings = load_env(&with(&[("ESIGNET_KEYS__PKCS11_KEK", "true")])).unwrap();
    assert!(settings.keys.pkcs11.unwrap().kek);
}

#[test]
fn an_hsm_kek_needs_the_pkcs11_backend() {
    let found = problems(&[("ESIGNET_KEYS__PKCS11_KEK", "true")]);
    assert!(
        found
            .iter()
            .any(|(key, message)| key == "keys.pkcs11_kek" && message.contains("pkcs11")),
        "{found:?}"
    );
}

#[test]
fn an_hsm_kek_excludes_a_software_kek() {
    for extra in [
        (
            "ESIGNET_KEYS__ENCRYPTION_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        ("ESIGNET_KEYS__ENCRYPTION_KEY_FILE", "kek.b64"),
    ] {
        let found = problems(&with(&[("ESIGNET_KEYS__PKCS11_KEK", "true"), extra]));
        assert!(
            found.iter().any(|(key, message)| key == "keys.pkcs11_kek"
                && message.contains("remove keys.encryption_key")),
            "{found:?}"
        );
    }
}
