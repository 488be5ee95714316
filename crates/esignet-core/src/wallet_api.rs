//! Wire DTOs of the wallet APIs (`/binding/*`, `/linked-authorization/*`), with eSignet's field
//! names. As in [`crate::api`], requests reject unknown fields (eSignet's Jackson mapper does,
//! yielding `unknown_error`); the web layer additionally rejects the fields a version lacks
//! (`captchaToken` on v1 binding-otp, `signature` on v1 consent).

use esignet_spi::AuthChallenge;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::acr::AuthFactor;
use crate::transaction::ConsentAction;

/// `POST /binding/binding-otp` and `/binding/v2/binding-otp` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BindingOtpRequest {
    pub individual_id: Option<String>,
    #[serde(default)]
    pub otp_channels: Vec<String>,
    pub captcha_token: Option<String>,
}

/// `binding-otp` response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingOtpResponse {
    pub masked_email: Option<String>,
    pub masked_mobile: Option<String>,
}

/// `POST /binding/wallet-binding` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WalletBindingRequest {
    pub individual_id: Option<String>,
    #[serde(default)]
    pub challenge_list: Vec<AuthChallenge>,
    /// The wallet's public JWK (an object).
    pub public_key: Option<Value>,
    /// The factor the key is bound for (`WLA`).
    pub auth_factor_type: Option<String>,
    /// The format of that factor's challenges (`jwt`).
    pub format: Option<String>,
}

/// `wallet-binding` response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletBindingResponse {
    /// The wallet binding id, as a compact JWE to the wallet's RSA key unless encryption is off.
    pub wallet_user_id: String,
    /// The PEM certificate of the bound key.
    pub certificate: String,
    /// The certificate's `notAfter` (`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`).
    pub expire_date_time: String,
}

/// `POST /linked-authorization/link-code` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkCodeRequest {
    pub transaction_id: Option<String>,
}

/// `link-code` response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkCodeResponse {
    pub transaction_id: String,
    pub link_code: String,
    pub expire_date_time: String,
}

/// `POST /linked-authorization/link-status` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkStatusRequest {
    pub transaction_id: Option<String>,
    pub link_code: Option<String>,
}

/// `link-status` response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkStatusResponse {
    /// Always `LINKED` (other outcomes are errors).
    pub link_status: &'static str,
}

/// `POST /linked-authorization/{,v2/}link-transaction` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkTransactionRequest {
    pub link_code: Option<String>,
}

/// `link-transaction` response: the oauth-details of the transaction for the wallet's consent
/// screen (v1: `clientName` is the `@none` string and there is no `credentialScopes`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkTransactionResponse {
    pub link_transaction_id: String,
    pub logo_url: String,
    pub auth_factors: Vec<Vec<AuthFactor>>,
    pub authorize_scopes: Vec<String>,
    pub essential_claims: Vec<String>,
    pub voluntary_claims: Vec<String>,
    pub configs: Map<String, Value>,
    pub client_name: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_scopes: Option<Vec<String>>,
}

/// `POST /linked-authorization/{,v2/}authenticate` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkedAuthenticateRequest {
    pub linked_transaction_id: Option<String>,
    pub individual_id: Option<String>,
    #[serde(default)]
    pub challenge_list: Vec<AuthChallenge>,
}

/// Linked `authenticate` response (v1 omits `consentAction`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedAuthenticateResponse {
    pub linked_transaction_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_action: Option<ConsentAction>,
}

/// `POST /linked-authorization/{,v2/}consent` request (`signature` only in v2).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkedConsentRequest {
    pub linked_transaction_id: Option<String>,
    #[serde(default)]
    pub accepted_claims: Vec<String>,
    #[serde(default)]
    pub permitted_authorize_scopes: Vec<String>,
    /// Detached JWS `<header>.<signature>` over the canonical consent (v2).
    pub signature: Option<String>,
}

/// Linked `consent` response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedConsentResponse {
    pub linked_transaction_id: String,
}

/// `POST /linked-authorization/link-auth-code` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkAuthCodeRequest {
    pub transaction_id: Option<String>,
    pub linked_code: Option<String>,
}
