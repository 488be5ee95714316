//! `send-otp` with a notifier: the login OTP goes by e-mail to a real SMTP server (aiosmtpd)
//! and authenticates; a transport failure answers `send_otp_failed` without the address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../esignet-notify/tests/support/smtp_server.rs"]
mod smtp_server;

use std::sync::Arc;
use std::time::Duration;

use common::{CLIENT, ISSUER, Mock, RP, SID, errors};
use esignet_config::{SmtpSecurity, SmtpSettings};
use esignet_mock_identity::{MockIdentityConfig, OtpNotifier};
use esignet_notify::{ChannelNotifier, SmtpNotifier, Templates};
use serde_json::json;
use smtp_server::{SmtpOptions, SmtpServer};

fn smtp(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".to_owned(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "no-reply@esignet.test".to_owned(),
        ca_file: None,
        timeout: Duration::from_secs(5),
    }
}

async fn mock_with_smtp(port: u16) -> Mock {
    let data = tempfile::tempdir().unwrap();
    let mut config = MockIdentityConfig::new(data.path(), ISSUER);
    config.otp = "731905".to_owned();
    let email = SmtpNotifier::new(&smtp(port), Arc::new(Templates::default())).unwrap();
    config.notifier = Some(OtpNotifier(Arc::new(ChannelNotifier::new(
        None,
        Some(Arc::new(email)),
    ))));
    Mock::start_with(data, config).await
}

#[tokio::test]
async fn notify_the_login_otp_goes_by_email_and_authenticates() {
    let server = SmtpServer::start(&SmtpOptions::default());
    let mock = mock_with_smtp(server.port).await;
    let identity = mock.get(&format!("/identity/{SID}")).await;
    let address = identity["response"]["email"].as_str().unwrap().to_owned();
    let sent = mock
        .post(
            &format!("/send-otp/{RP}/{CLIENT}"),
            &json!({"transactionId": "t-mail", "individualId": SID,
                    "otpChannels": ["email", "phone"]}),
        )
        .await;
    assert_eq!(errors(&sent), Vec::<String>::new(), "{sent}");
    // Both destinations are still shown masked; only e-mail has a transport.
    assert!(
        sent["response"]["maskedEmail"]
            .as_str()
            .unwrap()
            .contains('X')
    );
    assert!(sent["response"]["maskedMobile"].is_string(), "{sent}");
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["rcpt_tos"], json!([address]));
    let body = messages[0]["body"].as_str().unwrap();
    let otp = regex::Regex::new(r"\d{6}")
        .unwrap()
        .find(body)
        .expect("an OTP in the mail")
        .as_str()
        .to_owned();
    assert_eq!(otp, "731905");
    assert!(body.contains("10"), "validity in minutes: {body}");
    let auth = mock
        .post(
            &format!("/v2/kyc-auth/{RP}/{CLIENT}"),
            &json!({"transactionId": "t-mail", "individualId": SID, "otp": otp}),
        )
        .await;
    assert_eq!(errors(&auth), Vec::<String>::new(), "{auth}");
    assert!(auth["response"]["kycToken"].is_string());
}

#[tokio::test]
async fn notify_a_transport_failure_is_send_otp_failed_without_the_address() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mock = mock_with_smtp(port).await;
    let identity = mock.get(&format!("/identity/{SID}")).await;
    let address = identity["response"]["email"].as_str().unwrap().to_owned();
    let sent = mock
        .post(
            &format!("/send-otp/{RP}/{CLIENT}"),
            &json!({"transactionId": "t-down", "individualId": SID,
                    "otpChannels": ["email"]}),
        )
        .await;
    assert_eq!(errors(&sent), vec!["send_otp_failed".to_owned()], "{sent}");
    let text = sent.to_string();
    assert!(!text.contains(&address), "{text}");
    assert!(!text.contains(SID), "{text}");
}

#[tokio::test]
async fn notify_a_channel_without_transport_keeps_the_default_behaviour() {
    let server = SmtpServer::start(&SmtpOptions::default());
    let mock = mock_with_smtp(server.port).await;
    let sent = mock
        .post(
            &format!("/send-otp/{RP}/{CLIENT}"),
            &json!({"transactionId": "t-sms", "individualId": SID, "otpChannels": ["phone"]}),
        )
        .await;
    assert_eq!(errors(&sent), Vec::<String>::new(), "{sent}");
    assert!(sent["response"]["maskedMobile"].is_string());
    assert!(server.messages().is_empty());
}
