//! The signup detour's two wrapped endpoints (eSignet §3.7.7 / §3.7.8): prepare-signup-redirect
//! parks the authenticated transaction and sets the cookie the ID-token factor checks later;
//! complete-signup-redirect resumes it. The domain is `esignet_core::signup`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::post;
use esignet_core::signup::{
    CompleteSignupRedirectRequest, PrepareSignupRedirectRequest, RequestCookies,
};

use crate::routes::authorization::details_headers;
use crate::state::AppState;
use crate::wrapper::{WrappedError, parse_wrapped, wrapped};

/// Routes under the base path (CSRF is applied by the caller).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/authorization/prepare-signup-redirect",
            post(prepare_signup_redirect),
        )
        .route(
            "/authorization/complete-signup-redirect",
            post(complete_signup_redirect),
        )
}

/// Every cookie of the request's `Cookie` headers.
pub fn request_cookies(headers: &HeaderMap) -> RequestCookies {
    RequestCookies::new(
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned())),
    )
}

async fn prepare_signup_redirect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: PrepareSignupRedirectRequest = parse_wrapped(&state, &body)?;
    let outcome = state
        .core()
        .prepare_signup_redirect(details_headers(&headers), request)
        .await
        .map_err(|e| WrappedError::from_core(&state, e))?;
    let mut response = wrapped(&state, &outcome.response)?;
    // eSignet sets Secure unconditionally; we follow the CSRF cookie's setting so plain-HTTP
    // development on a non-loopback host still works.
    let secure = if state.config().csrf_cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{secure}",
        outcome.cookie.name,
        outcome.cookie.value,
        outcome.cookie.max_age.as_secs()
    );
    let value = HeaderValue::from_str(&cookie)
        .map_err(|_| WrappedError::code(&state, esignet_core::codes::UNKNOWN_ERROR))?;
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(response)
}

async fn complete_signup_redirect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WrappedError> {
    let request: CompleteSignupRedirectRequest = parse_wrapped(&state, &body)?;
    let response = state
        .core()
        .complete_signup_redirect(details_headers(&headers), request)
        .await
        .map_err(|e| WrappedError::from_core(&state, e))?;
    wrapped(&state, &response)
}
