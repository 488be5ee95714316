//! The key-encryption key (KEK): the one secret that protects every private key at rest.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

use crate::KeyError;
use crate::sealer::{KeyWrapper, Sealer};

/// Length of the key-encryption key in bytes (AES-256).
pub const KEK_LEN: usize = 32;

/// HMAC-SHA256 block size.
const HMAC_BLOCK: usize = 64;

/// A 256-bit key-encryption key.
///
/// In software, private keys are sealed with a key derived from it
/// ([`KeyEncryptionKey::derive`]), as are other secrets the service keeps outside memory. Held
/// in an HSM ([`KeyEncryptionKey::held_in_vault`]), private keys are sealed by the HSM and
/// [`KeyEncryptionKey::derive`] uses a separate derivation secret that the HSM key seals at
/// rest. The bytes are wiped on drop and never shown by `Debug`.
pub struct KeyEncryptionKey {
    /// The software KEK, or (held in a vault) the derivation secret.
    bytes: Zeroizing<[u8; KEK_LEN]>,
    /// The HSM key that seals private keys; `None` for a software KEK.
    wrapper: Option<Arc<dyn KeyWrapper>>,
}

impl KeyEncryptionKey {
    /// A KEK from its base64 text: standard base64 with padding (what `openssl rand -base64 32`
    /// prints) or unpadded base64url, surrounding whitespace ignored. It must decode to exactly
    /// 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let decoded = Zeroizing::new(
            STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE_NO_PAD.decode(text))
                .map_err(|_| KeyError::InvalidKek("not valid base64"))?,
        );
        if decoded.len() != KEK_LEN {
            return Err(KeyError::InvalidKek("must decode to exactly 32 bytes"));
        }
        let mut bytes = Zeroizing::new([0u8; KEK_LEN]);
        bytes.copy_from_slice(&decoded);
        Ok(Self {
            bytes,
            wrapper: None,
        })
    }

    /// A KEK held in a device: private keys are sealed and opened by `wrapper` (the key never
    /// enters this process), and [`KeyEncryptionKey::derive`] derives from `derivation_secret`,
    /// a random secret the device's key seals at rest (the device cannot hand out HMACs of its
    /// non-extractable AES key, and the flow-cache and captcha keys must be the same on every
    /// instance without a second secret to distribute).
    pub fn held_in_vault(
        wrapper: Arc<dyn KeyWrapper>,
        derivation_secret: Zeroizing<[u8; KEK_LEN]>,
    ) -> Self {
        Self {
            bytes: derivation_secret,
            wrapper: Some(wrapper),
        }
    }

    /// Whether the KEK is an HSM key (private keys are sealed by the HSM).
    pub fn is_held_in_vault(&self) -> bool {
        self.wrapper.is_some()
    }

    /// How private keys are sealed under this KEK.
    pub(crate) fn sealer(&self, label: &str) -> Sealer {
        match &self.wrapper {
            Some(wrapper) => Sealer::Wrapper(wrapper.clone()),
            None => Sealer::Software(Arc::new(Zeroizing::new(self.derive(label)))),
        }
    }

    /// Reads the KEK from `path` (base64, as for [`KeyEncryptionKey::from_base64`]). If the file
    /// does not exist, generates a random KEK and writes it there, readable by the owner only
    /// (mode 0600 on Unix), creating missing parent directories. Two processes racing to create
    /// the file end up with the same key: the loser reads the winner's file.
    ///
    /// Losing this file makes every stored private key unreadable; back it up (or provide the
    /// KEK from a secret manager with [`KeyEncryptionKey::from_base64`]).
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::from_file_text(path, Zeroizing::new(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(KeyError::KekFile(error)),
        }
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(KeyError::KekFile)?;
        }
        let mut bytes = Zeroizing::new([0u8; KEK_LEN]);
        bytes.copy_from_slice(&esignet_jose::random_bytes(KEK_LEN));
        let text = Zeroizing::new(format!("{}\n", STANDARD.encode(bytes.as_slice())));

        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(text.as_bytes()).map_err(KeyError::KekFile)?;
                file.sync_all().map_err(KeyError::KekFile)?;
                tracing::warn!(
                    "generated a new key-encryption key file; back it up: without it the stored \
                     private keys cannot be decrypted"
                );
                Ok(Self {
                    bytes,
                    wrapper: None,
                })
            }
            // Another process created it between our read and our create: use theirs.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(KeyError::KekFile)?;
                Self::from_file_text(path, Zeroizing::new(text))
            }
            Err(error) => Err(KeyError::KekFile(error)),
        }
    }

    fn from_file_text(path: &Path, text: Zeroizing<String>) -> Result<Self, KeyError> {
        warn_if_readable_by_others(path);
        Self::from_base64(&text)
    }

    /// A 32-byte subkey for `label`: HMAC-SHA256(KEK, label). Different labels give independent
    /// keys, so one KEK can protect several kinds of data without key reuse across them.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        hmac_sha256(self.bytes.as_slice(), label.as_bytes())
    }
}

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("KeyEncryptionKey(<redacted>)")
    }
}

