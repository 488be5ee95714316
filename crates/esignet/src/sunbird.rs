//! Wiring of `authenticator.kind = "sunbird-rc"`: the Sunbird RC authenticator with its own
//! userinfo signing keys (opened from the service's key store) and no wallet key binding.

use std::sync::Arc;

use anyhow::Context;
use esignet_authenticator_sunbird::{
    KbiField, NoKeyBinder, PsutDerivation, SunbirdAuthenticator, SunbirdConfig,
};
use esignet_config::{Settings, SunbirdPsut};
use esignet_keys::{KeyEncryptionKey, KeyManager};
use esignet_spi::{Authenticator, Cache, Clock, KeyBinder};

use crate::backends::Store;

/// Key application that signs Sunbird RC userinfo; eSignet's sunbird-rc plugin signs with its
/// keymanager's `OIDC_PARTNER` key, so the name is kept.
pub const SUNBIRD_KYC_KEYS: &str = "OIDC_PARTNER";

/// The authenticator, its (refusing) key binder and the signing keys' rotation task.
pub async fn sunbird_authenticator(
    settings: &Settings,
    store: Arc<dyn Store>,
    kek: Arc<KeyEncryptionKey>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(
    Arc<dyn Authenticator>,
    Arc<dyn KeyBinder>,
    tokio::task::JoinHandle<()>,
)> {
    let keys = KeyManager::open(
        store,
        kek,
        clock.clone(),
        SUNBIRD_KYC_KEYS,
        crate::app::key_policy(settings, "Sunbird RC KYC signing")?,
    )
    .await
    .context("cannot open the Sunbird RC userinfo signing keys")?;
    let rotation = keys.spawn_rotation(settings.keys.rotation_check_interval);
    let section = &settings.sunbird_rc;
    let config = SunbirdConfig {
        search_url: section.search_url.clone(),
        entity_url: section.entity_url.clone(),
        kbi_fields: section
            .kbi_fields
            .iter()
            .map(|(form_field, attribute)| KbiField {
                form_field: form_field.clone(),
                attribute: attribute.clone(),
            })
            .collect(),
        individual_id_field: section.individual_id_field.clone(),
        entity_id_field: section.entity_id_field.clone(),
        psut: match section.psut {
            SunbirdPsut::EntityId => PsutDerivation::EntityId,
            SunbirdPsut::Pairwise => PsutDerivation::Pairwise,
        },
        claims: section.claims.clone(),
        headers: section
            .bearer_token
            .iter()
            .map(|token| {
                (
                    "Authorization".to_owned(),
                    format!("Bearer {}", token.expose()),
                )
            })
            .collect(),
        timeout: section.timeout,
        connect_timeout: section.connect_timeout,
        kyc_token_ttl: section.kyc_token_ttl,
        issuer: settings.issuer().to_owned(),
        default_language: section.default_language.clone(),
    };
    let authenticator = SunbirdAuthenticator::new(config, keys, cache, clock)
        .context("cannot set up the Sunbird RC authenticator")?;
    Ok((Arc::new(authenticator), Arc::new(NoKeyBinder), rotation))
}
