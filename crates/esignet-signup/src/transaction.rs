//! The registration transaction (companions 3.4), kept as JSON in the cache.

use serde::{Deserialize, Serialize};

/// Cache namespace of challenge transactions (`TRANSACTION_ID`).
pub const CHALLENGE_GENERATED: &str = "signup_challenge_generated";
/// Cache namespace of verified transactions (`VERIFIED_TRANSACTION_ID`).
pub const CHALLENGE_VERIFIED: &str = "signup_challenge_verified";
/// Cache namespace of transactions whose registry request is under way.
pub const STATUS_CHECK: &str = "signup_status_check";
/// Cache namespace of blocked identifier hashes.
pub const BLOCKED_IDENTIFIER: &str = "signup_blocked_identifier";
/// Counters of OTPs sent per challenge transaction.
pub const SEND_COUNT: &str = "signup_send_count";
/// Counters of wrong OTPs per challenge (transaction id and send number).
pub const VERIFY_ATTEMPTS: &str = "signup_verify_attempts";

/// `REGISTRATION` or `RESET_PASSWORD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Purpose {
    /// A new resident.
    Registration,
    /// A forgotten password.
    ResetPassword,
}

impl Purpose {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "REGISTRATION" => Some(Self::Registration),
            "RESET_PASSWORD" => Some(Self::ResetPassword),
            _ => None,
        }
    }
}

/// eSignet's `RegistrationTransaction`, without the parts this implementation keeps elsewhere
/// (attempt counters are cache counters).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationTransaction {
    /// SHA3-256-B64U of the lower-cased identifier.
    pub identifier_hash: String,
    /// SHA3-256-B64U of the current OTP.
    pub challenge_hash: String,
    /// Unix milliseconds of the last OTP send.
    pub last_sent_at_ms: i64,
    /// OTPs sent so far (also the suffix of the verify-attempt counter).
    pub sends: u64,
    /// The registry request id.
    pub application_id: String,
    /// Notification language.
    pub locale: String,
    /// Why the resident is here.
    pub purpose: Purpose,
    /// The sealed individual id (reset password).
    pub sealed_individual_id: Option<String>,
    /// Registration / reset status once submitted (`PENDING`, `COMPLETED`, `FAILED`).
    pub status: Option<String>,
    /// The identifier as typed, needed to notify after register / reset; sealed like the id.
    pub sealed_identifier: Option<String>,
    /// Unix milliseconds when the current cache entry expires (to put it back unchanged).
    pub expires_at_ms: i64,
}