/// HMAC-SHA256 (RFC 2104) for keys no longer than one block, built on OpenSSL's infallible
/// SHA-256 so that derivation cannot fail.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    debug_assert!(key.len() <= HMAC_BLOCK);
    let mut inner_pad = Zeroizing::new([0x36u8; HMAC_BLOCK]);
    let mut outer_pad = Zeroizing::new([0x5cu8; HMAC_BLOCK]);
    for (index, byte) in key.iter().enumerate() {
        inner_pad[index] ^= byte;
        outer_pad[index] ^= byte;
    }
    let mut inner = openssl::sha::Sha256::new();
    inner.update(inner_pad.as_slice());
    inner.update(message);
    let inner_hash = Zeroizing::new(inner.finish());
    let mut outer = openssl::sha::Sha256::new();
    outer.update(outer_pad.as_slice());
    outer.update(inner_hash.as_slice());
    outer.finish()
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(metadata) = std::fs::metadata(path)
        && metadata.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            "the key-encryption key file is accessible to group or others; use mode 0600"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_is_hmac_sha256() {
        let kek = KeyEncryptionKey::from_base64(&STANDARD.encode([0x0bu8; 32])).unwrap();
        let expected = {
            let key = openssl::pkey::PKey::hmac(&[0x0bu8; 32]).unwrap();
            let mut signer =
                openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
            signer.sign_oneshot_to_vec(b"flow-cache").unwrap()
        };
        assert_eq!(kek.derive("flow-cache").to_vec(), expected);
        assert_ne!(kek.derive("flow-cache"), kek.derive("private-keys"));
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            esignet_jose::b64url_encode(&mac),
            esignet_jose::b64url_encode(&[
                0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
                0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
                0x64, 0xec, 0x38, 0x43
            ])
        );
    }

    #[test]
    fn from_base64_accepts_both_alphabets_and_checks_length() {
        let bytes = [0xfbu8; 32];
        let standard = KeyEncryptionKey::from_base64(&format!(" {}\n", STANDARD.encode(bytes)));
        let url = KeyEncryptionKey::from_base64(&URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(standard.unwrap().derive("x"), url.unwrap().derive("x"));
        for bad in [
            STANDARD.encode([1u8; 31]),
            STANDARD.encode([1u8; 33]),
            "not base64!".to_owned(),
            String::new(),
        ] {
            assert!(
                matches!(
                    KeyEncryptionKey::from_base64(&bad),
                    Err(KeyError::InvalidKek(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_is_redacted() {
        let kek = KeyEncryptionKey::from_base64(&STANDARD.encode([0x41u8; 32])).unwrap();
        let debug = format!("{kek:?}");
        assert_eq!(debug, "KeyEncryptionKey(<redacted>)");
    }

    #[test]
    fn load_or_create_creates_once_then_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/kek.b64");
        let created = KeyEncryptionKey::load_or_create(&path).unwrap();
        let loaded = KeyEncryptionKey::load_or_create(&path).unwrap();
        assert_eq!(created.derive("x"), loaded.derive("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = KeyEncryptionKey::load_or_create(&dir.path().join("other.b64")).unwrap();
        assert_ne!(other.derive("x"), created.derive("x"));
    }

    #[test]
    fn load_or_create_rejects_a_corrupt_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek.b64");
        std::fs::write(&path, "too short").unwrap();
        assert!(matches!(
            KeyEncryptionKey::load_or_create(&path),
            Err(KeyError::InvalidKek(_))
        ));
        // The corrupt file is left alone rather than silently replaced.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "too short");
    }
}
