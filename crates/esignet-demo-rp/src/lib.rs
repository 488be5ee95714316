//! The demo relying party of eSignet-rs: a small "Health Services Portal" that signs residents
//! in with OpenID Connect, the way eSignet's mock relying party does, and shows their claims.
//!
//! It is its own axum web app (run by the `esignet` binary as `esignet demo-rp`) and talks to
//! the provider only over HTTP, as any relying party would:
//!
//! * `GET /`: the landing page, with three buttons. "Sign in with eSignet" sends an
//!   authorization code request with PKCE (S256), `nonce` and `state`; "Sign in with eSignet
//!   (PAR + DPoP)" first pushes the request (RFC 9126, `private_key_jwt`) with a DPoP proof
//!   from a fresh per-login P-256 key (RFC 9449), then sends `client_id` + `request_uri`;
//!   "Sign in with verified details" is the first with `verified_claims` (an essential verified
//!   `name`), so a resident lacking it goes through the provider's identity verification.
//! * `GET /callback`: checks `state` (single use, bound to the browser session) and `iss`
//!   (RFC 9207), exchanges the code (`private_key_jwt`, PKCE verifier, DPoP with nonce retry),
//!   verifies the ID token (signature against the JWKS, `iss`, `aud`, `exp`, `nonce`,
//!   `at_hash`), fetches userinfo (decrypting a JWE, verifying the JWS against the JWKS, which
//!   holds the identity system's KYC keys too), and signs the browser in.
//! * `GET /profile`, `GET /logout`, `GET /logo.svg`.
//!
//! Sessions are server-side (an in-memory map keyed by a random id in an `HttpOnly`,
//! `SameSite=Lax` cookie, ending after 30 idle minutes by the injected [`Clock`]). Tokens and
//! claims are never logged. Provider errors are shown on an error page with their codes.
#![deny(missing_docs)]

mod button;
mod client;
mod error;
mod flow;
mod handlers;
mod html;
mod profile;
mod provider;
mod session;
mod verify;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use esignet_spi::Clock;
use serde_json::{Value, json};

use crate::client::ClientKeys;
use crate::provider::Provider;
use crate::session::SessionStore;

/// The demo relying party's configuration. [`Default`] gives the values that work with a
/// provider started by `cargo run` (public URL `http://127.0.0.1:8088`, seeded client
/// `health-services-demo`, key in `data/demo-client-key.json`).
#[derive(Debug, Clone)]
pub struct DemoRpConfig {
    /// Where [`serve`] listens. Default `127.0.0.1:8090`.
    pub bind: SocketAddr,
    /// The portal's public base URL, without a trailing slash; the redirect URI is
    /// `<public_url>/callback` and must be registered for the client (the seeded demo client
    /// allows `http://127.0.0.1:8090/**`). An `https` URL makes the session cookie `Secure`.
    pub public_url: String,
    /// The provider's public base URL (for example `http://127.0.0.1:8088`). Its metadata is
    /// read from `<esignet_url>/.well-known/openid-configuration` at start, and read again
    /// after the provider could not be reached.
    pub esignet_url: String,
    /// The registered client id.
    pub client_id: String,
    /// The client's private JWK (JSON), as the provider writes `data/demo-client-key.json`.
    /// Its `kid` is put in client assertions and its `alg` (default RS256 for RSA, ES256 for
    /// EC) signs them.
    pub private_key_file: PathBuf,
    /// A private RSA JWK to decrypt JWE userinfo; default: the signing key, which is what the
    /// provider encrypts to when the client registered no encryption key.
    pub encryption_key_file: Option<PathBuf>,
    /// Where browsers are sent to sign in; default `<esignet_url>/authorize` (the login UI).
    pub authorize_url: Option<String>,
    /// The requested scopes. Default `openid profile`.
    pub scope: String,
    /// The requested authentication context classes, space separated (empty: none sent).
    pub acr_values: String,
    /// The `claims` request parameter (OpenID Connect Core §5.5); `null` or `{}` sends none.
    /// The default asks userinfo for the profile claims, `name` essential, and verified
    /// `name` / `birthdate` under the eIDAS, NIST 800-63A or UK TFIDA trust frameworks.
    pub claims: Value,
    /// The `claims` request of the "verified details" sign-in (`POST /login/verified`). The
    /// default asks for `name` as an essential verified claim under any trust framework, so a
    /// resident without verified data is offered identity verification (eKYC) by the provider.
    pub verified_claims: Value,
    /// The requested claims locales, space separated. Default `en fr ar`.
    pub claims_locales: String,
    /// The login UI's language (`ui_locales`); default none, letting the UI follow the
    /// browser's language.
    pub ui_locales: Option<String>,
}

