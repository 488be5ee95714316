//! Layering: built-in defaults < TOML file < `ESIGNET_*` environment variables, and the
//! extraction of [`RawConfig`] that reports every unknown key and ill-typed value instead of
//! stopping at the first.

use std::collections::BTreeMap;
use std::path::Path;

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Empty, Tag, Value};
use figment::{Figment, Provider};

use crate::catalogue::{self, KeyDoc, ValueKind};
use crate::error::Problems;
use crate::raw::RawConfig;

/// Prefix of every configuration environment variable.
pub const ENV_PREFIX: &str = "ESIGNET_";

/// `ESIGNET_` variables that are not configuration keys and are therefore not reported as
/// unknown: the configuration file path and the run-time log filter.
pub const RESERVED_ENV_VARS: &[&str] = &["ESIGNET_CONFIG", "ESIGNET_LOG"];

/// Problem key used for problems with the configuration file as a whole.
pub(crate) const FILE_KEY: &str = "config";

/// Upper bound on repair rounds in [`extract`]; each round removes one offending key, so this
/// only guards against a value that cannot be removed.
const MAX_REPAIRS: usize = 256;

/// The environment layer: values by dotted key, and which variable set each key.
pub(crate) struct EnvLayer {
    pub(crate) dict: Dict,
    pub(crate) origins: BTreeMap<String, String>,
}

/// Reads the configuration file. `None` (with a problem recorded) when it is missing or
/// unreadable: an explicitly given file must exist.
pub(crate) fn read_file(path: &Path, problems: &mut Problems) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            problems.push(
                FILE_KEY,
                format!("configuration file {} does not exist", path.display()),
            );
            None
        }
        Err(e) => {
            problems.push(
                FILE_KEY,
                format!("cannot read configuration file {}: {e}", path.display()),
            );
            None
        }
    }
}

/// Builds the environment layer from `ESIGNET_*` variables, reporting unknown variables and
/// values that do not parse for their key.
pub(crate) fn env_layer(
    env: impl IntoIterator<Item = (String, String)>,
    problems: &mut Problems,
) -> EnvLayer {
    let mut layer = EnvLayer {
        dict: Dict::new(),
        origins: BTreeMap::new(),
    };
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(name, _)| name.starts_with(ENV_PREFIX))
        .collect();
    // Sorted so problems come out in a stable order whatever the process environment order.
    vars.sort();
    for (name, raw) in vars {
        if RESERVED_ENV_VARS.contains(&name.as_str()) {
            continue;
        }
        let Some(key) = catalogue::key_for_env_var(&name.to_ascii_uppercase()) else {
            problems.push(name.clone(), unknown_var_message(&name));
            continue;
        };
        match parse_env_value(key.kind, &raw) {
            Ok(value) => {
                insert(&mut layer.dict, key, value);
                layer.origins.insert(key.path(), name);
            }
            Err(message) => problems.push(key.path(), format!("{message} (from {name})")),
        }
    }
    layer
}

fn unknown_var_message(name: &str) -> String {
    let squashed = |s: &str| s.replace('_', "").to_ascii_uppercase();
    let wanted = squashed(name);
    match catalogue::keys().find(|k| squashed(&k.env_var()) == wanted) {
        Some(key) => format!(
            "environment variable matches no configuration key; did you mean {}? \
             (section and key are separated by a double underscore)",
            key.env_var()
        ),
        None => "environment variable matches no configuration key \
                 (ESIGNET_<SECTION>__<KEY>, see docs/configuration.md)"
            .to_owned(),
    }
}

fn insert(dict: &mut Dict, key: &KeyDoc, value: Value) {
    if key.section.is_empty() {
        dict.insert(key.key.to_owned(), value);
        return;
    }
    let section = dict
        .entry(key.section.to_owned())
        .or_insert_with(|| Value::Dict(Tag::Default, Dict::new()));
    if let Value::Dict(_, entries) = section {
        entries.insert(key.key.to_owned(), value);
    }
}

/// Parses one environment value for a key of `kind`. Error messages never repeat the value
/// (it may be a secret).
fn parse_env_value(kind: ValueKind, raw: &str) -> Result<Value, String> {
    match kind {
        ValueKind::Str | ValueKind::Enum(_) => Ok(Value::from(unquote(raw))),
        ValueKind::OptStr | ValueKind::Secret => {
            if raw.trim().is_empty() {
                // An empty variable unsets an optional key, even one set in the file.
                Ok(Value::Empty(Tag::Default, Empty::None))
            } else {
                Ok(Value::from(unquote(raw)))
            }
        }
        ValueKind::Int => match parse_toml_value(raw.trim()) {
            Some(toml::Value::Integer(n)) => Ok(Value::from(n)),
            _ => Err("expected an integer".to_owned()),
        },
        ValueKind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::from(true)),
            "false" => Ok(Value::from(false)),
            _ => Err("expected true or false".to_owned()),
        },
        ValueKind::StrList => parse_string_list(raw).map(Value::from),
        ValueKind::Table => parse_table(raw),
    }
}

