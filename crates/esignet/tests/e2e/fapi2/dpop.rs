//! The plan's DPoP modules: proof validation and the binding of the code to the key.

use josekit::jwk::Jwk;
use serde_json::{Value, json};

use super::{CLIENT, Code, Fapi, dpop_proof_with};
use crate::harness::{new_ec_key, thumbprint, unix_now, uuid};
use crate::login::pkce_pair;

/// The token answer to `code` with a proof of `key` edited by `edit` (nonce already set).
async fn token_with_proof(
    fapi: &Fapi,
    code: &Code,
    key: &Jwk,
    edit: impl FnOnce(&mut josekit::jws::JwsHeader, &mut Value),
) -> super::Answer {
    let nonce = fapi.token_nonce(code).await;
    let endpoint = fapi.server.token_endpoint();
    let proof = dpop_proof_with(key, |header, claims| {
        claims["htm"] = json!("POST");
        claims["htu"] = json!(endpoint);
        claims["nonce"] = json!(nonce);
        edit(header, claims);
    });
    fapi.post(
        &endpoint,
        &fapi.token_form(CLIENT, code, fapi.assertion(&fapi.key, CLIENT)),
        Some(proof),
    )
    .await
}

#[tokio::test]
async fn check_dpop_proof_nbf_exp() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let expired = token_with_proof(&fapi, &code, &fapi.dpop_key, |_, claims| {
        claims["exp"] = json!(unix_now() - 60);
    })
    .await;
    assert_eq!(expired.error().0, "invalid_dpop_proof", "{}", expired.body);
    let not_yet = token_with_proof(&fapi, &code, &fapi.dpop_key, |_, claims| {
        claims["nbf"] = json!(unix_now() + 120);
    })
    .await;
    assert_eq!(not_yet.error().0, "invalid_dpop_proof", "{}", not_yet.body);
}

#[tokio::test]
async fn ensure_dpop_proof_with_iat_10_seconds_before_succeeds() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let answer = token_with_proof(&fapi, &code, &fapi.dpop_key, |_, claims| {
        claims["iat"] = json!(unix_now() - 10);
    })
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn ensure_dpop_proof_with_iat_10_seconds_after_succeeds() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let answer = token_with_proof(&fapi, &code, &fapi.dpop_key, |_, claims| {
        claims["iat"] = json!(unix_now() + 9);
    })
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// Pushes a request with `dpop_jkt` and/or a proof of `proof_key`; returns the answer and the
/// verifier.
async fn push_bound(
    fapi: &Fapi,
    dpop_jkt: Option<String>,
    proof_key: Option<&Jwk>,
) -> (super::Answer, String) {
    let (verifier, challenge) = pkce_pair();
    let mut params = fapi.params(&challenge, &uuid());
    if let Some(jkt) = dpop_jkt {
        params.push(("dpop_jkt", jkt));
    }
    let par = fapi.server.par_endpoint();
    let proof = proof_key.map(|key| {
        dpop_proof_with(key, |_, claims| {
            claims["htm"] = json!("POST");
            claims["htu"] = json!(par);
        })
    });
    let answer = fapi
        .push(CLIENT, fapi.assertion(&fapi.key, CLIENT), params, proof)
        .await;
    (answer, verifier)
}

/// Signs in on a pushed answer and returns the code.
async fn code_of(fapi: &Fapi, pushed: super::Answer, verifier: String) -> Code {
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    let code = fapi
        .sign_in(CLIENT, pushed.body["request_uri"].as_str().unwrap())
        .await
        .unwrap();
    Code {
        code,
        verifier,
        nonce: String::new(),
    }
}

#[tokio::test]
async fn ensure_mismatched_dpop_jkt_fails() {
    let fapi = Fapi::start(&[]).await;
    let other = new_ec_key();
    let (answer, _) = push_bound(&fapi, Some(thumbprint(&other)), Some(&fapi.dpop_key)).await;
    assert_eq!(
        (answer.status, answer.error().0),
        (400, "invalid_dpop_proof")
    );
}

