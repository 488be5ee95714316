//! A PKCS#11 key vault for eSignet-rs: the service's signing keys (and the `ROOT` issuer they
//! chain to) are generated inside an HSM token, sensitive and non-extractable, and every
//! signature (tokens, certificates) is made by the token with `C_Sign`.
//!
//! [`Pkcs11Vault`] implements [`esignet_keys::KeyVault`]: a
//! [`KeyManager`](esignet_keys::KeyManager) opened with it keeps only certificates and a key
//! label in the key store. Keys are found again after a restart by that label.
//!
//! Sessions: PKCS#11 sessions are single-threaded, so the vault keeps a pool of sessions (up to
//! [`Pkcs11Config::max_sessions`]) and each signature borrows one; concurrent signatures run in
//! parallel up to the pool size and wait beyond it. One extra session holds the user login for
//! the life of the vault (a token logs an application out when its last session closes).
//!
//! Nothing here logs or returns the PIN.
#![deny(missing_docs)]

mod error;
mod kek;
mod key;
mod pool;

use std::path::PathBuf;
use std::sync::Arc;

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use esignet_keys::{KeyAlgorithm, KeyEncryptionKey, KeyError, KeyVault, VaultKey};
use zeroize::Zeroizing;

pub use error::Pkcs11Error;

use crate::key::TokenKey;
use crate::pool::SessionPool;

/// Which token of the module to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSelector {
    /// The token whose label is this (trailing blanks of the token's label ignored).
    Label(String),
    /// The token in this slot id.
    Slot(u64),
}

/// How to reach the token.
pub struct Pkcs11Config {
    /// The vendor's PKCS#11 module (`libsofthsm2.so`, a Luna or nShield library, ...).
    pub module: PathBuf,
    /// The token.
    pub token: TokenSelector,
    /// The user PIN.
    pub pin: Zeroizing<String>,
    /// Prefix of the labels of keys this vault creates (`<prefix>:<application>:<random>`), so
    /// several deployments can share a token.
    pub label_prefix: String,
    /// Most sessions open at once for signing (at least 1).
    pub max_sessions: usize,
}

impl std::fmt::Debug for Pkcs11Config {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token", &self.token)
            .field("pin", &"<redacted>")
            .field("label_prefix", &self.label_prefix)
            .field("max_sessions", &self.max_sessions)
            .finish()
    }
}

/// An open, logged-in PKCS#11 token holding signing keys.
pub struct Pkcs11Vault {
    pool: Arc<SessionPool>,
    label_prefix: String,
    token_label: String,
}

impl std::fmt::Debug for Pkcs11Vault {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Pkcs11Vault")
            .field("token", &self.token_label)
            .field("label_prefix", &self.label_prefix)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Vault {
    /// Loads the module, finds the token and logs in as the user. Blocking.
    ///
    /// Errors say which setting is wrong: the module path, the token, or the PIN (never its
    /// value).
    pub fn open(config: &Pkcs11Config) -> Result<Pkcs11Vault, Pkcs11Error> {
        if config.label_prefix.is_empty() || config.label_prefix.contains(':') {
            return Err(Pkcs11Error::Config(
                "the key label prefix must be non-empty and contain no ':'",
            ));
        }
        let context = Pkcs11::new(&config.module).map_err(|error| Pkcs11Error::Module {
            path: config.module.clone(),
            reason: error.to_string(),
        })?;
        match context.initialize(CInitializeArgs::OsThreads) {
            Ok(()) => {}
            // Another vault in this process initialised the module already.
            Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::CryptokiAlreadyInitialized,
                _,
            )) => {}
            Err(error) => {
                return Err(Pkcs11Error::Module {
                    path: config.module.clone(),
                    reason: error.to_string(),
                });
            }
        }
        let (slot, token_label) = find_token(&context, &config.token)?;
        let login = context
            .open_rw_session(slot)
            .map_err(|error| Pkcs11Error::token("open a session", &error))?;
        let pin = AuthPin::new(config.pin.as_str().to_owned());
        match login.login(UserType::User, Some(&pin)) {
            Ok(()) => {}
            Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::UserAlreadyLoggedIn,
                _,
            )) => {}
            Err(cryptoki::error::Error::Pkcs11(rv, _)) => {
                return Err(Pkcs11Error::Login {
                    token: token_label,
                    reason: login_refusal(rv),
                });
            }
            Err(error) => return Err(Pkcs11Error::token("log in", &error)),
        }
        let pool = SessionPool::new(context, slot, login, pin, config.max_sessions.max(1));
        Ok(Pkcs11Vault {
            pool: Arc::new(pool),
            label_prefix: config.label_prefix.clone(),
            token_label,
        })
    }

    /// The key-encryption key held in this token: the AES-256 key labelled `<prefix>:kek`
    /// (sensitive, non-extractable, generated on first use) seals software private keys with
    /// `CKM_AES_GCM`; derived secrets come from a derivation secret it seals, stored in the
    /// token as `<prefix>:kek-derivation-secret`. Blocking.
    pub fn key_encryption_key(&self) -> Result<KeyEncryptionKey, Pkcs11Error> {
        let kek = kek::open(self.pool.clone(), &self.label_prefix)?;
        tracing::info!(
            token = %self.token_label,
            "the key-encryption key is held in the HSM"
        );
        Ok(kek)
    }

    /// The label of the key-encryption key object in the token.
    pub fn kek_label(&self) -> String {
        format!("{}:kek", self.label_prefix)
    }

    /// The label of the token in use.
    pub fn token_label(&self) -> &str {
        &self.token_label
    }

    /// The labels of the private keys this vault's prefix names in the token, sorted (for
    /// operators and tests; a key whose record is gone shows up here as an orphan).
    pub fn key_labels(&self) -> Result<Vec<String>, Pkcs11Error> {
        let prefix = format!("{}:", self.label_prefix);
        let mut labels = self.pool.with_session("list keys", |session| {
            let handles = session.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])?;
            let mut labels = Vec::new();
            for handle in handles {
                for attribute in
                    session.get_attributes(handle, &[cryptoki::object::AttributeType::Label])?
                {
                    if let Attribute::Label(bytes) = attribute
                        && let Ok(label) = String::from_utf8(bytes)
                        && label.starts_with(&prefix)
                    {
                        labels.push(label);
                    }
                }
            }
            Ok(labels)
        })?;
        labels.sort();
        Ok(labels)
    }
}

