//! Wire DTOs of the UI-facing (wrapped) API and the OAuth form endpoints, with eSignet's field
//! names. Request types reject unknown fields (eSignet's Jackson mapper does, yielding
//! `unknown_error`); the `claims` object and challenge maps stay free-form.

use esignet_spi::AuthChallenge;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::acr::AuthFactor;
use crate::claims::ClaimStatus;
use crate::transaction::ConsentAction;

/// `POST /authorization/{,v2/,v3/}oauth-details` request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthDetailsRequest {
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub response_type: Option<String>,
    pub redirect_uri: Option<String>,
    pub display: Option<String>,
    pub prompt: Option<String>,
    pub nonce: Option<String>,
    pub state: Option<String>,
    pub acr_values: Option<String>,
    #[serde(default, deserialize_with = "number_or_numeric_string")]
    pub max_age: Option<u64>,
    pub claims: Option<Value>,
    pub claims_locales: Option<String>,
    pub ui_locales: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub id_token_hint: Option<String>,
    pub dpop_jkt: Option<String>,
}

/// The UI sends `maxAge` as a string; eSignet coerces numeric strings.
fn number_or_numeric_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("maxAge must be a non-negative integer")),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("maxAge must be a non-negative integer")),
        Some(_) => Err(serde::de::Error::custom(
            "maxAge must be a non-negative integer",
        )),
    }
}

/// `POST /authorization/par-oauth-details` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParOAuthDetailsRequest {
    pub client_id: Option<String>,
    pub request_uri: Option<String>,
}

/// The oauth-details response (v2/v3/PAR shape; v1 differs in `clientName`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthDetailsResponse {
    pub transaction_id: String,
    pub logo_url: String,
    pub auth_factors: Vec<Vec<AuthFactor>>,
    pub authorize_scopes: Vec<String>,
    pub essential_claims: Vec<String>,
    pub voluntary_claims: Vec<String>,
    pub configs: Map<String, Value>,
    pub redirect_uri: String,
    pub client_name: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_scopes: Option<Vec<String>>,
}

/// `POST /authorization/send-otp` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendOtpRequest {
    pub transaction_id: Option<String>,
    pub individual_id: Option<String>,
    #[serde(default)]
    pub otp_channels: Vec<String>,
    pub captcha_token: Option<String>,
}

/// `send-otp` response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendOtpResponse {
    pub transaction_id: String,
    pub masked_email: Option<String>,
    pub masked_mobile: Option<String>,
}

/// `POST /authorization/{,v2/,v3/}authenticate` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticateRequest {
    pub transaction_id: Option<String>,
    pub individual_id: Option<String>,
    #[serde(default)]
    pub challenge_list: Vec<AuthChallenge>,
    pub captcha_token: Option<String>,
}

/// `authenticate` response (v2/v3; v1 omits `consentAction`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticateResponse {
    pub transaction_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_action: Option<ConsentAction>,
}

/// `POST /authorization/auth-code` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthCodeRequest {
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub accepted_claims: Vec<String>,
    #[serde(default)]
    pub permitted_authorize_scopes: Vec<String>,
}

/// `auth-code` response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthCodeResponse {
    pub nonce: Option<String>,
    pub state: Option<String>,
    pub code: String,
    pub redirect_uri: String,
}

/// `GET /authorization/claim-details` response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimDetailsResponse {
    pub transaction_id: String,
    pub consent_action: Option<ConsentAction>,
    pub profile_update_required: bool,
    pub claim_status: Vec<ClaimStatus>,
}

/// `POST /oauth/par` form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ParForm {
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub response_type: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub display: Option<String>,
    pub prompt: Option<String>,
    pub acr_values: Option<String>,
    pub claims: Option<String>,
    pub max_age: Option<String>,
    pub claims_locales: Option<String>,
    pub ui_locales: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub id_token_hint: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
    pub dpop_jkt: Option<String>,
    pub request_uri: Option<String>,
}

/// `POST /oauth/par` response (201).
#[derive(Debug, Clone, Serialize)]
pub struct ParResponse {
    pub request_uri: String,
    pub expires_in: u64,
}

/// `POST /oauth/v2/token` form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
    pub code_verifier: Option<String>,
}

/// Token response.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub id_token: String,
    pub token_type: &'static str,
    pub access_token: String,
    pub expires_in: i64,
}

/// `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009) form: the token,
/// an optional hint, and the caller's `private_key_jwt` authentication.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenManagementForm {
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

/// `GET|POST /oidc/logout` parameters (OpenID RP-Initiated Logout 1.0 §2).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EndSessionRequest {
    pub id_token_hint: Option<String>,
    pub logout_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
}
