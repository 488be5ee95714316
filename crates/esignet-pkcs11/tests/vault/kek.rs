//! The key-encryption key held in the token, and keys imported into it: software keys sealed
//! by the token's AES key are read again by a new vault on the same token, the derived secrets
//! are the same, and (read back through cryptoki) the KEK and imported keys are sensitive and
//! never extractable.

use std::sync::Arc;

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use esignet_jose::{Algorithm, PrivateKey};
use esignet_keys::{KeyManager, KeyVault};
use esignet_pkcs11::Pkcs11Vault;
use esignet_spi::{Clock, KeyStore, SystemClock, TokenSigner};

use super::softhsm::{MODULE, PIN, Token, isolated};
use super::{APP, config, policy, runtime, store, verify_independently};

/// Sensitivity attributes of every object of `class` labelled `label`, read with a context of
/// the test's own (the vaults are dropped by then: one context per module at a time).
fn protection(token: &Token, class: ObjectClass, label: &str) -> Vec<Vec<Attribute>> {
    let context = Pkcs11::new(MODULE).unwrap();
    context.initialize(CInitializeArgs::OsThreads).unwrap();
    let slot = context
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|slot| context.get_token_info(*slot).unwrap().label().trim_end() == token.label)
        .unwrap();
    let session = context.open_ro_session(slot).unwrap();
    session
        .login(UserType::User, Some(&AuthPin::new(PIN.to_owned())))
        .unwrap();
    let handles = session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .unwrap();
    handles
        .into_iter()
        .map(|handle| {
            session
                .get_attributes(
                    handle,
                    &[
                        AttributeType::Sensitive,
                        AttributeType::Extractable,
                        AttributeType::NeverExtractable,
                        AttributeType::Value,
                    ],
                )
                .unwrap()
        })
        .collect()
}

/// Sensitive and not extractable; `generated_inside`: also never extractable (an imported key
/// existed outside the token, which the token records as `CKA_NEVER_EXTRACTABLE = false`).
fn assert_protected(objects: &[Vec<Attribute>], generated_inside: bool) {
    assert_eq!(objects.len(), 1, "exactly one object: {objects:?}");
    let attributes = &objects[0];
    assert!(
        attributes.contains(&Attribute::Sensitive(true)),
        "{attributes:?}"
    );
    assert!(
        attributes.contains(&Attribute::Extractable(false)),
        "{attributes:?}"
    );
    assert!(
        attributes.contains(&Attribute::NeverExtractable(generated_inside)),
        "{attributes:?}"
    );
    assert!(
        !attributes
            .iter()
            .any(|attribute| matches!(attribute, Attribute::Value(_))),
        "the token hands out no key value: {attributes:?}"
    );
}

#[test]
fn the_token_kek_seals_software_keys_across_restarts_and_never_leaves_the_token() {
    isolated(
        "kek::the_token_kek_seals_software_keys_across_restarts_and_never_leaves_the_token",
        |token| {
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let (first, kid, derived, jwks) = runtime().block_on(async {
                let vault = Pkcs11Vault::open(&config(&token, 2)).unwrap();
                let kek = Arc::new(vault.key_encryption_key().unwrap());
                assert!(kek.is_held_in_vault());
                // Software keys (no vault for them), sealed by the token's KEK.
                let store = store(&token.dir).await;
                let keys = KeyManager::open(
                    store.clone(),
                    kek.clone(),
                    clock.clone(),
                    APP,
                    policy(Algorithm::ES256),
                )
                .await
                .unwrap();
                assert!(!keys.uses_vault());
                let first = keys.sign_jws(None, b"{\"n\":1}").unwrap();
                for record in store.list_keys(APP).await.unwrap() {
                    assert!(
                        record
                            .encrypted_private_key
                            .starts_with(b"esignet-hsm-kek/v1:"),
                        "sealed by the token"
                    );
                }
                let kid = keys.keys()[0].kid.clone();
                (first, kid, kek.derive("flow-cache"), keys.public_jwks())
            });
            runtime().block_on(async {
                // A new vault on the same token finds the same KEK and derivation secret.
                let vault = Pkcs11Vault::open(&config(&token, 2)).unwrap();
                let kek = Arc::new(vault.key_encryption_key().unwrap());
                assert_eq!(kek.derive("flow-cache"), derived);
                let keys = KeyManager::open(
                    store(&token.dir).await,
                    kek,
                    clock.clone(),
                    APP,
                    policy(Algorithm::ES256),
                )
                .await
                .unwrap();
                assert_eq!(keys.keys().len(), 1, "the stored key, none generated");
                assert_eq!(keys.keys()[0].kid, kid);
                assert!(keys.verify_jws(&first).is_some());
                let second = keys.sign_jws(None, b"{\"n\":2}").unwrap();
                verify_independently(&second, &jwks, Algorithm::ES256);
                assert_eq!(vault.kek_label(), "esignet-test:kek");
            });
            assert_protected(
                &protection(&token, ObjectClass::SECRET_KEY, "esignet-test:kek"),
                true,
            );
        },
    );
}

#[test]
fn imported_keys_sign_in_the_token_and_are_not_extractable() {
    isolated(
        "kek::imported_keys_sign_in_the_token_and_are_not_extractable",
        |token| {
            let mut labels = Vec::new();
            for key in [
                PrivateKey::generate_rsa(2048).unwrap(),
                PrivateKey::generate_ec_p256().unwrap(),
            ] {
                let vault = Pkcs11Vault::open(&config(&token, 2)).unwrap();
                let imported = vault.import(APP, &key).unwrap();
                assert_eq!(imported.public_key(), &key.public_jwk());
                let alg = if key.public_jwk().kty() == "RSA" {
                    Algorithm::RS256
                } else {
                    Algorithm::ES256
                };
                let signature = imported.sign(alg, b"message").unwrap();
                // The token's signature verifies under the imported key's public half.
                let found = vault.find(imported.reference()).unwrap();
                assert_eq!(found.public_key(), &key.public_jwk());
                assert!(
                    key.public_jwk().verify(alg, b"message", &signature),
                    "{alg:?}"
                );
                labels.push(imported.reference().to_owned());
            }
            for label in labels {
                assert_protected(&protection(&token, ObjectClass::PRIVATE_KEY, &label), false);
            }
        },
    );
}
