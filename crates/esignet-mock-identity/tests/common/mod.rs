//! Runs the mock identity service in-process on a free loopback port and talks to it over real
//! HTTP.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use esignet_mock_identity::{CONTEXT_PATH, MockIdentityConfig};
use esignet_spi::{Clock, SystemClock};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://esignet.example/v1/esignet";
pub const RP: &str = "health-portal";
pub const CLIENT: &str = "health-portal-client";

/// A demo persona with every channel, verifications under `eidas` and `de_aml`.
pub const SID: &str = "8267411571";
pub const SID_PIN: &str = "482916";
pub const SID_PASSWORD: &str = "Mansour1987";
/// A demo persona without e-mail.
pub const SREYMOM: &str = "5860142938";

/// A running service.
pub struct Mock {
    pub base: String,
    pub http: reqwest::Client,
    pub data: tempfile::TempDir,
    pub config: MockIdentityConfig,
}

impl Mock {
    /// Starts a service with the demo personas in a fresh data directory.
    pub async fn start() -> Mock {
        Self::start_in(tempfile::tempdir().unwrap(), Duration::ZERO).await
    }

    /// Starts a service on an existing data directory.
    pub async fn start_in(data: tempfile::TempDir, delay: Duration) -> Mock {
        let mut config = MockIdentityConfig::new(data.path(), ISSUER);
        config.response_delay = delay;
        Self::start_with(data, config).await
    }

    /// Starts a service with the signup schema (self-registration).
    #[allow(dead_code)] // not every test binary uses it
    pub async fn start_signup() -> Mock {
        let data = tempfile::tempdir().unwrap();
        let mut config = MockIdentityConfig::new(data.path(), ISSUER);
        config.schema = esignet_mock_identity::SchemaProfile::Signup;
        Self::start_with(data, config).await
    }

    pub async fn start_with(data: tempfile::TempDir, config: MockIdentityConfig) -> Mock {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let router = esignet_mock_identity::build(&config, clock).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Mock {
            base: format!("http://{address}{CONTEXT_PATH}"),
            http: reqwest::Client::new(),
            data,
            config,
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// POSTs an unwrapped body; returns the envelope (always HTTP 200).
    pub async fn post(&self, path: &str, body: &Value) -> Value {
        self.send(reqwest::Method::POST, path, body.to_string())
            .await
    }

    /// POSTs `request` wrapped with the current `requestTime`.
    pub async fn post_wrapped(&self, path: &str, request: Value) -> Value {
        self.send(reqwest::Method::POST, path, wrap(request).to_string())
            .await
    }

    /// PUTs `request` wrapped with the current `requestTime`.
    pub async fn put_wrapped(&self, path: &str, request: Value) -> Value {
        self.send(reqwest::Method::PUT, path, wrap(request).to_string())
            .await
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: String) -> Value {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    /// send-otp then kyc-auth (v2) with the OTP; returns (kycToken, psut).
    pub async fn login_with_otp(&self, transaction: &str, individual_id: &str) -> (String, String) {
        let sent = self
            .post(
                &format!("/send-otp/{RP}/{CLIENT}"),
                &json!({"transactionId": transaction, "individualId": individual_id,
                        "otpChannels": ["phone"]}),
            )
            .await;
        assert_eq!(errors(&sent), Vec::<String>::new());
        let auth = self
            .post(
                &format!("/v2/kyc-auth/{RP}/{CLIENT}"),
                &json!({"transactionId": transaction, "individualId": individual_id,
                        "otp": "111111"}),
            )
            .await;
        assert_eq!(errors(&auth), Vec::<String>::new());
        (
            auth["response"]["kycToken"].as_str().unwrap().to_owned(),
            auth["response"]["partnerSpecificUserToken"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }
}

/// `{"requestTime": <now>, "request": request}`.
pub fn wrap(request: Value) -> Value {
    json!({"requestTime": request_time(time::Duration::ZERO), "request": request})
}

/// The UTC millisecond format of now + `offset`.
pub fn request_time(offset: time::Duration) -> String {
    let at = SystemClock.now() + offset;
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap()
}

/// The error codes of an envelope, in order.
pub fn errors(envelope: &Value) -> Vec<String> {
    envelope["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors is an array: {envelope}"))
        .iter()
        .map(|error| error["errorCode"].as_str().unwrap().to_owned())
        .collect()
}

/// A complete, schema-valid identity.
pub fn new_identity(individual_id: &str) -> Value {
    let lang = |value: &str| json!([{"language": "eng", "value": value}]);
    json!({
        "individualId": individual_id,
        "pin": "545411",
        "password": "Secret2024",
        "fullName": [{"language": "eng", "value": "Ann Lee"}, {"language": "fra", "value": "Anne Lee"}],
        "givenName": lang("Ann"),
        "familyName": lang("Lee"),
        "middleName": null,
        "gender": lang("Female"),
        "dateOfBirth": "1990/02/28",
        "streetAddress": lang("1 Main Street"),
        "locality": lang("Pune"),
        "region": lang("Maharashtra"),
        "country": lang("India"),
        "postalCode": "411001",
        "email": "ann.lee@example.com",
        "phone": "+911234567890",
        "encodedPhoto": "data:image/png;base64,iVBORw0KGgo=",
        "preferredLang": "eng",
        "zoneInfo": "Asia/Kolkata",
        "locale": "en-IN"
    })
}

/// Base64url (no padding) of `value`'s JSON.
pub fn b64u_json(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Verifies a KYC JWS with `jsonwebtoken` against the service's `keys.json` certificates and
/// returns its claims.
pub async fn verify_kyc(mock: &Mock, jws: &str) -> Value {
    let keys = mock.get("/keys.json").await;
    let header = jsonwebtoken::decode_header(jws).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let kid = header.kid.expect("the KYC names its key");
    let certificate = keys["response"]["allCertificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|certificate| certificate["keyId"] == kid)
        .unwrap_or_else(|| panic!("keys.json lists {kid}"));
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(
        certificate["certificateData"].as_str().unwrap().as_bytes(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[CLIENT]);
    validation.set_issuer(&[ISSUER]);
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["sub", "iss", "aud"]);
    jsonwebtoken::decode::<Value>(jws, &key, &validation)
        .unwrap()
        .claims
}
