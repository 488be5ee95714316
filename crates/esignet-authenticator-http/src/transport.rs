//! HTTP plumbing shared by every adapter that calls an identity system over HTTP (this crate's
//! mock-identity client, the Sunbird RC and generic REST authenticators): one way to validate a
//! base URL, build a client with both timeouts, and classify a transport failure, so every
//! adapter reports a slow or absent identity system with the same error codes.

use std::time::Duration;

use url::Url;

use crate::{HttpAuthenticatorError, codes};

/// Why a call got no usable answer at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// Connected, but no complete answer within the timeout (the call may have taken effect).
    Timeout,
    /// Refused, unreachable, reset, not connected within the connect timeout, or a 5xx answer.
    Unavailable,
}

impl TransportFailure {
    /// The error code reported to the client: [`codes::IDENTITY_SYSTEM_TIMEOUT`] or
    /// [`codes::IDENTITY_SYSTEM_UNAVAILABLE`].
    pub fn code(self) -> &'static str {
        match self {
            Self::Timeout => codes::IDENTITY_SYSTEM_TIMEOUT,
            Self::Unavailable => codes::IDENTITY_SYSTEM_UNAVAILABLE,
        }
    }
}

/// Classifies a transport failure. A connect failure (refused, unreachable, or the connect
/// timeout) means the system is unavailable; a timeout after connecting means it is too slow.
/// Logs it under `operation` (the error names the URL, never a body).
pub fn classify(operation: &'static str, error: &reqwest::Error) -> TransportFailure {
    let kind = if error.is_connect() {
        TransportFailure::Unavailable
    } else if error.is_timeout() {
        TransportFailure::Timeout
    } else {
        TransportFailure::Unavailable
    };
    tracing::warn!(operation, %error, ?kind, "identity system call failed");
    kind
}

/// Parses an absolute `http`/`https` URL with a host and without query or fragment.
///
/// # Errors
///
/// [`HttpAuthenticatorError::InvalidBaseUrl`] saying what is wrong.
pub fn parse_base_url(text: &str) -> Result<Url, HttpAuthenticatorError> {
    let url = Url::parse(text.trim())
        .map_err(|_| HttpAuthenticatorError::InvalidBaseUrl("not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(HttpAuthenticatorError::InvalidBaseUrl(
            "the scheme must be http or https",
        ));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(HttpAuthenticatorError::InvalidBaseUrl("no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(HttpAuthenticatorError::InvalidBaseUrl(
            "must not have a query or fragment",
        ));
    }
    Ok(url)
}

/// Idle keep-alive connections kept per identity system host.
pub const MAX_IDLE_CONNECTIONS: usize = 64;

/// An HTTP client whose every call ends within `timeout` (connection included) and whose
/// connection attempts end within `connect_timeout`. It never retries on its own.
///
/// # Errors
///
/// A zero timeout, or the TLS backend cannot be initialised.
pub fn http_client(
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<reqwest::Client, HttpAuthenticatorError> {
    if timeout.is_zero() || connect_timeout.is_zero() {
        return Err(HttpAuthenticatorError::InvalidConfig(
            "timeouts must be positive",
        ));
    }
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        // A bounded keep-alive pool: after a burst against a slow identity system, the
        // connections beyond this many are closed instead of being kept (with their buffers)
        // for a next burst; idle ones go after 30 s.
        .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map_err(|error| HttpAuthenticatorError::Client(error.to_string()))
}
