//! Wallet key binding over HTTP (this service's own design; MOSIP's Java mock has none, its
//! eSignet plugin binds keys in-process): what `esignet-authenticator-http`'s `HttpKeyBinder`
//! calls. Bodies are unwrapped, like `send-otp` and `kyc-auth`; answers use the usual envelope.
//!
//! | Method and path | Body | `response` |
//! |---|---|---|
//! | `POST /binding/send-otp` | `{individualId, otpChannels}` | `{transactionId, maskedEmail, maskedMobile}` |
//! | `POST /binding/key-binding` | `{individualId, challengeList: [{authFactorType, challenge, format}], publicKey: <JWK>, authFactorType}` | `{certificate, partnerSpecificUserToken}` |
//! | `GET /binding/keys.json` | | `{"allCertificates": [...]}` of the binding CA keys (envelope without `responseTime`) |
//!
//! The logic is `esignet_mock_authenticator::MockKeyBinder` over the one identity concerned:
//! the same challenges as a login (OTP after a binding OTP, PIN, password, KBI; never
//! biometrics), the key certified for `WLA` by this service's `MOCK_BINDING_SERVICE` key.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use esignet_mock_authenticator::MockKeyBinder;
use esignet_spi::{AuthChallenge, KeyBinder as _, KeyBindingRequest, TokenSigner as _};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::codes;
use crate::envelope::{ApiError, ApiResult, envelope_without_time, format_utc_ms, parse_body};
use crate::state::SharedState;

/// `binding/send-otp` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BindingOtpBody {
    individual_id: Option<String>,
    otp_channels: Option<Vec<String>>,
}

/// `binding/key-binding` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyBindingBody {
    individual_id: Option<String>,
    challenge_list: Option<Vec<AuthChallenge>>,
    public_key: Option<Value>,
    auth_factor_type: Option<String>,
}

/// `POST /binding/send-otp`: records the development OTP for the binding of the individual.
pub(crate) async fn send_otp(State(state): State<SharedState>, body: Bytes) -> Response {
    let result = send(&state, &body).await;
    state.delay().await;
    state.respond(result)
}

async fn send(state: &SharedState, body: &[u8]) -> ApiResult {
    let body: BindingOtpBody = parse_body(body, "binding/send-otp")?;
    let individual_id = required(body.individual_id)?;
    let otp_channels = body.otp_channels.unwrap_or_default();
    if otp_channels.is_empty() {
        return Err(ApiError::code(codes::INVALID_OTP_CHANNEL).into());
    }
    let sent = binder(state, &individual_id)
        .await?
        .send_binding_otp(&individual_id, &otp_channels, &[])
        .await?;
    Ok(json!({
        "transactionId": sent.transaction_id,
        "maskedEmail": sent.masked_email,
        "maskedMobile": sent.masked_mobile,
    }))
}

/// `POST /binding/key-binding`: checks the challenges and certifies the key.
pub(crate) async fn key_binding(State(state): State<SharedState>, body: Bytes) -> Response {
    let result = bind(&state, &body).await;
    state.delay().await;
    state.respond(result)
}

async fn bind(state: &SharedState, body: &[u8]) -> ApiResult {
    let body: KeyBindingBody = parse_body(body, "binding/key-binding")?;
    let individual_id = required(body.individual_id)?;
    let public_key = body
        .public_key
        .filter(Value::is_object)
        .ok_or_else(|| ApiError::code(codes::INVALID_PUBLIC_KEY))?;
    let result = binder(state, &individual_id)
        .await?
        .do_key_binding(KeyBindingRequest {
            individual_id,
            challenges: body.challenge_list.unwrap_or_default(),
            public_key,
            auth_factor_type: body.auth_factor_type.unwrap_or_default(),
            request_headers: Vec::new(),
        })
        .await?;
    Ok(json!({
        "certificate": result.certificate,
        "partnerSpecificUserToken": result.partner_specific_user_token,
    }))
}

/// `GET /binding/keys.json`: the certificates of the binding CA keys, for verifying the
/// certificates `key-binding` issues.
pub(crate) async fn keys(State(state): State<SharedState>) -> Response {
    let certificates: Vec<Value> = state
        .binding_keys
        .certificates()
        .into_iter()
        .map(|certificate| {
            json!({
                "certificateData": certificate.certificate_pem,
                "issuedAt": format_utc_ms(certificate.issued_at),
                "expiryAt": format_utc_ms(certificate.expires_at),
                "keyId": certificate.key_id,
            })
        })
        .collect();
    envelope_without_time(Ok(json!({"allCertificates": certificates})))
}

/// The built-in mock's key binder over the one identity concerned (or nobody).
async fn binder(state: &SharedState, individual_id: &str) -> Result<MockKeyBinder, ApiError> {
    let identity = state.identity(individual_id, false).await?;
    Ok(MockKeyBinder::new(
        Arc::new(state.authenticator(identity)?),
        state.binding_keys.clone(),
        state.certificate_validity,
    ))
}

fn required(individual_id: Option<String>) -> Result<String, ApiError> {
    individual_id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| ApiError::code(codes::INVALID_INDIVIDUAL_ID))
}