impl Default for DemoRpConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8090)),
            public_url: "http://127.0.0.1:8090".to_owned(),
            esignet_url: "http://127.0.0.1:8088".to_owned(),
            client_id: "health-services-demo".to_owned(),
            private_key_file: PathBuf::from("data/demo-client-key.json"),
            encryption_key_file: None,
            authorize_url: None,
            scope: "openid profile".to_owned(),
            acr_values: "mosip:idp:acr:generated-code mosip:idp:acr:static-code \
                         mosip:idp:acr:password mosip:idp:acr:knowledge mosip:idp:acr:biometrics \
                         mosip:idp:acr:linked-wallet"
                .to_owned(),
            claims: default_claims(),
            verified_claims: default_verified_claims(),
            claims_locales: "en fr ar".to_owned(),
            ui_locales: None,
        }
    }
}

/// The default `claims` request.
fn default_claims() -> Value {
    json!({
        "userinfo": {
            "name": {"essential": true},
            "given_name": null,
            "email": null,
            "phone_number": null,
            "picture": null,
            "gender": null,
            "birthdate": null,
            "address": null,
            "verified_claims": {
                "verification": {
                    "trust_framework": {"values": ["eidas", "nist_800_63A", "uk_tfida"]}
                },
                "claims": {"name": null, "birthdate": null}
            }
        }
    })
}

/// A `claims` request as the compact JSON sent, `None` for `null` or `{}`.
fn claims_parameter(claims: &Value, name: &str) -> anyhow::Result<Option<String>> {
    match claims {
        Value::Null => Ok(None),
        Value::Object(object) if object.is_empty() => Ok(None),
        Value::Object(_) => Ok(Some(claims.to_string())),
        _ => anyhow::bail!("{name} must be a JSON object (or null)"),
    }
}

/// The default `claims` request of the verified-details sign-in.
fn default_verified_claims() -> Value {
    json!({
        "userinfo": {
            "given_name": null,
            "email": null,
            "verified_claims": {
                "verification": {"trust_framework": null},
                "claims": {"name": {"essential": true}, "birthdate": null}
            }
        }
    })
}

/// The configuration resolved and validated at start.
pub(crate) struct Settings {
    /// `<public_url>/callback`, sent at authorization and repeated at the token endpoint.
    pub redirect_uri: String,
    /// Where browsers are sent to sign in (validated as an http(s) URL).
    pub authorize_url: String,
    /// The `scope` parameter.
    pub scope: String,
    /// The `acr_values` parameter (not sent when empty).
    pub acr_values: String,
    /// The `claims` parameter as compact JSON, when one is sent.
    pub claims: Option<String>,
    /// The `claims` parameter of the verified-details sign-in, when one is sent.
    pub verified_claims: Option<String>,
    /// The `claims_locales` parameter (not sent when empty).
    pub claims_locales: String,
    /// The `ui_locales` parameter, when configured.
    pub ui_locales: Option<String>,
    /// Whether the session cookie carries `Secure` (the portal is served over HTTPS).
    pub secure_cookie: bool,
    /// The provider's public base URL (the sign-in button is loaded from it).
    pub provider_url: String,
    /// `scheme://host[:port]` of `provider_url`, for the landing page's `script-src`.
    pub provider_origin: String,
}

