//! The identity schema: one static table of field rules ([`FIELDS`]), enforced by [`validate`]
//! and published, generated from the same table, as a draft 2020-12 JSON Schema document by
//! [`schema_document`]. One table for both keeps what `/identity/identity-schema` says and what
//! `POST`/`PUT /identity` enforce from drifting apart.
//!
//! The rules follow the Java mock's default `mock-identity-schema.json`: no unknown members,
//! multi-language fields as non-empty lists of `{language, value}` with a non-blank value, the
//! Java mock's e-mail pattern and required set. Where the Java schema only said "string", a
//! pattern here keeps stored identities usable by the identity logic (a calendar date of birth,
//! an image data URL as photo, ISO 639-3 language codes).
//!
//! Every violation becomes one error: code `invalid_<lower-case field>` (or `unknown_field` for
//! a member the schema does not know) and a message naming the field and the rule. Messages
//! never contain submitted values: they are personal data.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::codes;

/// One schema violation: a stable code (`invalid_<lower-case field>` or
/// [`codes::UNKNOWN_FIELD`]) and a message naming the field and the rule, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// Stable code, e.g. `invalid_email`.
    pub code: String,
    /// `<field>: <rule>`.
    pub message: String,
}

impl SchemaViolation {
    fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The identity schema's variants, as the Java mock's two schema files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaProfile {
    /// `mock-identity-schema.json`: a create needs every member a national ID record has (PIN,
    /// names, gender, birth date, address, e-mail, phone, photo, language).
    #[default]
    Full,
    /// `mock-identity-signup-schema.json`, for self-registration: a create needs only
    /// `individualId`, `fullName`, `phone` and `password`; the other members keep their rules
    /// when present. The account form of the signup pages ([`crate::signup_ui_spec`]) asks
    /// for these.
    Signup,
}

/// The shape of one field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A string matching `pattern`.
    Text {
        /// The regular expression (anchored), valid in both Rust `regex` and ECMA-262.
        pattern: &'static str,
        /// The rule in words, for error messages and the schema's `description`.
        rule: &'static str,
    },
    /// A non-empty list of `{"language": <ISO 639-3>, "value": <non-blank>}` objects.
    Languages,
}

/// The rules of one top-level identity member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldRule {
    /// The JSON member name.
    pub name: &'static str,
    /// What its value must look like.
    pub shape: Shape,
    /// Must be present on create (`null` counts as present for a nullable field).
    pub required: bool,
    /// May be `null` (meaning: absent).
    pub nullable: bool,
}

/// Languages are ISO 639-3 codes, as the identities store and the KYC builder expects.
const LANGUAGE_PATTERN: &str = "^[a-z]{3}$";
/// A value must contain a non-space character.
const NON_BLANK_PATTERN: &str = "\\S";
/// `yyyy/MM/dd` with a month and day in range; the calendar check (no 30 February) is extra.
const DATE_OF_BIRTH_PATTERN: &str = "^[0-9]{4}/(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])$";

const fn text(name: &'static str, pattern: &'static str, rule: &'static str) -> FieldRule {
    FieldRule {
        name,
        shape: Shape::Text { pattern, rule },
        required: false,
        nullable: false,
    }
}

const fn languages(name: &'static str) -> FieldRule {
    FieldRule {
        name,
        shape: Shape::Languages,
        required: false,
        nullable: false,
    }
}

const fn required(rule: FieldRule) -> FieldRule {
    FieldRule {
        required: true,
        ..rule
    }
}

const fn nullable(rule: FieldRule) -> FieldRule {
    FieldRule {
        nullable: true,
        ..rule
    }
}

/// Every member an identity may have, in the order errors are reported.
pub(crate) const FIELDS: &[FieldRule] = &[
    required(text("individualId", "^[0-9]{5,19}$", "5 to 19 digits")),
    required(text("pin", "^[0-9]{4,12}$", "4 to 12 digits")),
    nullable(text(
        "password",
        "^\\S.{0,127}$",
        "1 to 128 characters, not starting with a space; given in clear, stored as upper-case hex SHA-256",
    )),
    required(languages("fullName")),
    required(languages("givenName")),
    required(languages("familyName")),
    nullable(languages("middleName")),
    nullable(languages("nickName")),
    nullable(languages("preferredUsername")),
    required(languages("gender")),
    required(text(
        "dateOfBirth",
        DATE_OF_BIRTH_PATTERN,
        "a calendar date written yyyy/MM/dd",
    )),
    nullable(languages("streetAddress")),
    required(languages("locality")),
    required(languages("region")),
    required(languages("country")),
    required(text(
        "postalCode",
        "^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$",
        "1 to 16 letters, digits, spaces or hyphens, starting with a letter or digit",
    )),
    required(text(
        "email",
        "^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\\.[a-zA-Z0-9.-]+$",
        "an e-mail address",
    )),
    required(text(
        "phone",
        "^\\+?[0-9]{6,15}$",
        "6 to 15 digits with an optional leading +",
    )),
    required(text(
        "encodedPhoto",
        "^data:image/[a-z0-9.+-]+;base64,[A-Za-z0-9+/]+={0,2}$",
        "an image data URL (data:image/<type>;base64,<data>)",
    )),
    required(nullable(text(
        "preferredLang",
        LANGUAGE_PATTERN,
        "an ISO 639-3 language code",
    ))),
    nullable(text(
        "zoneInfo",
        "^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$",
        "an IANA time zone name",
    )),
    nullable(text(
        "locale",
        "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$",
        "a language tag such as fr-MA",
    )),
];

