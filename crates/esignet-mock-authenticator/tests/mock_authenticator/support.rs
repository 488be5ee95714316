//! Test doubles (a clock-driven cache, an RSA signer) and helpers for driving the mock.
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failure here is a failure of the test that called it"
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use esignet_mock_authenticator::{Directory, MockAuthenticator, MockSettings};
use esignet_spi::{
    AuthChallenge, Authenticator, Cache, CacheError, Clock, KycAuthRequest, KycAuthResult,
    KycExchangeRequest, ManualClock, PluginError, SendOtpRequest, SendOtpResult, SignerError,
    SigningCertificate, Subscription, TokenSigner,
};
use futures::StreamExt as _;
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

pub const ISSUER: &str = "https://esignet.example/v1/esignet";
pub const RELYING_PARTY: &str = "health-portal-rp";
pub const CLIENT: &str = "health-portal-client";
pub const KID: &str = "mock-kyc-test-key";
pub const START: OffsetDateTime = datetime!(2025-03-01 10:00:00 UTC);

/// Demo personas used in tests.
pub const SIDDHARTH: &str = "8267411571";
pub const SREYMOM: &str = "5860142938";
pub const PRIYA: &str = "3519847260";
pub const ALEX: &str = "6102938475";

/// Entries by (namespace, key): the value and when it expires.
type Entries = HashMap<(String, String), (Vec<u8>, OffsetDateTime)>;

/// A `Cache` over a `HashMap` whose expiry is judged by the test's `ManualClock`.
pub struct ClockCache {
    clock: Arc<ManualClock>,
    entries: Mutex<Entries>,
    unavailable: AtomicBool,
}

impl ClockCache {
    pub fn new(clock: Arc<ManualClock>) -> Self {
        Self {
            clock,
            entries: Mutex::new(HashMap::new()),
            unavailable: AtomicBool::new(false),
        }
    }

    /// Makes every later call fail with `CacheError::Unavailable`.
    pub fn go_down(&self) {
        self.unavailable.store(true, Ordering::SeqCst);
    }

    /// Live entries of `namespace`, as (key, value) pairs.
    pub fn live(&self, namespace: &str) -> Vec<(String, Vec<u8>)> {
        let now = self.clock.now();
        self.entries
            .lock()
            .unwrap()
            .iter()
            .filter(|((ns, _), (_, expires))| ns == namespace && *expires > now)
            .map(|((_, key), (value, _))| (key.clone(), value.clone()))
            .collect()
    }

    fn check(&self) -> Result<(), CacheError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(CacheError::Unavailable("test cache is down".into()))
        } else {
            Ok(())
        }
    }

    fn expiry(&self, ttl: Duration) -> OffsetDateTime {
        self.clock.now() + ttl
    }

    fn live_value(&self, namespace: &str, key: &str, remove: bool) -> Option<Vec<u8>> {
        let now = self.clock.now();
        let mut entries = self.entries.lock().unwrap();
        let id = (namespace.to_owned(), key.to_owned());
        match entries.get(&id) {
            Some((_, expires)) if *expires <= now => {
                entries.remove(&id);
                None
            }
            Some((value, _)) if !remove => Some(value.clone()),
            Some(_) => entries.remove(&id).map(|(value, _)| value),
            None => None,
        }
    }
}

