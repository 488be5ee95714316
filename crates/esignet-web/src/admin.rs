//! Authentication of the admin API (client management), eSignet §2.4.
//!
//! A request carries `Authorization: Bearer <token>`. The token is accepted when it is the
//! configured static token (which grants every scope), or a JWT issued by the configured IAM
//! (Keycloak in MOSIP deployments): signed with a key from the IAM's JWKS (RS256, PS256 or
//! ES256), from the configured issuer, for the configured audience, unexpired, and with the
//! endpoint's scope in its `scope` claim. eSignet's scopes are `add_oidc_client` for POST and
//! `update_oidc_client` for PUT and PATCH.
//!
//! The API is never open by default: with neither a static token nor an IAM configured every
//! request is rejected. A missing or unacceptable token is 401 with
//! `WWW-Authenticate: Bearer error="invalid_token"`; a valid token without the scope is 403 with
//! `error="insufficient_scope"` (RFC 6750 §3).
//!
//! The IAM's keys are cached in memory. They are fetched on first use, again every 10 minutes,
//! and when a token names a key we do not know (key rotation), but at most once every 30 seconds
//! so that tokens with made-up key ids cannot make us hammer the IAM. A fetch gives up after 5
//! seconds; when it fails the keys already known stay in use (an IAM outage does not lock
//! administrators out), and with no keys at all every IAM token is rejected.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use esignet_jose::{DecodedJws, PublicJwk, constant_time_eq, decode_compact};
use esignet_spi::Clock;
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// The scope POST `/client-mgmt/*` requires.
pub const SCOPE_ADD_CLIENT: &str = "add_oidc_client";
/// The scope PUT and PATCH `/client-mgmt/*` require.
pub const SCOPE_UPDATE_CLIENT: &str = "update_oidc_client";

/// Upper bound of one JWKS fetch, connection to last byte.
const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Keys older than this are fetched again.
const JWKS_MAX_AGE: time::Duration = time::Duration::minutes(10);
/// Minimum time between two fetch attempts (successful or not).
const JWKS_MIN_INTERVAL: time::Duration = time::Duration::seconds(30);
/// A JWKS larger than this is refused: a handful of keys is a few kilobytes.
const JWKS_MAX_BYTES: usize = 512 * 1024;
/// Tolerated clock difference with the IAM for `nbf` (as Spring Security's default).
const NOT_BEFORE_LEEWAY_SECONDS: i64 = 60;

/// How the admin API is authenticated. Neither configured means closed.
#[derive(Clone, Default)]
pub struct AdminConfig {
    /// A static bearer token granting every admin scope (for deployments without an IAM).
    /// Configuration checks its strength; an empty token is ignored.
    pub static_token: Option<String>,
    /// An IAM whose JWTs are accepted.
    pub iam: Option<IamConfig>,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AdminConfig")
            .field(
                "static_token",
                &self.static_token.as_ref().map(|_| "<redacted>"),
            )
            .field("iam", &self.iam)
            .finish()
    }
}

/// The IAM issuing admin access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamConfig {
    /// Where the IAM publishes its signing keys (Keycloak:
    /// `<realm url>/protocol/openid-connect/certs`).
    pub jwks_url: String,
    /// The required `iss` (Keycloak: the realm URL).
    pub issuer: String,
    /// When set, `aud` must contain it.
    pub audience: Option<String>,
}

/// Why an admin request was refused. Renders as RFC 6750 §3 errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminRejection {
    /// No token, or one we do not accept (the reason is a fixed phrase, never token content).
    InvalidToken(&'static str),
    /// A valid token without the scope the endpoint requires.
    InsufficientScope(String),
}