/// Compiled patterns by source text. A pattern that does not compile (ruled out by this
/// module's tests) is `None`, and the field then fails closed.
static PATTERNS: LazyLock<HashMap<&'static str, Option<Regex>>> = LazyLock::new(|| {
    let mut sources = vec![LANGUAGE_PATTERN, NON_BLANK_PATTERN];
    for field in FIELDS {
        if let Shape::Text { pattern, .. } = field.shape {
            sources.push(pattern);
        }
    }
    sources
        .into_iter()
        .map(|source| (source, Regex::new(source).ok()))
        .collect()
});

fn is_match(pattern: &str, value: &str) -> bool {
    match PATTERNS.get(pattern) {
        Some(Some(regex)) => regex.is_match(value),
        _ => {
            tracing::error!(pattern, "identity schema pattern does not compile");
            false
        }
    }
}

/// Whether the document is a new identity or a partial update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaMode {
    /// `POST /identity`: the required members must be present.
    Create,
    /// `PUT /identity`: any subset; `null` members are ignored (they do not delete).
    Update,
}

/// Members a signup-created identity must have ([`SchemaProfile::Signup`]): the Java mock's
/// `mock-identity-signup-schema.json` required set.
const SIGNUP_REQUIRED: &[&str] = &["individualId", "fullName", "phone", "password"];

impl FieldRule {
    fn required_in(&self, profile: SchemaProfile) -> bool {
        match profile {
            SchemaProfile::Full => self.required,
            SchemaProfile::Signup => SIGNUP_REQUIRED.contains(&self.name),
        }
    }
}

/// Checks `document` against the full schema (see [`validate_for`]).
#[cfg(test)]
pub(crate) fn validate(document: &Map<String, Value>, mode: SchemaMode) -> Vec<SchemaViolation> {
    validate_for(document, mode, SchemaProfile::Full)
}

/// Checks `document` against the schema of `profile`; one error per violation, empty when it
/// conforms. The profiles differ only in which members a create requires.
///
/// Unknown members come first (in document order), then the known fields in [`FIELDS`] order.
pub fn validate_for(
    document: &Map<String, Value>,
    mode: SchemaMode,
    profile: SchemaProfile,
) -> Vec<SchemaViolation> {
    let mut errors = Vec::new();
    for name in document.keys() {
        if !FIELDS.iter().any(|field| field.name == name) {
            errors.push(SchemaViolation::new(
                codes::UNKNOWN_FIELD,
                format!("{name}: is not a member of the identity schema"),
            ));
        }
    }
    for field in FIELDS {
        let code = format!("invalid_{}", field.name.to_ascii_lowercase());
        let mut fail = |path: String, rule: &str| {
            errors.push(SchemaViolation::new(
                code.clone(),
                format!("{path}: {rule}"),
            ));
        };
        match document.get(field.name) {
            None => {
                if mode == SchemaMode::Create && field.required_in(profile) {
                    fail(field.name.to_owned(), "is required");
                }
            }
            Some(Value::Null) => {
                if mode == SchemaMode::Create && !field.nullable {
                    fail(field.name.to_owned(), "must not be null");
                }
            }
            Some(value) => check_value(field, value, &mut fail),
        }
    }
    errors
}

fn check_value(field: &FieldRule, value: &Value, fail: &mut impl FnMut(String, &str)) {
    match field.shape {
        Shape::Text { pattern, rule } => {
            let Some(text) = value.as_str() else {
                return fail(field.name.to_owned(), "must be a string");
            };
            if !is_match(pattern, text) {
                return fail(field.name.to_owned(), &format!("must be {rule}"));
            }
            if field.name == "dateOfBirth" && !is_calendar_date(text) {
                fail(field.name.to_owned(), &format!("must be {rule}"));
            }
        }
        Shape::Languages => check_languages(field.name, value, fail),
    }
}

