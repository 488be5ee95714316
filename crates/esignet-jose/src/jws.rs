//! Compact JWS (RFC 7515 §7.1): signing and parse-then-verify.

use serde_json::{Map, Value};

use crate::{Algorithm, JoseError, PrivateKey, PublicJwk, b64url_decode, b64url_encode};

/// The largest compact JWS [`decode_compact`] accepts (64 KiB). Every token this service reads
/// (client assertions, DPoP proofs, ID token hints, request objects) is far smaller; the bound
/// keeps a hostile token from costing more than a few hundred microseconds to reject.
pub const MAX_JWS_LEN: usize = 64 * 1024;

/// Signs `payload` as a compact JWS.
///
/// The protected header is `{"alg": <alg>}` followed by the members of `header_extra` in their
/// order (typically `kid`, `typ`, `jwk`). `header_extra` must not contain `alg`.
pub fn sign_compact(
    key: &PrivateKey,
    alg: Algorithm,
    header_extra: &Map<String, Value>,
    payload: &[u8],
) -> Result<String, JoseError> {
    if header_extra.contains_key("alg") {
        return Err(JoseError::Malformed("header_extra must not contain alg"));
    }
    let mut header = Map::with_capacity(header_extra.len() + 1);
    header.insert("alg".into(), Value::from(alg.as_str()));
    header.extend(
        header_extra
            .iter()
            .map(|(name, value)| (name.clone(), value.clone())),
    );
    let header = serde_json::to_vec(&Value::Object(header))?;
    let mut token = b64url_encode(&header);
    token.push('.');
    token.push_str(&b64url_encode(payload));
    let signature = key.sign(alg, token.as_bytes())?;
    token.push('.');
    token.push_str(&b64url_encode(&signature));
    Ok(token)
}

/// A parsed, not yet verified, compact JWS.
///
/// Nothing in it may be trusted until [`DecodedJws::verify`] returned `true` for a key chosen
/// by the caller (never a key taken from the header itself, except where a protocol says so,
/// as DPoP does).
#[derive(Clone)]
pub struct DecodedJws {
    /// The protected header.
    pub header: Map<String, Value>,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

/// Parses a compact JWS without verifying it.
///
/// Requires: at most [`MAX_JWS_LEN`] bytes; exactly three `.`-separated parts, each unpadded
/// base64url; a header that is a JSON object with a string `alg` and no `crit` (this crate
/// implements no JWS extensions, so RFC 7515 §4.1.11 requires rejecting any).
pub fn decode_compact(token: &str) -> Result<DecodedJws, JoseError> {
    if token.len() > MAX_JWS_LEN {
        return Err(JoseError::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header_part), Some(payload_part), Some(signature_part), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed(
            "a compact JWS has exactly three parts",
        ));
    };
    let header: Map<String, Value> = serde_json::from_slice(&b64url_decode(header_part)?)
        .map_err(|_| JoseError::Malformed("header is not a JSON object"))?;
    if !header.get("alg").is_some_and(Value::is_string) {
        return Err(JoseError::Malformed("header has no string alg"));
    }
    if header.contains_key("crit") {
        return Err(JoseError::Malformed(
            "unsupported critical header parameters",
        ));
    }
    let payload = b64url_decode(payload_part)?;
    let signature = b64url_decode(signature_part)?;
    let signing_input_len = header_part.len() + 1 + payload_part.len();
    Ok(DecodedJws {
        header,
        payload,
        signing_input: token.as_bytes()[..signing_input_len].to_vec(),
        signature,
    })
}

impl std::fmt::Debug for DecodedJws {
    /// Shows the header and the payload's size only: payloads carry personal data.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DecodedJws")
            .field("header", &self.header)
            .field("payload_len", &self.payload.len())
            .finish_non_exhaustive()
    }
}

impl DecodedJws {
    /// The header's algorithm, or `None` when it is `none`, an HMAC algorithm or anything else
    /// this crate does not verify (such tokens never verify).
    pub fn alg(&self) -> Option<Algorithm> {
        self.header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(Algorithm::parse)
    }

