//! Renders the reference documentation and the example file from the key catalogue.

/// `docs/configuration.md`.
pub fn reference_markdown() -> String {
    String::new()
}

/// `config.example.toml`.
pub fn example_toml() -> String {
    String::new()
}
