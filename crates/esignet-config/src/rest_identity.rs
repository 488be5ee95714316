//! The `[rest_identity]` section: a generic REST identity system behind `authenticator.kind =
//! "rest"`, described by request templates and JSON-pointer mappings (see
//! docs/identity-systems.md). Templates are checked here with the same rules the adapter
//! (`esignet-authenticator-rest`) applies, so `esignet config check` names every mistake.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::catalogue::{KeyDoc, SectionDoc, ValueKind};
use crate::error::Problems;
use crate::raw::section;
use crate::secret::SecretString;
use crate::settings::AuthenticatorKind;
use crate::validate::secs;

section! {
    /// A generic REST identity system, for `authenticator.kind = "rest"`: each operation is an
    /// HTTP request template and the answers are read with JSON pointers (see docs/identity-systems.md).
    /// Templates may name `{individual_id}`, `{transaction_id}`, `{relying_party_id}`, `{client_id}`,
    /// plus `{factor}` and `{challenge}` (authenticate) or `{channels}` (send_otp); `{{` and `}}` are literal braces.
    /// Values are percent-encoded in URLs and JSON-escaped in bodies.
    RestIdentityRaw = "rest_identity" {
        /// Auth factor types the identity system verifies (`OTP`, `PIN`, `PWD`, `KBI`, ...); others are refused before any call.
        auth_factors: Vec<String> = vec!["OTP".to_owned()], ValueKind::StrList, example = "[\"OTP\", \"PIN\"]";
        /// URL template of the `authenticate` operation (POST, once per challenge). Required.
        authenticate_url: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"https://id.example.org/api/authenticate\"";
        /// JSON body template of `authenticate`.
        authenticate_body: String = r#"{"id": "{individual_id}", "factor": "{factor}", "challenge": "{challenge}"}"#.to_owned(), ValueKind::Str;
        /// JSON pointer into the `authenticate` answer that decides success. Empty: any 2xx answer is a success.
        authenticate_success_pointer: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"/result/authenticated\"";
        /// The value at `authenticate_success_pointer` meaning success, as JSON (`true`, `"OK"`); text that is not JSON is a string.
        authenticate_success_value: String = "true".to_owned(), ValueKind::Str;
        /// JSON pointer to the person's stable id in the `authenticate` answer, from which the pairwise subject is derived. Empty: the individual id is.
        authenticate_subject_pointer: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"/result/personId\"";
        /// URL template of the `send_otp` operation (POST). Empty: the identity system sends no OTP (`not_implemented`).
        send_otp_url: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"https://id.example.org/api/otp\"";
        /// JSON body template of `send_otp`; a string that is only `{channels}` becomes the JSON array of channels.
        send_otp_body: String = r#"{"id": "{individual_id}", "channels": "{channels}"}"#.to_owned(), ValueKind::Str;
        /// JSON pointer to the masked email address in the `send_otp` answer. Empty: none shown.
        send_otp_masked_email_pointer: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"/maskedEmail\"";
        /// JSON pointer to the masked phone number in the `send_otp` answer. Empty: none shown.
        send_otp_masked_mobile_pointer: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"/maskedMobile\"";
        /// OTP channels the identity system sends on (`email`, `phone`).
        otp_channels: Vec<String> = vec!["email".to_owned(), "phone".to_owned()], ValueKind::StrList;
        /// URL template of the `user_info` operation, read at the KYC exchange. Required.
        user_info_url: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"https://id.example.org/api/people/{individual_id}\"";
        /// HTTP method of `user_info`.
        user_info_method: String = "GET".to_owned(), ValueKind::Enum(METHODS);
        /// JSON body template of a `POST` `user_info`.
        user_info_body: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"{\\\"id\\\": \\\"{individual_id}\\\"}\"";
        /// OIDC claim → JSON pointer into the `user_info` answer. Only mapped claims are ever released.
        /// A value that is a list of `{language, value}` is released in the requested locales. Empty means the default.
        claims: Map<String, Value> = Map::new(), ValueKind::Table,
            default_doc = "`{ name = \"/name\", email = \"/email\", phone_number = \"/phone\" }`",
            example = "{ name = \"/fullName\", email = \"/contact/email\", phone_number = \"/contact/phone\", gender = \"/gender\" }";
        /// Mapped claims that must be in the `user_info` answer once accepted; a missing one is `data_exchange_failed`.
        required_claims: Vec<String> = Vec::new(), ValueKind::StrList, example = "[\"name\"]";
        /// Extra headers sent with every call (not secret; put keys in `api_key`).
        headers: Map<String, Value> = Map::new(), ValueKind::Table, example = "{ Accept = \"application/json\" }";
        /// API key sent in the `api_key_header` header with every call, if the identity system requires one.
        /// Prefer `ESIGNET_REST_IDENTITY__API_KEY`.
        api_key: Option<SecretString> = None, ValueKind::Secret, example = "\"<identity system API key>\"";
        /// Header carrying `api_key` (for example `Authorization` with a key `Bearer <token>`).
        api_key_header: String = "X-API-Key".to_owned(), ValueKind::Str;
        /// Total time allowed for one call, in seconds.
        timeout_secs: u64 = 10, ValueKind::Int;
        /// Time allowed to connect, in seconds.
        connect_timeout_secs: u64 = 2, ValueKind::Int;
        /// Seconds a KYC token (between authentication and the token request) stays usable.
        kyc_token_ttl_secs: u64 = 300, ValueKind::Int;
        /// ISO 639-3 language of multi-language values when no requested claims locale matches.
        default_language: String = "eng".to_owned(), ValueKind::Str;
    }
}

