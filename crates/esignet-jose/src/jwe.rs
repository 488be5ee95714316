//! Compact JWE (RFC 7516 §7.1) with `RSA-OAEP-256` key wrapping and `A256GCM` content
//! encryption: the one combination eSignet uses for encrypted userinfo.

use openssl::encrypt::{Decrypter, Encrypter};
use openssl::hash::MessageDigest;
use openssl::pkey::Id;
use openssl::rsa::Padding;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::util::fill_random;
use crate::{JoseError, PrivateKey, PublicJwk, b64url_decode, b64url_encode};

const KEY_ALG: &str = "RSA-OAEP-256";
const CONTENT_ENC: &str = "A256GCM";
const CEK_LEN: usize = 32;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The largest compact JWE [`decrypt_compact`] accepts (8 MiB): userinfo may carry a photo, but
/// an unbounded input would let a peer make us allocate without limit.
const MAX_JWE_LEN: usize = 8 * 1024 * 1024;

/// Encrypts `plaintext` to `recipient` as a compact JWE with `RSA-OAEP-256` / `A256GCM`.
///
/// The protected header is `{"alg","enc"}`, then `cty` when given (`JWT` for a nested signed
/// token) and the recipient's `kid` when it has one. The recipient must be an RSA key whose
/// `use` (if stated) is `enc` and whose `alg` (if stated) is `RSA-OAEP-256`.
pub fn encrypt_compact(
    plaintext: &[u8],
    recipient: &PublicJwk,
    cty: Option<&str>,
) -> Result<String, JoseError> {
    if !recipient.is_rsa() {
        return Err(JoseError::KeyMismatch(KEY_ALG));
    }
    if recipient.key_use().is_some_and(|key_use| key_use != "enc")
        || recipient.alg().is_some_and(|alg| alg != KEY_ALG)
    {
        return Err(JoseError::KeyMismatch(KEY_ALG));
    }
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(KEY_ALG));
    header.insert("enc".into(), Value::from(CONTENT_ENC));
    if let Some(cty) = cty {
        header.insert("cty".into(), Value::from(cty));
    }
    if let Some(kid) = recipient.kid() {
        header.insert("kid".into(), Value::from(kid));
    }
    let protected = b64url_encode(&serde_json::to_vec(&Value::Object(header))?);

    let mut cek = Zeroizing::new([0u8; CEK_LEN]);
    fill_random(cek.as_mut_slice());
    let mut iv = [0u8; IV_LEN];
    fill_random(&mut iv);

    let mut encrypter = Encrypter::new(recipient.openssl_pkey())?;
    encrypter.set_rsa_padding(Padding::PKCS1_OAEP)?;
    encrypter.set_rsa_oaep_md(MessageDigest::sha256())?;
    encrypter.set_rsa_mgf1_md(MessageDigest::sha256())?;
    let mut encrypted_key = vec![0u8; encrypter.encrypt_len(cek.as_slice())?];
    let written = encrypter.encrypt(cek.as_slice(), &mut encrypted_key)?;
    encrypted_key.truncate(written);

    let mut tag = [0u8; TAG_LEN];
    let ciphertext = encrypt_aead(
        Cipher::aes_256_gcm(),
        cek.as_slice(),
        Some(&iv),
        protected.as_bytes(),
        plaintext,
        &mut tag,
    )?;
    Ok([
        protected,
        b64url_encode(&encrypted_key),
        b64url_encode(&iv),
        b64url_encode(&ciphertext),
        b64url_encode(&tag),
    ]
    .join("."))
}

/// Decrypts a compact JWE made with `RSA-OAEP-256` / `A256GCM` for `key` (an RSA key).
///
/// The additional authenticated data is the ASCII of the protected header's base64url. Headers
/// with `zip` (compression) or `crit` are rejected. Every cryptographic failure, whether of the
/// key unwrap or of the content, is the same [`JoseError::DecryptionFailed`], and a failed
/// unwrap continues with a random key (RFC 7516 §11.5) so the two are not distinguishable.
pub fn decrypt_compact(jwe: &str, key: &PrivateKey) -> Result<Vec<u8>, JoseError> {
    if key.openssl_pkey().id() != Id::RSA {
        return Err(JoseError::KeyMismatch(KEY_ALG));
    }
    if jwe.len() > MAX_JWE_LEN {
        return Err(JoseError::TooLarge);
    }
    let parts: Vec<&str> = jwe.split('.').collect();
    let [protected, encrypted_key, iv, ciphertext, tag] = parts.as_slice() else {
        return Err(JoseError::Malformed("a compact JWE has exactly five parts"));
    };
    let header: Map<String, Value> = serde_json::from_slice(&b64url_decode(protected)?)
        .map_err(|_| JoseError::Malformed("header is not a JSON object"))?;
    let alg = header.get("alg").and_then(Value::as_str);
    if alg != Some(KEY_ALG) {
        return Err(JoseError::UnsupportedAlgorithm(
            alg.unwrap_or("(missing alg)").to_owned(),
        ));
    }
    let enc = header.get("enc").and_then(Value::as_str);
    if enc != Some(CONTENT_ENC) {
        return Err(JoseError::UnsupportedAlgorithm(
            enc.unwrap_or("(missing enc)").to_owned(),
        ));
    }
    if header.contains_key("zip") {
        return Err(JoseError::Malformed("compressed JWE is not supported"));
    }
    if header.contains_key("crit") {
        return Err(JoseError::Malformed(
            "unsupported critical header parameters",
        ));
    }
    let encrypted_key = b64url_decode(encrypted_key)?;
    let iv = b64url_decode(iv)?;
    let ciphertext = b64url_decode(ciphertext)?;
    let tag = b64url_decode(tag)?;
    if iv.len() != IV_LEN || tag.len() != TAG_LEN {
        return Err(JoseError::Malformed("wrong A256GCM IV or tag length"));
    }

    let cek = unwrap_key(key, &encrypted_key).unwrap_or_else(|| {
        let mut random = Zeroizing::new([0u8; CEK_LEN]);
        fill_random(random.as_mut_slice());
        random
    });
    decrypt_aead(
        Cipher::aes_256_gcm(),
        cek.as_slice(),
        Some(&iv),
        protected.as_bytes(),
        &ciphertext,
        &tag,
    )
    .map_err(|_| JoseError::DecryptionFailed)
}

