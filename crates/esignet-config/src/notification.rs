//! The `[notification]` section: how OTPs and signup confirmations reach residents (e-mail over
//! SMTP, SMS over an HTTP gateway), the message texts per language, and their validation. Kept
//! in its own file, apart from the provider's sections.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::catalogue::{KeyDoc, SectionDoc, ValueKind};
use crate::error::Problems;
use crate::raw::section;
use crate::secret::SecretString;
use crate::settings::UnknownWord;
use crate::validate::{bounded, word};

/// Template names a message text or subject can be given for (eSignet's
/// `sms-notification-template.<name>`, plus `login-otp` of the identity system's OTP).
pub const NOTIFICATION_TEMPLATES: &[&str] =
    &["login-otp", "send-otp", "registration", "forgot-password"];

/// Longest accepted transport timeout: a resident is waiting on the answer.
const MAX_TIMEOUT_SECS: u64 = 120;

/// Declares a closed set of configuration words (the settings module's macro is private to it).
macro_rules! words {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $vdoc:literal])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[doc = $vdoc])* $variant,)+
        }

        impl $name {
            /// Every accepted spelling, in documentation order.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// The configuration spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownWord { expected: Self::ALL }),
                }
            }
        }
    };
}

words! {
    /// How the SMTP connection is protected.
    SmtpSecurity {
        /// Plain connection upgraded with STARTTLS; refused when the server does not offer it.
        Starttls = "starttls",
        /// TLS from the first byte (SMTPS, usually port 465).
        Tls = "tls",
        /// No encryption: only to a loopback host (a local relay).
        None = "none",
    }
}

words! {
    /// The request shape of the SMS gateway.
    SmsPreset {
        /// `notification.sms_body_template` as configured.
        Custom = "custom",
        /// MOSIP's kernel notifier (`POST .../v1/notifier/sms/send`).
        Mosip = "mosip",
    }
}

words! {
    /// The HTTP method of the SMS gateway request.
    SmsMethod {
        /// `POST`.
        Post = "POST",
        /// `PUT`.
        Put = "PUT",
    }
}

/// The body of MOSIP's kernel notifier (`SmsRequestDto` in a `RequestWrapper`): the preset
/// `mosip` sends it.
pub const MOSIP_SMS_BODY_TEMPLATE: &str = r#"{"id":"mosip.kernel.notification.sms","version":"v1","requesttime":"{requesttime}","metadata":{},"request":{"number":"{recipient}","message":"{message}"}}"#;

