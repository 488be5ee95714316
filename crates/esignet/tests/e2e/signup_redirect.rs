//! The signup detour over HTTP against the real binary: prepare-signup-redirect (ID token and
//! cookie), the signup client's authorize with `id_token_hint`, the IDT factor, the token
//! exchange whose userinfo is `{"sub": <individual id>}` signed by the provider (verified with
//! jsonwebtoken against the JWKS), complete-signup-redirect, and the error paths; once on one
//! instance, once across two instances over PostgreSQL + Redis.

use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::{Value, json};

use crate::harness::{ADMIN_TOKEN, Server, b64url, new_rsa_key, public_jwk, uuid};
use crate::login::{Browser, Rp, authorize_request, csrf_headers};
use crate::verify::{jwks, verify_jws};

pub const SIGNUP_CLIENT: &str = "mosip-signup-oauth-client";
const ID_TOKEN_ACR: &str = "mosip:idp:acr:id-token";
const RESIDENT: &str = "8267411571";
const FRAGMENT: &str = "urlInfo1767254400000";

pub const ENABLED: (&str, &str) = ("ESIGNET_SIGNUP_REDIRECT__ENABLED", "true");

pub(crate) fn signup_redirect_uri(server: &Server) -> String {
    format!("{}/signup/identity-verification", server.base)
}

