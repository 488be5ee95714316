//! The KBI challenge (what the login page sends) and the registry search it becomes.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use crate::config::KbiField;

/// Builds a KBI challenge the way the login page does (base64url of the JSON form values).
pub fn encode_kbi_challenge(answers: &Map<String, Value>) -> String {
    URL_SAFE_NO_PAD.encode(Value::Object(answers.clone()).to_string())
}

/// Decodes a challenge: base64 (URL-safe or standard, padding optional) of a JSON object.
pub(crate) fn decode_challenge(challenge: &str) -> Option<Map<String, Value>> {
    let text = challenge.trim();
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(text))
        .or_else(|_| STANDARD.decode(text))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The search body: `eq` on every configured field (the individual-id field from the request's
/// individual id), `limit` 2 so that "several matches" is seen. `None` when an answer is missing,
/// empty or not text: the resident is not authenticated on a partial form.
pub(crate) fn search_body(
    fields: &[KbiField],
    individual_id_field: &str,
    individual_id: &str,
    answers: &Map<String, Value>,
) -> Option<Value> {
    let mut filters = Map::new();
    for field in fields {
        let value = if field.form_field == individual_id_field {
            individual_id
        } else {
            answers.get(&field.form_field)?.as_str()?
        };
        if value.trim().is_empty() {
            return None;
        }
        filters.insert(field.attribute.clone(), json!({ "eq": value }));
    }
    Some(json!({ "offset": 0, "limit": 2, "filters": filters }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<KbiField> {
        [
            ("policyNumber", "policyNumber"),
            ("fullName", "name"),
            ("dob", "dob"),
        ]
        .into_iter()
        .map(|(form_field, attribute)| KbiField {
            form_field: form_field.to_owned(),
            attribute: attribute.to_owned(),
        })
        .collect()
    }

    fn answers(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn every_field_becomes_an_eq_filter_on_its_attribute() {
        let body = search_body(
            &fields(),
            "policyNumber",
            "5555",
            &answers(json!({"policyNumber": "ignored", "fullName": "Asha", "dob": "1990-01-02"})),
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"offset": 0, "limit": 2, "filters": {
                "policyNumber": {"eq": "5555"},
                "name": {"eq": "Asha"},
                "dob": {"eq": "1990-01-02"},
            }})
        );
    }

    #[test]
    fn a_missing_empty_or_non_text_answer_builds_no_search() {
        for bad in [
            json!({"fullName": "Asha"}),
            json!({"fullName": "Asha", "dob": ""}),
            json!({"fullName": "Asha", "dob": 19900102}),
            json!({"fullName": {"eq": "x"}, "dob": "1990-01-02"}),
        ] {
            assert!(
                search_body(&fields(), "policyNumber", "5555", &answers(bad.clone())).is_none(),
                "{bad}"
            );
        }
        assert!(
            search_body(
                &fields(),
                "policyNumber",
                " ",
                &answers(json!({"fullName": "A", "dob": "d"}))
            )
            .is_none()
        );
    }

    #[test]
    fn challenges_decode_in_every_base64_flavour_and_only_as_objects() {
        let form = answers(json!({"fullName": "Ásha ü?>", "dob": "1990-01-02"}));
        let text = Value::Object(form.clone()).to_string();
        for encoded in [
            encode_kbi_challenge(&form),
            URL_SAFE.encode(&text),
            STANDARD.encode(&text),
        ] {
            assert_eq!(decode_challenge(&encoded), Some(form.clone()), "{encoded}");
        }
        assert_eq!(decode_challenge("%%%"), None);
        assert_eq!(decode_challenge(&URL_SAFE_NO_PAD.encode("[1,2]")), None);
        assert_eq!(decode_challenge(&URL_SAFE_NO_PAD.encode("not json")), None);
    }
}
