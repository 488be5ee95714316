//! The remote captcha verifier: the `siteverify` protocol of Google reCAPTCHA, hCaptcha and
//! Cloudflare Turnstile.
//!
//! The page renders the provider's widget with the public site key; the widget hands it a
//! token, which the page sends as `captchaToken`. [`RemoteCaptcha::verify`] POSTs the form
//! `secret=<secret>&response=<token>[&remoteip=<ip>]` to the verify URL and reads the JSON
//! answer: the token is good iff `success` is `true` and, when configured, `hostname` equals the
//! expected host and `action` equals the action checked.
//!
//! Failures are split the way the service reports them: a token the provider refused
//! (`success: false` with `invalid-input-response`, `timeout-or-duplicate`, ...) is `Ok(false)`
//! (`invalid_captcha`); a provider that is down, slow, answers non-2xx or garbage, or says our
//! own secret is wrong (`missing-input-secret`, `invalid-input-secret`, `bad-request`,
//! `internal-error`, `sitekey-secret-mismatch`) is `Err` (`failed_to_validate_captcha`), logged
//! with the provider's codes, so an operator's mistake is not blamed on residents.

use std::net::IpAddr;
use std::time::Duration;

use esignet_spi::{CaptchaError, CaptchaVerifier};
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// Longest token forwarded to the provider; real tokens are a few KiB at most.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Provider error codes that mean our request or configuration is wrong, not the token.
const CONFIGURATION_ERRORS: &[&str] = &[
    "missing-input-secret",
    "invalid-input-secret",
    "bad-request",
    "internal-error",
    "sitekey-secret-mismatch",
];

/// Which widget the page renders; all three share the verify protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteProvider {
    /// Google reCAPTCHA (v2 checkbox or invisible; v3 tokens verify too, scores are ignored).
    Recaptcha,
    /// hCaptcha.
    Hcaptcha,
    /// Cloudflare Turnstile.
    Turnstile,
}

impl RemoteProvider {
    /// The configuration and UI spelling (`recaptcha`, `hcaptcha`, `turnstile`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recaptcha => "recaptcha",
            Self::Hcaptcha => "hcaptcha",
            Self::Turnstile => "turnstile",
        }
    }

    /// The provider's public verify endpoint.
    pub fn default_verify_url(self) -> &'static str {
        match self {
            Self::Recaptcha => "https://www.google.com/recaptcha/api/siteverify",
            Self::Hcaptcha => "https://api.hcaptcha.com/siteverify",
            Self::Turnstile => "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        }
    }
}

/// Settings of [`RemoteCaptcha`].
#[derive(Clone)]
pub struct RemoteConfig {
    /// The widget the page renders.
    pub provider: RemoteProvider,
    /// Where tokens are verified (usually [`RemoteProvider::default_verify_url`]).
    pub verify_url: String,
    /// The server-side secret. Never logged.
    pub secret: Zeroizing<String>,
    /// The public site key the widget is rendered with.
    pub site_key: String,
    /// If set, the `hostname` the provider reports must equal it (the page's host).
    pub expected_hostname: Option<String>,
    /// If `true`, the `action` the provider reports must equal the action checked (reCAPTCHA
    /// v3 and Turnstile report one when the page sets it; a missing one fails).
    pub check_action: bool,
    /// Upper bound on one verify call, connection included.
    pub timeout: Duration,
}

impl std::fmt::Debug for RemoteConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RemoteConfig")
            .field("provider", &self.provider)
            .field("verify_url", &self.verify_url)
            .field("secret", &"<redacted>")
            .field("site_key", &self.site_key)
            .field("expected_hostname", &self.expected_hostname)
            .field("check_action", &self.check_action)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The provider's answer (only the members we read).
#[derive(Debug, Deserialize)]
struct SiteVerifyAnswer {
    success: bool,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(rename = "error-codes", default)]
    error_codes: Vec<String>,
}