impl KeyVault for Pkcs11Vault {
    fn generate(
        &self,
        application: &str,
        family: KeyAlgorithm,
    ) -> Result<Arc<dyn VaultKey>, KeyError> {
        if application.contains(':') {
            return Err(KeyError::Vault(
                "an application name must not contain ':'".into(),
            ));
        }
        let random = esignet_jose::b64url_encode(&esignet_jose::random_bytes(12));
        let label = format!("{}:{application}:{random}", self.label_prefix);
        let key = TokenKey::generate(self.pool.clone(), label, family)?;
        tracing::info!(
            token = %self.token_label,
            label = key.reference(),
            "generated a key in the HSM"
        );
        Ok(Arc::new(key))
    }

    fn import(
        &self,
        application: &str,
        key: &esignet_jose::PrivateKey,
    ) -> Result<Arc<dyn VaultKey>, KeyError> {
        if application.contains(':') {
            return Err(KeyError::Vault(
                "an application name must not contain ':'".into(),
            ));
        }
        let random = esignet_jose::b64url_encode(&esignet_jose::random_bytes(12));
        let label = format!("{}:{application}:{random}", self.label_prefix);
        let key = TokenKey::import(self.pool.clone(), label, key)?;
        tracing::info!(
            token = %self.token_label,
            label = key.reference(),
            "imported a key into the HSM"
        );
        Ok(Arc::new(key))
    }

    fn find(&self, reference: &str) -> Result<Arc<dyn VaultKey>, KeyError> {
        Ok(Arc::new(TokenKey::find(
            self.pool.clone(),
            reference.to_owned(),
            &self.token_label,
        )?))
    }
}

/// The slot and label of the configured token.
fn find_token(context: &Pkcs11, selector: &TokenSelector) -> Result<(Slot, String), Pkcs11Error> {
    let slots = context
        .get_slots_with_token()
        .map_err(|error| Pkcs11Error::token("list slots", &error))?;
    let mut labels = Vec::new();
    for slot in slots {
        let info = context
            .get_token_info(slot)
            .map_err(|error| Pkcs11Error::token("read token information", &error))?;
        let label = info.label().trim_end().to_owned();
        let wanted = match selector {
            TokenSelector::Label(wanted) => *wanted == label,
            TokenSelector::Slot(id) => slot.id() == *id,
        };
        if wanted {
            if !info.token_initialized() {
                return Err(Pkcs11Error::Config("the token is not initialised"));
            }
            return Ok((slot, label));
        }
        labels.push(format!("{label:?} (slot {})", slot.id()));
    }
    Err(Pkcs11Error::TokenNotFound {
        wanted: match selector {
            TokenSelector::Label(label) => format!("no token labelled {label:?}"),
            TokenSelector::Slot(id) => format!("no token in slot {id}"),
        },
        present: if labels.is_empty() {
            "none".to_owned()
        } else {
            labels.join(", ")
        },
    })
}

/// Why the token refused the login, in words an operator can act on.
fn login_refusal(rv: cryptoki::error::RvError) -> String {
    use cryptoki::error::RvError;
    match rv {
        RvError::PinIncorrect => "the PIN is wrong".to_owned(),
        RvError::PinLocked => "the PIN is locked (too many wrong attempts)".to_owned(),
        RvError::PinExpired => "the PIN has expired".to_owned(),
        RvError::PinLenRange => "the PIN has the wrong length for this token".to_owned(),
        RvError::UserPinNotInitialized => "the token's user PIN is not initialised".to_owned(),
        other => format!("login refused ({other})"),
    }
}

/// The `KeyType` for a family (used by the key module and for templates).
pub(crate) fn key_type(family: KeyAlgorithm) -> KeyType {
    match family {
        KeyAlgorithm::Rsa2048 => KeyType::RSA,
        KeyAlgorithm::EcP256 => KeyType::EC,
    }
}
