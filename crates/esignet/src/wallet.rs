//! Wiring of the wallet flows (key binding, QR-code login): the key binder of the configured
//! identity system and the public key registry of the configured store.

use std::sync::Arc;

use anyhow::Context;
use esignet_config::Settings;
use esignet_core::WalletSupport;
use esignet_keys::{KeyEncryptionKey, KeyManager};
use esignet_mock_authenticator::{MockAuthenticator, MockKeyBinder};
use esignet_spi::{BindingStore, Clock, KeyBinder};

use crate::backends::Store;
use crate::core_config::wallet_config;

/// Key application of the built-in mock identity system's binding CA (it certifies wallet
/// keys), as MOSIP's keymanager names it.
pub const MOCK_BINDING_KEYS: &str = "MOCK_BINDING_SERVICE";

/// The built-in mock identity system's key binder, its binding CA keys opened (generated on
/// first start) from the service's key store, and the CA keys' rotation task.
pub async fn mock_key_binder(
    settings: &Settings,
    store: Arc<dyn Store>,
    kek: Arc<KeyEncryptionKey>,
    clock: Arc<dyn Clock>,
    mock: Arc<MockAuthenticator>,
) -> anyhow::Result<(Arc<dyn KeyBinder>, tokio::task::JoinHandle<()>)> {
    let policy = crate::app::key_policy(settings, "Mock identity system wallet binding CA")?
        .issuing_certificates();
    let keys = KeyManager::open(store, kek, clock, MOCK_BINDING_KEYS, policy)
        .await
        .context("cannot open the mock identity system's binding CA keys")?;
    let rotation = keys.spawn_rotation(settings.keys.rotation_check_interval);
    let validity = time::Duration::try_from(settings.wallet.certificate_validity)
        .context("wallet.certificate_validity_days out of range")?;
    Ok((Arc::new(MockKeyBinder::new(mock, keys, validity)), rotation))
}

/// The wallet support of the core, when both a key binder and a key registry are available;
/// otherwise the wallet endpoints answer `not_implemented` (logged once here).
pub fn wallet_support(
    settings: &Settings,
    binder: Option<Arc<dyn KeyBinder>>,
    bindings: Option<Arc<dyn BindingStore>>,
) -> Option<WalletSupport> {
    match (binder, bindings) {
        (Some(binder), Some(bindings)) => Some(WalletSupport {
            config: wallet_config(settings),
            binder,
            bindings,
        }),
        (binder, bindings) => {
            tracing::warn!(
                key_binder = binder.is_some(),
                key_registry = bindings.is_some(),
                "wallet binding and QR-code login are off: they need a key binder and a store with a public key registry"
            );
            None
        }
    }
}
