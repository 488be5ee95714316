//! Errors of opening and using a token. None carries the PIN or key material.

use std::path::PathBuf;

use esignet_keys::KeyError;

/// Why the vault could not be opened or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The module could not be loaded or initialised (wrong path, not a PKCS#11 library, or the
    /// library failed to start, for SoftHSM2 often an unreadable `SOFTHSM2_CONF`).
    #[error("cannot load the PKCS#11 module {path}: {reason}")]
    Module {
        /// The configured module path.
        path: PathBuf,
        /// The loader's or the module's answer.
        reason: String,
    },
    /// No token matches the configured label or slot.
    #[error("{wanted}; tokens present: {present}")]
    TokenNotFound {
        /// What was asked for.
        wanted: String,
        /// The tokens the module offers.
        present: String,
    },
    /// The token refused the user login.
    #[error("cannot log in to token {token:?}: {reason}")]
    Login {
        /// The token's label.
        token: String,
        /// Why, without the PIN.
        reason: String,
    },
    /// An operation on the token failed.
    #[error("PKCS#11 {operation} failed: {reason}")]
    Token {
        /// What we were doing.
        operation: &'static str,
        /// The module's return value.
        reason: String,
    },
    /// The configuration is unusable.
    #[error("{0}")]
    Config(&'static str),
}

impl Pkcs11Error {
    pub(crate) fn token(operation: &'static str, error: &cryptoki::error::Error) -> Self {
        Pkcs11Error::Token {
            operation,
            reason: error.to_string(),
        }
    }
}

impl From<Pkcs11Error> for KeyError {
    fn from(error: Pkcs11Error) -> Self {
        KeyError::Vault(error.to_string())
    }
}
