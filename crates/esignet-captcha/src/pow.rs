//! The offline proof-of-work captcha.
//!
//! # Protocol
//!
//! 1. The page asks for a challenge for one action (`GET <base>/captcha/challenge?action=pwd`)
//!    and receives a [`PowChallenge`]. Its `challenge` string is
//!    `base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))`, where the payload
//!    is the JSON `{"v":1,"a":<action>,"s":<base64url 16 random bytes>,"d":<bits>,"e":<unix
//!    expiry>}`. The server keeps nothing: the signature is the state.
//! 2. The page searches a nonce, a decimal integer of 1 to 16 digits, such that
//!    `SHA-256(UTF-8(challenge "." nonce))` starts with at least `difficulty` zero bits, and
//!    sends `captchaToken = challenge "." nonce`.
//! 3. [`PowCaptcha::verify`] checks, cheapest first: the shape, the signature (constant time),
//!    the version, the action, the expiry, the work, and finally single use, by recording the
//!    challenge in the cache's [`REPLAY_NAMESPACE`] with `put_if_absent` until it expires. Only
//!    a complete, valid solution consumes the challenge.
//!
//! # Cost
//!
//! Solving takes `2^difficulty` hashes on average (the time is exponentially distributed: one
//! solve in twenty takes three times the mean). Measured on one server core with tokens of the
//! real length (about 160 bytes): native SHA-256 through OpenSSL about 1.9 million hashes a
//! second (the ignored test `native_hash_rate`; a tuned solver that hashes the fixed prefix once
//! gets perhaps twice that), WebCrypto (`crypto.subtle`, as the browser solver uses it, measured
//! under Node 20) 70 000 to 95 000. A mid-range phone's browser is assumed three to four times
//! slower than that core, about 20 000 to 30 000 a second. The default of
//! [`DEFAULT_DIFFICULTY_BITS`] = 14 (16 384 hashes) therefore costs a resident about 0.2 s on a
//! desktop and 0.5 to 0.8 s on a phone, and a scripted attacker with a native solver 4 to 9 ms
//! of CPU per attempt: proof of work rate-limits and prices abuse, it does not tell humans from
//! machines. Each extra bit doubles every figure.

use std::sync::Arc;
use std::time::Duration;

use esignet_spi::{CAPTCHA_ACTIONS, Cache, CaptchaError, CaptchaVerifier, Clock};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::hmac::hmac_sha256;

/// Cache namespace of used challenges (key: SHA-256 of the challenge's payload part).
pub const REPLAY_NAMESPACE: &str = "captcha-pow";
/// Default work: 14 leading zero bits (see the module documentation for the measurements).
pub const DEFAULT_DIFFICULTY_BITS: u8 = 14;
/// Lowest accepted difficulty. Below 8 bits a solution costs nothing even in a browser.
pub const MIN_DIFFICULTY_BITS: u8 = 8;
/// Highest accepted difficulty: 2^32 hashes already take a phone more than a day.
pub const MAX_DIFFICULTY_BITS: u8 = 32;
/// Default lifetime of a challenge: long enough to type a password after solving it in the
/// background, short enough that stockpiled solutions go stale.
pub const DEFAULT_CHALLENGE_TTL: Duration = Duration::from_secs(300);

/// Payload format version.
const VERSION: u8 = 1;
/// Random salt per challenge, in bytes: unguessable, so solutions cannot be precomputed.
const SALT_BYTES: usize = 16;
/// Longest nonce: 16 decimal digits stay below 2^53, exact in a JavaScript number.
const MAX_NONCE_DIGITS: usize = 16;
/// Longest token worth looking at; a genuine one is about 150 characters.
const MAX_TOKEN_LEN: usize = 512;

/// Settings of [`PowCaptcha`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowConfig {
    /// Leading zero bits a solution's hash must have; clamped to
    /// [`MIN_DIFFICULTY_BITS`]`..=`[`MAX_DIFFICULTY_BITS`].
    pub difficulty_bits: u8,
    /// How long an issued challenge may be solved and used (at least one second).
    pub challenge_ttl: Duration,
}

impl Default for PowConfig {
    fn default() -> Self {
        Self {
            difficulty_bits: DEFAULT_DIFFICULTY_BITS,
            challenge_ttl: DEFAULT_CHALLENGE_TTL,
        }
    }
}

/// A challenge as the page receives it (JSON, camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PowChallenge {
    /// Always `pow`.
    pub kind: String,
    /// Always `SHA-256`.
    pub algorithm: String,
    /// The signed challenge string the nonce is appended to.
    pub challenge: String,
    /// Leading zero bits required.
    pub difficulty: u8,
    /// The action the solution will be good for.
    pub action: String,
    /// Unix time (seconds) after which a solution is refused.
    pub expires_at: i64,
    /// Seconds from issue to `expires_at`: the solver measures its deadline with this, on the
    /// browser's own clock, so a skewed device clock does not matter.
    pub expires_in: u64,
}

/// The signed payload.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    v: u8,
    a: String,
    s: String,
    d: u8,
    e: i64,
}

