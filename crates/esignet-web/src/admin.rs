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
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use axum::Router;
    use axum::routing::get;
    use esignet_jose::{Algorithm, PrivateKey, b64url_encode, sign_compact};
    use esignet_spi::ManualClock;
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    const ISSUER: &str = "https://iam.example.org/auth/realms/mosip";
    const AUDIENCE: &str = "esignet-admin";
    const STATIC: &str = "s3cr3t-admin-token-0123456789abcdef";
    const START: OffsetDateTime = datetime!(2025-03-01 10:00:00 UTC);
    const ADD: &str = SCOPE_ADD_CLIENT;

    /// A JWKS endpoint on 127.0.0.1 whose answer can be changed and whose hits are counted.
    struct TestIam {
        url: String,
        answer: Arc<Mutex<(StatusCode, String)>>,
        fetches: Arc<AtomicUsize>,
    }

    impl TestIam {
        async fn serving(keys: &[(&PrivateKey, &str)]) -> Self {
            let answer = Arc::new(Mutex::new((StatusCode::OK, jwks(keys))));
            let fetches = Arc::new(AtomicUsize::new(0));
            let (served, counter) = (answer.clone(), fetches.clone());
            let app = Router::new().route(
                "/certs",
                get(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let answer = served.lock().unwrap().clone();
                    async move { answer }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/certs", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            Self {
                url,
                answer,
                fetches,
            }
        }

        fn serve(&self, status: StatusCode, body: String) {
            *self.answer.lock().unwrap() = (status, body);
        }

        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }
    }

    /// A JWKS with the given signing keys, plus an encryption key that must be skipped.
    fn jwks(keys: &[(&PrivateKey, &str)]) -> String {
        let mut listed: Vec<Value> = keys
            .iter()
            .map(|(key, kid)| key.public_jwk().with_kid(*kid).to_json())
            .collect();
        let mut enc = PrivateKey::generate_ec_p256()
            .unwrap()
            .public_jwk()
            .with_kid("enc")
            .to_json();
        enc["use"] = json!("enc");
        listed.push(enc);
        json!({ "keys": listed }).to_string()
    }

    fn iam_config(url: &str, audience: Option<&str>) -> AdminConfig {
        let iam = IamConfig {
            jwks_url: url.to_owned(),
            issuer: ISSUER.to_owned(),
            audience: audience.map(str::to_owned),
        };
        AdminConfig {
            static_token: None,
            iam: Some(iam),
        }
    }

    fn guard(config: AdminConfig) -> (AdminAuth, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(START));
        (AdminAuth::new(config, clock.clone()), clock)
    }

    fn claims() -> Value {
        let now = START.unix_timestamp();
        json!({
            "iss": ISSUER, "aud": ["account", AUDIENCE], "iat": now, "exp": now + 300,
            "scope": "profile add_oidc_client update_oidc_client",
        })
    }

    fn with_claim(name: &str, value: Value) -> Value {
        let mut claims = claims();
        claims[name] = value;
        claims
    }

    /// `Bearer <JWT>` signed with `key`.
    fn jwt(key: &PrivateKey, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Map::new();
        header.insert("typ".into(), json!("JWT"));
        if let Some(kid) = kid {
            header.insert("kid".into(), json!(kid));
        }
        let token = sign_compact(key, alg, &header, claims.to_string().as_bytes()).unwrap();
        format!("Bearer {token}")
    }

    fn es256(key: &PrivateKey, kid: &str, claims: &Value) -> String {
        jwt(key, Algorithm::ES256, Some(kid), claims)
    }

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(authorization).unwrap(),
        );
        headers
    }

    async fn check(
        auth: &AdminAuth,
        authorization: &str,
        scope: &str,
    ) -> Result<(), AdminRejection> {
        auth.authorize(&headers(authorization), scope).await
    }

    fn is_invalid(result: Result<(), AdminRejection>) -> bool {
        matches!(result, Err(AdminRejection::InvalidToken(_)))
    }

    #[tokio::test]
    async fn static_token_grants_every_scope_and_nothing_else_passes() {
        let (auth, _) = guard(AdminConfig {
            static_token: Some(STATIC.to_owned()),
            iam: None,
        });
        for scope in [SCOPE_ADD_CLIENT, SCOPE_UPDATE_CLIENT] {
            assert_eq!(
                check(&auth, &format!("Bearer {STATIC}"), scope).await,
                Ok(())
            );
        }
        assert_eq!(check(&auth, &format!("bearer {STATIC}"), ADD).await, Ok(()));
        for authorization in [
            "Bearer wrong-token".to_owned(),
            format!("Bearer {STATIC}x"),
            format!("Bearer {}", &STATIC[1..]),
            format!("Basic {STATIC}"),
            STATIC.to_owned(),
            "Bearer ".to_owned(),
            format!("Bearer {STATIC} extra"),
        ] {
            assert!(
                is_invalid(check(&auth, &authorization, ADD).await),
                "{authorization}"
            );
        }
        assert!(is_invalid(auth.authorize(&HeaderMap::new(), ADD).await));
        let mut twice = headers(&format!("Bearer {STATIC}"));
        twice.append(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer other"),
        );
        assert!(is_invalid(auth.authorize(&twice, ADD).await));
        assert!(!format!("{auth:?}").contains(STATIC));
    }

    #[tokio::test]
    async fn without_configuration_everything_is_rejected() {
        for static_token in [None, Some(String::new()), Some("   ".to_owned())] {
            let (auth, _) = guard(AdminConfig {
                static_token,
                iam: None,
            });
            assert!(is_invalid(auth.authorize(&HeaderMap::new(), ADD).await));
            for authorization in ["Bearer ", "Bearer anything", &format!("Bearer {STATIC}")] {
                assert!(is_invalid(check(&auth, authorization, ADD).await));
            }
        }
    }

    #[tokio::test]
    async fn iam_tokens_of_every_accepted_algorithm_pass() {
        let rsa = PrivateKey::generate_rsa(2048).unwrap();
        let ec = PrivateKey::generate_ec_p256().unwrap();
        let iam = TestIam::serving(&[(&rsa, "rsa-1"), (&ec, "ec-1")]).await;
        let (auth, _) = guard(iam_config(&iam.url, Some(AUDIENCE)));
        for (key, alg, kid) in [
            (&rsa, Algorithm::RS256, Some("rsa-1")),
            (&rsa, Algorithm::PS256, Some("rsa-1")),
            (&ec, Algorithm::ES256, Some("ec-1")),
            (&ec, Algorithm::ES256, None),
        ] {
            let token = jwt(key, alg, kid, &claims());
            assert_eq!(
                check(&auth, &token, SCOPE_UPDATE_CLIENT).await,
                Ok(()),
                "{alg}"
            );
        }
        // Scopes as an array, or in `scp`; a single audience string.
        let mut scp = claims();
        scp.as_object_mut().unwrap().remove("scope");
        scp["scp"] = json!(ADD);
        for claims in [
            with_claim("scope", json!(["openid", ADD])),
            with_claim("aud", json!(AUDIENCE)),
            scp,
        ] {
            assert_eq!(
                check(&auth, &es256(&ec, "ec-1", &claims), ADD).await,
                Ok(()),
                "{claims}"
            );
        }
        assert_eq!(iam.fetches(), 1, "keys are cached");
    }

    #[tokio::test]
    async fn iam_tokens_are_checked_for_issuer_audience_time_and_signature() {
        let key = PrivateKey::generate_ec_p256().unwrap();
        let iam = TestIam::serving(&[(&key, "k1")]).await;
        let (auth, clock) = guard(iam_config(&iam.url, Some(AUDIENCE)));
        let now = START.unix_timestamp();
        let mut without_exp = claims();
        without_exp.as_object_mut().unwrap().remove("exp");
        for claims in [
            with_claim("iss", json!("https://evil.example.org/auth/realms/mosip")),
            with_claim("iss", Value::Null),
            with_claim("aud", json!("account")),
            with_claim("aud", json!(["account"])),
            with_claim("aud", Value::Null),
            with_claim("exp", json!(now)),
            with_claim("exp", json!("tomorrow")),
            without_exp,
            with_claim("nbf", json!(now + 61)),
            with_claim("nbf", json!("now")),
        ] {
            assert!(
                is_invalid(check(&auth, &es256(&key, "k1", &claims), ADD).await),
                "{claims}"
            );
        }
        // A key claiming the known kid; the signature cut off; HMAC; not a JWT at all.
        let forged = es256(&PrivateKey::generate_ec_p256().unwrap(), "k1", &claims());
        let good = es256(&key, "k1", &claims());
        let (unsigned, _) = good.rsplit_once('.').unwrap();
        let hmac = format!(
            "Bearer {}.{}.AAAA",
            b64url_encode(br#"{"alg":"HS256","kid":"k1"}"#),
            b64url_encode(claims().to_string().as_bytes())
        );
        for token in [
            forged,
            format!("{unsigned}."),
            hmac,
            "Bearer not-a-jwt".to_owned(),
        ] {
            assert!(is_invalid(check(&auth, &token, ADD).await), "{token}");
        }

        // Expiry follows the injected clock.
        assert_eq!(check(&auth, &good, ADD).await, Ok(()));
        clock.advance(time::Duration::seconds(300));
        assert_eq!(
            check(&auth, &good, ADD).await,
            Err(AdminRejection::InvalidToken("token expired"))
        );

        // Without a configured audience any `aud` passes.
        let (any_audience, _) = guard(iam_config(&iam.url, None));
        let token = es256(&key, "k1", &with_claim("aud", json!("account")));
        assert_eq!(check(&any_audience, &token, ADD).await, Ok(()));
    }

    #[tokio::test]
    async fn a_valid_token_without_the_scope_is_forbidden() {
        let key = PrivateKey::generate_ec_p256().unwrap();
        let iam = TestIam::serving(&[(&key, "k1")]).await;
        let (auth, _) = guard(iam_config(&iam.url, None));
        for scope in [
            json!("profile add_oidc_client_x"),
            json!([]),
            json!(42),
            Value::Null,
        ] {
            let token = es256(&key, "k1", &with_claim("scope", scope.clone()));
            let forbidden = Err(AdminRejection::InsufficientScope(ADD.to_owned()));
            assert_eq!(check(&auth, &token, ADD).await, forbidden, "{scope}");
        }
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_the_keys_at_most_every_30_seconds() {
        let old = PrivateKey::generate_ec_p256().unwrap();
        let new = PrivateKey::generate_ec_p256().unwrap();
        let iam = TestIam::serving(&[(&old, "old")]).await;
        let (auth, clock) = guard(iam_config(&iam.url, None));
        let (old_token, new_token) = (es256(&old, "old", &claims()), es256(&new, "new", &claims()));
        assert_eq!(check(&auth, &old_token, ADD).await, Ok(()));
        assert_eq!(iam.fetches(), 1);

        // The IAM rotates. Right after the first fetch the throttle holds.
        iam.serve(StatusCode::OK, jwks(&[(&new, "new")]));
        assert!(is_invalid(check(&auth, &new_token, ADD).await));
        assert_eq!(iam.fetches(), 1);

        clock.advance(time::Duration::seconds(30));
        assert_eq!(check(&auth, &new_token, ADD).await, Ok(()));
        assert_eq!(iam.fetches(), 2);
        // The retired key is now unknown, and asking again so soon fetches nothing.
        let unknown = Err(AdminRejection::InvalidToken("unknown signing key"));
        assert_eq!(check(&auth, &old_token, ADD).await, unknown);
        assert_eq!(iam.fetches(), 2);
    }

    #[tokio::test]
    async fn keys_are_refreshed_every_10_minutes_and_kept_when_the_iam_fails() {
        let key = PrivateKey::generate_ec_p256().unwrap();
        let iam = TestIam::serving(&[(&key, "k1")]).await;
        let (auth, clock) = guard(iam_config(&iam.url, None));
        // A token minted at the clock's current time, so that it is unexpired.
        let fresh = || {
            let exp = clock.now().unix_timestamp() + 60;
            es256(
                &key,
                "k1",
                &json!({"iss": ISSUER, "exp": exp, "scope": ADD}),
            )
        };
        assert_eq!(check(&auth, &fresh(), ADD).await, Ok(()));
        clock.advance(time::Duration::minutes(9));
        assert_eq!(check(&auth, &fresh(), ADD).await, Ok(()));
        assert_eq!(iam.fetches(), 1);
        clock.advance(time::Duration::minutes(1));
        assert_eq!(check(&auth, &fresh(), ADD).await, Ok(()));
        assert_eq!(iam.fetches(), 2);

        // The IAM breaks: each refresh fails and the known keys stay in use.
        for (status, body) in [
            (StatusCode::INTERNAL_SERVER_ERROR, "oops".to_owned()),
            (StatusCode::OK, "not json".to_owned()),
            (StatusCode::OK, json!({"no": "keys"}).to_string()),
            (StatusCode::OK, "x".repeat(JWKS_MAX_BYTES + 1)),
        ] {
            iam.serve(status, body);
            clock.advance(time::Duration::minutes(10));
            let before = iam.fetches();
            assert_eq!(check(&auth, &fresh(), ADD).await, Ok(()));
            assert_eq!(iam.fetches(), before + 1);
        }
    }

    #[tokio::test]
    async fn an_unreachable_iam_means_401_without_hanging() {
        let token = es256(&PrivateKey::generate_ec_p256().unwrap(), "k1", &claims());

        // Nothing listens on the port.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/certs", closed.local_addr().unwrap());
        drop(closed);
        let (auth, _) = guard(iam_config(&url, None));
        let unknown = Err(AdminRejection::InvalidToken("unknown signing key"));
        assert_eq!(check(&auth, &token, ADD).await, unknown);

        // Something accepts the connection and never answers: the fetch timeout ends it.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/certs", silent.local_addr().unwrap());
        let clock = Arc::new(ManualClock::new(START));
        let auth = AdminAuth::with_fetch_timeout(
            iam_config(&url, None),
            clock,
            Duration::from_millis(300),
        );
        let started = Instant::now();
        assert!(is_invalid(check(&auth, &token, ADD).await));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        drop(silent);
    }

    #[tokio::test]
    async fn rejections_render_as_rfc_6750_errors() {
        let response = AdminRejection::InvalidToken("token expired").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let expected = json!({"error": "invalid_token", "error_description": "token expired"});
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), expected);

        let response =
            AdminRejection::InsufficientScope(SCOPE_UPDATE_CLIENT.to_owned()).into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let challenge = "Bearer error=\"insufficient_scope\", scope=\"update_oidc_client\"";
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], challenge);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap()["error"],
            "insufficient_scope"
        );
    }
}
