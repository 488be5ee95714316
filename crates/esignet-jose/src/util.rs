//! Encoding, hashing, randomness and comparison helpers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::hash::MessageDigest;

use crate::JoseError;

/// base64url without padding (RFC 7515 §2).
pub fn b64url_encode(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Decodes unpadded base64url. Padding, characters outside the URL-safe alphabet, whitespace
/// and non-canonical trailing bits are all rejected, so every byte string has exactly one
/// accepted encoding.
pub fn b64url_decode(text: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JoseError::InvalidBase64)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(data)
}

/// base64url(SHA-256(`data`)).
pub fn sha256_b64url(data: &[u8]) -> String {
    b64url_encode(&sha256(data))
}

/// base64url(SHA3-256(`data`)), the hash eSignet uses for individual ids in audit and blocking.
///
/// # Panics
///
/// If the linked OpenSSL has no SHA3-256 (every OpenSSL since 1.1.1 has it, including the FIPS
/// provider); there is no meaningful fallback for a missing hash function.
pub fn sha3_256_b64url(data: &[u8]) -> String {
    match openssl::hash::hash(MessageDigest::sha3_256(), data) {
        Ok(digest) => b64url_encode(&digest),
        Err(error) => panic!("OpenSSL SHA3-256 unavailable: {error}"),
    }
}

/// base64url of the left-most 128 bits of SHA-256(`data`): the `at_hash` / `c_hash` value for
/// the 256-bit JWS algorithms (OpenID Connect Core §3.1.3.6).
pub fn half_sha256_b64url(data: &[u8]) -> String {
    b64url_encode(&sha256(data)[..16])
}

/// `count` bytes from OpenSSL's CSPRNG.
///
/// # Panics
///
/// If the CSPRNG cannot produce output (the OS entropy source is unavailable). Carrying on with
/// predictable bytes would be a security failure, so this fails closed.
pub fn random_bytes(count: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; count];
    fill_random(&mut bytes);
    bytes
}

/// Fills `buffer` from OpenSSL's CSPRNG; panics (fails closed) if the CSPRNG is unavailable.
pub(crate) fn fill_random(buffer: &mut [u8]) {
    if let Err(error) = openssl::rand::rand_bytes(buffer) {
        panic!("OpenSSL CSPRNG unavailable: {error}");
    }
}

/// A fresh unguessable identifier: base64url of 32 random bytes (43 characters, 256 bits).
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    b64url_encode(&bytes)
}

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A random string of `length` characters from `[A-Za-z0-9]`, uniformly distributed.
pub fn random_alphanumeric(length: usize) -> String {
    // Rejection sampling: bytes >= 248 (= 4 * 62) are discarded so `byte % 62` is unbiased.
    const LIMIT: u8 = 248;
    let mut out = String::with_capacity(length);
    let mut pool = [0u8; 64];
    while out.len() < length {
        fill_random(&mut pool);
        for &byte in pool.iter().filter(|&&byte| byte < LIMIT) {
            if out.len() == length {
                break;
            }
            out.push(char::from(ALPHANUMERIC[usize::from(byte % 62)]));
        }
    }
    out
}

/// Compares two byte strings in time independent of their contents (the length is not treated
/// as secret: strings of different lengths compare unequal immediately).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trip_and_strictness() {
        let data = [0xfbu8, 0xff, 0x00, 0x10];
        let encoded = b64url_encode(&data);
        assert_eq!(encoded, "-_8AEA");
        assert_eq!(b64url_decode(&encoded).unwrap(), data);
        assert!(matches!(
            b64url_decode("-_8AEA=="),
            Err(JoseError::InvalidBase64)
        ));
        assert!(matches!(
            b64url_decode("+/8AEA"),
            Err(JoseError::InvalidBase64)
        ));
        assert!(matches!(
            b64url_decode("-_8A EA"),
            Err(JoseError::InvalidBase64)
        ));
        // "QR" has non-zero trailing bits ("QQ" is the canonical encoding of "A").
        assert!(matches!(b64url_decode("QR"), Err(JoseError::InvalidBase64)));
        assert_eq!(b64url_decode("QQ").unwrap(), b"A");
        assert_eq!(b64url_decode("").unwrap(), b"");
    }

    #[test]
    fn hashes_match_known_vectors() {
        assert_eq!(
            sha256_b64url(b"abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
        // SHA3-256("abc") = 3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532
        assert_eq!(
            sha3_256_b64url(b"abc"),
            b64url_encode(&[
                0x3a, 0x98, 0x5d, 0xa7, 0x4f, 0xe2, 0x25, 0xb2, 0x04, 0x5c, 0x17, 0x2d, 0x6b, 0xd3,
                0x90, 0xbd, 0x85, 0x5f, 0x08, 0x6e, 0x3e, 0x9d, 0x52, 0x5b, 0x46, 0xbf, 0xe2, 0x45,
                0x11, 0x43, 0x15, 0x32
            ])
        );
        // OpenID Connect Core example: at_hash of this access token.
        assert_eq!(
            half_sha256_b64url(b"jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn random_values_have_the_promised_shape() {
        assert_eq!(random_bytes(0).len(), 0);
        assert_eq!(random_bytes(17).len(), 17);
        let id = random_id();
        assert_eq!(id.len(), 43);
        assert_eq!(b64url_decode(&id).unwrap().len(), 32);
        assert_ne!(random_id(), id);
        let text = random_alphanumeric(500);
        assert_eq!(text.len(), 500);
        assert!(text.bytes().all(|byte| byte.is_ascii_alphanumeric()));
        assert_eq!(random_alphanumeric(0), "");
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret!"));
        assert!(constant_time_eq(b"", b""));
    }
}
