//! Token introspection (RFC 7662), revocation (RFC 7009) and RP-initiated logout (OpenID
//! RP-Initiated Logout 1.0): what a relying party does with its tokens after the login.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use esignet_core::EndSessionOutcome;
use esignet_core::api::{EndSessionRequest, TokenManagementForm};

use super::oidc::parse_form;
use crate::oauth_error::OAuthError;
use crate::state::AppState;

/// Routes under the base path.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/introspect", post(introspect))
        .route("/oauth/revoke", post(revoke))
        .route("/oidc/logout", get(end_session).post(end_session))
}

fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

async fn introspect(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form: TokenManagementForm = match parse_form(&headers, &body) {
        Ok(form) => form,
        Err(rejection) => return rejection.into_response(),
    };
    match state.core().introspect(form).await {
        Ok(answer) => {
            let mut response = (StatusCode::OK, answer.to_string()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            no_store(&mut response);
            response
        }
        Err(error) => OAuthError(error).into_response(),
    }
}

async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form: TokenManagementForm = match parse_form(&headers, &body) {
        Ok(form) => form,
        Err(rejection) => return rejection.into_response(),
    };
    match state.core().revoke(form).await {
        // RFC 7009 §2.2: 200 with an empty body, whether or not there was anything to revoke.
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            no_store(&mut response);
            response
        }
        Err(error) => OAuthError(error).into_response(),
    }
}

/// `GET` (query) or `POST` (form) `/oidc/logout`. Answers with a `303 See Other` to the
/// client's registered post-logout URI, or to our signed-out page, or to our error page: a
/// browser is on the other end, so nothing here is JSON.
async fn end_session(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Result<EndSessionRequest, ()> = if method == Method::POST {
        parse_form(&headers, &body).map_err(|_| ())
    } else {
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).map_err(|_| ())
    };
    let ui_base = ui_base(&state.core().config().authorization_endpoint);
    let request = match parsed {
        Ok(request) => request,
        Err(()) => return see_other(&format!("{ui_base}/error?error=invalid_request")),
    };
    let locale = request
        .ui_locales
        .as_deref()
        .and_then(|locales| locales.split(' ').find(|l| is_locale_tag(l)))
        .map(str::to_owned);
    let with_locale = |path: &str, first: char| match &locale {
        Some(locale) => format!("{ui_base}{path}{first}ui_locales={locale}"),
        None => format!("{ui_base}{path}"),
    };
    match state.core().end_session(request).await {
        Ok(EndSessionOutcome::Redirect(target)) => see_other(&target),
        Ok(EndSessionOutcome::SignedOut) => see_other(&with_locale("/signed-out", '?')),
        Err(error) => {
            let code = error.error_code().to_owned();
            see_other(&with_locale(&format!("/error?error={code}"), '&'))
        }
    }
}

/// The login pages' origin and prefix: the authorization endpoint is `<ui base>/authorize`.
fn ui_base(authorization_endpoint: &str) -> &str {
    authorization_endpoint
        .strip_suffix("/authorize")
        .unwrap_or(authorization_endpoint)
}

/// A BCP 47-looking tag safe to put in a URL unescaped (`en`, `fr-FR`).
fn is_locale_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 16
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    no_store(&mut response);
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
