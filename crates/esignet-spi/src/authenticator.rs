//! The identity-system seam: authenticate a resident and hand over their consented claims.
//!
//! This mirrors eSignet's `Authenticator` plugin contract so that the built-in mock, a remote
//! mock identity system over HTTP, or a national ID system adapter all plug in the same way.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// An error from the identity system. `code` is surfaced to clients verbatim (eSignet passes
/// plugin codes such as `auth_failed`, `send_otp_failed` or `IDA-MLC-009` through unchanged), so
/// it must never contain personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("identity system error: {code}")]
pub struct PluginError {
    /// A stable error code, for example `auth_failed`.
    pub code: String,
}

impl PluginError {
    /// An error with the given code.
    pub fn new(code: impl Into<String>) -> Self {
        Self { code: code.into() }
    }
}

/// One authentication challenge as the resident (or the UI on their behalf) supplied it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthChallenge {
    /// `OTP`, `PIN`, `PWD`, `KBI`, `BIO`, `WLA` or `IDT`.
    pub auth_factor_type: String,
    /// The secret or signed material; never logged.
    pub challenge: String,
    /// `alpha-numeric`, `number`, `encoded-json`, `jwt`, `base64url-encoded-json`.
    pub format: String,
}

/// Input to [`Authenticator::kyc_auth`].
#[derive(Debug, Clone)]
pub struct KycAuthRequest {
    /// The short auth transaction id derived from the flow's transaction id (never the flow id
    /// itself), echoed by the identity system where it keeps per-transaction state (OTP).
    pub transaction_id: String,
    /// The resident's identifier (UIN, VID, phone ...). Personal data: never log it.
    pub individual_id: String,
    /// One or more challenges, all of which must pass.
    pub challenges: Vec<AuthChallenge>,
}

/// Output of a successful [`Authenticator::kyc_auth`].
#[derive(Debug, Clone, PartialEq)]
pub struct KycAuthResult {
    /// An opaque, single-use token that later unlocks [`Authenticator::kyc_exchange`].
    pub kyc_token: String,
    /// The partner-specific user token: the pairwise subject (`sub`) for this relying party.
    pub partner_specific_user_token: String,
    /// For each claim the identity system holds, the verification metadata it has (empty list
    /// when the claim is held but unverified). Filled only when metadata was requested.
    pub claims_metadata: Map<String, Value>,
}

/// How the relying party wants userinfo delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum UserinfoResponseType {
    /// A signed JWT (JWS).
    #[default]
    #[serde(rename = "JWS")]
    Jws,
    /// A signed JWT nested in a JWE for the client's encryption key.
    #[serde(rename = "JWE")]
    Jwe,
}

/// Input to [`Authenticator::kyc_exchange`] and [`Authenticator::verified_kyc_exchange`].
#[derive(Debug, Clone)]
pub struct KycExchangeRequest {
    /// The same auth transaction id that was given to `kyc_auth`.
    pub transaction_id: String,
    /// The token `kyc_auth` returned.
    pub kyc_token: String,
    /// The resident's identifier. Personal data: never log it.
    pub individual_id: String,
    /// Claim names the resident consented to share.
    pub accepted_claims: Vec<String>,
    /// Requested locales for multi-language claims, most preferred first (`en`, `fr`, ...).
    pub claims_locales: Vec<String>,
    /// The client's requested userinfo form. Implementations may return a JWS even when JWE was
    /// asked for; the service then encrypts it itself.
    pub userinfo_response_type: UserinfoResponseType,
    /// For the verified exchange: the requested detail of each accepted claim, including a
    /// `verified_claims` entry filtered to the accepted claims. Empty for the plain exchange.
    pub accepted_claim_details: Map<String, Value>,
}

/// Output of a KYC exchange: the userinfo body, ready to return to the relying party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KycExchangeResult {
    /// A compact JWS (or, if the identity system encrypted it, a compact JWE).
    pub encrypted_kyc: String,
}

/// Input to [`Authenticator::send_otp`].
#[derive(Debug, Clone)]
pub struct SendOtpRequest {
    /// The auth transaction id (see [`KycAuthRequest::transaction_id`]).
    pub transaction_id: String,
    /// The resident's identifier. Personal data: never log it.
    pub individual_id: String,
    /// Channels to send on (`email`, `phone`).
    pub otp_channels: Vec<String>,
}

/// Output of [`Authenticator::send_otp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOtpResult {
    /// Must equal the request's transaction id; eSignet rejects a mismatch.
    pub transaction_id: String,
    /// The email address with most characters masked, if sent by email.
    pub masked_email: Option<String>,
    /// The phone number with most characters masked, if sent by SMS.
    pub masked_mobile: Option<String>,
}

/// A certificate whose key signs KYC (userinfo) or tokens, published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificate {
    /// The key id (`kid`) that signatures carry.
    pub key_id: String,
    /// The PEM-encoded X.509 certificate.
    pub certificate_pem: String,
    /// Start of validity.
    pub issued_at: OffsetDateTime,
    /// End of validity.
    pub expires_at: OffsetDateTime,
}

/// An identity system that can authenticate residents and release their claims.
///
/// `relying_party_id` and `client_id` identify who is asking (the identity system derives the
/// pairwise subject from the relying party id). Errors carry codes surfaced to the caller.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync {
    /// Sends an OTP to the resident on the requested channels.
    async fn send_otp(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: SendOtpRequest,
    ) -> Result<SendOtpResult, PluginError>;

    /// Whether `channel` (lower-case, e.g. `email`) is one this identity system can send on.
    fn is_supported_otp_channel(&self, channel: &str) -> bool;

    /// Verifies every challenge and, on success, returns a KYC token and the pairwise subject.
    /// Failure is an error (`auth_failed` or a more specific code), never an empty result.
    async fn kyc_auth(
        &self,
        relying_party_id: &str,
        client_id: &str,
        claims_metadata_required: bool,
        request: KycAuthRequest,
    ) -> Result<KycAuthResult, PluginError>;

    /// Exchanges a KYC token for the signed userinfo with the accepted claims.
    async fn kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError>;

    /// Like [`Authenticator::kyc_exchange`] but honouring `verified_claims` requests
    /// (OpenID Connect for Identity Assurance). The default delegates to the plain exchange.
    async fn verified_kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        self.kyc_exchange(relying_party_id, client_id, request)
            .await
    }

    /// Certificates of every key the identity system signs KYC with; published in our JWKS so
    /// relying parties can verify userinfo.
    async fn kyc_signing_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError>;

    /// The current verification metadata of `claims` for an individual, in the shape of
    /// [`KycAuthResult::claims_metadata`]. Called when a resident returns from identity
    /// verification at the signup service, so consent shows the claims verified meanwhile.
    /// `None` (the default) means the identity system cannot tell: the metadata read at
    /// authentication is kept.
    async fn claims_metadata(
        &self,
        _relying_party_id: &str,
        _client_id: &str,
        _individual_id: &str,
        _claims: &[String],
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, PluginError> {
        Ok(None)
    }
}
