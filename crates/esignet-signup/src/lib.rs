//! The eSignet Signup service as part of the one binary: resident registration and password
//! reset under `/v1/signup`, wire-compatible with eSignet signup 1.2.
//!
//! [`router`] is an axum router the binary nests at [`CONTEXT_PATH`] when `[signup] enabled`.
//! Every piece of state (challenge, verified and status transactions, attempt counters, blocked
//! identifiers) lives in the [`esignet_spi::Cache`] seam, so any instance answers any request
//! of a flow on a shared cache (Redis). The identity system is behind [`ProfileRegistry`]
//! ([`MockIdentityRegistry`] speaks the mock identity system's HTTP API, [`BuiltInRegistry`]
//! writes to the built-in mock identity system of the same process); OTPs go out through
//! the [`esignet_spi::Notifier`] seam; captchas through [`esignet_spi::CaptchaVerifier`].
//!
//! Deliberate differences from eSignet signup: OTPs are generated here (CSPRNG) rather than by
//! a kernel OTP manager, and only their SHA3-256 hash is stored; the individual id of a reset
//! transaction is sealed with AES-256-GCM under a key derived from the deployment's
//! key-encryption key (not a key kept in the cache); attempt counters are atomic cache counters,
//! so parallel wrong OTPs cannot exceed the limit; a failed register or reset keeps the verified
//! transaction so the resident can correct the form.

mod builtin_registry;
pub mod codes;
mod crypto;
mod envelope;
mod http;
pub mod idv;
mod mock_identity;
mod notifier;
mod profile;
mod registration;
mod settings_map;
mod transaction;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use esignet_config::SignupSettings;
use esignet_spi::{AuditSink, Cache, CaptchaVerifier, Clock, Notifier};

pub use builtin_registry::BuiltInRegistry;
pub use envelope::SignupError;
pub use mock_identity::MockIdentityRegistry;
pub use notifier::MaskedLogNotifier;
pub use profile::{Profile, ProfileAction, ProfileRegistry, ProfileStatus, kbi_matches};

/// Where the router is nested.
pub const CONTEXT_PATH: &str = "/v1/signup";

/// What the service needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct SignupConfig {
    /// `[signup]`.
    pub settings: SignupSettings,
    /// The provider's public base URL (`server.public_url`); `https` makes cookies `Secure`.
    pub public_url: String,
    /// The provider's API base path (`server.base_path`), for the sign-in redirect URL.
    pub base_path: String,
    /// Accepted distance of a request's `requestTime` from the clock.
    pub request_time_leeway: Duration,
    /// The public site key of the captcha, published in `/settings`.
    pub captcha_site_key: Option<String>,
}

/// The seams the service runs on.
#[derive(Clone)]
pub struct SignupDeps {
    /// Transactions, counters, blocked identifiers.
    pub cache: Arc<dyn Cache>,
    /// The identity registry.
    pub registry: Arc<dyn ProfileRegistry>,
    /// OTP and confirmation delivery.
    pub notifier: Arc<dyn Notifier>,
    /// Captcha verifier (used when `captcha_required`).
    pub captcha: Arc<dyn CaptchaVerifier>,
    /// Audit trail.
    pub audit: Arc<dyn AuditSink>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Key sealing the individual id of reset transactions (derived from the deployment's
    /// key-encryption key so every instance shares it).
    pub transaction_key: [u8; 32],
    /// Identity verification (video eKYC); its routes are not served without it.
    pub idv: Option<idv::IdvDeps>,
}

/// Builds the router (to nest at [`CONTEXT_PATH`]). Fails when a configured pattern does not
/// compile.
pub fn router(config: SignupConfig, mut deps: SignupDeps) -> anyhow::Result<Router> {
    let idv_deps = deps.idv.take();
    let state = Arc::new(registration::Service::new(config, deps)?);
    let mut router = Router::new()
        .route("/settings", get(settings_map::settings))
        .route("/csrf/token", get(registration::csrf_token))
        .route(
            "/registration/generate-challenge",
            post(registration::generate_challenge),
        )
        .route(
            "/registration/verify-challenge",
            post(registration::verify_challenge),
        )
        .route("/registration/register", post(registration::register))
        .route("/registration/status", get(registration::status))
        .route("/registration/ui-spec", get(registration::ui_spec))
        .route("/reset-password", post(registration::reset_password))
        .with_state(state.clone());
    if let Some(idv_deps) = idv_deps {
        let idv = Arc::new(idv::IdvService::new(state, idv_deps)?);
        router = router.merge(
            Router::new()
                .route("/identity-verification/initiate", post(idv::initiate))
                .route(
                    "/identity-verification/identity-verifier/{id}",
                    get(idv::verifier_workflow),
                )
                .route("/identity-verification/slot", post(idv::slot))
                .route("/identity-verification/status", get(idv::status))
                .route("/ws", get(idv::websocket))
                .with_state(idv),
        );
    }
    Ok(router)
}
