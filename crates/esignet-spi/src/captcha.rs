//! The captcha seam: proving a human (or at least a paying client) is behind a login request.
//!
//! eSignet checks a captcha token on `send-otp` and on v3 `authenticate` for the actions listed
//! in its `captcha.required` setting. The service only asks a [`CaptchaVerifier`] two things:
//! what the login page needs to render the captcha ([`CaptchaVerifier::challenge`]) and whether
//! a token the page sent back is good for an action ([`CaptchaVerifier::verify`]).

use serde_json::Value;

/// The actions a captcha can be required for, as eSignet and its UI name them: `send-otp`
/// (requesting or resending an OTP), the lower-cased factor types checked at authenticate, and
/// `binding-otp` (a wallet requesting a key-binding OTP, `/binding/v2/binding-otp`).
pub const CAPTCHA_ACTIONS: &[&str] = &["send-otp", "pwd", "pin", "kbi", "bio", "binding-otp"];

/// The verifier could not decide: the remote service is down, timed out or answered
/// nonsense, or the replay cache is unreachable. The service reports
/// `failed_to_validate_captcha`; a token that was checked and found bad is `Ok(false)` instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaptchaError {
    /// A dependency of the verifier failed. The text is for logs and never holds the token.
    #[error("captcha verification unavailable: {0}")]
    Unavailable(String),
}

/// Checks captcha tokens for one configured captcha kind.
///
/// Contract:
/// * `verify` returns `Ok(true)` only for a token that is valid **for `action`** (one of
///   [`CAPTCHA_ACTIONS`]) and, for single-use kinds, consumes it: a second `verify` of the same
///   token returns `Ok(false)`. A blank, malformed, expired, forged or already used token is
///   `Ok(false)`, never an error. `Err` means "could not check" (see [`CaptchaError`]).
/// * `challenge` returns what the login page needs to render the captcha for `action`, as a
///   JSON object with at least a string member `kind`, or `None` when this verifier needs nothing
///   rendered (captcha off). It must be cheap and must not block: the service calls it for
///   every `GET /captcha/challenge`.
/// * Implementations never log tokens.
#[async_trait::async_trait]
pub trait CaptchaVerifier: Send + Sync {
    /// The kind of captcha (`none`, `pow`, `remote`), for logs and the UI configuration.
    fn kind(&self) -> &'static str;

    /// Whether `token` is a valid captcha answer for `action` (see the trait contract).
    async fn verify(&self, token: &str, action: &str) -> Result<bool, CaptchaError>;

    /// What the page needs to render the captcha for `action` (see the trait contract).
    fn challenge(&self, action: &str) -> Result<Option<Value>, CaptchaError>;
}

/// The verifier used when captcha is off.
///
/// It renders nothing and **rejects every token**: the service never asks it to verify while
/// no action requires a captcha, so a call can only come from a wiring mistake (a required
/// list without a real verifier), and failing closed keeps such a mistake from silently
/// disabling a captcha that was meant to be on.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoCaptcha;

#[async_trait::async_trait]
impl CaptchaVerifier for NoCaptcha {
    fn kind(&self) -> &'static str {
        "none"
    }

    async fn verify(&self, _token: &str, _action: &str) -> Result<bool, CaptchaError> {
        Ok(false)
    }

    fn challenge(&self, _action: &str) -> Result<Option<Value>, CaptchaError> {
        Ok(None)
    }
}