/// The remote [`CaptchaVerifier`].
#[derive(Debug)]
pub struct RemoteCaptcha {
    client: reqwest::Client,
    config: RemoteConfig,
}

impl RemoteCaptcha {
    /// A verifier for `config`.
    ///
    /// # Errors
    /// [`CaptchaError::Unavailable`] if the HTTP client cannot be built (no TLS backend).
    pub fn new(config: RemoteConfig) -> Result<Self, CaptchaError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // The verify URL is configured; following redirects could send the secret elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| CaptchaError::Unavailable(format!("http client: {error}")))?;
        Ok(Self { client, config })
    }

    /// The settings.
    pub fn config(&self) -> &RemoteConfig {
        &self.config
    }

    /// [`CaptchaVerifier::verify`] with the resident's IP address forwarded as `remoteip`
    /// (providers use it as a risk signal; it is optional).
    pub async fn verify_from(
        &self,
        token: &str,
        action: &str,
        remote_ip: Option<IpAddr>,
    ) -> Result<bool, CaptchaError> {
        let token = token.trim();
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Ok(false);
        }
        let remote_ip = remote_ip.map(|ip| ip.to_string());
        let mut form: Vec<(&str, &str)> =
            vec![("secret", self.config.secret.as_str()), ("response", token)];
        if let Some(ip) = remote_ip.as_deref() {
            form.push(("remoteip", ip));
        }
        let response = self
            .client
            .post(&self.config.verify_url)
            .form(&form)
            .send()
            .await
            .map_err(|error| unavailable("request failed", &error))?;
        let status = response.status();
        if !status.is_success() {
            tracing::warn!(%status, "captcha provider answered an error status");
            return Err(CaptchaError::Unavailable(format!(
                "captcha provider answered {status}"
            )));
        }
        let answer: SiteVerifyAnswer = response
            .json()
            .await
            .map_err(|error| unavailable("unreadable answer", &error))?;
        if !answer.success {
            if answer
                .error_codes
                .iter()
                .any(|code| CONFIGURATION_ERRORS.contains(&code.as_str()))
            {
                tracing::error!(codes = ?answer.error_codes, "captcha provider rejected our request");
                return Err(CaptchaError::Unavailable(format!(
                    "captcha provider rejected the request: {}",
                    answer.error_codes.join(",")
                )));
            }
            tracing::info!(codes = ?answer.error_codes, "captcha token refused by the provider");
            return Ok(false);
        }
        if let Some(expected) = &self.config.expected_hostname
            && answer.hostname.as_deref() != Some(expected.as_str())
        {
            tracing::info!("captcha token solved on another host");
            return Ok(false);
        }
        if self.config.check_action && answer.action.as_deref() != Some(action) {
            tracing::info!("captcha token solved for another action");
            return Ok(false);
        }
        Ok(true)
    }
}

/// A transport failure, logged without the URL's query (there is none) or the form (secret).
fn unavailable(what: &str, error: &reqwest::Error) -> CaptchaError {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_decode() {
        "decode"
    } else {
        "other"
    };
    tracing::warn!(kind, "captcha provider {what}");
    CaptchaError::Unavailable(format!("captcha provider {what} ({kind})"))
}

#[async_trait::async_trait]
impl CaptchaVerifier for RemoteCaptcha {
    fn kind(&self) -> &'static str {
        "remote"
    }

    /// See the module documentation; no `remoteip` is sent (use [`RemoteCaptcha::verify_from`]).
    async fn verify(&self, token: &str, action: &str) -> Result<bool, CaptchaError> {
        self.verify_from(token, action, None).await
    }

    /// `{"kind": "remote", "provider": "recaptcha", "siteKey": "...", "action": "pwd"}`: what the
    /// page needs to render the provider's widget.
    fn challenge(&self, action: &str) -> Result<Option<Value>, CaptchaError> {
        Ok(Some(json!({
            "kind": "remote",
            "provider": self.config.provider.as_str(),
            "siteKey": self.config.site_key,
            "action": action,
        })))
    }
}
