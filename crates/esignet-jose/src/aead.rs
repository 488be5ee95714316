//! AES-256-GCM sealing for data at rest (encrypted private keys, encrypted cache entries).
//!
//! Format: `nonce (12 bytes) || ciphertext || tag (16 bytes)`. The nonce is random per call;
//! with 96-bit random nonces a single key stays well inside the GCM safety bound for the number
//! of messages this service seals.

use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};

use crate::JoseError;
use crate::util::fill_random;

/// Length of the random nonce prefixed to every sealed message.
pub const NONCE_LEN: usize = 12;
/// Length of the authentication tag appended to every sealed message.
pub const TAG_LEN: usize = 16;

/// Encrypts and authenticates `plaintext`, binding `aad` (which must be presented again to
/// [`open`]). Returns `nonce || ciphertext || tag`.
pub fn seal(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, JoseError> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce);
    let mut tag = [0u8; TAG_LEN];
    let ciphertext = encrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(&nonce),
        aad,
        plaintext,
        &mut tag,
    )?;
    let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len() + TAG_LEN);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    sealed.extend_from_slice(&tag);
    Ok(sealed)
}

/// Authenticates and decrypts the output of [`seal`]. Fails with
/// [`JoseError::DecryptionFailed`] for a wrong key, a different `aad`, or any modification.
pub fn open(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, JoseError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(JoseError::DecryptionFailed);
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    decrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(nonce),
        aad,
        ciphertext,
        tag,
    )
    .map_err(|_| JoseError::DecryptionFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7u8; 32];

    #[test]
    fn round_trip_with_fresh_nonces() {
        let first = seal(&KEY, b"private key bytes", b"kid-1").unwrap();
        let second = seal(&KEY, b"private key bytes", b"kid-1").unwrap();
        assert_eq!(first.len(), NONCE_LEN + 17 + TAG_LEN);
        assert_ne!(first, second, "nonces must differ");
        assert_eq!(open(&KEY, &first, b"kid-1").unwrap(), b"private key bytes");
        assert_eq!(
            open(&KEY, &seal(&KEY, b"", b"").unwrap(), b"").unwrap(),
            b""
        );
    }

    #[test]
    fn wrong_key_aad_or_tampering_fail() {
        let sealed = seal(&KEY, b"secret", b"kid-1").unwrap();
        assert!(matches!(
            open(&[8u8; 32], &sealed, b"kid-1"),
            Err(JoseError::DecryptionFailed)
        ));
        assert!(matches!(
            open(&KEY, &sealed, b"kid-2"),
            Err(JoseError::DecryptionFailed)
        ));
        for index in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[index] ^= 1;
            assert!(open(&KEY, &tampered, b"kid-1").is_err(), "byte {index}");
        }
        assert!(open(&KEY, &sealed[..NONCE_LEN + TAG_LEN - 1], b"kid-1").is_err());
        assert!(open(&KEY, &[], b"kid-1").is_err());
    }
}
