//! The OIDC `claims` request parameter (OpenID Connect Core §5.5) with OpenID Connect for
//! Identity Assurance 1.0 `verified_claims`, its resolution against what the client registered
//! and the scopes, and the claim status shown before consent (eSignet §8.6).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codes;
use crate::error::{Error, Result};
use crate::scopes;

const PURPOSE_MIN: usize = 3;
const PURPOSE_MAX: usize = 300;

/// What the relying party asked to know about one claim.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimDetail {
    /// Must the resident share it for the login to proceed?
    #[serde(default)]
    pub essential: bool,
    /// A specific value requested (passed to the identity system).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// A set of acceptable values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
    /// Why the relying party wants it (shown on the consent page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// For a claim requested inside `verified_claims`: the requested verification element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Value>,
}

/// The claims a transaction asks for, after resolution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolvedClaims {
    /// Claims for the userinfo response, by name, in resolution order.
    pub userinfo: Map<String, Value>,
    /// Claims requested for the ID token (only `acr` is acted on, see [`crate::acr`]).
    pub id_token: Map<String, Value>,
}

impl ResolvedClaims {
    /// The detail of a userinfo claim.
    pub fn detail(&self, claim: &str) -> Option<ClaimDetail> {
        self.userinfo
            .get(claim)
            .and_then(|value| serde_json::from_value(value.clone()).ok())
    }

    /// Claims marked essential, in order.
    pub fn essential(&self) -> Vec<String> {
        self.names_where(|detail| detail.essential)
    }

    /// Claims not marked essential, in order.
    pub fn voluntary(&self) -> Vec<String> {
        self.names_where(|detail| !detail.essential)
    }

    fn names_where(&self, keep: impl Fn(&ClaimDetail) -> bool) -> Vec<String> {
        self.userinfo
            .keys()
            .filter(|name| self.detail(name).is_some_and(|detail| keep(&detail)))
            .cloned()
            .collect()
    }

    /// Whether anything at all was requested (userinfo claims).
    pub fn is_empty(&self) -> bool {
        self.userinfo.is_empty()
    }
}

/// Validates the shape of a `claims` request object. `None` is a valid absent parameter.
pub fn validate_request(claims: Option<&Value>) -> Result<()> {
    let Some(claims) = claims else { return Ok(()) };
    let object = claims
        .as_object()
        .ok_or(Error::code(codes::INVALID_CLAIM))?;
    for (member, requests) in object {
        if member != "userinfo" && member != "id_token" {
            return Err(Error::code(codes::INVALID_CLAIM));
        }
        let requests = requests
            .as_object()
            .ok_or(Error::code(codes::INVALID_CLAIM))?;
        for (name, request) in requests {
            if name == "verified_claims" {
                validate_verified_claims(request)?;
            } else {
                validate_claim_request(request)?;
            }
        }
    }
    Ok(())
}

fn validate_claim_request(request: &Value) -> Result<()> {
    match request {
        Value::Null => Ok(()),
        Value::Object(fields) => {
            for (field, value) in fields {
                match field.as_str() {
                    "essential" if !value.is_boolean() => {
                        return Err(Error::code(codes::INVALID_CLAIM));
                    }
                    "values" if !value.is_array() => return Err(Error::code(codes::INVALID_CLAIM)),
                    "purpose" => {
                        let purpose = value.as_str().ok_or(Error::code(codes::INVALID_PURPOSE))?;
                        let length = purpose.chars().count();
                        if !(PURPOSE_MIN..=PURPOSE_MAX).contains(&length) {
                            return Err(Error::code(codes::INVALID_PURPOSE));
                        }
                    }
                    // Identity Assurance and extensions allow further members (max_age, ...).
                    _ => {}
                }
            }
            Ok(())
        }
        _ => Err(Error::code(codes::INVALID_CLAIM)),
    }
}

fn validate_verified_claims(request: &Value) -> Result<()> {
    let entries: Vec<&Value> = match request {
        Value::Array(entries) if !entries.is_empty() => entries.iter().collect(),
        Value::Object(_) => vec![request],
        _ => return Err(Error::code(codes::INVALID_VERIFIED_CLAIMS)),
    };
    for entry in entries {
        let entry = entry
            .as_object()
            .ok_or(Error::code(codes::INVALID_VERIFIED_CLAIMS))?;
        match entry.get("verification") {
            Some(Value::Object(verification)) if !verification.is_empty() => {}
            _ => return Err(Error::code(codes::INVALID_VERIFICATION)),
        }
        match entry.get("claims") {
            Some(Value::Object(claims)) if !claims.is_empty() => {
                for request in claims.values() {
                    validate_claim_request(request)?;
                }
            }
            _ => return Err(Error::code(codes::INVALID_VERIFIED_CLAIMS)),
        }
    }
    Ok(())
}