/// Everything the handlers share.
pub(crate) struct App {
    /// The resolved configuration.
    pub settings: Settings,
    /// The client's keys.
    pub client: ClientKeys,
    /// The provider client (metadata and key caches, back-channel calls).
    pub provider: Provider,
    /// The browser sessions.
    pub sessions: SessionStore,
}

/// Builds the portal's router.
///
/// Fails when the configuration is unusable: a URL that is not `http(s)`, a `claims` value
/// that is neither an object nor `null`, or a key file that cannot be read or is not a
/// private RSA / EC P-256 JWK. An unreachable provider is not an error: it is logged, and its
/// metadata is read at the first sign-in, so the portal may start before the provider.
pub async fn build(config: DemoRpConfig, clock: Arc<dyn Clock>) -> anyhow::Result<axum::Router> {
    let public_url = base_url(&config.public_url, "public_url")?;
    let esignet_url = base_url(&config.esignet_url, "esignet_url")?;
    let authorize_url = match &config.authorize_url {
        Some(url) => {
            base_url(url, "authorize_url")?;
            url.clone()
        }
        None => format!("{esignet_url}/authorize"),
    };
    let claims = claims_parameter(&config.claims, "claims")?;
    let verified_claims = claims_parameter(&config.verified_claims, "verified_claims")?;
    let client = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            ClientKeys::load(
                &config.client_id,
                &config.private_key_file,
                config.encryption_key_file.as_deref(),
            )
        })
        .await
        .context("the key loading task failed")??
    };
    let provider = Provider::new(format!("{esignet_url}/.well-known/openid-configuration"))?;
    if let Err(error) = provider.discovery().await {
        tracing::warn!(
            code = error.loggable_code(),
            esignet_url = %esignet_url,
            "the provider's metadata could not be read; retrying at the first sign-in"
        );
    }
    let app = App {
        settings: Settings {
            redirect_uri: format!("{public_url}/callback"),
            authorize_url,
            scope: config.scope,
            acr_values: config.acr_values,
            claims,
            verified_claims,
            claims_locales: config.claims_locales,
            ui_locales: config.ui_locales.filter(|locales| !locales.is_empty()),
            secure_cookie: public_url.starts_with("https://"),
            provider_origin: url::Url::parse(&esignet_url)
                .map(|url| url.origin().ascii_serialization())
                .context("esignet_url is not a URL")?,
            provider_url: esignet_url.clone(),
        },
        client,
        provider,
        sessions: SessionStore::new(clock),
    };
    Ok(handlers::router(Arc::new(app)))
}

/// Builds the portal and serves it on `config.bind` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve(
    config: DemoRpConfig,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let bind = config.bind;
    let public_url = config.public_url.clone();
    let router = build(config, clock).await?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!(%bind, %public_url, "the demo relying party is ready");
    axum::serve(listener, router.into_make_service())
        .with_graceful_shutdown(shutdown)
        .await
        .context("the demo relying party's server failed")
}

/// `url` without a trailing slash, after checking it is an absolute `http(s)` URL.
fn base_url(url: &str, name: &str) -> anyhow::Result<String> {
    let parsed =
        url::Url::parse(url).with_context(|| format!("{name} ({url}) is not a valid URL"))?;
    anyhow::ensure!(
        matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some(),
        "{name} ({url}) must be an http or https URL"
    );
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_seeded_demo_client() {
        let config = DemoRpConfig::default();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8090");
        assert_eq!(config.client_id, "health-services-demo");
        assert_eq!(config.claims["userinfo"]["name"]["essential"], true);
        assert_eq!(
            config.claims["userinfo"]["verified_claims"]["verification"]["trust_framework"]["values"],
            json!(["eidas", "nist_800_63A", "uk_tfida"])
        );
    }

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        assert_eq!(
            base_url("http://127.0.0.1:8088/", "x").unwrap(),
            "http://127.0.0.1:8088"
        );
        assert!(base_url("ftp://host", "x").is_err());
        assert!(base_url("not a url", "x").is_err());
    }
}
