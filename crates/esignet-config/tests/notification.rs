//! The `[notification]` section: defaults, both transports, the presets, text overrides and
//! every validation rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use esignet_config::{
    ConfigErrors, MOSIP_SMS_BODY_TEMPLATE, Settings, SmsMethod, SmsPreset, SmtpSecurity, load,
};

fn load_toml(text: &str) -> Result<Settings, ConfigErrors> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("esignet.toml");
    std::fs::write(&path, text).unwrap();
    load(Some(&path), Vec::<(String, String)>::new())
}

fn problems(text: &str) -> Vec<(String, String)> {
    match load_toml(text) {
        Ok(settings) => panic!("expected problems: {:?}", settings.notification),
        Err(errors) => errors
            .problems()
            .iter()
            .map(|p| (p.key.clone(), p.message.clone()))
            .collect(),
    }
}

fn has(problems: &[(String, String)], key: &str, fragment: &str) -> bool {
    problems
        .iter()
        .any(|(k, m)| k == key && m.contains(fragment))
}

#[test]
fn nothing_is_delivered_by_default() {
    let notification = load(None, Vec::<(String, String)>::new())
        .unwrap()
        .notification;
    assert!(!notification.is_configured());
    assert_eq!(notification.default_language, "eng");
    assert!(notification.templates.is_empty());
}

#[test]
fn smtp_with_starttls_auth_and_a_redacted_password() {
    let settings = load_toml(
        r#"
        [notification]
        smtp_host = "smtp.example.org"
        smtp_username = "esignet"
        smtp_password = "s3cret-pass"
        smtp_from = "eSignet <no-reply@example.org>"
        smtp_timeout_secs = 5
        "#,
    )
    .unwrap();
    let smtp = settings.notification.smtp.clone().unwrap();
    assert_eq!(smtp.host, "smtp.example.org");
    assert_eq!(smtp.port, 587);
    assert_eq!(smtp.security, SmtpSecurity::Starttls);
    assert_eq!(smtp.username.as_deref(), Some("esignet"));
    assert_eq!(smtp.password.as_ref().unwrap().expose(), "s3cret-pass");
    assert_eq!(smtp.timeout, Duration::from_secs(5));
    assert!(!format!("{settings:?}").contains("s3cret-pass"));
    assert!(settings.notification.is_configured());
}

#[test]
fn smtp_without_encryption_only_to_loopback() {
    let refused = problems(
        r#"
        [notification]
        smtp_host = "mail.example.org"
        smtp_security = "none"
        smtp_from = "a@example.org"
        "#,
    );
    assert!(has(&refused, "notification.smtp_security", "loopback"));
    let settings = load_toml(
        r#"
        [notification]
        smtp_host = "127.0.0.1"
        smtp_port = 2525
        smtp_security = "none"
        smtp_from = "a@example.org"
        "#,
    )
    .unwrap();
    assert_eq!(
        settings.notification.smtp.unwrap().security,
        SmtpSecurity::None
    );
}

#[test]
fn smtp_problems_are_each_reported() {
    let found = problems(
        r#"
        [notification]
        smtp_host = "smtp.example.org:25"
        smtp_port = 0
        smtp_security = "ssl"
        smtp_password = "x"
        smtp_timeout_secs = 0
        "#,
    );
    assert!(has(&found, "notification.smtp_from", "required"));
    assert!(has(&found, "notification.smtp_host", "smtp_port"));
    assert!(has(&found, "notification.smtp_port", "greater than 0"));
    assert!(has(&found, "notification.smtp_security", "\"ssl\""));
    assert!(has(&found, "notification.smtp_password", "smtp_username"));
    assert!(has(
        &found,
        "notification.smtp_timeout_secs",
        "greater than 0"
    ));
    let found = problems(
        r#"
        [notification]
        smtp_host = "smtp.example.org"
        smtp_from = "nobody"
        "#,
    );
    assert!(has(
        &found,
        "notification.smtp_from",
        "not an e-mail address"
    ));
    let found = problems(
        r#"
        [notification]
        smtp_from = "a@example.org"
        "#,
    );
    assert!(has(&found, "notification.smtp_from", "smtp_host is not"));
}

