//! The test server's OpenID Connect for Identity Assurance side (IDA's v2 kyc-auth and
//! kyc-exchange): the claims metadata of a resident, and the release of consented verified
//! claims under the trust framework they were verified with.

use serde_json::{Map, Value, json};

use super::{Refusal, TestIdentity};

/// `verifiedClaimsMetadata` of kyc-auth v2: every claim the resident holds, with
/// `[{"trust_framework": ...}]` when verified and `[]` when not, as a JSON text (IDA sends a
/// string).
pub(super) fn metadata_text(resident: &TestIdentity) -> String {
    let metadata: Map<String, Value> = resident
        .claims
        .iter()
        .map(|(claim, _)| {
            let details: Vec<Value> = resident
                .verified
                .iter()
                .filter(|(verified, _)| verified == claim)
                .map(|(_, framework)| json!({ "trust_framework": framework }))
                .collect();
            ((*claim).to_owned(), Value::Array(details))
        })
        .collect();
    Value::Object(metadata).to_string()
}

/// Whether a requested `verification` accepts `framework` (`trust_framework` `value` or
/// `values`; no constraint accepts any).
fn framework_accepted(verification: Option<&Value>, framework: &str) -> bool {
    let Some(wanted) = verification.and_then(|v| v.get("trust_framework")) else {
        return true;
    };
    if let Some(value) = wanted.get("value").and_then(Value::as_str) {
        return value == framework;
    }
    if let Some(values) = wanted.get("values").and_then(Value::as_array) {
        return values.iter().any(|value| value.as_str() == Some(framework));
    }
    true
}

/// Adds to `claims` the v2 exchange's consented claims: `unVerifiedConsentedClaims` as plain
/// claims, and those of `verifiedConsentedClaims` the resident has verified under an accepted
/// trust framework in `verified_claims` (one entry per framework). A claim both verified and
/// unverified is `IDA-MLC-009`, as IDA refuses duplicates.
pub(super) fn release(
    resident: &TestIdentity,
    body: &Map<String, Value>,
    claims: &mut Map<String, Value>,
) -> Result<(), Refusal> {
    let value_of = |name: &str| {
        resident
            .claims
            .iter()
            .find(|(claim, _)| *claim == name)
            .map(|(_, value)| json!(value))
    };
    let unverified = body
        .get("unVerifiedConsentedClaims")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let requested = body
        .get("verifiedConsentedClaims")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut by_framework: Vec<(&str, Map<String, Value>)> = Vec::new();
    for entry in &requested {
        let names = entry
            .get("claims")
            .and_then(Value::as_object)
            .map(|names| names.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        for name in names {
            if unverified.contains_key(&name) {
                return Err(("IDA-MLC-009", "Invalid Input Parameter - duplicate claims"));
            }
            let verified = resident.verified.iter().find(|(claim, framework)| {
                *claim == name && framework_accepted(entry.get("verification"), framework)
            });
            let (Some((_, framework)), Some(value)) = (verified, value_of(&name)) else {
                continue;
            };
            match by_framework
                .iter_mut()
                .find(|(known, _)| known == framework)
            {
                Some((_, group)) => {
                    group.insert(name, value);
                }
                None => by_framework.push((framework, Map::from_iter([(name, value)]))),
            }
        }
    }
    for name in unverified.keys() {
        if let Some(value) = value_of(name) {
            claims.insert(name.clone(), value);
        }
    }
    if !by_framework.is_empty() {
        let list: Vec<Value> = by_framework
            .into_iter()
            .map(|(framework, group)| {
                json!({
                    "verification": { "trust_framework": framework },
                    "claims": group,
                })
            })
            .collect();
        claims.insert("verified_claims".to_owned(), Value::Array(list));
    }
    Ok(())
}