impl IntoResponse for AdminRejection {
    fn into_response(self) -> Response {
        let (status, challenge, body) = match &self {
            AdminRejection::InvalidToken(reason) => (
                StatusCode::UNAUTHORIZED,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
                serde_json::json!({ "error": "invalid_token", "error_description": reason }),
            ),
            AdminRejection::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                HeaderValue::from_str(&format!(
                    "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
                ))
                .unwrap_or_else(|_| {
                    HeaderValue::from_static("Bearer error=\"insufficient_scope\"")
                }),
                serde_json::json!({
                    "error": "insufficient_scope",
                    "error_description": format!("the token lacks the {scope} scope"),
                }),
            ),
        };
        let mut response = crate::wrapper::json_response(status, body.to_string());
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
        response
    }
}

fn invalid(reason: &'static str) -> AdminRejection {
    AdminRejection::InvalidToken(reason)
}

/// Guards the admin API. Cheap to share; the IAM key cache is internal.
pub struct AdminAuth {
    /// SHA-256 of the static token: comparing fixed-size digests in constant time leaks
    /// neither the token nor its length.
    static_token_digest: Option<[u8; 32]>,
    iam: Option<Iam>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AdminAuth")
            .field(
                "static_token",
                &self.static_token_digest.map(|_| "<configured>"),
            )
            .field("iam", &self.iam.as_ref().map(|iam| &iam.config))
            .finish()
    }
}

impl AdminAuth {
    /// The guard for `config`, reading time from `clock` (token expiry, key cache age).
    ///
    /// Never fails: if the HTTP client for the IAM cannot be built (no TLS backend), the error
    /// is logged and IAM tokens are rejected, so the API stays closed rather than open.
    pub fn new(config: AdminConfig, clock: Arc<dyn Clock>) -> Self {
        Self::with_fetch_timeout(config, clock, JWKS_FETCH_TIMEOUT)
    }

    fn with_fetch_timeout(
        config: AdminConfig,
        clock: Arc<dyn Clock>,
        fetch_timeout: Duration,
    ) -> Self {
        let static_token_digest = config
            .static_token
            .filter(|token| !token.trim().is_empty())
            .map(|token| esignet_jose::sha256(token.as_bytes()));
        let iam = config.iam.map(|iam| Iam::new(iam, fetch_timeout));
        if static_token_digest.is_none() && iam.is_none() {
            tracing::warn!("admin API has no authentication configured: every request is rejected");
        }
        Self {
            static_token_digest,
            iam,
            clock,
        }
    }

    /// Whether the request's bearer token grants `required_scope`.
    ///
    /// # Errors
    ///
    /// [`AdminRejection::InvalidToken`] for a missing, malformed, unknown, badly signed,
    /// expired or foreign token; [`AdminRejection::InsufficientScope`] for a valid IAM token
    /// without `required_scope`.
    pub async fn authorize(
        &self,
        headers: &HeaderMap,
        required_scope: &str,
    ) -> Result<(), AdminRejection> {
        let token = bearer_token(headers).ok_or(invalid("missing bearer token"))?;
        if let Some(expected) = &self.static_token_digest {
            let presented = esignet_jose::sha256(token.as_bytes());
            if constant_time_eq(&presented, expected) {
                return Ok(());
            }
        }
        let Some(iam) = &self.iam else {
            return Err(invalid("token not accepted"));
        };
        let claims = iam
            .verify(token, self.clock.as_ref())
            .await
            .inspect_err(|rejection| tracing::info!(?rejection, "admin token rejected"))?;
        if granted_scopes(&claims).any(|scope| scope == required_scope) {
            Ok(())
        } else {
            tracing::info!(required_scope, "admin token lacks the required scope");
            Err(AdminRejection::InsufficientScope(required_scope.to_owned()))
        }
    }
}

/// The token of the single `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("Bearer")
        && !token.is_empty()
        && !token.contains(char::is_whitespace))
    .then_some(token)
}

/// The scopes of a token: the `scope` claim (space-separated string or array of strings), or
/// `scp` when there is no `scope` (both are read by Spring Security, which eSignet uses).
fn granted_scopes(claims: &Map<String, Value>) -> impl Iterator<Item = &str> {
    let claim = claims.get("scope").or_else(|| claims.get("scp"));
    let (text, list) = match claim {
        Some(Value::String(text)) => (Some(text.as_str()), None),
        Some(Value::Array(items)) => (None, Some(items)),
        _ => (None, None),
    };
    text.into_iter()
        .flat_map(str::split_whitespace)
        .chain(list.into_iter().flatten().filter_map(Value::as_str))
}

