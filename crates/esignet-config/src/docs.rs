//! Renders `docs/configuration.md` and `config.example.toml` from the key catalogue, with
//! defaults taken from [`RawConfig::default`] so documented and actual defaults cannot differ.

use std::fmt::Write as _;

use serde_json::Value;

use crate::acr::{BUILTIN_ACR_AMR_MAPPING, FACTOR_TYPES};
use crate::catalogue::{self, KeyDoc, SectionDoc};
use crate::raw::RawConfig;

/// The command that rewrites both generated files.
pub(crate) const REGENERATE: &str = "ESIGNET_REGENERATE_DOCS=1 cargo test -p esignet-config";

/// Example lines wider than this are split, one array item per line.
const EXAMPLE_WIDTH: usize = 96;

const INTRO: &str = r#"# Configuration reference

The `esignet` binary reads one TOML file plus environment variables. With neither, it runs the
demo: an embedded SQLite store under `data/`, an in-process cache, generated signing keys, the
built-in mock identity system and a seeded demo client.

## Where the configuration comes from

* **File**: `esignet --config <path>` or `ESIGNET_CONFIG=<path>`. A file given this way must
  exist. Without one, only the defaults and the environment apply.
  [`config.example.toml`](../config.example.toml) lists every key with its default.
* **Precedence**: built-in defaults < file < environment.
* **Environment**: every key is settable as `ESIGNET_<SECTION>__<KEY>`, upper-case, with a
  double underscore between section and key: `ESIGNET_SERVER__BIND=0.0.0.0:8088`,
  `ESIGNET_TOKENS__ACCESS_TOKEN_LIFETIME_SECS=600`. The top-level `version` is
  `ESIGNET_VERSION`.
  * Integers and booleans are written plainly (`600`, `true`).
  * Arrays are written as a TOML array (`["en","fr"]`) or comma-separated (`en,fr`).
  * Tables (`ui.configs`) are written as a JSON object or a TOML inline table.
  * Strings are taken verbatim; a value wrapped in quotes is unquoted.
  * An empty value unsets an optional key.
* **Typos are errors**: an unknown key in the file, or an `ESIGNET_` variable that matches no
  key, stops the start. The exceptions are `ESIGNET_CONFIG` (the file path) and
  `ESIGNET_LOG` (the run-time log filter).
* **Validation**: everything is checked at start and every problem is listed at once, one per
  line as `<section.key>: <message>`. `esignet config check` does the same without starting
  the server.
* **Paths**: relative paths are relative to the working directory.
* **Secrets** (`keys.encryption_key`, `admin.static_token`, `captcha.remote_secret`) never
  appear in logs, debug output or error messages. Prefer setting them through the
  environment, or use the `*_file` alternatives where they exist.
"#;

/// The reference documentation (`docs/configuration.md`): an introduction, then one table
/// per section listing every key's TOML name, type, default, environment variable and
/// description.
pub fn reference_markdown() -> String {
    let defaults = default_values();
    let mut out = String::from(INTRO);
    let _ = writeln!(
        out,
        "\n<!-- Generated from the esignet-config crate by `{REGENERATE}`; do not edit. -->"
    );
    for section in catalogue::sections() {
        let title = if section.name.is_empty() {
            "Top-level keys".to_owned()
        } else {
            format!("`[{}]`", section.name)
        };
        let _ = writeln!(out, "\n## {title}\n");
        if !section.name.is_empty() {
            let _ = writeln!(out, "{}\n", section.description());
        }
        out.push_str("| Key | Type | Default | Environment variable | Description |\n");
        out.push_str("|---|---|---|---|---|\n");
        for key in section.keys {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | `{}` | {} |",
                key.key,
                key.kind.describe(),
                cell(&markdown_default(key, &defaults)),
                key.env_var(),
                cell(&key.description()),
            );
        }
    }
    write_mapping_section(&mut out);
    out
}

/// Documents the format of `oidc.acr_amr_mapping_file` with the built-in mapping as example.
fn write_mapping_section(out: &mut String) {
    out.push_str(
        "\n## The ACR/AMR mapping file\n\n\
         `oidc.acr_amr_mapping_file` uses eSignet's `amr-acr-mapping.json` format. `amr` names\n\
         groups of authentication factors (`type`, optional `count` and `subTypes`); `acr_amr`\n\
         maps each ACR value to the AMR groups that satisfy it, in order of preference. The file\n\
         is validated at start: every AMR named by an ACR must exist, every group needs a factor\n\
         and factor types must be one of ",
    );
    let types: Vec<String> = FACTOR_TYPES.iter().map(|t| format!("`{t}`")).collect();
    let _ = writeln!(out, "{}. The built-in mapping is:\n", types.join(", "));
    let _ = writeln!(out, "```json\n{BUILTIN_ACR_AMR_MAPPING}\n```");
}

