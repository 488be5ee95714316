//! The PKCS#11 vault against a real SoftHSM2 token: key generation in the token, signatures
//! checked by `jsonwebtoken`, the JWKS `x5c` chain checked by OpenSSL's verifier, rotation,
//! finding keys again after a restart, the pool under concurrent signing, and login errors.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod kek;
mod softhsm;

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use esignet_jose::Algorithm;
use esignet_keys::{KeyEncryptionKey, KeyManager, KeyPolicy, KeyVault};
use esignet_pkcs11::{Pkcs11Config, Pkcs11Vault, TokenSelector};
use esignet_spi::{Clock, KeyStore, SystemClock, TokenSigner};
use esignet_store_sqlite::SqliteStore;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509, X509StoreContext};
use serde_json::Value;
use softhsm::{MODULE, PIN, Token, isolated};

const APP: &str = "OIDC_SERVICE";

fn config(token: &Token, max_sessions: usize) -> Pkcs11Config {
    Pkcs11Config {
        module: MODULE.into(),
        token: TokenSelector::Label(token.label.clone()),
        pin: zeroize::Zeroizing::new(PIN.to_owned()),
        label_prefix: "esignet-test".into(),
        max_sessions,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn kek() -> Arc<KeyEncryptionKey> {
    Arc::new(KeyEncryptionKey::from_base64(&STANDARD.encode([9u8; 32])).unwrap())
}

fn policy(alg: Algorithm) -> KeyPolicy {
    KeyPolicy::for_jws(
        alg,
        time::Duration::days(30),
        time::Duration::days(5),
        "eSignet HSM test",
    )
}

async fn store(dir: &Path) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(&dir.join("esignet.db")).await.unwrap())
}

async fn manager(
    store: Arc<SqliteStore>,
    vault: Arc<Pkcs11Vault>,
    application: &str,
    alg: Algorithm,
) -> Arc<KeyManager> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let vault: Arc<dyn KeyVault> = vault;
    KeyManager::open_with_vault(store, kek(), Some(vault), clock, application, policy(alg))
        .await
        .unwrap()
}

