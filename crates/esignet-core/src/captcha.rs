//! Captcha on the resident's requests (eSignet §8.15): which actions need one, the check on
//! send-otp and authenticate, and the domain side of `GET /captcha/challenge`.
//!
//! A request needing a captcha fails with `invalid_captcha` when its `captchaToken` is blank or
//! the verifier rejects it, and with `failed_to_validate_captcha` when the verifier cannot
//! decide (provider or cache down). The check runs after field validation and before the
//! transaction is looked up, as in eSignet.
//!
//! Deliberate difference from eSignet: eSignet checks the captcha on authenticate v3 only. Here
//! every authenticate version checks it, so the deprecated v1/v2 endpoints (which cannot carry
//! a token) answer `invalid_captcha` for a protected factor instead of offering a way around it.

use std::sync::Arc;

use esignet_spi::{AuthChallenge, CAPTCHA_ACTIONS, CaptchaError, CaptchaVerifier, NoCaptcha};
use serde_json::Value;

use crate::codes;
use crate::error::{Error, Result};
use crate::service::Core;

/// The send-otp action name.
const SEND_OTP: &str = "send-otp";

/// The captcha verifier and the actions that require it.
#[derive(Clone)]
pub struct CaptchaPolicy {
    verifier: Arc<dyn CaptchaVerifier>,
    required: Vec<String>,
}

impl std::fmt::Debug for CaptchaPolicy {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CaptchaPolicy")
            .field("kind", &self.verifier.kind())
            .field("required", &self.required)
            .finish()
    }
}

impl CaptchaPolicy {
    /// `verifier` checks tokens for the `required` actions: `send-otp` and/or lower-case factor
    /// types (`pwd`, `pin`, `kbi`, `bio`), compared case-insensitively.
    pub fn new(verifier: Arc<dyn CaptchaVerifier>, required: Vec<String>) -> Self {
        let required = required
            .into_iter()
            .map(|action| action.trim().to_lowercase())
            .collect();
        Self { verifier, required }
    }

    /// Captcha off: nothing required, [`NoCaptcha`] as the verifier.
    pub fn disabled() -> Self {
        Self::new(Arc::new(NoCaptcha), Vec::new())
    }

    /// The actions that require a captcha (lower case).
    pub fn required(&self) -> &[String] {
        &self.required
    }

    /// Whether `action` (any case) requires a captcha.
    pub fn is_required(&self, action: &str) -> bool {
        self.required
            .iter()
            .any(|required| required.eq_ignore_ascii_case(action))
    }

    /// The verifier.
    pub fn verifier(&self) -> &dyn CaptchaVerifier {
        self.verifier.as_ref()
    }
}

impl Core {
    /// Replaces the captcha policy (the default is [`CaptchaPolicy::disabled`]).
    pub fn with_captcha(mut self, policy: CaptchaPolicy) -> Self {
        self.captcha = policy;
        self
    }

    /// The captcha policy.
    pub fn captcha(&self) -> &CaptchaPolicy {
        &self.captcha
    }

    /// `GET /captcha/challenge?action=...`: what the page needs to render the captcha for
    /// `action` (one of [`CAPTCHA_ACTIONS`]). `invalid_request` for a missing or unknown action
    /// or when the configured captcha renders nothing (captcha off);
    /// `failed_to_validate_captcha` when the verifier fails.
    pub fn captcha_challenge(&self, action: Option<&str>) -> Result<Value> {
        let action = action
            .map(str::trim)
            .filter(|action| CAPTCHA_ACTIONS.contains(action))
            .ok_or(Error::code(codes::INVALID_REQUEST))?;
        match self.captcha.verifier.challenge(action) {
            Ok(Some(challenge)) => Ok(challenge),
            Ok(None) => Err(Error::code(codes::INVALID_REQUEST)),
            Err(error) => Err(verifier_failed(&error)),
        }
    }

    /// The send-otp check: a valid token for `send-otp` when that action is required.
    pub(crate) async fn check_send_otp_captcha(&self, token: Option<&str>) -> Result<()> {
        if !self.captcha.is_required(SEND_OTP) {
            return Ok(());
        }
        self.check_captcha(SEND_OTP, token).await
    }

    /// The authenticate check: when any challenge's lower-cased type is required, a valid
    /// token for the first such type in list order (the page asks its challenge for that one).
    pub(crate) async fn check_authenticate_captcha(
        &self,
        challenges: &[AuthChallenge],
        token: Option<&str>,
    ) -> Result<()> {
        let Some(action) = challenges
            .iter()
            .map(|challenge| challenge.auth_factor_type.to_lowercase())
            .find(|action| self.captcha.is_required(action))
        else {
            return Ok(());
        };
        self.check_captcha(&action, token).await
    }

    async fn check_captcha(&self, action: &str, token: Option<&str>) -> Result<()> {
        let token = token
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(Error::code(codes::INVALID_CAPTCHA))?;
        match self.captcha.verifier.verify(token, action).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::code(codes::INVALID_CAPTCHA)),
            Err(error) => Err(verifier_failed(&error)),
        }
    }
}

fn verifier_failed(error: &CaptchaError) -> Error {
    tracing::warn!(%error, "captcha verification failed");
    Error::code(codes::FAILED_TO_VALIDATE_CAPTCHA)
}
