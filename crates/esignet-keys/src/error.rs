//! The crate's error type.

use esignet_spi::StoreError;

/// Why a key operation failed. Messages carry key ids (public) but never key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key store failed.
    #[error("key store: {0}")]
    Store(#[from] StoreError),
    /// A stored private key could not be decrypted: almost always a different key-encryption
    /// key than the one the key was stored with (otherwise, a damaged record).
    #[error("cannot decrypt key {kid}: wrong key-encryption key?")]
    WrongKek {
        /// The key that could not be decrypted.
        kid: String,
    },
    /// The key-encryption key text is unusable.
    #[error("invalid key-encryption key: {0}")]
    InvalidKek(&'static str),
    /// The key-encryption key file could not be read or created.
    #[error("key-encryption key file: {0}")]
    KekFile(#[source] std::io::Error),
    /// The key policy is inconsistent; the string names the rule.
    #[error("invalid key policy: {0}")]
    InvalidPolicy(&'static str),
    /// A stored key decrypted but does not make sense (bad certificate, mismatched key).
    #[error("corrupt key record {kid}: {reason}")]
    Corrupt {
        /// The affected key.
        kid: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Key generation, sealing or certificate building failed in the crypto backend.
    #[error("crypto: {0}")]
    Crypto(String),
    /// The key vault (an HSM) failed, refused, or does not hold a key a record refers to. The
    /// message never carries a PIN or key material.
    #[error("key vault: {0}")]
    Vault(String),
    /// A keystore offered for import was refused (wrong password, no private key, an
    /// unsupported key, an expired certificate, a key that does not match its certificate).
    #[error("cannot import the keystore: {0}")]
    Import(String),
    /// The blocking key-generation task panicked or was cancelled.
    #[error("key generation task failed")]
    Task,
}

impl From<esignet_jose::JoseError> for KeyError {
    fn from(error: esignet_jose::JoseError) -> Self {
        KeyError::Crypto(error.to_string())
    }
}

impl From<openssl::error::ErrorStack> for KeyError {
    fn from(error: openssl::error::ErrorStack) -> Self {
        KeyError::Crypto(error.to_string())
    }
}
