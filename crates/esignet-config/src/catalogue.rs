//! Metadata of every configuration key: the single table the reference documentation, the
//! example file and the environment-variable parser are generated from.
//!
//! The table itself is produced next to the structs it describes (see `raw.rs`), so a key
//! cannot be added to the file format without appearing here.

use crate::raw;

/// The shape of a key's value: drives the documented type and how an environment value is
/// parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A string.
    Str,
    /// An optional string (an empty environment value leaves it unset).
    OptStr,
    /// An optional secret string: redacted everywhere, never prefilled in the example.
    Secret,
    /// A non-negative integer.
    Int,
    /// `true` or `false`.
    Bool,
    /// An array of strings.
    StrList,
    /// A free-form table.
    Table,
    /// One word of a closed set.
    Enum(&'static [&'static str]),
}

impl ValueKind {
    /// The type as documented (`string`, `integer`, `"text" | "json"`, ...).
    pub fn describe(self) -> String {
        match self {
            Self::Str => "string".to_owned(),
            Self::OptStr => "string, optional".to_owned(),
            Self::Secret => "string, optional, secret".to_owned(),
            Self::Int => "integer".to_owned(),
            Self::Bool => "boolean".to_owned(),
            Self::StrList => "array of strings".to_owned(),
            Self::Table => "table".to_owned(),
            Self::Enum(words) => words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" \\| "),
        }
    }

    /// Whether the key may be absent (its default is "unset" or derived).
    pub fn is_optional(self) -> bool {
        matches!(self, Self::OptStr | Self::Secret)
    }
}

/// Metadata of one configuration key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyDoc {
    /// Section name (`server`), empty for a top-level key.
    pub section: &'static str,
    /// Key name within the section (`bind`).
    pub key: &'static str,
    /// Value shape.
    pub kind: ValueKind,
    /// The field's doc comment, one source line per line. The first line is the one-line
    /// summary; the rest are details.
    pub doc: &'static str,
    /// Markdown text shown as the default instead of the serialized default value (for
    /// derived defaults such as `<data.dir>/esignet.db`).
    pub default_doc: Option<&'static str>,
    /// A TOML value shown in `config.example.toml` for a key that is unset by default.
    pub example: Option<&'static str>,
}

impl KeyDoc {
    /// Dotted path (`server.bind`, or `version` at top level).
    pub fn path(&self) -> String {
        if self.section.is_empty() {
            self.key.to_owned()
        } else {
            format!("{}.{}", self.section, self.key)
        }
    }

    /// The environment variable that sets this key (`ESIGNET_SERVER__BIND`).
    pub fn env_var(&self) -> String {
        if self.section.is_empty() {
            format!("ESIGNET_{}", self.key.to_ascii_uppercase())
        } else {
            format!(
                "ESIGNET_{}__{}",
                self.section.to_ascii_uppercase(),
                self.key.to_ascii_uppercase()
            )
        }
    }

    /// The one-line summary (first doc line).
    pub fn summary(&self) -> &'static str {
        self.doc
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }

    /// The whole doc comment as one paragraph.
    pub fn description(&self) -> String {
        join_doc(self.doc)
    }
}

/// Metadata of one section.
#[derive(Clone, Copy, Debug)]
pub struct SectionDoc {
    /// Section name; empty for the top level.
    pub name: &'static str,
    /// The section's doc comment.
    pub doc: &'static str,
    /// Its keys, in declaration order.
    pub keys: &'static [KeyDoc],
}

impl SectionDoc {
    /// The section's doc comment as one paragraph.
    pub fn description(&self) -> String {
        join_doc(self.doc)
    }
}

/// Every section, top level first, in file order.
pub fn sections() -> &'static [SectionDoc] {
    raw::SECTIONS
}

/// Every key, in file order.
pub fn keys() -> impl Iterator<Item = &'static KeyDoc> {
    sections().iter().flat_map(|s| s.keys.iter())
}

/// The key set by environment variable `name`, if any.
pub fn key_for_env_var(name: &str) -> Option<&'static KeyDoc> {
    keys().find(|k| k.env_var() == name)
}

/// Joins doc-comment lines into one paragraph.
fn join_doc(doc: &str) -> String {
    doc.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;
    use crate::docs::{default_of, default_values};

    /// Dotted paths of every leaf of the default configuration. Tables that are values in
    /// their own right (`ui.configs`, empty by default) count as leaves.
    fn leaves(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaves(v, &path, out);
                }
            }
            _ => {
                out.insert(prefix.to_owned());
            }
        }
    }

    #[test]
    fn catalogue_matches_the_file_format_both_ways() {
        let mut from_format = BTreeSet::new();
        leaves(&default_values(), "", &mut from_format);
        let from_table: BTreeSet<String> = keys().map(KeyDoc::path).collect();
        let missing: Vec<_> = from_format.difference(&from_table).collect();
        let extra: Vec<_> = from_table.difference(&from_format).collect();
        assert!(missing.is_empty(), "keys without metadata: {missing:?}");
        assert!(
            extra.is_empty(),
            "metadata for keys that do not exist: {extra:?}"
        );
        assert_eq!(keys().count(), from_table.len(), "a key is listed twice");
    }

    #[test]
    fn kinds_match_default_values() {
        let defaults = default_values();
        for key in keys() {
            let value = default_of(&defaults, key);
            let ok = match key.kind {
                ValueKind::Str => value.is_string(),
                ValueKind::Enum(words) => value.as_str().is_some_and(|v| words.contains(&v)),
                ValueKind::OptStr | ValueKind::Secret => value.is_null() || value.is_string(),
                ValueKind::Int => value.is_u64(),
                ValueKind::Bool => value.is_boolean(),
                ValueKind::StrList => value
                    .as_array()
                    .is_some_and(|items| items.iter().all(Value::is_string)),
                ValueKind::Table => value.is_object(),
            };
            assert!(
                ok,
                "{}: default {value} does not fit kind {:?}",
                key.path(),
                key.kind
            );
            if value.is_null() {
                assert!(
                    key.example.is_some(),
                    "{}: unset by default but has no example",
                    key.path()
                );
            }
            if key.kind == ValueKind::Secret {
                assert!(
                    value.is_null(),
                    "{}: a secret must have no default",
                    key.path()
                );
            }
        }
    }

    #[test]
    fn every_key_and_section_is_documented() {
        for section in sections() {
            assert!(
                !section.description().is_empty(),
                "section {} has no doc",
                section.name
            );
        }
        for key in keys() {
            assert!(!key.summary().is_empty(), "{} has no doc", key.path());
            assert!(
                key.summary().ends_with('.'),
                "{}: summary should be a sentence",
                key.path()
            );
        }
    }

    #[test]
    fn env_var_names_follow_the_rule() {
        let bind = keys().find(|k| k.path() == "server.bind").unwrap();
        assert_eq!(bind.env_var(), "ESIGNET_SERVER__BIND");
        let version = keys().find(|k| k.path() == "version").unwrap();
        assert_eq!(version.env_var(), "ESIGNET_VERSION");
        assert_eq!(
            key_for_env_var("ESIGNET_TOKENS__ACCESS_TOKEN_LIFETIME_SECS").map(KeyDoc::path),
            Some("tokens.access_token_lifetime_secs".to_owned())
        );
        assert!(key_for_env_var("ESIGNET_SERVER_BIND").is_none());
    }
}
