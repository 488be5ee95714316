//! Application state shared by every handler.

use std::sync::Arc;
use std::time::Duration;

use esignet_core::Core;
use time::OffsetDateTime;

use crate::admin::AdminAuth;
use esignet_core::ClientManager;

/// HTTP-layer settings.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Path prefix of the API (`/v1/esignet`).
    pub base_path: String,
    /// Allowed skew of `requestTime` in wrapped requests.
    pub request_time_leeway: Duration,
    /// Whether the CSRF cookie carries `Secure`.
    pub csrf_cookie_secure: bool,
    /// Maximum request body size.
    pub max_body_bytes: usize,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Requests served at once before new ones are shed with 503 (`None`: no limit).
    pub max_in_flight: Option<usize>,
    /// The login pages (`/authorize`, `/login`, ...); `None` serves the API only.
    pub ui: Option<esignet_ui::UiConfig>,
    /// Routes of optional modules mounted beside the provider (signup), for the OpenAPI
    /// document.
    pub extra_openapi: Vec<crate::openapi::Endpoint>,
}

struct Inner {
    core: Arc<Core>,
    config: WebConfig,
    admin: AdminAuth,
    clients: ClientManager,
    /// The OpenAPI document, rendered once.
    openapi_json: String,
}

/// The state handed to every handler (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Builds the state.
    pub fn new(
        core: Arc<Core>,
        config: WebConfig,
        admin: AdminAuth,
        clients: ClientManager,
    ) -> Self {
        let openapi_json = crate::openapi::document_json(
            &core.config().issuer,
            &config.base_path,
            &config.extra_openapi,
        );
        Self(Arc::new(Inner {
            core,
            config,
            admin,
            clients,
            openapi_json,
        }))
    }

    /// The domain service.
    pub fn core(&self) -> &Core {
        &self.0.core
    }

    /// HTTP settings.
    pub fn config(&self) -> &WebConfig {
        &self.0.config
    }

    /// Admin API authentication.
    pub fn admin(&self) -> &AdminAuth {
        &self.0.admin
    }

    /// Client management.
    pub fn clients(&self) -> &ClientManager {
        &self.0.clients
    }

    /// The OpenAPI document as JSON.
    pub fn openapi_json(&self) -> &str {
        &self.0.openapi_json
    }

    /// The current time from the injected clock.
    pub fn now(&self) -> OffsetDateTime {
        self.0.core.clock().now()
    }
}
