//! Before the run: discover the server, register a benchmark client, load the JWKS.

use std::collections::HashMap;
use std::sync::RwLock;

use anyhow::{Context, bail};
use esignet_jose::{Algorithm, PrivateKey, PublicJwk};
use serde_json::{Value, json};

use crate::{BenchConfig, FlowKind};

/// Everything the virtual residents share.
pub struct Setup {
    pub config: BenchConfig,
    pub api: String,
    pub token_endpoint: String,
    pub par_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub client_key: PrivateKey,
    pub encryption_key: Option<PrivateKey>,
    pub verification_keys: RwLock<HashMap<String, PublicJwk>>,
}

impl Setup {
    /// The verification key for `kid`, refetching the JWKS once if unknown (rotation).
    pub async fn key_for(&self, http: &reqwest::Client, kid: &str) -> Option<PublicJwk> {
        if let Some(key) = self.verification_keys.read().ok()?.get(kid) {
            return Some(key.clone());
        }
        let keys = fetch_jwks(http, &self.jwks_uri).await.ok()?;
        let found = keys.get(kid).cloned();
        if let Ok(mut cache) = self.verification_keys.write() {
            *cache = keys;
        }
        found
    }
}

async fn fetch_jwks(
    http: &reqwest::Client,
    uri: &str,
) -> anyhow::Result<HashMap<String, PublicJwk>> {
    let jwks: Value = http
        .get(uri)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let mut keys = HashMap::new();
    for jwk in jwks["keys"].as_array().context("JWKS without keys")? {
        let Some(kid) = jwk["kid"].as_str() else {
            continue;
        };
        let mut public = jwk.clone();
        if let Some(object) = public.as_object_mut() {
            // x5c and friends are not needed to verify.
            object
                .retain(|k, _| matches!(k.as_str(), "kty" | "n" | "e" | "crv" | "x" | "y" | "kid"));
        }
        if let Ok(key) = PublicJwk::from_json(&public) {
            keys.insert(kid.to_owned(), key);
        }
    }
    Ok(keys)
}

/// Discovers the endpoints, registers a fresh client for this run and loads the JWKS.
pub async fn prepare(config: &BenchConfig) -> anyhow::Result<Setup> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let discovery: Value = http
        .get(format!("{}/.well-known/openid-configuration", config.url))
        .send()
        .await
        .context("cannot reach the server")?
        .error_for_status()?
        .json()
        .await?;
    let text = |key: &str| -> anyhow::Result<String> {
        discovery[key]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("discovery lacks {key}"))
    };
    let client_key = match config.client_alg {
        Algorithm::ES256 => PrivateKey::generate_ec_p256()?,
        _ => PrivateKey::generate_rsa(2048)?,
    };
    let client_id = format!("bench-{}", &esignet_jose::random_id()[..12]);
    let redirect_uri = "https://bench.invalid/callback".to_owned();
    let api = format!("{}{}", config.url, config.base_path);
    let mut public = client_key.public_jwk().to_json();
    public["alg"] = json!(config.client_alg.as_str());
    let request = json!({
        "clientId": client_id,
        "clientName": "Benchmark client",
        "clientNameLangMap": {"eng": "Benchmark client"},
        "publicKey": public,
        "relyingPartyId": "bench-rp",
        "userClaims": ["name", "email", "phone_number", "birthdate", "gender", "address", "picture"],
        "authContextRefs": ["mosip:idp:acr:generated-code"],
        "logoUri": "https://bench.invalid/logo.png",
        "redirectUris": [redirect_uri],
        "grantTypes": ["authorization_code"],
        "clientAuthMethods": ["private_key_jwt"],
        "additionalConfig": {
            "userinfo_response_type": if config.jwe { "JWE" } else { "JWS" },
            "dpop_bound_access_tokens": config.flow == FlowKind::Fapi,
            "require_pushed_authorization_requests": config.flow == FlowKind::Fapi,
            "require_pkce": true,
        },
    });
    admin_call(
        &http,
        config,
        reqwest::Method::POST,
        &format!("{api}/client-mgmt/client"),
        request,
    )
    .await?;
    let encryption_key = if config.jwe {
        let key = PrivateKey::generate_rsa(2048)?;
        let mut public = key.public_jwk().to_json();
        public["use"] = json!("enc");
        public["alg"] = json!("RSA-OAEP-256");
        admin_call(
            &http,
            config,
            reqwest::Method::PATCH,
            &format!("{api}/client-mgmt/client/{client_id}"),
            json!({"encPublicKey": public}),
        )
        .await?;
        Some(key)
    } else {
        None
    };
    let jwks_uri = text("jwks_uri")?;
    let verification_keys = RwLock::new(fetch_jwks(&http, &jwks_uri).await?);
    Ok(Setup {
        config: config.clone(),
        api,
        token_endpoint: text("token_endpoint")?,
        par_endpoint: text("pushed_authorization_request_endpoint")?,
        userinfo_endpoint: text("userinfo_endpoint")?,
        jwks_uri,
        client_id,
        redirect_uri,
        client_key,
        encryption_key,
        verification_keys,
    })
}

async fn admin_call(
    http: &reqwest::Client,
    config: &BenchConfig,
    method: reqwest::Method,
    url: &str,
    request: Value,
) -> anyhow::Result<()> {
    let body = json!({"requestTime": crate::flow::request_time(), "request": request});
    let response: Value = http
        .request(method, url)
        .bearer_auth(&config.admin_token)
        .json(&body)
        .send()
        .await?
        .json()
        .await
        .context("client registration answered with something other than JSON (is the admin token right?)")?;
    if response["errors"]
        .as_array()
        .is_some_and(|errors| !errors.is_empty())
    {
        bail!("client registration failed: {}", response["errors"]);
    }
    Ok(())
}
