//! The QR-code (linked) login (`/linked-authorization/*`, eSignet §3.8). Two route tables, as
//! eSignet's CSRF rules split them (§2.5): the browser's (`link-code`, `link-status`,
//! `link-auth-code`) and `send-otp` need CSRF; the wallet's (`link-transaction`,
//! `authenticate`, `consent`, v1 and v2) do not.
//!
//! `link-status` and `link-auth-code` are long polls: they hold the request until the wallet
//! acts or the configured wait passes (`response_timeout`, with eSignet's deferred-result
//! message). The wait is shorter than the server's request timeout (checked by configuration).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use esignet_core::api::SendOtpRequest;
use esignet_core::wallet_api::{
    LinkAuthCodeRequest, LinkCodeRequest, LinkStatusRequest, LinkTransactionRequest,
    LinkedAuthenticateRequest, LinkedConsentRequest,
};
use esignet_core::{AuthenticateVersion, DetailsVersion, Error, codes};

use crate::state::AppState;
use crate::wrapper::{WrappedError, parse_wrapped, wrapped};

/// The browser's routes under the base path (the caller applies CSRF).
pub fn browser_routes() -> Router<AppState> {
    Router::new()
        .route("/linked-authorization/link-code", post(link_code))
        .route("/linked-authorization/link-status", post(link_status))
        .route("/linked-authorization/link-auth-code", post(link_auth_code))
        .route("/linked-authorization/send-otp", post(send_otp))
}

/// The wallet's routes under the base path (no CSRF).
pub fn wallet_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/linked-authorization/link-transaction",
            post(link_transaction_v1),
        )
        .route(
            "/linked-authorization/v2/link-transaction",
            post(link_transaction_v2),
        )
        .route("/linked-authorization/authenticate", post(authenticate_v1))
        .route(
            "/linked-authorization/v2/authenticate",
            post(authenticate_v2),
        )
        .route("/linked-authorization/consent", post(consent_v1))
        .route("/linked-authorization/v2/consent", post(consent_v2))
}

/// eSignet reports timed-out deferred results with this text rather than the code.
const DEFERRED_TIMEOUT_MESSAGE: &str = "Deferred response timed out.";

fn failed(state: &AppState, error: Error) -> WrappedError {
    if error.error_code() == codes::RESPONSE_TIMEOUT {
        WrappedError::with_message(state, codes::RESPONSE_TIMEOUT, DEFERRED_TIMEOUT_MESSAGE)
    } else {
        WrappedError::from_core(state, error)
    }
}

async fn link_code(State(state): State<AppState>, body: Bytes) -> Result<Response, WrappedError> {
    let request: LinkCodeRequest = parse_wrapped(&state, &body)?;
    let response = state
        .core()
        .link_code(request)
        .await
        .map_err(|e| failed(&state, e))?;
    wrapped(&state, &response)
}

async fn link_status(State(state): State<AppState>, body: Bytes) -> Result<Response, WrappedError> {
    let request: LinkStatusRequest = parse_wrapped(&state, &body)?;
    let response = state
        .core()
        .link_status(request)
        .await
        .map_err(|e| failed(&state, e))?;
    wrapped(&state, &response)
}

async fn link_auth_code(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: LinkAuthCodeRequest = parse_wrapped(&state, &body)?;
    let response = state
        .core()
        .link_auth_code(request)
        .await
        .map_err(|e| failed(&state, e))?;
    wrapped(&state, &response)
}

async fn send_otp(State(state): State<AppState>, body: Bytes) -> Result<Response, WrappedError> {
    let request: SendOtpRequest = parse_wrapped(&state, &body)?;
    let response = state
        .core()
        .linked_send_otp(request)
        .await
        .map_err(|e| failed(&state, e))?;
    wrapped(&state, &response)
}

async fn link_transaction(
    state: AppState,
    version: DetailsVersion,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: LinkTransactionRequest = parse_wrapped(&state, &body)?;
    let response = state
        .core()
        .link_transaction(version, request)
        .await
        .map_err(|e| failed(&state, e))?;
    wrapped(&state, &response)
}

async fn link_transaction_v1(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, WrappedError> {
    link_transaction(state, DetailsVersion::V1, body).await
}

async fn link_transaction_v2(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, WrappedError> {
    link_transaction(state, DetailsVersion::V2, body).await
}

async fn authenticate(
    state: AppState,
    version: AuthenticateVersion,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: LinkedAuthenticateRequest = parse_wrapped(&state, &body)?;
    let response = state
        .core()
        .linked_authenticate(version, request)
        .await
        .map_err(|e| failed(&state, e))?;
    wrapped(&state, &response)
}

async fn authenticate_v1(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, WrappedError> {
    authenticate(state, AuthenticateVersion::V1, body).await
}

async fn authenticate_v2(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, WrappedError> {
    authenticate(state, AuthenticateVersion::V2OrV3, body).await
}

async fn consent(
    state: AppState,
    version: AuthenticateVersion,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: LinkedConsentRequest = parse_wrapped(&state, &body)?;
    if version == AuthenticateVersion::V1 && request.signature.is_some() {
        // Only v2 has the field; eSignet's v1 DTO rejects it as unknown.
        return Err(WrappedError::with_message(
            &state,
            codes::UNKNOWN_ERROR,
            "unknown field `signature`",
        ));
    }
    let response = state
        .core()
        .linked_consent(version, request)
        .await
        .map_err(|e| failed(&state, e))?;
    wrapped(&state, &response)
}

async fn consent_v1(State(state): State<AppState>, body: Bytes) -> Result<Response, WrappedError> {
    consent(state, AuthenticateVersion::V1, body).await
}

async fn consent_v2(State(state): State<AppState>, body: Bytes) -> Result<Response, WrappedError> {
    consent(state, AuthenticateVersion::V2OrV3, body).await
}
