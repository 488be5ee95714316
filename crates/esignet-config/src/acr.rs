//! The ACR/AMR mapping (eSignet's `amr-acr-mapping.json` format, reference §8.7).
//!
//! `amr` names groups of authentication factors; `acr_amr` maps each ACR value to the AMR
//! groups that satisfy it. The order of `acr_amr` is the file order: ACRs are resolved and
//! their factor lists offered in that order.

use std::collections::BTreeMap;

use serde_json::Value;

/// eSignet's bundled default mapping, exactly as in the reference (§8.7).
pub const BUILTIN_ACR_AMR_MAPPING: &str = r#"{
  "amr": {
    "PIN": [{"type": "PIN"}],
    "OTP": [{"type": "OTP"}],
    "Wallet": [{"type": "WLA"}],
    "L1-bio-device": [{"type": "BIO", "count": 1}],
    "Knowledge": [{"type": "KBI"}],
    "Password": [{"type": "PWD"}],
    "ID-token": [{"type": "IDT"}]
  },
  "acr_amr": {
    "mosip:idp:acr:static-code": ["PIN"],
    "mosip:idp:acr:generated-code": ["OTP"],
    "mosip:idp:acr:linked-wallet": ["Wallet"],
    "mosip:idp:acr:biometrics": ["L1-bio-device"],
    "mosip:idp:acr:knowledge": ["Knowledge"],
    "mosip:idp:acr:password": ["Password"],
    "mosip:idp:acr:id-token": ["ID-token"]
  }
}"#;

/// Authentication factor types a mapping may name.
pub const FACTOR_TYPES: &[&str] = &["OTP", "PIN", "PWD", "KBI", "BIO", "WLA", "IDT"];

/// One authentication factor of an AMR group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthFactorSpec {
    /// Factor type, one of [`FACTOR_TYPES`] (`"type"` in the file).
    pub factor_type: String,
    /// How many captures are required (`"count"`, 0 when absent: not specified).
    pub count: u32,
    /// Allowed sub-types, for example biometric modalities (`"subTypes"`).
    pub sub_types: Option<Vec<String>>,
}

/// A validated ACR/AMR mapping: every AMR name used by an ACR exists, every AMR group has at
/// least one factor and every factor type is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcrMapping {
    /// AMR name → the factors that make it up.
    pub amr: BTreeMap<String, Vec<AuthFactorSpec>>,
    /// ACR value → AMR names, in file order.
    pub acr_amr: Vec<(String, Vec<String>)>,
}

impl AcrMapping {
    /// The built-in mapping ([`BUILTIN_ACR_AMR_MAPPING`]).
    ///
    /// # Errors
    /// Never in practice (a test checks the constant); the `Result` keeps this free of panics.
    pub fn builtin() -> Result<Self, Vec<String>> {
        Self::from_json(BUILTIN_ACR_AMR_MAPPING)
    }

    /// Parses and validates a mapping document.
    ///
    /// # Errors
    /// Every problem found, one message each (JSON syntax, shape, unknown factor types,
    /// ACRs naming missing AMRs, empty groups).
    pub fn from_json(text: &str) -> Result<Self, Vec<String>> {
        let document: Value =
            serde_json::from_str(text).map_err(|e| vec![format!("not valid JSON: {e}")])?;
        let Value::Object(root) = document else {
            return Err(vec![
                "must be a JSON object with \"amr\" and \"acr_amr\"".to_owned(),
            ]);
        };
        let mut problems = Vec::new();
        for key in root.keys() {
            if key != "amr" && key != "acr_amr" {
                problems.push(format!(
                    "unknown member \"{key}\" (expected \"amr\" and \"acr_amr\")"
                ));
            }
        }
        let amr = match root.get("amr") {
            Some(Value::Object(groups)) => parse_amr_groups(groups, &mut problems),
            Some(_) => {
                problems.push("\"amr\" must be an object of AMR name to factor list".to_owned());
                BTreeMap::new()
            }
            None => {
                problems.push("missing \"amr\"".to_owned());
                BTreeMap::new()
            }
        };
        let acr_amr = match root.get("acr_amr") {
            Some(Value::Object(acrs)) => parse_acr_amr(acrs, &amr, &mut problems),
            Some(_) => {
                problems.push("\"acr_amr\" must be an object of ACR to AMR names".to_owned());
                Vec::new()
            }
            None => {
                problems.push("missing \"acr_amr\"".to_owned());
                Vec::new()
            }
        };
        if problems.is_empty() && acr_amr.is_empty() {
            problems.push("\"acr_amr\" maps no ACR".to_owned());
        }
        if problems.is_empty() {
            Ok(Self { amr, acr_amr })
        } else {
            Err(problems)
        }
    }

