//! The plan's discovery, happy-flow and authorization-request modules.

use serde_json::{Value, json};

use super::{CLIENT, Fapi, Form, REDIRECT};
use crate::harness::uuid;
use crate::login::{Browser, authorize_request, pkce_pair};
use crate::verify::{jwks, verify_jws};

/// Pushes `edit`ed normal parameters; returns the answer.
async fn push_edited(fapi: &Fapi, edit: impl FnOnce(&mut Form)) -> super::Answer {
    let (_, challenge) = pkce_pair();
    let mut params = fapi.params(&challenge, &uuid());
    edit(&mut params);
    push_params(fapi, params).await
}

/// Pushes `params` as the first client with a DPoP proof.
async fn push_params(fapi: &Fapi, params: Form) -> super::Answer {
    let par = fapi.server.par_endpoint();
    fapi.push(
        CLIENT,
        fapi.assertion(&fapi.key, CLIENT),
        params,
        Some(fapi.proof("POST", &par, None, None)),
    )
    .await
}

/// Userinfo with `scheme <token>` and a DPoP proof carrying the server `nonce`.
async fn dpop_userinfo(fapi: &Fapi, scheme: &str, token: &str, nonce: &str) -> reqwest::Response {
    fapi.server
        .http
        .get(fapi.server.userinfo_endpoint())
        .header("Authorization", format!("{scheme} {token}"))
        .header(
            "DPoP",
            fapi.proof(
                "GET",
                &fapi.server.userinfo_endpoint(),
                Some(nonce),
                Some(token),
            ),
        )
        .send()
        .await
        .unwrap()
}

fn set(params: &mut Form, name: &'static str, value: &str) {
    params.retain(|(key, _)| *key != name);
    params.push((name, value.to_owned()));
}

/// Pushes `edit`ed parameters, signs in and redeems the code: the whole flow must succeed.
/// Returns the `state` the code came back with.
async fn succeeds(fapi: &Fapi, edit: impl FnOnce(&mut Form)) -> Value {
    let (verifier, challenge) = pkce_pair();
    let mut params = fapi.params(&challenge, &uuid());
    edit(&mut params);
    let pushed = push_params(fapi, params).await;
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    let browser = Browser::start(
        &fapi.server,
        "/authorization/par-oauth-details",
        json!({"clientId": CLIENT, "requestUri": pushed.body["request_uri"]}),
    )
    .await
    .unwrap();
    assert_eq!(browser.otp_login("3519847260").await["errors"], json!([]));
    let answer = browser.auth_code(&["email"], &[]).await;
    assert_eq!(answer["errors"], json!([]), "{answer}");
    let code = super::Code {
        code: answer["response"]["code"].as_str().unwrap().to_owned(),
        verifier,
        nonce: String::new(),
    };
    let tokens = fapi
        .token(fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT)))
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    answer["response"]["state"].clone()
}

#[tokio::test]
async fn discovery_endpoint_verification() {
    let fapi = Fapi::start(&[("ESIGNET_SERVER__PROFILE", "fapi2.0")]).await;
    let metadata: Value = fapi
        .server
        .http
        .get(fapi.server.url("/oidc/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["issuer"], json!(fapi.issuer()));
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        json!(fapi.server.par_endpoint())
    );
    assert!(
        metadata["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .iter()
            .all(|method| method == "private_key_jwt")
    );
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(metadata["response_types_supported"], json!(["code"]));
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert!(
        metadata["dpop_signing_alg_values_supported"]
            .as_array()
            .is_some_and(|algs| !algs.is_empty())
    );
    for endpoint in ["authorization_endpoint", "token_endpoint", "jwks_uri"] {
        assert!(metadata[endpoint].as_str().is_some(), "{endpoint}");
    }
}

#[tokio::test]
async fn happy_flow() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let tokens = fapi
        .token(fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT)))
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.body["token_type"], "DPoP");
    let set = jwks(&fapi.server).await;
    let (_, id_token) = verify_jws(
        &set,
        tokens.body["id_token"].as_str().unwrap(),
        Some(CLIENT),
    );
    assert_eq!(id_token["nonce"], json!(code.nonce));
    let access_token = tokens.body["access_token"].as_str().unwrap();
    let nonce = tokens.headers["dpop-nonce"].to_str().unwrap().to_owned();
    let userinfo = dpop_userinfo(&fapi, "DPoP", access_token, &nonce).await;
    assert_eq!(userinfo.status().as_u16(), 200);
    let (_, claims) = verify_jws(&set, &userinfo.text().await.unwrap(), Some(CLIENT));
    assert_eq!(claims["sub"], id_token["sub"]);
}

