//! The plan's PAR, PKCE and client-assertion audience modules.

use serde_json::json;

use super::{CLIENT, Fapi, SECOND_CLIENT, assertion_with};
use crate::harness::{unix_now, uuid};
use crate::login::{Browser, pkce_pair};

fn request_uri(answer: &super::Answer) -> String {
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["request_uri"].as_str().unwrap().to_owned()
}

async fn pushed(fapi: &Fapi) -> String {
    let (_, challenge) = pkce_pair();
    let par = fapi.server.par_endpoint();
    request_uri(
        &fapi
            .push(
                CLIENT,
                fapi.assertion(&fapi.key, CLIENT),
                fapi.params(&challenge, &uuid()),
                Some(fapi.proof("POST", &par, None, None)),
            )
            .await,
    )
}

/// The par-oauth-details error of starting `client`'s login on `request_uri`.
async fn refused_start(fapi: &Fapi, client: &str, request_uri: &str) -> String {
    let errors = Browser::start(
        &fapi.server,
        "/authorization/par-oauth-details",
        json!({"clientId": client, "requestUri": request_uri}),
    )
    .await
    .err()
    .expect("the login must not start");
    errors["errors"][0]["errorCode"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn par_attempt_reuse_request_uri() {
    let fapi = Fapi::start(&[]).await;
    let uri = pushed(&fapi).await;
    fapi.sign_in(CLIENT, &uri).await.unwrap();
    assert_eq!(refused_start(&fapi, CLIENT, &uri).await, "invalid_request");
}

#[tokio::test]
async fn par_attempt_to_use_expired_request_uri() {
    let fapi = Fapi::start(&[("ESIGNET_TRANSACTION__PAR_TTL_SECS", "1")]).await;
    let uri = pushed(&fapi).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(refused_start(&fapi, CLIENT, &uri).await, "invalid_request");
}

#[tokio::test]
async fn par_ensure_jwt_client_assertion_with_iat_nbf_8_seconds_in_the_future_is_accepted() {
    let fapi = Fapi::start(&[]).await;
    let (_, challenge) = pkce_pair();
    let assertion = assertion_with(&fapi.key, |claims| {
        let now = unix_now();
        claims["iss"] = json!(CLIENT);
        claims["sub"] = json!(CLIENT);
        claims["aud"] = json!(fapi.issuer());
        claims["iat"] = json!(now + 8);
        claims["nbf"] = json!(now + 8);
        claims["exp"] = json!(now + 68);
    });
    let par = fapi.server.par_endpoint();
    let answer = fapi
        .push(
            CLIENT,
            assertion,
            fapi.params(&challenge, &uuid()),
            Some(fapi.proof("POST", &par, None, None)),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[tokio::test]
async fn par_ensure_jwt_client_assertion_with_iat_nbf_over_60_seconds_in_the_future_fails() {
    let fapi = Fapi::start(&[]).await;
    let (_, challenge) = pkce_pair();
    let assertion = assertion_with(&fapi.key, |claims| {
        let now = unix_now();
        claims["iss"] = json!(CLIENT);
        claims["sub"] = json!(CLIENT);
        claims["aud"] = json!(fapi.issuer());
        claims["iat"] = json!(now + 70);
        claims["nbf"] = json!(now + 70);
        claims["exp"] = json!(now + 130);
    });
    let answer = fapi
        .push(CLIENT, assertion, fapi.params(&challenge, &uuid()), None)
        .await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_client"));
}

#[tokio::test]
async fn par_ensure_request_uri_is_bound_to_client() {
    let fapi = Fapi::start(&[]).await;
    let uri = pushed(&fapi).await;
    assert_eq!(
        refused_start(&fapi, SECOND_CLIENT, &uri).await,
        "invalid_request"
    );
}

#[tokio::test]
async fn par_reject_request_uri_in_par_authorization_form_params() {
    let fapi = Fapi::start(&[]).await;
    let (_, challenge) = pkce_pair();
    let mut params = fapi.params(&challenge, &uuid());
    params.push((
        "request_uri",
        "urn:ietf:params:oauth:request_uri:anything".into(),
    ));
    let answer = fapi
        .push(CLIENT, fapi.assertion(&fapi.key, CLIENT), params, None)
        .await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_request"));
}

#[tokio::test]
async fn par_reject_invalid_http_verb() {
    let fapi = Fapi::start(&[]).await;
    let response = fapi
        .server
        .http
        .get(fapi.server.par_endpoint())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
}

#[tokio::test]
async fn par_ensure_pkce_required() {
    let fapi = Fapi::start(&[]).await;
    let mut params = fapi.params("unused", &uuid());
    params.retain(|(name, _)| !name.starts_with("code_challenge"));
    let answer = fapi
        .push(CLIENT, fapi.assertion(&fapi.key, CLIENT), params, None)
        .await;
    // Refused at the push, or at the latest when the login starts.
    if answer.status == 201 {
        let uri = answer.body["request_uri"].as_str().unwrap();
        assert_eq!(
            refused_start(&fapi, CLIENT, uri).await,
            "invalid_pkce_challenge"
        );
    } else {
        assert_eq!(answer.status, 400, "{}", answer.body);
    }
}

#[tokio::test]
async fn par_ensure_pkce_code_verifier_required() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let mut form = fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT));
    form.retain(|(name, _)| *name != "code_verifier");
    let answer = fapi.token(form).await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_grant"));
}

#[tokio::test]
async fn par_incorrect_pkce_code_verifier_rejected() {
    let fapi = Fapi::start(&[]).await;
    let code = fapi.code().await;
    let mut form = fapi.token_form(CLIENT, &code, fapi.assertion(&fapi.key, CLIENT));
    let (other_verifier, _) = pkce_pair();
    for (name, value) in form.iter_mut() {
        if *name == "code_verifier" {
            *value = other_verifier.clone();
        }
    }
    let answer = fapi.token(form).await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_grant"));
}

#[tokio::test]
async fn par_ensure_plain_pkce_rejected() {
    let fapi = Fapi::start(&[]).await;
    let (verifier, _) = pkce_pair();
    let mut params = fapi.params(&verifier, &uuid());
    for (name, value) in params.iter_mut() {
        if *name == "code_challenge_method" {
            *value = "plain".into();
        }
    }
    let answer = fapi
        .push(CLIENT, fapi.assertion(&fapi.key, CLIENT), params, None)
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.error().1, "unsupported_pkce_challenge_method");
}

