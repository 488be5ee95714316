//! The REST authenticator against the test identity system over loopback HTTP: OTP, PIN and
//! password logins, placeholder escaping, the API key, signed KYC checked with `jsonwebtoken`,
//! and every fault as a clean error code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use esignet_authenticator_rest::test_server::{Fault, TestIdentitySystem, demo_people};
use esignet_authenticator_rest::{
    AuthenticateOperation, Method, RestAuthenticator, RestConfig, SendOtpOperation,
    UserInfoOperation,
};
use esignet_cache_memory::MemoryCache;
use esignet_keys::{KeyEncryptionKey, KeyManager, KeyPolicy};
use esignet_spi::{
    AuthChallenge, Authenticator, Clock, KycAuthRequest, KycExchangeRequest, SendOtpRequest,
    SystemClock, TokenSigner, UserinfoResponseType,
};
use esignet_store_sqlite::SqliteStore;
use serde_json::{Map, Value, json};

const RP: &str = "rp-1";
const CLIENT: &str = "client-1";
const ISSUER: &str = "http://127.0.0.1:8088";
const API_KEY: &str = "test-api-key";

fn config(system: &TestIdentitySystem) -> RestConfig {
    let base = system.base_url();
    RestConfig {
        authenticate: AuthenticateOperation {
            url: format!("{base}/authenticate"),
            body: r#"{"id": "{individual_id}", "type": "{factor}", "secret": "{challenge}"}"#
                .into(),
            success_pointer: Some("/result/authenticated".into()),
            success_value: json!(true),
            subject_pointer: Some("/result/personId".into()),
        },
        send_otp: Some(SendOtpOperation {
            url: format!("{base}/otp"),
            body: r#"{"id": "{individual_id}", "channels": "{channels}"}"#.into(),
            masked_email_pointer: Some("/masked/email".into()),
            masked_mobile_pointer: Some("/masked/mobile".into()),
        }),
        user_info: UserInfoOperation {
            method: Method::Get,
            url: format!("{base}/people/{{individual_id}}"),
            body: None,
        },
        auth_factors: vec!["OTP".into(), "PIN".into(), "PWD".into()],
        otp_channels: vec!["email".into(), "phone".into()],
        claims: [
            ("name", "/fullName"),
            ("email", "/contact/email"),
            ("phone_number", "/contact/phone"),
            ("gender", "/gender"),
            ("locality", "/address/city"),
            ("birthdate", "/birthDate"),
        ]
        .into_iter()
        .map(|(claim, pointer)| (claim.to_owned(), pointer.to_owned()))
        .collect(),
        required_claims: vec!["name".into(), "email".into()],
        headers: vec![("X-API-Key".into(), API_KEY.into())],
        timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        kyc_token_ttl: Duration::from_secs(60),
        issuer: ISSUER.into(),
        default_language: "eng".into(),
    }
}

struct Setup {
    authenticator: RestAuthenticator,
    signer: Arc<KeyManager>,
}

async fn setup(config: RestConfig) -> Setup {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let kek = Arc::new(
        KeyEncryptionKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap(),
    );
    let signer = KeyManager::open(
        store,
        kek,
        clock.clone(),
        "REST_IDENTITY_KYC",
        KeyPolicy::for_jws(
            esignet_jose::Algorithm::RS256,
            time::Duration::days(90),
            time::Duration::days(14),
            "REST KYC",
        ),
    )
    .await
    .unwrap();
    let cache = MemoryCache::new(clock.clone());
    let authenticator = RestAuthenticator::new(config, signer.clone(), cache, clock).unwrap();
    Setup {
        authenticator,
        signer,
    }
}

async fn system() -> TestIdentitySystem {
    TestIdentitySystem::start(demo_people(), API_KEY)
        .await
        .unwrap()
}

fn challenge(individual_id: &str, factor: &str, secret: &str) -> KycAuthRequest {
    KycAuthRequest {
        transaction_id: "txn-1".into(),
        individual_id: individual_id.into(),
        challenges: vec![AuthChallenge {
            auth_factor_type: factor.into(),
            challenge: secret.into(),
            format: "alpha-numeric".into(),
        }],
    }
}

