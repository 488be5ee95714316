//! The one error type of [`crate::load`]: every configuration problem found, listed at once.

use std::fmt;

/// One thing wrong with the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Dotted key (`server.public_url`), the environment variable name for an unknown
    /// `ESIGNET_` variable, or `config` for a problem with the file itself.
    pub key: String,
    /// What is wrong, in words an operator can act on. Never contains a secret value.
    pub message: String,
}

impl ConfigProblem {
    /// A problem with `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Every problem found while loading and validating the configuration (never empty when
/// returned by [`crate::load`]). `Display` prints one problem per line as `<key>: <message>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

impl ConfigErrors {
    /// The problems, in the order they were found (file, then environment, then validation
    /// in section order).
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.0
    }

    /// Whether some problem concerns `key` exactly.
    pub fn mentions(&self, key: &str) -> bool {
        self.0.iter().any(|p| p.key == key)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// Collects problems during loading; turned into [`ConfigErrors`] at the end.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<ConfigProblem>);

impl Problems {
    pub(crate) fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem::new(key, message));
    }

    pub(crate) fn into_result<T>(self, value: T) -> Result<T, ConfigErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(ConfigErrors(self.0))
        }
    }

    pub(crate) fn into_errors(self) -> ConfigErrors {
        ConfigErrors(self.0)
    }
}
