//! The router over the in-process cache with a manual clock: expiry of challenges, cookies and
//! blocks without waiting, and what the cache holds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use esignet_cache_memory::MemoryCache;
use esignet_spi::{
    AuditEvent, AuditSink, Cache, Clock, ManualClock, NoCaptcha, Notification, NotificationChannel,
    NotificationError, Notifier,
};
use serde_json::{Value, json};
use time::macros::datetime;
use tower::ServiceExt;

use crate::envelope::format_time;
use crate::profile::{Profile, ProfileAction, ProfileRegistry, ProfileStatus};
use crate::{SignupConfig, SignupDeps, SignupError, router};

#[derive(Default)]
struct Registry(Mutex<HashMap<String, Value>>);

#[async_trait]
impl ProfileRegistry for Registry {
    async fn validate(&self, _: ProfileAction, _: &Profile) -> Result<(), SignupError> {
        Ok(())
    }
    async fn create(&self, _: &str, profile: &Profile) -> Result<ProfileStatus, SignupError> {
        let identity = profile.identity.clone().unwrap();
        self.0
            .lock()
            .unwrap()
            .insert(profile.individual_id.clone(), identity);
        Ok(ProfileStatus::Completed)
    }
    async fn update(&self, _: &str, _: &Profile) -> Result<ProfileStatus, SignupError> {
        Ok(ProfileStatus::Completed)
    }
    async fn status(&self, _: &str) -> Result<ProfileStatus, SignupError> {
        Ok(ProfileStatus::Completed)
    }
    async fn get(&self, id: &str) -> Result<Profile, SignupError> {
        let identity = self.0.lock().unwrap().get(id).cloned();
        Ok(Profile {
            individual_id: id.to_owned(),
            consent: None,
            active: identity.is_some(),
            identity,
        })
    }
    async fn ui_spec(&self) -> Result<Value, SignupError> {
        Err(SignupError::new(crate::codes::UI_SPEC_NOT_FOUND))
    }
}

/// Keeps the last OTP sent, as a phone would.
#[derive(Default)]
struct Phone(Mutex<Vec<(String, String)>>);

#[async_trait]
impl Notifier for Phone {
    async fn send(&self, n: &Notification) -> Result<(), NotificationError> {
        let value = n.values.get("challenge").cloned().unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .push((n.template.as_str().to_owned(), value));
        Ok(())
    }
    fn supports(&self, _: NotificationChannel) -> bool {
        true
    }
}

#[derive(Default)]
struct Audit(Mutex<Vec<AuditEvent>>);

impl AuditSink for Audit {
    fn record(&self, event: AuditEvent) {
        self.0.lock().unwrap().push(event);
    }
}

struct Harness {
    router: Router,
    clock: Arc<ManualClock>,
    cache: Arc<MemoryCache>,
    phone: Arc<Phone>,
    audit: Arc<Audit>,
    cookies: Mutex<HashMap<String, String>>,
}

fn settings() -> esignet_config::SignupSettings {
    let env = [
        ("ESIGNET_SIGNUP__CAPTCHA_REQUIRED", "false"),
        ("ESIGNET_SIGNUP__RESEND_DELAY_SECS", "0"),
        ("ESIGNET_SIGNUP__IDENTIFIER_REGEX", "^[1-9][0-9]{7,9}$"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    esignet_config::load(None, env).unwrap().signup
}

fn harness() -> Harness {
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-01 00:00 UTC)));
    let cache = MemoryCache::new(clock.clone());
    let phone = Arc::new(Phone::default());
    let audit = Arc::new(Audit::default());
    let router = router(
        SignupConfig {
            settings: settings(),
            public_url: "https://login.example.org".into(),
            base_path: "/v1/esignet".into(),
            request_time_leeway: Duration::from_secs(120),
            captcha_site_key: None,
        },
        SignupDeps {
            cache: cache.clone(),
            registry: Arc::new(Registry::default()),
            notifier: phone.clone(),
            captcha: Arc::new(NoCaptcha),
            audit: audit.clone(),
            clock: clock.clone(),
            transaction_key: [9u8; 32],
            idv: None,
        },
    )
    .unwrap();
    Harness {
        router,
        clock,
        cache,
        phone,
        audit,
        cookies: Mutex::new(HashMap::from([("XSRF-TOKEN".into(), "t".into())])),
    }
}

