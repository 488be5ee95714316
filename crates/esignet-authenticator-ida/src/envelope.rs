//! IDA's request envelope and message signatures, both directions.
//!
//! What eSignet's `mosip-identity-plugin` (`HelperService.setAuthRequest`, `getRequestSignature`)
//! and MOSIP's kernel crypto (`CryptoUtil.symmetricEncrypt`, `CryptoCore.asymmetricEncrypt`)
//! do, and what IDA undoes:
//!
//! * `request`: the auth request JSON encrypted with a fresh AES-256 key in GCM mode (128-bit
//!   tag) under a random 16-byte IV (the cipher's block size, as the kernel uses), laid out
//!   `ciphertext ‖ tag ‖ IV`, base64url without padding.
//! * `requestHMAC`: the upper-case hex SHA-256 digest of the same JSON, encrypted the same way
//!   with the same key (a second IV).
//! * `requestSessionKey`: the AES key encrypted with RSA-OAEP, SHA-256 and MGF1-SHA-256, to the
//!   public key of IDA's partner certificate.
//! * `thumbprint`: base64url(SHA-256(DER of IDA's partner certificate)), so IDA picks the key.
//! * the `signature` header: a detached RS256 JWS of the exact body bytes
//!   (`header..signature`), its header carrying our partner certificate in `x5c`.
//! * IDA's `response-signature` header: the same detached form over the exact answer bytes,
//!   signed with IDA's signing key.
//!
//! The functions here never log and their errors carry no key, plaintext or signature.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use esignet_jose::{Algorithm, PrivateKey, PublicJwk, b64url_decode, b64url_encode};
use openssl::encrypt::{Decrypter, Encrypter};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use openssl::x509::X509;
use serde_json::{Map, Value};

/// Length of the GCM IV MOSIP's kernel uses (the AES block size).
const IV_LEN: usize = 16;
/// Length of the GCM tag (128 bits).
const TAG_LEN: usize = 16;
/// AES-256.
const KEY_LEN: usize = 32;

/// Why an envelope or signature operation failed. Carries no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// A cryptographic primitive failed (key unusable, wrong padding, tag mismatch).
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
    /// An input was not in the expected encoding or shape.
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// The decrypted digest does not match the decrypted request.
    #[error("the request HMAC does not match the request")]
    HmacMismatch,
    /// A signature did not verify against the expected certificate.
    #[error("signature verification failed")]
    BadSignature,
}

/// The encrypted members of a kyc-auth (or key-binding) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRequest {
    /// base64url(AES-GCM(request JSON)).
    pub request: String,
    /// base64url(AES-GCM(upper-case hex SHA-256(request JSON))).
    pub request_hmac: String,
    /// base64url(RSA-OAEP-256(AES key)).
    pub request_session_key: String,
    /// base64url(SHA-256(DER of the certificate encrypted to)).
    pub thumbprint: String,
}

/// base64url (no padding) of the SHA-256 of a certificate's DER: IDA's `thumbprint`.
pub fn certificate_thumbprint(certificate: &X509) -> Result<String, EnvelopeError> {
    let der = certificate
        .to_der()
        .map_err(|_| EnvelopeError::Crypto("certificate encoding"))?;
    Ok(esignet_jose::sha256_b64url(&der))
}

/// `ciphertext ‖ tag ‖ IV` of `plaintext` under `key` (MOSIP's `CryptoUtil.symmetricEncrypt`).
pub fn symmetric_encrypt(key: &[u8; KEY_LEN], plaintext: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let iv = esignet_jose::random_bytes(IV_LEN);
    let mut tag = [0u8; TAG_LEN];
    let mut out = encrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(&iv),
        &[],
        plaintext,
        &mut tag,
    )
    .map_err(|_| EnvelopeError::Crypto("AES-GCM encryption"))?;
    out.extend_from_slice(&tag);
    out.extend_from_slice(&iv);
    Ok(out)
}