/// The IAM's verification state.
struct Iam {
    config: IamConfig,
    /// `None` when the client could not be built: every fetch then fails.
    http: Option<reqwest::Client>,
    fetch_timeout: Duration,
    /// Read on every request; never held across an await.
    keys: RwLock<KeyCache>,
    /// Serializes fetches so that concurrent requests wait for one fetch instead of each
    /// starting their own.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct KeyCache {
    keys: Arc<Vec<PublicJwk>>,
    /// Last successful fetch.
    fetched_at: Option<OffsetDateTime>,
    /// Last fetch attempt, successful or not.
    attempted_at: Option<OffsetDateTime>,
}

/// Whether at least `interval` separates `then` from `now`. A clock that moved backwards also
/// counts as time passed, so a clock correction cannot freeze the cache.
fn elapsed(then: Option<OffsetDateTime>, now: OffsetDateTime, interval: time::Duration) -> bool {
    then.is_none_or(|then| (now - then).abs() >= interval)
}

/// Why a fetch is wanted; re-checked once the fetch lock is held.
#[derive(Clone, Copy)]
enum Refresh {
    /// Keys never fetched or older than [`JWKS_MAX_AGE`].
    Stale,
    /// A token named a key we do not have.
    UnknownKey,
}

enum Verdict {
    Verified,
    UnknownKey,
    BadSignature,
}

