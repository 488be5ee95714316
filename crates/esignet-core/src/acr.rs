//! Authentication context classes: which factors an ACR demands (the configurable ACR → AMR →
//! factor mapping of eSignet §8.7), which ACRs a transaction resolves to, and which ACRs the
//! factors a resident presented satisfy.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codes;
use crate::error::{Error, Result};

/// One factor of a factor set, as the UI receives it in `authFactors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthFactor {
    /// `OTP`, `PIN`, `PWD`, `KBI`, `BIO`, `WLA`, `IDT`.
    #[serde(rename = "type")]
    pub factor_type: String,
    /// How many (biometric captures); 0 when not applicable.
    pub count: u32,
    /// Sub types (biometric modalities), or null.
    #[serde(rename = "subTypes")]
    pub sub_types: Option<Vec<String>>,
}

/// The ACR → AMR → factors mapping.
#[derive(Debug, Clone, Default)]
pub struct AcrMapping {
    amr: Vec<(String, Vec<AuthFactor>)>,
    acr_amr: Vec<(String, Vec<String>)>,
}

impl AcrMapping {
    /// Builds a mapping from AMR definitions and ACR → AMR names, both in configured order.
    pub fn new(amr: Vec<(String, Vec<AuthFactor>)>, acr_amr: Vec<(String, Vec<String>)>) -> Self {
        Self { amr, acr_amr }
    }

    fn amr_names(&self, acr: &str) -> Option<&[String]> {
        self.acr_amr
            .iter()
            .find(|(name, _)| name == acr)
            .map(|(_, amrs)| amrs.as_slice())
    }

    fn factors(&self, amr: &str) -> Option<&[AuthFactor]> {
        self.amr
            .iter()
            .find(|(name, _)| name == amr)
            .map(|(_, factors)| factors.as_slice())
    }

    /// Whether `acr` is a known ACR.
    pub fn knows(&self, acr: &str) -> bool {
        self.amr_names(acr).is_some()
    }

    /// The factor sets of the given ACRs, one per AMR, in order: the resident completes any one.
    pub fn factor_sets(&self, acrs: &[String]) -> Result<Vec<Vec<AuthFactor>>> {
        let mut sets = Vec::new();
        for acr in acrs {
            let amrs = self
                .amr_names(acr)
                .ok_or(Error::code(codes::ACR_AMR_MAPPING_NOT_FOUND))?;
            for amr in amrs {
                let factors = self
                    .factors(amr)
                    .ok_or(Error::code(codes::ACR_AMR_MAPPING_NOT_FOUND))?;
                sets.push(factors.to_vec());
            }
        }
        Ok(sets)
    }

    /// The ACRs satisfied by the presented factor types: those all of whose AMRs are fully
    /// covered.
    pub fn satisfied(&self, acrs: &[String], presented: &[String]) -> Vec<String> {
        acrs.iter()
            .filter(|acr| {
                self.amr_names(acr).is_some_and(|amrs| {
                    amrs.iter().all(|amr| {
                        self.factors(amr)
                            .is_some_and(|factors| covers(factors, presented))
                    })
                })
            })
            .cloned()
            .collect()
    }
}

fn covers(factors: &[AuthFactor], presented: &[String]) -> bool {
    factors
        .iter()
        .all(|factor| presented.contains(&factor.factor_type))
}

