//! The domain's error type: an eSignet error code, or a standard OAuth error where we follow the
//! RFC over eSignet, or an infrastructure outage.
//!
//! The web layer only formats these (wrapped APIs: `errors[]` with HTTP 200; OAuth endpoints:
//! `{error, error_description}` with HTTP 400; userinfo: 401 with `WWW-Authenticate`).

use std::borrow::Cow;

use esignet_spi::{CacheError, PluginError, StoreError};

/// A failed domain operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A request-level rejection carrying eSignet's error code (see [`crate::codes`]), or an
    /// identity-system code passed through verbatim.
    #[error("{0}")]
    Code(Cow<'static, str>),
    /// A standard OAuth error (RFC 6749 §5.2) whose `error` differs from what eSignet reports;
    /// `description` keeps eSignet's code so either kind of client can understand it.
    #[error("{error}: {description}")]
    OAuth {
        /// The RFC error, e.g. `invalid_grant`.
        error: &'static str,
        /// eSignet's code, e.g. `pkce_failed`.
        description: Cow<'static, str>,
    },
    /// DPoP (RFC 9449 §8): the client must retry with this server nonce in its proof.
    #[error("use_dpop_nonce")]
    UseDpopNonce(String),
    /// The store, cache or identity system could not be reached; nothing was changed.
    #[error("service unavailable: {0}")]
    Unavailable(String),
}

impl Error {
    /// A rejection with an eSignet error code.
    pub fn code(code: &'static str) -> Self {
        Error::Code(Cow::Borrowed(code))
    }

    /// An `invalid_grant` (RFC 6749) with eSignet's code as description.
    pub fn invalid_grant(description: &'static str) -> Self {
        Error::OAuth {
            error: crate::codes::INVALID_GRANT,
            description: Cow::Borrowed(description),
        }
    }

    /// The eSignet error code of this error (the description for OAuth-style errors).
    pub fn error_code(&self) -> &str {
        match self {
            Error::Code(code) => code,
            Error::OAuth { description, .. } => description,
            Error::UseDpopNonce(_) => crate::codes::USE_DPOP_NONCE,
            Error::Unavailable(_) => crate::codes::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(detail) => Error::Unavailable(detail),
            other => {
                tracing::error!(error = %other, "store failure");
                Error::code(crate::codes::UNKNOWN_ERROR)
            }
        }
    }
}

impl From<CacheError> for Error {
    fn from(error: CacheError) -> Self {
        match error {
            CacheError::Unavailable(detail) => Error::Unavailable(detail),
            other => {
                tracing::error!(error = %other, "cache failure");
                Error::code(crate::codes::UNKNOWN_ERROR)
            }
        }
    }
}

impl From<PluginError> for Error {
    fn from(error: PluginError) -> Self {
        Error::Code(Cow::Owned(error.code))
    }
}

/// The domain's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
