//! The userinfo claims read from a registry entity.

use esignet_mock_authenticator::{ClaimsLocale, release_localized, resolve_locales};
use serde_json::{Map, Value};

/// The value at `path` in `entity`: a JSON pointer (`/address/city`) or a top-level attribute.
fn lookup<'a>(entity: &'a Value, path: &str) -> Option<&'a Value> {
    if path.starts_with('/') {
        entity.pointer(path)
    } else {
        entity.get(path)
    }
}

/// The accepted claims that are mapped and present in `entity` (claims not mapped or absent are
/// left out, as the plugin does). Multi-language values are released in the requested locales:
/// one match gives `claim`, several give `claim#<tag>`; none falls back to `default_language`.
pub(crate) fn claims(
    entity: &Value,
    mapping: &[(String, String)],
    accepted: &[String],
    requested_locales: &[String],
    default_language: &str,
) -> Map<String, Value> {
    let locales: Vec<ClaimsLocale> = resolve_locales(requested_locales, default_language);
    let mut out = Map::new();
    for claim in accepted {
        if out.contains_key(claim) {
            continue;
        }
        let Some((_, path)) = mapping.iter().find(|(name, _)| name == claim) else {
            continue;
        };
        let Some(value) = lookup(entity, path).filter(|value| !value.is_null()) else {
            continue;
        };
        release_localized(&mut out, claim, value, &locales, default_language);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mapping() -> Vec<(String, String)> {
        [
            ("name", "fullName"),
            ("email", "email"),
            ("locality", "/address/city"),
            ("gender", "gender"),
        ]
        .into_iter()
        .map(|(claim, path)| (claim.to_owned(), path.to_owned()))
        .collect()
    }

    fn entity() -> Value {
        json!({
            "osid": "1-abc",
            "fullName": "Asha Rao",
            "email": null,
            "address": {"city": "Pune"},
            "gender": [{"language": "eng", "value": "Female"}, {"language": "fra", "value": "Femme"}],
            "secret": "never released"
        })
    }

    fn accepted(claims: &[&str]) -> Vec<String> {
        claims.iter().map(|claim| (*claim).to_owned()).collect()
    }

    #[test]
    fn mapped_present_claims_only_by_name_or_pointer() {
        let out = claims(
            &entity(),
            &mapping(),
            &accepted(&["name", "email", "locality", "secret", "phone_number"]),
            &[],
            "eng",
        );
        assert_eq!(
            Value::Object(out),
            json!({"name": "Asha Rao", "locality": "Pune"})
        );
    }

    #[test]
    fn multi_language_values_follow_the_requested_locales() {
        let gender = accepted(&["gender"]);
        let one = claims(&entity(), &mapping(), &gender, &["fr".to_owned()], "eng");
        assert_eq!(Value::Object(one), json!({"gender": "Femme"}));
        let both = claims(
            &entity(),
            &mapping(),
            &gender,
            &["en".to_owned(), "fr".to_owned()],
            "eng",
        );
        assert_eq!(
            Value::Object(both),
            json!({"gender#en": "Female", "gender#fr": "Femme"})
        );
        let fallback = claims(&entity(), &mapping(), &gender, &["km".to_owned()], "eng");
        assert_eq!(Value::Object(fallback), json!({"gender": "Female"}));
    }
}
