//! Independent verification of what the server signs and encrypts (jsonwebtoken, josekit).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::harness::Server;

pub async fn jwks(server: &Server) -> JwkSet {
    server
        .http
        .get(format!("{}/.well-known/jwks.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Verifies a JWS against the server's JWKS with `jsonwebtoken` and returns header and claims.
pub fn verify_jws(set: &JwkSet, token: &str, audience: Option<&str>) -> (jsonwebtoken::Header, Value) {
    let header = jsonwebtoken::decode_header(token).expect("a JWS header");
    let kid = header.kid.clone().expect("tokens carry a kid");
    let jwk = set.find(&kid).unwrap_or_else(|| panic!("kid {kid} is in the JWKS"));
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.algorithms = vec![Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];
    validation.algorithms.retain(|a| *a == header.alg);
    match audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("signature and claims verify");
    (header, data.claims)
}

/// Decrypts a compact JWE (RSA-OAEP-256 / A256GCM) with josekit.
pub fn decrypt_jwe(key: &josekit::jwk::Jwk, jwe: &str) -> String {
    let decrypter = josekit::jwe::RSA_OAEP_256.decrypter_from_jwk(key).unwrap();
    let (payload, header) = josekit::jwe::deserialize_compact(jwe, &decrypter).expect("JWE decrypts");
    assert_eq!(header.content_encryption(), Some("A256GCM"));
    String::from_utf8(payload).unwrap()
}
