//! The remote (siteverify) verifier against a fake provider on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use esignet_captcha::{RemoteCaptcha, RemoteConfig, RemoteProvider};
use esignet_spi::{CaptchaError, CaptchaVerifier};
use serde_json::json;
use zeroize::Zeroizing;

type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// The fake provider answers according to the token it receives.
async fn siteverify(
    State(seen): State<Seen>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    seen.lock().unwrap().push(form.clone());
    if form.get("secret").map(String::as_str) != Some("s3cret") {
        return Json(json!({"success": false, "error-codes": ["invalid-input-secret"]}))
            .into_response();
    }
    match form.get("response").map(String::as_str).unwrap_or_default() {
        "good" => Json(
            json!({"success": true, "hostname": "login.example", "action": "pwd",
                               "challenge_ts": "2026-01-01T08:00:00Z"}),
        )
        .into_response(),
        "good-elsewhere" => {
            Json(json!({"success": true, "hostname": "evil.example"})).into_response()
        }
        "bad" => Json(json!({"success": false, "error-codes": ["invalid-input-response"]}))
            .into_response(),
        "used" => {
            Json(json!({"success": false, "error-codes": ["timeout-or-duplicate"]})).into_response()
        }
        "boom" => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        "garbage" => (StatusCode::OK, "<html>not json</html>").into_response(),
        "no-success" => Json(json!({"hostname": "login.example"})).into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Json(json!({"success": true})).into_response()
        }
        _ => Json(json!({"success": false, "error-codes": ["invalid-input-response"]}))
            .into_response(),
    }
}

async fn fake_provider() -> (SocketAddr, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/siteverify", post(siteverify))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, seen)
}

fn config(address: SocketAddr) -> RemoteConfig {
    RemoteConfig {
        provider: RemoteProvider::Hcaptcha,
        verify_url: format!("http://{address}/siteverify"),
        secret: Zeroizing::new("s3cret".to_owned()),
        site_key: "site-key-123".to_owned(),
        expected_hostname: None,
        check_action: false,
        timeout: Duration::from_millis(500),
    }
}

#[tokio::test]
async fn a_token_the_provider_accepts_passes_and_the_form_is_right() {
    let (address, seen) = fake_provider().await;
    let verifier = RemoteCaptcha::new(config(address)).unwrap();
    assert_eq!(verifier.verify("good", "pwd").await, Ok(true));
    let ip = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
    assert_eq!(
        verifier.verify_from("good", "pwd", Some(ip)).await,
        Ok(true)
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0]["secret"], "s3cret");
    assert_eq!(seen[0]["response"], "good");
    assert!(!seen[0].contains_key("remoteip"));
    assert_eq!(seen[1]["remoteip"], "203.0.113.7");
}

#[tokio::test]
async fn a_token_the_provider_refuses_is_rejected() {
    let (address, _) = fake_provider().await;
    let verifier = RemoteCaptcha::new(config(address)).unwrap();
    assert_eq!(verifier.verify("bad", "pwd").await, Ok(false));
    assert_eq!(verifier.verify("used", "pwd").await, Ok(false));
}

#[tokio::test]
async fn blank_or_huge_tokens_are_rejected_without_asking() {
    let (address, seen) = fake_provider().await;
    let verifier = RemoteCaptcha::new(config(address)).unwrap();
    assert_eq!(verifier.verify("", "pwd").await, Ok(false));
    assert_eq!(verifier.verify("  ", "pwd").await, Ok(false));
    assert_eq!(verifier.verify(&"x".repeat(9000), "pwd").await, Ok(false));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn provider_failures_are_errors() {
    let (address, _) = fake_provider().await;
    let verifier = RemoteCaptcha::new(config(address)).unwrap();
    for token in ["boom", "garbage", "no-success"] {
        assert!(
            matches!(
                verifier.verify(token, "pwd").await,
                Err(CaptchaError::Unavailable(_))
            ),
            "{token}"
        );
    }
}

#[tokio::test]
async fn a_slow_provider_times_out_as_an_error() {
    let (address, _) = fake_provider().await;
    let verifier = RemoteCaptcha::new(config(address)).unwrap();
    let started = std::time::Instant::now();
    let outcome = verifier.verify("slow", "pwd").await;
    assert!(
        matches!(outcome, Err(CaptchaError::Unavailable(ref m)) if m.contains("timeout")),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn an_unreachable_provider_is_an_error() {
    // Bind then drop a listener: nothing listens on that port any more.
    let address = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let verifier = RemoteCaptcha::new(config(address)).unwrap();
    assert!(verifier.verify("good", "pwd").await.is_err());
}

#[tokio::test]
async fn a_wrong_secret_is_our_error_not_the_residents() {
    let (address, _) = fake_provider().await;
    let mut config = config(address);
    config.secret = Zeroizing::new("wrong".to_owned());
    let verifier = RemoteCaptcha::new(config).unwrap();
    assert!(matches!(
        verifier.verify("good", "pwd").await,
        Err(CaptchaError::Unavailable(m)) if m.contains("invalid-input-secret")
    ));
}

#[tokio::test]
async fn hostname_and_action_checks() {
    let (address, _) = fake_provider().await;
    let mut config = config(address);
    config.expected_hostname = Some("login.example".to_owned());
    config.check_action = true;
    let verifier = RemoteCaptcha::new(config).unwrap();
    assert_eq!(verifier.verify("good", "pwd").await, Ok(true));
    assert_eq!(
        verifier.verify("good", "send-otp").await,
        Ok(false),
        "action"
    );
    assert_eq!(
        verifier.verify("good-elsewhere", "pwd").await,
        Ok(false),
        "hostname"
    );
}

#[tokio::test]
async fn the_page_gets_the_widget_parameters_and_the_secret_stays_hidden() {
    let (address, _) = fake_provider().await;
    let verifier = RemoteCaptcha::new(config(address)).unwrap();
    assert_eq!(verifier.kind(), "remote");
    assert_eq!(
        verifier.challenge("send-otp").unwrap(),
        Some(
            json!({"kind": "remote", "provider": "hcaptcha", "siteKey": "site-key-123",
                    "action": "send-otp"})
        )
    );
    let debug = format!("{verifier:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
    assert_eq!(
        RemoteProvider::Recaptcha.default_verify_url(),
        "https://www.google.com/recaptcha/api/siteverify"
    );
}