#[tokio::test]
async fn ensure_authorization_request_without_state_success() {
    let fapi = Fapi::start(&[]).await;
    let answer = push_edited(&fapi, |params| params.retain(|(key, _)| *key != "state")).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[tokio::test]
async fn ensure_authorization_request_without_nonce_success() {
    // FAPI 2.0 with PKCE does not need a nonce (OIDC Core §3.1.2.1: optional for the code flow).
    let fapi = Fapi::start(&[]).await;
    let answer = push_edited(&fapi, |params| params.retain(|(key, _)| *key != "nonce")).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[tokio::test]
async fn ensure_authorization_request_with_64_char_nonce_success() {
    let fapi = Fapi::start(&[]).await;
    succeeds(&fapi, |params| set(params, "nonce", &"n".repeat(64))).await;
}

#[tokio::test]
async fn ensure_other_scope_order_succeeds() {
    let fapi = Fapi::start(&[]).await;
    succeeds(&fapi, |params| set(params, "scope", "email openid")).await;
}

#[tokio::test]
async fn access_token_type_header_case_sensitivity() {
    // RFC 9110 §11.1: the authentication scheme is case-insensitive.
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let tokens = fapi
        .token(fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT)))
        .await;
    let access_token = tokens.body["access_token"].as_str().unwrap();
    let nonce = tokens.headers["dpop-nonce"].to_str().unwrap().to_owned();
    let response = dpop_userinfo(&fapi, "dpop", access_token, &nonce).await;
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn ensure_authorization_request_with_long_nonce() {
    let fapi = Fapi::start(&[]).await;
    succeeds(&fapi, |params| set(params, "nonce", &"n".repeat(384))).await;
}

#[tokio::test]
async fn ensure_authorization_request_with_long_state() {
    let fapi = Fapi::start(&[]).await;
    let long = "s".repeat(384);
    let state = succeeds(&fapi, |params| set(params, "state", &long)).await;
    assert_eq!(state, json!(long));
}

#[tokio::test]
async fn ensure_registered_redirect_uri() {
    let fapi = Fapi::start(&[]).await;
    let answer = push_edited(&fapi, |params| {
        set(params, "redirect_uri", "https://attacker.example/callback")
    })
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.error().1, "invalid_redirect_uri");
}

#[tokio::test]
async fn ensure_unsigned_authorization_request_without_using_par_fails() {
    let fapi = Fapi::start(&[]).await;
    let (_, challenge) = pkce_pair();
    let request = authorize_request(CLIENT, REDIRECT, "openid email", Some(&challenge));
    let refused = Browser::start(&fapi.server, "/authorization/v3/oauth-details", request)
        .await
        .err()
        .expect("a client that must push is refused a plain request");
    assert_eq!(refused["errors"][0]["errorCode"], "invalid_request");
}

#[tokio::test]
async fn ensure_redirect_uri_in_authorization_request() {
    let fapi = Fapi::start(&[]).await;
    let answer = push_edited(&fapi, |params| {
        params.retain(|(key, _)| *key != "redirect_uri")
    })
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
}

#[tokio::test]
async fn ensure_response_type_code_id_token_fails() {
    let fapi = Fapi::start(&[]).await;
    let answer = push_edited(&fapi, |params| {
        set(params, "response_type", "code id_token")
    })
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
}

#[tokio::test]
async fn ensure_response_type_token_fails() {
    let fapi = Fapi::start(&[]).await;
    let answer = push_edited(&fapi, |params| set(params, "response_type", "token")).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
}
