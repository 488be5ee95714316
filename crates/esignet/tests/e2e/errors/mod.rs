//! The error matrix: each error code of each endpoint provoked from its real cause, over HTTP,
//! against the running binary. Every check asserts the exact status and code; OAuth endpoints
//! also their `error`, `error_description` and `Cache-Control: no-store`, userinfo its
//! `WWW-Authenticate` challenge.
//!
//! One server per endpoint family; the cases of a family run in sequence against it, in an
//! order that keeps each case's cause the only defect of its request.

mod client_mgmt;
mod login_steps;
mod oauth_details;
mod par;
mod token;
mod userinfo;

use josekit::jwk::Jwk;
use josekit::jws::{ES256, HS256, JwsHeader};
use josekit::jwt::{self, JwtPayload};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::harness::{
    ADMIN_TOKEN, OTP, Server, b64url, client_assertion, dpop_proof, new_ec_key, new_rsa_key,
    now_timestamp, public_jwk, sha256, sign_rs256, thumbprint, timestamp_at, unix_now, uuid,
};
use crate::login::{
    Browser, Rp, authorize_request, csrf_headers, csrf_token, details_hash, pkce_pair,
};
use crate::verify::{decrypt_jwe, jwks, verify_jws};

const MANSOUR: &str = "8267411571";
const SREYMOM: &str = "5860142938";
const PRIYA: &str = "3519847260";
const GOWDA: &str = "7704215589";
const MARTIN: &str = "6102938475";
const DEMO_CLIENT: &str = "health-services-demo";
const DEMO_REDIRECT: &str = "http://127.0.0.1:8090/callback";
const RP_REDIRECT: &str = "https://rp.example/callback";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const OAUTH_DETAILS: &str = "/authorization/v3/oauth-details";
const PAR_DETAILS: &str = "/authorization/par-oauth-details";
const SEND_OTP: &str = "/authorization/send-otp";
const AUTHENTICATE: &str = "/authorization/v3/authenticate";
const AUTH_CODE: &str = "/authorization/auth-code";
/// The challenge of a DPoP proof failure at PAR and token (RFC 9449 §7.1, eSignet §4.3).
const DPOP_CHALLENGE: &str = "DPoP error=\"invalid_dpop_proof\", error_description=\"invalid_dpop_proof\", algs=\"ES256 PS256 RS256\"";
/// The challenge of a DPoP proof failure at userinfo.
const USERINFO_DPOP_CHALLENGE: &str =
    "DPoP error=\"invalid_dpop_proof\", algs=\"ES256 PS256 RS256\"";

// ---------------------------------------------------------------------------------------------
// Assertions

type OAuthResponse = (u16, HeaderMap, Value);
/// An `application/x-www-form-urlencoded` body.
type Form = Vec<(&'static str, String)>;
type UserinfoResponse = (u16, HeaderMap, String);

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// A wrapped API error: HTTP 200, `response: null`, exactly one entry with `code`.
#[track_caller]
fn assert_wrapped(case: &str, response: &(u16, Value), code: &str) {
    let (status, body) = response;
    assert_eq!(*status, 200, "{case}: {body}");
    assert_eq!(body["response"], Value::Null, "{case}: {body}");
    assert!(body["responseTime"].is_string(), "{case}: {body}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{case}: no errors[] in {body}"));
    assert_eq!(errors.len(), 1, "{case}: {body}");
    assert_eq!(errors[0]["errorCode"], code, "{case}: {body}");
    assert!(errors[0]["errorMessage"].is_string(), "{case}: {body}");
}

/// A wrapped API success.
#[track_caller]
fn assert_wrapped_ok(case: &str, response: &(u16, Value)) {
    let (status, body) = response;
    assert_eq!(*status, 200, "{case}: {body}");
    assert_eq!(body["errors"], json!([]), "{case}: {body}");
    assert!(body["response"].is_object(), "{case}: {body}");
}

/// An OAuth endpoint error: 400 `{error, error_description}` with `Cache-Control: no-store`.
#[track_caller]
fn assert_oauth(case: &str, response: &OAuthResponse, error: &str, description: &str) {
    let (status, headers, body) = response;
    assert_eq!(*status, 400, "{case}: {body}");
    assert_eq!(body["error"], error, "{case}: {body}");
    assert_eq!(body["error_description"], description, "{case}: {body}");
    assert_eq!(header(headers, "cache-control"), Some("no-store"), "{case}");
    assert_eq!(header(headers, "pragma"), Some("no-cache"), "{case}");
}

