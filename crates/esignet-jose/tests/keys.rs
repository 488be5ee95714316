//! JWK parsing and validation, thumbprints, and private key import / export.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

use esignet_jose::{Algorithm, JoseError, PrivateKey, PublicJwk, b64url_encode};
use serde_json::{Value, json};

/// RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint.
const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
const RFC7638_THUMBPRINT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

fn rfc7638_key() -> Value {
    json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"})
}

fn with(mut jwk: Value, name: &str, value: Value) -> Value {
    jwk[name] = value;
    jwk
}

fn without(mut jwk: Value, name: &str) -> Value {
    jwk.as_object_mut().unwrap().remove(name);
    jwk
}

#[test]
fn rfc7638_thumbprint_golden_vector() {
    let jwk = PublicJwk::from_json(&rfc7638_key()).unwrap();
    assert_eq!(jwk.thumbprint(), RFC7638_THUMBPRINT);
    assert_eq!(jwk.kty(), "RSA");
    assert_eq!(jwk.kid(), Some("2011-04-29"));
    // Optional members do not change the thumbprint.
    let bare = PublicJwk::from_json(&without(without(rfc7638_key(), "alg"), "kid")).unwrap();
    assert_eq!(bare.thumbprint(), RFC7638_THUMBPRINT);
}

#[test]
fn to_json_is_canonical_and_round_trips() {
    let jwk = PublicJwk::from_json(&with(rfc7638_key(), "use", json!("sig"))).unwrap();
    let out = jwk.to_json();
    let names: Vec<&str> = out
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["kty", "n", "e", "kid", "alg", "use"]);
    assert_eq!(PublicJwk::from_json(&out).unwrap(), jwk);

    let ec = PrivateKey::generate_ec_p256()
        .unwrap()
        .public_jwk()
        .with_kid("ec-1");
    let out = ec.to_json();
    let names: Vec<&str> = out
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["kty", "crv", "x", "y", "kid"]);
    assert_eq!(out["crv"], "P-256");
    let parsed = PublicJwk::from_json(&out).unwrap();
    assert_eq!(parsed, ec);
    assert_eq!(parsed.thumbprint(), ec.thumbprint());
}

#[test]
fn ec_thumbprint_uses_the_rfc_member_order() {
    let public = PrivateKey::generate_ec_p256().unwrap().public_jwk();
    let jwk = public.to_json();
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap()
    );
    assert_eq!(
        public.thumbprint(),
        esignet_jose::sha256_b64url(canonical.as_bytes())
    );
}

#[test]
fn identity_hash_ignores_kid_and_encoding_details() {
    let first = PublicJwk::from_json(&rfc7638_key()).unwrap();
    let second = PublicJwk::from_json(&json!({
        "kty": "RSA", "n": RFC7638_N, "e": "AQAB", "kid": "another-kid", "use": "sig"
    }))
    .unwrap();
    assert_eq!(first.identity_hash(), second.identity_hash());

    // A leading zero octet in n is the same key (and is dropped from the canonical form).
    let mut padded = vec![0u8];
    padded.extend(esignet_jose::b64url_decode(RFC7638_N).unwrap());
    let third = PublicJwk::from_json(&json!({
        "kty": "RSA", "n": b64url_encode(&padded), "e": "AQAB"
    }))
    .unwrap();
    assert_eq!(third.identity_hash(), first.identity_hash());
    assert_eq!(third.thumbprint(), RFC7638_THUMBPRINT);

    let other = PrivateKey::generate_rsa(2048).unwrap().public_jwk();
    assert_ne!(other.identity_hash(), first.identity_hash());
    let ec_a = PrivateKey::generate_ec_p256().unwrap().public_jwk();
    let ec_b = PrivateKey::generate_ec_p256().unwrap().public_jwk();
    assert_ne!(ec_a.identity_hash(), ec_b.identity_hash());
    assert_eq!(
        ec_a.identity_hash(),
        PublicJwk::from_json(&ec_a.to_json().clone())
            .unwrap()
            .identity_hash()
    );
}

fn assert_invalid(jwk: &Value, what: &str) {
    match PublicJwk::from_json(jwk) {
        Err(JoseError::InvalidJwk(_) | JoseError::UnsupportedKey(_) | JoseError::InvalidBase64) => {
        }
        other => panic!("{what}: expected a validation error, got {other:?}"),
    }
}