/// Resolves the claims a transaction will ask consent for: only claims the client registered;
/// each one requested in `claims.userinfo`, implied by a requested OpenID scope, or named inside
/// `verified_claims` (whose detail then carries the verification element).
pub fn resolve(
    claims: Option<&Value>,
    openid_scopes: &[String],
    registered: &[String],
    verified_supported: &[String],
) -> Result<ResolvedClaims> {
    let requested_userinfo = claims
        .and_then(|c| c.get("userinfo"))
        .and_then(Value::as_object);
    if requested_userinfo.is_some() && !openid_scopes.iter().any(|s| s == "openid") {
        return Err(Error::code(codes::INVALID_SCOPE));
    }
    let mut userinfo = Map::new();
    for claim in registered {
        let from_request = requested_userinfo.and_then(|requested| requested.get(claim));
        let detail = match from_request {
            Some(Value::Null) => Some(ClaimDetail::default()),
            Some(value) => Some(
                serde_json::from_value::<ClaimDetail>(value.clone())
                    .map_err(|_| Error::code(codes::INVALID_CLAIM))?,
            ),
            None if openid_scopes
                .iter()
                .any(|scope| scopes::implied_claims(scope).contains(&claim.as_str())) =>
            {
                Some(ClaimDetail::default())
            }
            None => None,
        };
        if let Some(detail) = detail {
            userinfo.insert(claim.clone(), to_value(&detail));
        }
    }
    if let Some(verified) =
        requested_userinfo.and_then(|requested| requested.get("verified_claims"))
    {
        let entries: Vec<&Value> = match verified {
            Value::Array(entries) => entries.iter().collect(),
            other => vec![other],
        };
        for entry in entries {
            let verification = entry.get("verification").cloned();
            let Some(inner) = entry.get("claims").and_then(Value::as_object) else {
                continue;
            };
            for (claim, request) in inner {
                if !registered.contains(claim) || !verified_supported.contains(claim) {
                    continue;
                }
                let mut detail: ClaimDetail = match request {
                    Value::Null => ClaimDetail::default(),
                    value => serde_json::from_value(value.clone())
                        .map_err(|_| Error::code(codes::INVALID_CLAIM))?,
                };
                detail.verification = verification.clone();
                userinfo.insert(claim.clone(), to_value(&detail));
            }
        }
    }
    let id_token = claims
        .and_then(|c| c.get("id_token"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(ResolvedClaims { userinfo, id_token })
}

fn to_value(detail: &ClaimDetail) -> Value {
    serde_json::to_value(detail).unwrap_or(Value::Null)
}

/// One row of `claim-details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimStatus {
    /// The claim name.
    pub claim: String,
    /// Whether the identity system holds verification data satisfying the request.
    pub verified: bool,
    /// Whether the identity system holds a value for it.
    pub available: bool,
}

/// The claim statuses and whether the resident must update their profile first (an essential
/// claim requested with verification that is not verified).
pub fn claim_statuses(
    resolved: &ResolvedClaims,
    metadata: &Map<String, Value>,
) -> (Vec<ClaimStatus>, bool) {
    let mut profile_update_required = false;
    let statuses = resolved
        .userinfo
        .keys()
        .map(|claim| {
            let detail = resolved.detail(claim).unwrap_or_default();
            let stored = metadata.get(claim).and_then(Value::as_array);
            let available = stored.is_some();
            let verified = match (&detail.verification, stored) {
                (_, None) => false,
                (None, Some(list)) => !list.is_empty(),
                (Some(wanted), Some(list)) => {
                    list.iter().any(|have| verification_matches(wanted, have))
                }
            };
            if detail.essential && detail.verification.is_some() && !verified {
                profile_update_required = true;
            }
            ClaimStatus {
                claim: claim.clone(),
                verified,
                available,
            }
        })
        .collect();
    (statuses, profile_update_required)
}

/// Whether stored verification metadata `have` satisfies the requested verification `wanted`
/// (`value` equality or `values` membership for trust_framework, assurance_level and
/// verification_process).
pub fn verification_matches(wanted: &Value, have: &Value) -> bool {
    ["trust_framework", "assurance_level", "verification_process"]
        .iter()
        .all(|field| match wanted.get(*field) {
            None | Some(Value::Null) => true,
            Some(constraint) => {
                let actual = have.get(*field);
                if let Some(value) = constraint.get("value") {
                    actual == Some(value)
                } else if let Some(values) = constraint.get("values").and_then(Value::as_array) {
                    actual.is_some_and(|actual| values.contains(actual))
                } else {
                    actual.is_some()
                }
            }
        })
}

/// The details of the accepted claims sent to a verified KYC exchange: each accepted plain claim
/// with its request, and a `verified_claims` array restricted to accepted inner claims. Returns
/// an empty map when no accepted claim was requested with verification.
pub fn accepted_claim_details(
    resolved: &ResolvedClaims,
    accepted: &[String],
) -> Map<String, Value> {
    let mut details = Map::new();
    let mut verified: Vec<Value> = Vec::new();
    for claim in accepted {
        let Some(detail) = resolved.detail(claim) else {
            continue;
        };
        match &detail.verification {
            Some(verification) => {
                let mut request = detail.clone();
                request.verification = None;
                let mut inner = Map::new();
                inner.insert(claim.clone(), to_value(&request));
                // Group inner claims sharing the same verification request.
                if let Some(existing) = verified
                    .iter_mut()
                    .find(|entry| entry.get("verification") == Some(verification))
                {
                    if let Some(Value::Object(claims)) = existing.get_mut("claims") {
                        claims.insert(claim.clone(), to_value(&request));
                    }
                } else {
                    verified.push(serde_json::json!({
                        "verification": verification,
                        "claims": Value::Object(inner),
                    }));
                }
            }
            None => {
                details.insert(claim.clone(), to_value(&detail));
            }
        }
    }
    if verified.is_empty() {
        return Map::new();
    }
    details.insert("verified_claims".to_owned(), Value::Array(verified));
    details
}

#[cfg(test)]
mod tests;