/// Resolves a transaction's ACRs: `claims.id_token.acr.values` ∩ registered, else `acr_values`
/// ∩ registered, else every registered ACR. A client with none registered cannot log in.
pub fn resolve(
    claims_id_token: Option<&serde_json::Map<String, Value>>,
    acr_values: Option<&str>,
    registered: &[String],
) -> Result<Vec<String>> {
    if registered.is_empty() {
        return Err(Error::code(codes::NO_ACR_REGISTERED));
    }
    let requested = claims_id_token.and_then(|id_token| id_token.get("acr"));
    // `values` (an array) or `value` (one string), OIDC Core 5.5.1.
    let asked: Vec<&str> = match requested {
        Some(acr) => match (acr.get("values"), acr.get("value")) {
            (Some(Value::Array(values)), _) => values.iter().filter_map(Value::as_str).collect(),
            (_, Some(Value::String(value))) => vec![value.as_str()],
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let from_claims: Vec<String> = asked
        .iter()
        .filter(|acr| registered.iter().any(|r| r == *acr))
        .map(|acr| (*acr).to_owned())
        .collect();
    if !from_claims.is_empty() {
        return Ok(from_claims);
    }
    // OIDC Core 5.5.1.1: an essential `acr` the server cannot satisfy fails the request; it is
    // not silently replaced by another level.
    let essential = requested
        .and_then(|acr| acr.get("essential"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if essential && !asked.is_empty() {
        return Err(Error::code(codes::INVALID_ACR));
    }
    let from_param: Vec<String> = acr_values
        .unwrap_or_default()
        .split(' ')
        .filter(|acr| registered.iter().any(|r| r == acr))
        .map(str::to_owned)
        .collect();
    if !from_param.is_empty() {
        return Ok(from_param);
    }
    Ok(registered.to_vec())
}

/// Checks that the presented factor types complete at least one of the transaction's factor
/// sets.
pub fn check_factors(sets: &[Vec<AuthFactor>], presented: &[String]) -> Result<()> {
    if sets.iter().any(|set| covers(set, presented)) {
        Ok(())
    } else {
        Err(Error::code(codes::AUTH_FACTOR_MISMATCH))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(t: &str) -> AuthFactor {
        AuthFactor {
            factor_type: t.into(),
            count: 0,
            sub_types: None,
        }
    }

    fn mapping() -> AcrMapping {
        AcrMapping::new(
            vec![
                ("OTP".into(), vec![factor("OTP")]),
                ("PIN".into(), vec![factor("PIN")]),
                ("OTP+PIN".into(), vec![factor("OTP"), factor("PIN")]),
            ],
            vec![
                ("gen".into(), vec!["OTP".into()]),
                ("static".into(), vec!["PIN".into()]),
                ("strong".into(), vec!["OTP+PIN".into()]),
                ("broken".into(), vec!["missing".into()]),
            ],
        )
    }

    fn s(items: &[&str]) -> Vec<String> {
        items.iter().map(|i| (*i).to_owned()).collect()
    }

    #[test]
    fn resolution_priority() {
        let registered = s(&["gen", "static"]);
        let claims = serde_json::json!({"acr": {"essential": true, "values": ["static", "other"]}});
        assert_eq!(
            resolve(claims.as_object(), Some("gen"), &registered).unwrap(),
            s(&["static"])
        );
        assert_eq!(
            resolve(None, Some("x gen"), &registered).unwrap(),
            s(&["gen"])
        );
        assert_eq!(resolve(None, Some("x"), &registered).unwrap(), registered);
        assert_eq!(
            resolve(None, None, &[]),
            Err(Error::code(codes::NO_ACR_REGISTERED))
        );
    }

    #[test]
    fn an_essential_acr_nobody_offers_fails_the_request() {
        let registered = s(&["gen", "static"]);
        let essential = serde_json::json!({"acr": {"essential": true, "values": ["unknown"]}});
        assert_eq!(
            resolve(essential.as_object(), Some("gen"), &registered),
            Err(Error::code(codes::INVALID_ACR))
        );
        let one_value = serde_json::json!({"acr": {"essential": true, "value": "unknown"}});
        assert_eq!(
            resolve(one_value.as_object(), None, &registered),
            Err(Error::code(codes::INVALID_ACR))
        );
        let offered = serde_json::json!({"acr": {"essential": true, "value": "static"}});
        assert_eq!(
            resolve(offered.as_object(), None, &registered).unwrap(),
            s(&["static"])
        );
        // Voluntary: the server falls back to acr_values, then to every registered ACR.
        let voluntary = serde_json::json!({"acr": {"values": ["unknown"]}});
        assert_eq!(
            resolve(voluntary.as_object(), Some("gen"), &registered).unwrap(),
            s(&["gen"])
        );
        let no_values = serde_json::json!({"acr": {"essential": true}});
        assert_eq!(
            resolve(no_values.as_object(), None, &registered).unwrap(),
            registered
        );
    }

    #[test]
    fn factor_sets_and_matching() {
        let mapping = mapping();
        let sets = mapping.factor_sets(&s(&["gen", "strong"])).unwrap();
        assert_eq!(sets.len(), 2);
        check_factors(&sets, &s(&["OTP"])).unwrap();
        assert_eq!(
            check_factors(&mapping.factor_sets(&s(&["strong"])).unwrap(), &s(&["OTP"])),
            Err(Error::code(codes::AUTH_FACTOR_MISMATCH))
        );
        assert_eq!(
            mapping.satisfied(&s(&["gen", "static", "strong"]), &s(&["OTP", "PIN"])),
            s(&["gen", "static", "strong"])
        );
        assert_eq!(
            mapping.satisfied(&s(&["gen", "strong"]), &s(&["OTP"])),
            s(&["gen"])
        );
        assert_eq!(
            mapping.factor_sets(&s(&["broken"])),
            Err(Error::code(codes::ACR_AMR_MAPPING_NOT_FOUND))
        );
    }
}