/// `"quoted"` (a TOML basic or literal string) is unquoted; anything else is taken verbatim.
fn unquote(raw: &str) -> String {
    let trimmed = raw.trim();
    let quoted = trimmed.len() >= 2
        && ((trimmed.starts_with('"') && trimmed.ends_with('"'))
            || (trimmed.starts_with('\'') && trimmed.ends_with('\'')));
    if quoted && let Some(toml::Value::String(s)) = parse_toml_value(trimmed) {
        return s;
    }
    raw.to_owned()
}

/// `["a", "b"]` (TOML array of strings) or a comma-separated list `a,b`; empty means empty.
fn parse_string_list(raw: &str) -> Result<Vec<String>, String> {
    let trimmed = raw.trim();
    if trimmed.starts_with('[') {
        let Some(toml::Value::Array(items)) = parse_toml_value(trimmed) else {
            return Err("expected an array of strings such as [\"a\", \"b\"]".to_owned());
        };
        items
            .into_iter()
            .map(|item| match item {
                toml::Value::String(s) => Ok(s),
                _ => Err("expected an array of strings such as [\"a\", \"b\"]".to_owned()),
            })
            .collect()
    } else {
        Ok(trimmed
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

/// A JSON object or a TOML inline table.
fn parse_table(raw: &str) -> Result<Value, String> {
    let trimmed = raw.trim();
    let error = || "expected a JSON object or a TOML inline table such as { key = \"value\" }";
    if let Ok(map) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(trimmed) {
        return Value::serialize(map).map_err(|_| error().to_owned());
    }
    match parse_toml_value(trimmed) {
        Some(table @ toml::Value::Table(_)) => {
            Value::serialize(table).map_err(|_| error().to_owned())
        }
        _ => Err(error().to_owned()),
    }
}

fn parse_toml_value(text: &str) -> Option<toml::Value> {
    let mut document: toml::Table = toml::from_str(&format!("v = {text}")).ok()?;
    document.remove("v")
}

/// Merges the layers (defaults come from the serde defaults of [`RawConfig`]). `None` with a
/// problem recorded when the file does not parse.
pub(crate) fn merge(
    file: Option<(&Path, &str)>,
    env: &EnvLayer,
    problems: &mut Problems,
) -> Option<Dict> {
    let mut figment = Figment::new();
    if let Some((path, text)) = file {
        // Checked first so that a syntax error names the file rather than a merged figment.
        if let Err(e) = toml::from_str::<toml::Table>(text) {
            problems.push(
                FILE_KEY,
                format!("{} is not valid TOML: {}", path.display(), e.message()),
            );
            return None;
        }
        figment = figment.merge(Toml::string(text));
    }
    figment = figment.merge(Serialized::defaults(&env.dict));
    match figment.data() {
        Ok(mut profiles) => Some(
            profiles
                .remove(&figment::Profile::Default)
                .unwrap_or_default(),
        ),
        Err(e) => {
            problems.push(FILE_KEY, e.to_string());
            None
        }
    }
}

/// Deserializes [`RawConfig`] from the merged values. Each unknown key or ill-typed value is
/// reported, removed (so its default applies) and extraction retried, so that every such
/// problem is listed. `None` only when an offending value cannot be isolated.
pub(crate) fn extract(
    dict: Dict,
    origins: &BTreeMap<String, String>,
    problems: &mut Problems,
) -> Option<RawConfig> {
    let mut found = Vec::new();
    let raw = extract_repairing(dict, origins, &mut found);
    // Values are visited in key order of the merged map; report them in file-format order.
    let position = |key: &str| {
        catalogue::keys()
            .position(|k| k.path() == key)
            .unwrap_or(usize::MAX)
    };
    found.sort_by_key(|(key, _)| position(key));
    for (key, message) in found {
        problems.push(key, message);
    }
    raw
}

fn extract_repairing(
    mut dict: Dict,
    origins: &BTreeMap<String, String>,
    problems: &mut Vec<(String, String)>,
) -> Option<RawConfig> {
    for _ in 0..MAX_REPAIRS {
        let value = Value::Dict(Tag::Default, dict.clone());
        let error = match value.deserialize::<RawConfig>() {
            Ok(raw) => return Some(raw),
            Err(error) => error,
        };
        let (mut path, message) = match &error.kind {
            figment::error::Kind::UnknownField(name, expected) => {
                // figment prefixes the offending map key already; older versions did not.
                let mut path = error.path.clone();
                if path.last() != Some(name) {
                    path.push(name.clone());
                }
                let what = if path.len() == 1 {
                    "unknown section or key"
                } else {
                    "unknown key"
                };
                (
                    path,
                    format!("{what}; expected one of: {}", expected.join(", ")),
                )
            }
            figment::error::Kind::InvalidType(actual, expected) => (
                error.path.clone(),
                format!("found {actual}, expected {}", friendly(expected)),
            ),
            figment::error::Kind::InvalidValue(actual, expected) => (
                error.path.clone(),
                format!("invalid value {actual}, expected {}", friendly(expected)),
            ),
            kind => (error.path.clone(), kind.to_string()),
        };
        if path.is_empty() {
            problems.push((FILE_KEY.to_owned(), message));
            return None;
        }
        // Errors inside a value (an array item, say) are reported against their key.
        let detail: Vec<String> = path.split_off(path.len().min(2));
        let key = path.join(".");
        let mut message = if detail.is_empty() {
            message
        } else {
            format!("item {}: {message}", item_label(&detail))
        };
        if let Some(var) = origins.get(&key) {
            message = format!("{message} (from {var})");
        }
        problems.push((key, message));
        if !remove(&mut dict, &path) {
            return None;
        }
    }
    None
}

/// Serde's expectation in operator terms (`u64` → "a non-negative integer").
fn friendly(expected: &str) -> String {
    if expected.starts_with("struct ") {
        return "a table".to_owned();
    }
    match expected {
        "u64" | "u32" | "usize" => "a non-negative integer".to_owned(),
        "a sequence" => "an array".to_owned(),
        "a map" => "a table".to_owned(),
        other => other.to_owned(),
    }
}

/// 1-based position of an array item (`["2"]` → "3"), or the raw path below the key.
fn item_label(detail: &[String]) -> String {
    match detail {
        [index] => index
            .parse::<usize>()
            .map_or_else(|_| index.clone(), |i| (i + 1).to_string()),
        _ => detail.join("."),
    }
}

fn remove(dict: &mut Dict, path: &[String]) -> bool {
    match path {
        [] => false,
        [last] => dict.remove(last).is_some(),
        [first, rest @ ..] => match dict.get_mut(first) {
            Some(Value::Dict(_, inner)) => remove(inner, rest),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_parse_by_kind() {
        assert_eq!(
            parse_env_value(ValueKind::Int, " 600 ").unwrap(),
            Value::from(600_i64)
        );
        assert!(parse_env_value(ValueKind::Int, "ten").is_err());
        assert_eq!(
            parse_env_value(ValueKind::Bool, "FALSE").unwrap(),
            Value::from(false)
        );
        assert!(parse_env_value(ValueKind::Bool, "yes").is_err());
        // A numeric-looking string stays a string for a string key.
        assert_eq!(
            parse_env_value(ValueKind::Str, "111111").unwrap(),
            Value::from("111111")
        );
        assert_eq!(
            parse_env_value(ValueKind::Str, "\"a b\"").unwrap(),
            Value::from("a b")
        );
        assert_eq!(
            parse_env_value(ValueKind::OptStr, "").unwrap(),
            Value::Empty(Tag::Default, Empty::None)
        );
        let list = |raw| parse_string_list(raw).unwrap();
        assert_eq!(list("[\"a\", \"b\"]"), ["a", "b"]);
        assert_eq!(list(" a , b,,"), ["a", "b"]);
        assert!(list("").is_empty());
        assert!(parse_string_list("[1, 2]").is_err());
        assert!(parse_string_list("[\"a\"").is_err());
        assert!(parse_table("{\"x.y\": 1}").is_ok());
        assert!(parse_table("{ x = 1, y = \"z\" }").is_ok());
        assert!(parse_table("[1]").is_err());
    }

    #[test]
    fn removal_walks_nested_tables() {
        let mut dict = Dict::new();
        let mut inner = Dict::new();
        inner.insert("k".into(), Value::from(1_i64));
        dict.insert("s".into(), Value::Dict(Tag::Default, inner));
        assert!(!remove(&mut dict, &["s".into(), "missing".into()]));
        assert!(remove(&mut dict, &["s".into(), "k".into()]));
        assert!(!remove(&mut dict, &[]));
    }
}
