//! The key-vault seam: private keys that live in a hardware security module (or any device
//! that signs without ever handing out the key), instead of sealed in the key store.
//!
//! A [`KeyManager`](crate::KeyManager) opened with a vault generates its signing keys (and the
//! `ROOT` issuer they chain to) inside the vault. The store keeps what it always kept (public
//! certificate chain, validity) and, in place of the encrypted private key, a *reference*: the
//! vault's own name for the key (for PKCS#11, its `CKA_ID` / `CKA_LABEL`), so a restarted
//! process finds the same key again. The private key never exists outside the vault.

use std::sync::Arc;

use esignet_jose::{Algorithm, PrivateKey, PublicJwk};

use crate::{KeyAlgorithm, KeyError};

/// What a record's `encrypted_private_key` starts with when the key is held in a vault; the
/// reference (UTF-8) follows. Sealed records are AES-GCM output (random nonce first), so the
/// two cannot be confused by a reader that checks this exact prefix.
pub(crate) const REFERENCE_MARKER: &[u8] = b"esignet-vault-key/v1:";

/// A place that generates private keys and signs with them, never exporting them.
pub trait KeyVault: Send + Sync {
    /// Generates a key of `family` for `application` (the application name may be part of the
    /// key's label in the vault). The key is permanent (survives restarts) and cannot be
    /// extracted. Blocking: called from the blocking pool.
    fn generate(
        &self,
        application: &str,
        family: KeyAlgorithm,
    ) -> Result<Arc<dyn VaultKey>, KeyError>;

    /// Finds a key again from its [`VaultKey::reference`]. Fails with
    /// [`KeyError::Vault`] when the vault has no such key.
    fn find(&self, reference: &str) -> Result<Arc<dyn VaultKey>, KeyError>;

    /// Stores an existing private key (from an imported keystore) in the vault for
    /// `application`, as permanent and non-extractable as a generated one. Blocking. The
    /// default refuses: a vault that cannot import keeps keys it generated only.
    fn import(&self, application: &str, key: &PrivateKey) -> Result<Arc<dyn VaultKey>, KeyError> {
        let _ = (application, key);
        Err(KeyError::Vault("this key vault cannot import keys".into()))
    }
}

/// One private key held in a [`KeyVault`].
pub trait VaultKey: Send + Sync {
    /// The vault's name for this key, stored in the key record to find it after a restart.
    fn reference(&self) -> &str;

    /// The public key.
    fn public_key(&self) -> &PublicJwk;

    /// Signs `message` as JWS `alg` does: RS256 (RSASSA-PKCS1-v1_5 with SHA-256), PS256
    /// (RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt) or ES256 (ECDSA P-256 over SHA-256,
    /// the 64-byte `r || s` form). Blocking.
    fn sign(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, KeyError>;

    /// Deletes the key from the vault (used when a freshly generated key could not be stored,
    /// so no orphan is left behind).
    fn destroy(&self) -> Result<(), KeyError>;
}

/// The stored form of a vault key: the marker and its reference.
pub(crate) fn reference_bytes(key: &dyn VaultKey) -> Vec<u8> {
    let mut bytes = REFERENCE_MARKER.to_vec();
    bytes.extend_from_slice(key.reference().as_bytes());
    bytes
}

/// The vault reference stored in a record, if the record is of a vault key.
pub(crate) fn stored_reference(encrypted_private_key: &[u8]) -> Option<&str> {
    encrypted_private_key
        .strip_prefix(REFERENCE_MARKER)
        .and_then(|rest| std::str::from_utf8(rest).ok())
}
