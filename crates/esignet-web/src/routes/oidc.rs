//! The relying party's endpoints: discovery, JWKS, PAR, token and userinfo.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use esignet_core::api::{ParForm, TokenForm};
use esignet_core::dpop::DpopProof;
use esignet_core::{Error, TokenScheme, TokenVersion, codes};
use serde::de::DeserializeOwned;

use crate::oauth_error::OAuthError;
use crate::state::AppState;

/// Routes under the base path.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/oidc/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route(
            "/oauth/.well-known/oauth-authorization-server",
            get(authorization_server_metadata),
        )
        .route("/oauth/.well-known/jwks.json", get(jwks))
        .route("/oauth/par", post(par))
        .route("/oauth/v2/token", post(token_v2))
        .route("/oauth/token", post(token_v1))
        .route("/oidc/userinfo", get(userinfo).post(userinfo))
}

/// The root `/.well-known/*` aliases (what eSignet's nginx maps).
pub fn well_known_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorization_server_metadata),
        )
        .route("/.well-known/jwks.json", get(jwks))
}

fn public_json(body: serde_json::Value) -> Response {
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

async fn openid_configuration(State(state): State<AppState>) -> Response {
    public_json(state.core().openid_configuration())
}

async fn authorization_server_metadata(State(state): State<AppState>) -> Response {
    public_json(state.core().authorization_server_metadata())
}

async fn jwks(State(state): State<AppState>) -> Response {
    public_json(state.core().jwks().await)
}

/// Why a form body was refused.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FormRejection {
    /// Not `application/x-www-form-urlencoded` (HTTP 415).
    UnsupportedMediaType,
    /// Undecodable, or a parameter repeated (RFC 6749 §3.1).
    Malformed,
}

impl IntoResponse for FormRejection {
    fn into_response(self) -> Response {
        let mut response = OAuthError(Error::code(codes::INVALID_REQUEST)).into_response();
        if let FormRejection::UnsupportedMediaType = self {
            *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        }
        response
    }
}

/// Parses an `application/x-www-form-urlencoded` body (the only type the OAuth endpoints take).
pub(crate) fn parse_form<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, FormRejection> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(FormRejection::UnsupportedMediaType);
    }
    serde_urlencoded::from_bytes(body).map_err(|_| FormRejection::Malformed)
}

/// Every `DPoP` header value (there must be at most one).
fn dpop_headers(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all("DPoP")
        .iter()
        .map(|v| v.to_str().unwrap_or_default())
        .collect()
}

async fn validate_proof(
    state: &AppState,
    headers: &HeaderMap,
    method: &str,
    htu: &str,
) -> Result<Option<DpopProof>, Error> {
    let values = dpop_headers(headers);
    state.core().validate_dpop_proof(&values, method, htu).await
}

