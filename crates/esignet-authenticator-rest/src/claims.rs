//! The userinfo claims read from a `user_info` answer by the configured JSON pointers.

use esignet_mock_authenticator::{ClaimsLocale, resolve_locales};
use serde_json::{Map, Value};

/// A multi-language value: a non-empty array of `{"language": <ISO 639-3>, "value": ..}`.
fn languages(value: &Value) -> Option<Vec<(&str, &Value)>> {
    let entries = value.as_array()?;
    if entries.is_empty() {
        return None;
    }
    entries
        .iter()
        .map(|entry| Some((entry.get("language")?.as_str()?, entry.get("value")?)))
        .collect()
}

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
            release(&mut out, claim, value, &locales, default_language);
        }
        if out.len() == before && required.contains(claim) {
            return Err(claim.clone());
        }
    }
    Ok(out)
}

fn release(
    out: &mut Map<String, Value>,
    claim: &str,
    value: &Value,
    locales: &[ClaimsLocale],
    default_language: &str,
) {
    let Some(entries) = languages(value) else {
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