impl Iam {
    fn new(config: IamConfig, fetch_timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(fetch_timeout)
            .timeout(fetch_timeout)
            .build()
            .map_err(|error| tracing::error!(%error, "cannot build the IAM HTTP client: IAM tokens will be rejected"))
            .ok();
        Self {
            config,
            http,
            fetch_timeout,
            keys: RwLock::new(KeyCache::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// Verifies signature, issuer, audience and validity period; returns the claims.
    async fn verify(
        &self,
        token: &str,
        clock: &dyn Clock,
    ) -> Result<Map<String, Value>, AdminRejection> {
        let jws = decode_compact(token).map_err(|_| invalid("malformed token"))?;
        if jws.alg().is_none() {
            return Err(invalid("unsupported signature algorithm"));
        }
        let now = clock.now();
        let keys = if self.wants(Refresh::Stale, now) {
            self.refresh(Refresh::Stale, now).await
        } else {
            self.cached_keys()
        };
        let verdict = match check_signature(&keys, &jws) {
            Verdict::UnknownKey if self.wants(Refresh::UnknownKey, now) => {
                check_signature(&self.refresh(Refresh::UnknownKey, now).await, &jws)
            }
            verdict => verdict,
        };
        match verdict {
            Verdict::Verified => {}
            Verdict::UnknownKey => return Err(invalid("unknown signing key")),
            Verdict::BadSignature => return Err(invalid("bad signature")),
        }
        let claims = jws.claims().map_err(|_| invalid("malformed token"))?;
        self.check_claims(&claims, now)?;
        Ok(claims)
    }

    fn check_claims(
        &self,
        claims: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<(), AdminRejection> {
        if claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(invalid("wrong issuer"));
        }
        if let Some(audience) = &self.config.audience {
            let matches = match claims.get("aud") {
                Some(Value::String(aud)) => aud == audience,
                Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
                _ => false,
            };
            if !matches {
                return Err(invalid("wrong audience"));
            }
        }
        let now = now.unix_timestamp() as f64;
        match claims.get("exp").and_then(Value::as_f64) {
            Some(exp) if now < exp => {}
            Some(_) => return Err(invalid("token expired")),
            None => return Err(invalid("token without exp")),
        }
        match claims.get("nbf") {
            None => {}
            Some(nbf) => match nbf.as_f64() {
                Some(nbf) if nbf <= now + NOT_BEFORE_LEEWAY_SECONDS as f64 => {}
                _ => return Err(invalid("token not yet valid")),
            },
        }
        Ok(())
    }

    fn read_cache<T>(&self, read: impl FnOnce(&KeyCache) -> T) -> T {
        read(
            &self
                .keys
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    fn write_cache(&self, update: impl FnOnce(&mut KeyCache)) {
        update(
            &mut self
                .keys
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
    }

    fn cached_keys(&self) -> Arc<Vec<PublicJwk>> {
        self.read_cache(|cache| cache.keys.clone())
    }

    fn wants(&self, reason: Refresh, now: OffsetDateTime) -> bool {
        self.read_cache(|cache| {
            let due = match reason {
                Refresh::Stale => elapsed(cache.fetched_at, now, JWKS_MAX_AGE),
                Refresh::UnknownKey => true,
            };
            due && elapsed(cache.attempted_at, now, JWKS_MIN_INTERVAL)
        })
    }

    /// Fetches the JWKS if still wanted once no other fetch runs; returns the keys to use.
    async fn refresh(&self, reason: Refresh, now: OffsetDateTime) -> Arc<Vec<PublicJwk>> {
        let _fetching = self.fetching.lock().await;
        // Another request may have fetched while this one waited for the lock.
        if !self.wants(reason, now) {
            return self.cached_keys();
        }
        self.write_cache(|cache| cache.attempted_at = Some(now));
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "IAM signing keys fetched");
                let keys = Arc::new(keys);
                self.write_cache(|cache| {
                    cache.keys = keys.clone();
                    cache.fetched_at = Some(now);
                });
                keys
            }
            Err(reason) => {
                tracing::warn!(jwks_url = %self.config.jwks_url, reason, "IAM JWKS fetch failed; keeping the keys already known");
                self.cached_keys()
            }
        }
    }

    async fn fetch(&self) -> Result<Vec<PublicJwk>, String> {
        let http = self.http.as_ref().ok_or("no HTTP client")?;
        // reqwest's own timeout covers the whole exchange too; this bound also covers reading
        // the body in chunks below.
        let fetched = tokio::time::timeout(self.fetch_timeout, async {
            let mut response = http
                .get(&self.config.jwks_url)
                .header(header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(|error| error.to_string())?;
            if !response.status().is_success() {
                return Err(format!("HTTP status {}", response.status()));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|error| error.to_string())? {
                if body.len() + chunk.len() > JWKS_MAX_BYTES {
                    return Err(format!("JWKS larger than {JWKS_MAX_BYTES} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        })
        .await
        .map_err(|_| format!("no answer within {:?}", self.fetch_timeout))??;
        parse_jwks(&fetched)
    }
}

/// The signature keys of a JWKS document. Keys we cannot use (other types, `use: enc`, too
/// small) are skipped: an IAM publishes encryption keys next to its signing keys.
fn parse_jwks(body: &[u8]) -> Result<Vec<PublicJwk>, String> {
    let document: Value =
        serde_json::from_slice(body).map_err(|_| "JWKS is not JSON".to_owned())?;
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("JWKS has no keys array")?;
    Ok(keys
        .iter()
        .filter_map(|key| PublicJwk::from_json(key).ok())
        .filter(|key| key.key_use() != Some("enc"))
        .collect())
}

/// Checks the signature with the key the token names (`kid`), or with every key when it names
/// none. A `kid` we do not have, or no key verifying a kid-less token, is an unknown key: the
/// IAM may have rotated.
fn check_signature(keys: &[PublicJwk], jws: &DecodedJws) -> Verdict {
    match jws.kid() {
        Some(kid) => {
            let mut candidates = keys.iter().filter(|key| key.kid() == Some(kid)).peekable();
            if candidates.peek().is_none() {
                Verdict::UnknownKey
            } else if candidates.any(|key| jws.verify(key)) {
                Verdict::Verified
            } else {
                Verdict::BadSignature
            }
        }
        None if keys.iter().any(|key| jws.verify(key)) => Verdict::Verified,
        None => Verdict::UnknownKey,
    }
}

#[cfg(test)]
mod tests;