/// An invalid DPoP proof at PAR or token: `invalid_dpop_proof` with the DPoP challenge.
#[track_caller]
fn assert_dpop_refused(case: &str, response: &OAuthResponse) {
    assert_oauth(case, response, "invalid_dpop_proof", "invalid_dpop_proof");
    assert_eq!(
        header(&response.1, "www-authenticate"),
        Some(DPOP_CHALLENGE),
        "{case}"
    );
}

/// A userinfo failure: `status`, exactly this `WWW-Authenticate` challenge, no body, no-store.
#[track_caller]
fn assert_userinfo(case: &str, response: &UserinfoResponse, status: u16, challenge: &str) {
    let (actual, headers, body) = response;
    assert_eq!(*actual, status, "{case}: {body}");
    assert_eq!(
        header(headers, "www-authenticate"),
        Some(challenge),
        "{case}"
    );
    assert_eq!(header(headers, "cache-control"), Some("no-store"), "{case}");
    assert!(
        body.is_empty(),
        "{case}: userinfo errors carry no body, got {body}"
    );
}

// ---------------------------------------------------------------------------------------------
// Requests

/// `request` with `changes` applied: each member replaces the request's, `null` removes it.
fn with(mut request: Value, changes: Value) -> Value {
    let object = request.as_object_mut().unwrap();
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            object.remove(key);
        } else {
            object.insert(key.clone(), value.clone());
        }
    }
    request
}

/// Starts a login on one CSRF token: every browser of a test shares the cookie jar, so fetching
/// a token per browser would invalidate the earlier browsers' header.
async fn begin<'a>(server: &'a Server, csrf: &str, request: Value) -> Browser<'a> {
    begin_at(server, csrf, OAUTH_DETAILS, request).await
}

async fn begin_at<'a>(server: &'a Server, csrf: &str, path: &str, request: Value) -> Browser<'a> {
    let response = server.post_wrapped(path, request, csrf_headers(csrf)).await;
    assert_wrapped_ok("starting a login", &response);
    let details = response.1["response"].clone();
    Browser {
        server,
        csrf: csrf.to_owned(),
        hash: details_hash(&details),
        transaction_id: details["transactionId"].as_str().unwrap().to_owned(),
        details,
    }
}

/// A full OTP login of `individual` with PKCE up to the authorization code: (code, verifier).
async fn login_code(
    server: &Server,
    csrf: &str,
    client_id: &str,
    redirect: &str,
    individual: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce_pair();
    let request = authorize_request(client_id, redirect, "openid profile", Some(&challenge));
    let browser = begin(server, csrf, request).await;
    let authenticated = browser.otp_login(individual).await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let code = browser.auth_code(&["name", "email"], &[]).await;
    assert_eq!(code["errors"], json!([]), "{code}");
    (
        code["response"]["code"].as_str().unwrap().to_owned(),
        verifier,
    )
}

/// Client-assertion claims for `iss`/`sub` and `aud`, valid for a minute.
fn assertion_claims(iss: &str, sub: &str, aud: &str) -> Value {
    let now = unix_now();
    json!({"iss": iss, "sub": sub, "aud": aud, "iat": now, "exp": now + 60, "jti": uuid()})
}

/// `form` with `name` set to `value`, or removed when `None`.
fn set(mut form: Form, name: &'static str, value: Option<&str>) -> Form {
    form.retain(|(key, _)| *key != name);
    if let Some(value) = value {
        form.push((name, value.to_owned()));
    }
    form
}

/// A complete token request form.
fn token_form(
    client_id: &str,
    code: &str,
    redirect: &str,
    verifier: &str,
    assertion: String,
) -> Form {
    vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("redirect_uri", redirect.to_owned()),
        ("client_id", client_id.to_owned()),
        ("client_assertion_type", JWT_BEARER.to_owned()),
        ("client_assertion", assertion),
        ("code_verifier", verifier.to_owned()),
    ]
}

/// The authorization parameters of a pushed request (without client authentication).
fn par_params(challenge: &str) -> Form {
    vec![
        ("scope", "openid profile".to_owned()),
        ("response_type", "code".to_owned()),
        ("redirect_uri", RP_REDIRECT.to_owned()),
        ("state", "par-state".to_owned()),
        ("nonce", uuid()),
        ("acr_values", "mosip:idp:acr:generated-code".to_owned()),
        ("code_challenge", challenge.to_owned()),
        ("code_challenge_method", "S256".to_owned()),
    ]
}

