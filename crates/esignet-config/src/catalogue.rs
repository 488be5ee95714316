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
            Self::Enum(words) => {
                words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" \\| ")
            }
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
        self.doc.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
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
    doc.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}