#[test]
fn invalid_public_jwks_are_rejected() {
    let ec = PrivateKey::generate_ec_p256()
        .unwrap()
        .public_jwk()
        .to_json();
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        assert!(
            matches!(
                PublicJwk::from_json(&with(rfc7638_key(), member, json!("AQAB"))),
                Err(JoseError::InvalidJwk("contains private key members"))
            ),
            "{member}"
        );
    }
    assert_invalid(&json!("not an object"), "string");
    assert_invalid(&json!([rfc7638_key()]), "array");
    assert_invalid(&without(rfc7638_key(), "kty"), "no kty");
    assert_invalid(&with(rfc7638_key(), "kty", json!("oct")), "oct");
    assert_invalid(&with(rfc7638_key(), "kty", json!("OKP")), "OKP");
    assert_invalid(&with(rfc7638_key(), "kty", json!("rsa")), "lower-case kty");
    assert_invalid(&without(rfc7638_key(), "n"), "no n");
    assert_invalid(&without(rfc7638_key(), "e"), "no e");
    assert_invalid(&with(rfc7638_key(), "n", json!(12345)), "numeric n");
    assert_invalid(&with(rfc7638_key(), "e", json!("AQAB==")), "padded e");
    assert_invalid(
        &with(rfc7638_key(), "n", json!(format!("{RFC7638_N}+"))),
        "bad char",
    );
    assert_invalid(&with(rfc7638_key(), "e", json!("AQAC")), "even exponent");
    assert_invalid(&with(rfc7638_key(), "e", json!("AQ")), "exponent 1");
    assert_invalid(&with(rfc7638_key(), "e", json!("")), "empty exponent");
    assert_invalid(&with(rfc7638_key(), "kid", json!(7)), "numeric kid");
    assert_invalid(&with(rfc7638_key(), "use", json!(["sig"])), "array use");

    let small = openssl::rsa::Rsa::generate(1024).unwrap();
    assert!(matches!(
        PublicJwk::from_json(&json!({
            "kty": "RSA", "n": b64url_encode(&small.n().to_vec()), "e": "AQAB"
        })),
        Err(JoseError::InvalidJwk("RSA modulus shorter than 2048 bits"))
    ));

    assert_invalid(&with(ec.clone(), "crv", json!("P-384")), "P-384");
    assert_invalid(&without(ec.clone(), "crv"), "no crv");
    assert_invalid(&without(ec.clone(), "y"), "no y");
    assert_invalid(
        &with(ec.clone(), "x", json!(b64url_encode(&[1u8; 31]))),
        "short x",
    );
    assert_invalid(
        &with(ec.clone(), "x", json!(b64url_encode(&[1u8; 33]))),
        "long x",
    );
    // Flipping a bit of y moves the point off the curve.
    let mut y = esignet_jose::b64url_decode(ec["y"].as_str().unwrap()).unwrap();
    y[31] ^= 1;
    assert_invalid(
        &with(ec.clone(), "y", json!(b64url_encode(&y))),
        "off-curve point",
    );
}

#[test]
fn declared_use_and_alg_limit_verification() {
    let key = PrivateKey::generate_rsa(2048).unwrap();
    let jwk = key.public_jwk().to_json();
    let input = b"a.b";
    let signature = key.sign(Algorithm::RS256, input).unwrap();

    let plain = PublicJwk::from_json(&jwk).unwrap();
    assert!(plain.supports(Algorithm::RS256) && plain.supports(Algorithm::PS256));
    assert!(!plain.supports(Algorithm::ES256));
    assert!(plain.verify(Algorithm::RS256, input, &signature));

    let rs_only = PublicJwk::from_json(&with(jwk.clone(), "alg", json!("RS256"))).unwrap();
    assert!(rs_only.supports(Algorithm::RS256) && !rs_only.supports(Algorithm::PS256));
    let ps_only = PublicJwk::from_json(&with(jwk.clone(), "alg", json!("PS256"))).unwrap();
    assert!(!ps_only.verify(Algorithm::RS256, input, &signature));

    let enc = PublicJwk::from_json(&with(jwk.clone(), "use", json!("enc"))).unwrap();
    assert!(!enc.supports(Algorithm::RS256));
    assert!(!enc.verify(Algorithm::RS256, input, &signature));

    let ec = PrivateKey::generate_ec_p256().unwrap().public_jwk();
    assert!(ec.supports(Algorithm::ES256));
    assert!(!ec.supports(Algorithm::RS256) && !ec.supports(Algorithm::PS256));
}

