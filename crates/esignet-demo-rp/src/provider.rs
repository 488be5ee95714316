//! Talking to the OpenID provider: discovery and JWKS (cached, re-read on failure), and the
//! back-channel calls (PAR, token, userinfo) with `private_key_jwt` and DPoP nonce retries.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::StatusCode;
use esignet_jose::{DecodedJws, PrivateKey, PublicJwk};
use reqwest::header::{AUTHORIZATION, HeaderMap, WWW_AUTHENTICATE};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::client::{ClientKeys, dpop_proof};
use crate::error::LoginError;

/// The largest answer we read from the provider: userinfo can carry a photo, and the JWE layer
/// accepts up to 8 MiB; anything bigger is refused before it is buffered.
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The provider metadata the portal uses (OpenID Connect Discovery 1.0 §3).
#[derive(Debug, Deserialize)]
pub(crate) struct Discovery {
    /// The issuer identifier: ID tokens' `iss` and the callback's `iss` must equal it.
    pub issuer: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// Where the claims are fetched.
    pub userinfo_endpoint: String,
    /// The provider's signing keys (including the identity system's KYC keys).
    pub jwks_uri: String,
    /// The PAR endpoint (RFC 9126), when the provider has one.
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9207: when true, every authorization response must carry `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// The successful token response (RFC 6749 §5.1).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    /// The access token (never logged).
    pub access_token: String,
    /// `Bearer` or `DPoP`.
    pub token_type: String,
    /// The ID token (never logged).
    pub id_token: String,
}

/// The provider client. Cheap to share; caches are behind short-lived locks.
pub(crate) struct Provider {
    http: reqwest::Client,
    discovery_url: String,
    discovery: Mutex<Option<Arc<Discovery>>>,
    keys: Mutex<Option<Arc<Vec<PublicJwk>>>>,
}

/// DPoP context for one back-channel call.
pub(crate) struct Dpop<'a> {
    /// The per-login key.
    pub key: &'a PrivateKey,
    /// A nonce the provider already gave us, if any.
    pub nonce: Option<String>,
}

/// A finished call: status, headers and the body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Provider {
    /// A provider client reading its metadata from `discovery_url`.
    pub fn new(discovery_url: String) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            // Back-channel endpoints answer directly; following a redirect would resend the
            // client assertion and DPoP proof somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("esignet-demo-rp/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            discovery_url,
            discovery: Mutex::new(None),
            keys: Mutex::new(None),
        })
    }

    /// The provider metadata: cached after the first successful read.
    pub async fn discovery(&self) -> Result<Arc<Discovery>, LoginError> {
        if let Some(cached) = lock(&self.discovery).clone() {
            return Ok(cached);
        }
        let answer = self
            .send(self.http.get(&self.discovery_url), "discovery")
            .await?;
        if answer.status != StatusCode::OK {
            return Err(LoginError::unreachable(
                "The provider's discovery document could not be read.",
            ));
        }
        let discovery: Discovery = serde_json::from_slice(&answer.body).map_err(|_| {
            LoginError::unreachable("The provider's discovery document is not valid metadata.")
        })?;
        let discovery = Arc::new(discovery);
        *lock(&self.discovery) = Some(discovery.clone());
        Ok(discovery)
    }

    /// Forgets the cached metadata and keys, so the next call reads them again (after the
    /// provider was unreachable, or restarted with other endpoints or keys).
    pub fn forget(&self) {
        *lock(&self.discovery) = None;
        *lock(&self.keys) = None;
    }

    /// Verifies `jws` against the provider's JWKS: by `kid` when the header names one (reading
    /// the JWKS again once if the `kid` is unknown, as after a key rotation), otherwise with
    /// any key of the set.
    pub async fn verify_signature(
        &self,
        discovery: &Discovery,
        jws: &DecodedJws,
    ) -> Result<bool, LoginError> {
        if jws.alg().is_none() {
            return Ok(false);
        }
        let mut keys = self.keys(discovery, false).await?;
        let kid_known = |keys: &[PublicJwk]| {
            jws.kid()
                .is_none_or(|kid| keys.iter().any(|key| key.kid() == Some(kid)))
        };
        if !kid_known(&keys) {
            keys = self.keys(discovery, true).await?;
        }
        Ok(keys
            .iter()
            .filter(|key| jws.kid().is_none_or(|kid| key.kid() == Some(kid)))
            .any(|key| jws.verify(key)))
    }

    async fn keys(
        &self,
        discovery: &Discovery,
        refresh: bool,
    ) -> Result<Arc<Vec<PublicJwk>>, LoginError> {
        if !refresh && let Some(cached) = lock(&self.keys).clone() {
            return Ok(cached);
        }
        let answer = self
            .send(self.http.get(&discovery.jwks_uri), "JWKS")
            .await?;
        let set: Value = serde_json::from_slice(&answer.body)
            .ok()
            .filter(|_| answer.status == StatusCode::OK)
            .ok_or_else(|| LoginError::unreachable("The provider's JWKS could not be read."))?;
        // Keys we cannot use (other key types, encryption keys) are skipped, not fatal: the set
        // may legitimately hold them.
        let keys: Vec<PublicJwk> = set["keys"]
            .as_array()
            .map(|keys| {
                keys.iter()
                    .filter_map(|key| PublicJwk::from_json(key).ok())
                    .collect()
            })
            .unwrap_or_default();
        let keys = Arc::new(keys);
        *lock(&self.keys) = Some(keys.clone());
        Ok(keys)
    }

    /// Pushes an authorization request (RFC 9126) with a client assertion and, when given, a
    /// DPoP proof; returns the `request_uri`.
    pub async fn push_authorization_request(
        &self,
        endpoint: &str,
        client: &ClientKeys,
        params: Vec<(&'static str, String)>,
        dpop: Dpop<'_>,
        now: OffsetDateTime,
    ) -> Result<String, LoginError> {
        let answer = self
            .post_authenticated(endpoint, client, params, Some(dpop), now)
            .await?;
        if !answer.status.is_success() {
            return Err(oauth_error(
                &answer,
                "The identity provider refused the pushed authorization request.",
            ));
        }
        serde_json::from_slice::<Value>(&answer.body)
            .ok()
            .and_then(|body| body["request_uri"].as_str().map(str::to_owned))
            .ok_or_else(|| LoginError::unreachable("The PAR answer has no request_uri."))
    }

    /// Exchanges an authorization code. Returns the tokens and the `DPoP-Nonce` the provider
    /// sent with them (usable for the next proof).
    pub async fn exchange_code(
        &self,
        endpoint: &str,
        client: &ClientKeys,
        params: Vec<(&'static str, String)>,
        dpop: Option<Dpop<'_>>,
        now: OffsetDateTime,
    ) -> Result<(TokenResponse, Option<String>), LoginError> {
        let answer = self
            .post_authenticated(endpoint, client, params, dpop, now)
            .await?;
        if answer.status != StatusCode::OK {
            return Err(oauth_error(
                &answer,
                "The identity provider refused to exchange the authorization code.",
            ));
        }
        let tokens: TokenResponse = serde_json::from_slice(&answer.body).map_err(|_| {
            LoginError::unreachable("The token response has no access token or ID token.")
        })?;
        Ok((tokens, dpop_nonce(&answer.headers)))
    }

    /// Fetches userinfo with the access token (`Bearer`, or `DPoP` with a proof carrying
    /// `ath`); returns the raw body (a compact JWS or JWE).
    pub async fn userinfo(
        &self,
        endpoint: &str,
        tokens: &TokenResponse,
        dpop: Option<Dpop<'_>>,
        now: OffsetDateTime,
    ) -> Result<String, LoginError> {
        let scheme = if tokens.token_type.eq_ignore_ascii_case("DPoP") {
            "DPoP"
        } else {
            "Bearer"
        };
        // A DPoP key with a bearer token is not sent: the proof would bind nothing.
        let dpop = dpop.filter(|_| scheme == "DPoP");
        let authorization = format!("{scheme} {}", tokens.access_token);
        let answer = self
            .with_dpop_retry(
                dpop,
                "GET",
                endpoint,
                Some(&tokens.access_token),
                now,
                |proof| {
                    let request = self
                        .http
                        .get(endpoint)
                        .header(AUTHORIZATION, &authorization);
                    async move {
                        Ok(match proof {
                            Some(proof) => request.header("DPoP", proof),
                            None => request,
                        })
                    }
                },
            )
            .await?;
        if answer.status != StatusCode::OK {
            return Err(userinfo_error(&answer));
        }
        String::from_utf8(answer.body)
            .map(|body| body.trim().to_owned())
            .map_err(|_| LoginError::unreachable("The userinfo answer is not text."))
    }

    /// POSTs a form with a fresh client assertion per attempt (the provider may have recorded
    /// the first assertion's `jti` before asking for a DPoP nonce).
    async fn post_authenticated(
        &self,
        endpoint: &str,
        client: &ClientKeys,
        params: Vec<(&'static str, String)>,
        dpop: Option<Dpop<'_>>,
        now: OffsetDateTime,
    ) -> Result<Answer, LoginError> {
        let params = &params;
        // The issuer as the assertion's audience: FAPI 2.0 (§5.3.2.1) accepts nothing else, and
        // the provider accepts it at every endpoint in every profile.
        let audience = &self.discovery().await?.issuer;
        self.with_dpop_retry(dpop, "POST", endpoint, None, now, |proof| async move {
            let mut form = params.clone();
            form.push(("client_id", client.client_id().to_owned()));
            form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE.to_owned()));
            form.push(("client_assertion", client.assertion(audience, now).await?));
            let request = self.http.post(endpoint).form(&form);
            Ok(match proof {
                Some(proof) => request.header("DPoP", proof),
                None => request,
            })
        })
        .await
    }

    /// Sends the request `build` makes; when the provider answers with a DPoP nonce challenge
    /// (RFC 9449 §8: 400 `use_dpop_nonce` at the token and PAR endpoints, §9: 401 with
    /// `WWW-Authenticate: DPoP error="use_dpop_nonce"` at resource servers), sends it once
    /// more with a proof carrying the nonce.
    async fn with_dpop_retry<F, Fut>(
        &self,
        dpop: Option<Dpop<'_>>,
        htm: &str,
        htu: &str,
        access_token: Option<&str>,
        now: OffsetDateTime,
        build: F,
    ) -> Result<Answer, LoginError>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<reqwest::RequestBuilder, LoginError>>,
    {
        let Some(dpop) = dpop else {
            return self.send(build(None).await?, "back-channel").await;
        };
        let mut nonce = dpop.nonce;
        let mut retried = false;
        loop {
            let proof = dpop_proof(dpop.key, htm, htu, now, nonce.as_deref(), access_token)?;
            let answer = self.send(build(Some(proof)).await?, "back-channel").await?;
            match dpop_nonce(&answer.headers) {
                Some(fresh) if !retried && is_nonce_challenge(&answer) => {
                    nonce = Some(fresh);
                    retried = true;
                }
                _ => return Ok(answer),
            }
        }
    }

    /// Sends a request and reads the answer (bounded). A transport failure forgets the cached
    /// metadata, so the next sign-in reads it again.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &'static str,
    ) -> Result<Answer, LoginError> {
        let failed = |_| {
            self.forget();
            tracing::warn!(call = what, "the identity provider could not be reached");
            LoginError::unreachable("The identity provider did not answer; try again shortly.")
        };
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(LoginError::unreachable(
                    "The identity provider's answer is too large.",
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The caches hold whole values replaced in one assignment; a poisoned lock is still sound.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn dpop_nonce(headers: &HeaderMap) -> Option<String> {
    headers
        .get("DPoP-Nonce")
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

fn is_nonce_challenge(answer: &Answer) -> bool {
    match answer.status {
        StatusCode::BAD_REQUEST => serde_json::from_slice::<Value>(&answer.body)
            .is_ok_and(|body| body["error"] == "use_dpop_nonce"),
        StatusCode::UNAUTHORIZED => {
            www_authenticate_error(&answer.headers).as_deref() == Some("use_dpop_nonce")
        }
        _ => false,
    }
}

/// The `error` parameter of the first `WWW-Authenticate` challenge (RFC 6750 §3).
fn www_authenticate_error(headers: &HeaderMap) -> Option<String> {
    let challenge = headers.get(WWW_AUTHENTICATE)?.to_str().ok()?;
    let start = challenge.find("error=\"")? + "error=\"".len();
    let rest = &challenge[start..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// An RFC 6749 §5.2 error body as a [`LoginError`] (or a generic one when the body is not
/// OAuth JSON).
fn oauth_error(answer: &Answer, summary: &'static str) -> LoginError {
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    match body["error"].as_str() {
        Some(code) => LoginError::from_provider(
            StatusCode::BAD_GATEWAY,
            summary,
            code,
            body["error_description"].as_str(),
        ),
        None => LoginError::from_provider(
            StatusCode::BAD_GATEWAY,
            summary,
            "unexpected_response",
            Some(&format!("HTTP status {}", answer.status.as_u16())),
        ),
    }
}

fn userinfo_error(answer: &Answer) -> LoginError {
    const SUMMARY: &str = "The identity provider refused to release the claims.";
    match www_authenticate_error(&answer.headers) {
        Some(code) => LoginError::from_provider(StatusCode::BAD_GATEWAY, SUMMARY, &code, None),
        None => oauth_error(answer, SUMMARY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: StatusCode, headers: &[(&'static str, &str)], body: &str) -> Answer {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        Answer {
            status,
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn nonce_challenges_are_recognised_at_both_kinds_of_endpoint() {
        let token = answer(
            StatusCode::BAD_REQUEST,
            &[],
            r#"{"error":"use_dpop_nonce"}"#,
        );
        assert!(is_nonce_challenge(&token));
        let other = answer(StatusCode::BAD_REQUEST, &[], r#"{"error":"invalid_grant"}"#);
        assert!(!is_nonce_challenge(&other));
        let resource = answer(
            StatusCode::UNAUTHORIZED,
            &[(
                "www-authenticate",
                r#"DPoP error="use_dpop_nonce", error_description="nonce""#,
            )],
            "",
        );
        assert!(is_nonce_challenge(&resource));
        let error = userinfo_error(&answer(
            StatusCode::UNAUTHORIZED,
            &[("www-authenticate", r#"Bearer error="invalid_token""#)],
            "",
        ));
        assert_eq!(error.code, "invalid_token");
        let error = oauth_error(&answer(StatusCode::BAD_GATEWAY, &[], "<html>"), "x");
        assert_eq!(error.code, "unexpected_response");
    }
}