/// The accepted `rest_identity.user_info_method` words.
const METHODS: &[&str] = &["GET", "POST"];

const COMMON: &[&str] = &[
    "individual_id",
    "transaction_id",
    "relying_party_id",
    "client_id",
];

/// The `send_otp` operation, validated.
#[derive(Clone, Debug)]
pub struct RestSendOtpSettings {
    /// URL template.
    pub url: String,
    /// JSON body template.
    pub body: String,
    /// Pointer to the masked email address.
    pub masked_email_pointer: Option<String>,
    /// Pointer to the masked phone number.
    pub masked_mobile_pointer: Option<String>,
}

/// `[rest_identity]`, validated.
#[derive(Clone, Debug)]
pub struct RestIdentitySettings {
    /// Auth factor types accepted.
    pub auth_factors: Vec<String>,
    /// `authenticate` URL template.
    pub authenticate_url: String,
    /// `authenticate` JSON body template.
    pub authenticate_body: String,
    /// Pointer deciding success, and the value meaning success; `None`: any 2xx.
    pub authenticate_success: Option<(String, Value)>,
    /// Pointer to the person's stable id.
    pub authenticate_subject_pointer: Option<String>,
    /// `send_otp`, if configured.
    pub send_otp: Option<RestSendOtpSettings>,
    /// OTP channels.
    pub otp_channels: Vec<String>,
    /// `user_info` URL template.
    pub user_info_url: String,
    /// Whether `user_info` is a `POST` (else `GET`).
    pub user_info_post: bool,
    /// `user_info` JSON body template of a `POST`.
    pub user_info_body: Option<String>,
    /// OIDC claim → JSON pointer.
    pub claims: Vec<(String, String)>,
    /// Claims that must be present once accepted.
    pub required_claims: Vec<String>,
    /// Extra headers (name, value).
    pub headers: Vec<(String, String)>,
    /// The API key header and key.
    pub api_key: Option<(String, SecretString)>,
    /// Time allowed for one call.
    pub timeout: Duration,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// KYC token lifetime.
    pub kyc_token_ttl: Duration,
    /// ISO 639-3 fallback language.
    pub default_language: String,
}

/// `text` with every placeholder (each one of `allowed`) replaced by `sample`.
fn fill(text: &str, allowed: &[&str], sample: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' | '}' if chars.peek() == Some(&c) => {
                chars.next();
                out.push(c);
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err("a `{` is not closed (write `{{` for a brace)".into()),
                    }
                }
                if !allowed.contains(&name.as_str()) {
                    let names: Vec<String> = allowed.iter().map(|n| format!("{{{n}}}")).collect();
                    return Err(format!(
                        "unknown placeholder `{{{name}}}` (available: {})",
                        names.join(", ")
                    ));
                }
                out.push_str(sample);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn url_template(problems: &mut Problems, key: &str, text: &str, allowed: &[&str]) {
    let parse = |sample: &str| -> Result<Url, String> {
        let filled = fill(text.trim(), allowed, sample)?;
        let url = Url::parse(&filled).map_err(|e| format!("\"{text}\" is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("\"{text}\" must use http or https"));
        }
        if url.host().is_none() {
            return Err(format!("\"{text}\" has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain a user name or password".to_owned());
        }
        Ok(url)
    };
    match (parse("a"), parse("b.c")) {
        (Ok(first), Ok(second)) if first.origin() != second.origin() => problems.push(
            key,
            "placeholders may only appear in the path or query, not the host",
        ),
        (Ok(_), Ok(_)) => {}
        (Err(message), _) | (_, Err(message)) => problems.push(key, message),
    }
}

