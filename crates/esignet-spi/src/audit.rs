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

/// Outcome of an audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditStatus {
    /// The action completed.
    Success,
    /// The action failed; `error_code` says why.
    Error,
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
