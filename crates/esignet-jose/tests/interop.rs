//! Interoperability with independent JOSE implementations: `jsonwebtoken` (ring) for JWS and
//! `josekit` for JWE. What we produce must verify / decrypt there, and the reverse.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

use esignet_jose::{
    Algorithm, PrivateKey, PublicJwk, b64url_decode, b64url_encode, decode_compact,
    decrypt_compact, encrypt_compact, sign_compact,
};
use josekit::jwe::{JweHeader, RSA_OAEP_256};
use josekit::jwk::Jwk;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};

fn claims() -> Value {
    json!({"iss": "https://esignet.example", "sub": "psut-123", "aud": "client-1",
           "exp": 4_102_444_800u64, "iat": 1_700_000_000u64, "nonce": "n-0S6_WzA2Mj"})
}

fn header_extra(kid: &str) -> Map<String, Value> {
    let mut extra = Map::new();
    extra.insert("kid".into(), Value::from(kid));
    extra.insert("typ".into(), Value::from("JWT"));
    extra
}

fn their_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
        Algorithm::PS256 => jsonwebtoken::Algorithm::PS256,
        Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
    }
}

fn their_decoding_key(public: &PublicJwk) -> DecodingKey {
    let jwk = public.to_json();
    let member = |name: &str| jwk[name].as_str().unwrap().to_owned();
    match public.kty() {
        "RSA" => DecodingKey::from_rsa_components(&member("n"), &member("e")).unwrap(),
        _ => DecodingKey::from_ec_components(&member("x"), &member("y")).unwrap(),
    }
}

fn their_encoding_key(key: &PrivateKey) -> EncodingKey {
    let pem = key.to_pem_pkcs8().unwrap();
    match key.public_jwk().kty() {
        "RSA" => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
    }
}

fn their_validation(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(their_alg(alg));
    validation.set_audience(&["client-1"]);
    validation
}

fn keys() -> Vec<(Algorithm, PrivateKey)> {
    let rsa = PrivateKey::generate_rsa(2048).unwrap();
    vec![
        (Algorithm::RS256, rsa.clone()),
        (Algorithm::PS256, rsa),
        (Algorithm::ES256, PrivateKey::generate_ec_p256().unwrap()),
    ]
}