fn body_template(problems: &mut Problems, key: &str, text: &str, allowed: &[&str]) {
    fn strings(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => out.push(text.clone()),
            Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
            Value::Object(members) => members.iter().for_each(|(name, item)| {
                out.push(name.clone());
                strings(item, out);
            }),
            _ => {}
        }
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            problems.push(key, format!("is not a JSON template: {error}"));
            return;
        }
    };
    let mut texts = Vec::new();
    strings(&value, &mut texts);
    if let Some(message) = texts.iter().find_map(|text| fill(text, allowed, "x").err()) {
        problems.push(key, message);
    }
}

/// `Some(pointer)` if set and a JSON pointer (RFC 6901); a problem otherwise.
fn pointer(problems: &mut Problems, key: &str, text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(message) = pointer_problem(text) {
        problems.push(key, format!("\"{text}\": {message}"));
    }
    Some(text.to_owned())
}

fn pointer_problem(text: &str) -> Option<&'static str> {
    if !text.starts_with('/') {
        Some("a JSON pointer starts with `/` (`/contact/email`), not a dotted name")
    } else if text
        .split('~')
        .skip(1)
        .any(|rest| !rest.starts_with('0') && !rest.starts_with('1'))
    {
        Some("not a JSON pointer (`~` must be followed by 0 or 1)")
    } else {
        None
    }
}

