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
pub mod routes;
mod state;
pub mod wrapper;

use axum::Router;
use axum::routing::get;

pub use admin::{AdminAuth, AdminConfig, IamConfig};
pub use esignet_ui::UiConfig;
pub use state::{AppState, WebConfig};

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let base = state.config().base_path.clone();
    // CSRF guards the browser-facing API only (eSignet §2.5); client-mgmt is bearer-protected.
    let browser_api = routes::authorization::routes()
        .merge(routes::linked::browser_routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::require_csrf,
        ));
    let api = Router::new()
        .merge(routes::oidc::routes())
        .merge(browser_api)
        .merge(routes::captcha::routes())
        .merge(routes::client_mgmt::routes())
        // Wallet apps, not browsers: no CSRF (eSignet §2.5).
        .merge(routes::binding::routes())
        .merge(routes::linked::wallet_routes())
        .route("/csrf/token", get(csrf::csrf_token))
        .route("/actuator/health", get(health));
    let app = Router::new()
        .nest(&base, api)
        .merge(routes::oidc::well_known_routes())
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

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "UP" }))
}
