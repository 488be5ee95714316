//! The IDA key binder against the IDA-compatible test server over loopback HTTP: binding OTP,
//! key binding to a certificate by the binding CA, the bound key's WLA tokens accepted by
//! kyc-auth, and every refusal (IDA's codes verbatim, faults as clean codes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use esignet_authenticator_ida::envelope::certificate_thumbprint;
use esignet_authenticator_ida::test_server::{
    Fault, IDENTITIES, TEST_OTP, TestIda, TestIdaSettings,
};
use esignet_authenticator_ida::testing::self_signed;
use esignet_authenticator_ida::{
    IdaAuthenticator, IdaBindingConfig, IdaConfig, IdaCredentials, IdaKeyBinder,
    binding_transaction_id,
};
use esignet_jose::{Algorithm, PrivateKey};
use esignet_spi::{AuthChallenge, Authenticator, KeyBinder, KeyBindingRequest, KycAuthRequest};
use openssl::x509::X509;
use serde_json::{Map, json};

const LICENSE: &str = "test-misp-license-key";
const PARTNER: &str = "esignet-partner";
const API_KEY: &str = "esignet-client";

struct Setup {
    server: TestIda,
    partner: (PrivateKey, X509),
    ida_partner: X509,
    ida_signing: X509,
    binding_ca: X509,
}

async fn setup() -> Setup {
    let partner = self_signed("eSignet partner");
    let ida_partner = self_signed("IDA-PARTNER");
    let ida_signing = self_signed("IDA SIGN");
    let binding_ca = self_signed("IDA KEY BINDING CA");
    let certificates = (
        ida_partner.1.clone(),
        ida_signing.1.clone(),
        binding_ca.1.clone(),
    );
    let server = TestIda::start(TestIdaSettings {
        license_key: LICENSE.to_owned(),
        partner_id: PARTNER.to_owned(),
        api_keys: vec![API_KEY.to_owned()],
        partner_certificate: partner.1.clone(),
        ida_partner,
        ida_signing,
        binding_ca,
    })
    .await;
    Setup {
        server,
        partner,
        ida_partner: certificates.0,
        ida_signing: certificates.1,
        binding_ca: certificates.2,
    }
}

