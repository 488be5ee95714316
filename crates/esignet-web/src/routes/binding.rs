//! Wallet key binding (`/binding/*`, eSignet §3.9): wrapped API, no CSRF (the caller is a wallet
//! app, not a browser). Every request header is handed to the key binder, as eSignet does.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use esignet_core::codes;
use esignet_core::wallet_api::{BindingOtpRequest, WalletBindingRequest};

use crate::state::AppState;
use crate::wrapper::{WrappedError, parse_wrapped, wrapped};

/// Routes under the base path.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/binding/binding-otp", post(binding_otp_v1))
        .route("/binding/v2/binding-otp", post(binding_otp_v2))
        .route("/binding/wallet-binding", post(wallet_binding))
        .route("/binding/certificates", get(binding_certificates))
}

/// The binding CA's certificates as a JWK Set (plain JSON like the JWKS, cacheable), so a
/// wallet can verify the certificate it was issued.
async fn binding_certificates(State(state): State<AppState>) -> Response {
    match state.core().binding_certificates().await {
        Ok(set) => {
            let mut response = (StatusCode::OK, set.to_string()).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            response
        }
        Err(error) => {
            let status = if error.error_code() == codes::NOT_IMPLEMENTED {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let body = serde_json::json!({"error": error.error_code()}).to_string();
            let mut response = (status, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
    }
}

/// The request's headers as (lower-case name, value) pairs; values that are not visible ASCII
/// are left out (no key binder could use them).
pub(crate) fn forwarded_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|value| (name.as_str().to_owned(), value.to_owned()))
        })
        .collect()
}

async fn binding_otp(
    state: AppState,
    headers: HeaderMap,
    body: Bytes,
    allow_captcha: bool,
) -> Result<Response, WrappedError> {
    let request: BindingOtpRequest = parse_wrapped(&state, &body)?;
    if !allow_captcha && request.captcha_token.is_some() {
        // Only v2 has the field; eSignet's v1 DTO rejects it as unknown.
        return Err(WrappedError::with_message(
            &state,
            codes::UNKNOWN_ERROR,
            "unknown field `captchaToken`",
        ));
    }
    let response = state
        .core()
        .send_binding_otp(request, &forwarded_headers(&headers))
        .await
        .map_err(|e| WrappedError::from_core(&state, e))?;
    wrapped(&state, &response)
}

async fn binding_otp_v1(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    binding_otp(state, headers, body, false).await
}

async fn binding_otp_v2(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    binding_otp(state, headers, body, true).await
}

async fn wallet_binding(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: WalletBindingRequest = parse_wrapped(&state, &body)?;
    let response = state
        .core()
        .wallet_binding(request, &forwarded_headers(&headers))
        .await
        .map_err(|e| WrappedError::from_core(&state, e))?;
    wrapped(&state, &response)
}
