//! The signup service as an OAuth client of the provider (companions 3.3, initiate): it
//! redeems the authorization code of its own login (the IDT factor) with `private_key_jwt`,
//! verifies the ID token and the signed userinfo against the provider's JWKS, and learns the
//! halted transaction (the tokens' `sub`) and the resident's individual id (userinfo `sub`).

use std::time::Duration;

use esignet_jose::{Algorithm, PrivateKey, PublicJwk, decode_compact, random_id, sign_compact};
use esignet_spi::Clock;
use serde_json::{Map, Value, json};
use std::sync::Arc;

use crate::envelope::SignupError;

const GRANT_EXCHANGE_FAILED: &str = "grant_exchange_failed";
const USERINFO_FAILED: &str = "userinfo_failed";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Where the provider is and who the signup service is at it.
#[derive(Clone)]
pub struct GrantConfig {
    /// The signup service's client id.
    pub client_id: String,
    /// Its signing key (ES256); the client's registered public key.
    pub key: PrivateKey,
    /// The redirect URI of its login (`<signup pages>/identity-verification`).
    pub redirect_uri: String,
    /// The provider's issuer (`iss` of its tokens).
    pub issuer: String,
    /// The token endpoint as the provider names it (the assertion's `aud`).
    pub token_audience: String,
    /// Where the token endpoint is reached.
    pub token_url: String,
    /// Where userinfo is reached.
    pub userinfo_url: String,
    /// Where the provider's JWKS is reached.
    pub jwks_url: String,
    /// Timeout of each call.
    pub timeout: Duration,
}

/// What the exchange proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The halted login transaction (the tokens' `sub`).
    pub halted_transaction_id: String,
    /// The resident's individual id.
    pub individual_id: String,
}

/// The client.
pub struct GrantClient {
    config: GrantConfig,
    kid: String,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl GrantClient {
    /// A client for `config`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(config: GrantConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            kid: config.key.public_jwk().thumbprint(),
            config,
            http,
            clock,
        })
    }

    /// The public key to register for the client (with its `kid`).
    pub fn public_jwk(&self) -> Value {
        self.config
            .key
            .public_jwk()
            .with_kid(self.kid.clone())
            .to_json()
    }

    /// Redeems `code`: token request, ID token check, userinfo.
    ///
    /// # Errors
    /// `grant_exchange_failed` when the code is refused or the tokens do not verify,
    /// `userinfo_failed` when userinfo cannot be had or does not verify.
    pub async fn exchange(&self, code: &str) -> Result<Grant, SignupError> {
        let failed = || SignupError::new(GRANT_EXCHANGE_FAILED);
        let assertion = self.client_assertion().map_err(|_| failed())?;
        let response = self
            .http
            .post(&self.config.token_url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.config.redirect_uri.as_str()),
                ("client_id", self.config.client_id.as_str()),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|error| {
                tracing::warn!(error = %error.without_url(), "signup token request failed");
                failed()
            })?;
        if !response.status().is_success() {
            tracing::info!(status = response.status().as_u16(), "signup code refused");
            return Err(failed());
        }
        let tokens: Value = response.json().await.map_err(|_| failed())?;
        let access_token = tokens
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(failed)?;
        let id_token = tokens
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(failed)?;
        let keys = self.jwks().await.map_err(|_| failed())?;
        let id_claims = verify(&keys, id_token).ok_or_else(failed)?;
        let now = self.clock.now().unix_timestamp();
        let audience_ok = match id_claims.get("aud") {
            Some(Value::String(aud)) => *aud == self.config.client_id,
            Some(Value::Array(auds)) => auds
                .iter()
                .any(|a| a.as_str() == Some(&self.config.client_id)),
            _ => false,
        };
        let fresh = id_claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| exp > now);
        if id_claims.get("iss").and_then(Value::as_str) != Some(&self.config.issuer)
            || !audience_ok
            || !fresh
        {
            return Err(failed());
        }
        let halted_transaction_id = id_claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|sub| !sub.is_empty())
            .ok_or_else(failed)?
            .to_owned();
        let individual_id = self.userinfo(&keys, access_token).await?;
        Ok(Grant {
            halted_transaction_id,
            individual_id,
        })
    }

    async fn userinfo(
        &self,
        keys: &[PublicJwk],
        access_token: &str,
    ) -> Result<String, SignupError> {
        let failed = || SignupError::new(USERINFO_FAILED);
        let response = self
            .http
            .get(&self.config.userinfo_url)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|_| failed())?;
        if !response.status().is_success() {
            return Err(failed());
        }
        let text = response.text().await.map_err(|_| failed())?;
        let claims = verify(keys, text.trim()).ok_or_else(failed)?;
        claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|sub| !sub.is_empty())
            .map(str::to_owned)
            .ok_or_else(failed)
    }

    fn client_assertion(&self) -> Result<String, esignet_jose::JoseError> {
        let now = self.clock.now().unix_timestamp();
        let claims = json!({
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": self.config.token_audience,
            "jti": random_id(),
            "iat": now,
            "exp": now + 60,
        });
        let mut header = Map::new();
        header.insert("typ".into(), Value::from("JWT"));
        header.insert("kid".into(), Value::from(self.kid.clone()));
        sign_compact(
            &self.config.key,
            Algorithm::ES256,
            &header,
            claims.to_string().as_bytes(),
        )
    }

    async fn jwks(&self) -> Result<Vec<PublicJwk>, reqwest::Error> {
        let set: Value = self
            .http
            .get(&self.config.jwks_url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(set
            .get("keys")
            .and_then(Value::as_array)
            .map(|keys| {
                keys.iter()
                    .filter_map(|key| PublicJwk::from_json(key).ok())
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// The claims of `token` when a key of `keys` (matched by `kid`) verifies it.
fn verify(keys: &[PublicJwk], token: &str) -> Option<Map<String, Value>> {
    let jws = decode_compact(token).ok()?;
    let kid = jws.kid()?;
    let key = keys.iter().find(|key| key.kid() == Some(kid))?;
    if !jws.verify(key) {
        return None;
    }
    jws.claims().ok()
}
