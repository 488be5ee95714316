//! Hashes, identifiers, OTPs and the encryption of the individual id held in a transaction.

use esignet_jose::{b64url_decode, b64url_encode};
use openssl::hash::{MessageDigest, hash};
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};

use crate::codes;
use crate::envelope::SignupError;

/// base64url(SHA3-256(data)), eSignet's identifier and challenge hash.
pub fn sha3_b64u(data: &[u8]) -> Result<String, SignupError> {
    hash(MessageDigest::sha3_256(), data)
        .map(|digest| b64url_encode(&digest))
        .map_err(|_| SignupError::new(codes::UNKNOWN_ERROR))
}

/// `len` bytes from the operating system's CSPRNG.
pub fn random_bytes(len: usize) -> Result<Vec<u8>, SignupError> {
    let mut bytes = vec![0u8; len];
    openssl::rand::rand_bytes(&mut bytes).map_err(|_| SignupError::new(codes::UNKNOWN_ERROR))?;
    Ok(bytes)
}

/// A transaction id: B64U(SHA3-256(random UUID ‖ timestamp ‖ random)), as eSignet signup
/// builds them (the random part is 32 CSPRNG bytes here rather than 10 characters).
pub fn transaction_id(now_millis: i128) -> Result<String, SignupError> {
    let mut seed = uuid::Uuid::new_v4().to_string().into_bytes();
    seed.extend_from_slice(now_millis.to_string().as_bytes());
    seed.extend(random_bytes(32)?);
    sha3_b64u(&seed)
}

/// A numeric OTP of `length` digits, uniform (rejection sampling avoids the modulo bias).
pub fn numeric_otp(length: usize) -> Result<String, SignupError> {
    let mut otp = String::with_capacity(length);
    while otp.len() < length {
        for byte in random_bytes(length * 2)? {
            // 250 is the largest multiple of 10 not above 256.
            if byte < 250 && otp.len() < length {
                otp.push(char::from(b'0' + byte % 10));
            }
        }
    }
    Ok(otp)
}

/// Constant-time equality of two hashes or tokens.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Encrypts the individual id kept in a verified reset transaction (AES-256-GCM, random nonce):
/// B64U(nonce ‖ ciphertext ‖ tag).
pub fn seal(key: &[u8; 32], plaintext: &str) -> Result<String, SignupError> {
    let nonce = random_bytes(12)?;
    let mut tag = [0u8; 16];
    let ciphertext = encrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(&nonce),
        b"signup-individual-id",
        plaintext.as_bytes(),
        &mut tag,
    )
    .map_err(|_| SignupError::new("crypto_error"))?;
    let mut out = nonce;
    out.extend(ciphertext);
    out.extend(tag);
    Ok(b64url_encode(&out))
}

/// Reverses [`seal`].
pub fn open(key: &[u8; 32], sealed: &str) -> Result<String, SignupError> {
    let bytes = b64url_decode(sealed).map_err(|_| SignupError::new("crypto_error"))?;
    if bytes.len() < 28 {
        return Err(SignupError::new("crypto_error"));
    }
    let (nonce, rest) = bytes.split_at(12);
    let (ciphertext, tag) = rest.split_at(rest.len() - 16);
    let plain = decrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(nonce),
        b"signup-individual-id",
        ciphertext,
        tag,
    )
    .map_err(|_| SignupError::new("crypto_error"))?;
    String::from_utf8(plain).map_err(|_| SignupError::new("crypto_error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otp_has_the_length_and_only_digits() {
        for length in [4, 6, 10] {
            let otp = numeric_otp(length).expect("otp");
            assert_eq!(otp.len(), length);
            assert!(otp.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn sealed_ids_open_only_with_their_key() {
        let key = [7u8; 32];
        let sealed = seal(&key, "8267411571").expect("seal");
        assert_eq!(open(&key, &sealed).expect("open"), "8267411571");
        assert!(open(&[8u8; 32], &sealed).is_err());
    }

    #[test]
    fn sha3_matches_the_known_vector() {
        // Computed independently with Python's hashlib.
        assert_eq!(
            sha3_b64u(b"").expect("hash"),
            "p__G-L8e12ZRwUdWoGHWYvWA_03kO0n6gtgKS4D4Q0o"
        );
        assert_eq!(
            sha3_b64u(b"9123456780").expect("hash"),
            "GGhy0gLBholsMU5YbuErBoHweAxpfValBC648iNefSs"
        );
    }
}
