//! eSignet's identity-system seam ([`esignet_spi::Authenticator`]) over any identity system
//! that exposes simple JSON endpoints, configured without writing Rust: each operation is an
//! HTTP request template, and the answers are read with JSON pointers.
//!
//! # The calls
//!
//! | Seam method | Call |
//! |---|---|
//! | `kyc_auth` (each challenge) | `POST {authenticate.url}` with the `authenticate.body` template |
//! | `send_otp` | `POST {send_otp.url}` with the `send_otp.body` template, or `not_implemented` when none is configured |
//! | `kyc_exchange` | `GET` (or `POST`) `{user_info.url}` |
//! | `kyc_signing_certificates` | the configured signer's certificates |
//!
//! * Templates name `{individual_id}`, `{transaction_id}`, `{factor}`, `{challenge}`,
//!   `{channels}`, `{relying_party_id}` and `{client_id}` (each operation those it has). Values
//!   are percent-encoded in URLs and filled in as JSON string content in bodies (the body
//!   template is JSON, parsed once), so a challenge with quotes cannot change a request.
//! * A challenge passes on a 2xx answer, or, with `authenticate.success_pointer`, when the answer
//!   holds `success_value` there. Only configured factor types are accepted.
//! * The partner-specific user token (the `sub`) is base64url(SHA3-256(subject + relying party
//!   id)), the subject being the value at `authenticate.subject_pointer` or the individual id: a
//!   subject per relying party, as the Sunbird RC adapter's `pairwise` derivation.
//! * The KYC token is random and single use, kept in the flow [`esignet_spi::Cache`] with the
//!   subject and a hash of the individual id, bound to the auth transaction.
//! * KYC: each accepted claim mapped in [`RestConfig::claims`] is read at its JSON pointer in the
//!   `user_info` answer; multi-language values (`[{"language", "value"}]`) are released in the
//!   requested locales. The userinfo is a JWS by the service's own KYC key.
//!
//! # Errors
//!
//! `auth_failed` (refused, not confirmed, garbage answer, no subject), `invalid_auth_factor_type`,
//! `send_otp_failed`, `invalid_otp_channel`, `data_exchange_failed` (user info refused, garbage,
//! a required claim absent, signing failed), `invalid_kyc_token`, and the shared
//! `identity_system_timeout` / `identity_system_unavailable` (slow, absent or 5xx). Nothing
//! personal (ids, challenges, answers) is logged or put in an error.
#![deny(missing_docs)]

mod claims;
mod client;
mod config;
mod template;
pub mod test_server;

pub use client::{KYC_TOKEN_NAMESPACE, RestAuthenticator};
pub use config::{
    AuthenticateOperation, Method, RestConfig, RestConfigError, SendOtpOperation, UserInfoOperation,
};
pub use template::{BodyTemplate, Placeholder, UrlTemplate, check_pointer};

/// The error codes this crate produces itself (beyond the shared ones).
pub mod codes {
    /// No `send_otp` operation is configured (eSignet's `not_implemented`).
    pub const NOT_IMPLEMENTED: &str = "not_implemented";
}