impl Harness {
    async fn call(&self, method: &str, path: &str, request: Option<Value>) -> Value {
        let cookie = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let body = request
            .map(|r| {
                json!({"requestTime": format_time(self.clock.now()), "request": r}).to_string()
            })
            .unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, cookie)
            .header("X-XSRF-TOKEN", "t")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            assert!(
                text.contains("HttpOnly") && text.contains("Secure"),
                "{text}"
            );
            let (pair, attributes) = text.split_once(';').unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.lock().unwrap().remove(name);
            } else {
                self.cookies
                    .lock()
                    .unwrap()
                    .insert(name.to_owned(), value.to_owned());
            }
        }
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    async fn generate(&self, id: &str, regenerate: bool) -> Value {
        self.call(
            "POST",
            "/registration/generate-challenge",
            Some(json!({"identifier": id, "regenerateChallenge": regenerate, "purpose": "REGISTRATION"})),
        )
        .await
    }

    async fn verify(&self, id: &str, otp: &str) -> Value {
        self.call(
            "POST",
            "/registration/verify-challenge",
            Some(json!({"identifier": id, "challengeInfo": [{"challenge": otp, "format": "alpha-numeric", "type": "OTP"}]})),
        )
        .await
    }

    fn last_otp(&self) -> String {
        self.phone.0.lock().unwrap().last().unwrap().1.clone()
    }

    fn advance(&self, secs: u64) {
        self.clock
            .advance(time::Duration::seconds(i64::try_from(secs).unwrap()));
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["errorCode"].as_str().unwrap_or("")
}

#[tokio::test]
async fn the_otp_is_random_sent_once_and_only_its_hash_is_kept() {
    let h = harness();
    assert_eq!(
        h.generate("9123456780", false).await["response"]["status"],
        "SUCCESS"
    );
    let otp = h.last_otp();
    assert_eq!(otp.len(), 6);
    let transaction = h.cookies.lock().unwrap()["TRANSACTION_ID"].clone();
    let stored = h
        .cache
        .get(crate::transaction::CHALLENGE_GENERATED, &transaction)
        .await
        .unwrap()
        .unwrap();
    let stored = String::from_utf8(stored).unwrap();
    assert!(!stored.contains(&otp), "the OTP is not stored in clear");
    assert!(
        !stored.contains("9123456780"),
        "the identifier is not stored in clear"
    );
    assert_eq!(
        h.verify("9123456780", &otp).await["response"]["status"],
        "SUCCESS"
    );
    let audit = h.audit.0.lock().unwrap();
    assert_eq!(audit.len(), 2);
    assert!(
        serde_json::to_string(&*audit)
            .unwrap()
            .find("9123456780")
            .is_none()
    );
}

#[tokio::test]
async fn an_otp_expires_after_the_challenge_timeout() {
    let h = harness();
    h.generate("9123456780", false).await;
    let otp = h.last_otp();
    h.advance(61);
    assert_eq!(
        code(&h.verify("9123456780", &otp).await),
        "challenge_expired"
    );
}

#[tokio::test]
async fn an_expired_verified_cookie_is_refused() {
    let h = harness();
    h.generate("9123456780", false).await;
    let otp = h.last_otp();
    h.verify("9123456780", &otp).await;
    h.advance(301);
    let registered = h
        .call(
            "POST",
            "/registration/register",
            Some(json!({"username": "9123456780", "password": "Secret@2024", "consent": "AGREE", "userInfo": {"phone": "9123456780"}})),
        )
        .await;
    assert_eq!(code(&registered), "invalid_transaction");
}

#[tokio::test]
async fn a_block_lifts_after_the_blocked_time() {
    let h = harness();
    h.generate("9123456780", false).await;
    h.generate("9123456780", true).await;
    h.generate("9123456780", true).await;
    assert_eq!(
        code(&h.generate("9123456780", true).await),
        "identifier_blocked"
    );
    assert_eq!(
        code(&h.generate("9123456780", false).await),
        "identifier_blocked"
    );
    h.advance(301);
    assert_eq!(
        h.generate("9123456780", false).await["response"]["status"],
        "SUCCESS"
    );
}
