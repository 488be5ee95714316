use serde_json::json;

use super::*;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn registered() -> Vec<String> {
    strings(&[
        "name",
        "email",
        "phone_number",
        "birthdate",
        "address",
        "picture",
    ])
}

#[test]
fn scope_implied_claims_are_voluntary_and_limited_to_registered() {
    let resolved = resolve(None, &strings(&["openid", "email"]), &registered(), &[]).unwrap();
    assert_eq!(resolved.voluntary(), vec!["email"]);
    assert!(resolved.essential().is_empty());
}

#[test]
fn claims_parameter_sets_essential_and_ignores_unregistered() {
    let claims = json!({"userinfo": {"name": {"essential": true}, "gender": {"essential": true}, "email": null}});
    validate_request(Some(&claims)).unwrap();
    let resolved = resolve(Some(&claims), &strings(&["openid"]), &registered(), &[]).unwrap();
    assert_eq!(resolved.essential(), vec!["name"]);
    assert_eq!(resolved.voluntary(), vec!["email"]);
}

#[test]
fn userinfo_claims_need_openid() {
    let claims = json!({"userinfo": {"name": null}});
    assert_eq!(
        resolve(Some(&claims), &[], &registered(), &[]),
        Err(Error::code(codes::INVALID_SCOPE))
    );
}

#[test]
fn verified_claims_carry_their_verification() {
    let claims = json!({"userinfo": {"verified_claims": {
        "verification": {"trust_framework": {"value": "income-tax"}},
        "claims": {"name": {"essential": true}, "birthdate": null}
    }}});
    validate_request(Some(&claims)).unwrap();
    let resolved = resolve(
        Some(&claims),
        &strings(&["openid"]),
        &registered(),
        &strings(&["name", "birthdate"]),
    )
    .unwrap();
    assert_eq!(resolved.essential(), vec!["name"]);
    let detail = resolved.detail("birthdate").unwrap();
    assert_eq!(
        detail.verification,
        Some(json!({"trust_framework": {"value": "income-tax"}}))
    );

    let details = accepted_claim_details(&resolved, &strings(&["name"]));
    assert_eq!(
        details["verified_claims"],
        json!([{"verification": {"trust_framework": {"value": "income-tax"}}, "claims": {"name": {"essential": true}}}])
    );
    assert!(accepted_claim_details(&resolved, &[]).is_empty());
}

#[test]
fn malformed_requests_are_rejected_with_their_codes() {
    let cases = [
        (json!("x"), codes::INVALID_CLAIM),
        (json!({"other": {}}), codes::INVALID_CLAIM),
        (json!({"userinfo": {"name": 5}}), codes::INVALID_CLAIM),
        (
            json!({"userinfo": {"name": {"essential": "yes"}}}),
            codes::INVALID_CLAIM,
        ),
        (
            json!({"userinfo": {"name": {"purpose": "no"}}}),
            codes::INVALID_PURPOSE,
        ),
        (
            json!({"userinfo": {"name": {"purpose": "x".repeat(301)}}}),
            codes::INVALID_PURPOSE,
        ),
        (
            json!({"userinfo": {"verified_claims": {"claims": {"name": null}}}}),
            codes::INVALID_VERIFICATION,
        ),
        (
            json!({"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {}}}}),
            codes::INVALID_VERIFIED_CLAIMS,
        ),
        (
            json!({"userinfo": {"verified_claims": []}}),
            codes::INVALID_VERIFIED_CLAIMS,
        ),
    ];
    for (claims, code) in cases {
        assert_eq!(
            validate_request(Some(&claims)),
            Err(Error::code(code)),
            "{claims}"
        );
    }
}

#[test]
fn claim_status_follows_metadata() {
    let claims = json!({"userinfo": {
        "email": null,
        "verified_claims": {"verification": {"trust_framework": {"values": ["pwd", "eidas"]}}, "claims": {"name": {"essential": true}, "birthdate": null}}
    }});
    let resolved = resolve(
        Some(&claims),
        &strings(&["openid"]),
        &registered(),
        &strings(&["name", "birthdate"]),
    )
    .unwrap();
    let metadata = json!({
        "name": [{"trust_framework": "eidas"}],
        "birthdate": [{"trust_framework": "other"}],
        "email": []
    });
    let (statuses, update) = claim_statuses(&resolved, metadata.as_object().unwrap());
    let find = |claim: &str| statuses.iter().find(|s| s.claim == claim).unwrap().clone();
    assert_eq!(
        find("name"),
        ClaimStatus {
            claim: "name".into(),
            verified: true,
            available: true
        }
    );
    assert_eq!(
        find("birthdate"),
        ClaimStatus {
            claim: "birthdate".into(),
            verified: false,
            available: true
        }
    );
    assert_eq!(
        find("email"),
        ClaimStatus {
            claim: "email".into(),
            verified: false,
            available: true
        }
    );
    assert!(!update);

    let unverified = json!({"name": [], "birthdate": []});
    let (_, update) = claim_statuses(&resolved, unverified.as_object().unwrap());
    assert!(
        update,
        "essential verified claim without verification requires a profile update"
    );
}
