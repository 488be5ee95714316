//! The eSignet-rs domain.
//!
//! This crate holds the protocol: validating authorization requests, the transaction state
//! machine (oauth-details → authenticate → consent → code → token → userinfo), claim and ACR
//! resolution, consent decisions, client authentication, DPoP, PKCE and token minting, and the
//! wallet flows: key binding and the QR-code (linked) login. It works
//! only through the seams of `esignet-spi` and knows nothing of HTTP, SQL or Redis; the web
//! layer calls [`Core`] and formats its [`Error`]s.

pub mod acr;
pub mod api;
mod authenticate;
mod authorize;
mod binding;
mod binding_ca;
mod bounded_authenticator;
mod captcha;
pub mod challenge;
pub mod claims;
mod client_auth;
mod client_cache;
pub mod client_mgmt;
pub mod codes;
pub mod consent;
mod discovery;
pub mod dpop;
mod error;
mod linked;
mod linked_auth;
mod logout;
pub mod pkce;
pub mod redirect;
pub mod scopes;
mod service;
pub mod signup;
mod token;
mod token_management;
pub mod transaction;
mod userinfo;
mod wallet;
pub mod wallet_api;
pub mod wla;

pub use authenticate::{AuthenticateVersion, DetailsHeaders};
pub use authorize::{DetailsVersion, OAuthDetailsOutcome, REQUEST_URI_PREFIX};
pub use binding::BINDING_OTP_CAPTCHA_ACTION;
pub use bounded_authenticator::{BoundedAuthenticator, IDENTITY_SYSTEM_UNAVAILABLE};
pub use captcha::CaptchaPolicy;
pub use client_auth::JWT_BEARER;
pub use client_cache::CachedClientStore;
pub use client_mgmt::ClientManager;
pub use error::{Error, Result};
pub use linked::POLL_RECHECK;
pub use logout::{EndSessionOutcome, POST_LOGOUT_REDIRECT_URIS};
pub use service::{Core, CoreConfig, CoreDeps, individual_id_hash};
pub use token::{TokenOutcome, TokenVersion};
pub use userinfo::TokenScheme;
pub use wallet::{WLA, WalletConfig, WalletSupport};