fn check_languages(name: &str, value: &Value, fail: &mut impl FnMut(String, &str)) {
    let Some(entries) = value.as_array() else {
        return fail(
            name.to_owned(),
            "must be a list of {language, value} objects",
        );
    };
    if entries.is_empty() {
        return fail(name.to_owned(), "must not be an empty list");
    }
    for (index, entry) in entries.iter().enumerate() {
        let path = format!("{name}[{index}]");
        let Some(entry) = entry.as_object() else {
            fail(path, "must be a {language, value} object");
            continue;
        };
        for member in entry.keys() {
            if member != "language" && member != "value" {
                fail(format!("{path}.{member}"), "is not allowed");
            }
        }
        match entry.get("language") {
            None => fail(format!("{path}.language"), "is required"),
            Some(Value::String(language)) if is_match(LANGUAGE_PATTERN, language) => {}
            Some(_) => fail(
                format!("{path}.language"),
                "must be an ISO 639-3 language code",
            ),
        }
        match entry.get("value") {
            None => fail(format!("{path}.value"), "is required"),
            Some(Value::String(text)) if is_match(NON_BLANK_PATTERN, text) => {}
            Some(Value::String(_)) => fail(format!("{path}.value"), "must not be blank"),
            Some(_) => fail(format!("{path}.value"), "must be a string"),
        }
    }
}

/// `yyyy/MM/dd` names a real date (the pattern already fixed the shape).
fn is_calendar_date(text: &str) -> bool {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]/[month]/[day]"),
    )
    .is_ok()
}

