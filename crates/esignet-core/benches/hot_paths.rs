//! Micro-benchmarks of the domain's hot paths, on the same real seams as the core tests
//! (SQLite in memory, the in-process cache, the mock identity system, RSA-2048 keys), without
//! HTTP: oauth-details validation and transaction creation, PAR (request validation and
//! `private_key_jwt` verification), DPoP proof validation, and a whole login through token
//! minting.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/core/harness.rs"]
#[allow(dead_code)]
mod harness;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use esignet_core::api::ParForm;
use esignet_jose::{Algorithm, PrivateKey};
use harness::{CLIENT, Harness, ISSUER, REDIRECT};
use serde_json::{Map, json};

fn hot_paths(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let h = runtime.block_on(Harness::new());

    c.bench_function("oauth-details (validate + create transaction)", |b| {
        b.to_async(&runtime)
            .iter(|| async { h.start("openid email").await })
    });

    let par_endpoint = format!("{ISSUER}/v1/esignet/oauth/par");
    // Client-side signing happens in the (unmeasured) setup of each iteration.
    c.bench_function("PAR (validate + private_key_jwt)", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                let now = h.now();
                let claims = json!({"iss": CLIENT, "sub": CLIENT, "aud": par_endpoint, "iat": now, "exp": now + 60,
                                    "jti": esignet_jose::random_id()});
                let assertion = esignet_jose::sign_compact(
                    &h.client_key,
                    Algorithm::RS256,
                    &Map::new(),
                    claims.to_string().as_bytes(),
                )
                .unwrap();
                ParForm {
                    client_id: Some(CLIENT.into()),
                    scope: Some("openid email".into()),
                    response_type: Some("code".into()),
                    redirect_uri: Some(REDIRECT.into()),
                    client_assertion_type: Some(esignet_core::JWT_BEARER.into()),
                    client_assertion: Some(assertion),
                    ..ParForm::default()
                }
            },
            |form| async { h.core.pushed_authorization_request(form, None).await.unwrap() },
            BatchSize::SmallInput,
        )
    });

    let dpop_key = PrivateKey::generate_ec_p256().unwrap();
    let htu = h.core.config().token_endpoint.clone();
    c.bench_function("DPoP proof validation (ES256)", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                let mut header = Map::new();
                header.insert("typ".into(), json!("dpop+jwt"));
                header.insert("jwk".into(), dpop_key.public_jwk().to_json());
                let claims = json!({"htm": "POST", "htu": htu, "iat": h.now(), "jti": esignet_jose::random_id()});
                esignet_jose::sign_compact(&dpop_key, Algorithm::ES256, &header, claims.to_string().as_bytes()).unwrap()
            },
            |proof| {
                let (core, htu) = (&h.core, &htu);
                async move { core.validate_dpop_proof(&[&proof], "POST", htu).await.unwrap() }
            },
            BatchSize::SmallInput,
        )
    });

    c.bench_function(
        "whole login without HTTP (oauth-details .. token minting)",
        |b| {
            b.to_async(&runtime).iter(|| async {
                let txn = h.start("openid email").await;
                h.authenticate(&txn).await.unwrap();
                let code = h.auth_code(&txn, &["email"]).await.unwrap();
                h.token(&code, h.assertion(60)).await.unwrap()
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = hot_paths
}
criterion_main!(benches);
