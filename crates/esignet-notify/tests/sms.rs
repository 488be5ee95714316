//! `HttpSmsNotifier` against a loopback HTTP gateway (axum) that records every request:
//! body templates with JSON escaping, headers, the mosip preset, and the failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::any;
use esignet_config::{
    MOSIP_SMS_BODY_TEMPLATE, SecretString, SmsGatewaySettings, SmsMethod, SmsPreset,
};
use esignet_notify::{ChannelNotifier, HttpSmsNotifier, Templates};
use esignet_spi::{
    ManualClock, Notification, NotificationChannel, NotificationError, NotificationTemplate,
    Notifier,
};
use serde_json::{Value, json};

const PHONE: &str = "+918267411571";

#[derive(Clone, Debug)]
struct Captured {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct Gateway {
    captured: Arc<Mutex<Vec<Captured>>>,
}

async fn record(
    State(gateway): State<Gateway>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let path = uri.path().to_owned();
    gateway.captured.lock().unwrap().push(Captured {
        method,
        path: path.clone(),
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    match path.as_str() {
        "/fail" => StatusCode::INTERNAL_SERVER_ERROR,
        "/hang" => {
            std::future::pending::<()>().await;
            StatusCode::OK
        }
        _ => StatusCode::ACCEPTED,
    }
}

async fn gateway() -> (Gateway, String) {
    let gateway = Gateway::default();
    let app = Router::new()
        .route("/{*path}", any(record))
        .with_state(gateway.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (gateway, base)
}

fn settings(url: &str, body: &str) -> SmsGatewaySettings {
    SmsGatewaySettings {
        url: url.parse().unwrap(),
        preset: SmsPreset::Custom,
        method: SmsMethod::Post,
        headers: vec![("X-Api-Key".to_owned(), SecretString::new("k-123"))],
        body_template: body.to_owned(),
        content_type: "application/json".to_owned(),
        timeout: Duration::from_secs(5),
    }
}

fn notifier(settings: &SmsGatewaySettings, templates: Templates) -> HttpSmsNotifier {
    let clock = ManualClock::new(time::macros::datetime!(2026-03-01 08:53:05.142 UTC));
    HttpSmsNotifier::new(settings, Arc::new(templates), Arc::new(clock)).unwrap()
}

fn signup_otp(challenge: &str) -> Notification {
    Notification {
        channel: NotificationChannel::Sms,
        recipient: PHONE.to_owned(),
        template: NotificationTemplate::SignupOtp,
        locale: "eng".to_owned(),
        values: BTreeMap::from([("challenge".to_owned(), challenge.to_owned())]),
    }
}

fn clean_delivery_error(result: Result<(), NotificationError>) -> String {
    let error = result.expect_err("delivery must fail");
    let NotificationError::Delivery(message) = &error else {
        panic!("not a delivery error: {error:?}");
    };
    assert!(!error.to_string().contains("8267411571"), "{error}");
    assert!(!error.to_string().contains("k-123"), "{error}");
    message.clone()
}

#[tokio::test]
async fn the_body_template_is_filled_with_json_escaped_values_and_headers_are_sent() {
    let (gateway, base) = gateway().await;
    // A text with quotes, a backslash, a newline and a placeholder of the body template.
    let texts = BTreeMap::from([(
        "send-otp".to_owned(),
        BTreeMap::from([(
            "eng".to_owned(),
            "Code \"{challenge}\" \\ {recipient}\nbye".to_owned(),
        )]),
    )]);
    let templates = Templates::new("eng", &texts, &BTreeMap::new());
    let settings = settings(
        &format!("{base}/send?key=abc"),
        r#"{"to": "{recipient}", "text": "{message}", "at": "{requesttime}"}"#,
    );
    notifier(&settings, templates)
        .send(&signup_otp("123456"))
        .await
        .unwrap();
    let captured = gateway.captured.lock().unwrap().clone();
    assert_eq!(captured.len(), 1);
    let request = &captured[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/send");
    assert_eq!(request.headers["x-api-key"], "k-123");
    assert_eq!(request.headers["content-type"], "application/json");
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
        json!({
            "to": PHONE,
            // `{recipient}` inside the message is not substituted again.
            "text": "Code \"123456\" \\ {recipient}\nbye",
            "at": "2026-03-01T08:53:05.142Z",
        })
    );
}

#[tokio::test]
async fn the_mosip_preset_sends_the_kernel_notifier_request() {
    let (gateway, base) = gateway().await;
    let mut settings = settings(
        &format!("{base}/v1/notifier/sms/send"),
        MOSIP_SMS_BODY_TEMPLATE,
    );
    settings.preset = SmsPreset::Mosip;
    settings.method = SmsMethod::Put;
    let mut note = signup_otp("654321");
    note.locale = "fra".to_owned();
    notifier(&settings, Templates::default())
        .send(&note)
        .await
        .unwrap();
    let request = gateway.captured.lock().unwrap()[0].clone();
    assert_eq!(request.method, Method::PUT);
    assert_eq!(request.path, "/v1/notifier/sms/send");
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["id"], "mosip.kernel.notification.sms");
    assert_eq!(body["version"], "v1");
    assert_eq!(body["requesttime"], "2026-03-01T08:53:05.142Z");
    assert_eq!(body["request"]["number"], PHONE);
    assert_eq!(
        body["request"]["message"],
        "Votre code de vérification eSignet est 654321. Ne le communiquez à personne."
    );
}

#[tokio::test]
async fn a_form_encoded_gateway_gets_form_escaped_values() {
    let (gateway, base) = gateway().await;
    let mut settings = settings(&format!("{base}/form"), "to={recipient}&text={message}");
    settings.content_type = "application/x-www-form-urlencoded".to_owned();
    notifier(&settings, Templates::default())
        .send(&signup_otp("42"))
        .await
        .unwrap();
    let request = gateway.captured.lock().unwrap()[0].clone();
    let pairs: BTreeMap<String, String> = url::form_urlencoded::parse(request.body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(pairs["to"], PHONE);
    assert!(pairs["text"].contains("42"));
}

#[tokio::test]
async fn a_gateway_error_is_a_delivery_error_without_the_number() {
    let (gateway, base) = gateway().await;
    let message = clean_delivery_error(
        notifier(
            &settings(
                &format!("{base}/fail"),
                r#"{"to":"{recipient}","m":"{message}"}"#,
            ),
            Templates::default(),
        )
        .send(&signup_otp("1"))
        .await,
    );
    assert_eq!(message, "the SMS gateway answered HTTP 500");
    assert_eq!(gateway.captured.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_gateway_that_does_not_answer_times_out() {
    let (_gateway, base) = gateway().await;
    let mut settings = settings(
        &format!("{base}/hang"),
        r#"{"to":"{recipient}","m":"{message}"}"#,
    );
    settings.timeout = Duration::from_secs(1);
    let message = clean_delivery_error(
        notifier(&settings, Templates::default())
            .send(&signup_otp("1"))
            .await,
    );
    assert_eq!(message, "the SMS gateway did not answer in time");
}

#[tokio::test]
async fn a_gateway_that_is_down_is_a_delivery_error_and_fails_the_check() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let settings = settings(
        &format!("http://127.0.0.1:{port}/send"),
        r#"{"to":"{recipient}","m":"{message}"}"#,
    );
    let notifier = notifier(&settings, Templates::default());
    let message = clean_delivery_error(notifier.send(&signup_otp("1")).await);
    assert_eq!(message, "cannot connect to the SMS gateway");
    let check = notifier.check(Duration::from_secs(2)).await.unwrap_err();
    assert!(check.to_string().contains("cannot connect"), "{check}");
}

#[tokio::test]
async fn the_router_sends_sms_to_the_gateway_and_refuses_email_without_smtp() {
    let (gateway, base) = gateway().await;
    let sms = notifier(
        &settings(
            &format!("{base}/send"),
            r#"{"to":"{recipient}","m":"{message}"}"#,
        ),
        Templates::default(),
    );
    sms.check(Duration::from_secs(2)).await.unwrap();
    let router = ChannelNotifier::new(Some(Arc::new(sms)), None);
    assert!(router.supports(NotificationChannel::Sms));
    assert!(!router.supports(NotificationChannel::Email));
    router.send(&signup_otp("9")).await.unwrap();
    let mut email = signup_otp("9");
    email.channel = NotificationChannel::Email;
    assert_eq!(
        router.send(&email).await,
        Err(NotificationError::ChannelUnavailable("email"))
    );
    assert_eq!(gateway.captured.lock().unwrap().len(), 1);
}

#[test]
fn a_header_value_that_is_not_valid_is_refused_at_setup() {
    let mut bad = settings("http://127.0.0.1:9/x", "{recipient}{message}");
    bad.headers = vec![("X-Key".to_owned(), SecretString::new("line\nbreak"))];
    let clock = Arc::new(ManualClock::new(time::OffsetDateTime::UNIX_EPOCH));
    let error = HttpSmsNotifier::new(&bad, Arc::new(Templates::default()), clock).unwrap_err();
    assert!(error.to_string().contains("x-key"), "{error}");
    assert!(!error.to_string().contains("break"), "{error}");
}

/// Collects what the fmt subscriber writes.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_name_the_masked_recipient_and_never_the_number_the_otp_or_the_text() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (_gateway, base) = gateway().await;
    let body = r#"{"to":"{recipient}","m":"{message}"}"#;
    notifier(&settings(&format!("{base}/ok"), body), Templates::default())
        .send(&signup_otp("918273"))
        .await
        .unwrap();
    notifier(
        &settings(&format!("{base}/fail"), body),
        Templates::default(),
    )
    .send(&signup_otp("918273"))
    .await
    .unwrap_err();
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("notification delivered"), "{text}");
    assert!(text.contains("notification not delivered"), "{text}");
    assert!(text.contains("XXXXXXXXX1571"), "{text}");
    for secret in ["8267411571", "918273", "verification code", "k-123"] {
        assert!(!text.contains(secret), "logs leak {secret}: {text}");
    }
}