/// A pushed request with `params`, `client_id` and the given assertion (none when `None`).
async fn push(
    rp: &Rp<'_>,
    params: &[(&'static str, String)],
    assertion: Option<String>,
    dpop: Option<String>,
) -> OAuthResponse {
    let mut form = params.to_vec();
    form.push(("client_id", rp.client_id.clone()));
    if let Some(assertion) = assertion {
        form.push(("client_assertion_type", JWT_BEARER.to_owned()));
        form.push(("client_assertion", assertion));
    }
    rp.post_form(&rp.server.par_endpoint(), &form, dpop).await
}

/// DPoP proof claims for `htm` and `htu`, issued now.
fn proof_claims(htm: &str, htu: &str) -> Value {
    json!({"htm": htm, "htu": htu, "iat": unix_now(), "jti": uuid()})
}

/// An ES256 DPoP proof with the public key in the header and the given `typ` and claims.
fn es256_proof(key: &Jwk, typ: Option<&str>, claims: Value) -> String {
    let mut header = JwsHeader::new();
    if let Some(typ) = typ {
        header.set_token_type(typ);
    }
    header.set_jwk(Jwk::from_map(public_jwk(key).as_object().unwrap().clone()).unwrap());
    let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    jwt::encode_with_signer(&payload, &header, &ES256.signer_from_jwk(key).unwrap()).unwrap()
}

/// A proof MACed with HS256 (a symmetric algorithm no DPoP verifier may accept), carrying an
/// EC public key so the algorithm is its only defect.
fn hs256_proof(key: &Jwk, claims: Value) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("dpop+jwt");
    header.set_jwk(Jwk::from_map(public_jwk(key).as_object().unwrap().clone()).unwrap());
    let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let signer = HS256.signer_from_bytes(sha256(b"not a dpop key")).unwrap();
    jwt::encode_with_signer(&payload, &header, &signer).unwrap()
}

/// A proof whose `jwk` header is the private key (RFC 9449 §4.3 requires a public key).
fn private_jwk_proof(key: &Jwk, claims: Value) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("dpop+jwt");
    header.set_jwk(key.clone());
    let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    jwt::encode_with_signer(&payload, &header, &ES256.signer_from_jwk(key).unwrap()).unwrap()
}

/// An `alg: none` JWT.
fn unsigned(claims: Value) -> String {
    let header = b64url(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes());
    format!("{header}.{}.", b64url(claims.to_string().as_bytes()))
}

/// An HS256 JWT keyed with the RSA public key's modulus (the algorithm-confusion attack).
fn public_key_mac(key: &Jwk, claims: Value) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let modulus = public_jwk(key)["n"].as_str().unwrap().to_owned();
    let signer = HS256.signer_from_bytes(modulus.as_bytes()).unwrap();
    jwt::encode_with_signer(&payload, &header, &signer).unwrap()
}

fn admin_headers(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    headers
}

/// A wrapped client-management call.
async fn admin(
    server: &Server,
    method: Method,
    path: impl Into<String>,
    request: Value,
    headers: HeaderMap,
) -> (u16, Value) {
    let body = json!({"requestTime": now_timestamp(), "request": request});
    let response = server
        .http
        .request(method, server.url(&path.into()))
        .headers(headers)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A valid v3 client registration.
fn client_request(client_id: &str, key: &Jwk) -> Value {
    json!({
        "clientId": client_id,
        "clientName": format!("Test client {client_id}"),
        "clientNameLangMap": {"eng": "Test client", "fra": "Client de test"},
        "publicKey": public_jwk(key),
        "relyingPartyId": format!("{client_id}-rp"),
        "userClaims": ["name", "email", "phone_number", "birthdate"],
        "authContextRefs": ["mosip:idp:acr:generated-code", "mosip:idp:acr:static-code"],
        "logoUri": "https://rp.example/logo.png",
        "redirectUris": [RP_REDIRECT],
        "grantTypes": ["authorization_code"],
        "clientAuthMethods": ["private_key_jwt"],
        "additionalConfig": {},
    })
}

/// A valid v3 update (PUT) setting `status`.
fn update_request(status: &str) -> Value {
    json!({
        "clientName": "Updated client",
        "clientNameLangMap": {"eng": "Updated client"},
        "logoUri": "https://rp.example/logo.png",
        "redirectUris": [RP_REDIRECT],
        "userClaims": ["name", "email"],
        "authContextRefs": ["mosip:idp:acr:generated-code"],
        "status": status,
        "grantTypes": ["authorization_code"],
        "clientAuthMethods": ["private_key_jwt"],
        "additionalConfig": {},
    })
}