/// RSA-OAEP-256 unwrap of the content encryption key; `None` on any failure or wrong length.
fn unwrap_key(key: &PrivateKey, encrypted_key: &[u8]) -> Option<Zeroizing<[u8; CEK_LEN]>> {
    let mut decrypter = Decrypter::new(key.openssl_pkey()).ok()?;
    decrypter.set_rsa_padding(Padding::PKCS1_OAEP).ok()?;
    decrypter.set_rsa_oaep_md(MessageDigest::sha256()).ok()?;
    decrypter.set_rsa_mgf1_md(MessageDigest::sha256()).ok()?;
    let mut buffer = Zeroizing::new(vec![0u8; decrypter.decrypt_len(encrypted_key).ok()?]);
    let written = decrypter.decrypt(encrypted_key, &mut buffer).ok()?;
    let mut cek = Zeroizing::new([0u8; CEK_LEN]);
    if written != CEK_LEN {
        return None;
    }
    cek.copy_from_slice(&buffer[..CEK_LEN]);
    Some(cek)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_with_header_members() {
        let key = PrivateKey::generate_rsa(2048).unwrap();
        let recipient = key.public_jwk().with_kid("enc-1");
        let jwe = encrypt_compact(b"nested.jws.token", &recipient, Some("JWT")).unwrap();
        let header = b64url_decode(jwe.split('.').next().unwrap()).unwrap();
        assert_eq!(
            header,
            br#"{"alg":"RSA-OAEP-256","enc":"A256GCM","cty":"JWT","kid":"enc-1"}"#
        );
        assert_eq!(decrypt_compact(&jwe, &key).unwrap(), b"nested.jws.token");
    }

    #[test]
    fn wrong_key_and_tampering_fail_uniformly() {
        let key = PrivateKey::generate_rsa(2048).unwrap();
        let jwe = encrypt_compact(b"secret claims", &key.public_jwk(), None).unwrap();
        let other = PrivateKey::generate_rsa(2048).unwrap();
        assert!(matches!(
            decrypt_compact(&jwe, &other),
            Err(JoseError::DecryptionFailed)
        ));
        let parts: Vec<&str> = jwe.split('.').collect();
        for index in 1..5 {
            let mut bytes = b64url_decode(parts[index]).unwrap();
            bytes[0] ^= 1;
            let mut changed = parts.clone();
            let replaced = b64url_encode(&bytes);
            changed[index] = &replaced;
            assert!(
                decrypt_compact(&changed.join("."), &key).is_err(),
                "part {index}"
            );
        }
        // A different (re-encoded) header changes the AAD.
        let header = b64url_encode(br#"{"enc":"A256GCM","alg":"RSA-OAEP-256"}"#);
        let swapped = [header.as_str(), parts[1], parts[2], parts[3], parts[4]].join(".");
        assert!(matches!(
            decrypt_compact(&swapped, &key),
            Err(JoseError::DecryptionFailed)
        ));
    }

    #[test]
    fn unsupported_headers_and_keys_are_rejected() {
        let key = PrivateKey::generate_rsa(2048).unwrap();
        let rest = "AA.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA";
        for header in [
            json!({"alg": "RSA-OAEP", "enc": "A256GCM"}),
            json!({"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256"}),
            json!({"alg": "dir", "enc": "A256GCM"}),
            json!({"enc": "A256GCM"}),
            json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"}),
            json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "crit": ["x"]}),
        ] {
            let jwe = format!("{}.{rest}", b64url_encode(header.to_string().as_bytes()));
            assert!(decrypt_compact(&jwe, &key).is_err(), "{header}");
        }
        assert!(decrypt_compact("a.b.c", &key).is_err());
        let ec = PrivateKey::generate_ec_p256().unwrap();
        assert!(matches!(
            encrypt_compact(b"x", &ec.public_jwk(), None),
            Err(JoseError::KeyMismatch(_))
        ));
        assert!(matches!(
            decrypt_compact("a.b.c.d.e", &ec),
            Err(JoseError::KeyMismatch(_))
        ));
        let signing_only = PublicJwk::from_json(&json!({
            "kty": "RSA", "use": "sig",
            "n": key.public_jwk().to_json()["n"], "e": "AQAB"
        }))
        .unwrap();
        assert!(encrypt_compact(b"x", &signing_only, None).is_err());
    }
}
