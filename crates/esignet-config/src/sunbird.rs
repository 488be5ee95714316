//! The `[sunbird_rc]` section: the Sunbird RC registry behind `authenticator.kind =
//! "sunbird-rc"` (declared in `raw.rs`, validated here to keep the shared files small).

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::Problems;
use crate::raw::SunbirdRcRaw;
use crate::secret::SecretString;
use crate::validate::{http_url, secs};

/// The accepted `sunbird_rc.psut` words.
pub(crate) const PSUT_WORDS: &[&str] = &["entity-id", "pairwise"];

/// How the subject is derived from the registry entity id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SunbirdPsut {
    /// The entity id itself (eSignet's sunbird-rc plugin).
    EntityId,
    /// base64url(SHA3-256(entity id + relying party id)).
    Pairwise,
}

/// `[sunbird_rc]`, validated.
#[derive(Clone, Debug)]
pub struct SunbirdRcSettings {
    /// The search endpoint.
    pub search_url: String,
    /// The entity endpoint (the entity id is appended).
    pub entity_url: String,
    /// KBI form field → registry attribute, in form order.
    pub kbi_fields: Vec<(String, String)>,
    /// The KBI field holding the individual id (one of `kbi_fields`).
    pub individual_id_field: String,
    /// The entity attribute holding the entity id.
    pub entity_id_field: String,
    /// The subject derivation.
    pub psut: SunbirdPsut,
    /// OIDC claim → entity path.
    pub claims: Vec<(String, String)>,
    /// `Authorization: Bearer` token for the registry, if any.
    pub bearer_token: Option<SecretString>,
    /// Time allowed for one call.
    pub timeout: Duration,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// KYC token lifetime.
    pub kyc_token_ttl: Duration,
    /// ISO 639-3 fallback language of multi-language values.
    pub default_language: String,
}

fn table(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), Value::from(*value)))
        .collect()
}

/// The default KBI fields: those of eSignet's sunbird-rc plugin demo (an insurance registry).
pub(crate) fn default_kbi_fields() -> Map<String, Value> {
    table(&[
        ("policyNumber", "policyNumber"),
        ("fullName", "fullName"),
        ("dob", "dob"),
    ])
}

/// The default claim mapping (the plugin demo's attributes).
pub(crate) fn default_claims() -> Map<String, Value> {
    table(&[
        ("name", "fullName"),
        ("email", "email"),
        ("phone_number", "mobile"),
        ("birthdate", "dob"),
        ("gender", "gender"),
    ])
}

/// A table of non-empty strings, each problem reported under `key`.
fn string_table(
    problems: &mut Problems,
    key: &str,
    raw: Map<String, Value>,
    check_value: impl Fn(&str) -> Option<&'static str>,
) -> Vec<(String, String)> {
    let mut pairs = Vec::with_capacity(raw.len());
    for (name, value) in raw {
        let Some(text) = value.as_str() else {
            problems.push(key, format!("`{name}` must map to a string"));
            continue;
        };
        if name.trim().is_empty() || text.trim().is_empty() {
            problems.push(key, format!("`{name}` = \"{text}\" has an empty side"));
            continue;
        }
        if let Some(message) = check_value(text) {
            problems.push(key, format!("`{name}` = \"{text}\": {message}"));
            continue;
        }
        pairs.push((name, text.to_owned()));
    }
    pairs
}

pub(crate) fn sunbird_rc(raw: SunbirdRcRaw, problems: &mut Problems) -> SunbirdRcSettings {
    let mut url = |key: &str, text: String| match http_url(&text) {
        Ok(url) => url.as_str().trim_end_matches('/').to_owned(),
        Err(message) => {
            problems.push(key, message);
            text
        }
    };
    let search_url = url("sunbird_rc.search_url", raw.search_url);
    let entity_url = url("sunbird_rc.entity_url", raw.entity_url);
    let kbi_fields = if raw.kbi_fields.is_empty() {
        default_kbi_fields()
    } else {
        raw.kbi_fields
    };
    let kbi_fields = string_table(problems, "sunbird_rc.kbi_fields", kbi_fields, |_| None);
    if kbi_fields.is_empty() {
        problems.push("sunbird_rc.kbi_fields", "must name at least one field");
    } else if !kbi_fields
        .iter()
        .any(|(field, _)| *field == raw.individual_id_field)
    {
        problems.push(
            "sunbird_rc.individual_id_field",
            format!(
                "\"{}\" is not one of sunbird_rc.kbi_fields ({})",
                raw.individual_id_field,
                kbi_fields
                    .iter()
                    .map(|(field, _)| field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let claims = if raw.claims.is_empty() {
        default_claims()
    } else {
        raw.claims
    };
    let claims = string_table(problems, "sunbird_rc.claims", claims, |path| {
        // A JSON pointer's `~` must be followed by 0 or 1 (RFC 6901).
        let bad_escape = path
            .split('~')
            .skip(1)
            .any(|rest| !rest.starts_with('0') && !rest.starts_with('1'));
        if bad_escape {
            Some("not a JSON pointer (`~` must be followed by 0 or 1)")
        } else if path.contains('.') && !path.starts_with('/') {
            Some("paths are JSON pointers (`/address/city`), not dotted names")
        } else {
            None
        }
    });
    if raw.entity_id_field.trim().is_empty() {
        problems.push("sunbird_rc.entity_id_field", "must not be empty");
    }
    let psut = match raw.psut.as_str() {
        "entity-id" => SunbirdPsut::EntityId,
        "pairwise" => SunbirdPsut::Pairwise,
        other => {
            problems.push(
                "sunbird_rc.psut",
                format!("\"{other}\" is not one of \"entity-id\", \"pairwise\""),
            );
            SunbirdPsut::EntityId
        }
    };
    let bearer_token = raw.bearer_token.filter(|token| !token.expose().is_empty());
    if bearer_token
        .as_ref()
        .is_some_and(|token| token.expose().bytes().any(|byte| byte.is_ascii_control()))
    {
        problems.push(
            "sunbird_rc.bearer_token",
            "must not contain control characters",
        );
    }
    let language = raw.default_language.trim().to_owned();
    if language.len() != 3 || !language.bytes().all(|byte| byte.is_ascii_lowercase()) {
        problems.push(
            "sunbird_rc.default_language",
            "must be an ISO 639-3 code (three lower-case letters, e.g. \"eng\")",
        );
    }
    SunbirdRcSettings {
        search_url,
        entity_url,
        kbi_fields,
        individual_id_field: raw.individual_id_field,
        entity_id_field: raw.entity_id_field,
        psut,
        claims,
        bearer_token,
        timeout: secs(problems, "sunbird_rc.timeout_secs", raw.timeout_secs, 1),
        connect_timeout: secs(
            problems,
            "sunbird_rc.connect_timeout_secs",
            raw.connect_timeout_secs,
            1,
        ),
        kyc_token_ttl: secs(
            problems,
            "sunbird_rc.kyc_token_ttl_secs",
            raw.kyc_token_ttl_secs,
            1,
        ),
        default_language: language,
    }
}
