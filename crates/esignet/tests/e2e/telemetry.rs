//! The metrics listener: a completed login is counted, per route and per factor, with the
//! identity system's latency, and no personal data appears in any label; the public listener
//! does not serve metrics.

use serde_json::json;

use crate::harness::{Server, free_port};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};

const MANSOUR: &str = "8267411571";

pub(crate) async fn scrape(port: u16) -> String {
    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("the metrics listener answers");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    response.text().await.unwrap()
}

/// The value of the sample `series` (a full `name{labels}` string), or 0 when absent.
pub(crate) fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_completed_login_is_counted_on_the_metrics_listener() {
    let metrics_port = free_port();
    let bind = format!("127.0.0.1:{metrics_port}");
    let server = Server::start(&[("ESIGNET_TELEMETRY__METRICS_BIND", bind.as_str())]).await;
    let before = scrape(metrics_port).await;
    assert_eq!(
        sample(&before, "esignet_logins_completed_total"),
        0.0,
        "{before}"
    );

    let rp = Rp::demo(&server);
    let (verifier, challenge) = pkce_pair();
    let request = authorize_request(
        &rp.client_id,
        &rp.redirect_uri,
        "openid profile",
        Some(&challenge),
    );
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    // One failed attempt first, then the right OTP.
    let sent = browser.send_otp(MANSOUR).await;
    assert_eq!(sent["errors"], json!([]), "{sent}");
    let failed = browser
        .authenticate(MANSOUR, "OTP", "000000", "alpha-numeric")
        .await;
    assert_eq!(failed["errors"][0]["errorCode"], "auth_failed", "{failed}");
    let authenticated = browser.otp_login(MANSOUR).await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    browser.claim_details().await;
    let code = browser.auth_code(&["name"], &[]).await["response"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, tokens) = rp.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");

    let text = scrape(metrics_port).await;
    assert_eq!(sample(&text, "esignet_logins_started_total"), 1.0, "{text}");
    assert_eq!(
        sample(&text, "esignet_logins_completed_total"),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"esignet_authentications_total{factors="OTP",outcome="success"}"#
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"esignet_authentications_total{factors="OTP",outcome="auth_failed"}"#
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"esignet_login_failures_total{stage="AUTHENTICATE",error_code="auth_failed"}"#
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"esignet_http_requests_total{route="/v1/esignet/oauth/v2/token",method="POST",status="200"}"#
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"esignet_http_request_duration_seconds_count{route="/v1/esignet/oauth/v2/token",method="POST"}"#
        ),
        1.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            r#"esignet_identity_system_duration_seconds_count{operation="kyc_auth",outcome="success"}"#
        ) >= 1.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            r#"esignet_identity_system_duration_seconds_count{operation="kyc_exchange",outcome="success"}"#
        ) >= 1.0,
        "{text}"
    );
    for secret in [MANSOUR, "Mansour", "111111", code.as_str()] {
        assert!(!text.contains(secret), "{secret} leaked into the metrics");
    }

    // The public listener does not serve them.
    let public = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(public.status(), 404);
}

#[tokio::test]
async fn a_taken_metrics_address_stops_the_start_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let server_bind = format!("127.0.0.1:{port}");
    let (status, _stdout, stderr) = crate::harness::run_cli(
        &["serve"],
        data.path(),
        &[
            ("ESIGNET_SERVER__BIND", server_bind.as_str()),
            ("ESIGNET_TELEMETRY__METRICS_BIND", bind.as_str()),
        ],
    );
    assert_ne!(status, 0);
    assert!(stderr.contains("telemetry.metrics_bind"), "{stderr}");
}

/// A loopback OTLP/HTTP collector: every body POSTed to `/v1/traces` goes to the channel.
async fn otlp_collector() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: String| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(body);
                "{}"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, receiver)
}

#[tokio::test]
async fn request_spans_are_exported_over_otlp_without_personal_data() {
    let (endpoint, mut exports) = otlp_collector().await;
    let server = Server::start(&[
        ("ESIGNET_TELEMETRY__OTLP_ENDPOINT", endpoint.as_str()),
        ("ESIGNET_TELEMETRY__SERVICE_NAME", "esignet-under-test"),
        // The SDK's standard variable: export every 100 ms instead of every 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ])
    .await;
    let rp = Rp::demo(&server);
    let (_, challenge) = pkce_pair();
    let request = authorize_request(
        &rp.client_id,
        &rp.redirect_uri,
        "openid profile",
        Some(&challenge),
    );
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    let authenticated = browser.otp_login(MANSOUR).await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");

    let mut exported = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !exported.contains("/v1/esignet/authorization/v3/authenticate") {
        let body = tokio::time::timeout_at(deadline, exports.recv())
            .await
            .expect("the authenticate span is exported")
            .expect("the collector runs");
        exported.push_str(&body);
    }
    assert!(
        exported.contains("esignet-under-test"),
        "service.name is set: {exported}"
    );
    assert!(
        exported.contains("\"request_id\""),
        "spans carry the request id: {exported}"
    );
    for secret in [MANSOUR, "111111", "Mansour"] {
        assert!(!exported.contains(secret), "{secret} leaked into a span");
    }
}