#[test]
fn our_signatures_verify_with_jsonwebtoken() {
    for (alg, key) in keys() {
        let payload = serde_json::to_vec(&claims()).unwrap();
        let token = sign_compact(&key, alg, &header_extra("our-kid"), &payload).unwrap();
        let data = jsonwebtoken::decode::<Value>(
            &token,
            &their_decoding_key(&key.public_jwk()),
            &their_validation(alg),
        )
        .unwrap_or_else(|error| panic!("{alg}: {error}"));
        assert_eq!(data.claims, claims(), "{alg}");
        assert_eq!(data.header.kid.as_deref(), Some("our-kid"));
        assert_eq!(data.header.typ.as_deref(), Some("JWT"));

        // And a tampered payload is refused there too (their check is independent of ours).
        let parts: Vec<&str> = token.split('.').collect();
        let forged_payload = b64url_encode(br#"{"sub":"admin","aud":"client-1","exp":4102444800}"#);
        let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert!(
            jsonwebtoken::decode::<Value>(
                &forged,
                &their_decoding_key(&key.public_jwk()),
                &their_validation(alg)
            )
            .is_err(),
            "{alg}"
        );
    }
}

#[test]
fn jsonwebtoken_signatures_verify_with_ours() {
    for (alg, key) in keys() {
        let mut header = Header::new(their_alg(alg));
        header.kid = Some("their-kid".into());
        let token = jsonwebtoken::encode(&header, &claims(), &their_encoding_key(&key)).unwrap();
        let decoded = decode_compact(&token).unwrap();
        assert_eq!(decoded.alg(), Some(alg));
        assert_eq!(decoded.kid(), Some("their-kid"));
        assert!(decoded.verify(&key.public_jwk()), "{alg}");
        assert_eq!(Value::Object(decoded.claims().unwrap()), claims());

        let stranger = match alg {
            Algorithm::ES256 => PrivateKey::generate_ec_p256().unwrap(),
            _ => PrivateKey::generate_rsa(2048).unwrap(),
        };
        assert!(
            !decoded.verify(&stranger.public_jwk()),
            "{alg} with another key"
        );
    }
}

#[test]
fn tampered_tokens_do_not_verify() {
    for (alg, key) in keys() {
        let public = key.public_jwk();
        let token = sign_compact(&key, alg, &Map::new(), br#"{"sub":"alice"}"#).unwrap();
        assert!(decode_compact(&token).unwrap().verify(&public));
        let parts: Vec<&str> = token.split('.').collect();

        let other_payload = b64url_encode(br#"{"sub":"mallory"}"#);
        let forged = format!("{}.{other_payload}.{}", parts[0], parts[2]);
        assert!(
            !decode_compact(&forged).unwrap().verify(&public),
            "{alg} payload"
        );

        let mut signature = b64url_decode(parts[2]).unwrap();
        for index in [0, signature.len() / 2, signature.len() - 1] {
            signature[index] ^= 0x01;
            let forged = format!("{}.{}.{}", parts[0], parts[1], b64url_encode(&signature));
            assert!(
                !decode_compact(&forged).unwrap().verify(&public),
                "{alg} sig {index}"
            );
            signature[index] ^= 0x01;
        }

        let short = b64url_encode(&signature[..signature.len() - 1]);
        let truncated = format!("{}.{}.{short}", parts[0], parts[1]);
        assert!(
            !decode_compact(&truncated).unwrap().verify(&public),
            "{alg} truncated"
        );
        let empty = format!("{}.{}.", parts[0], parts[1]);
        assert!(
            !decode_compact(&empty).unwrap().verify(&public),
            "{alg} empty"
        );
    }
}

#[test]
fn algorithm_substitution_is_refused() {
    let rsa = PrivateKey::generate_rsa(2048).unwrap();
    let public = rsa.public_jwk();
    let payload = b64url_encode(br#"{"sub":"alice"}"#);

    // An RS256 signature presented as PS256 (same key, same signing input otherwise).
    let token = sign_compact(&rsa, Algorithm::RS256, &Map::new(), br#"{"sub":"alice"}"#).unwrap();
    let signature = token.rsplit('.').next().unwrap();
    let ps_header = b64url_encode(br#"{"alg":"PS256"}"#);
    let relabelled = format!("{ps_header}.{payload}.{signature}");
    assert!(!decode_compact(&relabelled).unwrap().verify(&public));

    // alg "none" with an empty signature.
    let none = format!("{}.{payload}.", b64url_encode(br#"{"alg":"none"}"#));
    let decoded = decode_compact(&none).unwrap();
    assert_eq!(decoded.alg(), None);
    assert!(!decoded.verify(&public));

    // HS256 keyed with the public key's bytes: the classic RSA/HMAC confusion.
    let secret = serde_json::to_vec(&public.to_json()).unwrap();
    let hs = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": "alice"}),
        &EncodingKey::from_secret(&secret),
    )
    .unwrap();
    let decoded = decode_compact(&hs).unwrap();
    assert_eq!(decoded.alg(), None);
    assert!(!decoded.verify(&public));

    // An ES256 token checked against an RSA key, and an RS256 token against an EC key.
    let ec = PrivateKey::generate_ec_p256().unwrap();
    let es = sign_compact(&ec, Algorithm::ES256, &Map::new(), b"{}").unwrap();
    assert!(!decode_compact(&es).unwrap().verify(&public));
    assert!(!decode_compact(&token).unwrap().verify(&ec.public_jwk()));
}

#[test]
fn es256_requires_the_raw_signature_form() {
    let key = PrivateKey::generate_ec_p256().unwrap();
    let input = b"header.payload";
    let raw = key.sign(Algorithm::ES256, input).unwrap();
    assert_eq!(raw.len(), 64);
    assert!(key.public_jwk().verify(Algorithm::ES256, input, &raw));

    let (r, s) = raw.split_at(32);
    let der = openssl::ecdsa::EcdsaSig::from_private_components(
        openssl::bn::BigNum::from_slice(r).unwrap(),
        openssl::bn::BigNum::from_slice(s).unwrap(),
    )
    .unwrap()
    .to_der()
    .unwrap();
    assert!(!key.public_jwk().verify(Algorithm::ES256, input, &der));
}

#[test]
fn our_jwe_decrypts_with_josekit() {
    let key = PrivateKey::generate_rsa(2048).unwrap();
    let recipient = key.public_jwk().with_kid("rp-enc-1");
    let jwe = encrypt_compact(b"eyJhbGciOiJSUzI1NiJ9.e30.sig", &recipient, Some("JWT")).unwrap();

    let pem = key.to_pem_pkcs8().unwrap();
    let decrypter = RSA_OAEP_256.decrypter_from_pem(pem.as_bytes()).unwrap();
    let (plaintext, header) = josekit::jwe::deserialize_compact(&jwe, &decrypter).unwrap();
    assert_eq!(plaintext, b"eyJhbGciOiJSUzI1NiJ9.e30.sig");
    assert_eq!(header.content_encryption(), Some("A256GCM"));
    assert_eq!(header.content_type(), Some("JWT"));
    assert_eq!(header.key_id(), Some("rp-enc-1"));

    // The exported private JWK is a key josekit accepts and that decrypts the same message.
    let jwk =
        Jwk::from_bytes(serde_json::to_vec(&key.private_jwk_json().unwrap()).unwrap()).unwrap();
    let decrypter = RSA_OAEP_256.decrypter_from_jwk(&jwk).unwrap();
    let (plaintext, _) = josekit::jwe::deserialize_compact(&jwe, &decrypter).unwrap();
    assert_eq!(plaintext, b"eyJhbGciOiJSUzI1NiJ9.e30.sig");
}

#[test]
fn josekit_jwe_decrypts_with_ours() {
    let key = PrivateKey::generate_rsa(2048).unwrap();
    let jwk = Jwk::from_bytes(serde_json::to_vec(&key.public_jwk().to_json()).unwrap()).unwrap();
    let encrypter = RSA_OAEP_256.encrypter_from_jwk(&jwk).unwrap();
    let mut header = JweHeader::new();
    header.set_content_encryption("A256GCM");
    header.set_content_type("JWT");
    let jwe = josekit::jwe::serialize_compact(b"userinfo claims", &header, &encrypter).unwrap();
    assert_eq!(decrypt_compact(&jwe, &key).unwrap(), b"userinfo claims");

    let other = PrivateKey::generate_rsa(2048).unwrap();
    assert!(decrypt_compact(&jwe, &other).is_err());

    // josekit's other content encryption is refused rather than misread.
    let mut cbc = JweHeader::new();
    cbc.set_content_encryption("A128CBC-HS256");
    let jwe = josekit::jwe::serialize_compact(b"x", &cbc, &encrypter).unwrap();
    assert!(decrypt_compact(&jwe, &key).is_err());
}

#[test]
fn seeded_p256_keys_are_deterministic_and_verify_with_jsonwebtoken() {
    let seed = [7u8; 32];
    let first = PrivateKey::ec_p256_from_seed(&seed).unwrap();
    let again = PrivateKey::ec_p256_from_seed(&seed).unwrap();
    assert_eq!(first.public_jwk().to_json(), again.public_jwk().to_json());
    assert_eq!(
        first.private_jwk_json().unwrap(),
        again.private_jwk_json().unwrap()
    );
    let mut other_seed = seed;
    other_seed[31] ^= 1;
    let other = PrivateKey::ec_p256_from_seed(&other_seed).unwrap();
    assert_ne!(
        first.public_jwk().thumbprint(),
        other.public_jwk().thumbprint()
    );
    // The edge of the range: a zero seed is the scalar 1, still a valid key.
    let edge = PrivateKey::ec_p256_from_seed(&[0u8; 32]).unwrap();
    assert_eq!(edge.public_jwk().to_json()["crv"], "P-256");

    let payload = serde_json::to_vec(&claims()).unwrap();
    let token = sign_compact(&first, Algorithm::ES256, &header_extra("seeded"), &payload).unwrap();
    let data = jsonwebtoken::decode::<Value>(
        &token,
        &their_decoding_key(&again.public_jwk()),
        &their_validation(Algorithm::ES256),
    )
    .unwrap();
    assert_eq!(data.claims, claims());
    assert!(
        jsonwebtoken::decode::<Value>(
            &token,
            &their_decoding_key(&other.public_jwk()),
            &their_validation(Algorithm::ES256),
        )
        .is_err()
    );
}
