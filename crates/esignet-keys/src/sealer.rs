//! Sealing private keys at rest: under a software KEK (AES-256-GCM in this process) or through
//! a [`KeyWrapper`] whose key never leaves an HSM.

use std::sync::Arc;

use esignet_jose::aead;
use zeroize::Zeroizing;

use crate::KeyError;

/// What a sealed private key starts with when the HSM key-encryption key sealed it; the
/// wrapper's output follows. Software-sealed records start with a random nonce, so a reader
/// that checks this exact prefix cannot confuse the two (and can say which KEK is missing).
const HSM_SEALED_MARKER: &[u8] = b"esignet-hsm-kek/v1:";

/// Encryption under a key held in a device (an HSM's AES key): the key itself is never handed
/// to the process, only the results of `wrap` and `unwrap`.
pub trait KeyWrapper: Send + Sync {
    /// Encrypts and authenticates `plaintext`, binding `aad`. Blocking (one HSM call).
    fn wrap(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, KeyError>;

    /// Reverses [`KeyWrapper::wrap`]; fails if `wrapped` or `aad` was altered, or another key
    /// wrapped it. Blocking.
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError>;
}

/// How a [`KeyManager`](crate::KeyManager) seals the private keys it stores. Cheap to clone.
#[derive(Clone)]
pub(crate) enum Sealer {
    /// AES-256-GCM under a key derived from the software KEK.
    Software(Arc<Zeroizing<[u8; 32]>>),
    /// Through the HSM's key-encryption key.
    Wrapper(Arc<dyn KeyWrapper>),
}

impl Sealer {
    /// Whether sealing calls a device (so must run on the blocking pool).
    pub(crate) fn is_blocking(&self) -> bool {
        matches!(self, Sealer::Wrapper(_))
    }

    /// Seals `plaintext` with `aad` (the key id) bound to it.
    pub(crate) fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Sealer::Software(key) => Ok(aead::seal(key, plaintext, aad)?),
            Sealer::Wrapper(wrapper) => {
                let mut sealed = HSM_SEALED_MARKER.to_vec();
                sealed.extend_from_slice(&wrapper.wrap(plaintext, aad)?);
                Ok(sealed)
            }
        }
    }

    /// Opens what [`Sealer::seal`] made for key `kid`. A record sealed by the other kind of KEK
    /// is reported as such (not as a wrong key), so an operator knows which setting is missing.
    pub(crate) fn open(
        &self,
        sealed: &[u8],
        aad: &[u8],
        kid: &str,
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let wrong = || KeyError::WrongKek {
            kid: kid.to_owned(),
        };
        match (self, sealed.strip_prefix(HSM_SEALED_MARKER)) {
            (Sealer::Software(key), None) => Ok(Zeroizing::new(
                aead::open(key, sealed, aad).map_err(|_| wrong())?,
            )),
            (Sealer::Wrapper(wrapper), Some(wrapped)) => wrapper.unwrap(wrapped, aad),
            (Sealer::Software(_), Some(_)) => Err(KeyError::Vault(format!(
                "key {kid} is sealed by the key-encryption key in the HSM, but keys.pkcs11_kek \
                 is off"
            ))),
            (Sealer::Wrapper(_), None) => Err(KeyError::Vault(format!(
                "key {kid} is sealed by a software key-encryption key, but keys.pkcs11_kek is \
                 on (the HSM's key-encryption key cannot open it)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in device: AES-GCM under a fixed key, so the marker logic is tested alone.
    struct FakeWrapper([u8; 32]);

    impl KeyWrapper for FakeWrapper {
        fn wrap(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, KeyError> {
            Ok(aead::seal(&self.0, plaintext, aad)?)
        }
        fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
            Ok(Zeroizing::new(aead::open(&self.0, wrapped, aad)?))
        }
    }

    #[test]
    fn each_kind_opens_its_own_and_names_the_other() {
        let software = Sealer::Software(Arc::new(Zeroizing::new([1u8; 32])));
        let device = Sealer::Wrapper(Arc::new(FakeWrapper([2u8; 32])));
        let by_software = software.seal(b"secret", b"kid").unwrap();
        let by_device = device.seal(b"secret", b"kid").unwrap();
        assert!(by_device.starts_with(HSM_SEALED_MARKER));
        assert_eq!(
            software
                .open(&by_software, b"kid", "kid")
                .unwrap()
                .as_slice(),
            b"secret"
        );
        assert_eq!(
            device.open(&by_device, b"kid", "kid").unwrap().as_slice(),
            b"secret"
        );
        let error = software.open(&by_device, b"kid", "kid").unwrap_err();
        assert!(
            error.to_string().contains("keys.pkcs11_kek is off"),
            "{error}"
        );
        let error = device.open(&by_software, b"kid", "kid").unwrap_err();
        assert!(
            error.to_string().contains("keys.pkcs11_kek is on"),
            "{error}"
        );
        assert!(matches!(
            software.open(&by_software, b"other", "kid"),
            Err(KeyError::WrongKek { .. })
        ));
        assert!(device.is_blocking() && !software.is_blocking());
    }
}