/// Registers the signup service's client (as signup-api seeds it) and an RP.
pub async fn register_clients(server: &Server) -> (Rp<'_>, Rp<'_>) {
    let signup_key = new_rsa_key();
    let request = json!({
        "clientId": SIGNUP_CLIENT,
        "clientName": "Signup",
        "clientNameLangMap": {"eng": "Signup"},
        "publicKey": public_jwk(&signup_key),
        "relyingPartyId": "mosip-signup",
        "userClaims": [],
        "authContextRefs": [ID_TOKEN_ACR],
        "logoUri": format!("{}/logo.png", server.base),
        "redirectUris": [signup_redirect_uri(server)],
        "grantTypes": ["authorization_code"],
        "clientAuthMethods": ["private_key_jwt"],
        "additionalConfig": {},
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Bearer {ADMIN_TOKEN}").parse().unwrap(),
    );
    let (status, body) = server
        .post_wrapped("/client-mgmt/client", request, headers)
        .await;
    assert_eq!((status, &body["errors"]), (200, &json!([])), "{body}");
    let rp_key = new_rsa_key();
    let rp_id = format!("rp-{}", &uuid()[..8]);
    server.register_client(&rp_id, json!({}), &rp_key).await;
    (
        Rp {
            server,
            client_id: SIGNUP_CLIENT.into(),
            key: signup_key,
            redirect_uri: signup_redirect_uri(server),
        },
        Rp {
            server,
            client_id: rp_id,
            key: rp_key,
            redirect_uri: "https://rp.example/callback".into(),
        },
    )
}

/// An RP login authenticated with OTP on `server`.
async fn authenticated<'a>(server: &'a Server, rp: &Rp<'_>) -> Browser<'a> {
    let request = authorize_request(&rp.client_id, &rp.redirect_uri, "openid email", None);
    let browser = Browser::start(server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    let authenticated = browser.otp_login(RESIDENT).await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    browser
}

/// prepare-signup-redirect; returns the body and the Set-Cookie header.
pub(crate) async fn prepare(browser: &Browser<'_>, fragment: &str) -> (Value, Option<String>) {
    let response = browser
        .server
        .http
        .post(browser.server.url("/authorization/prepare-signup-redirect"))
        .headers(browser.headers())
        .json(&json!({"requestTime": crate::harness::now_timestamp(),
                      "request": {"transactionId": browser.transaction_id, "pathFragment": fragment}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{}=", browser.transaction_id)))
        .map(str::to_owned);
    (response.json().await.unwrap(), cookie)
}

/// The signup service's authorize (oauth-details v3) with the hint; `cookie` replaces the
/// jar's cookies when given.
async fn signup_start<'a>(
    server: &'a Server,
    client_id: &str,
    hint: &str,
    cookie: Option<&str>,
) -> Result<Browser<'a>, Value> {
    signup_start_to(
        server,
        client_id,
        &signup_redirect_uri(server),
        hint,
        cookie,
    )
    .await
}

pub(crate) async fn signup_start_to<'a>(
    server: &'a Server,
    client_id: &str,
    redirect_uri: &str,
    hint: &str,
    cookie: Option<&str>,
) -> Result<Browser<'a>, Value> {
    let request = json!({
        "clientId": client_id,
        "scope": "openid",
        "responseType": "code",
        "redirectUri": redirect_uri,
        "acrValues": ID_TOKEN_ACR,
        "nonce": uuid(),
        "state": "signup-state",
        "uiLocales": "en",
        "idTokenHint": hint,
    });
    match cookie {
        None => Browser::start(server, "/authorization/v3/oauth-details", request).await,
        Some(cookie) => {
            let csrf = crate::login::csrf_token(server).await;
            let mut headers = csrf_headers(&csrf);
            headers.insert(
                "cookie",
                format!("XSRF-TOKEN={csrf}; {cookie}").parse().unwrap(),
            );
            let (_, body) = server
                .post_wrapped("/authorization/v3/oauth-details", request, headers)
                .await;
            Err(body)
        }
    }
}

pub(crate) fn idt_challenge(token: &str) -> String {
    use base64::Engine;
    // The UI's btoa: standard base64, padded.
    base64::engine::general_purpose::STANDARD
        .encode(json!({"token": token, "code": "code"}).to_string())
}

fn error_code(body: &Value) -> &str {
    body["errors"][0]["errorCode"].as_str().unwrap_or("none")
}

/// Another page of the same browser fetched a new CSRF token meanwhile.
async fn refresh_csrf(browser: &mut Browser<'_>) {
    browser.csrf = crate::login::csrf_token(browser.server).await;
}

pub(crate) async fn complete(browser: &mut Browser<'_>) -> Value {
    refresh_csrf(browser).await;
    browser
        .call(
            "/authorization/complete-signup-redirect",
            json!({"transactionId": browser.transaction_id}),
        )
        .await
}

/// The whole detour with prepare on `a` and the signup login on `b` (the same server, or
/// another instance on the same store and cache with a shared cookie jar).
pub async fn signup_detour(a: &Server, b: &Server) {
    let (signup, rp) = register_clients(a).await;
    let mut original = authenticated(a, &rp).await;
    let (prepared, set_cookie) = prepare(&original, FRAGMENT).await;
    assert_eq!(prepared["errors"], json!([]), "{prepared}");
    let id_token = prepared["response"]["idToken"].as_str().unwrap().to_owned();
    assert_eq!(
        prepared["response"]["transactionId"],
        original.transaction_id
    );

    let set = jwks(b).await;
    let (_, claims) = verify_jws(&set, &id_token, Some(SIGNUP_CLIENT));
    assert_eq!(claims["sub"], original.transaction_id);
    assert_eq!(claims["iss"], a.base);
    let nonce = claims["nonce"].as_str().unwrap();
    let set_cookie = set_cookie.expect("the signup cookie is set");
    assert!(
        set_cookie.starts_with(&format!(
            "{}={nonce}~###~{FRAGMENT}; Max-Age=300; Path=/; HttpOnly",
            original.transaction_id
        )),
        "{set_cookie}"
    );

    // The signup service's login on `b`, the browser carrying the cookie.
    let signup_browser = signup_start_to(b, SIGNUP_CLIENT, &signup.redirect_uri, &id_token, None)
        .await
        .unwrap();
    assert_eq!(
        signup_browser.details["authFactors"],
        json!([[{"type": "IDT", "count": 0, "subTypes": null}]])
    );
    let authenticated = signup_browser
        .authenticate(
            &original.transaction_id,
            "IDT",
            &idt_challenge(&id_token),
            "base64url-encoded-json",
        )
        .await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let replayed = signup_browser
        .authenticate(
            &original.transaction_id,
            "IDT",
            &idt_challenge(&id_token),
            "base64url-encoded-json",
        )
        .await;
    assert_eq!(error_code(&replayed), "invalid_transaction", "{replayed}");
    let code = signup_browser.auth_code(&[], &[]).await;
    assert_eq!(code["errors"], json!([]), "{code}");
    assert_eq!(code["response"]["state"], FRAGMENT, "state = path fragment");
    assert_eq!(code["response"]["nonce"], nonce, "nonce = the hint's");
    let signup_rp = Rp {
        server: b,
        client_id: signup.client_id.clone(),
        key: signup.key.clone(),
        redirect_uri: signup.redirect_uri.clone(),
    };
    let (status, _, tokens) = signup_rp
        .token(code["response"]["code"].as_str().unwrap(), None, None)
        .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, userinfo) = signup_rp.userinfo(&format!("Bearer {access}"), None).await;
    assert_eq!(status, 200, "{userinfo}");
    let (_, info) = verify_jws(&set, &userinfo, None);
    assert_eq!(
        info,
        json!({"sub": RESIDENT}),
        "the resident's individual id"
    );

    // No verification was reported: the return ends the login with verification_incomplete.
    let completed = complete(&mut original).await;
    assert_eq!(
        error_code(&completed),
        "verification_incomplete",
        "{completed}"
    );
    let again = complete(&mut original).await;
    assert_eq!(error_code(&again), "invalid_transaction", "{again}");
}

