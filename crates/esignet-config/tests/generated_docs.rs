//! `docs/configuration.md` and `config.example.toml` must equal what the crate generates.
//! Regenerate them with `ESIGNET_REGENERATE_DOCS=1 cargo test -p esignet-config`.

use std::path::PathBuf;

const REGENERATE_VAR: &str = "ESIGNET_REGENERATE_DOCS";

fn repo_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// Compares `relative` with `generated`, or rewrites it when regeneration was asked for.
fn check_generated(relative: &str, generated: &str) {
    let path = repo_file(relative);
    if std::env::var(REGENERATE_VAR).is_ok_and(|v| v == "1") {
        std::fs::write(&path, generated).expect("write the regenerated file");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| "at the end".to_owned(), |n| format!("at line {}", n + 1));
        panic!(
            "{relative} is out of date ({first_difference}); regenerate it with\n    \
             {REGENERATE_VAR}=1 cargo test -p esignet-config\nand commit the result."
        );
    }
}

#[test]
fn configuration_reference_is_up_to_date() {
    check_generated(
        "docs/configuration.md",
        &esignet_config::reference_markdown(),
    );
}

#[test]
fn example_config_is_up_to_date() {
    check_generated("config.example.toml", &esignet_config::example_toml());
}

#[test]
fn example_config_is_valid_toml_and_uncommented_equals_defaults() {
    let example = esignet_config::example_toml();
    toml::from_str::<toml::Table>(&example).unwrap();
    // Uncommenting every key line whose value is a real default must load to the defaults.
    let mut uncommented = String::new();
    let mut in_array = false;
    for line in example.lines() {
        let body = line.strip_prefix("# ");
        let is_key_line = body.is_some_and(|b| {
            b.split_once(" = ").is_some_and(|(k, _)| {
                k.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !k.is_empty()
            })
        });
        let placeholder = line.contains("\"<");
        if (is_key_line && !placeholder) || in_array {
            let body = body.unwrap_or(line).trim_start_matches("    ");
            if body.ends_with('[') {
                in_array = true;
            } else if body == "]" {
                in_array = false;
            }
            uncommented.push_str(body);
        } else {
            uncommented.push_str(line);
        }
        uncommented.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.toml");
    std::fs::write(&path, &uncommented).unwrap();
    // The example values of keys unset by default point at files that do not exist here; the
    // mapping file and the admin settings are therefore dropped from this check.
    let cleaned: String = uncommented
        .lines()
        .filter(|l| {
            !(l.starts_with("acr_amr_mapping_file")
                || l.starts_with("iam_")
                || l.starts_with("static_token_file"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&path, cleaned).unwrap();
    let settings = esignet_config::load(Some(&path), Vec::new())
        .unwrap_or_else(|e| panic!("uncommented example does not load:\n{e}\n---\n{uncommented}"));
    assert_eq!(settings.server.public_url, "http://127.0.0.1:8088");
    assert_eq!(settings.oidc.claims_supported.len(), 18);
    assert_eq!(
        settings.ui.configs.len(),
        2,
        "the ui.configs example is a real table"
    );
}