/// The example file (`config.example.toml`): every section header, and every key commented
/// out with its one-line description and default (or an example value for keys unset by
/// default). Uncommenting a line yields a valid file.
pub fn example_toml() -> String {
    let defaults = default_values();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# eSignet-rs configuration example, generated by `{REGENERATE}`."
    );
    out.push_str(
        "#\n\
         # Every key is commented out with its default. Uncomment and edit what you need.\n\
         # Any key can also be set through the environment as ESIGNET_<SECTION>__<KEY>;\n\
         # see docs/configuration.md for types and details.\n",
    );
    for section in catalogue::sections() {
        write_example_section(&mut out, section, &defaults);
    }
    out
}

fn write_example_section(out: &mut String, section: &SectionDoc, defaults: &Value) {
    out.push('\n');
    if !section.name.is_empty() {
        for line in section.doc.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let _ = writeln!(out, "# {line}");
        }
        let _ = writeln!(out, "[{}]", section.name);
    }
    for (index, key) in section.keys.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let default = default_of(defaults, key);
        let mut summary = key.summary().to_owned();
        if let Some(text) = key.default_doc {
            let _ = write!(summary, " Default: {}.", text.replace('`', ""));
        } else if default.is_null() {
            summary.push_str(" Unset by default.");
        } else if key.example.is_some() {
            let _ = write!(summary, " Default: {}.", toml_literal(default));
        }
        let _ = writeln!(out, "# {summary}");
        let value = match key.example {
            Some(example) => example.to_owned(),
            None => toml_literal(default),
        };
        write_example_line(out, key.key, &value, default);
    }
}

/// `# key = value`, splitting a long array default one item per line.
fn write_example_line(out: &mut String, key: &str, value: &str, default: &Value) {
    let line = format!("# {key} = {value}");
    match default {
        Value::Array(items) if line.len() > EXAMPLE_WIDTH => {
            let _ = writeln!(out, "# {key} = [");
            for item in items {
                let _ = writeln!(out, "#     {},", toml_literal(item));
            }
            out.push_str("# ]\n");
        }
        _ => {
            out.push_str(&line);
            out.push('\n');
        }
    }
}

fn markdown_default(key: &KeyDoc, defaults: &Value) -> String {
    if let Some(text) = key.default_doc {
        return text.to_owned();
    }
    match default_of(defaults, key) {
        Value::Null => "unset".to_owned(),
        value => format!("`{}`", toml_literal(value)),
    }
}

/// The default [`RawConfig`] as JSON: every key present, unset optional keys as `null`.
pub(crate) fn default_values() -> Value {
    serde_json::to_value(RawConfig::default()).unwrap_or(Value::Null)
}

/// The default of `key` within [`default_values`] (`null` when unset or absent).
pub(crate) fn default_of<'a>(defaults: &'a Value, key: &KeyDoc) -> &'a Value {
    let value = if key.section.is_empty() {
        defaults.get(key.key)
    } else {
        defaults.get(key.section).and_then(|s| s.get(key.key))
    };
    value.unwrap_or(&Value::Null)
}

/// A JSON value written as a TOML value (inline arrays and tables).
pub(crate) fn toml_literal(value: &Value) -> String {
    match value {
        Value::Null => "\"\"".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => toml::Value::String(s.clone()).to_string(),
        Value::Array(items) => {
            format!(
                "[{}]",
                items
                    .iter()
                    .map(toml_literal)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Value::Object(map) if map.is_empty() => "{}".to_owned(),
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), toml_literal(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        toml::Value::String(key.to_owned()).to_string()
    }
}

/// Escapes a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_literals() {
        let v = serde_json::json!({"a.b": [1, "x\"y"], "c": true, "d": {}, "e": "plain"});
        let literal = toml_literal(&v);
        assert!(literal.starts_with("{ \"a.b\" = [1, "), "{literal}");
        // Whatever quoting toml picks, the literal must read back as the same value.
        let parsed: toml::Table = toml::from_str(&format!("v = {literal}")).unwrap();
        assert_eq!(serde_json::to_value(&parsed["v"]).unwrap(), v);
        assert_eq!(toml_literal(&serde_json::json!("plain")), "\"plain\"");
    }

    #[test]
    fn markdown_cells_escape_pipes() {
        assert_eq!(cell("a | b"), "a \\| b");
    }
}
