//! `MockKeyBinder` through the `KeyBinder` seam, and WLA challenges at `kyc_auth`.
#![expect(
    clippy::unwrap_used,
    reason = "tests: a panic is how a test reports failure"
)]

use std::sync::{Arc, Mutex};

use esignet_jose::{Algorithm, PrivateKey};
use esignet_keys::{KeyEncryptionKey, KeyManager, KeyPolicy};
use esignet_mock_authenticator::{Directory, MockAuthenticator, MockKeyBinder, MockSettings};
use esignet_spi::{KeyBinder, KeyBindingRequest, KeyRecord, KeyStore, StoreError, TokenSigner};
use openssl::x509::X509;
use serde_json::{Map, json};

use crate::support::{ISSUER, SIDDHARTH, START, challenge, harness, strings};

#[derive(Default)]
struct Keys(Mutex<Vec<KeyRecord>>);

#[async_trait::async_trait]
impl KeyStore for Keys {
    async fn list_keys(&self, application: &str) -> Result<Vec<KeyRecord>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .rev()
            .filter(|record| record.application == application)
            .cloned()
            .collect())
    }

    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(key.clone());
        Ok(())
    }
}

async fn binder() -> (MockKeyBinder, Arc<KeyManager>) {
    let h = harness();
    let kek = Arc::new(
        KeyEncryptionKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap(),
    );
    let issuer = KeyManager::open(
        Arc::new(Keys::default()),
        kek,
        h.clock.clone(),
        "MOCK_BINDING_SERVICE",
        KeyPolicy::for_jws(
            Algorithm::RS256,
            time::Duration::days(90),
            time::Duration::days(14),
            "Mock binding CA",
        )
        .issuing_certificates(),
    )
    .await
    .unwrap();
    let mock = Arc::new(MockAuthenticator::new(
        Directory::demo().unwrap(),
        h.signer.clone(),
        h.cache.clone(),
        h.clock.clone(),
        MockSettings::new(ISSUER),
    ));
    let binder = MockKeyBinder::new(mock, issuer.clone(), time::Duration::days(10));
    (binder, issuer)
}

fn binding(challenges: Vec<esignet_spi::AuthChallenge>, key: &PrivateKey) -> KeyBindingRequest {
    KeyBindingRequest {
        individual_id: SIDDHARTH.into(),
        challenges,
        public_key: key.public_jwk().to_json(),
        auth_factor_type: "WLA".into(),
        request_headers: Vec::new(),
    }
}

#[tokio::test]
async fn an_otp_binding_certifies_the_key_under_the_binding_ca() {
    let (binder, issuer) = binder().await;
    let sent = binder
        .send_binding_otp(SIDDHARTH, &strings(&["email"]), &[])
        .await
        .unwrap();
    assert!(sent.masked_email.is_some());
    let key = PrivateKey::generate_ec_p256().unwrap();
    let result = binder
        .do_key_binding(binding(vec![challenge("OTP", "111111")], &key))
        .await
        .unwrap();
    let certificate = X509::from_pem(result.certificate.as_bytes()).unwrap();
    assert!(
        certificate
            .public_key()
            .unwrap()
            .public_eq(key.public_jwk().openssl_pkey())
    );
    let authority = X509::from_pem(issuer.certificates()[0].certificate_pem.as_bytes()).unwrap();
    assert!(
        certificate
            .verify(&authority.public_key().unwrap())
            .unwrap()
    );
    assert_eq!(
        binder.binding_ca_certificates().await.unwrap(),
        issuer.certificates()
    );
    assert!(!result.partner_specific_user_token.is_empty());

    // The OTP was spent by the binding.
    let again = binder
        .do_key_binding(binding(vec![challenge("OTP", "111111")], &key))
        .await
        .unwrap_err();
    assert_eq!(again.code, "invalid_transaction");
}

#[tokio::test]
async fn bindings_need_a_real_identity_proof_and_the_wla_factor() {
    let (binder, _) = binder().await;
    let key = PrivateKey::generate_ec_p256().unwrap();
    let wrong_pin = binder
        .do_key_binding(binding(vec![challenge("PIN", "000000")], &key))
        .await
        .unwrap_err();
    assert_eq!(wrong_pin.code, "auth_failed");
    binder
        .do_key_binding(binding(vec![challenge("PIN", "482916")], &key))
        .await
        .unwrap();
    for refused in ["BIO", "WLA", "IDT"] {
        let error = binder
            .do_key_binding(binding(vec![challenge(refused, "x")], &key))
            .await
            .unwrap_err();
        assert_eq!(error.code, "invalid_auth_factor_type", "{refused}");
    }
    let mut other_factor = binding(vec![challenge("PIN", "482916")], &key);
    other_factor.auth_factor_type = "PIN".into();
    assert_eq!(
        binder.do_key_binding(other_factor).await.unwrap_err().code,
        "invalid_auth_factor_type"
    );
    assert_eq!(binder.supported_challenge_formats("WLA"), strings(&["jwt"]));
    assert_eq!(
        binder.supported_challenge_formats("OTP"),
        strings(&["alpha-numeric"])
    );
    assert!(binder.supported_challenge_formats("BIO").is_empty());
}

#[tokio::test]
async fn a_wla_login_challenge_must_name_the_individual() {
    let h = harness();
    let key = PrivateKey::generate_ec_p256().unwrap();
    let token = |sub: &str| {
        let claims = json!({"sub": sub, "aud": "esignet-binding", "iat": START.unix_timestamp()});
        esignet_jose::sign_compact(
            &key,
            Algorithm::ES256,
            &Map::new(),
            claims.to_string().as_bytes(),
        )
        .unwrap()
    };
    h.auth(
        "TXN0000001",
        SIDDHARTH,
        vec![challenge("WLA", &token(SIDDHARTH))],
    )
    .await
    .unwrap();
    let error = h
        .auth(
            "TXN0000002",
            SIDDHARTH,
            vec![challenge("WLA", &token("5860142938"))],
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, "auth_failed");
    let error = h
        .auth("TXN0000003", SIDDHARTH, vec![challenge("WLA", "not-a-jwt")])
        .await
        .unwrap_err();
    assert_eq!(error.code, "auth_failed");
}
