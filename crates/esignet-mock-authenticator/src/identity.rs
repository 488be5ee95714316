//! The mock identity record and the identity-field to OpenID claim mapping.
//!
//! The JSON shape is the Java mock identity system's (`individualId`, `fullName` as a list of
//! `{language, value}`, `dateOfBirth` as `yyyy/MM/dd`, `password` stored as upper-case hex
//! SHA-256 ...), so identities can move between the two. One addition: `verifiedClaims`, the
//! identity-assurance metadata the Java mock keeps in a separate table, lives in the record here.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use time::Date;
use time::macros::format_description;

/// Identity field → OpenID claim, in the order claims are built. `address.*` targets are members
/// of the `address` claim. This is the Java mock's default
/// `mosip.mock.ida.identity-openid-claims-mapping`, `zoneInfo → address.zoneinfo` included.
pub const IDENTITY_CLAIM_MAPPING: &[(&str, &str)] = &[
    ("fullName", "name"),
    ("givenName", "given_name"),
    ("familyName", "family_name"),
    ("email", "email"),
    ("phone", "phone_number"),
    ("gender", "gender"),
    ("dateOfBirth", "birthdate"),
    ("encodedPhoto", "picture"),
    ("preferredUsername", "preferred_username"),
    ("middleName", "middle_name"),
    ("nickName", "nickname"),
    ("streetAddress", "address.street_address"),
    ("locality", "address.locality"),
    ("region", "address.region"),
    ("country", "address.country"),
    ("postalCode", "address.postal_code"),
    ("preferredLang", "locale"),
    ("zoneInfo", "address.zoneinfo"),
];

/// The top-level OpenID claim an identity field feeds (`address` for every `address.*` member),
/// or `None` for a field outside [`IDENTITY_CLAIM_MAPPING`].
pub fn claim_for_field(field: &str) -> Option<&'static str> {
    IDENTITY_CLAIM_MAPPING
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, claim)| top_level(claim))
}

/// `address` for `address.locality`, the claim itself otherwise.
pub(crate) fn top_level(claim: &str) -> &str {
    claim.split_once('.').map_or(claim, |(parent, _)| parent)
}

/// One value of a multi-language field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LangValue {
    /// ISO 639-3 language code (`eng`, `fra`, `ara`, `khm`, `hin`, `kan`, `tam` ...).
    pub language: String,
    /// The value in that language.
    pub value: String,
}

/// The value of one identity field, as [`Identity::field`] returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// A plain string field (`email`, `phone`, `dateOfBirth`, `encodedPhoto` ...).
    Text(&'a str),
    /// A multi-language field (`fullName`, `gender`, `locality` ...); never empty.
    Languages(&'a [LangValue]),
}

impl<'a> FieldValue<'a> {
    /// The plain value, or for a multi-language field the value in `language`.
    pub fn text_in(self, language: &str) -> Option<&'a str> {
        match self {
            FieldValue::Text(text) => Some(text),
            FieldValue::Languages(values) => values
                .iter()
                .find(|entry| entry.language == language)
                .map(|entry| entry.value.as_str()),
        }
    }
}

/// Identity-assurance metadata for some fields of an identity: one verification (one process,
/// one trust framework) that established them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifiedClaim {
    /// Identity field names this verification covers (`fullName`, `dateOfBirth`, `locality` ...).
    pub fields: Vec<String>,
    /// Inactive verifications are kept for history but never reported or released.
    #[serde(default = "active_by_default")]
    pub active: bool,
    /// The OpenID Identity Assurance `verification` metadata: `trust_framework` (required),
    /// `time`, `verification_process`, `assurance_level`, `evidence` ...
    pub verification: Map<String, Value>,
}

fn active_by_default() -> bool {
    true
}

impl VerifiedClaim {
    /// The `trust_framework` of this verification, if it is a string.
    pub fn trust_framework(&self) -> Option<&str> {
        self.verification
            .get("trust_framework")
            .and_then(Value::as_str)
    }

    /// Whether this verification covers some field feeding the top-level `claim`.
    pub fn covers_claim(&self, claim: &str) -> bool {
        self.fields
            .iter()
            .any(|field| claim_for_field(field) == Some(claim))
    }
}

