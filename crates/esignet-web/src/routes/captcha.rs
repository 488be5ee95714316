//! `GET <base>/captcha/challenge?action=<action>`: what the login page needs to render the
//! captcha for one action (a fresh proof-of-work challenge, or the remote widget's site key).
//!
//! Wrapped like the other UI APIs: `{"responseTime", "response": <challenge>, "errors": []}`;
//! an unknown or missing action, or captcha off, is `invalid_request` in `errors[]`. Not behind
//! CSRF: it is a GET that changes nothing (challenges are stateless). `Cache-Control: no-store`,
//! since every challenge is single use.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use esignet_core::codes;
use serde::Deserialize;

use crate::state::AppState;
use crate::wrapper::{WrappedError, wrapped};

/// Routes under the base path.
pub fn routes() -> Router<AppState> {
    Router::new().route("/captcha/challenge", get(challenge))
}

#[derive(Debug, Deserialize)]
struct ChallengeQuery {
    action: Option<String>,
}

async fn challenge(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, WrappedError> {
    let query: ChallengeQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|_| WrappedError::code(&state, codes::INVALID_REQUEST))?;
    let challenge = state
        .core()
        .captcha_challenge(query.action.as_deref())
        .map_err(|error| WrappedError::from_core(&state, error))?;
    let mut response = wrapped(&state, &challenge)?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