section! {
    /// Delivery of OTPs and signup notifications: e-mail over SMTP and SMS over an HTTP gateway.
    /// Without `smtp_host` and `sms_url` nothing is delivered (the OTP is only logged masked).
    NotificationRaw = "notification" {
        /// Language of a message when the resident's language has no text (three letters, e.g. `eng`).
        default_language: String = "eng".to_owned(), ValueKind::Str;
        /// SMTP server host name or address; e-mail is delivered only when set.
        smtp_host: Option<String> = None, ValueKind::OptStr, example = "\"smtp.example.org\"";
        /// SMTP server port (587 for STARTTLS, 465 for implicit TLS).
        smtp_port: u64 = 587, ValueKind::Int;
        /// Protection of the SMTP connection: `starttls` (required, never downgraded), `tls` (implicit) or `none` (loopback hosts only).
        smtp_security: String = "starttls".to_owned(), ValueKind::Enum(SmtpSecurity::ALL);
        /// SMTP AUTH user name; no authentication when unset.
        smtp_username: Option<String> = None, ValueKind::OptStr, example = "\"esignet\"";
        /// SMTP AUTH password (needs `smtp_username`).
        smtp_password: Option<SecretString> = None, ValueKind::Secret, example = "\"change-me\"";
        /// The `From:` address of every e-mail (required with `smtp_host`).
        smtp_from: Option<String> = None, ValueKind::OptStr, example = "\"eSignet <no-reply@example.org>\"";
        /// PEM file of an extra root certificate trusted for the SMTP server (a private CA); the system roots otherwise.
        smtp_ca_file: Option<String> = None, ValueKind::OptStr, example = "\"/etc/esignet/smtp-ca.pem\"";
        /// Seconds the SMTP connection and each command may take.
        smtp_timeout_secs: u64 = 10, ValueKind::Int;
        /// URL of the SMS gateway; SMS is delivered only when set (`https`, except on loopback).
        sms_url: Option<String> = None, ValueKind::OptStr, example = "\"https://kernel.example.org/v1/notifier/sms/send\"";
        /// Request shape: `custom` (`sms_body_template`) or `mosip` (MOSIP's kernel notifier body).
        sms_preset: String = "custom".to_owned(), ValueKind::Enum(SmsPreset::ALL);
        /// HTTP method of the gateway request.
        sms_method: String = "POST".to_owned(), ValueKind::Enum(SmsMethod::ALL);
        /// Extra request headers (name = value), e.g. an API key; their values are treated as secrets.
        sms_headers: serde_json::Map<String, serde_json::Value> = serde_json::Map::new(), ValueKind::Table;
        /// Request body with `{recipient}`, `{message}` (and `{requesttime}`) placeholders, substituted JSON-escaped; required for `custom`.
        sms_body_template: Option<String> = None, ValueKind::OptStr, example = "'{\"to\": \"{recipient}\", \"text\": \"{message}\"}'";
        /// `Content-Type` of the gateway request.
        sms_content_type: String = "application/json".to_owned(), ValueKind::Str;
        /// Seconds the gateway has to answer.
        sms_timeout_secs: u64 = 10, ValueKind::Int;
        /// Message texts replacing the built-in ones: `[notification.templates.<template>]` with one `<lang> = "text"` per language.
        /// Templates: `login-otp`, `send-otp`, `registration`, `forgot-password`; placeholders `{otp}`, `{challenge}`, `{validity_minutes}`.
        templates: serde_json::Map<String, serde_json::Value> = serde_json::Map::new(), ValueKind::Table;
        /// E-mail subjects replacing the built-in ones, shaped as `templates`.
        email_subjects: serde_json::Map<String, serde_json::Value> = serde_json::Map::new(), ValueKind::Table;
    }
}

/// `[notification]`, validated.
#[derive(Debug, Clone, Default)]
pub struct NotificationSettings {
    /// Fallback language of the texts.
    pub default_language: String,
    /// The e-mail transport, when configured.
    pub smtp: Option<SmtpSettings>,
    /// The SMS transport, when configured.
    pub sms: Option<SmsGatewaySettings>,
    /// Text overrides: template name → language → text.
    pub templates: BTreeMap<String, BTreeMap<String, String>>,
    /// Subject overrides: template name → language → subject.
    pub email_subjects: BTreeMap<String, BTreeMap<String, String>>,
}

impl NotificationSettings {
    /// Whether any transport is configured (else the masked log notifier stays in place).
    pub fn is_configured(&self) -> bool {
        self.smtp.is_some() || self.sms.is_some()
    }
}

/// A validated SMTP transport.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Connection protection; [`SmtpSecurity::None`] only with a loopback host.
    pub security: SmtpSecurity,
    /// AUTH user name.
    pub username: Option<String>,
    /// AUTH password.
    pub password: Option<SecretString>,
    /// The `From:` mailbox.
    pub from: String,
    /// Extra trusted root certificate (PEM file).
    pub ca_file: Option<PathBuf>,
    /// Connection and command timeout.
    pub timeout: Duration,
}

/// A validated SMS gateway.
#[derive(Debug, Clone)]
pub struct SmsGatewaySettings {
    /// Where requests go.
    pub url: Url,
    /// The preset the body follows.
    pub preset: SmsPreset,
    /// HTTP method.
    pub method: SmsMethod,
    /// Extra headers (name, value); values may be credentials.
    pub headers: Vec<(String, SecretString)>,
    /// Body with `{recipient}`, `{message}` and `{requesttime}` placeholders.
    pub body_template: String,
    /// `Content-Type`.
    pub content_type: String,
    /// Answer timeout.
    pub timeout: Duration,
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn language_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase())
}

