//! Signup's OTP delivered over the real binary through a loopback SMS gateway configured with
//! `[notification]` (the mosip preset), then verified with the OTP the gateway received; a
//! gateway answering 500 fails the send without the number in the answer.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::routing::post;
use serde_json::{Value, json};

use super::{SignupClient, otp_challenge};
use crate::demo::start_demo_with;

type Captured = Arc<Mutex<Vec<Value>>>;

async fn record(State(captured): State<Captured>, uri: Uri, body: Bytes) -> StatusCode {
    captured
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    if uri.path().ends_with("/fail") {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::ACCEPTED
    }
}

/// A gateway recording the JSON bodies it receives; returns them and its base URL.
async fn gateway() -> (Captured, String) {
    let captured = Captured::default();
    let app = Router::new()
        .route("/{*path}", post(record))
        .with_state(captured.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (captured, base)
}

#[tokio::test]
async fn signup_notification_otp_is_delivered_by_the_sms_gateway_and_verifies() {
    let (captured, base) = gateway().await;
    let url = format!("{base}/v1/notifier/sms/send");
    let demo = start_demo_with(&[
        ("ESIGNET_NOTIFICATION__SMS_URL", url.as_str()),
        ("ESIGNET_NOTIFICATION__SMS_PRESET", "mosip"),
        ("ESIGNET_SIGNUP__SUPPORTED_LANGUAGES", "eng,fra"),
    ])
    .await;
    let client = SignupClient::new(&demo.server).await;
    let phone = "9876501234";
    let sent = client
        .post(
            "/registration/generate-challenge",
            json!({"identifier": phone, "captchaToken": null, "locale": "fra",
                   "regenerateChallenge": false, "purpose": "REGISTRATION"}),
        )
        .await;
    assert_eq!(sent["response"], json!({"status": "SUCCESS"}), "{sent}");
    let requests = captured.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request["id"], "mosip.kernel.notification.sms");
    assert!(
        request["request"]["number"]
            .as_str()
            .unwrap()
            .ends_with(phone),
        "{request}"
    );
    let message = request["request"]["message"].as_str().unwrap();
    assert!(message.starts_with("Votre code"), "{message}");
    let otp: String = message.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(otp.len(), 6, "{message}");
    let verified = client
        .post(
            "/registration/verify-challenge",
            json!({"identifier": phone, "challengeInfo": [otp_challenge(&otp)]}),
        )
        .await;
    assert_eq!(verified["response"]["status"], "SUCCESS", "{verified}");
}

#[tokio::test]
async fn signup_notification_gateway_failure_answers_without_the_number() {
    let (captured, base) = gateway().await;
    let url = format!("{base}/fail");
    let demo = start_demo_with(&[
        ("ESIGNET_NOTIFICATION__SMS_URL", url.as_str()),
        ("ESIGNET_NOTIFICATION__SMS_PRESET", "mosip"),
    ])
    .await;
    let client = SignupClient::new(&demo.server).await;
    let phone = "9876505678";
    let sent = client
        .post(
            "/registration/generate-challenge",
            json!({"identifier": phone, "captchaToken": null, "locale": "eng",
                   "regenerateChallenge": false, "purpose": "REGISTRATION"}),
        )
        .await;
    assert_eq!(
        sent["errors"][0]["errorCode"], "otp_notification_failed",
        "{sent}"
    );
    assert!(!sent.to_string().contains(phone), "{sent}");
    assert_eq!(captured.lock().unwrap().len(), 1);
}