/// Verifies `token` with jsonwebtoken against the JWKS entry of its `kid`.
fn verify_independently(token: &str, jwks: &[Value], alg: Algorithm) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.unwrap();
    let jwk = jwks.iter().find(|jwk| jwk["kid"] == kid.as_str()).unwrap();
    let (key, algorithm) = match alg {
        Algorithm::RS256 | Algorithm::PS256 => (
            jsonwebtoken::DecodingKey::from_rsa_components(
                jwk["n"].as_str().unwrap(),
                jwk["e"].as_str().unwrap(),
            )
            .unwrap(),
            if alg == Algorithm::RS256 {
                jsonwebtoken::Algorithm::RS256
            } else {
                jsonwebtoken::Algorithm::PS256
            },
        ),
        Algorithm::ES256 => (
            jsonwebtoken::DecodingKey::from_ec_components(
                jwk["x"].as_str().unwrap(),
                jwk["y"].as_str().unwrap(),
            )
            .unwrap(),
            jsonwebtoken::Algorithm::ES256,
        ),
    };
    let mut validation = jsonwebtoken::Validation::new(algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

/// The `x5c` chain of a JWKS entry verifies with OpenSSL, the root as the only trust anchor,
/// and the leaf certifies the JWK's public key.
fn assert_chain_verifies(jwk: &Value) {
    let chain: Vec<X509> = jwk["x5c"]
        .as_array()
        .unwrap()
        .iter()
        .map(|der| X509::from_der(&STANDARD.decode(der.as_str().unwrap()).unwrap()).unwrap())
        .collect();
    assert_eq!(chain.len(), 2, "leaf and ROOT");
    let mut trust = X509StoreBuilder::new().unwrap();
    trust.add_cert(chain[1].clone()).unwrap();
    let trust = trust.build();
    let mut context = X509StoreContext::new().unwrap();
    let verified = context
        .init(&trust, &chain[0], &Stack::new().unwrap(), |context| {
            context.verify_cert()
        })
        .unwrap();
    assert!(verified, "{}", context.error());
    let public = esignet_jose::PublicJwk::from_json(jwk).unwrap();
    assert!(
        chain[0]
            .public_key()
            .unwrap()
            .public_eq(public.openssl_pkey())
    );
}

#[test]
fn tokens_signed_in_the_token_verify_with_jsonwebtoken_for_every_algorithm() {
    isolated(
        "tokens_signed_in_the_token_verify_with_jsonwebtoken_for_every_algorithm",
        |token| {
            runtime().block_on(async {
                let vault = Arc::new(Pkcs11Vault::open(&config(&token, 4)).unwrap());
                let store = store(&token.dir).await;
                for (application, alg) in [
                    ("APP_RS256", Algorithm::RS256),
                    ("APP_PS256", Algorithm::PS256),
                    ("APP_ES256", Algorithm::ES256),
                ] {
                    let keys = manager(store.clone(), vault.clone(), application, alg).await;
                    assert!(keys.uses_vault());
                    // No private key is handed out: it is in the token.
                    assert!(keys.current_key().is_none());
                    let signed = keys
                        .sign_jws(Some("JWT"), br#"{"sub":"resident","n":1}"#)
                        .unwrap();
                    let jwks = keys.public_jwks();
                    let claims = verify_independently(&signed, &jwks, alg);
                    assert_eq!(claims["sub"], "resident");
                    assert_eq!(jwks[0]["alg"], alg.as_str());
                    assert_chain_verifies(&jwks[0]);
                    assert_eq!(
                        keys.verify_jws(&signed).unwrap(),
                        br#"{"sub":"resident","n":1}"#
                    );
                    // The store holds a reference, not a private key.
                    let record = &store.list_keys(application).await.unwrap()[0];
                    let stored = String::from_utf8(record.encrypted_private_key.clone()).unwrap();
                    assert!(
                        stored.starts_with("esignet-vault-key/v1:esignet-test:"),
                        "{stored}"
                    );
                }
                // One ROOT per family, each application's key: five key pairs in the token.
                assert_eq!(vault.key_labels().unwrap().len(), 5);
            });
        },
    );
}

#[test]
fn rotated_keys_are_found_again_after_a_restart() {
    isolated("rotated_keys_are_found_again_after_a_restart", |token| {
        let (first_token, kids, jwks) = runtime().block_on(async {
            let vault = Arc::new(Pkcs11Vault::open(&config(&token, 2)).unwrap());
            let keys = manager(
                store(&token.dir).await,
                vault.clone(),
                APP,
                Algorithm::RS256,
            )
            .await;
            let before = keys.sign_jws(None, b"{\"before\":true}").unwrap();
            let rotated = keys.rotate().await.unwrap();
            assert!(rotated.is_current);
            let kids: Vec<String> = keys.keys().into_iter().map(|key| key.kid).collect();
            assert_eq!(kids.len(), 2);
            assert_eq!(kids[0], rotated.kid);
            // The previous key still verifies what it signed.
            assert!(keys.verify_jws(&before).is_some());
            for jwk in keys.public_jwks() {
                assert_chain_verifies(&jwk);
            }
            (before, kids, keys.public_jwks())
        });
        // A new process state: a fresh vault (new sessions, new login) and store handle.
        runtime().block_on(async {
            let vault = Arc::new(Pkcs11Vault::open(&config(&token, 2)).unwrap());
            let keys = manager(
                store(&token.dir).await,
                vault.clone(),
                APP,
                Algorithm::RS256,
            )
            .await;
            let found: Vec<String> = keys.keys().into_iter().map(|key| key.kid).collect();
            assert_eq!(found, kids, "the same keys, none generated");
            assert!(keys.verify_jws(&first_token).is_some());
            let after = keys.sign_jws(None, b"{\"after\":true}").unwrap();
            verify_independently(&after, &jwks, Algorithm::RS256);
            assert_eq!(
                jsonwebtoken::decode_header(&after).unwrap().kid.unwrap(),
                kids[0]
            );
            assert_eq!(vault.key_labels().unwrap().len(), 3, "ROOT and two keys");
        });
    });
}

#[test]
fn concurrent_signatures_share_the_session_pool() {
    isolated("concurrent_signatures_share_the_session_pool", |token| {
        runtime().block_on(async {
            let vault = Arc::new(Pkcs11Vault::open(&config(&token, 3)).unwrap());
            let keys = manager(store(&token.dir).await, vault, APP, Algorithm::ES256).await;
            let jwks = keys.public_jwks();
            // More signers than sessions: some wait for a session, none fails.
            let threads: Vec<_> = (0..12)
                .map(|thread| {
                    let keys = keys.clone();
                    std::thread::spawn(move || {
                        (0..8)
                            .map(|round| {
                                let payload = format!("{{\"thread\":{thread},\"round\":{round}}}");
                                (
                                    payload.clone(),
                                    keys.sign_jws(None, payload.as_bytes()).unwrap(),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut signed = 0;
            for thread in threads {
                for (payload, token) in thread.join().unwrap() {
                    let claims = verify_independently(&token, &jwks, Algorithm::ES256);
                    assert_eq!(claims, serde_json::from_str::<Value>(&payload).unwrap());
                    signed += 1;
                }
            }
            assert_eq!(signed, 96);
        });
    });
}

#[test]
fn login_and_token_errors_name_the_setting_never_the_pin() {
    isolated(
        "login_and_token_errors_name_the_setting_never_the_pin",
        |token| {
            let wrong_pin = "9999-wrong-pin";
            let mut bad = config(&token, 1);
            bad.pin = zeroize::Zeroizing::new(wrong_pin.to_owned());
            let message = Pkcs11Vault::open(&bad).unwrap_err().to_string();
            assert!(message.contains("the PIN is wrong"), "{message}");
            assert!(!message.contains(wrong_pin) && !message.contains(PIN));

            let mut missing = config(&token, 1);
            missing.token = TokenSelector::Label("no-such-token".into());
            let message = Pkcs11Vault::open(&missing).unwrap_err().to_string();
            assert!(
                message.contains("no token labelled \"no-such-token\""),
                "{message}"
            );
            assert!(
                message.contains(&token.label),
                "lists the tokens present: {message}"
            );

            let mut module = config(&token, 1);
            module.module = token.dir.join("missing-module.so");
            let message = Pkcs11Vault::open(&module).unwrap_err().to_string();
            assert!(
                message.contains("cannot load the PKCS#11 module"),
                "{message}"
            );

            // The right PIN still works after the refusals.
            assert!(Pkcs11Vault::open(&config(&token, 1)).is_ok());
        },
    );
}

#[test]
fn a_record_whose_token_key_is_gone_fails_to_load_clearly() {
    isolated(
        "a_record_whose_token_key_is_gone_fails_to_load_clearly",
        |token| {
            runtime().block_on(async {
                let vault = Arc::new(Pkcs11Vault::open(&config(&token, 2)).unwrap());
                let store = store(&token.dir).await;
                let keys = manager(store.clone(), vault.clone(), APP, Algorithm::RS256).await;
                let record = store.list_keys(APP).await.unwrap().remove(0);
                let reference = String::from_utf8(record.encrypted_private_key)
                    .unwrap()
                    .trim_start_matches("esignet-vault-key/v1:")
                    .to_owned();
                vault.find(&reference).unwrap().destroy().unwrap();
                let error = keys.reload().await.unwrap_err().to_string();
                assert!(error.contains("holds no key pair labelled"), "{error}");
                // Without a vault, an HSM record is refused, not misread as a sealed key.
                let clock: Arc<dyn Clock> = Arc::new(SystemClock);
                let error = KeyManager::open(store, kek(), clock, APP, policy(Algorithm::RS256))
                    .await
                    .unwrap_err()
                    .to_string();
                assert!(error.contains("no HSM is configured"), "{error}");
            });
        },
    );
}