/// An HTTP header name: an RFC 9110 token.
fn header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

pub(crate) fn notification(raw: NotificationRaw, problems: &mut Problems) -> NotificationSettings {
    let default_language = raw.default_language.trim().to_owned();
    if !language_code(&default_language) {
        problems.push(
            "notification.default_language",
            format!("\"{default_language}\" is not a three-letter lower-case language code"),
        );
    }
    let smtp = trimmed(raw.smtp_host.clone()).and_then(|host| smtp(&raw, host, problems));
    if raw.smtp_host.as_deref().is_none_or(|h| h.trim().is_empty()) {
        for (key, set) in [
            ("notification.smtp_from", raw.smtp_from.is_some()),
            ("notification.smtp_username", raw.smtp_username.is_some()),
        ] {
            if set {
                problems.push(key, "is set but notification.smtp_host is not");
            }
        }
    }
    let sms = trimmed(raw.sms_url.clone()).and_then(|url| sms(&raw, &url, problems));
    NotificationSettings {
        default_language,
        smtp,
        sms,
        templates: texts(problems, "notification.templates", raw.templates),
        email_subjects: texts(problems, "notification.email_subjects", raw.email_subjects),
    }
}

fn smtp(raw: &NotificationRaw, host: String, problems: &mut Problems) -> Option<SmtpSettings> {
    let security = word(problems, "notification.smtp_security", &raw.smtp_security)
        .unwrap_or(SmtpSecurity::Starttls);
    if security == SmtpSecurity::None && !is_loopback(&host) {
        // The OTP and the AUTH password would cross the network in clear.
        problems.push(
            "notification.smtp_security",
            format!(
                "\"none\" is only allowed with a loopback smtp_host, not \"{host}\"; use \"starttls\" or \"tls\""
            ),
        );
    }
    if host.contains(|c: char| c.is_whitespace() || c == '/' || c == ':') && !host.starts_with('[')
    {
        problems.push(
            "notification.smtp_host",
            format!("\"{host}\" is not a host name or address (give the port in smtp_port)"),
        );
    }
    let port = bounded(problems, "notification.smtp_port", raw.smtp_port, 1, 65535);
    let from = trimmed(raw.smtp_from.clone());
    match &from {
        None => problems.push(
            "notification.smtp_from",
            "is required when notification.smtp_host is set",
        ),
        Some(from) if !from.contains('@') => problems.push(
            "notification.smtp_from",
            format!("\"{from}\" is not an e-mail address"),
        ),
        Some(_) => {}
    }
    let username = trimmed(raw.smtp_username.clone());
    let password = raw.smtp_password.clone().filter(|p| !p.expose().is_empty());
    if password.is_some() && username.is_none() {
        problems.push(
            "notification.smtp_password",
            "is set but notification.smtp_username is not",
        );
    }
    let timeout = Duration::from_secs(bounded(
        problems,
        "notification.smtp_timeout_secs",
        raw.smtp_timeout_secs,
        1,
        MAX_TIMEOUT_SECS,
    ));
    Some(SmtpSettings {
        host,
        port: u16::try_from(port).unwrap_or(587),
        security,
        username,
        password,
        from: from?,
        ca_file: trimmed(raw.smtp_ca_file.clone()).map(PathBuf::from),
        timeout,
    })
}