#[async_trait::async_trait]
impl Cache for ClockCache {
    async fn put(
        &self,
        namespace: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        self.check()?;
        let expires = self.expiry(ttl);
        self.entries
            .lock()
            .unwrap()
            .insert((namespace.to_owned(), key.to_owned()), (value, expires));
        Ok(())
    }

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.check()?;
        Ok(self.live_value(namespace, key, false))
    }

    async fn take(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.check()?;
        Ok(self.live_value(namespace, key, true))
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<(), CacheError> {
        self.check()?;
        self.entries
            .lock()
            .unwrap()
            .remove(&(namespace.to_owned(), key.to_owned()));
        Ok(())
    }

    async fn put_if_absent(
        &self,
        namespace: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        self.check()?;
        if self.live_value(namespace, key, false).is_some() {
            return Ok(false);
        }
        self.put(namespace, key, value, ttl).await?;
        Ok(true)
    }

    async fn increment(
        &self,
        namespace: &str,
        key: &str,
        ttl: Duration,
    ) -> Result<u64, CacheError> {
        self.check()?;
        let current = self.live_value(namespace, key, false);
        let next = match current {
            Some(bytes) => u64::from_be_bytes(bytes.try_into().unwrap()) + 1,
            None => 1,
        };
        let expires = self.expiry(ttl);
        let mut entries = self.entries.lock().unwrap();
        let entry = entries
            .entry((namespace.to_owned(), key.to_owned()))
            .or_insert((Vec::new(), expires));
        entry.0 = next.to_be_bytes().to_vec();
        Ok(next)
    }

    async fn publish(&self, _channel: &str, _message: &str) -> Result<(), CacheError> {
        self.check()
    }

    async fn subscribe(&self, _channel: &str) -> Result<Subscription, CacheError> {
        self.check()?;
        Ok(futures::stream::empty().boxed())
    }
}

/// One RSA key for the whole test binary: generating keys is slow and tests only need one.
fn test_key() -> &'static (PKey<Private>, X509) {
    static KEY: OnceLock<(PKey<Private>, X509)> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "mock kyc test").unwrap();
        let name = name.build();
        let mut builder = X509::builder().unwrap();
        builder.set_version(2).unwrap();
        builder
            .set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
            .unwrap();
        builder.set_subject_name(&name).unwrap();
        builder.set_issuer_name(&name).unwrap();
        builder.set_pubkey(&key).unwrap();
        builder
            .set_not_before(&Asn1Time::from_unix(START.unix_timestamp()).unwrap())
            .unwrap();
        builder
            .set_not_after(
                &Asn1Time::from_unix((START + time::Duration::days(365)).unix_timestamp()).unwrap(),
            )
            .unwrap();
        builder.sign(&key, MessageDigest::sha256()).unwrap();
        (key, builder.build())
    })
}

/// The PEM public key the test signer signs with, for independent verification.
pub fn public_key_pem() -> Vec<u8> {
    test_key().0.public_key_to_pem().unwrap()
}

/// An RS256 signer over [`test_key`]; can be told to fail.
#[derive(Default)]
pub struct RsaTestSigner {
    broken: AtomicBool,
}

impl RsaTestSigner {
    pub fn break_it(&self) {
        self.broken.store(true, Ordering::SeqCst);
    }
}

impl TokenSigner for RsaTestSigner {
    fn sign_jws(&self, typ: Option<&str>, payload: &[u8]) -> Result<String, SignerError> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(SignerError::NoActiveKey);
        }
        let mut header = json!({"alg": "RS256", "kid": KID});
        if let Some(typ) = typ {
            header["typ"] = typ.into();
        }
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let mut signer =
            openssl::sign::Signer::new(MessageDigest::sha256(), &test_key().0).unwrap();
        signer.update(signing_input.as_bytes()).unwrap();
        let signature = signer.sign_to_vec().unwrap();
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    fn algorithm(&self) -> &'static str {
        "RS256"
    }

    fn certificates(&self) -> Vec<SigningCertificate> {
        vec![SigningCertificate {
            key_id: KID.to_owned(),
            certificate_pem: String::from_utf8(test_key().1.to_pem().unwrap()).unwrap(),
            issued_at: START,
            expires_at: START + time::Duration::days(365),
        }]
    }

    fn public_jwks(&self) -> Vec<Value> {
        let rsa = test_key().0.rsa().unwrap();
        vec![json!({
            "kty": "RSA",
            "kid": KID,
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
            "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
        })]
    }

    fn verify_jws(&self, compact: &str) -> Option<Vec<u8>> {
        let (signing_input, signature) = compact.rsplit_once('.')?;
        let (_, payload) = signing_input.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut verifier =
            openssl::sign::Verifier::new(MessageDigest::sha256(), &test_key().0).ok()?;
        verifier.update(signing_input.as_bytes()).ok()?;
        verifier
            .verify(&signature)
            .ok()?
            .then(|| URL_SAFE_NO_PAD.decode(payload).ok())?
    }
}