#[tokio::test]
async fn par_without_duplicate_parameters() {
    // The authorization request carries only client_id and request_uri (RFC 9126 §4).
    let fapi = Fapi::start(&[]).await;
    let uri = pushed(&fapi).await;
    fapi.sign_in(CLIENT, &uri).await.unwrap();
}

/// Pushes with an assertion whose `aud` is `aud`, under the server's fapi2.0 profile.
async fn push_with_audience(aud: serde_json::Value) -> super::Answer {
    let fapi = Fapi::start(&[("ESIGNET_SERVER__PROFILE", "fapi2.0")]).await;
    let (_, challenge) = pkce_pair();
    let assertion = assertion_with(&fapi.key, |claims| {
        claims["iss"] = json!(CLIENT);
        claims["sub"] = json!(CLIENT);
        claims["aud"] = match &aud {
            serde_json::Value::String(name) if name == "par" => json!(fapi.server.par_endpoint()),
            serde_json::Value::String(name) if name == "token" => {
                json!(fapi.server.token_endpoint())
            }
            serde_json::Value::String(name) if name == "issuer" => json!(fapi.issuer()),
            _ => json!([fapi.server.par_endpoint()]),
        };
    });
    let par = fapi.server.par_endpoint();
    fapi.push(
        CLIENT,
        assertion,
        fapi.params(&challenge, &uuid()),
        Some(fapi.proof("POST", &par, None, None)),
    )
    .await
}

#[tokio::test]
async fn par_endpoint_as_array_audience_fails() {
    let answer = push_with_audience(json!(["array"])).await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_client"));
}

#[tokio::test]
async fn par_endpoint_as_audience_fails() {
    let answer = push_with_audience(json!("par")).await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_client"));
}

#[tokio::test]
async fn par_token_endpoint_as_audience_fails() {
    let answer = push_with_audience(json!("token")).await;
    assert_eq!((answer.status, answer.error().0), (400, "invalid_client"));
    // The issuer itself is accepted under the same profile.
    let answer = push_with_audience(json!("issuer")).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}
