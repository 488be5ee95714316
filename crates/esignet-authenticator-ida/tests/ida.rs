//! The IDA authenticator against the IDA-compatible test server over loopback HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use esignet_authenticator_ida::test_server::{
    Fault, IDENTITIES, TEST_OTP, TestIda, TestIdaSettings,
};
use esignet_authenticator_ida::testing::{certificate_pem, private_key_pem, self_signed};
use esignet_authenticator_ida::{IdaAuthenticator, IdaConfig, IdaCredentials};
use esignet_jose::PrivateKey;
use esignet_spi::{
    AuthChallenge, Authenticator, KycAuthRequest, KycExchangeRequest, SendOtpRequest,
    UserinfoResponseType,
};
use openssl::x509::X509;

const LICENSE: &str = "test-misp-license-key";
const PARTNER: &str = "esignet-partner";
const API_KEY: &str = "esignet-client";

struct Setup {
    server: TestIda,
    partner: (PrivateKey, X509),
    ida_partner: X509,
    ida_signing: X509,
}

async fn setup() -> Setup {
    let partner = self_signed("eSignet partner");
    let ida_partner = self_signed("IDA-PARTNER");
    let ida_signing = self_signed("IDA SIGN");
    let (ida_partner_cert, ida_signing_cert) = (ida_partner.1.clone(), ida_signing.1.clone());
    let server = TestIda::start(TestIdaSettings {
        license_key: LICENSE.to_owned(),
        partner_id: PARTNER.to_owned(),
        api_keys: vec![API_KEY.to_owned(), "rp-client".to_owned()],
        partner_certificate: partner.1.clone(),
        ida_partner,
        ida_signing,
        binding_ca: self_signed("IDA KEY BINDING CA"),
    })
    .await;
    Setup {
        server,
        partner,
        ida_partner: ida_partner_cert,
        ida_signing: ida_signing_cert,
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

    fn authenticator(&self) -> IdaAuthenticator {
        IdaAuthenticator::new(self.config(), clock()).unwrap()
    }
}

fn clock() -> std::sync::Arc<dyn esignet_spi::Clock> {
    std::sync::Arc::new(esignet_spi::SystemClock)
}

fn challenge(factor: &str, value: &str) -> AuthChallenge {
    AuthChallenge {
        auth_factor_type: factor.to_owned(),
        challenge: value.to_owned(),
        format: if factor == "PIN" {
            "number"
        } else {
            "alpha-numeric"
        }
        .to_owned(),
    }
}

fn auth(transaction: &str, uin: &str, challenges: Vec<AuthChallenge>) -> KycAuthRequest {
    KycAuthRequest {
        transaction_id: transaction.to_owned(),
        individual_id: uin.to_owned(),
        challenges,
    }
}

fn otp_request(transaction: &str, uin: &str) -> SendOtpRequest {
    SendOtpRequest {
        transaction_id: transaction.to_owned(),
        individual_id: uin.to_owned(),
        otp_channels: vec!["email".to_owned()],
    }
}

fn exchange(transaction: &str, uin: &str, kyc_token: &str) -> KycExchangeRequest {
    KycExchangeRequest {
        transaction_id: transaction.to_owned(),
        kyc_token: kyc_token.to_owned(),
        individual_id: uin.to_owned(),
        accepted_claims: vec!["name".to_owned(), "email".to_owned()],
        claims_locales: vec!["en".to_owned()],
        userinfo_response_type: UserinfoResponseType::Jws,
        accepted_claim_details: Default::default(),
    }
}

fn claims_of(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&esignet_jose::b64url_decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn otp_login_sends_authenticates_and_exchanges_signed_kyc() {
    let setup = setup().await;
    let ida = setup.authenticator();
    let uin = IDENTITIES[0].uin;
    let sent = ida
        .send_otp("rp", "client", otp_request("txn-1", uin))
        .await
        .unwrap();
    assert_eq!(sent.transaction_id, "txn-1");
    assert_eq!(sent.masked_email.as_deref(), Some("s*******h@example.org"));
    assert!(sent.masked_mobile.is_none());
    let result = ida
        .kyc_auth(
            "rp",
            "client",
            false,
            auth("txn-1", uin, vec![challenge("OTP", TEST_OTP)]),
        )
        .await
        .unwrap();
    assert!(!result.partner_specific_user_token.is_empty());
    let kyc = ida
        .kyc_exchange("rp", "client", exchange("txn-1", uin, &result.kyc_token))
        .await
        .unwrap();
    let claims = claims_of(&kyc.encrypted_kyc);
    assert_eq!(claims["sub"], result.partner_specific_user_token.as_str());
    assert_eq!(claims["name"], "Siddharth K Mansour");
    assert_eq!(claims["email"], "siddharth@example.org");
    assert!(claims.get("birthdate").is_none(), "only consented claims");
    // The KYC verifies with the published certificate, under its key id.
    let certificates = ida.kyc_signing_certificates().await.unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &esignet_jose::b64url_decode(kyc.encrypted_kyc.split('.').next().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], certificates[0].key_id.as_str());
    // The token is single use, and the OTP too.
    let again = ida
        .kyc_exchange("rp", "client", exchange("txn-1", uin, &result.kyc_token))
        .await
        .unwrap_err();
    assert_eq!(again.code, "IDA-KYE-003");
    let replay = ida
        .kyc_auth(
            "rp",
            "client",
            false,
            auth("txn-1", uin, vec![challenge("OTP", TEST_OTP)]),
        )
        .await
        .unwrap_err();
    assert_eq!(replay.code, "IDA-OTA-004");
    assert!(ida.is_supported_otp_channel("EMAIL"));
    assert!(!ida.is_supported_otp_channel("fax"));
}

#[tokio::test]
async fn pin_login_and_ida_codes_pass_through_verbatim() {
    let setup = setup().await;
    let ida = setup.authenticator();
    let resident = &IDENTITIES[1];
    let result = ida
        .kyc_auth(
            "rp",
            "client",
            true,
            auth("txn-2", resident.uin, vec![challenge("PIN", resident.pin)]),
        )
        .await
        .unwrap();
    // Exchange under another transaction or individual is refused by IDA.
    let other_txn = ida
        .kyc_exchange(
            "rp",
            "client",
            exchange("txn-x", resident.uin, &result.kyc_token),
        )
        .await
        .unwrap_err();
    assert_eq!(other_txn.code, "IDA-KYE-005");
    let unknown = ida
        .kyc_exchange("rp", "client", exchange("txn-2", resident.uin, "nope"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code, "IDA-KYE-001");

    let cases = [
        (
            auth("t", resident.uin, vec![challenge("PIN", "000000")]),
            "IDA-SPA-001",
        ),
        (
            auth("t", resident.uin, vec![challenge("OTP", TEST_OTP)]),
            "IDA-OTA-004",
        ),
        (
            auth("t", "0000000000", vec![challenge("PIN", "1")]),
            "IDA-MLC-002",
        ),
        (
            auth("t", resident.uin, vec![challenge("PWD", "secret")]),
            "IDA-MLC-011",
        ),
    ];
    for (request, code) in cases {
        let error = ida
            .kyc_auth("rp", "client", false, request)
            .await
            .unwrap_err();
        assert_eq!(error.code, code);
    }
    // Wrong OTP after a real send.
    ida.send_otp("rp", "client", otp_request("t-otp", resident.uin))
        .await
        .unwrap();
    let wrong = ida
        .kyc_auth(
            "rp",
            "client",
            false,
            auth("t-otp", resident.uin, vec![challenge("OTP", "999999")]),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.code, "IDA-OTA-004");
    let unknown = ida
        .send_otp("rp", "client", otp_request("t", "0000000000"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code, "IDA-MLC-002");
    // An unsupported factor fails before any call.
    let calls = setup.server.calls();
    let kbi = ida
        .kyc_auth(
            "rp",
            "client",
            false,
            auth("t", resident.uin, vec![challenge("KBI", "x")]),
        )
        .await
        .unwrap_err();
    assert_eq!(kbi.code, "auth_failed");
    assert_eq!(setup.server.calls(), calls);
}

#[tokio::test]
async fn partner_credentials_are_checked_like_ida() {
    let setup = setup().await;
    let pin = || {
        auth(
            "t",
            IDENTITIES[0].uin,
            vec![challenge("PIN", IDENTITIES[0].pin)],
        )
    };

    let mut config = setup.config();
    config.misp_license_key = "other-license".to_owned();
    let error = IdaAuthenticator::new(config, clock())
        .unwrap()
        .kyc_auth("rp", "client", false, pin())
        .await
        .unwrap_err();
    assert_eq!(error.code, "IDA-MPA-007");

    let mut config = setup.config();
    config.partner_id = Some("unknown-partner".to_owned());
    let error = IdaAuthenticator::new(config, clock())
        .unwrap()
        .kyc_auth("rp", "client", false, pin())
        .await
        .unwrap_err();
    assert_eq!(error.code, "IDA-MPA-009");

    // Without overrides the relying party id and client id are the path credentials.
    let mut config = setup.config();
    config.partner_id = None;
    config.api_key = None;
    let ida = IdaAuthenticator::new(config, clock()).unwrap();
    ida.kyc_auth(PARTNER, "rp-client", false, pin())
        .await
        .unwrap();
    let error = ida
        .kyc_auth(PARTNER, "unregistered-client", false, pin())
        .await
        .unwrap_err();
    assert_eq!(error.code, "IDA-MPA-028");

    // A partner key and certificate IDA does not know.
    let stranger = self_signed("stranger");
    let mut config = setup.config();
    config.credentials.partner_key = stranger.0;
    config.credentials.partner_certificate = stranger.1;
    let error = IdaAuthenticator::new(config, clock())
        .unwrap()
        .kyc_auth("rp", "client", false, pin())
        .await
        .unwrap_err();
    assert_eq!(error.code, "IDA-MPA-021");

    // Encrypting to another certificate than IDA's: the thumbprint names no IDA key.
    let mut config = setup.config();
    config.credentials.ida_partner_certificate = self_signed("not IDA").1;
    let error = IdaAuthenticator::new(config, clock())
        .unwrap()
        .kyc_auth("rp", "client", false, pin())
        .await
        .unwrap_err();
    assert_eq!(error.code, "IDA-MPA-003");
}

#[tokio::test]
async fn unsigned_tampered_failing_or_hanging_ida_gives_clean_codes() {
    let setup = setup().await;
    let mut config = setup.config();
    // Short, so that the hanging server ends the call quickly; no timing is asserted.
    config.timeout = Duration::from_millis(300);
    let ida = IdaAuthenticator::new(config, clock()).unwrap();
    let uin = IDENTITIES[0].uin;
    for fault in [
        Fault::TamperSignature,
        Fault::ServerError,
        Fault::Garbage,
        Fault::Hang,
    ] {
        setup.server.set_fault(fault);
        let error = ida
            .send_otp("rp", "client", otp_request("t", uin))
            .await
            .unwrap_err();
        assert_eq!(error.code, "send_otp_failed", "{fault:?}");
        let error = ida
            .kyc_auth(
                "rp",
                "client",
                false,
                auth("t", uin, vec![challenge("PIN", IDENTITIES[0].pin)]),
            )
            .await
            .unwrap_err();
        assert_eq!(error.code, "auth_failed", "{fault:?}");
        let error = ida
            .kyc_exchange("rp", "client", exchange("t", uin, "token"))
            .await
            .unwrap_err();
        assert_eq!(error.code, "data_exchange_failed", "{fault:?}");
        let error = ida
            .verified_kyc_exchange("rp", "client", exchange("t", uin, "token"))
            .await
            .unwrap_err();
        assert_eq!(error.code, "data_exchange_failed", "{fault:?}");
        let error = ida
            .kyc_auth(
                "rp",
                "client",
                true,
                auth("t", uin, vec![challenge("PIN", IDENTITIES[0].pin)]),
            )
            .await
            .unwrap_err();
        assert_eq!(error.code, "auth_failed", "{fault:?}");
    }
    // A KYC JWT not signed by the configured IDA signing certificate is refused.
    setup.server.set_fault(Fault::None);
    let mut config = setup.config();
    let other_signing = self_signed("other IDA");
    config.credentials.ida_signing_certificate = other_signing.1;
    let ida = IdaAuthenticator::new(config, clock()).unwrap();
    let error = ida
        .kyc_auth(
            "rp",
            "client",
            false,
            auth("t", uin, vec![challenge("PIN", IDENTITIES[0].pin)]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.code, "auth_failed",
        "answers by another key are refused"
    );
    // Nothing is listening: a refused connection.
    let mut config = setup.config();
    config.auth_url = "http://127.0.0.1:9/idauthentication/v1".to_owned();
    let error = IdaAuthenticator::new(config, clock())
        .unwrap()
        .kyc_exchange("rp", "client", exchange("t", uin, "token"))
        .await
        .unwrap_err();
    assert_eq!(error.code, "data_exchange_failed");
}

#[test]
fn credentials_and_settings_are_validated() {
    let (key, certificate) = self_signed("partner");
    let (other_key, _) = self_signed("other");
    let (_, ida) = self_signed("ida");
    let pem = |c: &X509| certificate_pem(c).into_bytes();
    IdaCredentials::from_pem(
        private_key_pem(&key).as_bytes(),
        &pem(&certificate),
        &pem(&ida),
        &pem(&ida),
    )
    .unwrap();
    let mismatch = IdaCredentials::from_pem(
        private_key_pem(&other_key).as_bytes(),
        &pem(&certificate),
        &pem(&ida),
        &pem(&ida),
    )
    .unwrap_err();
    assert!(mismatch.0.contains("does not match"), "{mismatch}");
    let garbage =
        IdaCredentials::from_pem(b"nope", &pem(&certificate), &pem(&ida), &pem(&ida)).unwrap_err();
    assert!(garbage.0.contains("private key"));
    let garbage = IdaCredentials::from_pem(
        private_key_pem(&key).as_bytes(),
        &pem(&certificate),
        b"nope",
        &pem(&ida),
    )
    .unwrap_err();
    assert!(garbage.0.contains("IDA partner certificate"));
}

#[tokio::test]
async fn bad_urls_and_empty_license_key_are_refused() {
    let setup = setup().await;
    for (url, license) in [
        ("ftp://ida", LICENSE),
        ("not a url", LICENSE),
        ("http://ida", " "),
    ] {
        let mut config = setup.config();
        config.auth_url = url.to_owned();
        config.misp_license_key = license.to_owned();
        assert!(
            IdaAuthenticator::new(config, clock()).is_err(),
            "{url} {license}"
        );
    }
    // Debug output never shows the license key or the API key.
    let shown = format!("{:?}", setup.authenticator());
    assert!(!shown.contains(LICENSE) && !shown.contains(API_KEY));
}

/// A log sink the test reads back.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_show_the_license_key_api_key_or_individual_id() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let setup = setup().await;
    let uin = IDENTITIES[0].uin;
    // A refused connection (reqwest errors name the URL), a refusal by IDA and a tampered answer.
    let mut config = setup.config();
    config.auth_url = "http://127.0.0.1:9/idauthentication/v1".to_owned();
    let down = IdaAuthenticator::new(config, clock()).unwrap();
    down.kyc_auth(
        "rp",
        "client",
        false,
        auth("t", uin, vec![challenge("PIN", "1")]),
    )
    .await
    .unwrap_err();
    let ida = setup.authenticator();
    ida.kyc_auth(
        "rp",
        "client",
        false,
        auth("t", uin, vec![challenge("PIN", "1")]),
    )
    .await
    .unwrap_err();
    setup.server.set_fault(Fault::TamperSignature);
    ida.send_otp("rp", "client", otp_request("t", uin))
        .await
        .unwrap_err();
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("IDA-SPA-001"),
        "the refusal is logged: {logs}"
    );
    for secret in [LICENSE, API_KEY, uin] {
        assert!(!logs.contains(secret), "{secret} leaked into: {logs}");
    }
}

#[tokio::test]
async fn v2_kyc_auth_reads_claims_metadata_and_the_verified_exchange_releases_verified_claims() {
    let setup = setup().await;
    let ida = setup.authenticator();
    let resident = &IDENTITIES[0];
    let pin = || vec![challenge("PIN", resident.pin)];
    // v1: no metadata asked, none returned.
    let plain = ida
        .kyc_auth("rp", "client", false, auth("t1", resident.uin, pin()))
        .await
        .unwrap();
    assert!(plain.claims_metadata.is_empty());
    // v2: every claim held, verified ones with their trust framework.
    let result = ida
        .kyc_auth("rp", "client", true, auth("t2", resident.uin, pin()))
        .await
        .unwrap();
    assert_eq!(
        result.claims_metadata["name"],
        serde_json::json!([{"trust_framework": "nira"}])
    );
    assert_eq!(result.claims_metadata["email"], serde_json::json!([]));
    assert_eq!(result.claims_metadata.len(), resident.claims.len());

    let details = |value: serde_json::Value| -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_value(value).unwrap()
    };
    let mut request = exchange("t2", resident.uin, &result.kyc_token);
    request.accepted_claims = vec!["name".into(), "email".into(), "gender".into()];
    request.accepted_claim_details = details(serde_json::json!({
        "verified_claims": [{
            "verification": {"trust_framework": {"value": "nira"}},
            "claims": {"name": null, "email": null},
        }],
        "gender": null,
    }));
    let jwt = ida
        .verified_kyc_exchange("rp", "client", request.clone())
        .await
        .unwrap()
        .encrypted_kyc;
    let claims = claims_of(&jwt);
    assert_eq!(
        claims["verified_claims"],
        serde_json::json!([{
            "verification": {"trust_framework": "nira"},
            "claims": {"name": "Siddharth K Mansour"},
        }]),
        "email is held but not verified: not released as verified"
    );
    assert_eq!(claims["gender"], "Male");
    assert!(claims.get("name").is_none() && claims.get("email").is_none());
    // The KYC token checks apply to v2 as well.
    let spent = ida
        .verified_kyc_exchange("rp", "client", request)
        .await
        .unwrap_err();
    assert_eq!(spent.code, "IDA-KYE-003");

    // Another trust framework than the resident's: nothing verified released.
    let result = ida
        .kyc_auth("rp", "client", true, auth("t3", resident.uin, pin()))
        .await
        .unwrap();
    let mut request = exchange("t3", resident.uin, &result.kyc_token);
    request.accepted_claim_details = details(serde_json::json!({
        "verified_claims": [{
            "verification": {"trust_framework": {"values": ["eidas", "uidai"]}},
            "claims": {"name": null},
        }],
    }));
    let claims = claims_of(
        &ida.verified_kyc_exchange("rp", "client", request)
            .await
            .unwrap()
            .encrypted_kyc,
    );
    assert!(claims.get("verified_claims").is_none(), "{claims}");

    // A claim asked both verified and unverified: IDA refuses.
    let result = ida
        .kyc_auth("rp", "client", true, auth("t4", resident.uin, pin()))
        .await
        .unwrap();
    let mut request = exchange("t4", resident.uin, &result.kyc_token);
    request.accepted_claim_details = details(serde_json::json!({
        "verified_claims": [{"verification": {}, "claims": {"name": null}}],
        "name": null,
    }));
    let error = ida
        .verified_kyc_exchange("rp", "client", request)
        .await
        .unwrap_err();
    assert_eq!(error.code, "IDA-MLC-009");

    // A resident without verified claims: metadata lists every claim as unverified.
    let other = &IDENTITIES[1];
    let result = ida
        .kyc_auth(
            "rp",
            "client",
            true,
            auth("t5", other.uin, vec![challenge("PIN", other.pin)]),
        )
        .await
        .unwrap();
    assert!(
        result
            .claims_metadata
            .values()
            .all(|details| details == &serde_json::json!([]))
    );
}