    /// Whether `acr` is mapped.
    pub fn contains_acr(&self, acr: &str) -> bool {
        self.acr_amr.iter().any(|(name, _)| name == acr)
    }

    /// The AMR names of `acr`, if mapped.
    pub fn amr_names(&self, acr: &str) -> Option<&[String]> {
        self.acr_amr
            .iter()
            .find(|(name, _)| name == acr)
            .map(|(_, amrs)| amrs.as_slice())
    }

    /// The factor lists offered for `acr`: one list per AMR name, in mapping order
    /// (reference §8.7 `authFactors`). `None` when `acr` is not mapped.
    pub fn auth_factor_lists(&self, acr: &str) -> Option<Vec<&[AuthFactorSpec]>> {
        let names = self.amr_names(acr)?;
        Some(
            names
                .iter()
                .filter_map(|n| self.amr.get(n).map(Vec::as_slice))
                .collect(),
        )
    }
}

fn parse_amr_groups(
    groups: &serde_json::Map<String, Value>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, Vec<AuthFactorSpec>> {
    let mut amr = BTreeMap::new();
    for (name, factors) in groups {
        let Value::Array(factors) = factors else {
            problems.push(format!("amr \"{name}\" must be an array of factors"));
            continue;
        };
        if factors.is_empty() {
            problems.push(format!("amr \"{name}\" has no factor"));
        }
        let mut specs = Vec::with_capacity(factors.len());
        for (index, factor) in factors.iter().enumerate() {
            let at = format!("amr \"{name}\" factor {}", index + 1);
            if let Some(spec) = parse_factor(factor, &at, problems) {
                specs.push(spec);
            }
        }
        amr.insert(name.clone(), specs);
    }
    amr
}

fn parse_factor(factor: &Value, at: &str, problems: &mut Vec<String>) -> Option<AuthFactorSpec> {
    let Value::Object(fields) = factor else {
        problems.push(format!("{at} must be an object with \"type\""));
        return None;
    };
    let before = problems.len();
    for key in fields.keys() {
        if !matches!(key.as_str(), "type" | "count" | "subTypes") {
            problems.push(format!(
                "{at}: unknown member \"{key}\" (expected \"type\", \"count\", \"subTypes\")"
            ));
        }
    }
    let factor_type = match fields.get("type") {
        Some(Value::String(t)) if FACTOR_TYPES.contains(&t.as_str()) => t.clone(),
        Some(Value::String(t)) => {
            problems.push(format!(
                "{at}: unknown factor type \"{t}\" (expected one of {})",
                FACTOR_TYPES.join(", ")
            ));
            String::new()
        }
        Some(_) => {
            problems.push(format!("{at}: \"type\" must be a string"));
            String::new()
        }
        None => {
            problems.push(format!("{at}: missing \"type\""));
            String::new()
        }
    };
    let count = match fields.get("count") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => match n.as_u64().and_then(|c| u32::try_from(c).ok()) {
            Some(c) => c,
            None => {
                problems.push(format!("{at}: \"count\" must be a non-negative integer"));
                0
            }
        },
        Some(_) => {
            problems.push(format!("{at}: \"count\" must be a non-negative integer"));
            0
        }
    };
    let sub_types = match fields.get("subTypes") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let strings: Vec<String> = items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            if strings.len() != items.len() {
                problems.push(format!("{at}: \"subTypes\" must be an array of strings"));
            }
            Some(strings)
        }
        Some(_) => {
            problems.push(format!("{at}: \"subTypes\" must be an array of strings"));
            None
        }
    };
    (problems.len() == before).then_some(AuthFactorSpec {
        factor_type,
        count,
        sub_types,
    })
}

