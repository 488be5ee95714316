//! The test server's kernel side: the auth manager's `authenticate/clientidsecretkey` (a token
//! in the `authorization` header for the right client id, secret key and app id, 401
//! otherwise) and the key
//! manager's `getAllCertificates` (the IDA signing certificate for application `IDA`,
//! reference `SIGN`, to holders of a token in the `Authorization` cookie; 401 otherwise;
//! another application or reference is `KER-KMS-002`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ServerState;

/// The kernel client id the test server accepts.
pub const TEST_KERNEL_CLIENT_ID: &str = "esignet-kernel-client";
/// The kernel secret key the test server accepts.
pub const TEST_KERNEL_SECRET_KEY: &str = "test-kernel-secret";
/// The kernel application id the test server accepts.
pub const TEST_KERNEL_APP_ID: &str = "ida";

pub(super) async fn auth_token(
    State(state): State<Arc<ServerState>>,
    Json(body): Json<Value>,
) -> Response {
    let request = &body["request"];
    let matches = request["clientId"] == TEST_KERNEL_CLIENT_ID
        && request["secretKey"] == TEST_KERNEL_SECRET_KEY
        && request["appId"] == TEST_KERNEL_APP_ID;
    if !matches {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let token = esignet_jose::random_id();
    state
        .kernel_tokens
        .lock()
        .expect("token lock")
        .push(token.clone());
    (
        [("authorization", token)],
        Json(json!({"response": {"status": "Success"}, "errors": null})),
    )
        .into_response()
}

pub(super) async fn all_certificates(
    State(state): State<Arc<ServerState>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let token = headers
        .get("cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|cookie| cookie.strip_prefix("Authorization="))
        .unwrap_or_default();
    let known = state
        .kernel_tokens
        .lock()
        .expect("token lock")
        .iter()
        .any(|issued| issued == token);
    if !known {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let wanted = query.get("applicationId").map(String::as_str) == Some("IDA")
        && query.get("referenceId").map(String::as_str) == Some("SIGN");
    if !wanted {
        return Json(json!({
            "response": null,
            "errors": [{"errorCode": "KER-KMS-002", "errorMessage": "ApplicationId not found in Key Policy"}],
        }))
        .into_response();
    }
    let certificate = &state.settings.ida_signing.1;
    let pem = String::from_utf8(certificate.to_pem().expect("PEM")).expect("ASCII");
    Json(json!({
        "response": {"allCertificates": [{
            "keyId": "ida-sign-1",
            "certificateData": pem,
            "issuedAt": "2024-01-01T00:00:00.000Z",
            "expiryAt": "2030-01-01T00:00:00.000Z",
        }]},
        "errors": null,
    }))
    .into_response()
}
