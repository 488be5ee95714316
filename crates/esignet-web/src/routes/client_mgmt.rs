//! The client-management API (eSignet §3.10 and the 1.8 PATCH): relying-party registration for
//! administrators. Every handler authenticates the bearer token first (see [`crate::admin`];
//! POST needs `add_oidc_client`, PUT and PATCH `update_oidc_client`), then reads the wrapped
//! request, calls [`esignet_core::ClientManager`] and wraps its `{clientId, status}` answer.
//! Failures after authentication are eSignet's wrapped errors (HTTP 200 with `errors[]`).
//! No CSRF: these are not browser endpoints.

use std::future::Future;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use esignet_core::client_mgmt::{
    ClientResponse, CreateClientV1Request, CreateClientV2Request, CreateClientV3Request,
    PatchClientRequest, UpdateClientV1Request, UpdateClientV2Request, UpdateClientV3Request,
};
use serde::de::DeserializeOwned;

use crate::admin::{SCOPE_ADD_CLIENT, SCOPE_UPDATE_CLIENT};
use crate::state::AppState;
use crate::wrapper::{WrappedError, parse_wrapped, wrapped};

/// Routes relative to the base path.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/client-mgmt/oidc-client", post(create_oidc_client))
        .route(
            "/client-mgmt/oidc-client/{client_id}",
            put(update_oidc_client),
        )
        .route("/client-mgmt/oauth-client", post(create_oauth_client))
        .route(
            "/client-mgmt/oauth-client/{client_id}",
            put(update_oauth_client),
        )
        .route("/client-mgmt/client", post(create_client))
        .route(
            "/client-mgmt/client/{client_id}",
            put(update_client).patch(patch_client),
        )
}

async fn create_oidc_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(state, &headers, body, SCOPE_ADD_CLIENT, |state, request: CreateClientV1Request| async move {
        state.clients().create_v1(request).await
    })
    .await
}

async fn create_oauth_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(state, &headers, body, SCOPE_ADD_CLIENT, |state, request: CreateClientV2Request| async move {
        state.clients().create_v2(request).await
    })
    .await
}

async fn create_client(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    handle(state, &headers, body, SCOPE_ADD_CLIENT, |state, request: CreateClientV3Request| async move {
        state.clients().create_v3(request).await
    })
    .await
}

async fn update_oidc_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(
        state,
        &headers,
        body,
        SCOPE_UPDATE_CLIENT,
        move |state, request: UpdateClientV1Request| async move {
            state.clients().update_v1(&client_id, request).await
        },
    )
    .await
}

async fn update_oauth_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(
        state,
        &headers,
        body,
        SCOPE_UPDATE_CLIENT,
        move |state, request: UpdateClientV2Request| async move {
            state.clients().update_v2(&client_id, request).await
        },
    )
    .await
}

async fn update_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(
        state,
        &headers,
        body,
        SCOPE_UPDATE_CLIENT,
        move |state, request: UpdateClientV3Request| async move {
            state.clients().update_v3(&client_id, request).await
        },
    )
    .await
}

async fn patch_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(
        state,
        &headers,
        body,
        SCOPE_UPDATE_CLIENT,
        move |state, request: PatchClientRequest| async move {
            state.clients().patch(&client_id, request).await
        },
    )
    .await
}