fn default_claims() -> Map<String, Value> {
    [
        ("name", "/name"),
        ("email", "/email"),
        ("phone_number", "/phone"),
    ]
    .into_iter()
    .map(|(claim, pointer)| (claim.to_owned(), Value::from(pointer)))
    .collect()
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

pub(crate) fn rest_identity(
    raw: RestIdentityRaw,
    kind: AuthenticatorKind,
    problems: &mut Problems,
) -> RestIdentitySettings {
    let authenticate_placeholders: Vec<&str> = [COMMON, &["factor", "challenge"]].concat();
    let send_otp_placeholders: Vec<&str> = [COMMON, &["channels"]].concat();
    let required = kind == AuthenticatorKind::Rest;

    let mut auth_factors = Vec::new();
    for factor in &raw.auth_factors {
        let factor = factor.trim().to_ascii_uppercase();
        if !crate::acr::FACTOR_TYPES.contains(&factor.as_str()) {
            problems.push(
                "rest_identity.auth_factors",
                format!(
                    "\"{factor}\" is not an auth factor type ({})",
                    crate::acr::FACTOR_TYPES.join(", ")
                ),
            );
        } else if !auth_factors.contains(&factor) {
            auth_factors.push(factor);
        }
    }
    if required && raw.auth_factors.is_empty() {
        problems.push(
            "rest_identity.auth_factors",
            "must name at least one factor type",
        );
    }

    let operation = |problems: &mut Problems, key: &str, url: &str, allowed: &[&str]| {
        if url.trim().is_empty() {
            if required {
                problems.push(
                    key,
                    "is required with authenticator.kind = \"rest\" (a required operation is missing)",
                );
            }
        } else {
            url_template(problems, key, url, allowed);
        }
    };
    operation(
        problems,
        "rest_identity.authenticate_url",
        &raw.authenticate_url,
        &authenticate_placeholders,
    );
    body_template(
        problems,
        "rest_identity.authenticate_body",
        &raw.authenticate_body,
        &authenticate_placeholders,
    );
    let success_pointer = pointer(
        problems,
        "rest_identity.authenticate_success_pointer",
        &raw.authenticate_success_pointer,
    );
    let success_value = serde_json::from_str(raw.authenticate_success_value.trim())
        .unwrap_or_else(|_| Value::from(raw.authenticate_success_value.clone()));
    let authenticate_subject_pointer = pointer(
        problems,
        "rest_identity.authenticate_subject_pointer",
        &raw.authenticate_subject_pointer,
    );

    let send_otp = if raw.send_otp_url.trim().is_empty() {
        None
    } else {
        url_template(
            problems,
            "rest_identity.send_otp_url",
            &raw.send_otp_url,
            &send_otp_placeholders,
        );
        body_template(
            problems,
            "rest_identity.send_otp_body",
            &raw.send_otp_body,
            &send_otp_placeholders,
        );
        if raw.otp_channels.is_empty() {
            problems.push(
                "rest_identity.otp_channels",
                "must name at least one channel",
            );
        }
        Some(RestSendOtpSettings {
            url: raw.send_otp_url.trim().to_owned(),
            body: raw.send_otp_body.clone(),
            masked_email_pointer: pointer(
                problems,
                "rest_identity.send_otp_masked_email_pointer",
                &raw.send_otp_masked_email_pointer,
            ),
            masked_mobile_pointer: pointer(
                problems,
                "rest_identity.send_otp_masked_mobile_pointer",
                &raw.send_otp_masked_mobile_pointer,
            ),
        })
    };

    operation(
        problems,
        "rest_identity.user_info_url",
        &raw.user_info_url,
        COMMON,
    );
    let user_info_post = match raw.user_info_method.trim().to_ascii_uppercase().as_str() {
        "GET" => false,
        "POST" => true,
        other => {
            problems.push(
                "rest_identity.user_info_method",
                format!("\"{other}\" is not one of \"GET\", \"POST\""),
            );
            false
        }
    };
    let user_info_body = if user_info_post {
        if raw.user_info_body.trim().is_empty() {
            problems.push(
                "rest_identity.user_info_body",
                "is required when rest_identity.user_info_method = \"POST\"",
            );
        } else {
            body_template(
                problems,
                "rest_identity.user_info_body",
                &raw.user_info_body,
                COMMON,
            );
        }
        Some(raw.user_info_body.clone())
    } else {
        None
    };

    let claims_raw = if raw.claims.is_empty() {
        default_claims()
    } else {
        raw.claims
    };
    let mut claims = Vec::new();
    for (claim, value) in claims_raw {
        match value.as_str().map(str::trim) {
            Some(path) if !claim.trim().is_empty() => match pointer_problem(path) {
                None => claims.push((claim, path.to_owned())),
                Some(message) => problems.push(
                    "rest_identity.claims",
                    format!("`{claim}` = \"{path}\": {message}"),
                ),
            },
            _ => problems.push(
                "rest_identity.claims",
                format!("`{claim}` must map to a JSON pointer string"),
            ),
        }
    }
    for claim in &raw.required_claims {
        if !claims.iter().any(|(name, _)| name == claim) {
            problems.push(
                "rest_identity.required_claims",
                format!("\"{claim}\" is not mapped in rest_identity.claims"),
            );
        }
    }

    let mut headers = Vec::new();
    for (name, value) in raw.headers {
        match value.as_str() {
            Some(text) if is_header_name(&name) && !text.bytes().any(|b| b.is_ascii_control()) => {
                headers.push((name, text.to_owned()));
            }
            _ => problems.push(
                "rest_identity.headers",
                format!("`{name}` must be a header name mapped to a printable string"),
            ),
        }
    }
    let api_key = raw.api_key.filter(|key| !key.expose().is_empty());
    if api_key
        .as_ref()
        .is_some_and(|key| key.expose().bytes().any(|b| b.is_ascii_control()))
    {
        problems.push(
            "rest_identity.api_key",
            "must not contain control characters",
        );
    }
    if !is_header_name(raw.api_key_header.trim()) {
        problems.push("rest_identity.api_key_header", "is not a header name");
    }
    let language = raw.default_language.trim().to_owned();
    if language.len() != 3 || !language.bytes().all(|b| b.is_ascii_lowercase()) {
        problems.push(
            "rest_identity.default_language",
            "must be an ISO 639-3 code (three lower-case letters, e.g. \"eng\")",
        );
    }
    RestIdentitySettings {
        auth_factors,
        authenticate_url: raw.authenticate_url.trim().to_owned(),
        authenticate_body: raw.authenticate_body,
        authenticate_success: success_pointer.map(|pointer| (pointer, success_value)),
        authenticate_subject_pointer,
        send_otp,
        otp_channels: raw
            .otp_channels
            .iter()
            .map(|channel| channel.trim().to_ascii_lowercase())
            .collect(),
        user_info_url: raw.user_info_url.trim().to_owned(),
        user_info_post,
        user_info_body,
        claims,
        required_claims: raw.required_claims,
        headers,
        api_key: api_key.map(|key| (raw.api_key_header.trim().to_owned(), key)),
        timeout: secs(problems, "rest_identity.timeout_secs", raw.timeout_secs, 1),
        connect_timeout: secs(
            problems,
            "rest_identity.connect_timeout_secs",
            raw.connect_timeout_secs,
            1,
        ),
        kyc_token_ttl: secs(
            problems,
            "rest_identity.kyc_token_ttl_secs",
            raw.kyc_token_ttl_secs,
            1,
        ),
        default_language: language,
    }
}