fn parse_acr_amr(
    acrs: &serde_json::Map<String, Value>,
    amr: &BTreeMap<String, Vec<AuthFactorSpec>>,
    problems: &mut Vec<String>,
) -> Vec<(String, Vec<String>)> {
    let mut acr_amr = Vec::with_capacity(acrs.len());
    for (acr, names) in acrs {
        let Some(names) = names.as_array() else {
            problems.push(format!("acr \"{acr}\" must be an array of AMR names"));
            continue;
        };
        if names.is_empty() {
            problems.push(format!("acr \"{acr}\" names no AMR"));
        }
        let mut amr_names = Vec::with_capacity(names.len());
        for name in names {
            match name.as_str() {
                Some(n) if amr.contains_key(n) => amr_names.push(n.to_owned()),
                Some(n) => problems.push(format!("acr \"{acr}\" names unknown amr \"{n}\"")),
                None => problems.push(format!("acr \"{acr}\" must be an array of AMR names")),
            }
        }
        acr_amr.push((acr.clone(), amr_names));
    }
    acr_amr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_mapping_is_the_reference_mapping_in_order() {
        let mapping = AcrMapping::builtin().unwrap();
        let acrs: Vec<&str> = mapping.acr_amr.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            acrs,
            [
                "mosip:idp:acr:static-code",
                "mosip:idp:acr:generated-code",
                "mosip:idp:acr:linked-wallet",
                "mosip:idp:acr:biometrics",
                "mosip:idp:acr:knowledge",
                "mosip:idp:acr:password",
                "mosip:idp:acr:id-token",
            ]
        );
        assert_eq!(mapping.amr.len(), 7);
        let bio = mapping
            .auth_factor_lists("mosip:idp:acr:biometrics")
            .unwrap();
        assert_eq!(
            bio,
            vec![
                &[AuthFactorSpec {
                    factor_type: "BIO".into(),
                    count: 1,
                    sub_types: None
                }][..]
            ]
        );
        assert_eq!(
            mapping.amr_names("mosip:idp:acr:generated-code").unwrap(),
            ["OTP"]
        );
        assert!(mapping.auth_factor_lists("mosip:idp:acr:unknown").is_none());
    }

    #[test]
    fn sub_types_and_multi_factor_groups_parse() {
        let mapping = AcrMapping::from_json(
            r#"{"amr":{"Bio+OTP":[{"type":"BIO","count":2,"subTypes":["Iris","Face"]},{"type":"OTP"}]},
                "acr_amr":{"b":["Bio+OTP"],"a":["Bio+OTP"]}}"#,
        )
        .unwrap();
        assert_eq!(mapping.acr_amr[0].0, "b", "file order is kept");
        let group = &mapping.amr["Bio+OTP"];
        assert_eq!(group[0].count, 2);
        assert_eq!(
            group[0].sub_types.as_deref(),
            Some(&["Iris".to_owned(), "Face".to_owned()][..])
        );
        assert_eq!(group[1].factor_type, "OTP");
    }

    #[test]
    fn every_problem_of_a_bad_mapping_is_reported() {
        let problems = AcrMapping::from_json(
            r#"{"amr":{"X":[{"type":"FACE","count":-1}],"Empty":[]},
                "acr_amr":{"a":["X","Missing"],"b":[]},"extra":1}"#,
        )
        .unwrap_err();
        let text = problems.join("\n");
        for needle in [
            "unknown member \"extra\"",
            "unknown factor type \"FACE\"",
            "\"count\" must be a non-negative integer",
            "amr \"Empty\" has no factor",
            "acr \"a\" names unknown amr \"Missing\"",
            "acr \"b\" names no AMR",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert_eq!(problems.len(), 6, "{text}");
    }

    #[test]
    fn syntax_and_shape_errors() {
        assert!(AcrMapping::from_json("{").unwrap_err()[0].starts_with("not valid JSON"));
        assert!(AcrMapping::from_json("[]").unwrap_err()[0].contains("JSON object"));
        let missing = AcrMapping::from_json("{}").unwrap_err();
        assert_eq!(missing, vec!["missing \"amr\"", "missing \"acr_amr\""]);
        let none = AcrMapping::from_json(r#"{"amr":{},"acr_amr":{}}"#).unwrap_err();
        assert_eq!(none, vec!["\"acr_amr\" maps no ACR"]);
    }
}
