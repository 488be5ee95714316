//! `HttpAuthenticator` against the real mock identity service (spawned in-process on a free
//! loopback port), plus a closed port, a slow service and a misbehaving one.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use esignet_authenticator_http::{
    HttpAuthenticator, HttpAuthenticatorConfig, HttpAuthenticatorError,
};
use esignet_mock_identity::{CONTEXT_PATH, MockIdentityConfig};
use esignet_spi::{
    AuthChallenge, Authenticator, Clock, KycAuthRequest, KycExchangeRequest, SendOtpRequest,
    SystemClock, UserinfoResponseType,
};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const ISSUER: &str = "https://esignet.example/v1/esignet";
const RP: &str = "health portal/rp";
const CLIENT: &str = "client-1";
const SID: &str = "8267411571";

/// A running mock identity service; its data directory lives as long as this value.
struct Service {
    base_url: String,
    _data: tempfile::TempDir,
}

async fn start_service(delay: Duration) -> Service {
    let data = tempfile::tempdir().unwrap();
    let mut config = MockIdentityConfig::new(data.path(), ISSUER);
    config.response_delay = delay;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Bound before spawning: connections made while the service starts wait in the backlog.
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

fn authenticator(base_url: &str, timeout: Duration) -> HttpAuthenticator {
    HttpAuthenticator::new(HttpAuthenticatorConfig {
        timeout,
        ..HttpAuthenticatorConfig::new(base_url)
    })
    .unwrap()
}

fn challenge(factor: &str, value: &str, format: &str) -> AuthChallenge {
    AuthChallenge {
        auth_factor_type: factor.to_owned(),
        challenge: value.to_owned(),
        format: format.to_owned(),
    }
}

fn auth_request(transaction: &str, challenges: Vec<AuthChallenge>) -> KycAuthRequest {
    KycAuthRequest {
        transaction_id: transaction.to_owned(),
        individual_id: SID.to_owned(),
        challenges,
    }
}

fn exchange_request(transaction: &str, kyc_token: &str, claims: &[&str]) -> KycExchangeRequest {
    KycExchangeRequest {
        transaction_id: transaction.to_owned(),
        kyc_token: kyc_token.to_owned(),
        individual_id: SID.to_owned(),
        accepted_claims: claims.iter().map(|claim| (*claim).to_owned()).collect(),
        claims_locales: vec!["en".to_owned()],
        userinfo_response_type: UserinfoResponseType::Jws,
        accepted_claim_details: Map::new(),
    }
}

/// Verifies a KYC JWS with `jsonwebtoken` against the certificates the authenticator reports.
async fn verify(authenticator: &HttpAuthenticator, jws: &str) -> Value {
    let certificates = authenticator.kyc_signing_certificates().await.unwrap();
    let kid = jsonwebtoken::decode_header(jws).unwrap().kid.unwrap();
    let certificate = certificates
        .iter()
        .find(|certificate| certificate.key_id == kid)
        .expect("the signing key is listed");
    let key =
        jsonwebtoken::DecodingKey::from_rsa_pem(certificate.certificate_pem.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[CLIENT]);
    validation.set_issuer(&[ISSUER]);
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["sub"]);
    jsonwebtoken::decode::<Value>(jws, &key, &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn send_otp_then_kyc_auth_then_kyc_exchange() {
    let service = start_service(Duration::ZERO).await;
    let authenticator = authenticator(&service.base_url, Duration::from_secs(10));
    assert!(authenticator.is_supported_otp_channel("EMAIL"));
    assert!(!authenticator.is_supported_otp_channel("fax"));

    let sent = authenticator
        .send_otp(
            RP,
            CLIENT,
            SendOtpRequest {
                transaction_id: "AUTHTXN001".to_owned(),
                individual_id: SID.to_owned(),
                otp_channels: vec!["email".to_owned(), "phone".to_owned()],
            },
        )
        .await
        .unwrap();
    assert_eq!(sent.transaction_id, "AUTHTXN001");
    assert_eq!(
        sent.masked_email.as_deref(),
        Some("XXdXXaXXhXXaXXoXX@example.com")
    );
    assert_eq!(sent.masked_mobile.as_deref(), Some("XXXXXXX345678"));

    let authenticated = authenticator
        .kyc_auth(
            RP,
            CLIENT,
            true,
            auth_request(
                "AUTHTXN001",
                vec![challenge("OTP", "111111", "alpha-numeric")],
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        authenticated.claims_metadata["name"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let kyc = authenticator
        .kyc_exchange(
            RP,
            CLIENT,
            exchange_request(
                "AUTHTXN001",
                &authenticated.kyc_token,
                &["name", "email", "gender"],
            ),
        )
        .await
        .unwrap();
    let claims = verify(&authenticator, &kyc.encrypted_kyc).await;
    assert_eq!(claims["sub"], authenticated.partner_specific_user_token);
    // "en" went out as "eng": one locale matched, so plain claim names.
    assert_eq!(claims["name"], "Siddharth Kumar Mansour");
    assert_eq!(claims["gender"], "Male");
    assert_eq!(claims["email"], "siddharth.mansour@example.com");

    // The identity system's codes pass through verbatim.
    let replay = authenticator
        .kyc_exchange(
            RP,
            CLIENT,
            exchange_request("AUTHTXN001", &authenticated.kyc_token, &["name"]),
        )
        .await
        .unwrap_err();
    assert_eq!(replay.code, "invalid_kyc_token");
}

#[tokio::test]
async fn verified_and_encrypted_exchanges() {
    let service = start_service(Duration::ZERO).await;
    let authenticator = authenticator(&service.base_url, Duration::from_secs(10));
    let login = |transaction: &'static str| {
        authenticator.kyc_auth(
            RP,
            CLIENT,
            false,
            auth_request(transaction, vec![challenge("PIN", "482916", "number")]),
        )
    };

    let authenticated = login("AUTHTXN002").await.unwrap();
    assert!(authenticated.claims_metadata.is_empty());
    let mut request = exchange_request(
        "AUTHTXN002",
        &authenticated.kyc_token,
        &["name", "birthdate"],
    );
    request.accepted_claim_details = json!({
        "name": null,
        "birthdate": {"essential": true},
        "verified_claims": {
            "verification": {"trust_framework": {"values": ["eidas"]}},
            "claims": {"name": null, "birthdate": null}
        }
    })
    .as_object()
    .unwrap()
    .clone();
    let kyc = authenticator
        .verified_kyc_exchange(RP, CLIENT, request)
        .await
        .unwrap();
    let claims = verify(&authenticator, &kyc.encrypted_kyc).await;
    assert_eq!(
        claims["verified_claims"][0]["verification"]["trust_framework"],
        "eidas"
    );
    assert_eq!(
        claims["verified_claims"][0]["claims"]["birthdate"],
        "1987-11-25"
    );

    // JWE: the identity system encrypts to the key registered for (rp, client).
    let mut private = josekit::jwk::Jwk::generate_rsa_key(2048).unwrap();
    let public = private.to_public_key().unwrap();
    let registered: Value = reqwest::Client::new()
        .post(format!("{}/partner", service.base_url))
        .json(&json!({
            "requestTime": request_time(),
            "request": {"partnerId": RP, "clientId": CLIENT, "key": public.to_string(), "status": "ACTIVE"}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(registered["errors"], json!([]));
    // By default the identity system only signs: eSignet-rs encrypts for JWE clients itself.
    let authenticated = login("AUTHTXN004").await.unwrap();
    let mut request = exchange_request("AUTHTXN004", &authenticated.kyc_token, &["name"]);
    request.userinfo_response_type = UserinfoResponseType::Jwe;
    let kyc = authenticator
        .kyc_exchange(RP, CLIENT, request)
        .await
        .unwrap();
    assert_eq!(kyc.encrypted_kyc.split('.').count(), 3, "a JWS by default");
    // Opted in, the identity system encrypts.
    let encrypting = HttpAuthenticator::new(HttpAuthenticatorConfig {
        identity_system_encrypts: true,
        ..HttpAuthenticatorConfig::new(service.base_url.clone())
    })
    .unwrap();
    let authenticated = login("AUTHTXN003").await.unwrap();
    let mut request = exchange_request("AUTHTXN003", &authenticated.kyc_token, &["name"]);
    request.userinfo_response_type = UserinfoResponseType::Jwe;
    let kyc = encrypting.kyc_exchange(RP, CLIENT, request).await.unwrap();
    assert_eq!(kyc.encrypted_kyc.split('.').count(), 5);
    private.set_algorithm("RSA-OAEP-256");
    let decrypter = josekit::jwe::RSA_OAEP_256
        .decrypter_from_jwk(&private)
        .unwrap();
    let (payload, _) = josekit::jwe::deserialize_compact(&kyc.encrypted_kyc, &decrypter).unwrap();
    let claims = verify(&authenticator, std::str::from_utf8(&payload).unwrap()).await;
    assert_eq!(claims["name"], "Siddharth Kumar Mansour");
}

fn request_time() -> String {
    SystemClock
        .now()
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap()
}

#[tokio::test]
async fn signing_certificates_come_from_keys_json() {
    let service = start_service(Duration::ZERO).await;
    let authenticator = authenticator(&service.base_url, Duration::from_secs(10));
    let certificates = authenticator.kyc_signing_certificates().await.unwrap();
    assert_eq!(certificates.len(), 1);
    let certificate = &certificates[0];
    assert!(
        certificate
            .certificate_pem
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(certificate.issued_at < certificate.expires_at);
    let keys: Value = reqwest::get(format!("{}/keys.json", service.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        keys["response"]["allCertificates"][0]["keyId"],
        certificate.key_id
    );
    // Served from the cache the second time.
    assert_eq!(
        authenticator.kyc_signing_certificates().await.unwrap(),
        certificates
    );
}

#[tokio::test]
async fn plugin_error_codes_pass_through() {
    let service = start_service(Duration::ZERO).await;
    let authenticator = authenticator(&service.base_url, Duration::from_secs(10));
    authenticator
        .send_otp(
            RP,
            CLIENT,
            SendOtpRequest {
                transaction_id: "AUTHTXN004".to_owned(),
                individual_id: SID.to_owned(),
                otp_channels: vec!["phone".to_owned()],
            },
        )
        .await
        .unwrap();
    let cases = [
        (
            vec![challenge("OTP", "999999", "alpha-numeric")],
            "auth_failed",
        ),
        (
            vec![challenge("PWD", "wrong-password", "alpha-numeric")],
            "auth_failed",
        ),
        // A WLA token must name the individual (eSignet verifies its signature beforehand).
        (vec![challenge("WLA", "e30.e30.sig", "jwt")], "auth_failed"),
    ];
    for (challenges, code) in cases {
        let error = authenticator
            .kyc_auth(RP, CLIENT, false, auth_request("AUTHTXN004", challenges))
            .await
            .unwrap_err();
        assert_eq!(error.code, code);
    }
    let mut unknown = auth_request("AUTHTXN004", vec![challenge("PIN", "1", "number")]);
    unknown.individual_id = "999999".to_owned();
    let error = authenticator
        .kyc_auth(RP, CLIENT, false, unknown)
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_individual_id");
}

#[tokio::test]
async fn malformed_challenges_are_refused_before_any_call() {
    // Nothing listens at this address: a call would fail with identity_system_unavailable.
    let authenticator = authenticator(&closed_port_url().await, Duration::from_secs(1));
    let cases = [
        (
            vec![challenge("IDT", "e30", "base64url-encoded-json")],
            "invalid_auth_factor_type",
        ),
        (
            vec![challenge("FACE", "x", "jwt")],
            "invalid_auth_factor_type",
        ),
        (
            vec![challenge("PIN", "1234", "alpha-numeric")],
            "invalid_challenge_format",
        ),
        (
            vec![
                challenge("PIN", "1234", "number"),
                challenge("PIN", "5678", "number"),
            ],
            "invalid_auth_challenge",
        ),
    ];
    for (challenges, code) in cases {
        let error = authenticator
            .kyc_auth(RP, CLIENT, false, auth_request("AUTHTXN005", challenges))
            .await
            .unwrap_err();
        assert_eq!(error.code, code);
    }
}

async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}{CONTEXT_PATH}")
}

#[tokio::test]
async fn a_service_that_is_down_is_unavailable_quickly() {
    let authenticator = authenticator(&closed_port_url().await, Duration::from_secs(10));
    let started = Instant::now();
    let error = authenticator
        .kyc_auth(
            RP,
            CLIENT,
            false,
            auth_request("AUTHTXN006", vec![challenge("PIN", "482916", "number")]),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, "identity_system_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // keys.json is retried (twice, with short pauses) and then gives up the same way.
    let error = authenticator.kyc_signing_certificates().await.unwrap_err();
    assert_eq!(error.code, "identity_system_unavailable");
}

#[tokio::test]
async fn a_slow_service_times_out_within_the_timeout() {
    let service = start_service(Duration::from_secs(3)).await;
    let authenticator = authenticator(&service.base_url, Duration::from_secs(1));
    let started = Instant::now();
    let error = authenticator
        .send_otp(
            RP,
            CLIENT,
            SendOtpRequest {
                transaction_id: "AUTHTXN007".to_owned(),
                individual_id: SID.to_owned(),
                otp_channels: vec!["email".to_owned()],
            },
        )
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.code, "identity_system_timeout");
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
}

/// Answers every connection with `status` (e.g. `503 Service Unavailable`) and `body`.
async fn canned_server(status: &str, content_type: &str, body: &str) -> String {
    let response: Arc<str> = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let response = response.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 8192];
                let _ = stream.read(&mut buffer).await;
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{address}{CONTEXT_PATH}")
}

#[tokio::test]
async fn server_errors_and_foreign_answers() {
    let failing = canned_server("503 Service Unavailable", "application/json", "").await;
    let error = authenticator(&failing, Duration::from_secs(5))
        .kyc_exchange(RP, CLIENT, exchange_request("T", "K", &["name"]))
        .await
        .unwrap_err();
    assert_eq!(error.code, "identity_system_unavailable");

    let foreign = canned_server("200 OK", "text/html", "<html>").await;
    let error = authenticator(&foreign, Duration::from_secs(5))
        .kyc_exchange(RP, CLIENT, exchange_request("T", "K", &["name"]))
        .await
        .unwrap_err();
    assert_eq!(error.code, "unknown_error");

    // The Java mock's way of saying a factor failed.
    let java_failure = canned_server(
        "200 OK",
        "application/json",
        r#"{"responseTime":null,"response":{"authStatus":false},"errors":[]}"#,
    )
    .await;
    let error = authenticator(&java_failure, Duration::from_secs(5))
        .kyc_auth(
            RP,
            CLIENT,
            false,
            auth_request("T", vec![challenge("PIN", "1", "number")]),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, "auth_failed");
}

#[test]
fn unusable_settings_are_refused() {
    for base_url in [
        "not a url",
        "ftp://host/x",
        "http://host/x?query=1",
        "mailto:someone@example.com",
    ] {
        assert!(
            matches!(
                HttpAuthenticator::new(HttpAuthenticatorConfig::new(base_url)),
                Err(HttpAuthenticatorError::InvalidBaseUrl(_))
            ),
            "{base_url}"
        );
    }
    let zero_timeout = HttpAuthenticatorConfig {
        timeout: Duration::ZERO,
        ..HttpAuthenticatorConfig::default()
    };
    assert!(matches!(
        HttpAuthenticator::new(zero_timeout),
        Err(HttpAuthenticatorError::InvalidConfig(_))
    ));
    let defaults = HttpAuthenticatorConfig::default();
    assert_eq!(defaults.timeout, Duration::from_secs(10));
    assert_eq!(defaults.connect_timeout, Duration::from_secs(2));
    assert_eq!(defaults.retries, 2);
    let authenticator = HttpAuthenticator::new(HttpAuthenticatorConfig::new(
        "http://127.0.0.1:8082/v1/mock-identity-system/",
    ))
    .unwrap();
    assert_eq!(
        authenticator.base_url(),
        "http://127.0.0.1:8082/v1/mock-identity-system/"
    );
}

/// The provider's request id (task-local, set by the HTTP layer) goes out as `x-request-id`.
#[tokio::test]
async fn the_request_id_is_passed_on_to_the_identity_system() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (sender, receiver) = tokio::sync::oneshot::channel::<String>();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buffer = vec![0u8; 16384];
        let read = stream.read(&mut buffer).await.unwrap();
        let _ = sender.send(String::from_utf8_lossy(&buffer[..read]).into_owned());
        let _ = stream
            .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
    });
    let authenticator = authenticator(
        &format!("http://{address}{CONTEXT_PATH}"),
        Duration::from_secs(5),
    );
    let error = esignet_spi::with_request_id(
        "req-42".to_owned(),
        authenticator.kyc_auth(
            RP,
            CLIENT,
            false,
            auth_request("AUTHTXN042", vec![challenge("PIN", "482916", "number")]),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(error.code, "identity_system_unavailable");
    let request = receiver.await.unwrap().to_ascii_lowercase();
    assert!(request.contains("x-request-id: req-42"), "{request}");
}

#[tokio::test]
async fn claims_metadata_is_read_again_without_authenticating() {
    let service = start_service(Duration::ZERO).await;
    let authenticator = authenticator(&service.base_url, Duration::from_secs(10));
    let claims = ["name".to_owned(), "birthdate".to_owned()];
    let at_login = authenticator
        .kyc_auth(
            RP,
            CLIENT,
            true,
            auth_request("AUTHTXN009", vec![challenge("PIN", "482916", "number")]),
        )
        .await
        .unwrap()
        .claims_metadata;
    let now = authenticator
        .claims_metadata(RP, CLIENT, SID, &claims)
        .await
        .unwrap()
        .expect("our mock identity system reports claim metadata");
    assert_eq!(now, at_login, "the same report as at authentication");

    // A verification added meanwhile shows at once.
    let before = now["birthdate"].as_array().map_or(0, Vec::len);
    let added: Value = reqwest::Client::new()
        .post(format!("{}/identity/add-verified-claim", service.base_url))
        .json(&json!({
            "requestTime": request_time(),
            "request": {
                "individualId": SID,
                "verificationDetail": {"dateOfBirth": {"trust_framework": "XYZ TF", "verification_process": "EKYC"}},
                "active": true
            }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(added["errors"], json!([]), "{added}");
    let after = authenticator
        .claims_metadata(RP, CLIENT, SID, &claims)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after["birthdate"].as_array().unwrap().len(),
        before + 1,
        "{after:?}"
    );

    // An unknown individual is the identity system's refusal, not an empty report.
    let error = authenticator
        .claims_metadata(RP, CLIENT, "1111111111", &claims)
        .await
        .unwrap_err();
    assert!(!error.code.is_empty());
}

#[tokio::test]
async fn claims_metadata_from_a_system_without_the_endpoint_or_down() {
    // The Java mock has no such endpoint: a plain 404, so the system cannot tell.
    let java = canned_server("404 Not Found", "text/plain", "Not Found").await;
    let claims = ["name".to_owned()];
    let report = authenticator(&java, Duration::from_secs(5))
        .claims_metadata(RP, CLIENT, SID, &claims)
        .await
        .unwrap();
    assert!(report.is_none());

    let failing = canned_server("503 Service Unavailable", "application/json", "").await;
    let error = authenticator(&failing, Duration::from_secs(5))
        .claims_metadata(RP, CLIENT, SID, &claims)
        .await
        .unwrap_err();
    assert_eq!(error.code, "identity_system_unavailable");
}