/// One resident of the mock identity system.
///
/// Unknown members are rejected (the Java mock's default schema has
/// `additionalProperties: false`), and `null` is accepted wherever a field may be absent. `Debug`
/// is redacted: the record is personal data and must not end up in logs.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Identity {
    /// The identifier the resident logs in with (UIN / VID), a numeric string.
    pub individual_id: String,
    /// The PIN, compared as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// Upper-case hex SHA-256 of the password (see [`crate::hash_password`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Full name per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub full_name: Vec<LangValue>,
    /// Given name per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub given_name: Vec<LangValue>,
    /// Family name per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub family_name: Vec<LangValue>,
    /// Middle name per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub middle_name: Vec<LangValue>,
    /// Nickname per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub nick_name: Vec<LangValue>,
    /// Preferred user name per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub preferred_username: Vec<LangValue>,
    /// Gender per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub gender: Vec<LangValue>,
    /// Date of birth, `yyyy/MM/dd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Street address per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub street_address: Vec<LangValue>,
    /// City or town per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub locality: Vec<LangValue>,
    /// Region or province per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub region: Vec<LangValue>,
    /// Country per language.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub country: Vec<LangValue>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// E-mail address (an OTP channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number with country prefix (an OTP channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Photo as a data URL (`data:image/png;base64,...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded_photo: Option<String>,
    /// Preferred language, ISO 639-3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_lang: Option<String>,
    /// IANA time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_info: Option<String>,
    /// Locale (`fr-MA`); not released as a claim (the `locale` claim comes from `preferredLang`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Identity-assurance verifications of some of the fields above.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub verified_claims: Vec<VerifiedClaim>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Identity { <redacted> }")
    }
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl Identity {
    /// The value of the identity field called `name` (its JSON name, e.g. `fullName`), or `None`
    /// when the field is unknown, absent, blank or an empty language list. Secrets (`pin`,
    /// `password`) and `individualId` are not fields in this sense.
    pub fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        fn languages(values: &[LangValue]) -> Option<FieldValue<'_>> {
            (!values.is_empty()).then_some(FieldValue::Languages(values))
        }
        fn text(value: &Option<String>) -> Option<FieldValue<'_>> {
            value
                .as_deref()
                .filter(|text| !text.trim().is_empty())
                .map(FieldValue::Text)
        }
        match name {
            "fullName" => languages(&self.full_name),
            "givenName" => languages(&self.given_name),
            "familyName" => languages(&self.family_name),
            "middleName" => languages(&self.middle_name),
            "nickName" => languages(&self.nick_name),
            "preferredUsername" => languages(&self.preferred_username),
            "gender" => languages(&self.gender),
            "streetAddress" => languages(&self.street_address),
            "locality" => languages(&self.locality),
            "region" => languages(&self.region),
            "country" => languages(&self.country),
            "dateOfBirth" => text(&self.date_of_birth),
            "postalCode" => text(&self.postal_code),
            "email" => text(&self.email),
            "phone" => text(&self.phone),
            "encodedPhoto" => text(&self.encoded_photo),
            "preferredLang" => text(&self.preferred_lang),
            "zoneInfo" => text(&self.zone_info),
            "locale" => text(&self.locale),
            _ => None,
        }
    }

    /// Whether the identity holds a value for the top-level OpenID `claim` (for `address`: any
    /// address member).
    pub fn has_claim(&self, claim: &str) -> bool {
        IDENTITY_CLAIM_MAPPING
            .iter()
            .any(|(field, target)| top_level(target) == claim && self.field(field).is_some())
    }

    /// The date of birth, parsed from its `yyyy/MM/dd` storage form; `None` if absent or
    /// malformed (the directory rejects malformed dates on load).
    pub fn birth_date(&self) -> Option<Date> {
        let stored = self.date_of_birth.as_deref()?;
        Date::parse(stored, format_description!("[year]/[month]/[day]")).ok()
    }

    /// The active verifications, in their stored order.
    pub fn active_verifications(&self) -> impl Iterator<Item = &VerifiedClaim> {
        self.verified_claims.iter().filter(|claim| claim.active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Identity {
        serde_json::from_value(serde_json::json!({
            "individualId": "1234567890",
            "fullName": [{"language": "eng", "value": "Ann Lee"}, {"language": "fra", "value": "Anne Lee"}],
            "middleName": null,
            "email": "  ",
            "locality": [{"language": "eng", "value": "Pune"}],
            "dateOfBirth": "1990/02/28"
        }))
        .unwrap()
    }

    #[test]
    fn fields_resolve_by_json_name_and_skip_blank_values() {
        let identity = sample();
        assert_eq!(
            identity.field("fullName").and_then(|v| v.text_in("fra")),
            Some("Anne Lee")
        );
        assert_eq!(
            identity.field("fullName").and_then(|v| v.text_in("khm")),
            None
        );
        assert_eq!(identity.field("middleName"), None, "null is absent");
        assert_eq!(identity.field("email"), None, "blank is absent");
        assert_eq!(identity.field("pin"), None, "secrets are not fields");
        assert_eq!(identity.field("noSuchField"), None);
    }

    #[test]
    fn claims_collapse_address_members() {
        let identity = sample();
        assert!(identity.has_claim("address"));
        assert!(identity.has_claim("name"));
        assert!(!identity.has_claim("email"));
        assert_eq!(claim_for_field("locality"), Some("address"));
        assert_eq!(claim_for_field("zoneInfo"), Some("address"));
        assert_eq!(claim_for_field("fullName"), Some("name"));
        assert_eq!(claim_for_field("pin"), None);
    }

    #[test]
    fn birth_date_parses_storage_format() {
        let identity = sample();
        assert_eq!(
            identity.birth_date(),
            Some(time::macros::date!(1990 - 02 - 28))
        );
    }

    #[test]
    fn unknown_members_are_rejected_and_debug_is_redacted() {
        let error = serde_json::from_str::<Identity>(r#"{"individualId":"1","shoeSize":"44"}"#);
        assert!(error.is_err());
        let identity = sample();
        let debug = format!("{identity:?}");
        assert!(!debug.contains("Ann"));
        assert!(!debug.contains("1234567890"));
    }
}
