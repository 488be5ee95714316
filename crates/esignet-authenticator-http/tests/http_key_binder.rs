//! `HttpKeyBinder` against the real mock identity service (spawned in-process on a free loopback
//! port): binding OTP, key binding, the binding CA certificates, and refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use esignet_authenticator_http::{HttpAuthenticator, HttpAuthenticatorConfig, HttpKeyBinder};
use esignet_jose::PrivateKey;
use esignet_mock_identity::{CONTEXT_PATH, MockIdentityConfig};
use esignet_spi::{AuthChallenge, Clock, KeyBinder, KeyBindingRequest, SystemClock};
use openssl::x509::X509;

const SID: &str = "8267411571";

struct Service {
    base_url: String,
    _data: tempfile::TempDir,
}

async fn start_service() -> Service {
    let data = tempfile::tempdir().unwrap();
    let config = MockIdentityConfig::new(data.path(), "https://esignet.example");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    tokio::spawn(async move {
        esignet_mock_identity::serve_listener(listener, &config, clock, std::future::pending())
            .await
            .unwrap();
    });
    Service {
        base_url: format!("http://{address}{CONTEXT_PATH}"),
        _data: data,
    }
}

fn binder(service: &Service) -> HttpKeyBinder {
    HttpKeyBinder::new(Arc::new(
        HttpAuthenticator::new(HttpAuthenticatorConfig::new(&service.base_url)).unwrap(),
    ))
}

fn binding(key: &PrivateKey, factor: &str, challenge: &str, format: &str) -> KeyBindingRequest {
    KeyBindingRequest {
        individual_id: SID.to_owned(),
        challenges: vec![AuthChallenge {
            auth_factor_type: factor.to_owned(),
            challenge: challenge.to_owned(),
            format: format.to_owned(),
        }],
        public_key: key.public_jwk().to_json(),
        auth_factor_type: "WLA".to_owned(),
        request_headers: vec![("x-wallet".to_owned(), "not forwarded".to_owned())],
    }
}

#[tokio::test]
async fn an_otp_binding_over_http_is_certified_by_the_services_binding_ca() {
    let service = start_service().await;
    let binder = binder(&service);
    let sent = binder
        .send_binding_otp(SID, &["email".to_owned()], &[])
        .await
        .unwrap();
    assert!(sent.masked_email.is_some());
    let key = PrivateKey::generate_ec_p256().unwrap();
    let result = binder
        .do_key_binding(binding(&key, "OTP", "111111", "alpha-numeric"))
        .await
        .unwrap();
    assert!(!result.partner_specific_user_token.is_empty());
    let certificate = X509::from_pem(result.certificate.as_bytes()).unwrap();
    assert!(
        certificate
            .public_key()
            .unwrap()
            .public_eq(key.public_jwk().openssl_pkey())
    );
    let authorities = binder.binding_ca_certificates().await.unwrap();
    assert!(!authorities.is_empty());
    let issued_by_ca = authorities.iter().any(|authority| {
        let authority = X509::from_pem(authority.certificate_pem.as_bytes()).unwrap();
        certificate
            .verify(&authority.public_key().unwrap())
            .unwrap()
    });
    assert!(issued_by_ca);
    assert_eq!(binder.supported_challenge_formats("WLA"), ["jwt"]);
    assert!(binder.supported_challenge_formats("BIO").is_empty());

    // The OTP was spent; a wrong PIN and an unknown resident are refused with the mock's codes.
    let again = binder
        .do_key_binding(binding(&key, "OTP", "111111", "alpha-numeric"))
        .await
        .unwrap_err();
    assert_eq!(again.code, "invalid_transaction");
    let wrong = binder
        .do_key_binding(binding(&key, "PIN", "000000", "number"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code, "auth_failed");
    let mut unknown = binding(&key, "PIN", "482916", "number");
    unknown.individual_id = "1111111111".to_owned();
    assert_eq!(
        binder.do_key_binding(unknown).await.unwrap_err().code,
        "invalid_individual_id"
    );
}

#[tokio::test]
async fn an_unreachable_service_is_reported_as_unavailable() {
    let binder = HttpKeyBinder::new(Arc::new(
        HttpAuthenticator::new(HttpAuthenticatorConfig::new(
            "http://127.0.0.1:9/v1/mock-identity-system",
        ))
        .unwrap(),
    ));
    assert_eq!(
        binder.binding_ca_certificates().await.unwrap_err().code,
        "identity_system_unavailable"
    );
}