async fn par(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let htu = state.core().config().par_endpoint.clone();
    let proof = match validate_proof(&state, &headers, "POST", &htu).await {
        Ok(proof) => proof,
        Err(error) => return OAuthError(error).into_response(),
    };
    let form: ParForm = match parse_form(&headers, &body) {
        Ok(form) => form,
        Err(rejection) => return rejection.into_response(),
    };
    let jkt = proof.map(|p| p.jkt);
    match state
        .core()
        .pushed_authorization_request(form, jkt.clone())
        .await
    {
        Ok(response) => {
            // RFC 9449 §8: a server nonce handed out with the PAR response lets the client's
            // first token request succeed instead of drawing a `use_dpop_nonce` challenge.
            let nonce = match &jkt {
                Some(jkt) => match state.core().issue_dpop_nonce(jkt).await {
                    Ok(nonce) => Some(nonce),
                    Err(error) => return OAuthError(error).into_response(),
                },
                None => None,
            };
            let mut response = (
                StatusCode::CREATED,
                serde_json::to_string(&response).unwrap_or_default(),
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Some(nonce) = nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
                headers.insert("DPoP-Nonce", nonce);
                headers.insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static("DPoP-Nonce"),
                );
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => OAuthError(error).into_response(),
    }
}

async fn token_v2(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    token(state, TokenVersion::V2, headers, body).await
}

async fn token_v1(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    token(state, TokenVersion::V1, headers, body).await
}

async fn token(
    state: AppState,
    version: TokenVersion,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let proof = if version == TokenVersion::V2 {
        let htu = state.core().config().token_endpoint.clone();
        match validate_proof(&state, &headers, "POST", &htu).await {
            Ok(proof) => proof,
            Err(error) => return OAuthError(error).into_response(),
        }
    } else {
        None
    };
    let form: TokenForm = match parse_form(&headers, &body) {
        Ok(form) => form,
        Err(rejection) => return rejection.into_response(),
    };
    match state.core().token(version, form, proof).await {
        Ok(outcome) => {
            let mut response = (
                StatusCode::OK,
                serde_json::to_string(&outcome.response).unwrap_or_default(),
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            if let Some(nonce) = outcome
                .dpop_nonce
                .and_then(|n| HeaderValue::from_str(&n).ok())
            {
                headers.insert("DPoP-Nonce", nonce);
                headers.insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static("DPoP-Nonce"),
                );
            }
            response
        }
        Err(error) => OAuthError(error).into_response(),
    }
}

/// A userinfo failure: 401 with `WWW-Authenticate` (RFC 6750 §3, RFC 9449 §7.1), never a body.
fn userinfo_error(status: StatusCode, challenge: String, nonce: Option<String>) -> Response {
    let mut response = status.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        headers.insert(header::WWW_AUTHENTICATE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(nonce) = nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
        headers.insert("DPoP-Nonce", nonce);
    }
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("DPoP-Nonce, WWW-Authenticate"),
    );
    response
}

async fn userinfo(State(state): State<AppState>, method: Method, headers: HeaderMap) -> Response {
    let algs = state
        .core()
        .config()
        .dpop_algs
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let authorizations: Vec<&str> = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let (scheme, token) = match authorizations.as_slice() {
        [] => {
            return userinfo_error(
                StatusCode::UNAUTHORIZED,
                format!("Bearer, DPoP algs=\"{algs}\""),
                None,
            );
        }
        [one] => match one.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                (TokenScheme::Bearer, token.trim())
            }
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("dpop") => {
                (TokenScheme::Dpop, token.trim())
            }
            _ => {
                return userinfo_error(
                    StatusCode::UNAUTHORIZED,
                    "Bearer error=\"invalid_token\"".into(),
                    None,
                );
            }
        },
        _ => {
            return userinfo_error(
                StatusCode::BAD_REQUEST,
                "Bearer error=\"invalid_request\"".into(),
                None,
            );
        }
    };
    let htu = state.core().config().userinfo_endpoint.clone();
    let proof = match validate_proof(&state, &headers, method.as_str(), &htu).await {
        Ok(proof) => proof,
        Err(_) => {
            return userinfo_error(
                StatusCode::UNAUTHORIZED,
                format!("DPoP error=\"invalid_dpop_proof\", algs=\"{algs}\""),
                None,
            );
        }
    };
    let scheme_name = if scheme == TokenScheme::Dpop {
        "DPoP"
    } else {
        "Bearer"
    };
    match state.core().userinfo(scheme, token, proof).await {
        Ok(body) => {
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/jwt"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(Error::UseDpopNonce(nonce)) => userinfo_error(
            StatusCode::UNAUTHORIZED,
            "DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\"".into(),
            Some(nonce),
        ),
        Err(Error::Code(code)) if code == codes::INVALID_DPOP_PROOF => userinfo_error(
            StatusCode::UNAUTHORIZED,
            format!("DPoP error=\"invalid_dpop_proof\", algs=\"{algs}\""),
            None,
        ),
        Err(Error::Unavailable(detail)) => {
            tracing::error!(%detail, "dependency unavailable");
            let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
        Err(_) => userinfo_error(StatusCode::UNAUTHORIZED, format!("{scheme_name} error=\"invalid_token\""), None),
    }
}