#[test]
fn sms_gateway_with_the_mosip_preset() {
    let settings = load_toml(
        r#"
        [notification]
        sms_url = "https://kernel.example.org/v1/notifier/sms/send"
        sms_preset = "mosip"
        [notification.sms_headers]
        Authorization = "Bearer abc"
        "#,
    )
    .unwrap();
    let sms = settings.notification.sms.clone().unwrap();
    assert_eq!(sms.preset, SmsPreset::Mosip);
    assert_eq!(sms.method, SmsMethod::Post);
    assert_eq!(sms.body_template, MOSIP_SMS_BODY_TEMPLATE);
    assert_eq!(sms.content_type, "application/json");
    assert_eq!(sms.headers[0].0, "Authorization");
    assert!(!format!("{settings:?}").contains("Bearer abc"));
}

#[test]
fn sms_gateway_problems_are_each_reported() {
    let found = problems(
        r#"
        [notification]
        sms_url = "http://sms.example.org/send"
        sms_method = "GET"
        sms_content_type = ""
        sms_timeout_secs = 500
        [notification.sms_headers]
        "Bad Header" = "x"
        X-Count = 3
        "#,
    );
    assert!(has(&found, "notification.sms_url", "must use https"));
    assert!(has(&found, "notification.sms_method", "\"GET\""));
    assert!(has(&found, "notification.sms_body_template", "required"));
    assert!(has(&found, "notification.sms_content_type", "media type"));
    assert!(has(
        &found,
        "notification.sms_timeout_secs",
        "between 1 and 120"
    ));
    assert!(has(&found, "notification.sms_headers", "\"Bad Header\""));
    assert!(has(&found, "notification.sms_headers", "X-Count"));
    let found = problems(
        r#"
        [notification]
        sms_url = "not a url"
        sms_body_template = '{"to": "{recipient}"}'
        "#,
    );
    assert!(has(&found, "notification.sms_url", "is not a URL"));
    assert!(has(&found, "notification.sms_body_template", "{message}"));
    let found = problems(
        r#"
        [notification]
        sms_url = "https://user:pw@sms.example.org/send"
        sms_preset = "mosip"
        "#,
    );
    assert!(has(&found, "notification.sms_url", "user name or password"));
    assert!(!found.iter().any(|(_, m)| m.contains("pw@")));
}

#[test]
fn loopback_gateways_may_use_http() {
    let settings = load_toml(
        r#"
        [notification]
        sms_url = "http://127.0.0.1:9000/sms?key=abc"
        sms_body_template = '{"to": "{recipient}", "text": "{message}"}'
        sms_method = "PUT"
        "#,
    )
    .unwrap();
    let sms = settings.notification.sms.unwrap();
    assert_eq!(sms.method, SmsMethod::Put);
    assert_eq!(sms.url.query(), Some("key=abc"));
}

#[test]
fn text_overrides_per_template_and_language() {
    let settings = load_toml(
        r#"
        [notification.templates.login-otp]
        eng = "Code {otp}"
        fra = "Code {otp} (fr)"
        [notification.email_subjects.send-otp]
        eng = "Your code"
        "#,
    )
    .unwrap();
    let notification = settings.notification;
    assert_eq!(
        notification.templates["login-otp"]["fra"],
        "Code {otp} (fr)"
    );
    assert_eq!(notification.email_subjects["send-otp"]["eng"], "Your code");
    let found = problems(
        r#"
        [notification]
        default_language = "en"
        [notification.templates.welcome]
        eng = "Hi"
        [notification.templates.send-otp]
        en = "x"
        fra = ""
        hin = 3
        [notification.email_subjects]
        registration = "flat"
        "#,
    );
    assert!(has(&found, "notification.default_language", "\"en\""));
    assert!(has(&found, "notification.templates", "\"welcome\""));
    assert!(has(&found, "notification.templates", "\"en\""));
    assert!(has(
        &found,
        "notification.templates",
        "send-otp.fra must not be empty"
    ));
    assert!(has(
        &found,
        "notification.templates",
        "send-otp.hin must be a string"
    ));
    assert!(has(
        &found,
        "notification.email_subjects",
        "\"registration\""
    ));
}