#[tokio::test]
async fn the_signup_detour_over_http() {
    let server = Server::start(&[ENABLED]).await;
    signup_detour(&server, &server).await;
}

#[tokio::test]
async fn the_signup_detour_errors_over_http() {
    let server = Server::start(&[ENABLED]).await;
    let (_signup, rp) = register_clients(&server).await;
    let mut original = authenticated(&server, &rp).await;

    // prepare-signup-redirect input checks.
    let blank = original
        .call(
            "/authorization/prepare-signup-redirect",
            json!({"transactionId": original.transaction_id, "pathFragment": " "}),
        )
        .await;
    assert_eq!(error_code(&blank), "invalid_path_fragment");
    let no_id = original
        .call(
            "/authorization/prepare-signup-redirect",
            json!({"pathFragment": FRAGMENT}),
        )
        .await;
    assert_eq!(error_code(&no_id), "invalid_transaction_id");

    let (prepared, set_cookie) = prepare(&original, FRAGMENT).await;
    let id_token = prepared["response"]["idToken"].as_str().unwrap().to_owned();
    let cookie = set_cookie.unwrap();
    let cookie_pair = cookie.split(';').next().unwrap().to_owned();

    // The hint: another client, a missing cookie, a mismatched cookie.
    let wrong_client = signup_start(&server, &rp.client_id, &id_token, None)
        .await
        .err()
        .unwrap();
    assert_eq!(error_code(&wrong_client), "invalid_id_token_hint");
    let no_cookie = signup_start(&server, SIGNUP_CLIENT, &id_token, Some("other=1"))
        .await
        .err()
        .unwrap();
    assert_eq!(error_code(&no_cookie), "invalid_id_token_hint");
    let mut tampered = id_token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let forged = signup_start(&server, SIGNUP_CLIENT, &tampered, Some(&cookie_pair))
        .await
        .err()
        .unwrap();
    assert_eq!(error_code(&forged), "invalid_id_token_hint");

    // IDT with a cookie whose nonce differs.
    let signup_browser = signup_start(&server, SIGNUP_CLIENT, &id_token, None)
        .await
        .unwrap();
    let fragment = cookie_pair.split_once("~###~").unwrap().1;
    let mut headers = signup_browser.headers();
    headers.insert(
        "cookie",
        format!(
            "XSRF-TOKEN={}; {}=bad~###~{fragment}",
            signup_browser.csrf, original.transaction_id
        )
        .parse()
        .unwrap(),
    );
    let (_, mismatched) = server
        .post_wrapped(
            "/authorization/v3/authenticate",
            json!({"transactionId": signup_browser.transaction_id,
                   "individualId": original.transaction_id,
                   "challengeList": [{"authFactorType": "IDT", "challenge": idt_challenge(&id_token),
                                      "format": "base64url-encoded-json"}]}),
            headers,
        )
        .await;
    assert_eq!(error_code(&mismatched), "auth_failed", "{mismatched}");

    // The original transaction is halted: the authenticated-stage calls no longer find it.
    refresh_csrf(&mut original).await;
    let code = original.auth_code(&[], &[]).await;
    assert_eq!(error_code(&code), "invalid_transaction");
    // A wrong hash on complete-signup-redirect.
    let mut bad_hash = original.headers();
    bad_hash.insert("oauth-details-hash", b64url(b"nope").parse().unwrap());
    let (_, wrong) = server
        .post_wrapped(
            "/authorization/complete-signup-redirect",
            json!({"transactionId": original.transaction_id}),
            bad_hash,
        )
        .await;
    assert_eq!(error_code(&wrong), "invalid_request", "{wrong}");
}

#[tokio::test]
async fn without_the_setting_the_endpoints_refuse() {
    let server = Server::start(&[]).await;
    let key = new_rsa_key();
    server.register_client("plain-rp", json!({}), &key).await;
    let rp = Rp {
        server: &server,
        client_id: "plain-rp".into(),
        key,
        redirect_uri: "https://rp.example/callback".into(),
    };
    let original = authenticated(&server, &rp).await;
    let (prepared, cookie) = prepare(&original, FRAGMENT).await;
    assert_eq!(error_code(&prepared), "invalid_request");
    assert_eq!(cookie, None);
}