/// The inverse of [`symmetric_encrypt`]; fails when the tag does not verify.
pub fn symmetric_decrypt(key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    if key.len() != KEY_LEN {
        return Err(EnvelopeError::Malformed("the session key is not 256 bits"));
    }
    if sealed.len() < TAG_LEN + IV_LEN {
        return Err(EnvelopeError::Malformed("ciphertext too short"));
    }
    let (rest, iv) = sealed.split_at(sealed.len() - IV_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    decrypt_aead(Cipher::aes_256_gcm(), key, Some(iv), &[], ciphertext, tag)
        .map_err(|_| EnvelopeError::Crypto("AES-GCM decryption"))
}

/// RSA-OAEP with SHA-256 and MGF1-SHA-256 (MOSIP's `CryptoCore.asymmetricEncrypt`).
fn rsa_oaep_encrypt(certificate: &X509, data: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let key = certificate
        .public_key()
        .map_err(|_| EnvelopeError::Crypto("certificate public key"))?;
    let fail = |_| EnvelopeError::Crypto("RSA-OAEP encryption");
    let mut encrypter = Encrypter::new(&key).map_err(fail)?;
    encrypter
        .set_rsa_padding(Padding::PKCS1_OAEP)
        .map_err(fail)?;
    encrypter
        .set_rsa_oaep_md(MessageDigest::sha256())
        .map_err(fail)?;
    encrypter
        .set_rsa_mgf1_md(MessageDigest::sha256())
        .map_err(fail)?;
    let mut out = vec![0u8; encrypter.encrypt_len(data).map_err(fail)?];
    let written = encrypter.encrypt(data, &mut out).map_err(fail)?;
    out.truncate(written);
    Ok(out)
}

/// The inverse of [`rsa_oaep_encrypt`] with the certificate's private key.
pub fn rsa_oaep_decrypt(key: &PKey<Private>, data: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let fail = |_| EnvelopeError::Crypto("RSA-OAEP decryption");
    let mut decrypter = Decrypter::new(key).map_err(fail)?;
    decrypter
        .set_rsa_padding(Padding::PKCS1_OAEP)
        .map_err(fail)?;
    decrypter
        .set_rsa_oaep_md(MessageDigest::sha256())
        .map_err(fail)?;
    decrypter
        .set_rsa_mgf1_md(MessageDigest::sha256())
        .map_err(fail)?;
    let mut out = vec![0u8; decrypter.decrypt_len(data).map_err(fail)?];
    let written = decrypter.decrypt(data, &mut out).map_err(fail)?;
    out.truncate(written);
    Ok(out)
}

/// Upper-case hex SHA-256, as MOSIP's `HMACUtils2.digestAsPlainText`.
fn hex_digest(data: &[u8]) -> String {
    esignet_jose::sha256(data)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect()
}

/// Seals the auth request JSON for IDA's partner certificate `ida_certificate`.
pub fn seal_request(
    request_json: &[u8],
    ida_certificate: &X509,
) -> Result<SealedRequest, EnvelopeError> {
    let mut key = [0u8; KEY_LEN];
    key.copy_from_slice(&esignet_jose::random_bytes(KEY_LEN));
    let request = symmetric_encrypt(&key, request_json)?;
    let hmac = symmetric_encrypt(&key, hex_digest(request_json).as_bytes())?;
    let session_key = rsa_oaep_encrypt(ida_certificate, &key)?;
    Ok(SealedRequest {
        request: b64url_encode(&request),
        request_hmac: b64url_encode(&hmac),
        request_session_key: b64url_encode(&session_key),
        thumbprint: certificate_thumbprint(ida_certificate)?,
    })
}

/// Opens a sealed request with IDA's partner private key: decrypts the session key, the
/// request and the HMAC, and checks that the HMAC is the request's digest. Returns the request
/// JSON. (The thumbprint is the caller's to check: it selects the key.)
pub fn open_request(
    sealed: &SealedRequest,
    ida_key: &PKey<Private>,
) -> Result<Vec<u8>, EnvelopeError> {
    let decode = |text: &str| {
        b64url_decode(text).map_err(|_| EnvelopeError::Malformed("not unpadded base64url"))
    };
    let key = rsa_oaep_decrypt(ida_key, &decode(&sealed.request_session_key)?)?;
    let request = symmetric_decrypt(&key, &decode(&sealed.request)?)?;
    let hmac = symmetric_decrypt(&key, &decode(&sealed.request_hmac)?)?;
    if !esignet_jose::constant_time_eq(&hmac, hex_digest(&request).as_bytes()) {
        return Err(EnvelopeError::HmacMismatch);
    }
    Ok(request)
}

/// A detached RS256 JWS (`header..signature`) of `body`, with `certificate` in `x5c`.
pub fn sign_detached(
    key: &PrivateKey,
    certificate: &X509,
    body: &[u8],
) -> Result<String, EnvelopeError> {
    let der = certificate
        .to_der()
        .map_err(|_| EnvelopeError::Crypto("certificate encoding"))?;
    let mut header = Map::new();
    header.insert("x5c".to_owned(), Value::from(vec![STANDARD.encode(der)]));
    let compact = esignet_jose::sign_compact(key, Algorithm::RS256, &header, body)
        .map_err(|_| EnvelopeError::Crypto("JWS signing"))?;
    let mut parts = compact.split('.');
    let (Some(head), Some(_payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(EnvelopeError::Crypto("JWS signing"));
    };
    Ok(format!("{head}..{signature}"))
}

/// The certificate of a detached JWS's `x5c` (its first entry), if any.
pub fn detached_x5c(jws: &str) -> Result<Option<X509>, EnvelopeError> {
    let head = jws
        .split('.')
        .next()
        .ok_or(EnvelopeError::Malformed("not a JWS"))?;
    let header: Map<String, Value> = serde_json::from_slice(
        &b64url_decode(head).map_err(|_| EnvelopeError::Malformed("JWS header encoding"))?,
    )
    .map_err(|_| EnvelopeError::Malformed("JWS header is not a JSON object"))?;
    let Some(first) = header
        .get("x5c")
        .and_then(Value::as_array)
        .and_then(|chain| chain.first())
    else {
        return Ok(None);
    };
    let der = first
        .as_str()
        .and_then(|text| STANDARD.decode(text).ok())
        .ok_or(EnvelopeError::Malformed("x5c entry is not base64"))?;
    X509::from_der(&der)
        .map(Some)
        .map_err(|_| EnvelopeError::Malformed("x5c entry is not a certificate"))
}

/// Verifies a detached RS256 JWS over the exact `body` bytes against `certificate`'s key (the
/// one the verifier pins, never the `x5c` the JWS carries). A JWS whose payload is attached
/// must carry exactly `body`.
pub fn verify_detached(jws: &str, body: &[u8], certificate: &X509) -> Result<(), EnvelopeError> {
    let mut parts = jws.trim().split('.');
    let (Some(head), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(EnvelopeError::Malformed("a JWS has three parts"));
    };
    let expected_payload = b64url_encode(body);
    if !payload.is_empty() && payload != expected_payload {
        return Err(EnvelopeError::BadSignature);
    }
    let header: Map<String, Value> = serde_json::from_slice(
        &b64url_decode(head).map_err(|_| EnvelopeError::Malformed("JWS header encoding"))?,
    )
    .map_err(|_| EnvelopeError::Malformed("JWS header is not a JSON object"))?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") || header.contains_key("crit") {
        return Err(EnvelopeError::BadSignature);
    }
    let signature =
        b64url_decode(signature).map_err(|_| EnvelopeError::Malformed("signature encoding"))?;
    let key = certificate
        .public_key()
        .map_err(|_| EnvelopeError::Crypto("certificate public key"))?;
    let jwk = PublicJwk::from_openssl(&key).map_err(|_| EnvelopeError::Crypto("public key"))?;
    let signing_input = format!("{head}.{expected_payload}");
    if jwk.verify(Algorithm::RS256, signing_input.as_bytes(), &signature) {
        Ok(())
    } else {
        Err(EnvelopeError::BadSignature)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testing::self_signed;

    #[test]
    fn sealed_request_opens_with_the_certificate_key_and_matches_mosip_layout() {
        let (ida_key, ida_cert) = self_signed("IDA-PARTNER");
        let json = br#"{"otp":"111111","timestamp":"2025-01-01T00:00:00.000Z"}"#;
        let sealed = seal_request(json, &ida_cert).unwrap();
        // base64url without padding, and the thumbprint is SHA-256 of the DER.
        assert!(!sealed.request.contains('=') && !sealed.request.contains('+'));
        let der = ida_cert.to_der().unwrap();
        assert_eq!(sealed.thumbprint, esignet_jose::sha256_b64url(&der));
        assert_eq!(
            b64url_decode(&sealed.thumbprint).unwrap().len(),
            32,
            "raw 32-byte digest, not hex"
        );
        // ciphertext ‖ 16-byte tag ‖ 16-byte IV.
        let raw = b64url_decode(&sealed.request).unwrap();
        assert_eq!(raw.len(), json.len() + TAG_LEN + IV_LEN);
        // The session key is RSA-2048 OAEP output.
        assert_eq!(
            b64url_decode(&sealed.request_session_key).unwrap().len(),
            256
        );
        let opened = open_request(&sealed, ida_key.openssl_pkey()).unwrap();
        assert_eq!(opened, json);
        // The HMAC is the upper-case hex digest.
        let key = rsa_oaep_decrypt(
            ida_key.openssl_pkey(),
            &b64url_decode(&sealed.request_session_key).unwrap(),
        )
        .unwrap();
        let hmac = symmetric_decrypt(&key, &b64url_decode(&sealed.request_hmac).unwrap()).unwrap();
        let hmac = String::from_utf8(hmac).unwrap();
        assert_eq!(hmac.len(), 64);
        assert_eq!(hmac, hmac.to_uppercase());
    }

    #[test]
    fn another_key_cannot_open_and_tampering_is_detected() {
        let (_, ida_cert) = self_signed("IDA-PARTNER");
        let (other_key, _) = self_signed("OTHER");
        let sealed = seal_request(b"{}", &ida_cert).unwrap();
        assert!(matches!(
            open_request(&sealed, other_key.openssl_pkey()),
            Err(EnvelopeError::Crypto(_))
        ));

        let (ida_key, ida_cert) = self_signed("IDA-PARTNER");
        let first = seal_request(br#"{"otp":"1"}"#, &ida_cert).unwrap();
        let second = seal_request(br#"{"otp":"2"}"#, &ida_cert).unwrap();
        // A request sealed under another session key does not open.
        let mixed = SealedRequest {
            request: second.request.clone(),
            ..first.clone()
        };
        assert!(open_request(&mixed, ida_key.openssl_pkey()).is_err());
        // A flipped ciphertext byte fails the GCM tag.
        let mut raw = b64url_decode(&first.request).unwrap();
        raw[0] ^= 1;
        let flipped = SealedRequest {
            request: b64url_encode(&raw),
            ..first.clone()
        };
        assert!(matches!(
            open_request(&flipped, ida_key.openssl_pkey()),
            Err(EnvelopeError::Crypto(_))
        ));
        // A valid encryption of a digest of something else is an HMAC mismatch.
        let key = rsa_oaep_decrypt(
            ida_key.openssl_pkey(),
            &b64url_decode(&first.request_session_key).unwrap(),
        )
        .unwrap();
        let mut key32 = [0u8; KEY_LEN];
        key32.copy_from_slice(&key);
        let wrong_hmac = symmetric_encrypt(&key32, hex_digest(b"other").as_bytes()).unwrap();
        let forged = SealedRequest {
            request_hmac: b64url_encode(&wrong_hmac),
            ..first
        };
        assert_eq!(
            open_request(&forged, ida_key.openssl_pkey()),
            Err(EnvelopeError::HmacMismatch)
        );
        assert!(matches!(
            symmetric_decrypt(&key, b"short"),
            Err(EnvelopeError::Malformed(_))
        ));
        assert!(matches!(
            symmetric_decrypt(b"short key", &[0u8; 40]),
            Err(EnvelopeError::Malformed(_))
        ));
    }

    #[test]
    fn detached_signature_round_trip_and_refusals() {
        let (key, cert) = self_signed("PARTNER");
        let body = br#"{"id":"mosip.identity.kycauth","version":"1.0"}"#;
        let jws = sign_detached(&key, &cert, body).unwrap();
        let parts: Vec<&str> = jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts[1].is_empty(), "the payload is detached");
        let x5c = detached_x5c(&jws).unwrap().unwrap();
        assert_eq!(x5c.to_der().unwrap(), cert.to_der().unwrap());
        verify_detached(&jws, body, &cert).unwrap();
        // Another body, another key, a broken signature, garbage: all refused.
        assert_eq!(
            verify_detached(&jws, b"{}", &cert),
            Err(EnvelopeError::BadSignature)
        );
        let (_, other_cert) = self_signed("OTHER");
        assert_eq!(
            verify_detached(&jws, body, &other_cert),
            Err(EnvelopeError::BadSignature)
        );
        let mut broken = jws.clone();
        let last = broken.pop().unwrap();
        broken.push(if last == 'A' { 'B' } else { 'A' });
        assert!(verify_detached(&broken, body, &cert).is_err());
        assert!(verify_detached("garbage", body, &cert).is_err());
        assert!(verify_detached("a.b.c", body, &cert).is_err());
        // An attached payload must be the body itself.
        let attached = format!("{}.{}.{}", parts[0], b64url_encode(body), parts[2]);
        verify_detached(&attached, body, &cert).unwrap();
        let other = format!("{}.{}.{}", parts[0], b64url_encode(b"{}"), parts[2]);
        assert_eq!(
            verify_detached(&other, body, &cert),
            Err(EnvelopeError::BadSignature)
        );
        // No x5c: None.
        let bare = esignet_jose::sign_compact(&key, Algorithm::RS256, &Map::new(), body).unwrap();
        assert!(detached_x5c(&bare).unwrap().is_none());
    }
}
