//! Building the KYC (userinfo) claims and the claims metadata of an identity.
//!
//! Pure functions: the caller adds `sub`, `iss`, `aud`, `iat` and signs.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::identity::{
    FieldValue, IDENTITY_CLAIM_MAPPING, Identity, LangValue, VerifiedClaim, top_level,
};

/// Two-letter language codes the login UI uses, with the ISO 639-3 codes identities store.
const TWO_TO_THREE_LETTER: &[(&str, &str)] = &[
    ("en", "eng"),
    ("fr", "fra"),
    ("ar", "ara"),
    ("km", "khm"),
    ("hi", "hin"),
    ("kn", "kan"),
    ("ta", "tam"),
];

/// Members of an OpenID Identity Assurance `verification` element that are released; other
/// members of stored metadata stay internal.
const RELEASED_VERIFICATION_MEMBERS: &[&str] = &[
    "trust_framework",
    "time",
    "verification_process",
    "assurance_level",
    "assurance_process",
    "evidence",
];

/// A requested claims locale: the tag as the relying party wrote it and the ISO 639-3 code that
/// identities store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsLocale {
    /// As requested (`en`, `fra`, `km-KH` ...); used in `<claim>#<tag>` keys.
    pub tag: String,
    /// ISO 639-3 code (`eng`, `fra`, `khm` ...).
    pub language: String,
}

/// The ISO 639-3 code of a language tag: 3-letter primary subtags as they are, the 2-letter
/// codes of the supported UI languages (en, fr, ar, km, hi, kn, ta) mapped; `None` otherwise.
pub fn iso639_3(tag: &str) -> Option<String> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.len() {
        2 => TWO_TO_THREE_LETTER
            .iter()
            .find(|(two, _)| *two == primary)
            .map(|(_, three)| (*three).to_owned()),
        3 if primary.bytes().all(|byte| byte.is_ascii_lowercase()) => Some(primary),
        _ => None,
    }
}

/// A multi-language claim value as identity systems hold it: a non-empty array of
/// `{"language": <ISO 639-3>, "value": ..}` entries; `None` for any other value.
pub fn language_entries(value: &Value) -> Option<Vec<(&str, &Value)>> {
    let entries = value.as_array()?;
    if entries.is_empty() {
        return None;
    }
    entries
        .iter()
        .map(|entry| Some((entry.get("language")?.as_str()?, entry.get("value")?)))
        .collect()
}

/// Releases `value` as `claim` into `out` in the requested `locales`: a plain value as it is; a
/// multi-language value ([`language_entries`]) as `claim` when one locale matches, as
/// `claim#<tag>` per match when several do, and in `default_language` when none does (left out
/// when it has no entry in that language either). Shared by the registry-backed authenticators.
pub fn release_localized(
    out: &mut Map<String, Value>,
    claim: &str,
    value: &Value,
    locales: &[ClaimsLocale],
    default_language: &str,
) {
    let Some(entries) = language_entries(value) else {
        out.insert(claim.to_owned(), value.clone());
        return;
    };
    let matched: Vec<(&str, &Value)> = locales
        .iter()
        .filter_map(|locale| {
            entries
                .iter()
                .find(|(language, _)| *language == locale.language)
                .map(|(_, value)| (locale.tag.as_str(), *value))
        })
        .collect();
    match matched.as_slice() {
        [] => {
            if let Some((_, value)) = entries
                .iter()
                .find(|(language, _)| *language == default_language)
            {
                out.insert(claim.to_owned(), (*value).clone());
            }
        }
        [(_, value)] => {
            out.insert(claim.to_owned(), (*value).clone());
        }
        several => {
            for (tag, value) in several {
                out.insert(format!("{claim}#{tag}"), (*value).clone());
            }
        }
    }
}

/// The requested locales that map to a language, in order, without repeating a language. Empty
/// (or nothing recognised) means `default_language` alone.
pub fn resolve_locales(requested: &[String], default_language: &str) -> Vec<ClaimsLocale> {
    let mut locales: Vec<ClaimsLocale> = Vec::new();
    for tag in requested {
        if let Some(language) = iso639_3(tag)
            && !locales.iter().any(|known| known.language == language)
        {
            locales.push(ClaimsLocale {
                tag: tag.clone(),
                language,
            });
        }
    }
    if locales.is_empty() {
        locales.push(ClaimsLocale {
            tag: default_language.to_owned(),
            language: default_language.to_owned(),
        });
    }
    locales
}

