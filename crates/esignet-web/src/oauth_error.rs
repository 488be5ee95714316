//! Error rendering of the OAuth endpoints (`/oauth/par`, `/oauth/token`, `/oauth/v2/token`):
//! RFC 6749 §5.2 bodies with `Cache-Control: no-store`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use esignet_core::{Error, codes};

/// Codes that are themselves RFC 6749 / 9449 `error` values; every other eSignet code is
/// reported as `invalid_request` with the code as description (eSignet §2.2).
const STANDARD_CODES: [&str; 5] = [
    codes::INVALID_CLIENT,
    codes::UNSUPPORTED_GRANT_TYPE,
    codes::INVALID_SCOPE,
    codes::INVALID_GRANT,
    codes::INVALID_DPOP_PROOF,
];

/// An OAuth endpoint failure.
#[derive(Debug)]
pub struct OAuthError(pub Error);

impl From<Error> for OAuthError {
    fn from(error: Error) -> Self {
        OAuthError(error)
    }
}

fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (status, error, description) = match &self.0 {
            Error::Code(code) if STANDARD_CODES.contains(&code.as_ref()) => {
                (StatusCode::BAD_REQUEST, code.to_string(), code.to_string())
            }
            // An unknown or inactive client is a client authentication failure (RFC 6749 §5.2,
            // RFC 9126 §2.3), with eSignet's code kept as the description. 400, not 401: the
            // client authenticates in the body (private_key_jwt), not with an Authorization header.
            Error::Code(code) if code == codes::INVALID_CLIENT_ID => (
                StatusCode::BAD_REQUEST,
                codes::INVALID_CLIENT.to_owned(),
                code.to_string(),
            ),
            Error::Code(code) => (
                StatusCode::BAD_REQUEST,
                codes::INVALID_REQUEST.to_owned(),
                code.to_string(),
            ),
            Error::OAuth { error, description } => (
                StatusCode::BAD_REQUEST,
                (*error).to_owned(),
                description.to_string(),
            ),
            Error::UseDpopNonce(_) => (
                StatusCode::BAD_REQUEST,
                codes::USE_DPOP_NONCE.to_owned(),
                "Authorization server requires nonce in DPoP proof".to_owned(),
            ),
            Error::Unavailable(detail) => {
                tracing::error!(%detail, "dependency unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable".to_owned(),
                    codes::SERVICE_UNAVAILABLE.to_owned(),
                )
            }
        };
        let body = serde_json::json!({ "error": error, "error_description": description });
        let mut response = (status, body.to_string()).into_response();
        no_store(&mut response);
        let headers = response.headers_mut();
        match &self.0 {
            Error::UseDpopNonce(nonce) => {
                if let Ok(value) = HeaderValue::from_str(nonce) {
                    headers.insert("DPoP-Nonce", value);
                }
                headers.insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static("DPoP-Nonce, WWW-Authenticate"),
                );
            }
            Error::Code(code) if code == codes::INVALID_DPOP_PROOF => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "DPoP error=\"invalid_dpop_proof\", error_description=\"invalid_dpop_proof\", algs=\"ES256 PS256 RS256\"",
                    ),
                );
            }
            Error::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}
