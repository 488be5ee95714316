//! The middleware stack, declared in one place. Order matters: layers listed later wrap the
//! earlier ones, so a request meets them bottom-up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use esignet_telemetry::Metrics;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::WebConfig;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Applies the stack.
pub(crate) fn apply(app: Router, config: &WebConfig) -> Router {
    let timeout: Duration = config.request_timeout;
    let app = match config.max_in_flight {
        Some(limit) => app.layer(axum::middleware::from_fn_with_state(
            Arc::new(tokio::sync::Semaphore::new(limit)),
            shed_load,
        )),
        None => app,
    };
    app
        // Innermost: limits and time bounds on the handler itself.
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        // A panic becomes a 500, never a dropped connection.
        .layer(CatchPanicLayer::new())
        // Handlers (and the identity-system clients they call) see the request id.
        .layer(axum::middleware::from_fn(scope_request_id))
        // Tracing sees the request id; it logs method, path and status only (never bodies).
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            let request_id = request
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Runs the rest of the request with its `x-request-id` as the task's current request id
/// (`esignet_spi::current_request_id`), so outbound clients can pass it on.
async fn scope_request_id(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    esignet_spi::with_request_id(request_id, next.run(request)).await
}

/// Counts every request into `metrics`, by the matched route template (never the concrete
/// path, which may hold ids), method and status, with its latency.
pub(crate) async fn record_metrics(
    axum::extract::State(metrics): axum::extract::State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    metrics.request_started();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.request_finished(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Admission control: a request that finds every permit taken is answered at once with 503
/// and `Retry-After: 1` instead of queueing behind the others (whose latency would then grow
/// without bound). The health endpoint always passes, so probes do not restart an instance
/// for being busy.
async fn shed_load(
    axum::extract::State(permits): axum::extract::State<Arc<tokio::sync::Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().ends_with("/actuator/health") {
        return next.run(request).await;
    }
    match permits.try_acquire() {
        Ok(_permit) => next.run(request).await,
        Err(_) => {
            tracing::warn!("request shed: too many requests in flight");
            let mut response = Response::new(axum::body::Body::from(
                r#"{"error":"temporarily_unavailable","error_description":"the server is busy; retry shortly"}"#,
            ));
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            let headers = response.headers_mut();
            headers.insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from_static("1"),
            );
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(
                axum::http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            );
            response
        }
    }
}
