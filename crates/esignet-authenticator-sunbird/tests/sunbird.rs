//! The Sunbird RC authenticator against the test registry over loopback HTTP: KBI search,
//! subject derivation, signed KYC checked with `jsonwebtoken`, and every fault.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use esignet_authenticator_sunbird::test_registry::{Fault, TestRegistry};
use esignet_authenticator_sunbird::{
    KbiField, PsutDerivation, SunbirdAuthenticator, SunbirdConfig, encode_kbi_challenge,
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

fn entities() -> Vec<Value> {
    vec![
        json!({"osid": "1-aaa", "policyNumber": "5555", "fullName": "Asha Rao", "dob": "1990-01-02",
               "email": "asha@example.org", "mobile": "+911234567890",
               "address": {"city": "Pune"},
               "gender": [{"language": "eng", "value": "Female"}, {"language": "fra", "value": "Femme"}]}),
        json!({"osid": "1-bbb", "policyNumber": "6666", "fullName": "Ravi K", "dob": "1985-05-06"}),
        // Two entities share these answers: a search finds both.
        json!({"osid": "1-ccc", "policyNumber": "7777", "fullName": "Twin", "dob": "2000-01-01"}),
        json!({"osid": "1-ddd", "policyNumber": "7777", "fullName": "Twin", "dob": "2000-01-01"}),
    ]
}

fn config(registry: &TestRegistry) -> SunbirdConfig {
    SunbirdConfig {
        search_url: registry.search_url(),
        entity_url: registry.entity_url(),
        kbi_fields: [
            ("policyNumber", "policyNumber"),
            ("name", "fullName"),
            ("dob", "dob"),
        ]
        .into_iter()
        .map(|(form_field, attribute)| KbiField {
            form_field: form_field.into(),
            attribute: attribute.into(),
        })
        .collect(),
        individual_id_field: "policyNumber".into(),
        entity_id_field: "osid".into(),
        psut: PsutDerivation::EntityId,
        claims: [
            ("name", "fullName"),
            ("email", "email"),
            ("phone_number", "mobile"),
            ("locality", "/address/city"),
            ("gender", "gender"),
            ("birthdate", "dob"),
        ]
        .into_iter()
        .map(|(claim, path)| (claim.to_owned(), path.to_owned()))
        .collect(),
        headers: Vec::new(),
        timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        kyc_token_ttl: Duration::from_secs(60),
        issuer: ISSUER.into(),
        default_language: "eng".into(),
    }
}

struct Setup {
    authenticator: SunbirdAuthenticator,
    signer: Arc<KeyManager>,
}

async fn setup(config: SunbirdConfig) -> Setup {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let kek = Arc::new(
        KeyEncryptionKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap(),
    );
    let signer = KeyManager::open(
        store,
        kek,
        clock.clone(),
        "SUNBIRD_RC_KYC",
        KeyPolicy::for_jws(
            esignet_jose::Algorithm::RS256,
            time::Duration::days(90),
            time::Duration::days(14),
            "Sunbird RC KYC",
        ),
    )
    .await
    .unwrap();
    let cache = MemoryCache::new(clock.clone());
    let authenticator = SunbirdAuthenticator::new(config, signer.clone(), cache, clock).unwrap();
    Setup {
        authenticator,
        signer,
    }
}

fn kbi(individual_id: &str, answers: Value) -> KycAuthRequest {
    let Value::Object(answers) = answers else {
        panic!("answers must be an object")
    };
    KycAuthRequest {
        transaction_id: "txn-1".into(),
        individual_id: individual_id.into(),
        challenges: vec![AuthChallenge {
            auth_factor_type: "KBI".into(),
            challenge: encode_kbi_challenge(&answers),
            format: "base64url-encoded-json".into(),
        }],
    }
}

fn asha() -> KycAuthRequest {
    kbi(
        "5555",
        json!({"policyNumber": "5555", "name": "Asha Rao", "dob": "1990-01-02"}),
    )
}

fn exchange(kyc_token: &str, claims: &[&str], locales: &[&str]) -> KycExchangeRequest {
    KycExchangeRequest {
        transaction_id: "txn-1".into(),
        kyc_token: kyc_token.into(),
        individual_id: "5555".into(),
        accepted_claims: claims.iter().map(|claim| (*claim).to_owned()).collect(),
        claims_locales: locales.iter().map(|locale| (*locale).to_owned()).collect(),
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

async fn registry(paged: bool, bearer: Option<&str>) -> TestRegistry {
    TestRegistry::start("Insurance", entities(), paged, bearer.map(str::to_owned))
        .await
        .unwrap()
}

#[tokio::test]
async fn kbi_login_then_signed_kyc_from_the_entity() {
    let registry = registry(false, None).await;
    let Setup {
        authenticator,
        signer,
    } = setup(config(&registry)).await;
    let auth = authenticator
        .kyc_auth(RP, CLIENT, false, asha())
        .await
        .unwrap();
    assert_eq!(auth.partner_specific_user_token, "1-aaa");
    assert_ne!(
        auth.kyc_token, "1-aaa",
        "the KYC token is not the entity id"
    );

    let kyc = authenticator
        .kyc_exchange(
            RP,
            CLIENT,
            exchange(
                &auth.kyc_token,
                &["name", "email", "locality", "gender", "address"],
                &["en", "fr"],
            ),
        )
        .await
        .unwrap();
    let claims = verify(&signer, &kyc.encrypted_kyc);
    assert_eq!(claims["sub"], "1-aaa");
    assert_eq!(claims["name"], "Asha Rao");
    assert_eq!(claims["email"], "asha@example.org");
    assert_eq!(claims["locality"], "Pune");
    assert_eq!(claims["gender#en"], "Female");
    assert_eq!(claims["gender#fr"], "Femme");
    assert!(
        claims.get("address").is_none(),
        "unmapped claims are not released"
    );
    assert!(
        claims.get("phone_number").is_none(),
        "unaccepted claims are not released"
    );

    // Single use.
    let again = authenticator
        .kyc_exchange(RP, CLIENT, exchange(&auth.kyc_token, &["name"], &[]))
        .await
        .unwrap_err();
    assert_eq!(again.code, "invalid_kyc_token");
    let certificates = authenticator.kyc_signing_certificates().await.unwrap();
    assert_eq!(certificates, signer.certificates());
}

#[tokio::test]
async fn a_kyc_token_works_only_for_its_own_transaction() {
    let registry = registry(false, None).await;
    let Setup { authenticator, .. } = setup(config(&registry)).await;
    let auth = authenticator
        .kyc_auth(RP, CLIENT, false, asha())
        .await
        .unwrap();
    let mut request = exchange(&auth.kyc_token, &["name"], &[]);
    request.transaction_id = "txn-other".into();
    let error = authenticator
        .kyc_exchange(RP, CLIENT, request)
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_kyc_token");
    let error = authenticator
        .kyc_exchange(RP, CLIENT, exchange("made-up", &["name"], &[]))
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_kyc_token");
}

#[tokio::test]
async fn pairwise_subjects_are_sha3_of_entity_id_and_relying_party() {
    let registry = registry(true, None).await;
    let mut pairwise = config(&registry);
    pairwise.psut = PsutDerivation::Pairwise;
    let Setup { authenticator, .. } = setup(pairwise).await;
    let one = authenticator
        .kyc_auth(RP, CLIENT, false, asha())
        .await
        .unwrap();
    let two = authenticator
        .kyc_auth("rp-2", CLIENT, false, asha())
        .await
        .unwrap();
    let digest =
        openssl::hash::hash(openssl::hash::MessageDigest::sha3_256(), b"1-aaarp-1").unwrap();
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    assert_eq!(one.partner_specific_user_token, expected);
    assert_ne!(
        one.partner_specific_user_token,
        two.partner_specific_user_token
    );
}

#[tokio::test]
async fn zero_or_several_matches_and_bad_challenges_fail_authentication() {
    let registry = registry(false, None).await;
    let Setup { authenticator, .. } = setup(config(&registry)).await;
    let cases = [
        // Wrong answer: no entity.
        (
            kbi("5555", json!({"name": "Asha Rao", "dob": "1990-01-03"})),
            "auth_failed",
        ),
        // The individual id decides, not the form's copy of it.
        (
            kbi(
                "6666",
                json!({"policyNumber": "5555", "name": "Asha Rao", "dob": "1990-01-02"}),
            ),
            "auth_failed",
        ),
        // Two entities match.
        (
            kbi("7777", json!({"name": "Twin", "dob": "2000-01-01"})),
            "auth_failed",
        ),
        // A field is missing, empty or not text.
        (kbi("5555", json!({"name": "Asha Rao"})), "auth_failed"),
        (
            kbi("5555", json!({"name": "Asha Rao", "dob": ""})),
            "auth_failed",
        ),
        (
            kbi("5555", json!({"name": ["Asha Rao"], "dob": "1990-01-02"})),
            "auth_failed",
        ),
    ];
    for (request, code) in cases {
        let error = authenticator
            .kyc_auth(RP, CLIENT, false, request)
            .await
            .unwrap_err();
        assert_eq!(error.code, code);
    }
    let mut garbage = asha();
    garbage.challenges[0].challenge = "%%% not base64".into();
    assert_eq!(
        authenticator
            .kyc_auth(RP, CLIENT, false, garbage)
            .await
            .unwrap_err()
            .code,
        "auth_failed"
    );
    let mut format = asha();
    format.challenges[0].format = "encoded-json".into();
    assert_eq!(
        authenticator
            .kyc_auth(RP, CLIENT, false, format)
            .await
            .unwrap_err()
            .code,
        "invalid_challenge_format"
    );
    let mut factor = asha();
    factor.challenges[0].auth_factor_type = "PIN".into();
    assert_eq!(
        authenticator
            .kyc_auth(RP, CLIENT, false, factor)
            .await
            .unwrap_err()
            .code,
        "invalid_auth_factor_type"
    );
    let mut two = asha();
    two.challenges.push(two.challenges[0].clone());
    assert_eq!(
        authenticator
            .kyc_auth(RP, CLIENT, false, two)
            .await
            .unwrap_err()
            .code,
        "invalid_auth_factor_type"
    );

    let otp = authenticator
        .send_otp(
            RP,
            CLIENT,
            SendOtpRequest {
                transaction_id: "txn-1".into(),
                individual_id: "5555".into(),
                otp_channels: vec!["email".into()],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(otp.code, "not_implemented");
    assert!(!authenticator.is_supported_otp_channel("email"));
}

#[tokio::test]
async fn registry_faults_become_clean_codes_on_search() {
    let registry = registry(false, None).await;
    let Setup { authenticator, .. } = setup(config(&registry)).await;
    for (fault, code) in [
        (Fault::Hang, "identity_system_timeout"),
        (Fault::ServerError, "identity_system_unavailable"),
        (Fault::Garbage, "unknown_error"),
        (Fault::WrongShape, "unknown_error"),
    ] {
        registry.set_fault(fault);
        let error = authenticator
            .kyc_auth(RP, CLIENT, false, asha())
            .await
            .unwrap_err();
        assert_eq!(error.code, code, "{fault:?}");
    }
    registry.set_fault(Fault::None);
    authenticator
        .kyc_auth(RP, CLIENT, false, asha())
        .await
        .unwrap();
}

#[tokio::test]
async fn registry_faults_become_clean_codes_on_exchange() {
    let registry = registry(false, None).await;
    let Setup { authenticator, .. } = setup(config(&registry)).await;
    for (fault, code) in [
        (Fault::Hang, "identity_system_timeout"),
        (Fault::ServerError, "identity_system_unavailable"),
        (Fault::Garbage, "unknown_error"),
    ] {
        registry.set_fault(Fault::None);
        let auth = authenticator
            .kyc_auth(RP, CLIENT, false, asha())
            .await
            .unwrap();
        registry.set_fault(fault);
        let error = authenticator
            .kyc_exchange(RP, CLIENT, exchange(&auth.kyc_token, &["name"], &[]))
            .await
            .unwrap_err();
        assert_eq!(error.code, code, "{fault:?}");
    }
}

#[tokio::test]
async fn an_absent_registry_is_unavailable() {
    let registry = registry(false, None).await;
    let gone = config(&registry);
    // Dropping the registry stops its listener: nothing answers on that port any more.
    drop(registry);
    let Setup { authenticator, .. } = setup(gone).await;
    let error = authenticator
        .kyc_auth(RP, CLIENT, false, asha())
        .await
        .unwrap_err();
    assert_eq!(error.code, "identity_system_unavailable");
}

#[tokio::test]
async fn configured_headers_reach_the_registry() {
    let registry = registry(true, Some("s3cret-token")).await;
    let Setup { authenticator, .. } = setup(config(&registry)).await;
    let error = authenticator
        .kyc_auth(RP, CLIENT, false, asha())
        .await
        .unwrap_err();
    assert_eq!(
        error.code, "auth_failed",
        "the registry refuses an unauthenticated search"
    );

    let mut with_token = config(&registry);
    with_token.headers = vec![("Authorization".into(), "Bearer s3cret-token".into())];
    let rendered = format!("{with_token:?}");
    assert!(
        !rendered.contains("s3cret"),
        "header values are not printed"
    );
    let Setup { authenticator, .. } = setup(with_token).await;
    let auth = authenticator
        .kyc_auth(RP, CLIENT, false, asha())
        .await
        .unwrap();
    authenticator
        .kyc_exchange(RP, CLIENT, exchange(&auth.kyc_token, &["name"], &[]))
        .await
        .unwrap();
}

#[tokio::test]
async fn unusable_settings_are_refused_with_a_reason() {
    let registry = registry(false, None).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let Setup { signer, .. } = setup(config(&registry)).await;
    let mut cases = Vec::new();
    let mut bad = config(&registry);
    bad.search_url = "ftp://registry/search".into();
    cases.push((bad, "search_url"));
    let mut bad = config(&registry);
    bad.individual_id_field = "nationalId".into();
    cases.push((bad, "individual-id field `nationalId`"));
    let mut bad = config(&registry);
    bad.kbi_fields.clear();
    cases.push((bad, "no KBI field"));
    let mut bad = config(&registry);
    bad.headers = vec![("Bad Header".into(), "x".into())];
    cases.push((bad, "not a header name"));
    for (bad, reason) in cases {
        let error = SunbirdAuthenticator::new(
            bad,
            signer.clone(),
            MemoryCache::new(clock.clone()),
            clock.clone(),
        )
        .unwrap_err();
        assert!(error.to_string().contains(reason), "{error}");
    }
}
