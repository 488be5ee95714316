//! The demo relying-party client seeded on first start, so a fresh install can log in at once.
//! Its private key is written (owner-only permissions) where `[demo] private_key_file` says.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use esignet_config::Settings;
use esignet_jose::PrivateKey;
use esignet_spi::{ClientRecord, ClientStatus, ClientStore, Clock, StoreError};
use serde_json::{Map, Value, json};

/// Seeds the demo client unless it exists.
pub async fn seed(
    settings: &Settings,
    store: &dyn ClientStore,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let demo = &settings.demo;
    if store.get_client(&demo.client_id).await?.is_some() {
        if !demo.private_key_file.exists() {
            tracing::warn!(
                client_id = %demo.client_id,
                "the demo client exists but its private key file is missing; delete the data directory to re-seed"
            );
        }
        return Ok(());
    }
    let key = tokio::task::spawn_blocking(|| PrivateKey::generate_rsa(2048))
        .await
        .context("key generation task failed")?
        .context("cannot generate the demo client key")?;
    let public = key.public_jwk();
    let kid = public.thumbprint();
    let mut private_jwk = key
        .private_jwk_json()
        .context("cannot export the demo client key")?;
    if let Some(object) = private_jwk.as_object_mut() {
        object.insert("kid".into(), Value::String(kid.clone()));
        object.insert("alg".into(), Value::String("RS256".into()));
        object.insert("use".into(), Value::String("sig".into()));
    }
    let mut name = Map::new();
    name.insert("@none".into(), Value::String(demo.client_name.clone()));
    name.insert("eng".into(), Value::String(demo.client_name.clone()));
    let record = ClientRecord {
        client_id: demo.client_id.clone(),
        name,
        relying_party_id: format!("{}-rp", demo.client_id),
        logo_uri: format!("{}/logo.svg", demo_origin(&demo.redirect_uris)),
        redirect_uris: demo.redirect_uris.clone(),
        claims: settings.oidc.claims_supported.clone(),
        acr_values: settings.oidc.acr_values_supported.clone(),
        public_key: public.clone().with_kid(kid).to_json(),
        public_key_hash: public.identity_hash(),
        enc_public_key: None,
        grant_types: vec!["authorization_code".into()],
        auth_methods: vec!["private_key_jwt".into()],
        status: ClientStatus::Active,
        additional_config: Some(json!({
            "userinfo_response_type": "JWS",
            "purpose": {"type": "login"},
            "signup_banner_required": true,
            "forgot_pwd_link_required": true,
            "consent_expire_in_mins": 60,
        })),
        created_at: clock.now(),
        updated_at: None,
    };
    match store.insert_client(&record).await {
        Ok(()) => {
            // Written only once the client is registered, so the file always matches the stored
            // key even when several instances seed at once.
            write_private_file(
                &demo.private_key_file,
                &serde_json::to_vec_pretty(&private_jwk)?,
            )?;
            tracing::info!(client_id = %demo.client_id, key_file = %demo.private_key_file.display(), "seeded the demo client");
            Ok(())
        }
        // Another instance seeded it first.
        Err(StoreError::Conflict(_)) => Ok(()),
        Err(error) => Err(error).context("cannot seed the demo client"),
    }
}

fn demo_origin(redirect_uris: &[String]) -> String {
    redirect_uris
        .first()
        .and_then(|uri| uri.find("://").map(|i| (uri, i)))
        .map(|(uri, i)| {
            let rest = &uri[i + 3..];
            let host_end = rest.find('/').unwrap_or(rest.len());
            format!("{}{}", &uri[..i + 3], &rest[..host_end])
        })
        .unwrap_or_else(|| "http://127.0.0.1:8090".to_owned())
}

fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents)?;
    Ok(())
}
