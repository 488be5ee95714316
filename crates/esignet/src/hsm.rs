//! The HSM (PKCS#11) key vault of `keys.backend = "pkcs11"`, and its check for `config check`.

use std::sync::Arc;

use anyhow::Context;
use esignet_config::{Pkcs11Token, Settings};
use esignet_pkcs11::{Pkcs11Config, Pkcs11Vault, TokenSelector};

/// The vault of the service signing keys: `None` for software keys. Blocking (loads the module
/// and logs in): run before serving. Open it once per process: the module is finalised when
/// the vault is dropped.
pub fn open_vault(settings: &Settings) -> anyhow::Result<Option<Arc<Pkcs11Vault>>> {
    let Some(pkcs11) = &settings.keys.pkcs11 else {
        return Ok(None);
    };
    let config = Pkcs11Config {
        module: pkcs11.module.clone(),
        token: match &pkcs11.token {
            Pkcs11Token::Label(label) => TokenSelector::Label(label.clone()),
            Pkcs11Token::Slot(slot) => TokenSelector::Slot(*slot),
        },
        pin: zeroize::Zeroizing::new(pkcs11.pin.expose().to_owned()),
        label_prefix: pkcs11.key_label_prefix.clone(),
        max_sessions: pkcs11.max_sessions,
    };
    let vault = Pkcs11Vault::open(&config).context("cannot open the HSM (keys.pkcs11_*)")?;
    tracing::info!(
        token = vault.token_label(),
        "signing keys are held in the HSM"
    );
    Ok(Some(Arc::new(vault)))
}
