//! eSignet's identity-system seam ([`esignet_spi::Authenticator`]) over a Sunbird RC registry:
//! knowledge-based identification (KBI) by registry search and KYC from the registry entity, as
//! eSignet's `sunbird-rc-plugin` (`SunbirdRCAuthenticationService`) does.
//!
//! # The calls
//!
//! | Seam method | Call |
//! |---|---|
//! | `kyc_auth` (one `KBI` challenge) | `POST {search_url}` `{"offset": 0, "limit": 2, "filters": {attr: {"eq": answer}, ...}}` |
//! | `kyc_exchange` | `GET {entity_url}/{entity id}` |
//! | `send_otp` | none: `not_implemented` (a registry holds no OTP channel) |
//! | `kyc_signing_certificates` | the configured signer's certificates |
//!
//! * The KBI challenge is what the login page sends: base64url of the JSON object of form
//!   field → answer (`format` `base64url-encoded-json`). Every configured KBI field becomes an
//!   `eq` filter on its registry attribute; the individual-id field's filter is the request's
//!   individual id (as the plugin does). A missing or non-text answer is `auth_failed` before
//!   any call.
//! * Exactly one match authenticates. Zero or several (the search asks for two, as the plugin
//!   does, to tell "one" from "many") is `auth_failed`.
//! * The partner-specific user token (the `sub`) is the entity id (`osid`) as the plugin uses it
//!   ([`PsutDerivation::EntityId`]), or base64url(SHA3-256(entity id + relying party id))
//!   ([`PsutDerivation::Pairwise`]), a subject per relying party.
//! * The KYC token is random and single use: it is kept in the flow [`Cache`] with the entity
//!   id and subject (never the answers), bound to the auth transaction, for
//!   [`SunbirdConfig::kyc_token_ttl`]. The plugin hands out the `osid` itself as the token.
//! * KYC: each accepted claim mapped in [`SunbirdConfig::claims`] is read from the entity at its
//!   path (a JSON pointer, or a top-level attribute name). A multi-language value (an array of
//!   `{"language": .., "value": ..}`) is released in the requested locales (one match gives
//!   `claim`, several give `claim#<tag>`). The userinfo is a JWS by the configured signer with
//!   `sub`, `iss`, `aud`, `iat`; eSignet-rs encrypts it for JWE clients.
//!
//! # Errors
//!
//! `auth_failed` (no or several matches, a malformed challenge or answer),
//! `invalid_auth_factor_type` (not `KBI`), `invalid_challenge_format`,
//! `identity_system_timeout` / `identity_system_unavailable` (slow, absent, or 5xx registry),
//! `unknown_error` (an answer that is not a registry answer), `invalid_kyc_token` (unknown,
//! spent, expired, or another transaction's token), `data_exchange_failed` (entity gone or
//! unreadable, signing failed). Nothing personal (answers, individual ids, entities, KYC) is
//! logged or put in an error.
#![deny(missing_docs)]

mod binder;
mod client;
mod config;
mod kbi;
mod kyc;
pub mod test_registry;

pub use binder::NoKeyBinder;
pub use client::{KYC_TOKEN_NAMESPACE, SunbirdAuthenticator};
pub use config::{KbiField, PsutDerivation, SunbirdConfig, SunbirdConfigError};
pub use kbi::encode_kbi_challenge;

/// The error codes this crate produces itself (beyond the shared transport codes).
pub mod codes {
    /// A registry holds no OTP channel: `send_otp` is not offered (eSignet's `not_implemented`).
    pub const NOT_IMPLEMENTED: &str = "not_implemented";
}
