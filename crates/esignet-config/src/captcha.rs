//! Validation of the `[captcha]` section (kept apart from `validate.rs` for size; it uses the
//! same helpers and records problems the same way).

use std::collections::BTreeSet;
use std::time::Duration;

use url::{Host, Url};

use crate::error::Problems;
use crate::raw::CaptchaRaw;
use crate::settings::{CaptchaKind, CaptchaSettings, RemoteCaptchaProvider, RemoteCaptchaSettings};
use crate::validate::{bounded, http_url, secs, word};

/// Actions a captcha can be required for (eSignet's `captcha.required` values; the UI's
/// `captcha.enable` component names).
pub const CAPTCHA_ACTIONS: &[&str] = &["send-otp", "pwd", "pin", "kbi", "bio", "binding-otp"];

/// Bounds of `captcha.pow_difficulty_bits`: below 8 a solution costs nothing, above 32 a phone
/// needs more than a day.
const MIN_POW_BITS: u64 = 8;
const MAX_POW_BITS: u64 = 32;
/// Longest accepted remote verify timeout: residents are waiting on it.
const MAX_REMOTE_TIMEOUT_SECS: u64 = 60;

pub(crate) fn captcha(raw: CaptchaRaw, problems: &mut Problems) -> CaptchaSettings {
    let kind = word(problems, "captcha.kind", &raw.kind).unwrap_or(CaptchaKind::None);
    let mut required = BTreeSet::new();
    for action in &raw.required {
        let normalized = action.trim().to_lowercase();
        if !CAPTCHA_ACTIONS.contains(&normalized.as_str()) {
            problems.push(
                "captcha.required",
                format!(
                    "\"{action}\" is not an action; use {}",
                    CAPTCHA_ACTIONS.join(", ")
                ),
            );
        } else if !required.insert(normalized) {
            problems.push("captcha.required", format!("\"{action}\" is listed twice"));
        }
    }
    if kind == CaptchaKind::None && !required.is_empty() {
        problems.push(
            "captcha.required",
            "lists actions but captcha.kind is \"none\"; choose \"pow\" or \"remote\"",
        );
    }
    let pow_difficulty_bits = bounded(
        problems,
        "captcha.pow_difficulty_bits",
        raw.pow_difficulty_bits,
        MIN_POW_BITS,
        MAX_POW_BITS,
    );
    let remote = (kind == CaptchaKind::Remote)
        .then(|| remote(&raw, problems))
        .flatten();
    CaptchaSettings {
        kind,
        // Keep the configured order for the UI's `captcha.enable` list.
        required: CAPTCHA_ACTIONS
            .iter()
            .filter(|action| required.contains(**action))
            .map(|action| (*action).to_owned())
            .collect(),
        pow_difficulty_bits: u8::try_from(pow_difficulty_bits).unwrap_or(u8::MAX),
        pow_challenge_ttl: secs(
            problems,
            "captcha.pow_challenge_ttl_secs",
            raw.pow_challenge_ttl_secs,
            10,
        ),
        remote,
    }
}

fn remote(raw: &CaptchaRaw, problems: &mut Problems) -> Option<RemoteCaptchaSettings> {
    let provider = word(problems, "captcha.remote_provider", &raw.remote_provider)
        .unwrap_or(RemoteCaptchaProvider::Recaptcha);
    let verify_url = match &raw.remote_verify_url {
        Some(text) => verify_url(text)
            .map_err(|message| problems.push("captcha.remote_verify_url", message))
            .ok(),
        None => Url::parse(provider.default_verify_url()).ok(),
    };
    let secret = raw
        .remote_secret
        .clone()
        .filter(|secret| !secret.expose().trim().is_empty());
    if secret.is_none() {
        problems.push(
            "captcha.remote_secret",
            "is required when captcha.kind is \"remote\"",
        );
    }
    let site_key = raw
        .remote_site_key
        .clone()
        .filter(|key| !key.trim().is_empty());
    if site_key.is_none() {
        problems.push(
            "captcha.remote_site_key",
            "is required when captcha.kind is \"remote\"",
        );
    }
    let timeout = Duration::from_secs(bounded(
        problems,
        "captcha.remote_timeout_secs",
        raw.remote_timeout_secs,
        1,
        MAX_REMOTE_TIMEOUT_SECS,
    ));
    Some(RemoteCaptchaSettings {
        provider,
        verify_url: verify_url?,
        secret: secret?,
        site_key: site_key?,
        hostname: raw.remote_hostname.clone().filter(|h| !h.trim().is_empty()),
        check_action: raw.remote_check_action,
        timeout,
    })
}

/// The verify URL carries the secret in its body: `https` only, except on loopback (a local
/// test double).
fn verify_url(text: &str) -> Result<Url, String> {
    let url = http_url(text)?;
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    };
    if url.scheme() != "https" && !loopback {
        return Err(format!(
            "\"{text}\" must use https (the secret is sent to it)"
        ));
    }
    Ok(url)
}
