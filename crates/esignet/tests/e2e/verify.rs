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
pub fn verify_jws(
    set: &JwkSet,
    token: &str,
    audience: Option<&str>,
) -> (jsonwebtoken::Header, Value) {
    let header = jsonwebtoken::decode_header(token).expect("a JWS header");
    let kid = header.kid.clone().expect("tokens carry a kid");
    let jwk = set
        .find(&kid)
        .unwrap_or_else(|| panic!("kid {kid} is in the JWKS"));
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.algorithms = vec![Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];
    validation.algorithms.retain(|a| *a == header.alg);
    match audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    if !token_has_claim(token, "exp") {
        // Userinfo JWTs (the identity system's KYC) need not expire (OIDC Core §5.3.2).
        validation.set_required_spec_claims(&["sub"]);
        validation.validate_exp = false;
    }
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap_or_else(|error| panic!("signature and claims verify: {error:?}"));
    (header, data.claims)
}

fn token_has_claim(token: &str, claim: &str) -> bool {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice::<Value>(&bytes).is_ok_and(|claims| claims.get(claim).is_some())
}

/// Decrypts a compact JWE (RSA-OAEP-256 / A256GCM) with josekit.
pub fn decrypt_jwe(key: &josekit::jwk::Jwk, jwe: &str) -> String {
    // The client's key pair was generated for signing (alg RS256); reuse it for decryption.
    let mut key = key.clone();
    key.set_algorithm("RSA-OAEP-256");
    let decrypter = josekit::jwe::RSA_OAEP_256.decrypter_from_jwk(&key).unwrap();
    let (payload, header) =
        josekit::jwe::deserialize_compact(jwe, &decrypter).expect("JWE decrypts");
    assert_eq!(header.content_encryption(), Some("A256GCM"));
    String::from_utf8(payload).unwrap()
}
