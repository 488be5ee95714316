//! IDA's JSON bodies (the plugin's `IdaKycAuthRequest`, `IdaSendOtpRequest`,
//! `IdaKycExchangeRequest`, `KeyBindingRequest` and `IdaResponseWrapper`), shared by the client
//! and the test server.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `id` of kyc-auth.
pub const KYC_AUTH_ID: &str = "mosip.identity.kycauth";
/// `id` of kyc-exchange.
pub const KYC_EXCHANGE_ID: &str = "mosip.identity.kycexchange";
/// `id` of the key-binding request.
pub const KEY_BINDING_ID: &str = "mosip.identity.keybinding";
/// `id` of the OTP request.
pub const SEND_OTP_ID: &str = "mosip.identity.otp";
/// `version` of every request.
pub const VERSION: &str = "1.0";
/// The header carrying our detached JWS of the request body.
pub const SIGNATURE_HEADER: &str = "signature";
/// The header carrying IDA's detached JWS of the answer body.
pub const RESPONSE_SIGNATURE_HEADER: &str = "response-signature";

/// The kyc-auth body (IDA's `KycAuthRequestDTO`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KycAuthBody {
    /// [`KYC_AUTH_ID`].
    pub id: String,
    /// [`VERSION`].
    pub version: String,
    /// `yyyy-MM-ddTHH:mm:ss.SSSZ`, UTC.
    pub request_time: String,
    /// eSignet's public URL.
    pub domain_uri: String,
    /// The deployment environment.
    pub env: String,
    /// The resident's UIN or VID. Personal data.
    pub individual_id: String,
    /// The auth transaction id (the OTP is bound to it).
    #[serde(rename = "transactionID")]
    pub transaction_id: String,
    /// Always true: eSignet obtained consent.
    pub consent_obtained: bool,
    /// The sealed auth request.
    pub request: String,
    /// The sealed digest.
    #[serde(rename = "requestHMAC")]
    pub request_hmac: String,
    /// The sealed AES key.
    pub request_session_key: String,
    /// IDA's certificate thumbprint.
    pub thumbprint: String,
    /// Whether verified-claims metadata is wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_metadata_required: Option<bool>,
}

/// The key-binding body (IDA's `IdentityKeyBindingRequestDTO`): kyc-auth's members, sealed
/// factors included, plus the key to certify.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyBindingBody {
    /// The kyc-auth members, `id` being [`KEY_BINDING_ID`].
    #[serde(flatten)]
    pub auth: KycAuthBody,
    /// The key and the factor it is bound for.
    pub identity_key_binding: IdentityKeyBinding,
}

/// The key to certify (IDA's `IdentityKeyBindingDTO`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityKeyBinding {
    /// The wallet's public JWK.
    #[serde(rename = "publicKeyJWK")]
    pub public_key_jwk: Value,
    /// The factor type the key is bound for (`WLA`).
    pub auth_factor_type: String,
}

/// The key-binding result (IDA's `IdentityKeyBindingRespDto`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyBindingResponse {
    /// The PEM certificate IDA issued for the key.
    #[serde(default)]
    pub identity_certificate: Option<String>,
    /// The partner-specific user token.
    #[serde(default)]
    pub auth_token: Option<String>,
    /// Whether the challenges passed.
    #[serde(default)]
    pub binding_auth_status: bool,
}

/// The decrypted auth request (the plugin's `IdaKycAuthRequest.AuthRequest`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthRequest {
    /// The OTP. Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
    /// The static PIN. Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_pin: Option<String>,
    /// The password. Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Biometric captures, as the SBI returned them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biometrics: Option<Value>,
    /// Wallet-bound tokens `[{type, token, format}]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_binded_tokens: Option<Value>,
    /// When the request was built.
    pub timestamp: String,
}

/// The OTP request body (IDA's `OtpRequestDTO`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendOtpBody {
    /// [`SEND_OTP_ID`].
    pub id: String,
    /// [`VERSION`].
    pub version: String,
    /// The resident's UIN or VID. Personal data.
    pub individual_id: String,
    /// The auth transaction id.
    #[serde(rename = "transactionID")]
    pub transaction_id: String,
    /// When the request was built.
    pub request_time: String,
    /// `email`, `phone`.
    pub otp_channel: Vec<String>,
}

/// The kyc-exchange body (IDA's `KycExchangeRequestDTO`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KycExchangeBody {
    /// [`KYC_EXCHANGE_ID`].
    pub id: String,
    /// [`VERSION`].
    pub version: String,
    /// When the request was built.
    pub request_time: String,
    /// The kyc-auth transaction id.
    #[serde(rename = "transactionID")]
    pub transaction_id: String,
    /// The token kyc-auth returned.
    pub kyc_token: String,
    /// The consented claims (`["sub"]` when none).
    pub consent_obtained: Vec<String>,
    /// ISO 639-3 locales.
    pub locales: Vec<String>,
    /// `JWS` (IDA signs; eSignet-rs encrypts for JWE clients itself).
    pub resp_type: String,
    /// The resident's UIN or VID. Personal data.
    pub individual_id: String,
    /// v2: the consented verified claims, `[{verification, claims}]` (OpenID Connect for
    /// Identity Assurance requests, filtered to the accepted claims).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_consented_claims: Option<Vec<Value>>,
    /// v2: the consented unverified claims, each with its request detail (or null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub un_verified_consented_claims: Option<Map<String, Value>>,
}

/// One IDA error.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdaError {
    /// The IDA code (`IDA-OTA-004` ...), passed to the client verbatim.
    pub error_code: String,
    /// IDA's message (never forwarded: it may name the individual id type).
    #[serde(default)]
    pub error_message: String,
}

/// Every IDA answer: `response` on success, `errors` on failure.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct ResponseWrapper<T> {
    /// The API id.
    #[serde(default)]
    pub id: Option<String>,
    /// The API version.
    #[serde(default)]
    pub version: Option<String>,
    /// The request's transaction id, echoed.
    #[serde(default, rename = "transactionID")]
    pub transaction_id: Option<String>,
    /// When IDA answered.
    #[serde(default)]
    pub response_time: Option<String>,
    /// The result.
    #[serde(default)]
    pub response: Option<T>,
    /// The errors.
    #[serde(default)]
    pub errors: Option<Vec<IdaError>>,
}

/// The kyc-auth result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KycAuthResponse {
    /// Unlocks kyc-exchange.
    #[serde(default)]
    pub kyc_token: Option<String>,
    /// The partner-specific user token.
    #[serde(default)]
    pub auth_token: Option<String>,
    /// Whether authentication succeeded.
    #[serde(default)]
    pub kyc_status: bool,
    /// v2: the claims' verification metadata, a JSON object in a string
    /// (`{"name": [{"trust_framework": ...}], "email": []}`).
    #[serde(default)]
    pub verified_claims_metadata: Option<String>,
}

/// The kyc-exchange result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KycExchangeResponse {
    /// The userinfo JWT signed by IDA.
    #[serde(default)]
    pub encrypted_kyc: Option<String>,
}

/// The OTP result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendOtpResponse {
    /// The masked e-mail address, if sent by e-mail.
    #[serde(default)]
    pub masked_email: Option<String>,
    /// The masked phone number, if sent by SMS.
    #[serde(default)]
    pub masked_mobile: Option<String>,
}

/// `yyyy-MM-ddTHH:mm:ss.SSSZ` of `now` in UTC (the plugin's `getUTCDateTime`).
pub fn request_time(now: time::OffsetDateTime) -> String {
    let now = now.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}
