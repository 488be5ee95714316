//! The HTTP layer of eSignet-rs: the only crate that knows HTTP.
//!
//! It maps eSignet's wire API (paths under the base path `/v1/esignet`, the root
//! `/.well-known/*` aliases) onto `esignet_core::Core`, and renders errors the way each surface
//! expects: wrapped APIs answer HTTP 200 with `errors[]`, OAuth endpoints answer RFC 6749 error
//! bodies with `Cache-Control: no-store`, userinfo answers 401 with `WWW-Authenticate`.

mod admin;
pub mod csrf;
mod middleware;
pub mod oauth_error;
pub mod openapi;
pub mod routes;
mod state;
pub mod wrapper;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use esignet_telemetry::Metrics;

pub use admin::{AdminAuth, AdminConfig, IamConfig};
pub use esignet_ui::UiConfig;
pub use state::{AppState, WebConfig};

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let base = state.config().base_path.clone();
    // CSRF guards the browser-facing API only (eSignet §2.5); client-mgmt is bearer-protected.
    let browser_api = routes::authorization::routes()
        .merge(routes::linked::browser_routes())
        .merge(routes::signup_redirect::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::require_csrf,
        ));
    let api = Router::new()
        .merge(routes::oidc::routes())
        .merge(routes::session::routes())
        .merge(browser_api)
        .merge(routes::captcha::routes())
        .merge(routes::client_mgmt::routes())
        // Wallet apps, not browsers: no CSRF (eSignet §2.5).
        .merge(routes::binding::routes())
        .merge(routes::linked::wallet_routes())
        .route("/csrf/token", get(csrf::csrf_token))
        .route("/actuator/health", get(health))
        .route("/openapi.json", get(openapi_document));
    let app = Router::new()
        .nest(&base, api)
        .merge(routes::oidc::well_known_routes())
        .route("/openapi.json", get(openapi_document))
        .with_state(state.clone())
        .merge(
            state
                .config()
                .ui
                .clone()
                .map(esignet_ui::router)
                .unwrap_or_default(),
        );
    middleware::apply(app, state.config())
}

/// [`router`] with every request counted into `metrics` (served by [`metrics_router`]).
pub fn router_with_metrics(state: AppState, metrics: Arc<Metrics>) -> Router {
    router(state).layer(axum::middleware::from_fn_with_state(
        metrics,
        middleware::record_metrics,
    ))
}

/// The metrics listener's router: `GET /metrics` in the Prometheus text format. It is served
/// on its own address so the public listener never exposes operational data.
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }
        }),
    )
}

/// `GET /openapi.json`: the OpenAPI 3.1 document of every route ([`openapi`]).
async fn openapi_document(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        state.openapi_json().to_owned(),
    )
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "UP" }))
}
