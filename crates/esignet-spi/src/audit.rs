//! Audit events: what happened, to which transaction and client, with what outcome.

use serde::Serialize;
use time::OffsetDateTime;

/// The audited actions (the names eSignet's audit plugin receives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum AuditAction {
    OidcClientCreate,
    OidcClientUpdate,
    OauthClientCreate,
    OauthClientUpdate,
    GetOauthDetails,
    GetParOauthDetails,
    TransactionStarted,
    ParRequest,
    SendOtp,
    Authenticate,
    ClaimDetails,
    GetAuthCode,
    GenerateToken,
    GetUserinfo,
    DoKycAuth,
    DoKycExchange,
    SaveConsent,
    DeleteUserConsent,
    KeyRotated,
    LinkCode,
    LinkStatus,
    LinkTransaction,
    LinkSendOtp,
    LinkAuthenticate,
    LinkAuthCode,
    SendBindingOtp,
    KeyBinding,
    GetCertificate,
    UploadCertificate,
    GetUserConsent,
    UpdateUserConsent,
    PrepareSignupRedirect,
    CompleteSignupRedirect,
    TokenIntrospect,
    TokenRevoke,
    EndSession,
    // Signup service (eSignet signup's audit list).
    GenerateChallenge,
    VerifyChallenge,
    Register,
    RegisterStatusCheck,
    ResetPassword,
    InitiateIdentityVerification,
    IdentityVerificationSlot,
    IdentityVerifier,
    IdentityVerificationStatus,
    ProcessFrames,
    ConsumeStepResult,
    OnConnected,
    OnDisconnected,
    HandshakeSuccess,
    HandshakeFailed,
}

impl AuditAction {
    /// The action's name as eSignet spells it (`SEND_OTP`), the same text the JSON form holds.
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            // A unit variant always serializes as a string; kept total rather than panicking.
            _ => format!("{self:?}"),
        }
    }
}

/// Outcome of an audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditStatus {
    /// The action completed.
    Success,
    /// The action failed; `error_code` says why.
    Error,
}

impl AuditStatus {
    /// `SUCCESS` or `ERROR`, as eSignet's `ActionStatus` names them.
    pub fn name(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Error => "ERROR",
        }
    }
}

/// One audit record. Holds no personal data in clear: the individual is identified only by a
/// salted-free SHA3-256 hash, the same hash eSignet uses for blocking.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    pub action: AuditAction,
    /// How it ended.
    pub status: AuditStatus,
    /// The flow transaction id, if any.
    pub transaction_id: Option<String>,
    /// The relying party's client id, if known.
    pub client_id: Option<String>,
    /// base64url(SHA3-256(individual id)), if the individual is known.
    pub individual_id_hash: Option<String>,
    /// The error code, when `status` is `Error`.
    pub error_code: Option<String>,
}

/// Where audit events go.
///
/// `record` must not block or fail the request: implementations hand the event to a bounded
/// queue (dropping and counting on overflow) and deliver it in the background.
pub trait AuditSink: Send + Sync {
    /// Records one event.
    fn record(&self, event: AuditEvent);
}

/// Counts what the audit sinks did with events, per sink (`log`, `postgres`, `http`), so
/// back-pressure and outages show on the metrics endpoint. Must be cheap and never block.
pub trait AuditMetrics: Send + Sync {
    /// `count` events reached their destination.
    fn audit_written(&self, sink: &'static str, count: u64);
    /// `count` events were lost for good: the queue was full, or every delivery attempt failed.
    fn audit_dropped(&self, sink: &'static str, count: u64);
    /// A delivery attempt of `count` events failed (they may still be delivered by a retry).
    fn audit_failed(&self, sink: &'static str, count: u64);
}

/// Counts nothing (deployments without a metrics listener, and tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAuditMetrics;

impl AuditMetrics for NoAuditMetrics {
    fn audit_written(&self, _sink: &'static str, _count: u64) {}
    fn audit_dropped(&self, _sink: &'static str, _count: u64) {}
    fn audit_failed(&self, _sink: &'static str, _count: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_statuses_have_their_esignet_names() {
        assert_eq!(AuditAction::SendOtp.name(), "SEND_OTP");
        assert_eq!(AuditAction::GetOauthDetails.name(), "GET_OAUTH_DETAILS");
        assert_eq!(
            AuditAction::RegisterStatusCheck.name(),
            "REGISTER_STATUS_CHECK"
        );
        assert_eq!(AuditStatus::Success.name(), "SUCCESS");
        assert_eq!(AuditStatus::Error.name(), "ERROR");
    }
}