/// What to release from an identity.
#[derive(Debug, Clone, Copy)]
pub struct ClaimsRequest<'a> {
    /// Claims the resident consented to; nothing else is released.
    pub accepted_claims: &'a [String],
    /// Requested claims locales, most preferred first (2- or 3-letter codes).
    pub claims_locales: &'a [String],
    /// The `verified_claims` request (an object or an array of objects with `verification` and
    /// `claims`), if any.
    pub verified_claims: Option<&'a Value>,
    /// ISO 639-3 fallback language.
    pub default_language: &'a str,
}

/// Builds the KYC claims of `identity` for `request`.
///
/// * Only accepted claims the identity holds appear; unknown claim names are ignored.
/// * A multi-language value is released in each requested locale the identity has it in: one
///   match gives `<claim>`, several give `<claim>#<requested tag>` each. If no requested locale
///   matches, the default-language value is released as `<claim>` (an OpenID provider should
///   not fail over locales); if that is missing too, the claim is left out.
/// * `address` is an object of its members (`street_address`, `locality`, `region`, `country`,
///   `postal_code`, `zoneinfo`) with the same language rules.
/// * `verified_claims` lists, as an array of `{verification, claims}`, each accepted claim of a
///   `verified_claims` request for which an active verification exists whose `trust_framework`
///   passes the request's filter (`value` equality, `values` membership, or none). Claims
///   verified by the same verification share one entry. Claims released there are removed from
///   the top level; the key is absent when nothing qualifies.
pub fn build_kyc_claims(identity: &Identity, request: &ClaimsRequest<'_>) -> Map<String, Value> {
    let locales = resolve_locales(request.claims_locales, request.default_language);
    let values = ClaimValues {
        identity,
        locales: &locales,
        default_language: request.default_language,
    };
    let accepted: HashSet<&str> = request.accepted_claims.iter().map(String::as_str).collect();

    let (verified_entries, verified_names) = match request.verified_claims {
        Some(verified_request) => build_verified_claims(&values, verified_request, &accepted),
        None => (Vec::new(), HashSet::new()),
    };

    let mut claims = Map::new();
    for claim in request.accepted_claims {
        if verified_names.contains(claim.as_str()) {
            continue;
        }
        for (key, value) in values.entries(claim) {
            claims.insert(key, value);
        }
    }
    if !verified_entries.is_empty() {
        claims.insert("verified_claims".to_owned(), Value::Array(verified_entries));
    }
    claims
}

/// For every top-level claim the identity holds a value for, the `verification` metadata of its
/// active verifications (an empty list when it has none). `address` collects the verifications
/// of all address members, so relying parties can ask about `address` as one claim.
pub fn claims_metadata(identity: &Identity) -> Map<String, Value> {
    let mut metadata = Map::new();
    for (_, target) in IDENTITY_CLAIM_MAPPING {
        let claim = top_level(target);
        if metadata.contains_key(claim) || !identity.has_claim(claim) {
            continue;
        }
        let verifications = identity
            .active_verifications()
            .filter(|verified| verified.covers_claim(claim))
            .map(|verified| Value::Object(verified.verification.clone()))
            .collect();
        metadata.insert(claim.to_owned(), Value::Array(verifications));
    }
    metadata
}

/// Renders claim values of one identity in the resolved locales.
struct ClaimValues<'a> {
    identity: &'a Identity,
    locales: &'a [ClaimsLocale],
    default_language: &'a str,
}

