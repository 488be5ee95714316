//! `SmtpNotifier` against a real SMTP server (aiosmtpd): STARTTLS with a certificate made
//! here, AUTH, implicit TLS, plain loopback, and every failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use esignet_config::{SecretString, SmtpSecurity, SmtpSettings};
use esignet_notify::{SmtpNotifier, Templates};
use esignet_spi::{
    Notification, NotificationChannel, NotificationError, NotificationTemplate, Notifier,
};
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509, X509NameBuilder};
use support::smtp_server::{SmtpOptions, SmtpServer};

const RECIPIENT: &str = "amina.haddad@example.org";
const OTP: &str = "482913";

/// A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem).
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "localhost").unwrap();
    let name = name.build();
    let mut builder = X509::builder().unwrap();
    builder.set_version(2).unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_issuer_name(&name).unwrap();
    builder.set_pubkey(&key).unwrap();
    builder
        .set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    builder
        .set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .ip("127.0.0.1")
        .build(&builder.x509v3_context(None, None))
        .unwrap();
    builder.append_extension(san).unwrap();
    builder.sign(&key, MessageDigest::sha256()).unwrap();
    let cert = builder.build();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.to_pem().unwrap()).unwrap();
    std::fs::write(&key_path, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    (cert_path, key_path)
}

fn settings(port: u16, security: SmtpSecurity) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".to_owned(),
        port,
        security,
        username: None,
        password: None,
        from: "eSignet <no-reply@esignet.test>".to_owned(),
        ca_file: None,
        timeout: Duration::from_secs(5),
    }
}

fn login_otp(locale: &str) -> Notification {
    Notification {
        channel: NotificationChannel::Email,
        recipient: RECIPIENT.to_owned(),
        template: NotificationTemplate::LoginOtp,
        locale: locale.to_owned(),
        values: BTreeMap::from([
            ("otp".to_owned(), OTP.to_owned()),
            ("validity_minutes".to_owned(), "10".to_owned()),
        ]),
    }
}

fn notifier(settings: &SmtpSettings) -> SmtpNotifier {
    SmtpNotifier::new(settings, Arc::new(Templates::default())).unwrap()
}

/// The error is a delivery failure that names neither the address nor the OTP.
fn assert_clean_delivery_error(result: Result<(), NotificationError>) -> String {
    let error = result.expect_err("delivery must fail");
    let NotificationError::Delivery(message) = &error else {
        panic!("not a delivery error: {error:?}");
    };
    let text = error.to_string();
    for secret in [RECIPIENT, "amina", OTP] {
        assert!(!text.contains(secret), "{text} leaks {secret}");
    }
    message.clone()
}

struct TlsServer {
    server: SmtpServer,
    _dir: tempfile::TempDir,
    cert: PathBuf,
}

fn tls_server(implicit: bool) -> TlsServer {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let server = SmtpServer::start(&SmtpOptions {
        tls: Some((cert.clone(), key)),
        implicit_tls: implicit,
        auth: Some(("esignet".to_owned(), "right-password".to_owned())),
    });
    TlsServer {
        server,
        _dir: dir,
        cert,
    }
}

fn with_auth(mut settings: SmtpSettings, cert: &Path, password: &str) -> SmtpSettings {
    settings.username = Some("esignet".to_owned());
    settings.password = Some(SecretString::new(password));
    settings.ca_file = Some(cert.to_owned());
    settings
}

#[tokio::test]
async fn starttls_and_auth_deliver_the_login_otp_in_arabic() {
    let tls = tls_server(false);
    let settings = with_auth(
        settings(tls.server.port, SmtpSecurity::Starttls),
        &tls.cert,
        "right-password",
    );
    let notifier = notifier(&settings);
    assert!(notifier.supports(NotificationChannel::Email));
    assert!(!notifier.supports(NotificationChannel::Sms));
    notifier.check().await.unwrap();
    notifier.send(&login_otp("ara")).await.unwrap();
    let messages = tls.server.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message["rcpt_tos"], serde_json::json!([RECIPIENT]));
    assert_eq!(message["mail_from"], "no-reply@esignet.test");
    assert_eq!(message["subject"], "رمز تسجيل الدخول إلى eSignet");
    let body = message["body"].as_str().unwrap();
    assert!(body.contains(OTP), "{body}");
    assert!(body.contains("10 دقائق"), "{body}");
}