/// A mock over the demo directory with test doubles, plus handles on them.
pub struct Harness {
    pub mock: MockAuthenticator,
    pub clock: Arc<ManualClock>,
    pub cache: Arc<ClockCache>,
    pub signer: Arc<RsaTestSigner>,
}

pub fn harness() -> Harness {
    harness_with(MockSettings::new(ISSUER))
}

pub fn harness_with(settings: MockSettings) -> Harness {
    let clock = Arc::new(ManualClock::new(START));
    let cache = Arc::new(ClockCache::new(clock.clone()));
    let signer = Arc::new(RsaTestSigner::default());
    let mock = MockAuthenticator::new(
        Directory::demo().unwrap(),
        signer.clone(),
        cache.clone(),
        clock.clone(),
        settings,
    );
    Harness {
        mock,
        clock,
        cache,
        signer,
    }
}

/// A challenge in the format eSignet sends for its type.
pub fn challenge(auth_factor_type: &str, value: &str) -> AuthChallenge {
    let format = match auth_factor_type {
        "OTP" | "PWD" => "alpha-numeric",
        "PIN" => "number",
        "BIO" => "encoded-json",
        "WLA" => "jwt",
        _ => "base64url-encoded-json",
    };
    AuthChallenge {
        auth_factor_type: auth_factor_type.to_owned(),
        challenge: value.to_owned(),
        format: format.to_owned(),
    }
}

pub fn kbi(answers: Value) -> AuthChallenge {
    challenge("KBI", &URL_SAFE_NO_PAD.encode(answers.to_string()))
}

pub fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

impl Harness {
    pub async fn send_otp(
        &self,
        transaction_id: &str,
        individual_id: &str,
        channels: &[&str],
    ) -> Result<SendOtpResult, PluginError> {
        self.mock
            .send_otp(
                RELYING_PARTY,
                CLIENT,
                SendOtpRequest {
                    transaction_id: transaction_id.to_owned(),
                    individual_id: individual_id.to_owned(),
                    otp_channels: strings(channels),
                },
            )
            .await
    }

    pub async fn auth(
        &self,
        transaction_id: &str,
        individual_id: &str,
        challenges: Vec<AuthChallenge>,
    ) -> Result<KycAuthResult, PluginError> {
        self.mock
            .kyc_auth(
                RELYING_PARTY,
                CLIENT,
                true,
                KycAuthRequest {
                    transaction_id: transaction_id.to_owned(),
                    individual_id: individual_id.to_owned(),
                    challenges,
                },
            )
            .await
    }

    /// A successful PIN login of a demo persona; returns its KYC token.
    pub async fn pin_login(&self, transaction_id: &str, individual_id: &str) -> KycAuthResult {
        let pin = esignet_mock_authenticator::demo_credentials()
            .into_iter()
            .find(|credential| credential.individual_id == individual_id)
            .unwrap()
            .pin;
        self.auth(transaction_id, individual_id, vec![challenge("PIN", pin)])
            .await
            .unwrap()
    }
}

/// An exchange request for `accepted` claims in `locales`.
pub fn exchange_request(
    transaction_id: &str,
    individual_id: &str,
    kyc_token: &str,
    accepted: &[&str],
    locales: &[&str],
) -> KycExchangeRequest {
    KycExchangeRequest {
        transaction_id: transaction_id.to_owned(),
        kyc_token: kyc_token.to_owned(),
        individual_id: individual_id.to_owned(),
        accepted_claims: strings(accepted),
        claims_locales: strings(locales),
        userinfo_response_type: esignet_spi::UserinfoResponseType::Jws,
        accepted_claim_details: Map::new(),
    }
}

/// Verifies a KYC JWS with the independent `jsonwebtoken` crate and returns its claims.
pub fn verify_kyc(jws: &str) -> Map<String, Value> {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public_key_pem()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[CLIENT]);
    validation.set_issuer(&[ISSUER]);
    // KYC carries no `exp`: it is a userinfo body, not a bearer token.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let decoded = jsonwebtoken::decode::<Map<String, Value>>(jws, &key, &validation).unwrap();
    assert_eq!(decoded.header.kid.as_deref(), Some(KID));
    decoded.claims
}
