//! Tests of KYC claim building.

use serde_json::json;

use super::*;

fn identity() -> Identity {
    serde_json::from_value(json!({
        "individualId": "8267411571",
        "fullName": [
            {"language": "eng", "value": "Sid Mansour"},
            {"language": "fra", "value": "Sid Mansour (fr)"},
            {"language": "ara", "value": "سيد منصور"}
        ],
        "gender": [{"language": "eng", "value": "Male"}, {"language": "fra", "value": "Masculin"}],
        "dateOfBirth": "1987/11/25",
        "email": "sid@example.com",
        "encodedPhoto": "data:image/png;base64,iVBORw0KGgo=",
        "locality": [{"language": "eng", "value": "Rabat"}, {"language": "ara", "value": "الرباط"}],
        "country": [{"language": "eng", "value": "Morocco"}, {"language": "fra", "value": "Maroc"}],
        "postalCode": "45009",
        "preferredLang": "fra",
        "verifiedClaims": [
            {"fields": ["fullName", "dateOfBirth"],
             "verification": {"trust_framework": "eidas", "time": "2023-04-11T09:30Z",
                              "assurance_level": "substantial", "internal_note": "not released",
                              "evidence": [{"type": "document"}]}},
            {"fields": ["locality", "postalCode"],
             "verification": {"trust_framework": "eidas", "time": "2023-04-11T09:40Z"}},
            {"fields": ["fullName", "email"],
             "verification": {"trust_framework": "de_aml", "time": "2022-01-20T14:05Z",
                              "verification_process": "aml-1"}},
            {"fields": ["gender"], "active": false,
             "verification": {"trust_framework": "eidas", "time": "2019-01-01T00:00Z"}}
        ]
    }))
    .unwrap()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

fn build(accepted: &[&str], locales: &[&str], verified: Option<Value>) -> Map<String, Value> {
    let accepted = strings(accepted);
    let locales = strings(locales);
    build_kyc_claims(
        &identity(),
        &ClaimsRequest {
            accepted_claims: &accepted,
            claims_locales: &locales,
            verified_claims: verified.as_ref(),
            default_language: "eng",
        },
    )
}

#[test]
fn language_tags_map_to_iso_639_3() {
    for (tag, expected) in [
        ("en", Some("eng")),
        ("EN", Some("eng")),
        ("en-US", Some("eng")),
        ("fr", Some("fra")),
        ("ar", Some("ara")),
        ("km", Some("khm")),
        ("hi", Some("hin")),
        ("kn", Some("kan")),
        ("ta", Some("tam")),
        ("fra", Some("fra")),
        ("khm_KH", Some("khm")),
        ("de", None),
        ("e", None),
        ("english", None),
        ("", None),
    ] {
        assert_eq!(iso639_3(tag).as_deref(), expected, "{tag}");
    }
}

#[test]
fn locales_resolve_in_order_without_repeats_and_default_otherwise() {
    let resolved = resolve_locales(&strings(&["fr", "eng", "en", "de", "ara"]), "eng");
    let pairs: Vec<(&str, &str)> = resolved
        .iter()
        .map(|l| (l.tag.as_str(), l.language.as_str()))
        .collect();
    assert_eq!(pairs, [("fr", "fra"), ("eng", "eng"), ("ara", "ara")]);
    for requested in [&[][..], &["de", "xx"][..]] {
        let resolved = resolve_locales(&strings(requested), "eng");
        assert_eq!(
            resolved,
            [ClaimsLocale {
                tag: "eng".into(),
                language: "eng".into()
            }]
        );
    }
}

#[test]
fn one_locale_gives_plain_claims() {
    let claims = build(
        &[
            "name",
            "gender",
            "email",
            "birthdate",
            "picture",
            "address",
            "locale",
        ],
        &["fr"],
        None,
    );
    assert_eq!(
        Value::Object(claims),
        json!({
            "name": "Sid Mansour (fr)",
            "gender": "Masculin",
            "email": "sid@example.com",
            "birthdate": "1987-11-25",
            "picture": "data:image/png;base64,iVBORw0KGgo=",
            // No French locality: the default language stands in.
            "address": {"locality": "Rabat", "country": "Maroc", "postal_code": "45009"},
            "locale": "fra"
        })
    );
}

#[test]
fn no_requested_locale_uses_the_default_language() {
    let claims = build(&["name", "gender"], &[], None);
    assert_eq!(
        Value::Object(claims),
        json!({"name": "Sid Mansour", "gender": "Male"})
    );
}

#[test]
fn several_locales_give_tagged_claims_with_the_requested_tags() {
    let claims = build(&["name", "gender", "address"], &["en", "ara"], None);
    assert_eq!(
        Value::Object(claims),
        json!({
            "name#en": "Sid Mansour",
            "name#ara": "سيد منصور",
            // Only one of the two locales has a gender value: plain key.
            "gender": "Male",
            "address": {
                "locality#en": "Rabat",
                "locality#ara": "الرباط",
                "country": "Morocco",
                "postal_code": "45009"
            }
        })
    );
}

#[test]
fn only_accepted_claims_that_the_identity_holds_are_released() {
    let claims = build(
        &[
            "email",
            "phone_number",
            "sub",
            "iss",
            "pin",
            "verified_claims",
            "nickname",
        ],
        &[],
        None,
    );
    assert_eq!(Value::Object(claims), json!({"email": "sid@example.com"}));
    assert!(build(&[], &["en"], None).is_empty());
}

#[test]
fn verified_claims_filtered_by_trust_framework_value() {
    let request = json!({
        "verification": {"trust_framework": {"value": "eidas"}},
        "claims": {"name": null, "birthdate": {"essential": true}, "email": null, "address": null}
    });
    let claims = build(
        &["name", "birthdate", "email", "address", "gender"],
        &["en"],
        Some(request),
    );
    assert_eq!(
        Value::Object(claims),
        json!({
            // de_aml is the only verification of the e-mail: not admitted, stays top-level.
            "email": "sid@example.com",
            // The gender verification is inactive, and gender was not requested as verified.
            "gender": "Male",
            "verified_claims": [
                {
                    "verification": {
                        "trust_framework": "eidas",
                        "time": "2023-04-11T09:30Z",
                        "assurance_level": "substantial",
                        "evidence": [{"type": "document"}]
                    },
                    "claims": {"name": "Sid Mansour", "birthdate": "1987-11-25"}
                },
                {
                    "verification": {"trust_framework": "eidas", "time": "2023-04-11T09:40Z"},
                    "claims": {"address": {"locality": "Rabat", "country": "Morocco", "postal_code": "45009"}}
                }
            ]
        })
    );
}

#[test]
fn verified_claims_filtered_by_trust_framework_values_in_an_array() {
    let request = json!([
        {"verification": {"trust_framework": {"values": ["de_aml", "uk_tfida"]}},
         "claims": {"name": null, "email": null, "birthdate": null}},
        {"verification": {"trust_framework": {"value": "nist_800_63A"}},
         "claims": {"address": null}}
    ]);
    let claims = build(
        &["name", "email", "birthdate", "address"],
        &[],
        Some(request),
    );
    assert_eq!(
        Value::Object(claims),
        json!({
            "birthdate": "1987-11-25",
            "address": {"locality": "Rabat", "country": "Morocco", "postal_code": "45009"},
            "verified_claims": [{
                "verification": {
                    "trust_framework": "de_aml",
                    "time": "2022-01-20T14:05Z",
                    "verification_process": "aml-1"
                },
                "claims": {"name": "Sid Mansour", "email": "sid@example.com"}
            }]
        })
    );
}

#[test]
fn verified_claims_without_a_filter_take_the_first_active_verification() {
    let request = json!({"verification": {"trust_framework": null}, "claims": {"name": null, "gender": null}});
    let claims = build(&["name", "gender"], &["en", "fr"], Some(request));
    assert_eq!(
        Value::Object(claims),
        json!({
            "gender#en": "Male",
            "gender#fr": "Masculin",
            "verified_claims": [{
                "verification": {
                    "trust_framework": "eidas",
                    "time": "2023-04-11T09:30Z",
                    "assurance_level": "substantial",
                    "evidence": [{"type": "document"}]
                },
                "claims": {"name#en": "Sid Mansour", "name#fr": "Sid Mansour (fr)"}
            }]
        })
    );
}

#[test]
fn verified_claims_release_only_accepted_claims() {
    let request = json!({"verification": {"trust_framework": {"value": "eidas"}},
                         "claims": {"name": null, "birthdate": null}});
    let claims = build(&["name"], &[], Some(request));
    let released = &claims["verified_claims"][0]["claims"];
    assert_eq!(released, &json!({"name": "Sid Mansour"}));
    assert!(!claims.contains_key("birthdate"));
    assert!(!claims.contains_key("name"));
}

#[test]
fn unmatched_or_malformed_verified_requests_release_plain_claims() {
    for request in [
        json!({"verification": {"trust_framework": {"value": "jp_aml"}}, "claims": {"name": null}}),
        json!({"verification": {"trust_framework": {"value": "eidas"}}}),
        json!({"verification": {"trust_framework": {"value": "eidas"}}, "claims": ["name"]}),
        json!("eidas"),
        json!([]),
    ] {
        let claims = build(&["name"], &[], Some(request.clone()));
        assert_eq!(
            Value::Object(claims),
            json!({"name": "Sid Mansour"}),
            "{request}"
        );
    }
}

#[test]
fn claims_metadata_lists_active_verifications_per_held_claim() {
    let metadata = claims_metadata(&identity());
    let keys: Vec<&str> = metadata.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "name",
            "email",
            "gender",
            "birthdate",
            "picture",
            "address",
            "locale"
        ]
    );
    let frameworks = |claim: &str| -> Vec<&str> {
        metadata[claim]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["trust_framework"].as_str().unwrap())
            .collect()
    };
    assert_eq!(frameworks("name"), ["eidas", "de_aml"]);
    assert_eq!(frameworks("email"), ["de_aml"]);
    assert_eq!(frameworks("birthdate"), ["eidas"]);
    assert_eq!(frameworks("address"), ["eidas"]);
    assert!(
        frameworks("gender").is_empty(),
        "inactive verifications are not reported"
    );
    assert!(frameworks("picture").is_empty());
    assert_eq!(metadata["name"][0]["internal_note"], "not released");
}
