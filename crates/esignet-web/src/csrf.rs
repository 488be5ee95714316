//! Double-submit CSRF protection of the browser-facing APIs, as eSignet does it: the
//! `XSRF-TOKEN` cookie set by `GET /csrf/token` must be echoed in the `X-XSRF-TOKEN` header of
//! every state-changing request.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// The cookie name.
pub const COOKIE: &str = "XSRF-TOKEN";
/// The header name.
pub const HEADER: &str = "X-XSRF-TOKEN";

/// The value of a cookie in the request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Middleware: rejects a state-changing request whose header does not equal its cookie.
pub async fn require_csrf(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let cookie = cookie_value(headers, COOKIE);
    let header_value = headers.get(HEADER).and_then(|v| v.to_str().ok());
    match (cookie, header_value) {
        (Some(cookie), Some(sent))
            if !cookie.is_empty()
                && esignet_jose::constant_time_eq(cookie.as_bytes(), sent.as_bytes()) =>
        {
            next.run(request).await
        }
        _ => forbidden(&state, request.uri().path()),
    }
}

fn forbidden(state: &AppState, _path: &str) -> Response {
    // Spring's default error body (eSignet answers CSRF failures this way, unwrapped).
    let body = serde_json::json!({
        "timestamp": crate::wrapper::format_timestamp(state.now()),
        "status": 403,
        "error": "Forbidden",
        "message": "invalid or missing CSRF token",
        "path": "",
    });
    let mut response = (StatusCode::FORBIDDEN, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `GET /csrf/token`: issues a fresh token and sets the cookie.
pub async fn csrf_token(State(state): State<AppState>) -> Response {
    let token = uuid::Uuid::new_v4().to_string();
    let secure = if state.config().csrf_cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}");
    let body =
        serde_json::json!({ "headerName": HEADER, "parameterName": "_csrf", "token": token });
    let mut response = crate::wrapper::json_response(StatusCode::OK, body.to_string());
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
