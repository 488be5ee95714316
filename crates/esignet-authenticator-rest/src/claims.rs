//! The userinfo claims read from a `user_info` answer by the configured JSON pointers.

use esignet_mock_authenticator::{ClaimsLocale, release_localized, resolve_locales};
use serde_json::{Map, Value};

/// The accepted, mapped claims present in `person`. Multi-language values are released in the
/// requested locales: one match gives `claim`, several give `claim#<tag>`; none falls back to
/// `default_language`. `Err(claim)` names an accepted required claim that is absent (a claim,
/// never its value).
pub(crate) fn claims(
    person: &Value,
    mapping: &[(String, String)],
    required: &[String],
    accepted: &[String],
    requested_locales: &[String],
    default_language: &str,
) -> Result<Map<String, Value>, String> {
    let locales: Vec<ClaimsLocale> = resolve_locales(requested_locales, default_language);
    let mut out = Map::new();
    for claim in accepted {
        if out.contains_key(claim) {
            continue;
        }
        let Some((_, pointer)) = mapping.iter().find(|(name, _)| name == claim) else {
            continue;
        };
        let before = out.len();
        if let Some(value) = person.pointer(pointer).filter(|value| !value.is_null()) {
            release_localized(&mut out, claim, value, &locales, default_language);
        }
        if out.len() == before && required.contains(claim) {
            return Err(claim.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    fn mapping() -> Vec<(String, String)> {
        [
            ("name", "/fullName"),
            ("email", "/contact/email"),
            ("gender", "/gender"),
            ("phone_number", "/contact/phone"),
        ]
        .into_iter()
        .map(|(claim, pointer)| (claim.to_owned(), pointer.to_owned()))
        .collect()
    }

    fn person() -> Value {
        json!({"fullName": "Asha Rao", "contact": {"email": "asha@example.org", "phone": null},
               "gender": [{"language": "eng", "value": "Female"}, {"language": "fra", "value": "Femme"}],
               "secret": "never"})
    }

    #[test]
    fn accepted_mapped_present_claims_by_pointer_and_locale() {
        let out = claims(
            &person(),
            &mapping(),
            &[],
            &strings(&["name", "email", "gender", "phone_number", "secret"]),
            &strings(&["en", "fr"]),
            "eng",
        )
        .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"name": "Asha Rao", "email": "asha@example.org",
                   "gender#en": "Female", "gender#fr": "Femme"})
        );
        let fallback = claims(
            &person(),
            &mapping(),
            &[],
            &strings(&["gender"]),
            &strings(&["km"]),
            "eng",
        )
        .unwrap();
        assert_eq!(Value::Object(fallback), json!({"gender": "Female"}));
    }

    #[test]
    fn a_missing_required_claim_is_named() {
        let missing = claims(
            &person(),
            &mapping(),
            &strings(&["phone_number"]),
            &strings(&["name", "phone_number"]),
            &[],
            "eng",
        );
        assert_eq!(missing, Err("phone_number".to_owned()));
        // Not accepted: not needed.
        assert!(
            claims(
                &person(),
                &mapping(),
                &strings(&["phone_number"]),
                &strings(&["name"]),
                &[],
                "eng"
            )
            .is_ok()
        );
    }
}
