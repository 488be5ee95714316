//! Two `esignet serve` instances on one PostgreSQL schema and one Redis prefix, in front of one
//! mock identity service: a registration whose steps alternate between the instances, a
//! replayed challenge cookie, and an identifier blocked on one instance and refused on the
//! other.

use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use super::{OTP, SignupClient, error_code, otp_challenge, set_cookie, user_info};
use crate::harness::{Server, free_port, now_timestamp};
use crate::scaleout::{DropSchema, as_refs, redis_url, shared_env, unique};

/// The mock identity service as its own process (`esignet mock-identity`).
pub(super) struct MockIdentity {
    child: Child,
    pub(super) url: String,
    _data: tempfile::TempDir,
}

impl Drop for MockIdentity {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) async fn mock_identity() -> MockIdentity {
    let port = free_port();
    let data = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_esignet"))
        .args(["mock-identity", "--bind", &format!("127.0.0.1:{port}")])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ESIGNET_DATA__DIR", data.path())
        .env("ESIGNET_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Owned by the guard at once, so the process is killed and reaped on every path.
    let identity = MockIdentity {
        child,
        url: format!("http://127.0.0.1:{port}/v1/mock-identity-system"),
        _data: data,
    };
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("{}/actuator/health", identity.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return identity;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("mock identity service did not start");
}

pub(super) fn signup_env(identity: &str) -> Vec<(String, String)> {
    [
        ("ESIGNET_SIGNUP__ENABLED", "true"),
        ("ESIGNET_AUTHENTICATOR__KIND", "mock-identity-http"),
        ("ESIGNET_AUTHENTICATOR__URL", identity),
        ("ESIGNET_SIGNUP__FIXED_OTP", OTP),
        ("ESIGNET_SIGNUP__CAPTCHA_REQUIRED", "false"),
        ("ESIGNET_SIGNUP__RESEND_DELAY_SECS", "0"),
        ("ESIGNET_SIGNUP__IDENTIFIER_REGEX", "^[1-9][0-9]{7,9}$"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[tokio::test]
async fn signup_steps_cross_instances_and_blocking_holds_on_both() {
    let identity = mock_identity().await;
    let schema = unique("signup");
    let _drop_schema = DropSchema(schema.clone());
    let prefix = unique("signup");
    let mut env = shared_env(&schema, &prefix, &redis_url());
    env.extend(signup_env(&identity.url));
    let a = Server::start(&as_refs(&env)).await;
    let b = Server::start(&as_refs(&env)).await;
    // One browser (one cookie jar) behind a load balancer: cookies are per host, not port.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let on_a = SignupClient::with(browser.clone(), &a.base).await;
    let on_b = SignupClient::with(browser.clone(), &b.base).await;
    assert_eq!(on_a.csrf, on_b.csrf, "one origin, one CSRF token");

    // A registration: challenge on A, verify on B, register on A, status on B.
    let phone = "9988776655";
    let (headers, sent) = on_a
        .post_full(
            "/registration/generate-challenge",
            json!({"identifier": phone, "locale": "eng", "regenerateChallenge": false, "purpose": "REGISTRATION"}),
        )
        .await;
    assert_eq!(sent["response"]["status"], "SUCCESS", "{sent}");
    let cookie = set_cookie(&headers, "TRANSACTION_ID").unwrap();
    let challenge_cookie = cookie.split(';').next().unwrap().to_owned();
    let verified = on_b.verify(phone, json!([otp_challenge(OTP)])).await;
    assert_eq!(verified["response"]["status"], "SUCCESS", "{verified}");
    let registered = on_a
        .post(
            "/registration/register",
            json!({"username": phone, "password": "Secret@2024", "consent": "AGREE",
                   "userInfo": user_info(phone, "Vichea Lim")}),
        )
        .await;
    assert_eq!(registered["response"]["status"], "PENDING", "{registered}");
    let status = on_b.get("/registration/status").await;
    assert_eq!(status["response"]["status"], "COMPLETED", "{status}");

    // The spent challenge cookie, replayed to the other instance, is refused.
    let replay: Value = reqwest::Client::new()
        .post(format!(
            "{}/v1/signup/registration/verify-challenge",
            a.base
        ))
        .header("X-XSRF-TOKEN", &on_a.csrf)
        .header(
            "Cookie",
            format!("XSRF-TOKEN={}; {challenge_cookie}", on_a.csrf),
        )
        .json(&json!({"requestTime": now_timestamp(),
                      "request": {"identifier": phone, "challengeInfo": [otp_challenge(OTP)]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&replay), "invalid_transaction");

    // Three sends are allowed (A, B, A); the fourth (B) blocks the identifier everywhere.
    let other = "9988776644";
    for (client, regenerate) in [(&on_a, false), (&on_b, true), (&on_a, true)] {
        let sent = client.generate(other, "REGISTRATION", regenerate).await;
        assert_eq!(sent["response"]["status"], "SUCCESS", "{sent}");
    }
    let blocked = on_b.generate(other, "REGISTRATION", true).await;
    assert_eq!(error_code(&blocked), "identifier_blocked");
    let fresh = on_a.generate(other, "REGISTRATION", false).await;
    assert_eq!(
        error_code(&fresh),
        "identifier_blocked",
        "a new transaction on the other instance"
    );
    let unrelated = on_b.generate("9988776633", "REGISTRATION", false).await;
    assert_eq!(
        unrelated["response"]["status"], "SUCCESS",
        "other identifiers are not blocked"
    );
}