#[tokio::test]
async fn implicit_tls_delivers_in_the_default_language_when_the_locale_has_no_text() {
    let tls = tls_server(true);
    let settings = with_auth(
        settings(tls.server.port, SmtpSecurity::Tls),
        &tls.cert,
        "right-password",
    );
    notifier(&settings).send(&login_otp("deu")).await.unwrap();
    let messages = tls.server.messages();
    assert_eq!(messages[0]["subject"], "Your eSignet login code");
    assert!(messages[0]["body"].as_str().unwrap().contains(OTP));
}

#[tokio::test]
async fn plain_smtp_to_a_loopback_relay() {
    let server = SmtpServer::start(&SmtpOptions::default());
    let mut note = login_otp("fra");
    note.template = NotificationTemplate::SignupOtp;
    note.values = BTreeMap::from([("challenge".to_owned(), "7731".to_owned())]);
    notifier(&settings(server.port, SmtpSecurity::None))
        .send(&note)
        .await
        .unwrap();
    let messages = server.messages();
    assert_eq!(messages[0]["subject"], "Votre code de vérification eSignet");
    assert!(messages[0]["body"].as_str().unwrap().contains("7731"));
}

#[tokio::test]
async fn a_wrong_password_is_a_delivery_error_without_the_address() {
    let tls = tls_server(false);
    let settings = with_auth(
        settings(tls.server.port, SmtpSecurity::Starttls),
        &tls.cert,
        "wrong-password",
    );
    let notifier = notifier(&settings);
    let message = assert_clean_delivery_error(notifier.send(&login_otp("eng")).await);
    assert!(message.contains("535"), "{message}");
    assert!(tls.server.messages().is_empty());
    assert_clean_delivery_error(notifier.check().await);
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let tls = tls_server(false);
    let mut settings = with_auth(
        settings(tls.server.port, SmtpSecurity::Starttls),
        &tls.cert,
        "right-password",
    );
    settings.ca_file = None;
    let message = assert_clean_delivery_error(notifier(&settings).send(&login_otp("eng")).await);
    assert!(message.contains("certificate verify failed"), "{message}");
    assert!(tls.server.messages().is_empty());
}

#[tokio::test]
async fn starttls_required_but_not_offered_is_refused() {
    let server = SmtpServer::start(&SmtpOptions::default());
    let message = assert_clean_delivery_error(
        notifier(&settings(server.port, SmtpSecurity::Starttls))
            .send(&login_otp("eng"))
            .await,
    );
    assert!(message.contains("STARTTLS"), "{message}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn a_server_that_is_down_fails_at_once() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let notifier = notifier(&settings(port, SmtpSecurity::None));
    let message = assert_clean_delivery_error(notifier.send(&login_otp("eng")).await);
    assert!(
        message.starts_with("cannot connect to the SMTP server"),
        "{message}"
    );
    assert_clean_delivery_error(notifier.check().await);
}

#[tokio::test]
async fn a_server_that_never_greets_times_out() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut settings = settings(port, SmtpSecurity::None);
    settings.timeout = Duration::from_secs(1);
    let message = assert_clean_delivery_error(notifier(&settings).send(&login_otp("eng")).await);
    assert!(message.contains("in time"), "{message}");
    silent.abort();
}

#[tokio::test]
async fn a_recipient_that_is_not_an_address_and_the_wrong_channel_are_refused() {
    let notifier = notifier(&settings(1, SmtpSecurity::None));
    let mut note = login_otp("eng");
    note.recipient = "not an address".to_owned();
    let error = notifier.send(&note).await.unwrap_err();
    assert_eq!(
        error,
        NotificationError::Delivery("the recipient is not an e-mail address".to_owned())
    );
    note.channel = NotificationChannel::Sms;
    assert_eq!(
        notifier.send(&note).await,
        Err(NotificationError::ChannelUnavailable("sms"))
    );
}

#[test]
fn a_bad_from_address_or_ca_file_is_refused_at_setup() {
    let mut bad = settings(25, SmtpSecurity::Starttls);
    bad.from = "nobody".to_owned();
    assert!(SmtpNotifier::new(&bad, Arc::new(Templates::default())).is_err());
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let mut bad = settings(25, SmtpSecurity::Starttls);
    bad.ca_file = Some(not_pem);
    let error = SmtpNotifier::new(&bad, Arc::new(Templates::default())).unwrap_err();
    assert!(
        error.to_string().contains("not a PEM certificate"),
        "{error}"
    );
    let mut bad = settings(25, SmtpSecurity::Tls);
    bad.ca_file = Some(dir.path().join("missing.pem"));
    let error = SmtpNotifier::new(&bad, Arc::new(Templates::default())).unwrap_err();
    assert!(error.to_string().contains("cannot read"), "{error}");
}
