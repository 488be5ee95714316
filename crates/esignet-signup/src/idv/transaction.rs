//! The identity-verification transaction and its cache stages: `signup_idv`
//! (`IDV_TRANSACTION_ID`), `signup_slot_allotted` (after a slot, before the WebSocket),
//! `signup_verified_slot` (from the WebSocket handshake, keyed by slot id), and the slot seats
//! that bound how many verifications run at once across all instances.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::verifier::VerificationStatus;

/// `IDV_TRANSACTION_ID` transactions.
pub const IDV: &str = "signup_idv";
/// Transactions with a slot, waiting for their WebSocket.
pub const SLOT_ALLOTTED: &str = "signup_slot_allotted";
/// Running or finished verifications, keyed by slot id.
pub const VERIFIED_SLOT: &str = "signup_verified_slot";
/// Slot seats `0..slot_max_count`, each holding the slot id that occupies it.
pub const SEATS: &str = "signup_idv_seat";

/// Cookie of an initiated verification.
pub const IDV_TRANSACTION_ID: &str = "IDV_TRANSACTION_ID";
/// Cookie of an allotted slot: `<transactionId>###<slotId>`.
pub const IDV_SLOT_ALLOTTED: &str = "IDV_SLOT_ALLOTTED";
/// Separator of the slot cookie's two parts.
pub const SLOT_SEPARATOR: &str = "###";

/// eSignet's `IdentityVerificationTransaction`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdvTransaction {
    /// The transaction id (the cookie's value, and the first part of the slot cookie).
    pub transaction_id: String,
    /// SHA3-256-B64U of the transaction id: the verifier's key and the topic.
    pub slot_id: String,
    /// The resident's individual id, sealed.
    pub sealed_individual_id: String,
    /// The provider's halted login (the signup client's token `sub`).
    pub halted_transaction_id: String,
    /// The registry request id of the verified-claims update.
    pub application_id: String,
    /// Chosen verifier.
    pub verifier_id: Option<String>,
    /// Declared disability, passed to the verifier.
    pub disability_type: Option<String>,
    /// Where the verification stands.
    pub status: VerificationStatus,
    /// Why it failed.
    pub error_code: Option<String>,
    /// The seat held (released when the WebSocket closes).
    pub seat: Option<u64>,
    /// Unix milliseconds when the current cache entry expires.
    pub expires_at_ms: i64,
}

/// Parses the slot cookie.
pub fn split_slot_cookie(value: &str) -> Option<(&str, &str)> {
    value
        .split_once(SLOT_SEPARATOR)
        .filter(|(transaction, slot)| !transaction.is_empty() && !slot.is_empty())
}

/// How long a seat is held at most: until the allotted slot would expire unused plus the
/// longest a verification may run. A WebSocket that closes releases it sooner.
pub fn seat_ttl(slot_allotted: Duration, verified_slot: Duration) -> Duration {
    slot_allotted.saturating_add(verified_slot)
}
