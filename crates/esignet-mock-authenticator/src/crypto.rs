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

/// Marks a password stored as a salted slow hash: `pbkdf2-sha256$<iterations>$<salt>$<hash>`
/// (salt and hash in base64url).
pub const SALTED_PASSWORD_PREFIX: &str = "pbkdf2-sha256$";

/// PBKDF2-HMAC-SHA256 iterations of a salted password hash (OWASP's 2023 figure for this
/// function). Stored with the hash, so raising it later leaves old hashes verifiable.
const PBKDF2_ITERATIONS: u32 = 600_000;

/// A salted slow hash of `plaintext` (PBKDF2-HMAC-SHA256, a 16-byte random salt, 32-byte
/// output), in the [`SALTED_PASSWORD_PREFIX`] form. This is how the built-in registry stores
/// the passwords of residents who register themselves: unlike the Java mock's bare SHA-256,
/// a leaked store does not give the passwords away to a dictionary.
pub fn hash_password_salted(plaintext: &str) -> Result<String, ErrorStack> {
    let mut salt = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt)?;
    let derived = pbkdf2(plaintext, &salt, PBKDF2_ITERATIONS)?;
    Ok(format!(
        "{SALTED_PASSWORD_PREFIX}{PBKDF2_ITERATIONS}${}${}",
        URL_SAFE_NO_PAD.encode(salt),
        URL_SAFE_NO_PAD.encode(derived)
    ))
}

fn pbkdf2(plaintext: &str, salt: &[u8], iterations: u32) -> Result<[u8; 32], ErrorStack> {
    let mut derived = [0u8; 32];
    openssl::pkcs5::pbkdf2_hmac(
        plaintext.as_bytes(),
        salt,
        iterations as usize,
        MessageDigest::sha256(),
        &mut derived,
    )?;
    Ok(derived)
}

/// The parts of a salted hash: iterations, salt, hash. `None` unless well-formed.
fn parse_salted(stored: &str) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    let rest = stored.strip_prefix(SALTED_PASSWORD_PREFIX)?;
    let mut parts = rest.split('$');
    let iterations: u32 = parts.next()?.parse().ok()?;
    let salt = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    let hash = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    let sane = (1_000..=10_000_000).contains(&iterations) && salt.len() >= 16 && hash.len() == 32;
    (parts.next().is_none() && sane).then_some((iterations, salt, hash))
}

/// Whether `stored` is a well-formed salted hash ([`hash_password_salted`]'s form).
pub(crate) fn is_salted_hash(stored: &str) -> bool {
    parse_salted(stored).is_some()
}

/// Whether `supplied` is the password of which `stored` is the hash, in either stored form
/// (salted slow hash, or the Java mock's upper-case hex SHA-256). Fails closed.
pub(crate) fn password_matches(supplied: &str, stored: &str) -> bool {
    if stored.starts_with(SALTED_PASSWORD_PREFIX) {
        let Some((iterations, salt, expected)) = parse_salted(stored) else {
            return false;
        };
        return pbkdf2(supplied, &salt, iterations)
            .is_ok_and(|derived| secrets_match(&derived, &expected));
    }
    hash_password(supplied)
        .is_ok_and(|computed| secrets_match(computed.as_bytes(), stored.as_bytes()))
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
    fn salted_hashes_differ_per_call_and_verify() {
        let first = hash_password_salted("Secret123").unwrap();
        let second = hash_password_salted("Secret123").unwrap();
        assert_ne!(first, second, "a fresh salt each time");
        assert!(first.starts_with("pbkdf2-sha256$600000$"));
        assert!(!first.contains("Secret123"));
        assert!(is_salted_hash(&first));
        assert!(password_matches("Secret123", &first));
        assert!(password_matches("Secret123", &second));
        assert!(!password_matches("Secret124", &first));
        assert!(!password_matches("", &first));
    }

    #[test]
    fn malformed_salted_hashes_never_match() {
        let good = hash_password_salted("x").unwrap();
        let (head, hash) = good.rsplit_once('$').unwrap();
        for broken in [
            head.to_owned(),
            format!("{head}$!!"),
            format!("{good}$extra"),
            good.replacen("600000", "10", 1),
            good.replacen("600000", "many", 1),
            format!("{head}${}", &hash[..10]),
        ] {
            assert!(!is_salted_hash(&broken), "{broken}");
            assert!(!password_matches("x", &broken), "{broken}");
        }
    }

    #[test]
    fn the_java_form_still_verifies() {
        assert!(password_matches(
            "password",
            &hash_password("password").unwrap()
        ));
        assert!(!password_matches(
            "passwort",
            &hash_password("password").unwrap()
        ));
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
