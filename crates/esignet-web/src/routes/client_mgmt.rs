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