#[test]
fn private_jwk_round_trips() {
    for key in [
        PrivateKey::generate_rsa(2048).unwrap(),
        PrivateKey::generate_ec_p256().unwrap(),
    ] {
        let alg = if key.public_jwk().kty() == "RSA" {
            Algorithm::PS256
        } else {
            Algorithm::ES256
        };
        let jwk = key.private_jwk_json().unwrap();
        let expected: &[&str] = if alg == Algorithm::ES256 {
            &["kty", "crv", "x", "y", "d"]
        } else {
            &["kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"]
        };
        let names: Vec<&str> = jwk
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(names, expected);
        // The private JWK is never accepted where a public one is expected.
        assert!(PublicJwk::from_json(&jwk).is_err());

        let restored =
            PrivateKey::from_private_jwk_json(&with(jwk.clone(), "kid", json!("k"))).unwrap();
        assert_eq!(restored.public_jwk(), key.public_jwk());
        assert_eq!(
            *restored.to_pkcs8_der().unwrap(),
            *key.to_pkcs8_der().unwrap()
        );
        let signature = restored.sign(alg, b"input").unwrap();
        assert!(key.public_jwk().verify(alg, b"input", &signature));

        // PKCS#8 DER and PEM round trips.
        let from_der = PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(from_der.public_jwk(), key.public_jwk());
        let pem = key.to_pem_pkcs8().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let from_pem = PrivateKey::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(from_pem.public_jwk(), key.public_jwk());
        // Debug output never shows the key.
        let debug = format!("{key:?}");
        assert!(debug.contains(&key.public_jwk().thumbprint()));
        assert!(!debug.contains(jwk["d"].as_str().unwrap()));
    }
}

#[test]
fn inconsistent_or_incomplete_private_jwks_are_rejected() {
    let rsa = PrivateKey::generate_rsa(2048)
        .unwrap()
        .private_jwk_json()
        .unwrap();
    let other_rsa = PrivateKey::generate_rsa(2048)
        .unwrap()
        .private_jwk_json()
        .unwrap();
    for member in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
        assert!(
            PrivateKey::from_private_jwk_json(&without(rsa.clone(), member)).is_err(),
            "missing {member}"
        );
    }
    // The public modulus of one key with the private parts of another.
    let mixed = with(rsa.clone(), "n", other_rsa["n"].clone());
    assert!(PrivateKey::from_private_jwk_json(&mixed).is_err());
    let mixed = with(rsa.clone(), "d", other_rsa["d"].clone());
    assert!(PrivateKey::from_private_jwk_json(&mixed).is_err());

    let ec = PrivateKey::generate_ec_p256()
        .unwrap()
        .private_jwk_json()
        .unwrap();
    let other_ec = PrivateKey::generate_ec_p256()
        .unwrap()
        .private_jwk_json()
        .unwrap();
    let mixed = with(ec.clone(), "d", other_ec["d"].clone());
    assert!(matches!(
        PrivateKey::from_private_jwk_json(&mixed),
        Err(JoseError::InvalidJwk("inconsistent EC private key"))
    ));
    assert!(PrivateKey::from_private_jwk_json(&with(ec.clone(), "crv", json!("P-521"))).is_err());
    assert!(PrivateKey::from_private_jwk_json(&without(ec.clone(), "d")).is_err());
    assert!(PrivateKey::from_private_jwk_json(&with(ec, "kty", json!("oct"))).is_err());
    assert!(PrivateKey::from_private_jwk_json(&json!(null)).is_err());
}

#[test]
fn weak_or_foreign_private_keys_are_rejected() {
    assert!(matches!(
        PrivateKey::generate_rsa(1024),
        Err(JoseError::UnsupportedKey(_))
    ));
    let small = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(1024).unwrap()).unwrap();
    assert!(PrivateKey::from_pkcs8_der(&small.private_key_to_pkcs8().unwrap()).is_err());
    assert!(PrivateKey::from_pem(&small.private_key_to_pem_pkcs8().unwrap()).is_err());

    let p384 = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::SECP384R1).unwrap();
    let p384 =
        openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&p384).unwrap()).unwrap();
    assert!(matches!(
        PrivateKey::from_pkcs8_der(&p384.private_key_to_pkcs8().unwrap()),
        Err(JoseError::UnsupportedKey(_))
    ));
    let ed = openssl::pkey::PKey::generate_ed25519().unwrap();
    assert!(PrivateKey::from_pkcs8_der(&ed.private_key_to_pkcs8().unwrap()).is_err());
    assert!(PrivateKey::from_pkcs8_der(b"garbage").is_err());
    assert!(PrivateKey::from_pem(b"-----BEGIN PRIVATE KEY-----\nAA==\n").is_err());

    // A traditional ("RSA PRIVATE KEY") PEM is accepted.
    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
    let key = PrivateKey::from_pem(&rsa.private_key_to_pem().unwrap()).unwrap();
    assert_eq!(key.public_jwk().kty(), "RSA");
}
