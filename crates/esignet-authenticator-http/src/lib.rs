//! eSignet's identity-system seam ([`esignet_spi::Authenticator`]) over HTTP: [`HttpAuthenticator`]
//! calls an identity system that speaks MOSIP's `mock-identity-system` API, exactly as eSignet's
//! Java mock plugin does. Use it to run eSignet against `esignet mock-identity` (the
//! `esignet-mock-identity` crate), against MOSIP's Java mock identity system, or against any
//! national ID system behind an adapter that speaks the same API.
//!
//! # Pointing eSignet at an identity system
//!
//! ```no_run
//! use std::sync::Arc;
//! use esignet_authenticator_http::{HttpAuthenticator, HttpAuthenticatorConfig};
//!
//! # fn main() -> Result<(), esignet_authenticator_http::HttpAuthenticatorError> {
//! let authenticator = Arc::new(HttpAuthenticator::new(HttpAuthenticatorConfig::new(
//!     "http://127.0.0.1:8082/v1/mock-identity-system",
//! ))?);
//! // Hand `authenticator` to the core as its `Arc<dyn Authenticator>`.
//! # Ok(()) }
//! ```
//!
//! The base URL includes the context path; every endpoint is appended to it, with the relying
//! party id and client id as percent-encoded path segments.
//!
//! # The calls
//!
//! | Seam method | Call |
//! |---|---|
//! | `send_otp` | `POST send-otp/{rp}/{client}` `{transactionId, individualId, otpChannels}` |
//! | `kyc_auth` | `POST v2/kyc-auth/{rp}/{client}` (always v2) with `claimMetadataRequired` |
//! | `kyc_exchange` | `POST kyc-exchange/{rp}/{client}` |
//! | `verified_kyc_exchange` | `POST v2/kyc-exchange/{rp}/{client}` with `acceptedClaimDetail` |
//! | either exchange, JWE client, `identity_system_encrypts` | `POST v3/kyc-exchange/{rp}/{client}` with `respType: "JWE"` |
//! | `kyc_signing_certificates` | `GET keys.json`, cached for [`CERTIFICATE_CACHE_TTL`] |
//!
//! [`HttpKeyBinder`] is eSignet's `KeyBinder` seam (wallet key binding) over the same service:
//! `POST binding/send-otp`, `POST binding/key-binding` and `GET binding/keys.json` (this
//! project's own endpoints; MOSIP's Java mock identity system has none).
//!
//! * Challenges become body members: `PIN`→`pin`, `OTP`→`otp`, `BIO`→`biometrics`,
//!   `WLA`→`tokens[0]`, `KBI`→`kbi`, `PWD`→`password`, each only with the format eSignet's
//!   plugin allows for it (`invalid_challenge_format` otherwise; `IDT` is
//!   `invalid_auth_factor_type`).
//! * The `transactionId` sent is the auth transaction id eSignet derives, not the flow's id; the
//!   identity system binds the OTP to it.
//! * Two-letter claims locales are sent as ISO 639-3 (`en`→`eng`, `fr`→`fra`, ...), as the
//!   plugin does; other tags as they are.
//! * `requestDateTime` is this side's clock in UTC, `yyyy-MM-ddTHH:mm:ss.SSS`.
//! * A JWE client's userinfo is encrypted by eSignet-rs itself, to the key the client registered
//!   with eSignet (the identity system returns a signed JWT). With
//!   [`HttpAuthenticatorConfig::identity_system_encrypts`] the identity system encrypts instead,
//!   to the key registered there with `POST /partner` for (relying party id, client id).
//!
//! # Errors
//!
//! Every failure is a [`PluginError`](esignet_spi::PluginError) whose code reaches the client:
//!
//! * the identity system's `errorCode` (first error), verbatim (`auth_failed`,
//!   `invalid_transaction`, `invalid_kyc_token` ...);
//! * an answer without result or error: `send_otp_failed`, `auth_failed` (this is also how the
//!   Java mock reports a wrong factor: `{"authStatus": false}`) or `data_exchange_failed`;
//! * [`codes::IDENTITY_SYSTEM_TIMEOUT`] when no answer came within
//!   [`HttpAuthenticatorConfig::timeout`] (the call may still have taken effect over there);
//! * [`codes::IDENTITY_SYSTEM_UNAVAILABLE`] when the connection is refused or cannot be made
//!   within [`HttpAuthenticatorConfig::connect_timeout`], or the answer is a 5xx;
//! * `unknown_error` for answers that are not the API's envelope.
//!
//! # Retries
//!
//! Only `GET keys.json` is retried (up to [`HttpAuthenticatorConfig::retries`] times, after
//! timeouts and unavailability, with a short growing pause). The other calls have side effects a
//! retry could repeat or mask: `send-otp` would message the resident again, `kyc-auth` consumes
//! the OTP and issues a KYC token, and `kyc-exchange` spends a single-use token, so a retry
//! after a lost answer fails with `invalid_kyc_token` instead of the real outcome. The resident
//! retries those through the UI.
//!
//! Nothing personal (individual ids, challenges, claims, KYC) is logged or put in an error.
#![deny(missing_docs)]

mod client;
pub mod transport;
mod wire;

use std::time::Duration;

pub use client::{CERTIFICATE_CACHE_TTL, HttpAuthenticator, HttpKeyBinder};

/// Error codes this crate produces itself (on top of the identity system's own).
pub mod codes {
    /// No answer within the configured timeout. The call may have taken effect at the identity
    /// system; the resident retries.
    pub const IDENTITY_SYSTEM_TIMEOUT: &str = "identity_system_timeout";
    /// The identity system refused the connection, could not be reached within the connect
    /// timeout, or answered with a server error (5xx).
    pub const IDENTITY_SYSTEM_UNAVAILABLE: &str = "identity_system_unavailable";
    /// A `kyc_auth` request gave the same factor twice.
    pub const INVALID_AUTH_CHALLENGE: &str = "invalid_auth_challenge";
}

/// The base URL of a mock identity system on its default port.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8082/v1/mock-identity-system";

/// Settings of [`HttpAuthenticator`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAuthenticatorConfig {
    /// The API's base URL, context path included (default [`DEFAULT_BASE_URL`]).
    pub base_url: String,
    /// The longest a call may take, connection included (default 10 s); then
    /// `identity_system_timeout`.
    pub timeout: Duration,
    /// The longest establishing a connection may take (default 2 s); then
    /// `identity_system_unavailable`.
    pub connect_timeout: Duration,
    /// Extra attempts for `GET keys.json` after a timeout or unavailability (default 2). Never
    /// used for the calls with side effects (see the crate documentation).
    pub retries: u32,
    /// OTP channels the identity system sends on, lower case (default `email`, `phone`).
    pub otp_channels: Vec<String>,
    /// Ask the identity system for JWE userinfo (v3 exchange) instead of encrypting in eSignet-rs
    /// (default false).
    pub identity_system_encrypts: bool,
}

impl HttpAuthenticatorConfig {
    /// The defaults, calling `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            ..Self::default()
        }
    }
}

impl Default for HttpAuthenticatorConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            retries: 2,
            otp_channels: vec!["email".to_owned(), "phone".to_owned()],
            identity_system_encrypts: false,
        }
    }
}

/// Why an [`HttpAuthenticator`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpAuthenticatorError {
    /// The base URL is unusable; the reason says why.
    #[error("invalid identity system base URL: {0}")]
    InvalidBaseUrl(&'static str),
    /// Another setting is unusable.
    #[error("invalid identity system settings: {0}")]
    InvalidConfig(&'static str),
    /// The HTTP client could not be created.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}
