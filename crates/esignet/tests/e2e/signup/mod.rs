//! The Signup service (`/v1/signup`) end to end against `esignet demo`: registration and
//! password reset over HTTP, then a login with the new identifier or password.

mod builtin_registry;
mod ekyc;
mod errors;
mod notification;
mod registration;
mod scaleout;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::harness::{Server, now_timestamp};

/// The demo's fixed signup OTP.
pub const OTP: &str = "111111";

/// A browser on the signup pages: its cookie jar and CSRF token.
pub struct SignupClient {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
}

impl SignupClient {
    pub async fn new(server: &Server) -> SignupClient {
        SignupClient::with(server.http.clone(), &server.base).await
    }

    /// A page of the instance at `base`, in the browser `http` (its cookie jar).
    pub async fn with(http: reqwest::Client, base: &str) -> SignupClient {
        let body: Value = http
            .get(format!("{base}/v1/signup/csrf/token"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["headerName"], "X-XSRF-TOKEN");
        assert_eq!(body["parameterName"], "_csrf");
        let csrf = body["token"].as_str().unwrap().to_owned();
        SignupClient {
            http,
            base: base.to_owned(),
            csrf,
        }
    }

    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("X-XSRF-TOKEN", self.csrf.parse().unwrap());
        headers
    }

    /// Posts a wrapped request; returns the response (for its cookies) and the body.
    pub async fn post_full(&self, path: &str, request: Value) -> (HeaderMap, Value) {
        self.post_raw(
            path,
            json!({"requestTime": now_timestamp(), "request": request}),
        )
        .await
    }

    pub async fn post_raw(&self, path: &str, body: Value) -> (HeaderMap, Value) {
        let response = self
            .http
            .post(format!("{}/v1/signup{path}", self.base))
            .headers(self.headers())
            .json(&body)
            .send()
            .await
            .unwrap();
        let headers = response.headers().clone();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (headers, body)
    }

    /// Posts and returns the body only.
    pub async fn post(&self, path: &str, request: Value) -> Value {
        self.post_full(path, request).await.1
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/v1/signup{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn generate(&self, identifier: &str, purpose: &str, regenerate: bool) -> Value {
        self.post(
            "/registration/generate-challenge",
            json!({"identifier": identifier, "captchaToken": null, "locale": "eng",
                   "regenerateChallenge": regenerate, "purpose": purpose}),
        )
        .await
    }

    pub async fn verify(&self, identifier: &str, challenges: Value) -> Value {
        self.post(
            "/registration/verify-challenge",
            json!({"identifier": identifier, "challengeInfo": challenges}),
        )
        .await
    }

    /// generate-challenge then verify-challenge with the OTP (and `kbi`, for a reset).
    pub async fn verified(&self, identifier: &str, purpose: &str, kbi: Option<Value>) {
        let sent = self.generate(identifier, purpose, false).await;
        assert_eq!(sent["response"]["status"], "SUCCESS", "{sent}");
        let mut challenges = vec![otp_challenge(OTP)];
        if let Some(kbi) = kbi {
            challenges.push(kbi_challenge(&kbi));
        }
        let verified = self.verify(identifier, Value::Array(challenges)).await;
        assert_eq!(verified["response"]["status"], "SUCCESS", "{verified}");
    }
}

/// The `Set-Cookie` header of `name` in a response.
pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

pub fn signup_url(server: &Server, path: &str) -> String {
    format!("{}/v1/signup{path}", server.base)
}

pub fn otp_challenge(otp: &str) -> Value {
    json!({"challenge": otp, "format": "alpha-numeric", "type": "OTP"})
}

pub fn kbi_challenge(kbi: &Value) -> Value {
    json!({"challenge": crate::harness::b64url(kbi.to_string().as_bytes()),
           "format": "base64url-encoded-json", "type": "KBI"})
}

/// The only error code of an envelope (asserting there is exactly one).
pub fn error_code(body: &Value) -> String {
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(errors.len(), 1, "{body}");
    assert!(body["response"].is_null(), "{body}");
    errors[0]["errorCode"].as_str().unwrap().to_owned()
}

/// The identity a registration page submits for `phone` (what the mock identity system's
/// schema requires).
pub fn user_info(phone: &str, name: &str) -> Value {
    json!({
        "phone": phone,
        "pin": "545411",
        "fullName": [{"language": "eng", "value": name}, {"language": "khm", "value": "សុខ ចាន់"}],
        "givenName": [{"language": "eng", "value": "Sok"}],
        "familyName": [{"language": "eng", "value": "Chan"}],
        "gender": [{"language": "eng", "value": "Female"}],
        "dateOfBirth": "1990/04/12",
        "locality": [{"language": "eng", "value": "Phnom Penh"}],
        "region": [{"language": "eng", "value": "Phnom Penh"}],
        "country": [{"language": "eng", "value": "Cambodia"}],
        "postalCode": "12000",
        "email": "sok.chan@example.org",
        "encodedPhoto": {"value": "iVBORw0KGgo="},
        "preferredLang": "eng",
    })
}