fn send(individual_id: &str) -> SendOtpRequest {
    SendOtpRequest {
        transaction_id: "txn-1".into(),
        individual_id: individual_id.into(),
        otp_channels: vec!["email".into()],
    }
}

fn exchange(kyc_token: &str, individual_id: &str, claims: &[&str]) -> KycExchangeRequest {
    KycExchangeRequest {
        transaction_id: "txn-1".into(),
        kyc_token: kyc_token.into(),
        individual_id: individual_id.into(),
        accepted_claims: claims.iter().map(|claim| (*claim).to_owned()).collect(),
        claims_locales: vec!["en".into(), "fr".into()],
        userinfo_response_type: UserinfoResponseType::Jws,
        accepted_claim_details: Map::new(),
    }
}

/// Verifies the KYC JWS with `jsonwebtoken` against the signer's published JWK.
fn verify(signer: &KeyManager, jws: &str) -> Value {
    let header = jsonwebtoken::decode_header(jws).unwrap();
    let jwk = signer
        .public_jwks()
        .into_iter()
        .find(|jwk| jwk["kid"].as_str() == header.kid.as_deref())
        .expect("the kid is published");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[CLIENT]);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["sub", "aud", "iss"]);
    jsonwebtoken::decode::<Value>(jws, &key, &validation)
        .unwrap()
        .claims
}

fn code<T: std::fmt::Debug>(result: Result<T, esignet_spi::PluginError>) -> String {
    result.expect_err("an error").code
}

#[tokio::test]
async fn otp_login_then_signed_kyc_with_mapped_claims() {
    let system = system().await;
    let Setup {
        authenticator,
        signer,
    } = setup(config(&system)).await;
    assert!(authenticator.is_supported_otp_channel("email"));
    assert!(authenticator.is_supported_otp_channel("PHONE"));
    assert!(!authenticator.is_supported_otp_channel("fax"));

    // Before an OTP was sent the identity system answers `authenticated: false`.
    let early = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "OTP", "123456"))
        .await;
    assert_eq!(code(early), "auth_failed");

    let sent = authenticator
        .send_otp(RP, CLIENT, send("UIN4711A"))
        .await
        .unwrap();
    assert_eq!(sent.transaction_id, "txn-1");
    assert_eq!(sent.masked_email.as_deref(), Some("a***@example.org"));
    assert_eq!(sent.masked_mobile.as_deref(), Some("******7890"));
    assert_eq!(
        system.last_authenticate().unwrap(),
        json!({"id": "UIN4711A", "type": "OTP", "secret": "123456"})
    );

    let wrong = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "OTP", "000000"))
        .await;
    assert_eq!(code(wrong), "auth_failed");
    let auth = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "OTP", "123456"))
        .await
        .unwrap();
    // The subject is pairwise over the person id the identity system answered.
    assert_eq!(
        auth.partner_specific_user_token,
        esignet_jose::sha3_256_b64url(format!("P-0001{RP}").as_bytes())
    );

    let kyc = authenticator
        .kyc_exchange(
            RP,
            CLIENT,
            exchange(
                &auth.kyc_token,
                "UIN4711A",
                &["name", "email", "gender", "locality", "address"],
            ),
        )
        .await
        .unwrap();
    let claims = verify(&signer, &kyc.encrypted_kyc);
    assert_eq!(claims["sub"], json!(auth.partner_specific_user_token));
    assert_eq!(claims["name"], "Asha Rao");
    assert_eq!(claims["email"], "asha@example.org");
    assert_eq!(claims["locality"], "Pune");
    assert_eq!(claims["gender#en"], "Female");
    assert_eq!(claims["gender#fr"], "Femme");
    assert!(
        claims.get("address").is_none(),
        "unmapped claims are never released"
    );
    assert!(claims.get("birthdate").is_none(), "only accepted claims");

    // The token is single use.
    let again = authenticator
        .kyc_exchange(RP, CLIENT, exchange(&auth.kyc_token, "UIN4711A", &["name"]))
        .await;
    assert_eq!(code(again), "invalid_kyc_token");
    let certificates = authenticator.kyc_signing_certificates().await.unwrap();
    assert_eq!(certificates, signer.certificates());
    assert!(!certificates.is_empty());
}