#[tokio::test]
async fn ensure_token_endpoint_fails_with_mismatched_dpop_proof_jkt() {
    // The code is bound to the key of the PAR proof; a proof of another key is refused.
    let fapi = Fapi::start(&[]).await;
    let (pushed, verifier) = push_bound(&fapi, None, Some(&fapi.dpop_key)).await;
    let code = code_of(&fapi, pushed, verifier).await;
    let other = new_ec_key();
    let answer = token_with_proof(&fapi, &code, &other, |_, _| {}).await;
    assert_eq!(
        (answer.status, answer.error().0),
        (400, "invalid_dpop_proof")
    );
}

#[tokio::test]
async fn ensure_token_endpoint_fails_with_mismatched_dpop_jkt() {
    // The code is bound by `dpop_jkt` alone; a proof of another key is refused.
    let fapi = Fapi::start(&[]).await;
    let other = new_ec_key();
    let (pushed, verifier) = push_bound(&fapi, Some(thumbprint(&other)), None).await;
    let code = code_of(&fapi, pushed, verifier).await;
    let endpoint = fapi.server.token_endpoint();
    let answer = fapi
        .post(
            &endpoint,
            &fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT)),
            Some(fapi.proof("POST", &endpoint, None, None)),
        )
        .await;
    assert_eq!(
        (answer.status, answer.error().0),
        (400, "invalid_dpop_proof")
    );
}

#[tokio::test]
async fn ensure_dpop_proof_at_par_endpoint_binding_success() {
    let fapi = Fapi::start(&[]).await;
    let (pushed, verifier) = push_bound(&fapi, None, Some(&fapi.dpop_key)).await;
    let code = code_of(&fapi, pushed, verifier).await;
    let answer = token_with_proof(&fapi, &code, &fapi.dpop_key, |_, _| {}).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "DPoP");
}

#[tokio::test]
async fn ensure_dpop_auth_code_binding_success() {
    let fapi = Fapi::start(&[]).await;
    let (pushed, verifier) = push_bound(&fapi, Some(thumbprint(&fapi.dpop_key)), None).await;
    let code = code_of(&fapi, pushed, verifier).await;
    let answer = token_with_proof(&fapi, &code, &fapi.dpop_key, |_, _| {}).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn dpop_negative_tests() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    type Edit = fn(&mut josekit::jws::JwsHeader, &mut Value);
    let cases: [(&str, Edit); 7] = [
        ("wrong htm", |_, claims| claims["htm"] = json!("GET")),
        ("wrong htu", |_, claims| {
            claims["htu"] = json!("https://other.example/token")
        }),
        ("no jti", |_, claims| {
            claims.as_object_mut().unwrap().remove("jti");
        }),
        ("iat far in the past", |_, claims| {
            claims["iat"] = json!(unix_now() - 3600)
        }),
        ("iat far in the future", |_, claims| {
            claims["iat"] = json!(unix_now() + 3600)
        }),
        ("typ not dpop+jwt", |header, _| header.set_token_type("JWT")),
        ("a nonce the server never issued", |_, claims| {
            claims["nonce"] = json!("not-a-server-nonce")
        }),
    ];
    for (case, edit) in cases {
        let answer = token_with_proof(&fapi, &code, &fapi.dpop_key, edit).await;
        assert_eq!(answer.status, 400, "{case}: {}", answer.body);
        assert!(
            matches!(answer.error().0, "invalid_dpop_proof" | "use_dpop_nonce"),
            "{case}: {}",
            answer.body
        );
    }
    // A replayed proof (same jti) is refused the second time.
    let nonce = fapi.token_nonce(&code).await;
    let endpoint = fapi.server.token_endpoint();
    let jti = uuid();
    let proof = || {
        dpop_proof_with(&fapi.dpop_key, |_, claims| {
            claims["htm"] = json!("POST");
            claims["htu"] = json!(endpoint);
            claims["nonce"] = json!(nonce);
            claims["jti"] = json!(jti);
        })
    };
    let mut form = fapi.token_form(CLIENT, &code, "not-an-assertion".into());
    let first = fapi.post(&endpoint, &form, Some(proof())).await;
    assert_eq!(first.error().0, "invalid_client", "{}", first.body);
    form = fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT));
    let replayed = fapi.post(&endpoint, &form, Some(proof())).await;
    assert_eq!(
        replayed.error().0,
        "invalid_dpop_proof",
        "{}",
        replayed.body
    );
    // The code was not consumed by any of it: a good proof still redeems it.
    let answer = token_with_proof(&fapi, &code, &fapi.dpop_key, |_, _| {}).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}
