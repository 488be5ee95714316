//! Certificates a KeyManager issues for other parties' keys (wallet binding).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use esignet_jose::{Algorithm, PrivateKey};
use esignet_keys::{KeyEncryptionKey, KeyError, KeyManager, KeyPolicy, ROOT_APPLICATION};
use esignet_spi::{KeyRecord, KeyStore, ManualClock, StoreError, TokenSigner};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509, X509StoreContext};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2030-01-01 00:00:00 UTC);

#[derive(Default)]
struct Keys(Mutex<Vec<KeyRecord>>);

#[async_trait::async_trait]
impl KeyStore for Keys {
    async fn list_keys(&self, application: &str) -> Result<Vec<KeyRecord>, StoreError> {
        let mut records: Vec<KeyRecord> = self
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|record| record.application == application)
            .cloned()
            .collect();
        records.sort_by_key(|record| std::cmp::Reverse(record.created_at));
        Ok(records)
    }

    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(key.clone());
        Ok(())
    }
}

async fn manager(store: Arc<Keys>, clock: Arc<ManualClock>, issuing: bool) -> Arc<KeyManager> {
    let kek = Arc::new(KeyEncryptionKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap());
    let mut policy = KeyPolicy::for_jws(
        Algorithm::RS256,
        Duration::days(30),
        Duration::days(5),
        "Binding CA test",
    );
    if issuing {
        policy = policy.issuing_certificates();
    }
    let application = if issuing { "BINDING" } else { "PLAIN" };
    KeyManager::open(store, kek, clock, application, policy)
        .await
        .unwrap()
}

/// Verifies `leaf` (with `intermediates`) against the single trusted `root` at `at`.
fn chains_to(leaf: &X509, intermediates: &[X509], root: &X509, at: OffsetDateTime) -> bool {
    let mut builder = X509StoreBuilder::new().unwrap();
    builder.add_cert(root.clone()).unwrap();
    let mut param = X509VerifyParam::new().unwrap();
    param.set_time(at.unix_timestamp());
    builder.set_param(&param).unwrap();
    let store = builder.build();
    let mut chain = Stack::new().unwrap();
    for certificate in intermediates {
        chain.push(certificate.clone()).unwrap();
    }
    let mut context = X509StoreContext::new().unwrap();
    context
        .init(&store, leaf, &chain, |context| context.verify_cert())
        .unwrap()
}

#[tokio::test]
async fn an_issuing_key_certifies_a_wallet_key_under_the_root() {
    let store = Arc::new(Keys::default());
    let clock = Arc::new(ManualClock::new(START));
    let binding = manager(store.clone(), clock.clone(), true).await;
    for wallet in [
        PrivateKey::generate_ec_p256().unwrap(),
        PrivateKey::generate_rsa(2048).unwrap(),
    ] {
        let issued = binding
            .issue_certificate(&wallet.public_jwk(), "wallet-key", Duration::days(10))
            .unwrap();
        assert_eq!(issued.not_before, START);
        assert_eq!(issued.not_after, START + Duration::days(10));
        let certificate = X509::from_pem(issued.pem.as_bytes()).unwrap();
        assert!(
            certificate
                .public_key()
                .unwrap()
                .public_eq(wallet.public_jwk().openssl_pkey())
        );
        assert_eq!(
            issued.thumbprint,
            esignet_jose::sha256_b64url(&certificate.to_der().unwrap())
        );
        let issuer = X509::from_pem(binding.certificates()[0].certificate_pem.as_bytes()).unwrap();
        assert!(certificate.verify(&issuer.public_key().unwrap()).unwrap());
        let root_record = store.list_keys(ROOT_APPLICATION).await.unwrap();
        let root = X509::stack_from_pem(root_record[0].certificate_pem.as_bytes()).unwrap();
        assert!(
            chains_to(
                &certificate,
                &[issuer],
                &root[0],
                START + Duration::hours(1)
            ),
            "wallet certificate → binding CA → ROOT validates"
        );
    }
}

#[tokio::test]
async fn certificates_never_outlive_their_issuer_and_plain_keys_do_not_issue() {
    let store = Arc::new(Keys::default());
    let clock = Arc::new(ManualClock::new(START));
    let binding = manager(store.clone(), clock.clone(), true).await;
    let wallet = PrivateKey::generate_ec_p256().unwrap().public_jwk();
    let issued = binding
        .issue_certificate(&wallet, "wallet-key", Duration::days(365))
        .unwrap();
    assert_eq!(issued.not_after, START + Duration::days(30));
    assert!(matches!(
        binding.issue_certificate(&wallet, "wallet-key", Duration::ZERO),
        Err(KeyError::InvalidPolicy(_))
    ));

    let plain = manager(store, clock, false).await;
    assert!(matches!(
        plain.issue_certificate(&wallet, "wallet-key", Duration::days(1)),
        Err(KeyError::InvalidPolicy(_))
    ));
}
