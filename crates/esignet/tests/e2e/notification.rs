//! Login OTPs of `esignet demo`'s mock identity system delivered through `[notification]`:
//! by e-mail to a real SMTP server (aiosmtpd), the OTP read from the mail authenticates; an SMS
//! gateway answering 500 gives `send_otp_failed` without the number. And `config check`
//! reports an unreachable SMTP server.

// Also used by the production-shaped deployment tests.
#[path = "../../../esignet-notify/tests/support/smtp_server.rs"]
pub(crate) mod smtp_server;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::json;
use smtp_server::{SmtpOptions, SmtpServer};

use crate::demo::start_demo_with;
use crate::harness::{free_port, run_cli};
use crate::login::{Browser, authorize_request};

/// A demo persona with an e-mail and a phone (`+212612345678`), preferring French.
const SID: &str = "8267411571";

/// The six-digit OTP in a delivered message (mail body or SMS text).
pub(crate) fn otp_in(message: &str) -> String {
    message
        .split_whitespace()
        .map(|word| word.trim_end_matches('.'))
        .find(|word| word.len() == 6 && word.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("an OTP in the message: {message}"))
        .to_owned()
}

async fn browser_for<'a>(demo: &'a crate::demo::Demo) -> Browser<'a> {
    let request = authorize_request(
        "health-services-demo",
        &format!("{}/callback", demo.rp),
        "openid email",
        None,
    );
    Browser::start(&demo.server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap()
}

#[tokio::test]
async fn notification_login_otp_is_mailed_and_authenticates() {
    let smtp = SmtpServer::start(&SmtpOptions::default());
    let port = smtp.port.to_string();
    let demo = start_demo_with(&[
        ("ESIGNET_NOTIFICATION__SMTP_HOST", "127.0.0.1"),
        ("ESIGNET_NOTIFICATION__SMTP_PORT", port.as_str()),
        ("ESIGNET_NOTIFICATION__SMTP_SECURITY", "none"),
        ("ESIGNET_NOTIFICATION__SMTP_FROM", "no-reply@esignet.test"),
    ])
    .await;
    let browser = browser_for(&demo).await;
    let sent = browser.send_otp(SID).await;
    assert_eq!(sent["errors"], json!([]), "{sent}");
    // The masked destinations are answered as without delivery.
    assert!(sent["response"]["maskedEmail"].is_string(), "{sent}");
    assert!(sent["response"]["maskedMobile"].is_string(), "{sent}");
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    // In the identity's preferred language (French).
    assert_eq!(messages[0]["subject"], "Votre code de connexion eSignet");
    assert_eq!(
        messages[0]["rcpt_tos"],
        json!(["siddharth.mansour@example.com"])
    );
    let otp = otp_in(messages[0]["body"].as_str().unwrap());
    let authenticated = browser
        .authenticate(SID, "OTP", &otp, "alpha-numeric")
        .await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
}

#[tokio::test]
async fn notification_gateway_500_is_send_otp_failed_without_the_number() {
    let app = Router::new().route(
        "/{*path}",
        post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v1/notifier/sms/send",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let demo = start_demo_with(&[
        ("ESIGNET_NOTIFICATION__SMS_URL", url.as_str()),
        ("ESIGNET_NOTIFICATION__SMS_PRESET", "mosip"),
    ])
    .await;
    let browser = browser_for(&demo).await;
    let sent = browser.send_otp(SID).await;
    assert_eq!(sent["errors"][0]["errorCode"], "send_otp_failed", "{sent}");
    let text = sent.to_string();
    assert!(!text.contains("612345678"), "{text}");
}

#[test]
fn notification_config_check_reports_an_unreachable_smtp_server_and_a_bad_url() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let (status, _, stderr) = run_cli(
        &["config", "check"],
        data.path(),
        &[
            ("ESIGNET_NOTIFICATION__SMTP_HOST", "127.0.0.1"),
            ("ESIGNET_NOTIFICATION__SMTP_PORT", port.as_str()),
            ("ESIGNET_NOTIFICATION__SMTP_SECURITY", "none"),
            ("ESIGNET_NOTIFICATION__SMTP_FROM", "no-reply@esignet.test"),
        ],
    );
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains("notification.smtp_host")
            && stderr.contains("cannot connect to the SMTP server"),
        "{stderr}"
    );
    let (status, _, stderr) = run_cli(
        &["config", "check"],
        data.path(),
        &[("ESIGNET_NOTIFICATION__SMS_URL", "sms.example.org/send")],
    );
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains("notification.sms_url") && stderr.contains("is not a URL"),
        "{stderr}"
    );
    let smtp = SmtpServer::start(&SmtpOptions::default());
    let port = smtp.port.to_string();
    let (status, stdout, stderr) = run_cli(
        &["config", "check"],
        data.path(),
        &[
            ("ESIGNET_NOTIFICATION__SMTP_HOST", "127.0.0.1"),
            ("ESIGNET_NOTIFICATION__SMTP_PORT", port.as_str()),
            ("ESIGNET_NOTIFICATION__SMTP_SECURITY", "none"),
            ("ESIGNET_NOTIFICATION__SMTP_FROM", "no-reply@esignet.test"),
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("configuration is valid"));
}