/// The schema as a draft 2020-12 JSON Schema document, generated from [`FIELDS`]. This is what
/// `GET /identity/identity-schema` serves: it describes exactly the create rules above (an update
/// applies the same rules without `required`, ignoring `null` members).
pub fn schema_document(profile: SchemaProfile) -> Value {
    let mut properties = Map::new();
    for field in FIELDS {
        let mut property = match field.shape {
            Shape::Text { pattern, rule } => {
                let kind = if field.nullable {
                    json!(["string", "null"])
                } else {
                    json!("string")
                };
                json!({"type": kind, "pattern": pattern, "description": rule})
            }
            Shape::Languages if field.nullable => json!({
                "anyOf": [{"$ref": "#/$defs/langField"}, {"type": "null"}]
            }),
            Shape::Languages => json!({"$ref": "#/$defs/langField"}),
        };
        if field.name == "dateOfBirth"
            && let Some(object) = property.as_object_mut()
        {
            // JSON Schema has no calendar keyword; the custom format is an annotation.
            object.insert("format".to_owned(), json!("yyyy/MM/dd calendar date"));
        }
        properties.insert(field.name.to_owned(), property);
    }
    let required: Vec<&str> = FIELDS
        .iter()
        .filter(|field| field.required_in(profile))
        .map(|field| field.name)
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "mock-identity-schema.json",
        "title": "Mock identity",
        "description": "An identity of the mock identity system. POST /identity enforces this \
            schema as is; PUT /identity enforces it without `required` and ignores null members \
            (a shallow merge into the stored identity).",
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "$defs": {
            "langField": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["language", "value"],
                    "properties": {
                        "language": {
                            "type": "string",
                            "pattern": LANGUAGE_PATTERN,
                            "description": "ISO 639-3 language code"
                        },
                        "value": {"type": "string", "pattern": NON_BLANK_PATTERN}
                    }
                }
            }
        },
        "properties": properties
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signup_profile_requires_only_what_registration_collects() {
        let lang = |value: &str| json!([{"language": "eng", "value": value}]);
        let mut document = Map::new();
        document.insert("individualId".into(), json!("9876543210"));
        document.insert("fullName".into(), lang("Asha Rao"));
        document.insert("phone".into(), json!("9876543210"));
        document.insert("password".into(), json!("Secret123"));
        assert!(validate_for(&document, SchemaMode::Create, SchemaProfile::Signup).is_empty());
        assert!(!validate_for(&document, SchemaMode::Create, SchemaProfile::Full).is_empty());
        // Present members keep their rules.
        document.insert("email".into(), json!("not an address"));
        assert_eq!(
            codes_of(&validate_for(
                &document,
                SchemaMode::Create,
                SchemaProfile::Signup
            )),
            ["invalid_email"]
        );
        document.remove("email");
        document.remove("phone");
        assert_eq!(
            codes_of(&validate_for(
                &document,
                SchemaMode::Create,
                SchemaProfile::Signup
            )),
            ["invalid_phone"]
        );
        assert_eq!(
            schema_document(SchemaProfile::Signup)["required"],
            json!(["individualId", "password", "fullName", "phone"])
        );
    }

    fn valid() -> Map<String, Value> {
        let lang = |value: &str| json!([{"language": "eng", "value": value}]);
        let value = json!({
            "individualId": "1234567890",
            "pin": "123456",
            "password": "Secret123",
            "fullName": lang("Ann Lee"),
            "givenName": lang("Ann"),
            "familyName": lang("Lee"),
            "middleName": null,
            "gender": lang("Female"),
            "dateOfBirth": "1990/02/28",
            "locality": lang("Pune"),
            "region": lang("MH"),
            "country": lang("India"),
            "postalCode": "411001",
            "email": "ann.lee@example.com",
            "phone": "+911234567890",
            "encodedPhoto": "data:image/png;base64,iVBORw0KGgo=",
            "preferredLang": "eng",
            "zoneInfo": "Asia/Kolkata",
            "locale": "en-IN"
        });
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn codes_of(errors: &[SchemaViolation]) -> Vec<&str> {
        errors.iter().map(|error| error.code.as_str()).collect()
    }

    #[test]
    fn every_pattern_compiles() {
        assert!(PATTERNS.values().all(Option::is_some));
    }

    #[test]
    fn a_complete_identity_passes() {
        assert_eq!(validate(&valid(), SchemaMode::Create), Vec::new());
    }

    #[test]
    fn missing_required_members_are_each_reported() {
        let errors = validate(&Map::new(), SchemaMode::Create);
        let required: Vec<String> = FIELDS
            .iter()
            .filter(|field| field.required)
            .map(|field| format!("invalid_{}", field.name.to_ascii_lowercase()))
            .collect();
        assert_eq!(codes_of(&errors), required);
        assert!(
            errors
                .iter()
                .all(|error| error.message.ends_with("is required"))
        );
        assert!(validate(&Map::new(), SchemaMode::Update).is_empty());
    }

    #[test]
    fn violations_name_field_and_rule_but_never_the_value() {
        let mut document = valid();
        document.insert("email".into(), json!("not-an-address"));
        document.insert("dateOfBirth".into(), json!("1990/02/30"));
        document.insert("pin".into(), json!(123456));
        document.insert("shoeSize".into(), json!("44"));
        document.insert(
            "gender".into(),
            json!([{"language": "english", "value": " ", "extra": 1}, "x"]),
        );
        let errors = validate(&document, SchemaMode::Create);
        assert_eq!(
            codes_of(&errors),
            [
                "unknown_field",
                "invalid_pin",
                "invalid_gender",
                "invalid_gender",
                "invalid_gender",
                "invalid_gender",
                "invalid_dateofbirth",
                "invalid_email",
            ]
        );
        let all = format!("{errors:?}");
        for value in ["not-an-address", "1990/02/30", "123456", "english"] {
            assert!(!all.contains(value), "{value} leaked");
        }
        assert!(errors[0].message.starts_with("shoeSize:"));
        assert!(errors[2].message.starts_with("gender[0].extra:"));
    }

    #[test]
    fn update_ignores_nulls_and_missing_members_but_checks_the_rest() {
        let document = match json!({"individualId": "1234567890", "fullName": null, "email": "x"}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        assert_eq!(
            codes_of(&validate(&document, SchemaMode::Update)),
            ["invalid_email"]
        );
        let null_required = match json!({"fullName": null}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        assert_eq!(
            codes_of(&validate(&null_required, SchemaMode::Create))[..1],
            ["invalid_individualid"]
        );
    }

    #[test]
    fn the_demo_personas_conform_apart_from_their_deliberate_gaps() {
        let directory = crate::Directory::demo().unwrap();
        for identity in &directory {
            let mut value = serde_json::to_value(identity).unwrap();
            let document = value.as_object_mut().unwrap();
            document.remove("verifiedClaims");
            // Stored passwords are hashes (64 hex characters), which the rule admits too.
            let errors = validate(document, SchemaMode::Create);
            for error in &errors {
                assert!(
                    ["invalid_email", "invalid_phone"].contains(&error.code.as_str())
                        && error.message.ends_with("is required"),
                    "{error:?}"
                );
            }
            assert!(validate(document, SchemaMode::Update).is_empty());
        }
    }

    #[test]
    fn the_document_describes_the_table() {
        let document = schema_document(SchemaProfile::Full);
        assert_eq!(document["additionalProperties"], json!(false));
        let required = document["required"].as_array().unwrap();
        assert_eq!(
            required.len(),
            FIELDS.iter().filter(|field| field.required).count()
        );
        assert_eq!(
            document["properties"].as_object().unwrap().len(),
            FIELDS.len()
        );
        assert_eq!(
            document["properties"]["email"]["pattern"],
            json!("^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\\.[a-zA-Z0-9.-]+$")
        );
        assert_eq!(
            document["properties"]["preferredLang"]["type"],
            json!(["string", "null"])
        );
        assert!(document["properties"]["middleName"]["anyOf"].is_array());
    }
}
