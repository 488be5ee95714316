//! `KeyManager::import_pkcs12` with a software KEK: an imported key becomes current exactly like
//! a rotated one (after the activation delay when a key is current), lives until its
//! certificate expires, and cannot be imported twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use esignet_jose::Algorithm;
use esignet_keys::{KeyEncryptionKey, KeyError, KeyManager, KeyPolicy};
use esignet_spi::{KeyRecord, KeyStore, ManualClock, StoreError, TokenSigner};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
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
        let mut records = self.0.lock().unwrap();
        if records.iter().any(|record| record.kid == key.kid) {
            return Err(StoreError::Conflict("kid"));
        }
        records.push(key.clone());
        Ok(())
    }
}

/// A self-signed keystore for a fresh RSA key, valid from a day before START for `days`.
fn keystore(days: i64) -> (Vec<u8>, PKey<Private>, X509) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut builder = X509::builder().unwrap();
    builder.set_version(2).unwrap();
    builder
        .set_serial_number(&BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "Imported").unwrap();
    let name = name.build();
    builder.set_subject_name(&name).unwrap();
    builder.set_issuer_name(&name).unwrap();
    let start = START.unix_timestamp();
    builder
        .set_not_before(&Asn1Time::from_unix(start - 86_400).unwrap())
        .unwrap();
    builder
        .set_not_after(&Asn1Time::from_unix(start + days * 86_400).unwrap())
        .unwrap();
    builder.set_pubkey(&key).unwrap();
    builder.sign(&key, MessageDigest::sha256()).unwrap();
    let certificate = builder.build();
    let der = Pkcs12::builder()
        .pkey(&key)
        .cert(&certificate)
        .build2("secret")
        .unwrap()
        .to_der()
        .unwrap();
    (der, key, certificate)
}

#[tokio::test]
async fn an_imported_key_activates_like_a_rotated_one_and_lives_until_its_certificate_expires() {
    let clock = Arc::new(ManualClock::new(START));
    let kek = Arc::new(KeyEncryptionKey::from_base64(&STANDARD.encode([3u8; 32])).unwrap());
    let policy = KeyPolicy::for_jws(
        Algorithm::RS256,
        Duration::days(30),
        Duration::days(5),
        "Import test",
    )
    .with_activation_delay(Duration::hours(1));
    let store = Arc::new(Keys::default());
    let keys = KeyManager::open(store.clone(), kek.clone(), clock.clone(), "APP", policy)
        .await
        .unwrap();
    let generated = keys.keys()[0].kid.clone();
    let (der, key, certificate) = keystore(90);
    clock.advance(Duration::minutes(1));

    let imported = keys.import_pkcs12(&der, "secret").await.unwrap();
    assert!(!imported.is_current, "published first, like a rotated key");
    assert_eq!(
        imported.not_before,
        START + Duration::minutes(1) + Duration::hours(1)
    );
    assert_eq!(imported.not_after, START + Duration::days(90));
    assert!(
        keys.public_jwks()
            .iter()
            .any(|jwk| jwk["kid"] == imported.kid.as_str()),
        "published at once"
    );
    let x5c = keys
        .public_jwks()
        .into_iter()
        .find(|jwk| jwk["kid"] == imported.kid.as_str())
        .unwrap()["x5c"]
        .clone();
    assert_eq!(x5c[0], STANDARD.encode(certificate.to_der().unwrap()));

    clock.advance(Duration::hours(1));
    keys.reload().await.unwrap();
    let current = keys
        .keys()
        .into_iter()
        .find(|info| info.is_current)
        .unwrap();
    assert_eq!(current.kid, imported.kid);
    assert_ne!(current.kid, generated);
    let token = keys.sign_jws(None, b"{\"imported\":true}").unwrap();
    let decoding =
        jsonwebtoken::DecodingKey::from_rsa_pem(&key.public_key_to_pem().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();

    // The same keystore again is refused, not duplicated.
    let error = keys.import_pkcs12(&der, "secret").await.unwrap_err();
    assert!(
        matches!(&error, KeyError::Import(message) if message.contains("already stored")),
        "{error}"
    );
    assert_eq!(store.list_keys("APP").await.unwrap().len(), 2);

    // Rotation replaces it `rotate_before` ahead of its certificate's expiry.
    clock.set(START + Duration::days(84));
    assert!(keys.rotate_if_due().await.unwrap().is_none());
    clock.set(START + Duration::days(86));
    assert!(keys.rotate_if_due().await.unwrap().is_some());

    // A restart reads the imported key again under the same KEK.
    let policy = KeyPolicy::for_jws(
        Algorithm::RS256,
        Duration::days(30),
        Duration::days(5),
        "Import test",
    );
    let reopened = KeyManager::open(store, kek, clock, "APP", policy)
        .await
        .unwrap();
    assert!(reopened.keys().iter().any(|info| info.kid == imported.kid));
}

#[tokio::test]
async fn an_expired_or_not_yet_valid_certificate_is_refused_at_the_manager_clock() {
    let clock = Arc::new(ManualClock::new(START + Duration::days(91)));
    let kek = Arc::new(KeyEncryptionKey::from_base64(&STANDARD.encode([3u8; 32])).unwrap());
    let policy = KeyPolicy::for_jws(Algorithm::RS256, Duration::days(30), Duration::days(5), "T");
    let keys = KeyManager::open(Arc::new(Keys::default()), kek, clock.clone(), "APP", policy)
        .await
        .unwrap();
    let (der, _, _) = keystore(90);
    let error = keys.import_pkcs12(&der, "secret").await.unwrap_err();
    assert!(
        error.to_string().contains("the certificate expired on"),
        "{error}"
    );
    clock.set(START - Duration::days(2));
    let error = keys.import_pkcs12(&der, "secret").await.unwrap_err();
    assert!(error.to_string().contains("is not valid before"), "{error}");
}