#[tokio::test]
async fn pin_and_password_logins_escape_the_challenge() {
    let system = system().await;
    let Setup { authenticator, .. } = setup(config(&system)).await;
    authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "PIN", "4321"))
        .await
        .unwrap();
    // Quotes and braces in a challenge stay data: the identity system receives them verbatim.
    let password = "pa\"ss{x}";
    authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "PWD", password))
        .await
        .unwrap();
    assert_eq!(system.last_authenticate().unwrap()["secret"], password);
    let injected = "x\", \"type\": \"PIN\", \"secret\": \"4321";
    let refused = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "PWD", injected))
        .await;
    assert_eq!(code(refused), "auth_failed");
    let body = system.last_authenticate().unwrap();
    assert_eq!(body["type"], "PWD");
    assert_eq!(body["secret"], injected);

    // A factor type that is not configured is refused before any call.
    let kbi = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4712B", "KBI", "e30"))
        .await;
    assert_eq!(code(kbi), "invalid_auth_factor_type");
    assert_eq!(system.last_authenticate().unwrap()["secret"], injected);
}

#[tokio::test]
async fn the_api_key_is_required_and_sent() {
    let system = system().await;
    let mut without_key = config(&system);
    without_key.headers.clear();
    let Setup { authenticator, .. } = setup(without_key).await;
    let refused = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "PIN", "4321"))
        .await;
    assert_eq!(code(refused), "auth_failed");
    assert!(system.last_authenticate().is_none(), "refused at the door");
    let otp = authenticator.send_otp(RP, CLIENT, send("UIN4711A")).await;
    assert_eq!(code(otp), "send_otp_failed");
}

#[tokio::test]
async fn status_only_success_and_subject_from_the_individual_id() {
    let system = system().await;
    let mut status_only = config(&system);
    status_only.authenticate.success_pointer = None;
    status_only.authenticate.subject_pointer = None;
    status_only.send_otp = None;
    let Setup { authenticator, .. } = setup(status_only).await;
    // Any 2xx is a success here, even `authenticated: false`: the operator chose the status.
    let auth = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4712B", "PIN", "wrong"))
        .await
        .unwrap();
    assert_eq!(
        auth.partner_specific_user_token,
        esignet_jose::sha3_256_b64url(format!("UIN4712B{RP}").as_bytes())
    );
    assert!(!authenticator.is_supported_otp_channel("email"));
    let otp = authenticator.send_otp(RP, CLIENT, send("UIN4712B")).await;
    assert_eq!(code(otp), "not_implemented");
}

#[tokio::test]
async fn a_missing_required_claim_or_person_is_data_exchange_failed() {
    let system = system().await;
    let Setup { authenticator, .. } = setup(config(&system)).await;
    // UIN4712B has no email, which is required once accepted.
    let auth = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4712B", "PIN", "1111"))
        .await
        .unwrap();
    let missing = authenticator
        .kyc_exchange(
            RP,
            CLIENT,
            exchange(&auth.kyc_token, "UIN4712B", &["name", "email"]),
        )
        .await;
    assert_eq!(code(missing), "data_exchange_failed");

    // A token presented for another individual is refused.
    let auth = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4712B", "PIN", "1111"))
        .await
        .unwrap();
    let other = authenticator
        .kyc_exchange(RP, CLIENT, exchange(&auth.kyc_token, "UIN4711A", &["name"]))
        .await;
    assert_eq!(code(other), "invalid_kyc_token");
    let unknown = authenticator
        .kyc_exchange(RP, CLIENT, exchange("no-such-token", "UIN4711A", &["name"]))
        .await;
    assert_eq!(code(unknown), "invalid_kyc_token");

    // The identity system no longer knows the person (404): data_exchange_failed.
    let mut elsewhere = config(&system);
    elsewhere.user_info.url = format!("{}/people/gone-{{individual_id}}", system.base_url());
    let Setup { authenticator, .. } = setup(elsewhere).await;
    let auth = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "PIN", "4321"))
        .await
        .unwrap();
    let gone = authenticator
        .kyc_exchange(RP, CLIENT, exchange(&auth.kyc_token, "UIN4711A", &["name"]))
        .await;
    assert_eq!(code(gone), "data_exchange_failed");
}