    /// The header's `kid`, if it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The header's `typ`, if it is a string.
    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    /// Whether the signature verifies under `key` with the header's algorithm. `false` for an
    /// unsupported algorithm or one the key does not support (see [`PublicJwk::supports`]).
    pub fn verify(&self, key: &PublicJwk) -> bool {
        self.alg()
            .is_some_and(|alg| key.verify(alg, &self.signing_input, &self.signature))
    }

    /// The payload parsed as a JSON object (the JWT claims set).
    pub fn claims(&self) -> Result<Map<String, Value>, JoseError> {
        serde_json::from_slice(&self.payload)
            .map_err(|_| JoseError::Malformed("payload is not a JSON object"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rsa_key() -> PrivateKey {
        PrivateKey::generate_rsa(2048).unwrap()
    }

    fn extra(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test headers are objects"),
        }
    }

    #[test]
    fn header_keeps_alg_first_then_extra_in_order() {
        let key = rsa_key();
        let token = sign_compact(
            &key,
            Algorithm::RS256,
            &extra(json!({"typ": "JWT", "kid": "k1"})),
            br#"{"sub":"x"}"#,
        )
        .unwrap();
        let header_part = token.split('.').next().unwrap();
        assert_eq!(
            b64url_decode(header_part).unwrap(),
            br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#
        );
        let decoded = decode_compact(&token).unwrap();
        assert_eq!(decoded.alg(), Some(Algorithm::RS256));
        assert_eq!(decoded.kid(), Some("k1"));
        assert_eq!(decoded.typ(), Some("JWT"));
        assert_eq!(decoded.claims().unwrap()["sub"], "x");
        assert!(decoded.verify(&key.public_jwk()));
    }

    #[test]
    fn alg_in_header_extra_is_rejected() {
        let error = sign_compact(
            &rsa_key(),
            Algorithm::RS256,
            &extra(json!({"alg": "none"})),
            b"{}",
        )
        .unwrap_err();
        assert!(matches!(error, JoseError::Malformed(_)));
    }

    #[test]
    fn wrong_key_family_cannot_sign() {
        let error = sign_compact(&rsa_key(), Algorithm::ES256, &Map::new(), b"{}").unwrap_err();
        assert!(matches!(error, JoseError::KeyMismatch("ES256")));
    }

    #[test]
    fn structural_errors_are_reported() {
        let header = b64url_encode(br#"{"alg":"RS256"}"#);
        let body = b64url_encode(b"{}");
        for token in [
            String::new(),
            "a.b".to_string(),
            format!("{header}.{body}"),
            format!("{header}.{body}.sig.extra"),
            format!("{header}=.{body}.AA"),
            format!("{}.{body}.AA", b64url_encode(b"[1]")),
            format!("{}.{body}.AA", b64url_encode(br#"{"alg":1}"#)),
            format!("{}.{body}.AA", b64url_encode(br#"{"typ":"JWT"}"#)),
            format!(
                "{}.{body}.AA",
                b64url_encode(br#"{"alg":"RS256","crit":["exp"],"exp":1}"#)
            ),
            format!("{header}.{body}.A+A"),
        ] {
            assert!(decode_compact(&token).is_err(), "{token}");
        }
        let oversized = format!("{header}.{}.AA", "A".repeat(MAX_JWS_LEN));
        assert!(matches!(
            decode_compact(&oversized),
            Err(JoseError::TooLarge)
        ));
    }

    #[test]
    fn debug_does_not_show_the_payload() {
        let key = PrivateKey::generate_ec_p256().unwrap();
        let token =
            sign_compact(&key, Algorithm::ES256, &Map::new(), br#"{"name":"Alice"}"#).unwrap();
        let debug = format!("{:?}", decode_compact(&token).unwrap());
        assert!(debug.contains("ES256") && debug.contains("payload_len: 16"));
        assert!(!debug.contains("Alice"));
    }

    #[test]
    fn claims_must_be_an_object() {
        let key = rsa_key();
        let token = sign_compact(&key, Algorithm::RS256, &Map::new(), b"[1,2]").unwrap();
        let decoded = decode_compact(&token).unwrap();
        assert!(decoded.verify(&key.public_jwk()));
        assert!(decoded.claims().is_err());
    }
}
