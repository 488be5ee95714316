//! The login UI's wrapped API: oauth-details, par-oauth-details, send-otp, authenticate,
//! claim-details and auth-code. Thin handlers: parse the wrapper, call the domain, wrap.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use esignet_core::api::{
    AuthCodeRequest, AuthenticateRequest, OAuthDetailsRequest, ParOAuthDetailsRequest,
    SendOtpRequest,
};
use esignet_core::{AuthenticateVersion, DetailsHeaders, DetailsVersion};

use crate::routes::signup_redirect::request_cookies;
use crate::state::AppState;
use crate::wrapper::{WrappedError, parse_wrapped, wrapped, wrapped_raw};

/// Routes under the base path (CSRF is applied by the caller).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/authorization/oauth-details", post(oauth_details_v1))
        .route("/authorization/v2/oauth-details", post(oauth_details_v2))
        .route("/authorization/v3/oauth-details", post(oauth_details_v3))
        .route("/authorization/par-oauth-details", post(par_oauth_details))
        .route("/authorization/send-otp", post(send_otp))
        .route("/authorization/authenticate", post(authenticate_v1))
        .route("/authorization/v2/authenticate", post(authenticate_v2))
        .route("/authorization/v3/authenticate", post(authenticate_v3))
        .route("/authorization/claim-details", get(claim_details))
        .route("/authorization/auth-code", post(auth_code))
}

pub(crate) fn details_headers(headers: &HeaderMap) -> DetailsHeaders<'_> {
    DetailsHeaders {
        key: headers
            .get("oauth-details-key")
            .and_then(|v| v.to_str().ok()),
        hash: headers
            .get("oauth-details-hash")
            .and_then(|v| v.to_str().ok()),
    }
}

async fn oauth_details(
    state: AppState,
    version: DetailsVersion,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: OAuthDetailsRequest = parse_wrapped(&state, &body)?;
    let outcome = state
        .core()
        .oauth_details_with_cookies(version, request, &request_cookies(&headers))
        .await
        .map_err(|e| WrappedError::from_core(&state, e))?;
    Ok(wrapped_raw(&state, &outcome.response_json))
}

async fn oauth_details_v1(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    oauth_details(state, DetailsVersion::V1, headers, body).await
}

async fn oauth_details_v2(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    oauth_details(state, DetailsVersion::V2, headers, body).await
}

async fn oauth_details_v3(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    oauth_details(state, DetailsVersion::V3, headers, body).await
}

async fn par_oauth_details(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: ParOAuthDetailsRequest = parse_wrapped(&state, &body)?;
    let outcome = state
        .core()
        .par_oauth_details_with_cookies(request, &request_cookies(&headers))
        .await
        .map_err(|e| WrappedError::from_core(&state, e))?;
    Ok(wrapped_raw(&state, &outcome.response_json))
}

async fn send_otp(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: SendOtpRequest = parse_wrapped(&state, &body)?;
    let response = state
        .core()
        .send_otp(details_headers(&headers), request)
        .await
        .map_err(|e| WrappedError::from_core(&state, e))?;
    wrapped(&state, &response)
}

async fn authenticate(
    state: AppState,
    version: AuthenticateVersion,
    headers: HeaderMap,
    body: Bytes,
    allow_captcha: bool,
) -> Result<Response, WrappedError> {
    let request: AuthenticateRequest = parse_wrapped(&state, &body)?;
    if !allow_captcha && request.captcha_token.is_some() {
        // Only v3 has the field; eSignet's older DTOs reject it as unknown.
        return Err(WrappedError::with_message(
            &state,
            esignet_core::codes::UNKNOWN_ERROR,
            "unknown field `captchaToken`",
        ));
    }
    let response = state
        .core()
        .authenticate_with_cookies(
            version,
            details_headers(&headers),
            request,
            &request_cookies(&headers),
        )
        .await
        .map_err(|e| WrappedError::from_core(&state, e))?;
    wrapped(&state, &response)
}

async fn authenticate_v1(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    authenticate(state, AuthenticateVersion::V1, headers, body, false).await
}

async fn authenticate_v2(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    authenticate(state, AuthenticateVersion::V2OrV3, headers, body, false).await
}

async fn authenticate_v3(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    authenticate(state, AuthenticateVersion::V2OrV3, headers, body, true).await
}

async fn claim_details(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.core().claim_details(details_headers(&headers)).await {
        Ok(response) => wrapped(&state, &response).into_response(),
        Err(error) => WrappedError::from_core(&state, error).into_response(),
    }
}

async fn auth_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: AuthCodeRequest = parse_wrapped(&state, &body)?;
    let response = state
        .core()
        .auth_code(details_headers(&headers), request)
        .await
        .map_err(|e| WrappedError::from_core(&state, e))?;
    wrapped(&state, &response)
}