#[tokio::test]
async fn faults_become_clean_codes() {
    let system = system().await;
    let Setup { authenticator, .. } = setup(config(&system)).await;
    let auth = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "PIN", "4321"))
        .await
        .unwrap();

    for (fault, authenticate, otp, exchange_code) in [
        (
            Fault::ServerError,
            "identity_system_unavailable",
            "identity_system_unavailable",
            "identity_system_unavailable",
        ),
        (
            Fault::Garbage,
            "auth_failed",
            "send_otp_failed",
            "data_exchange_failed",
        ),
        (
            Fault::Hang,
            "identity_system_timeout",
            "identity_system_timeout",
            "identity_system_timeout",
        ),
    ] {
        system.set_fault(fault);
        let answer = authenticator
            .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "PIN", "4321"))
            .await;
        assert_eq!(code(answer), authenticate, "{fault:?}");
        let answer = authenticator.send_otp(RP, CLIENT, send("UIN4711A")).await;
        assert_eq!(code(answer), otp, "{fault:?}");
        // Each exchange spends a fresh token, issued while the system is healthy.
        system.set_fault(Fault::None);
        let fresh = authenticator
            .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "PIN", "4321"))
            .await
            .unwrap();
        system.set_fault(fault);
        let answer = authenticator
            .kyc_exchange(
                RP,
                CLIENT,
                exchange(&fresh.kyc_token, "UIN4711A", &["name"]),
            )
            .await;
        assert_eq!(code(answer), exchange_code, "{fault:?}");
    }
    system.set_fault(Fault::None);
    // The first token was never spent by a fault: it still works.
    authenticator
        .kyc_exchange(RP, CLIENT, exchange(&auth.kyc_token, "UIN4711A", &["name"]))
        .await
        .unwrap();

    // Nobody listening: unavailable.
    let base = system.base_url();
    drop(system);
    let mut gone = config(
        &TestIdentitySystem::start(demo_people(), API_KEY)
            .await
            .unwrap(),
    );
    gone.authenticate.url = format!("{base}/authenticate");
    let Setup { authenticator, .. } = setup(gone).await;
    let answer = authenticator
        .kyc_auth(RP, CLIENT, false, challenge("UIN4711A", "PIN", "4321"))
        .await;
    assert_eq!(code(answer), "identity_system_unavailable");
}

/// One change that makes a configuration unusable.
type Change = Box<dyn Fn(&mut RestConfig)>;

#[tokio::test]
async fn unusable_configurations_are_refused_with_the_reason() {
    let system = system().await;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|c| c.authenticate.url = "not a url/{individual_id}".into()),
            "authenticate.url",
        ),
        (
            Box::new(|c| c.authenticate.body = r#"{"id": "{nobody}"}"#.into()),
            "unknown placeholder `{nobody}`",
        ),
        (
            Box::new(|c| c.authenticate.success_pointer = Some("result.ok".into())),
            "authenticate.success_pointer",
        ),
        (
            Box::new(|c| c.claims.push(("nickname".into(), "/a~5".into()))),
            "claims.nickname",
        ),
        (
            Box::new(|c| c.required_claims.push("nickname".into())),
            "required claim `nickname` is not mapped",
        ),
        (
            Box::new(|c| c.user_info.method = Method::Post),
            "a POST needs a body template",
        ),
        (Box::new(|c| c.auth_factors.clear()), "no auth factor type"),
        (
            Box::new(|c| c.headers.push(("X-Bad".into(), "a\nb".into()))),
            "unusable value",
        ),
        (Box::new(|c| c.timeout = Duration::ZERO), "timeouts"),
    ];
    for (change, expected) in cases {
        let mut config = config(&system);
        change(&mut config);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let signer = setup(self::config(&system)).await.signer;
        let error = RestAuthenticator::new(config, signer, MemoryCache::new(clock.clone()), clock)
            .expect_err(expected)
            .to_string();
        assert!(error.contains(expected), "{expected}: {error}");
        // The secret header value is never part of an error.
        assert!(!error.contains(API_KEY));
    }
}