/// Authenticate, read and unwrap the body, call the manager, wrap the outcome.
async fn handle<T, F, Fut>(
    state: AppState,
    headers: &HeaderMap,
    body: Body,
    scope: &str,
    call: F,
) -> Response
where
    T: DeserializeOwned,
    F: FnOnce(AppState, T) -> Fut,
    Fut: Future<Output = esignet_core::Result<ClientResponse>>,
{
    if let Err(rejection) = state.admin().authorize(headers, scope).await {
        return rejection.into_response();
    }
    // The body is read only once the caller is authenticated, so an anonymous request cannot
    // make us buffer up to the size limit. A read error is an oversized body or a client that
    // went away; the latter never sees the answer.
    let body = match axum::body::to_bytes(body, state.config().max_body_bytes).await {
        Ok(body) => body,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let request = match parse_wrapped::<T>(&state, &body) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    match call(state.clone(), request).await {
        Ok(response) => wrapped(&state, &response).into_response(),
        Err(error) => WrappedError::from_core(&state, error).into_response(),
    }
}

#[cfg(test)]
mod tests {
    //! The HTTP contract of the routes: authentication first, wrapped bodies, eSignet's
    //! HTTP-200 errors. The domain behind them has its own tests in `esignet_core`.

    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::body::Bytes;
    use axum::http::{Method, Request, header};
    use esignet_core::acr::AcrMapping;
    use esignet_core::{ClientManager, Core, CoreConfig, CoreDeps};
    use esignet_jose::Algorithm;
    use esignet_spi::{
        AuditEvent, AuditSink, Authenticator, Cache, CacheError, ClientRecord, ClientStore,
        ConsentRecord, ConsentStore, KycAuthRequest, KycAuthResult, KycExchangeRequest,
        KycExchangeResult, ManualClock, PluginError, SendOtpRequest, SendOtpResult, SignerError,
        SigningCertificate, StoreError, Subscription, TokenSigner,
    };
    use serde_json::{Map, Value, json};
    use time::macros::datetime;
    use tower::ServiceExt;

    use super::*;
    use crate::admin::{AdminAuth, AdminConfig};
    use crate::state::WebConfig;

    const TOKEN: &str = "route-test-admin-token-0123456789abcdef";
    const MAX_BODY: usize = 16 * 1024;

    /// Clients in a map; `None` means the database is down.
    #[derive(Default)]
    struct MemoryClients(Option<Mutex<HashMap<String, ClientRecord>>>);

    fn down() -> StoreError {
        StoreError::Unavailable("database down".into())
    }

    #[async_trait::async_trait]
    impl ClientStore for MemoryClients {
        async fn get_client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
            Ok(self
                .0
                .as_ref()
                .ok_or_else(down)?
                .lock()
                .unwrap()
                .get(id)
                .cloned())
        }
        async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
            let mut clients = self.0.as_ref().ok_or_else(down)?.lock().unwrap();
            if clients.contains_key(&client.client_id) {
                return Err(StoreError::Conflict("client_id"));
            }
            clients.insert(client.client_id.clone(), client.clone());
            Ok(())
        }
        async fn update_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
            let mut clients = self.0.as_ref().ok_or_else(down)?.lock().unwrap();
            let stored = clients
                .get_mut(&client.client_id)
                .ok_or(StoreError::NotFound)?;
            *stored = client.clone();
            Ok(())
        }
    }

    /// The seams client management never touches; every call fails.
    struct Unused;

    #[async_trait::async_trait]
    impl ConsentStore for Unused {
        async fn get_consent(&self, _: &str, _: &str) -> Result<Option<ConsentRecord>, StoreError> {
            Err(down())
        }
        async fn save_consent(&self, _: &ConsentRecord) -> Result<(), StoreError> {
            Err(down())
        }
        async fn delete_consent(&self, _: &str, _: &str) -> Result<(), StoreError> {
            Err(down())
        }
        async fn consent_history(
            &self,
            _: &str,
            _: &str,
        ) -> Result<Vec<ConsentRecord>, StoreError> {
            Err(down())
        }
    }

    fn cache_down() -> CacheError {
        CacheError::Unavailable("unused".into())
    }

    #[async_trait::async_trait]
    impl Cache for Unused {
        async fn put(&self, _: &str, _: &str, _: Vec<u8>, _: Duration) -> Result<(), CacheError> {
            Err(cache_down())
        }
        async fn get(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, CacheError> {
            Err(cache_down())
        }
        async fn take(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, CacheError> {
            Err(cache_down())
        }
        async fn delete(&self, _: &str, _: &str) -> Result<(), CacheError> {
            Err(cache_down())
        }
        async fn put_if_absent(
            &self,
            _: &str,
            _: &str,
            _: Vec<u8>,
            _: Duration,
        ) -> Result<bool, CacheError> {
            Err(cache_down())
        }
        async fn increment(&self, _: &str, _: &str, _: Duration) -> Result<u64, CacheError> {
            Err(cache_down())
        }
        async fn publish(&self, _: &str, _: &str) -> Result<(), CacheError> {
            Err(cache_down())
        }
        async fn subscribe(&self, _: &str) -> Result<Subscription, CacheError> {
            Err(cache_down())
        }
    }

    #[async_trait::async_trait]
    impl Authenticator for Unused {
        async fn send_otp(
            &self,
            _: &str,
            _: &str,
            _: SendOtpRequest,
        ) -> Result<SendOtpResult, PluginError> {
            Err(PluginError::new("unused"))
        }
        fn is_supported_otp_channel(&self, _: &str) -> bool {
            false
        }
        async fn kyc_auth(
            &self,
            _: &str,
            _: &str,
            _: bool,
            _: KycAuthRequest,
        ) -> Result<KycAuthResult, PluginError> {
            Err(PluginError::new("unused"))
        }
        async fn kyc_exchange(
            &self,
            _: &str,
            _: &str,
            _: KycExchangeRequest,
        ) -> Result<KycExchangeResult, PluginError> {
            Err(PluginError::new("unused"))
        }
        async fn kyc_signing_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
            Err(PluginError::new("unused"))
        }
    }

    impl TokenSigner for Unused {
        fn sign_jws(&self, _: Option<&str>, _: &[u8]) -> Result<String, SignerError> {
            Err(SignerError::NoActiveKey)
        }
        fn algorithm(&self) -> &'static str {
            "RS256"
        }
        fn certificates(&self) -> Vec<SigningCertificate> {
            Vec::new()
        }
        fn public_jwks(&self) -> Vec<Value> {
            Vec::new()
        }
        fn verify_jws(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
    }

    impl AuditSink for Unused {
        fn record(&self, _: AuditEvent) {}
    }

    fn core_config() -> CoreConfig {
        let url = |path: &str| format!("https://esignet.example.org{path}");
        let minutes = |count: u64| Duration::from_secs(count * 60);
        CoreConfig {
            issuer: url(""),
            authorization_endpoint: url("/authorize"),
            token_endpoint: url("/v1/esignet/oauth/v2/token"),
            token_endpoint_v1: url("/v1/esignet/oauth/token"),
            par_endpoint: url("/v1/esignet/oauth/par"),
            userinfo_endpoint: url("/v1/esignet/oidc/userinfo"),
            introspection_endpoint: url("/v1/esignet/oauth/introspect"),
            revocation_endpoint: url("/v1/esignet/oauth/revoke"),
            end_session_endpoint: url("/v1/esignet/oidc/logout"),
            jwks_uri: url("/.well-known/jwks.json"),
            openid_scopes: vec!["openid".into()],
            authorize_scopes: Vec::new(),
            claims_supported: vec!["name".into()],
            verified_claims_supported: Vec::new(),
            trust_frameworks_supported: Vec::new(),
            claims_locales_supported: Vec::new(),
            ui_locales_supported: Vec::new(),
            acr_values_supported: Vec::new(),
            acr: AcrMapping::default(),
            fapi2_profile: false,
            id_token_lifetime: minutes(60),
            access_token_lifetime: minutes(60),
            auth_code_lifetime: minutes(5),
            preauth_ttl: minutes(5),
            authenticated_ttl: minutes(5),
            par_ttl: minutes(1),
            nonce_ttl: minutes(10),
            jti_ttl: minutes(10),
            rate_limit_window: minutes(5),
            block_ttl: minutes(5),
            send_otp_attempts: 3,
            authenticate_attempts: 3,
            auth_txn_id_length: 10,
            request_time_leeway: minutes(2),
            client_assertion_leeway: minutes(1),
            dpop_clock_skew: minutes(1),
            dpop_iat_window: minutes(1),
            dpop_nonce_ttl: minutes(1),
            dpop_algs: vec![Algorithm::ES256],
            client_assertion_algs: vec![Algorithm::RS256],
            ui_configs: Map::new(),
        }
    }

    fn app(clients: MemoryClients) -> Router {
        let clock = Arc::new(ManualClock::new(datetime!(2025-03-01 10:00:00 UTC)));
        let store: Arc<MemoryClients> = Arc::new(clients);
        let unused = Arc::new(Unused);
        let core = Core::new(
            core_config(),
            CoreDeps {
                clients: store.clone(),
                consents: unused.clone(),
                cache: unused.clone(),
                authenticator: unused.clone(),
                signer: unused.clone(),
                audit: unused.clone(),
                clock: clock.clone(),
                transaction_key: [7; 32],
            },
        );
        let manager = ClientManager::new(
            store,
            clock.clone(),
            unused,
            vec!["name".into(), "email".into()],
            vec!["mosip:idp:acr:generated-code".into()],
        );
        let admin = AdminAuth::new(
            AdminConfig {
                static_token: Some(TOKEN.into()),
                iam: None,
            },
            clock,
        );
        let web = WebConfig {
            base_path: "/v1/esignet".into(),
            request_time_leeway: Duration::from_secs(120),
            csrf_cookie_secure: false,
            max_body_bytes: MAX_BODY,
            request_timeout: Duration::from_secs(10),
            ui: None,
            extra_openapi: Vec::new(),
            max_in_flight: None,
        };
        routes().with_state(AppState::new(Arc::new(core), web, admin, manager))
    }

    fn working_app() -> Router {
        app(MemoryClients(Some(Mutex::default())))
    }

    fn wrap(request: Value) -> String {
        json!({"requestTime": "2025-03-01T10:00:00.000Z", "request": request}).to_string()
    }

    fn create_body(client_id: &str) -> Value {
        json!({
            "clientId": client_id,
            "clientName": "Portal",
            "clientNameLangMap": {"eng": "Portal"},
            "publicKey": esignet_jose::PrivateKey::generate_ec_p256().unwrap().public_jwk().to_json(),
            "relyingPartyId": "rp",
            "userClaims": ["name"],
            "authContextRefs": ["mosip:idp:acr:generated-code"],
            "logoUri": "https://rp.example.org/logo.png",
            "redirectUris": ["https://rp.example.org/cb"],
            "grantTypes": ["authorization_code"],
            "clientAuthMethods": ["private_key_jwt"],
            "additionalConfig": {},
        })
    }

    fn update_body(status: &str) -> Value {
        json!({
            "clientName": "Portal 2",
            "clientNameLangMap": {"fra": "Portail"},
            "logoUri": "https://rp.example.org/logo.png",
            "redirectUris": ["https://rp.example.org/cb"],
            "userClaims": ["email"],
            "authContextRefs": ["mosip:idp:acr:generated-code"],
            "status": status,
            "grantTypes": ["authorization_code"],
            "clientAuthMethods": ["private_key_jwt"],
            "additionalConfig": {},
        })
    }

    /// Removes the fields a version does not have.
    fn without(mut body: Value, fields: &[&str]) -> Value {
        for field in fields {
            body.as_object_mut().unwrap().remove(*field);
        }
        body
    }

    async fn call(
        app: &Router,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: String,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes: Bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            headers,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn error_code(body: &Value) -> &str {
        body["errors"][0]["errorCode"].as_str().unwrap_or_default()
    }

    #[tokio::test]
    async fn every_route_authenticates_before_reading_the_body() {
        let app = working_app();
        let routes = [
            (Method::POST, "/client-mgmt/oidc-client"),
            (Method::PUT, "/client-mgmt/oidc-client/c1"),
            (Method::POST, "/client-mgmt/oauth-client"),
            (Method::PUT, "/client-mgmt/oauth-client/c1"),
            (Method::POST, "/client-mgmt/client"),
            (Method::PUT, "/client-mgmt/client/c1"),
            (Method::PATCH, "/client-mgmt/client/c1"),
        ];
        for (method, path) in routes {
            for token in [None, Some("wrong-token")] {
                let (status, headers, body) =
                    call(&app, method.clone(), path, token, "not json".into()).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
                assert_eq!(
                    headers[header::WWW_AUTHENTICATE],
                    "Bearer error=\"invalid_token\""
                );
                assert_eq!(body["error"], "invalid_token");
            }
        }
    }

    #[tokio::test]
    async fn clients_are_created_updated_and_patched_through_every_version() {
        let app = working_app();
        let created = [
            (
                "/client-mgmt/oidc-client",
                "v1",
                &["clientNameLangMap", "additionalConfig"][..],
            ),
            ("/client-mgmt/oauth-client", "v2", &["additionalConfig"][..]),
            ("/client-mgmt/client", "v3", &[][..]),
        ];
        for (path, client_id, absent) in created {
            let body = wrap(without(create_body(client_id), absent));
            let (status, _, body) = call(&app, Method::POST, path, Some(TOKEN), body).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(
                body["response"],
                json!({"clientId": client_id, "status": "ACTIVE"})
            );
            assert_eq!(body["errors"], json!([]));
            assert_eq!(body["responseTime"], "2025-03-01T10:00:00.000Z");
        }
        let updated = [
            (
                "/client-mgmt/oidc-client/v1",
                &["clientNameLangMap", "additionalConfig"][..],
            ),
            ("/client-mgmt/oauth-client/v2", &["additionalConfig"][..]),
            ("/client-mgmt/client/v3", &[][..]),
        ];
        for (path, absent) in updated {
            let body = wrap(without(update_body("INACTIVE"), absent));
            let (status, _, body) = call(&app, Method::PUT, path, Some(TOKEN), body).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(body["response"]["status"], "INACTIVE", "{path}: {body}");
        }
        let patch = wrap(json!({"status": "ACTIVE"}));
        let (status, _, body) = call(
            &app,
            Method::PATCH,
            "/client-mgmt/client/v3",
            Some(TOKEN),
            patch,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["response"],
            json!({"clientId": "v3", "status": "ACTIVE"})
        );
    }

    #[tokio::test]
    async fn failures_are_wrapped_errors() {
        let app = working_app();
        let post = |body: String| {
            let app = app.clone();
            async move { call(&app, Method::POST, "/client-mgmt/client", Some(TOKEN), body).await }
        };
        let cases = [
            (wrap(json!({"clientId": "c1"})), "invalid_client_name"),
            (wrap(json!({"unknownField": 1})), "unknown_error"),
            ("{not json".to_owned(), "unknown_error"),
            (
                json!({"requestTime": "2025-03-01T09:00:00.000Z", "request": create_body("c1")})
                    .to_string(),
                "invalid_request",
            ),
            (
                json!({"requestTime": "2025-03-01T10:00:00.000Z"}).to_string(),
                "invalid_request",
            ),
        ];
        for (body, expected) in cases {
            let (status, _, answer) = post(body.clone()).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(error_code(&answer), expected, "{body}");
            assert_eq!(answer["response"], Value::Null);
        }
        post(wrap(create_body("c1"))).await;
        let (_, _, answer) = post(wrap(create_body("c1"))).await;
        assert_eq!(error_code(&answer), "duplicate_client_id");
        assert_eq!(answer["errors"][0]["errorMessage"], "duplicate_client_id");

        let (status, _, answer) = call(
            &app,
            Method::PUT,
            "/client-mgmt/client/unknown",
            Some(TOKEN),
            wrap(update_body("ACTIVE")),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(error_code(&answer), "invalid_client_id");

        let oversized = wrap(json!({"clientName": "x".repeat(MAX_BODY)}));
        let (status, _, _) = post(oversized).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn a_store_outage_is_503() {
        let app = app(MemoryClients(None));
        let (status, _, body) = call(
            &app,
            Method::POST,
            "/client-mgmt/client",
            Some(TOKEN),
            wrap(create_body("c1")),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error_code(&body), "service_unavailable");
    }
}
