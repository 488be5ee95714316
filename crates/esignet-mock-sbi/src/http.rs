//! HTTP: the custom SBI methods on their paths, and CORS for the login page calling the device
//! from the browser.
//!
//! axum routes by standard methods only, so each path takes any method and dispatches on its
//! name; anything but the path's SBI method (or an `OPTIONS` preflight) is 405.
//!
//! CORS: the page runs on the eSignet origin and calls `http://127.0.0.1:<port>` with custom
//! methods and a JSON body, so the browser sends a preflight first. The device answers it for
//! any origin (echoed, with `Vary: Origin`), allows the SBI methods and the requested headers,
//! and grants Chrome's private-network access (`Access-Control-Allow-Private-Network`), which a
//! public page needs to reach a loopback service. Every other answer carries the same
//! `Access-Control-Allow-Origin`.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::Value;

use crate::device::MockSbi;

/// Device discovery.
pub(crate) const DISCOVER: &str = "MOSIPDISC";
/// Device information.
pub(crate) const INFO: &str = "MOSIPDINFO";
/// Authentication capture.
pub(crate) const CAPTURE: &str = "CAPTURE";
/// What a preflight allows (custom method names are matched case-sensitively by browsers).
const ALLOWED_METHODS: &str = "MOSIPDISC, MOSIPDINFO, CAPTURE, OPTIONS";
/// How long a browser may cache a preflight, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The device service's routes: `/device` (`MOSIPDISC`), `/info` (`MOSIPDINFO`), `/capture`
/// (`CAPTURE`), with CORS on every path.
pub fn router(sbi: Arc<MockSbi>) -> Router {
    Router::new()
        .route("/device", any(device))
        .route("/info", any(info))
        .route("/capture", any(capture))
        .fallback(not_found)
        .with_state(sbi)
        .layer(middleware::from_fn(cors))
}

async fn device(State(sbi): State<Arc<MockSbi>>, method: Method, body: Bytes) -> Response {
    if method.as_str() != DISCOVER {
        return method_not_allowed(DISCOVER);
    }
    // An empty or unreadable body means "every device", as real devices treat it.
    let device_type = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|value| value.get("type").and_then(Value::as_str).map(str::to_owned));
    json_or_error(sbi.discover(device_type.as_deref()))
}

async fn info(State(sbi): State<Arc<MockSbi>>, method: Method) -> Response {
    if method.as_str() != INFO {
        return method_not_allowed(INFO);
    }
    json_or_error(sbi.info())
}

async fn capture(State(sbi): State<Arc<MockSbi>>, method: Method, body: Bytes) -> Response {
    if method.as_str() != CAPTURE {
        return method_not_allowed(CAPTURE);
    }
    json(&sbi.capture(&body).await)
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such SBI endpoint").into_response()
}

fn method_not_allowed(allowed: &'static str) -> Response {
    let mut response = (StatusCode::METHOD_NOT_ALLOWED, "method not allowed").into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allowed));
    response
}

fn json(value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn json_or_error(outcome: Result<Value, crate::MockSbiError>) -> Response {
    match outcome {
        Ok(value) => json(&value),
        Err(error) => {
            tracing::error!(%error, "mock SBI cannot describe its devices");
            (StatusCode::INTERNAL_SERVER_ERROR, "device error").into_response()
        }
    }
}

/// Answers preflights, and adds `Access-Control-Allow-Origin` to everything else.
async fn cors(request: Request, next: Next) -> Response {
    let origin = allowed_origin(request.headers());
    if request.method() == Method::OPTIONS {
        return preflight(request.headers(), origin);
    }
    let mut response = next.run(request).await;
    add_origin(response.headers_mut(), origin);
    response
}

/// The origin to allow: the request's own (any origin may use a local device), or `*` for a
/// request without one (tools such as curl).
fn allowed_origin(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(header::ORIGIN)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("*"))
}

fn add_origin(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
}

fn preflight(request: &HeaderMap, origin: HeaderValue) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    add_origin(headers, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOWED_METHODS),
    );
    let requested = request
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("Content-Type"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE),
    );
    if request
        .get("access-control-request-private-network")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"true"))
    {
        headers.insert(
            "access-control-allow-private-network",
            HeaderValue::from_static("true"),
        );
    }
    response
}
