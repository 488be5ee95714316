//! Signing and verification cost of a typical ID token (about 400 bytes of claims).
//!
//! Run with `cargo bench -p esignet-jose --bench sign`.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use esignet_jose::{Algorithm, PrivateKey, decode_compact, sign_compact};
use serde_json::{Map, Value, json};

/// An ID-token claims set of realistic size (around 400 bytes serialized).
fn id_token_payload() -> Vec<u8> {
    let claims = json!({
        "iss": "https://esignet.example.org/v1/esignet",
        "sub": "2LzcRSd3V4x9u0GWyQ5_fHuaBXH8aYzmTnxhKRS-vJU",
        "aud": "health-services-portal-client-01",
        "exp": 1_767_225_600u64,
        "iat": 1_767_222_000u64,
        "auth_time": 1_767_221_950u64,
        "nonce": "973eieljzng-3kzoq7bgd0",
        "acr": "mosip:idp:acr:generated-code",
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
        "sid": "Qm8sK1l2k2n4Tn0QbWbq1rJ2m5QyV6zHcF0sX9nYx4E",
        "amr": ["OTP"],
        "c_hash": "LDktKdoQak3Pk0cnXxCltA"
    });
    let payload = serde_json::to_vec(&claims).unwrap_or_default();
    assert!(
        (350..=450).contains(&payload.len()),
        "payload is {} bytes",
        payload.len()
    );
    payload
}

fn header(kid: &str) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("kid".into(), Value::from(kid));
    header.insert("typ".into(), Value::from("JWT"));
    header
}

fn bench_sign(criterion: &mut Criterion) {
    let payload = id_token_payload();
    let rsa = PrivateKey::generate_rsa(2048).unwrap_or_else(|error| panic!("{error}"));
    let ec = PrivateKey::generate_ec_p256().unwrap_or_else(|error| panic!("{error}"));
    let header = header("bench-key");

    for (name, key, alg) in [
        ("sign RS256 (RSA-2048)", &rsa, Algorithm::RS256),
        ("sign PS256 (RSA-2048)", &rsa, Algorithm::PS256),
        ("sign ES256 (P-256)", &ec, Algorithm::ES256),
    ] {
        criterion.bench_function(name, |bencher| {
            bencher.iter(|| sign_compact(key, alg, &header, black_box(&payload)))
        });
    }

    let token = sign_compact(&rsa, Algorithm::RS256, &header, &payload)
        .unwrap_or_else(|error| panic!("{error}"));
    let public = rsa.public_jwk();
    criterion.bench_function("verify RS256 (RSA-2048, decode + verify)", |bencher| {
        bencher.iter(|| {
            decode_compact(black_box(&token))
                .map(|decoded| decoded.verify(&public))
                .unwrap_or(false)
        })
    });
}

criterion_group!(benches, bench_sign);
criterion_main!(benches);
