//! The few cryptographic primitives the mock needs, all on OpenSSL.
//!
//! Hashes follow the Java mock byte for byte (SHA3-256 base64url for cache keys and PSUTs,
//! upper-case hex SHA-256 for stored passwords), so data and subjects stay comparable with it.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use openssl::error::ErrorStack;
use openssl::hash::{MessageDigest, hash};

/// Base64url (no padding) of the SHA3-256 digest of `input`'s UTF-8 bytes; the Java mock's
/// `SHA3-256-B64U`.
pub fn sha3_256_b64u(input: &str) -> Result<String, ErrorStack> {
    let digest = hash(MessageDigest::sha3_256(), input.as_bytes())?;
    Ok(URL_SAFE_NO_PAD.encode(digest))
}

/// Upper-case hex of the SHA-256 digest of `plaintext`: the form in which identities store their
/// password (the Java mock replaces the plaintext with this on create and update).
pub fn hash_password(plaintext: &str) -> Result<String, ErrorStack> {
    let digest = hash(MessageDigest::sha256(), plaintext.as_bytes())?;
    Ok(digest.iter().map(|byte| format!("{byte:02X}")).collect())
}

/// Compares two secrets without leaking, through timing, where they first differ.
///
/// Both sides are hashed first so that inputs of different lengths compare in constant time too
/// (`openssl::memcmp::eq` itself requires equal lengths). Fails closed: a hashing error is
/// "not equal".
pub(crate) fn secrets_match(supplied: &[u8], expected: &[u8]) -> bool {
    match (
        hash(MessageDigest::sha256(), supplied),
        hash(MessageDigest::sha256(), expected),
    ) {
        (Ok(left), Ok(right)) => openssl::memcmp::eq(&left, &right),
        _ => false,
    }
}

/// A fresh random identifier: 32 random bytes as 43 base64url characters.
pub(crate) fn random_id() -> Result<String, ErrorStack> {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Decodes base64 in either alphabet (standard or URL-safe), with or without padding.
///
/// Challenges arrive in both forms in practice (the login UI encodes some with `btoa`, others as
/// base64url), so the mock accepts either rather than rejecting a resident over an encoding
/// detail. Returns `None` when the input is not base64 at all.
pub(crate) fn decode_base64_lenient(input: &str) -> Option<Vec<u8>> {
    let trimmed = input.trim().trim_end_matches('=');
    if trimmed.contains(['-', '_']) {
        URL_SAFE_NO_PAD.decode(trimmed).ok()
    } else {
        STANDARD_NO_PAD.decode(trimmed).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_is_upper_hex_sha256() {
        // SHA-256("password"), a well-known vector.
        assert_eq!(
            hash_password("password").unwrap(),
            "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"
        );
    }

    #[test]
    fn sha3_b64u_matches_known_vector() {
        // SHA3-256("abc") = 3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532.
        assert_eq!(
            sha3_256_b64u("abc").unwrap(),
            "Ophdp0_iJbIEXBcta9OQvYVfCG4-nVJbRr_iRRFDFTI"
        );
    }

    #[test]
    fn secrets_match_only_on_equal_input() {
        assert!(secrets_match(b"482916", b"482916"));
        assert!(!secrets_match(b"482916", b"482917"));
        assert!(!secrets_match(b"48291", b"482916"));
        assert!(!secrets_match(b"", b"482916"));
    }

    #[test]
    fn random_ids_are_43_base64url_chars_and_differ() {
        let first = random_id().unwrap();
        let second = random_id().unwrap();
        assert_eq!(first.len(), 43);
        assert!(
            first
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(first, second);
    }

    #[test]
    fn lenient_base64_accepts_both_alphabets_and_padding() {
        // 0xfb 0xff 0xfe encodes to "+//+" (standard) and "-__-" (URL-safe).
        let bytes = vec![0xfb, 0xff, 0xfe];
        assert_eq!(decode_base64_lenient("+//+"), Some(bytes.clone()));
        assert_eq!(decode_base64_lenient("-__-"), Some(bytes));
        assert_eq!(decode_base64_lenient("YWI="), Some(b"ab".to_vec()));
        assert_eq!(decode_base64_lenient("YWI"), Some(b"ab".to_vec()));
        assert_eq!(decode_base64_lenient("not base64!"), None);
    }
}