impl ClaimValues<'_> {
    /// The `(key, value)` pairs releasing `claim`: none if the identity does not hold it.
    fn entries(&self, claim: &str) -> Vec<(String, Value)> {
        if claim == "address" {
            let mut address = Map::new();
            for (field, target) in IDENTITY_CLAIM_MAPPING {
                if let Some(member) = target.strip_prefix("address.") {
                    address.extend(self.field_entries(field, member));
                }
            }
            return if address.is_empty() {
                Vec::new()
            } else {
                vec![("address".to_owned(), Value::Object(address))]
            };
        }
        IDENTITY_CLAIM_MAPPING
            .iter()
            .find(|(_, target)| *target == claim)
            .map(|(field, _)| self.field_entries(field, claim))
            .unwrap_or_default()
    }

    fn field_entries(&self, field: &str, key: &str) -> Vec<(String, Value)> {
        match self.identity.field(field) {
            None => Vec::new(),
            // OIDC Core §5.1: `birthdate` is ISO 8601 `YYYY-MM-DD`; identities store `yyyy/MM/dd`.
            Some(FieldValue::Text(text)) if field == "dateOfBirth" => {
                vec![(key.to_owned(), Value::from(text.replace('/', "-")))]
            }
            Some(FieldValue::Text(text)) => vec![(key.to_owned(), Value::from(text))],
            Some(FieldValue::Languages(values)) => self.language_entries(values, key),
        }
    }

    fn language_entries(&self, values: &[LangValue], key: &str) -> Vec<(String, Value)> {
        let in_language = |language: &str| {
            values
                .iter()
                .find(|entry| entry.language == language)
                .map(|entry| Value::from(entry.value.as_str()))
        };
        let matches: Vec<(&str, Value)> = self
            .locales
            .iter()
            .filter_map(|locale| Some((locale.tag.as_str(), in_language(&locale.language)?)))
            .collect();
        match matches.len() {
            0 => in_language(self.default_language)
                .map(|value| vec![(key.to_owned(), value)])
                .unwrap_or_default(),
            1 => matches
                .into_iter()
                .map(|(_, value)| (key.to_owned(), value))
                .collect(),
            _ => matches
                .into_iter()
                .map(|(tag, value)| (format!("{key}#{tag}"), value))
                .collect(),
        }
    }
}

/// A request's `trust_framework` constraint.
enum TrustFrameworkFilter<'a> {
    Any,
    Equals(&'a str),
    OneOf(Vec<&'a str>),
}

impl<'a> TrustFrameworkFilter<'a> {
    fn of(request: &'a Value) -> Self {
        let constraint = request
            .get("verification")
            .and_then(|v| v.get("trust_framework"));
        match constraint {
            Some(Value::String(framework)) => Self::Equals(framework),
            Some(Value::Object(object)) => {
                if let Some(framework) = object.get("value").and_then(Value::as_str) {
                    Self::Equals(framework)
                } else if let Some(Value::Array(values)) = object.get("values") {
                    Self::OneOf(values.iter().filter_map(Value::as_str).collect())
                } else {
                    Self::Any
                }
            }
            _ => Self::Any,
        }
    }

    fn admits(&self, verified: &VerifiedClaim) -> bool {
        let framework = verified.trust_framework();
        match self {
            Self::Any => true,
            Self::Equals(wanted) => framework == Some(*wanted),
            Self::OneOf(allowed) => framework.is_some_and(|f| allowed.contains(&f)),
        }
    }
}

/// The `verified_claims` entries and the claim names they release.
fn build_verified_claims<'a>(
    values: &ClaimValues<'_>,
    verified_request: &'a Value,
    accepted: &HashSet<&str>,
) -> (Vec<Value>, HashSet<&'a str>) {
    let requests: Vec<&Value> = match verified_request {
        Value::Array(requests) => requests.iter().collect(),
        request @ Value::Object(_) => vec![request],
        _ => Vec::new(),
    };
    let verifications: Vec<&VerifiedClaim> = values.identity.active_verifications().collect();
    // (index into `verifications`, claims released under it), in first-use order.
    let mut groups: Vec<(usize, Map<String, Value>)> = Vec::new();
    let mut released: HashSet<&'a str> = HashSet::new();
    for request in requests {
        let filter = TrustFrameworkFilter::of(request);
        let Some(Value::Object(requested_claims)) = request.get("claims") else {
            continue;
        };
        for claim in requested_claims.keys() {
            if !accepted.contains(claim.as_str()) || released.contains(claim.as_str()) {
                continue;
            }
            let Some(index) = verifications
                .iter()
                .position(|verified| verified.covers_claim(claim) && filter.admits(verified))
            else {
                continue;
            };
            let entries = values.entries(claim);
            if entries.is_empty() {
                continue;
            }
            released.insert(claim.as_str());
            let position = match groups.iter().position(|(known, _)| *known == index) {
                Some(position) => position,
                None => {
                    groups.push((index, Map::new()));
                    groups.len() - 1
                }
            };
            groups[position].1.extend(entries);
        }
    }
    let entries = groups
        .into_iter()
        .map(|(index, claims)| {
            let stored = &verifications[index].verification;
            let verification: Map<String, Value> = RELEASED_VERIFICATION_MEMBERS
                .iter()
                .filter_map(|member| Some(((*member).to_owned(), stored.get(*member)?.clone())))
                .collect();
            serde_json::json!({"verification": verification, "claims": claims})
        })
        .collect();
    (entries, released)
}

#[cfg(test)]
mod tests;
