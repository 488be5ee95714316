//! eSignet's identity-system seam ([`esignet_spi::Authenticator`]) over MOSIP ID Authentication
//! (IDA), as eSignet's `mosip-identity-plugin` (`IdaAuthenticatorImpl`) does.
//!
//! # The IDA API followed
//!
//! MOSIP IDA **1.2.0.x** (the `release-1.2.0.x` line eSignet's mosip-identity-plugin targets):
//! `KycAuthController` and `OTPController` of `mosip/id-authentication`, error codes of its
//! `IdAuthenticationErrorConstants`.
//!
//! | Seam method | Call |
//! |---|---|
//! | `send_otp` | `POST {otp_url}/otp/{misp-license-key}/{partner-id}/{api-key}` |
//! | `kyc_auth` | `POST {auth_url}/kyc-auth/delegated/{misp-license-key}/{partner-id}/{oidc-client-id}` (`.../kyc-auth/delegated/v2/...` when claims metadata is required) |
//! | `kyc_exchange` | `POST {auth_url}/kyc-exchange/delegated/{misp-license-key}/{partner-id}/{oidc-client-id}` |
//! | `verified_kyc_exchange` | `POST {auth_url}/kyc-exchange/delegated/v2/{misp-license-key}/{partner-id}/{oidc-client-id}` with `verifiedConsentedClaims` / `unVerifiedConsentedClaims` |
//! | `kyc_signing_certificates` | the configured IDA signing certificate, or with [`IdaAuthenticator::with_certificate_source`] the key manager's `GET {certificates_url}?applicationId=IDA&referenceId=SIGN` after `POST {auth_token_url}` |
//! | `send_binding_otp` ([`IdaKeyBinder`]) | `POST {otp_url}/otp/{misp-license-key}/{partner-id}/{api-key}` |
//! | `do_key_binding` ([`IdaKeyBinder`]) | `POST {binding_url}/identity-key-binding/delegated/{misp-license-key}/{partner-id}/{api-key}` |
//! | `binding_ca_certificates` ([`IdaKeyBinder`]) | the configured binding CA certificates |
//!
//! The partner id and the third segment are the configured ones, or else (as the plugin does)
//! the relying party id and client id of the call; for key binding (which has no relying
//! party), the `partner-id` and `partner-api-key` request headers, as `IdaKeyBinderImpl` does.
//! Key binding sends kyc-auth's body (sealed factors included) plus `identityKeyBinding`
//! (`publicKeyJWK`, `authFactorType`) and gets back the certificate IDA issued for the key.
//!
//! * Every body is signed: the `signature` header is a detached RS256 JWS of the exact body
//!   bytes with our partner certificate in `x5c` ([`envelope::sign_detached`]).
//! * kyc-auth's factors travel sealed ([`envelope::seal_request`]): AES-256-GCM request and
//!   digest, RSA-OAEP-256 session key to IDA's partner certificate, SHA-256 thumbprint.
//! * Every answer must carry IDA's `response-signature` (a detached JWS by IDA's signing
//!   certificate over the exact answer bytes); one without, or one that does not verify, is
//!   refused.
//! * The KYC JWT must be signed by IDA's signing certificate; its key id is the certificate's
//!   `x5t#S256` thumbprint, and the certificate is published in eSignet's JWKS.
//!
//! # Errors
//!
//! IDA's own code (first error, e.g. `IDA-OTA-004`, `IDA-MLC-009`, `IDA-MPA-001`) reaches the
//! client verbatim, as eSignet does with plugin codes. Everything else (timeout, refused
//! connection, non-2xx status, an answer that is not signed by IDA or not the API's envelope)
//! is the operation's code: `send_otp_failed`, `auth_failed`, `data_exchange_failed`. No call
//! is retried (each has side effects). Nothing personal, no key and no secret path segment is
//! logged.
#![deny(missing_docs)]

mod binder;
mod certificates;
mod client;
mod config;
pub mod envelope;
mod kyc;
#[cfg(feature = "test-server")]
pub mod test_server;
#[cfg(any(test, feature = "test-server"))]
pub mod testing;
pub mod wire;

pub use binder::{
    IdaBindingConfig, IdaKeyBinder, PARTNER_API_KEY_HEADER, PARTNER_ID_HEADER,
    binding_transaction_id,
};
pub use certificates::IdaCertificateSource;
pub use client::IdaAuthenticator;
pub use config::{IdaConfig, IdaConfigError, IdaCredentials};

/// The eSignet error codes this crate produces itself (IDA's own codes pass through).
pub mod codes {
    /// kyc-auth failed without an IDA code.
    pub const AUTH_FAILED: &str = "auth_failed";
    /// The OTP request failed without an IDA code.
    pub const SEND_OTP_FAILED: &str = "send_otp_failed";
    /// kyc-exchange failed without an IDA code, or its KYC is not IDA's.
    pub const DATA_EXCHANGE_FAILED: &str = "data_exchange_failed";
    /// Key binding failed without an IDA code.
    pub const KEY_BINDING_FAILED: &str = "key_binding_failed";
    /// IDA answered the key binding without authenticating the resident.
    pub const BINDING_AUTH_FAILED: &str = "binding_auth_failed";
    /// No partner id or API key: neither configured nor in the wallet's request headers.
    pub const REQUIRED_HEADER_MISSING: &str = "required_header_missing";
    /// The IDA signing certificate cannot be published.
    pub const KYC_SIGNING_CERTIFICATE_FAILED: &str = "kyc_signing_certificate_failed";
}