fn sms(raw: &NotificationRaw, text: &str, problems: &mut Problems) -> Option<SmsGatewaySettings> {
    let url = match gateway_url(text) {
        Ok(url) => Some(url),
        Err(message) => {
            problems.push("notification.sms_url", message);
            None
        }
    };
    let preset =
        word(problems, "notification.sms_preset", &raw.sms_preset).unwrap_or(SmsPreset::Custom);
    let method =
        word(problems, "notification.sms_method", &raw.sms_method).unwrap_or(SmsMethod::Post);
    let body_template = match (preset, trimmed(raw.sms_body_template.clone())) {
        (_, Some(template)) => Some(template),
        (SmsPreset::Mosip, None) => Some(MOSIP_SMS_BODY_TEMPLATE.to_owned()),
        (SmsPreset::Custom, None) => {
            problems.push(
                "notification.sms_body_template",
                "is required when notification.sms_preset is \"custom\"",
            );
            None
        }
    };
    if let Some(template) = &body_template {
        for placeholder in ["{recipient}", "{message}"] {
            if !template.contains(placeholder) {
                problems.push(
                    "notification.sms_body_template",
                    format!("must contain the placeholder {placeholder}"),
                );
            }
        }
    }
    let mut headers = Vec::new();
    for (name, value) in &raw.sms_headers {
        match value {
            serde_json::Value::String(value) if header_name(name) => {
                headers.push((name.clone(), SecretString::new(value.clone())));
            }
            serde_json::Value::String(_) => problems.push(
                "notification.sms_headers",
                format!("\"{name}\" is not an HTTP header name"),
            ),
            // The value is not repeated: it may be a credential.
            _ => problems.push(
                "notification.sms_headers",
                format!("the value of \"{name}\" must be a string"),
            ),
        }
    }
    let content_type = raw.sms_content_type.trim().to_owned();
    if content_type.is_empty() || content_type.contains(['\r', '\n']) {
        problems.push(
            "notification.sms_content_type",
            "must be a media type such as application/json",
        );
    }
    let timeout = Duration::from_secs(bounded(
        problems,
        "notification.sms_timeout_secs",
        raw.sms_timeout_secs,
        1,
        MAX_TIMEOUT_SECS,
    ));
    Some(SmsGatewaySettings {
        url: url?,
        preset,
        method,
        headers,
        body_template: body_template?,
        content_type,
        timeout,
    })
}

/// The gateway receives phone numbers and OTPs: `https` only, except on loopback (a local
/// relay or a test double). A query string is allowed (some gateways want their key there).
fn gateway_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("\"{text}\" is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("\"{text}\" must use http or https"));
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => return Err(format!("\"{text}\" has no host")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        // The value is not repeated: it contains credentials.
        return Err("must not contain a user name or password; use sms_headers".to_owned());
    }
    if url.scheme() != "https" && !loopback {
        return Err(format!(
            "\"{text}\" must use https (phone numbers and OTPs are sent to it)"
        ));
    }
    Ok(url)
}

/// `[<template>] <lang> = "text"` tables, checked: known template names, three-letter
/// languages, string texts.
fn texts(
    problems: &mut Problems,
    key: &str,
    table: serde_json::Map<String, serde_json::Value>,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (template, languages) in table {
        if !NOTIFICATION_TEMPLATES.contains(&template.as_str()) {
            problems.push(
                key,
                format!(
                    "\"{template}\" is not a template; use {}",
                    NOTIFICATION_TEMPLATES.join(", ")
                ),
            );
            continue;
        }
        let serde_json::Value::Object(languages) = languages else {
            problems.push(
                key,
                format!("\"{template}\" must be a table of language = \"text\""),
            );
            continue;
        };
        let mut texts = BTreeMap::new();
        for (language, text) in languages {
            match text {
                serde_json::Value::String(text) if language_code(&language) => {
                    if text.trim().is_empty() {
                        problems.push(key, format!("{template}.{language} must not be empty"));
                    }
                    texts.insert(language, text);
                }
                serde_json::Value::String(_) => problems.push(
                    key,
                    format!(
                        "{template}: \"{language}\" is not a three-letter lower-case language code"
                    ),
                ),
                _ => problems.push(key, format!("{template}.{language} must be a string")),
            }
        }
        out.insert(template, texts);
    }
    out
}