impl Setup {
    fn config(&self) -> IdaConfig {
        IdaConfig {
            auth_url: self.server.base_url(),
            otp_url: self.server.base_url(),
            misp_license_key: LICENSE.to_owned(),
            partner_id: Some(PARTNER.to_owned()),
            api_key: Some(API_KEY.to_owned()),
            credentials: IdaCredentials {
                partner_key: self.partner.0.clone(),
                partner_certificate: self.partner.1.clone(),
                ida_partner_certificate: self.ida_partner.clone(),
                ida_signing_certificate: self.ida_signing.clone(),
            },
            otp_channels: vec!["email".to_owned(), "phone".to_owned()],
            domain_uri: "https://esignet.example".to_owned(),
            env: "Staging".to_owned(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
        }
    }

    fn binding(&self) -> IdaBindingConfig {
        IdaBindingConfig {
            binding_url: self.server.base_url(),
            ca_certificates: vec![vec![self.binding_ca.clone()]],
        }
    }

    fn binder_with(&self, config: IdaConfig) -> IdaKeyBinder {
        IdaKeyBinder::new(config, self.binding(), clock()).unwrap()
    }

    fn binder(&self) -> IdaKeyBinder {
        self.binder_with(self.config())
    }
}

fn clock() -> Arc<dyn esignet_spi::Clock> {
    Arc::new(esignet_spi::SystemClock)
}

fn challenge(factor: &str, value: &str, format: &str) -> AuthChallenge {
    AuthChallenge {
        auth_factor_type: factor.to_owned(),
        challenge: value.to_owned(),
        format: format.to_owned(),
    }
}

fn otp() -> AuthChallenge {
    challenge("OTP", TEST_OTP, "alpha-numeric")
}

fn pin(value: &str) -> AuthChallenge {
    challenge("PIN", value, "number")
}

fn bind_request(uin: &str, challenges: Vec<AuthChallenge>, key: &PrivateKey) -> KeyBindingRequest {
    KeyBindingRequest {
        individual_id: uin.to_owned(),
        challenges,
        public_key: key.public_jwk().to_json(),
        auth_factor_type: "WLA".to_owned(),
        request_headers: Vec::new(),
    }
}

/// A WLA token by `key` for the certificate `thumbprint`, issued at `iat`.
fn wla_token(key: &PrivateKey, thumbprint: &str, iat: i64) -> String {
    let header = Map::from_iter([
        ("typ".to_owned(), json!("JWT")),
        ("x5t#S256".to_owned(), json!(thumbprint)),
    ]);
    let claims = json!({"sub": "x", "aud": "esignet", "iat": iat, "exp": iat + 60});
    esignet_jose::sign_compact(
        key,
        Algorithm::ES256,
        &header,
        claims.to_string().as_bytes(),
    )
    .unwrap()
}

fn now() -> i64 {
    esignet_spi::Clock::now(&esignet_spi::SystemClock).unix_timestamp()
}

async fn wla_login(ida: &IdaAuthenticator, uin: &str, token: String) -> Result<String, String> {
    ida.kyc_auth(
        "rp",
        "client",
        false,
        KycAuthRequest {
            transaction_id: "login-1".to_owned(),
            individual_id: uin.to_owned(),
            challenges: vec![challenge("WLA", &token, "jwt")],
        },
    )
    .await
    .map(|result| result.partner_specific_user_token)
    .map_err(|error| error.code)
}

#[tokio::test]
async fn otp_binding_certifies_the_key_and_its_wla_tokens_log_in() {
    let setup = setup().await;
    let binder = setup.binder();
    let resident = &IDENTITIES[0];
    let sent = binder
        .send_binding_otp(resident.uin, &["email".to_owned()], &[])
        .await
        .unwrap();
    assert_eq!(sent.transaction_id, binding_transaction_id(resident.uin));
    assert_eq!(sent.masked_email.as_deref(), Some("s*******h@example.org"));
    assert_eq!(sent.masked_mobile, None);

    let wallet = PrivateKey::generate_ec_p256().unwrap();
    let bound = binder
        .do_key_binding(bind_request(resident.uin, vec![otp()], &wallet))
        .await
        .unwrap();
    let certificate = X509::from_pem(bound.certificate.as_bytes()).unwrap();
    assert!(
        certificate
            .public_key()
            .unwrap()
            .public_eq(wallet.openssl_pkey()),
        "the certificate is for the wallet's key"
    );
    assert!(
        certificate
            .verify(&setup.binding_ca.public_key().unwrap())
            .unwrap(),
        "the binding CA signed it"
    );
    let subject = certificate.subject_name().entries().next().unwrap();
    assert_eq!(subject.data().to_string().unwrap(), "Siddharth K Mansour");
    // The CA the service checks certificates against and publishes to wallets.
    let authorities = binder.binding_ca_certificates().await.unwrap();
    assert_eq!(authorities.len(), 1);
    assert_eq!(
        authorities[0].key_id,
        certificate_thumbprint(&setup.binding_ca).unwrap()
    );
    let published = X509::from_pem(authorities[0].certificate_pem.as_bytes()).unwrap();
    assert_eq!(
        published.to_der().unwrap(),
        setup.binding_ca.to_der().unwrap()
    );

    // The OTP is spent by the binding.
    let again = binder
        .do_key_binding(bind_request(resident.uin, vec![otp()], &wallet))
        .await
        .unwrap_err();
    assert_eq!(again.code, "IDA-OTA-004");

    // kyc-auth accepts the bound key's WLA tokens, for the same partner-specific user token.
    let ida = IdaAuthenticator::new(setup.config(), clock()).unwrap();
    let thumbprint = certificate_thumbprint(&certificate).unwrap();
    let psut = wla_login(&ida, resident.uin, wla_token(&wallet, &thumbprint, now()))
        .await
        .unwrap();
    assert_eq!(psut, bound.partner_specific_user_token);
    // Another key, another certificate, an old token, another resident: IDA's codes.
    let stranger = PrivateKey::generate_ec_p256().unwrap();
    let cases = [
        (
            resident.uin,
            wla_token(&stranger, &thumbprint, now()),
            "IDA-KBT-003",
        ),
        (
            resident.uin,
            wla_token(&wallet, "unknown", now()),
            "IDA-KBT-001",
        ),
        (
            resident.uin,
            wla_token(&wallet, &thumbprint, 0),
            "IDA-KBT-002",
        ),
        (resident.uin, "not-a-jwt".to_owned(), "IDA-KBT-003"),
        (
            IDENTITIES[1].uin,
            wla_token(&wallet, &thumbprint, now()),
            "IDA-KBT-001",
        ),
    ];
    for (uin, token, code) in cases {
        assert_eq!(wla_login(&ida, uin, token).await.unwrap_err(), code);
    }
}

#[tokio::test]
async fn ida_refusals_of_a_binding_pass_through_verbatim() {
    let setup = setup().await;
    let binder = setup.binder();
    let resident = &IDENTITIES[0];
    let wallet = PrivateKey::generate_ec_p256().unwrap();
    // A PIN binding works without an OTP; the same key cannot then go to someone else.
    binder
        .do_key_binding(bind_request(resident.uin, vec![pin(resident.pin)], &wallet))
        .await
        .unwrap();
    let taken = binder
        .do_key_binding(bind_request(
            IDENTITIES[1].uin,
            vec![pin(IDENTITIES[1].pin)],
            &wallet,
        ))
        .await
        .unwrap_err();
    assert_eq!(taken.code, "IDA-IKB-003");
    // Re-binding the same key to the same resident is fine.
    binder
        .do_key_binding(bind_request(resident.uin, vec![pin(resident.pin)], &wallet))
        .await
        .unwrap();

    let fresh = PrivateKey::generate_ec_p256().unwrap();
    let mut bad_key = bind_request(resident.uin, vec![pin(resident.pin)], &fresh);
    bad_key.public_key = json!({"kty": "oct", "k": "AAAA"});
    let mut no_factor_type = bind_request(resident.uin, vec![pin(resident.pin)], &fresh);
    no_factor_type.auth_factor_type = String::new();
    let token = wla_token(&wallet, "x", now());
    let cases = [
        (
            bind_request(resident.uin, vec![pin("000000")], &fresh),
            "IDA-SPA-001",
        ),
        // No OTP was sent for this binding.
        (
            bind_request(resident.uin, vec![otp()], &fresh),
            "IDA-OTA-004",
        ),
        (
            bind_request("0000000000", vec![pin("1")], &fresh),
            "IDA-MLC-002",
        ),
        // A wallet-bound token does not prove identity for binding another key.
        (
            bind_request(resident.uin, vec![challenge("WLA", &token, "jwt")], &fresh),
            "IDA-MLC-011",
        ),
        (bad_key, "IDA-IKB-002"),
        (no_factor_type, "IDA-MLC-006"),
    ];
    for (request, code) in cases {
        assert_eq!(binder.do_key_binding(request).await.unwrap_err().code, code);
    }
    // A wrong OTP after one was sent.
    binder
        .send_binding_otp(resident.uin, &["phone".to_owned()], &[])
        .await
        .unwrap();
    let wrong = binder
        .do_key_binding(bind_request(
            resident.uin,
            vec![challenge("OTP", "999999", "alpha-numeric")],
            &fresh,
        ))
        .await
        .unwrap_err();
    assert_eq!(wrong.code, "IDA-OTA-004");
    let unknown = binder
        .send_binding_otp("0000000000", &["email".to_owned()], &[])
        .await
        .unwrap_err();
    assert_eq!(unknown.code, "IDA-MLC-002");
    // Challenges IDA has no member for fail before any call.
    let calls = setup.server.calls();
    for challenges in [
        vec![],
        vec![challenge("KBI", "x", "base64url-encoded-json")],
    ] {
        let error = binder
            .do_key_binding(bind_request(resident.uin, challenges, &fresh))
            .await
            .unwrap_err();
        assert_eq!(error.code, "key_binding_failed");
    }
    assert_eq!(setup.server.calls(), calls);
}

#[tokio::test]
async fn partner_credentials_come_from_configuration_or_headers() {
    let setup = setup().await;
    let mut config = setup.config();
    config.partner_id = None;
    config.api_key = None;
    let binder = setup.binder_with(config);
    let uin = IDENTITIES[0].uin;
    let wallet = PrivateKey::generate_ec_p256().unwrap();
    let calls = setup.server.calls();
    // Neither configured nor sent: refused before any call.
    let only_partner = vec![("partner-id".to_owned(), PARTNER.to_owned())];
    let error = binder
        .send_binding_otp(uin, &["email".to_owned()], &only_partner)
        .await
        .unwrap_err();
    assert_eq!(error.code, "required_header_missing");
    let error = binder
        .do_key_binding(bind_request(uin, vec![pin(IDENTITIES[0].pin)], &wallet))
        .await
        .unwrap_err();
    assert_eq!(error.code, "required_header_missing");
    assert_eq!(setup.server.calls(), calls);

    let headers = vec![
        ("partner-id".to_owned(), PARTNER.to_owned()),
        ("partner-api-key".to_owned(), API_KEY.to_owned()),
    ];
    binder
        .send_binding_otp(uin, &["email".to_owned()], &headers)
        .await
        .unwrap();
    let mut request = bind_request(uin, vec![otp()], &wallet);
    request.request_headers = headers;
    binder.do_key_binding(request).await.unwrap();

    // Credentials IDA does not know: its codes.
    let wrong_key = vec![
        ("partner-id".to_owned(), PARTNER.to_owned()),
        ("partner-api-key".to_owned(), "unknown".to_owned()),
    ];
    let mut request = bind_request(uin, vec![pin(IDENTITIES[0].pin)], &wallet);
    request.request_headers = wrong_key;
    assert_eq!(
        binder.do_key_binding(request).await.unwrap_err().code,
        "IDA-MPA-028"
    );
    let mut config = setup.config();
    config.misp_license_key = "other-license".to_owned();
    let error = setup
        .binder_with(config)
        .do_key_binding(bind_request(uin, vec![pin(IDENTITIES[0].pin)], &wallet))
        .await
        .unwrap_err();
    assert_eq!(error.code, "IDA-MPA-007");
}

#[tokio::test]
async fn unsigned_failing_hanging_or_denying_ida_gives_clean_codes() {
    let setup = setup().await;
    let mut config = setup.config();
    // Short, so that the hanging server ends the call quickly; no timing is asserted.
    config.timeout = Duration::from_millis(300);
    let binder = setup.binder_with(config);
    let resident = &IDENTITIES[0];
    let wallet = PrivateKey::generate_ec_p256().unwrap();
    for fault in [
        Fault::TamperSignature,
        Fault::ServerError,
        Fault::Garbage,
        Fault::Hang,
    ] {
        setup.server.set_fault(fault);
        let error = binder
            .send_binding_otp(resident.uin, &["email".to_owned()], &[])
            .await
            .unwrap_err();
        assert_eq!(error.code, "send_otp_failed", "{fault:?}");
        let error = binder
            .do_key_binding(bind_request(resident.uin, vec![pin(resident.pin)], &wallet))
            .await
            .unwrap_err();
        assert_eq!(error.code, "key_binding_failed", "{fault:?}");
    }
    setup.server.set_fault(Fault::DenyBinding);
    let error = binder
        .do_key_binding(bind_request(resident.uin, vec![pin(resident.pin)], &wallet))
        .await
        .unwrap_err();
    assert_eq!(error.code, "binding_auth_failed");
}

#[tokio::test]
async fn binder_settings_are_validated_and_formats_follow_the_plugin() {
    let setup = setup().await;
    let mut binding = setup.binding();
    binding.ca_certificates.clear();
    assert!(IdaKeyBinder::new(setup.config(), binding, clock()).is_err());
    let mut binding = setup.binding();
    binding.ca_certificates = vec![vec![]];
    assert!(IdaKeyBinder::new(setup.config(), binding, clock()).is_err());
    let pem = |certificate: &X509| String::from_utf8(certificate.to_pem().unwrap()).unwrap();
    let from_pem = IdaBindingConfig::from_pem(
        setup.server.base_url(),
        &[pem(&setup.binding_ca), pem(&self_signed("old CA").1)],
    )
    .unwrap();
    assert_eq!(from_pem.ca_certificates.len(), 2);
    assert!(IdaBindingConfig::from_pem(setup.server.base_url(), &["junk".to_owned()]).is_err());
    let mut binding = setup.binding();
    binding.binding_url = "not a url".to_owned();
    let error = IdaKeyBinder::new(setup.config(), binding, clock()).unwrap_err();
    assert!(error.0.contains("binding_url"), "{error}");
    let mut config = setup.config();
    config.misp_license_key = " ".to_owned();
    assert!(IdaKeyBinder::new(config, setup.binding(), clock()).is_err());

    let binder = setup.binder();
    assert_eq!(binder.supported_challenge_formats("OTP"), ["alpha-numeric"]);
    assert_eq!(binder.supported_challenge_formats("PIN"), ["number"]);
    assert_eq!(binder.supported_challenge_formats("WLA"), ["jwt"]);
    assert!(binder.supported_challenge_formats("KBI").is_empty());
    // A CA chain is published whole, CA first.
    let mut binding = setup.binding();
    let root = self_signed("root");
    binding.ca_certificates = vec![vec![setup.binding_ca.clone(), root.1.clone()]];
    let binder = IdaKeyBinder::new(setup.config(), binding, clock()).unwrap();
    let published = binder.binding_ca_certificates().await.unwrap();
    let chain = X509::stack_from_pem(published[0].certificate_pem.as_bytes()).unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[1].to_der().unwrap(), root.1.to_der().unwrap());
}