/// The proof-of-work [`CaptchaVerifier`].
pub struct PowCaptcha {
    key: Zeroizing<[u8; 32]>,
    config: PowConfig,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PowCaptcha {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PowCaptcha")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PowCaptcha {
    /// A verifier signing challenges with `key` (32 bytes, secret; derive it from the
    /// key-encryption key so that every instance shares it), recording used challenges in
    /// `cache` (shared between instances for single use to hold across them) and judging expiry
    /// by `clock`.
    pub fn new(
        key: [u8; 32],
        config: PowConfig,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let config = PowConfig {
            difficulty_bits: config
                .difficulty_bits
                .clamp(MIN_DIFFICULTY_BITS, MAX_DIFFICULTY_BITS),
            challenge_ttl: config.challenge_ttl.max(Duration::from_secs(1)),
        };
        Self {
            key: Zeroizing::new(key),
            config,
            cache,
            clock,
        }
    }

    /// The effective settings (after clamping).
    pub fn config(&self) -> PowConfig {
        self.config
    }

    /// A fresh challenge for `action`, or `None` if `action` is not one of
    /// [`CAPTCHA_ACTIONS`].
    pub fn issue(&self, action: &str) -> Option<PowChallenge> {
        if !CAPTCHA_ACTIONS.contains(&action) {
            return None;
        }
        let ttl = i64::try_from(self.config.challenge_ttl.as_secs()).unwrap_or(i64::MAX);
        let expires_at = self.clock.now().unix_timestamp().saturating_add(ttl);
        let payload = Payload {
            v: VERSION,
            a: action.to_owned(),
            s: esignet_jose::b64url_encode(&esignet_jose::random_bytes(SALT_BYTES)),
            d: self.config.difficulty_bits,
            e: expires_at,
        };
        // Serializing a struct of strings and integers cannot fail.
        let payload_json = serde_json::to_vec(&payload).unwrap_or_default();
        let payload_part = esignet_jose::b64url_encode(&payload_json);
        let mac = hmac_sha256(&self.key, payload_part.as_bytes());
        Some(PowChallenge {
            kind: "pow".to_owned(),
            algorithm: "SHA-256".to_owned(),
            challenge: format!("{payload_part}.{}", esignet_jose::b64url_encode(&mac)),
            difficulty: self.config.difficulty_bits,
            action: action.to_owned(),
            expires_at,
            expires_in: self.config.challenge_ttl.as_secs(),
        })
    }

    /// Checks everything but single use; returns the payload part (the replay key) and the
    /// challenge's expiry when the token is a valid, unexpired solution for `action`.
    fn check<'t>(&self, token: &'t str, action: &str) -> Option<(&'t str, i64)> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let (Some(payload_part), Some(mac_part), Some(nonce), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if nonce.is_empty()
            || nonce.len() > MAX_NONCE_DIGITS
            || !nonce.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mac = esignet_jose::b64url_decode(mac_part).ok()?;
        let expected = hmac_sha256(&self.key, payload_part.as_bytes());
        if !esignet_jose::constant_time_eq(&mac, &expected) {
            return None;
        }
        // Signed by us from here on: the payload is trusted, only its values are checked.
        let payload: Payload =
            serde_json::from_slice(&esignet_jose::b64url_decode(payload_part).ok()?).ok()?;
        if payload.v != VERSION || payload.a != action {
            return None;
        }
        if self.clock.now().unix_timestamp() >= payload.e {
            return None;
        }
        let hash = esignet_jose::sha256(token.as_bytes());
        if leading_zero_bits(&hash) < u32::from(payload.d) {
            return None;
        }
        Some((payload_part, payload.e))
    }
}

#[async_trait::async_trait]
impl CaptchaVerifier for PowCaptcha {
    fn kind(&self) -> &'static str {
        "pow"
    }

    /// `Ok(true)` once for a valid solution (see the module documentation); `Err` only when the
    /// replay cache cannot be reached.
    async fn verify(&self, token: &str, action: &str) -> Result<bool, CaptchaError> {
        let Some((payload_part, expires_at)) = self.check(token, action) else {
            return Ok(false);
        };
        let remaining = expires_at.saturating_sub(self.clock.now().unix_timestamp());
        // One extra second so the entry outlives the last instant the challenge is accepted.
        let ttl = Duration::from_secs(u64::try_from(remaining).unwrap_or(0).saturating_add(1));
        let replay_key = esignet_jose::sha256_b64url(payload_part.as_bytes());
        self.cache
            .put_if_absent(REPLAY_NAMESPACE, &replay_key, vec![1], ttl)
            .await
            .map_err(|error| CaptchaError::Unavailable(error.to_string()))
    }

    /// The JSON of a fresh [`PowChallenge`]; `None` for an action outside
    /// [`CAPTCHA_ACTIONS`].
    fn challenge(&self, action: &str) -> Result<Option<Value>, CaptchaError> {
        self.issue(action)
            .map(|challenge| {
                serde_json::to_value(challenge)
                    .map_err(|error| CaptchaError::Unavailable(error.to_string()))
            })
            .transpose()
    }
}

/// Leading zero bits of `hash`.
fn leading_zero_bits(hash: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in hash {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Solves `challenge` natively, returning the `captchaToken` (challenge `.` nonce), or `None` if
/// no 16-digit nonce works (which practically never happens below 40 bits).
///
/// For tests and tools. It is also what a scripted client does, which is why the difficulty is
/// priced against native speed (see the module documentation).
pub fn solve(challenge: &PowChallenge) -> Option<String> {
    let prefix = format!("{}.", challenge.challenge);
    let mut candidate = String::with_capacity(prefix.len() + MAX_NONCE_DIGITS);
    for nonce in 0..10_u64.pow(MAX_NONCE_DIGITS as u32) {
        candidate.clear();
        candidate.push_str(&prefix);
        candidate.push_str(&nonce.to_string());
        if leading_zero_bits(&esignet_jose::sha256(candidate.as_bytes()))
            >= u32::from(challenge.difficulty)
        {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_leading_zero_bits() {
        assert_eq!(leading_zero_bits(&[0xff]), 0);
        assert_eq!(leading_zero_bits(&[0x01, 0xff]), 7);
        assert_eq!(leading_zero_bits(&[0x00, 0x40]), 9);
        assert_eq!(leading_zero_bits(&[0x00, 0x00]), 16);
    }
}
