//! The error matrix: each error code of each endpoint provoked from its real cause, over HTTP,
//! against the running binary. Every check asserts the exact status and code; OAuth endpoints
//! also their `error`, `error_description` and `Cache-Control: no-store`, userinfo its
//! `WWW-Authenticate` challenge.
//!
//! One server per endpoint family; the cases of a family run in sequence against it, in an
//! order that keeps each case's cause the only defect of its request.

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

// ---------------------------------------------------------------------------------------------
// oauth-details

#[tokio::test]
async fn oauth_details_errors() {
    let server = Server::start(&[]).await;
    let csrf = csrf_token(&server).await;
    let (_, challenge) = pkce_pair();
    let base = || {
        authorize_request(
            DEMO_CLIENT,
            DEMO_REDIRECT,
            "openid profile",
            Some(&challenge),
        )
    };
    let forged_hint = sign_rs256(
        &new_rsa_key(),
        json!({"iss": server.base, "sub": "someone", "aud": DEMO_CLIENT, "iat": unix_now(), "exp": unix_now() + 60}),
        None,
    );

    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "unknown client",
            json!({"clientId": "no-such-client"}),
            "invalid_client_id",
        ),
        (
            "blank clientId",
            json!({"clientId": "   "}),
            "invalid_client_id",
        ),
        (
            "missing clientId",
            json!({"clientId": null}),
            "invalid_client_id",
        ),
        ("blank scope", json!({"scope": " "}), "invalid_scope"),
        (
            "only unknown scopes",
            json!({"scope": "calendar contacts"}),
            "invalid_scope",
        ),
        (
            "openid-family scopes without openid",
            json!({"scope": "profile email"}),
            "invalid_scope",
        ),
        (
            "claims.userinfo without openid",
            json!({"scope": "Manage-VID", "claims": {"userinfo": {"name": null}}}),
            "invalid_scope",
        ),
        (
            "responseType token",
            json!({"responseType": "token"}),
            "invalid_response_type",
        ),
        (
            "missing responseType",
            json!({"responseType": null}),
            "invalid_response_type",
        ),
        (
            "unregistered redirect URI",
            json!({"redirectUri": "https://evil.example/callback"}),
            "invalid_redirect_uri",
        ),
        (
            "malformed redirect URI",
            json!({"redirectUri": "not a uri"}),
            "invalid_redirect_uri",
        ),
        (
            "display",
            json!({"display": "fullscreen"}),
            "invalid_display",
        ),
        (
            "unknown prompt",
            json!({"prompt": "always"}),
            "invalid_prompt",
        ),
        (
            "prompt none with login",
            json!({"prompt": "none login"}),
            "invalid_prompt",
        ),
        ("prompt none", json!({"prompt": "none"}), "login_required"),
        (
            "claims not an object",
            json!({"claims": "name email"}),
            "invalid_claim",
        ),
        (
            "claims with an unknown member",
            json!({"claims": {"access_token": {}}}),
            "invalid_claim",
        ),
        (
            "claims.userinfo not an object",
            json!({"claims": {"userinfo": ["name"]}}),
            "invalid_claim",
        ),
        (
            "essential not a boolean",
            json!({"claims": {"userinfo": {"name": {"essential": "yes"}}}}),
            "invalid_claim",
        ),
        (
            "purpose too short",
            json!({"claims": {"userinfo": {"name": {"purpose": "ab"}}}}),
            "invalid_purpose",
        ),
        (
            "purpose too long",
            json!({"claims": {"userinfo": {"name": {"purpose": "p".repeat(301)}}}}),
            "invalid_purpose",
        ),
        (
            "purpose not a string",
            json!({"claims": {"userinfo": {"name": {"purpose": 42}}}}),
            "invalid_purpose",
        ),
        (
            "verified_claims without verification",
            json!({"claims": {"userinfo": {"verified_claims": {"claims": {"name": null}}}}}),
            "invalid_verification",
        ),
        (
            "verified_claims with an empty verification",
            json!({"claims": {"userinfo": {"verified_claims": {"verification": {}, "claims": {"name": null}}}}}),
            "invalid_verification",
        ),
        (
            "verified_claims without claims",
            json!({"claims": {"userinfo": {"verified_claims": {"verification": {"trust_framework": {"value": "eidas"}}}}}}),
            "invalid_verified_claims",
        ),
        (
            "plain PKCE",
            json!({"codeChallengeMethod": "plain"}),
            "unsupported_pkce_challenge_method",
        ),
        (
            "challenge without method",
            json!({"codeChallengeMethod": null}),
            "invalid_pkce_challenge",
        ),
        (
            "method without challenge",
            json!({"codeChallenge": null}),
            "invalid_pkce_challenge",
        ),
        (
            "challenge not 43 characters",
            json!({"codeChallenge": "too-short"}),
            "invalid_pkce_challenge",
        ),
        (
            "id_token_hint we did not sign",
            json!({"idTokenHint": &forged_hint}),
            "invalid_id_token_hint",
        ),
    ];
    for (case, changes, code) in &cases {
        let response = server
            .post_wrapped(
                OAUTH_DETAILS,
                with(base(), changes.clone()),
                csrf_headers(&csrf),
            )
            .await;
        assert_wrapped(case, &response, code);
    }

    // A nonce starts one transaction only.
    let request = base();
    assert_wrapped_ok(
        "first use of a nonce",
        &server
            .post_wrapped(OAUTH_DETAILS, request.clone(), csrf_headers(&csrf))
            .await,
    );
    let replay = server
        .post_wrapped(OAUTH_DETAILS, request, csrf_headers(&csrf))
        .await;
    assert_wrapped("nonce replay", &replay, "invalid_request");

    // v1 and v2 do not know the newer fields.
    let v1 = server
        .post_wrapped("/authorization/oauth-details", base(), csrf_headers(&csrf))
        .await;
    assert_wrapped("PKCE on v1", &v1, "unknown_error");
    let hinted = with(base(), json!({"idTokenHint": &forged_hint}));
    let v2 = server
        .post_wrapped(
            "/authorization/v2/oauth-details",
            hinted,
            csrf_headers(&csrf),
        )
        .await;
    assert_wrapped("idTokenHint on v2", &v2, "unknown_error");

    // The wrapper: requestTime within ±2 minutes in eSignet's exact format, request present, no
    // unknown fields, JSON.
    let now = now_timestamp();
    let envelopes: Vec<(&str, Value, &str, Option<&str>)> = vec![
        (
            "requestTime 3 minutes old",
            json!({"requestTime": timestamp_at(-180), "request": base()}),
            "invalid_request",
            Some("requestTime: invalid_request"),
        ),
        (
            "requestTime 3 minutes ahead",
            json!({"requestTime": timestamp_at(180), "request": base()}),
            "invalid_request",
            Some("requestTime: invalid_request"),
        ),
        (
            "requestTime without milliseconds",
            json!({"requestTime": format!("{}Z", &now[..19]), "request": base()}),
            "invalid_request",
            Some("requestTime: invalid_request"),
        ),
        (
            "requestTime with an offset",
            json!({"requestTime": format!("{}+00:00", &now[..23]), "request": base()}),
            "invalid_request",
            Some("requestTime: invalid_request"),
        ),
        (
            "requestTime a number",
            json!({"requestTime": unix_now(), "request": base()}),
            "invalid_request",
            Some("requestTime: invalid_request"),
        ),
        (
            "missing requestTime",
            json!({"request": base()}),
            "invalid_request",
            Some("requestTime: invalid_request"),
        ),
        (
            "missing request",
            json!({"requestTime": now_timestamp()}),
            "invalid_request",
            Some("request: invalid_request"),
        ),
        (
            "null request",
            json!({"requestTime": now_timestamp(), "request": null}),
            "invalid_request",
            Some("request: invalid_request"),
        ),
        (
            "unknown field in request",
            json!({"requestTime": now_timestamp(), "request": with(base(), json!({"loginHint": "someone"}))}),
            "unknown_error",
            None,
        ),
        (
            "unknown field in the envelope",
            json!({"requestTime": now_timestamp(), "request": base(), "metadata": {}}),
            "unknown_error",
            None,
        ),
        (
            "field of the wrong type",
            json!({"requestTime": now_timestamp(), "request": with(base(), json!({"scope": ["openid"]}))}),
            "unknown_error",
            None,
        ),
        ("body not an object", json!([base()]), "unknown_error", None),
    ];
    for (case, body, code, message) in envelopes {
        let response = server
            .post_wrapped_raw(OAUTH_DETAILS, body, csrf_headers(&csrf))
            .await;
        assert_wrapped(case, &response, code);
        if let Some(message) = message {
            assert_eq!(response.1["errors"][0]["errorMessage"], message, "{case}");
        }
    }
    let malformed = server
        .http
        .post(server.url(OAUTH_DETAILS))
        .headers(csrf_headers(&csrf))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"requestTime\": \"{}\", \"request\": {{",
            now_timestamp()
        ))
        .send()
        .await
        .unwrap();
    let malformed = (
        malformed.status().as_u16(),
        malformed.json::<Value>().await.unwrap(),
    );
    assert_wrapped("malformed JSON", &malformed, "unknown_error");

    // CSRF (double submit): the header must be present and equal the cookie.
    let no_header = server
        .post_wrapped(OAUTH_DETAILS, base(), HeaderMap::new())
        .await;
    assert_eq!(no_header.0, 403, "missing CSRF header: {}", no_header.1);
    assert_eq!(no_header.1["status"], 403);
    let wrong = server
        .post_wrapped(OAUTH_DETAILS, base(), csrf_headers(&uuid()))
        .await;
    assert_eq!(wrong.0, 403, "wrong CSRF header: {}", wrong.1);
    let cookieless = reqwest::Client::new()
        .post(server.url(OAUTH_DETAILS))
        .headers(csrf_headers(&csrf))
        .json(&json!({"requestTime": now_timestamp(), "request": base()}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        cookieless.status().as_u16(),
        403,
        "CSRF header without its cookie"
    );

    // A client that must push its requests cannot start here.
    let par_key = new_rsa_key();
    server
        .register_client(
            "par-only",
            json!({"require_pushed_authorization_requests": true}),
            &par_key,
        )
        .await;
    let par_only = authorize_request("par-only", RP_REDIRECT, "openid", None);
    let response = server
        .post_wrapped(OAUTH_DETAILS, par_only, csrf_headers(&csrf))
        .await;
    assert_wrapped("PAR-required client", &response, "invalid_request");

    // A deactivated client: it worked before, it is unknown after.
    let key = new_rsa_key();
    server
        .register_client("soon-inactive", json!({}), &key)
        .await;
    let request = || authorize_request("soon-inactive", RP_REDIRECT, "openid profile", None);
    assert_wrapped_ok(
        "active client",
        &server
            .post_wrapped(OAUTH_DETAILS, request(), csrf_headers(&csrf))
            .await,
    );
    let deactivated = admin(
        &server,
        Method::PUT,
        "/client-mgmt/client/soon-inactive",
        update_request("INACTIVE"),
        admin_headers(ADMIN_TOKEN),
    )
    .await;
    assert_wrapped_ok("deactivating", &deactivated);
    assert_eq!(
        deactivated.1["response"],
        json!({"clientId": "soon-inactive", "status": "INACTIVE"})
    );
    let response = server
        .post_wrapped(OAUTH_DETAILS, request(), csrf_headers(&csrf))
        .await;
    assert_wrapped("INACTIVE client", &response, "invalid_client_id");
}

// ---------------------------------------------------------------------------------------------
// PAR and par-oauth-details

#[tokio::test]
async fn par_errors() {
    let server = Server::start(&[]).await;
    let key = new_rsa_key();
    server.register_client("par-client", json!({}), &key).await;
    let other_key = new_rsa_key();
    server
        .register_client("other-client", json!({}), &other_key)
        .await;
    let rp = Rp {
        server: &server,
        client_id: "par-client".into(),
        key: key.clone(),
        redirect_uri: RP_REDIRECT.into(),
    };
    let par = server.par_endpoint();
    let (_, challenge) = pkce_pair();
    let params = || par_params(&challenge);
    let good = || client_assertion(&key, "par-client", &par);

    // Client authentication: every defect of the assertion is invalid_client.
    let expired = {
        let now = unix_now();
        sign_rs256(
            &key,
            json!({"iss": "par-client", "sub": "par-client", "aud": par, "iat": now - 120, "exp": now - 60, "jti": uuid()}),
            None,
        )
    };
    let not_yet = {
        let now = unix_now();
        sign_rs256(
            &key,
            json!({"iss": "par-client", "sub": "par-client", "aud": par, "iat": now, "nbf": now + 300, "exp": now + 600, "jti": uuid()}),
            None,
        )
    };
    let without_jti = {
        let mut claims = assertion_claims("par-client", "par-client", &par);
        claims.as_object_mut().unwrap().remove("jti");
        sign_rs256(&key, claims, None)
    };
    let assertions: Vec<(&str, Option<String>)> = vec![
        ("missing assertion", None),
        (
            "assertion signed by another key",
            Some(client_assertion(&other_key, "par-client", &par)),
        ),
        (
            "another client's assertion",
            Some(client_assertion(&other_key, "other-client", &par)),
        ),
        (
            "wrong audience",
            Some(client_assertion(
                &key,
                "par-client",
                &server.userinfo_endpoint(),
            )),
        ),
        ("expired assertion", Some(expired)),
        ("assertion not valid yet", Some(not_yet)),
        (
            "iss differs from sub",
            Some(sign_rs256(
                &key,
                assertion_claims("par-client", "other-client", &par),
                None,
            )),
        ),
        ("assertion without jti", Some(without_jti)),
        ("assertion not a JWT", Some("not.a.jwt".to_owned())),
        (
            "unsigned assertion",
            Some(unsigned(assertion_claims("par-client", "par-client", &par))),
        ),
        (
            "HS256 assertion keyed with the public key",
            Some(public_key_mac(
                &key,
                assertion_claims("par-client", "par-client", &par),
            )),
        ),
    ];
    for (case, assertion) in assertions {
        let response = push(&rp, &params(), assertion, None).await;
        assert_oauth(case, &response, "invalid_client", "invalid_client");
    }
    let mut form = params();
    form.push(("client_id", "par-client".to_owned()));
    form.push((
        "client_assertion_type",
        "urn:ietf:params:oauth:client-assertion-type:saml2-bearer".to_owned(),
    ));
    form.push(("client_assertion", good()));
    let response = rp.post_form(&par, &form, None).await;
    assert_oauth(
        "wrong assertion type",
        &response,
        "invalid_client",
        "invalid_client",
    );

    // A replayed assertion: accepted once, refused after.
    let once = good();
    let first = push(&rp, &params(), Some(once.clone()), None).await;
    assert_eq!(first.0, 201, "{}", first.2);
    let replay = push(&rp, &params(), Some(once), None).await;
    assert_oauth(
        "replayed assertion jti",
        &replay,
        "invalid_client",
        "invalid_client",
    );

    // Request defects, reported as invalid_request with eSignet's code as description.
    let requests: Vec<(&str, Form, &str, &str)> = vec![
        (
            "request_uri present",
            set(
                params(),
                "request_uri",
                Some("urn:ietf:params:oauth:request_uri:abc"),
            ),
            "invalid_request",
            "invalid_request",
        ),
        (
            "unregistered redirect URI",
            set(
                params(),
                "redirect_uri",
                Some("https://evil.example/callback"),
            ),
            "invalid_request",
            "invalid_redirect_uri",
        ),
        (
            "malformed redirect URI",
            set(params(), "redirect_uri", Some("not a uri")),
            "invalid_request",
            "invalid_redirect_uri",
        ),
        (
            "response_type token",
            set(params(), "response_type", Some("token")),
            "invalid_request",
            "invalid_response_type",
        ),
        (
            "blank scope",
            set(params(), "scope", Some("")),
            "invalid_scope",
            "invalid_scope",
        ),
        (
            "claims not JSON",
            set(params(), "claims", Some("{name")),
            "invalid_request",
            "invalid_claim",
        ),
        (
            "bad display",
            set(params(), "display", Some("fullscreen")),
            "invalid_request",
            "invalid_display",
        ),
        (
            "prompt none",
            set(params(), "prompt", Some("none")),
            "invalid_request",
            "login_required",
        ),
        (
            "plain PKCE",
            set(params(), "code_challenge_method", Some("plain")),
            "invalid_request",
            "unsupported_pkce_challenge_method",
        ),
        (
            "challenge without method",
            set(params(), "code_challenge_method", None),
            "invalid_request",
            "invalid_pkce_challenge",
        ),
        (
            "max_age not a number",
            set(params(), "max_age", Some("soon")),
            "invalid_request",
            "invalid_request",
        ),
    ];
    for (case, form, error, description) in requests {
        let response = push(&rp, &form, Some(good()), None).await;
        assert_oauth(case, &response, error, description);
    }
    let unknown = Rp {
        server: &server,
        client_id: "no-such-client".into(),
        key: key.clone(),
        redirect_uri: RP_REDIRECT.into(),
    };
    let response = push(
        &unknown,
        &params(),
        Some(client_assertion(&key, "no-such-client", &par)),
        None,
    )
    .await;
    assert_oauth(
        "unknown client",
        &response,
        "invalid_request",
        "invalid_client_id",
    );

    // Only form bodies.
    let mut object = serde_json::Map::new();
    for (name, value) in params() {
        object.insert(name.to_owned(), json!(value));
    }
    object.insert("client_id".into(), json!("par-client"));
    object.insert("client_assertion_type".into(), json!(JWT_BEARER));
    object.insert("client_assertion".into(), json!(good()));
    let response = server.http.post(&par).json(&object).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 415, "JSON body at PAR");
    assert_eq!(
        header(response.headers(), "cache-control"),
        Some("no-store")
    );

    // DPoP proofs at PAR: each defect alone.
    let dpop_key = new_ec_key();
    let token_endpoint = server.token_endpoint();
    let proofs: Vec<(&str, String)> = vec![
        (
            "wrong htu",
            dpop_proof(&dpop_key, "POST", &token_endpoint, None, None),
        ),
        ("wrong htm", dpop_proof(&dpop_key, "GET", &par, None, None)),
        (
            "typ JWT",
            es256_proof(&dpop_key, Some("JWT"), proof_claims("POST", &par)),
        ),
        (
            "no typ",
            es256_proof(&dpop_key, None, proof_claims("POST", &par)),
        ),
        (
            "stale iat",
            es256_proof(
                &dpop_key,
                Some("dpop+jwt"),
                with(proof_claims("POST", &par), json!({"iat": unix_now() - 300})),
            ),
        ),
        (
            "iat in the future",
            es256_proof(
                &dpop_key,
                Some("dpop+jwt"),
                with(proof_claims("POST", &par), json!({"iat": unix_now() + 300})),
            ),
        ),
        (
            "expired",
            es256_proof(
                &dpop_key,
                Some("dpop+jwt"),
                with(proof_claims("POST", &par), json!({"exp": unix_now() - 60})),
            ),
        ),
        (
            "no jti",
            es256_proof(
                &dpop_key,
                Some("dpop+jwt"),
                with(proof_claims("POST", &par), json!({"jti": null})),
            ),
        ),
        ("HS256", hs256_proof(&dpop_key, proof_claims("POST", &par))),
        (
            "private key in the header",
            private_jwk_proof(&dpop_key, proof_claims("POST", &par)),
        ),
        ("not a JWT", "not-a-proof".to_owned()),
    ];
    for (case, proof) in proofs {
        let response = push(&rp, &params(), Some(good()), Some(proof)).await;
        assert_dpop_refused(&format!("DPoP proof at PAR: {case}"), &response);
    }
    let proof = dpop_proof(&dpop_key, "POST", &par, None, None);
    let accepted = push(&rp, &params(), Some(good()), Some(proof.clone())).await;
    assert_eq!(accepted.0, 201, "a valid proof: {}", accepted.2);
    let replay = push(&rp, &params(), Some(good()), Some(proof)).await;
    assert_dpop_refused("DPoP proof at PAR: replayed jti", &replay);
    let twice = server
        .http
        .post(&par)
        .header("DPoP", dpop_proof(&dpop_key, "POST", &par, None, None))
        .header("DPoP", dpop_proof(&dpop_key, "POST", &par, None, None))
        .form(&set(
            set(params(), "client_id", Some("par-client")),
            "client_assertion_type",
            Some(JWT_BEARER),
        ))
        .send()
        .await
        .unwrap();
    let twice = (
        twice.status().as_u16(),
        twice.headers().clone(),
        twice.json::<Value>().await.unwrap(),
    );
    assert_dpop_refused("two DPoP headers", &twice);
    let mismatched = set(params(), "dpop_jkt", Some(&thumbprint(&new_ec_key())));
    let proof = dpop_proof(&dpop_key, "POST", &par, None, None);
    let response = push(&rp, &mismatched, Some(good()), Some(proof)).await;
    assert_dpop_refused("dpop_jkt differing from the proof key", &response);

    // par-oauth-details: the request URI is single use, for its client only.
    let csrf = csrf_token(&server).await;
    let pushed = |response: OAuthResponse| {
        assert_eq!(response.0, 201, "{}", response.2);
        response.2["request_uri"].as_str().unwrap().to_owned()
    };
    let details = |client_id: &str, request_uri: &str| {
        server.post_wrapped(
            PAR_DETAILS,
            json!({"clientId": client_id, "requestUri": request_uri}),
            csrf_headers(&csrf),
        )
    };
    let stolen = pushed(push(&rp, &params(), Some(good()), None).await);
    assert_wrapped(
        "another client's request_uri",
        &details("other-client", &stolen).await,
        "invalid_request",
    );
    assert_wrapped(
        "request_uri after a mismatched use",
        &details("par-client", &stolen).await,
        "invalid_request",
    );
    let request_uri = pushed(push(&rp, &params(), Some(good()), None).await);
    assert_wrapped(
        "blank clientId",
        &details(" ", &request_uri).await,
        "invalid_client_id",
    );
    let id = request_uri.trim_start_matches("urn:ietf:params:oauth:request_uri:");
    assert_wrapped(
        "request_uri without its prefix",
        &details("par-client", id).await,
        "invalid_request",
    );
    let browser = begin_at(
        &server,
        &csrf,
        PAR_DETAILS,
        json!({"clientId": "par-client", "requestUri": request_uri}),
    )
    .await;
    assert_eq!(browser.details["redirectUri"], RP_REDIRECT);
    assert_wrapped(
        "used request_uri",
        &details("par-client", &request_uri).await,
        "invalid_request",
    );
    let unknown = format!("urn:ietf:params:oauth:request_uri:{}", uuid());
    assert_wrapped(
        "unknown request_uri",
        &details("par-client", &unknown).await,
        "invalid_request",
    );
    let response = server
        .post_wrapped(
            PAR_DETAILS,
            json!({"clientId": "par-client"}),
            csrf_headers(&csrf),
        )
        .await;
    assert_wrapped("missing request_uri", &response, "invalid_request");
}

// ---------------------------------------------------------------------------------------------
// send-otp, authenticate, claim-details, auth-code

#[tokio::test]
async fn login_step_errors() {
    let server = Server::start(&[]).await;
    let csrf = csrf_token(&server).await;
    let request = || authorize_request(DEMO_CLIENT, DEMO_REDIRECT, "openid profile", None);
    let otp_body = |transaction_id: &str, individual_id: &str| json!({"transactionId": transaction_id, "individualId": individual_id, "otpChannels": ["email", "phone"]});
    let otp_challenge = |transaction_id: &str, individual_id: &str, otp: &str| {
        json!({"transactionId": transaction_id, "individualId": individual_id,
               "challengeList": [{"authFactorType": "OTP", "challenge": otp, "format": "alpha-numeric"}]})
    };

    // --- send-otp: the oauth-details headers.
    let browser = begin(&server, &csrf, request()).await;
    let txn = browser.transaction_id.clone();
    let mut headers = browser.headers();
    headers.remove("oauth-details-hash");
    let response = server
        .post_wrapped(SEND_OTP, otp_body(&txn, MANSOUR), headers)
        .await;
    assert_wrapped(
        "send-otp without oauth-details-hash",
        &response,
        "invalid_request",
    );
    let mut headers = browser.headers();
    headers.insert(
        "oauth-details-hash",
        b64url(&sha256(b"another response")).parse().unwrap(),
    );
    let response = server
        .post_wrapped(SEND_OTP, otp_body(&txn, MANSOUR), headers)
        .await;
    assert_wrapped("send-otp with a wrong hash", &response, "invalid_request");
    let mut headers = browser.headers();
    headers.remove("oauth-details-key");
    let response = server
        .post_wrapped(SEND_OTP, otp_body(&txn, MANSOUR), headers)
        .await;
    assert_wrapped(
        "send-otp without oauth-details-key",
        &response,
        "invalid_transaction",
    );
    let unknown = b64url(&sha256(uuid().as_bytes()));
    let mut headers = browser.headers();
    headers.insert("oauth-details-key", unknown.parse().unwrap());
    let response = server
        .post_wrapped(SEND_OTP, otp_body(&unknown, MANSOUR), headers)
        .await;
    assert_wrapped(
        "send-otp for an unknown transaction",
        &response,
        "invalid_transaction",
    );
    let other = begin(&server, &csrf, request()).await;
    let response = server
        .post_wrapped(
            SEND_OTP,
            otp_body(&other.transaction_id, MANSOUR),
            browser.headers(),
        )
        .await;
    assert_wrapped(
        "body transactionId differs from the header",
        &response,
        "invalid_transaction",
    );
    let response = server
        .post_wrapped(SEND_OTP, otp_body(&txn, MANSOUR), csrf_headers(&csrf))
        .await;
    assert_wrapped(
        "send-otp without any oauth-details header",
        &response,
        "invalid_transaction",
    );

    // --- send-otp: the body.
    let bodies: Vec<(&str, Value, &str)> = vec![
        (
            "blank transactionId",
            otp_body(" ", MANSOUR),
            "invalid_transaction_id",
        ),
        (
            "blank individualId",
            otp_body(&txn, "  "),
            "invalid_identifier",
        ),
        (
            "missing individualId",
            with(otp_body(&txn, MANSOUR), json!({"individualId": null})),
            "invalid_identifier",
        ),
        (
            "unsupported channel",
            with(otp_body(&txn, MANSOUR), json!({"otpChannels": ["fax"]})),
            "invalid_otp_channel",
        ),
        (
            "one unsupported channel",
            with(
                otp_body(&txn, MANSOUR),
                json!({"otpChannels": ["email", "pigeon"]}),
            ),
            "invalid_otp_channel",
        ),
        (
            "no channel",
            with(otp_body(&txn, MANSOUR), json!({"otpChannels": []})),
            "invalid_otp_channel",
        ),
        (
            "unknown field",
            with(otp_body(&txn, MANSOUR), json!({"channel": "sms"})),
            "unknown_error",
        ),
        (
            "unknown individual",
            otp_body(&txn, "0000000000"),
            "invalid_individual_id",
        ),
    ];
    for (case, body, code) in bodies {
        let response = server.post_wrapped(SEND_OTP, body, browser.headers()).await;
        assert_wrapped(&format!("send-otp: {case}"), &response, code);
    }

    // --- send-otp: three per transaction; the fourth blocks the individual everywhere.
    let exhausted = begin(&server, &csrf, request()).await;
    for attempt in 1..=3 {
        let sent = exhausted.send_otp(GOWDA).await;
        assert_eq!(
            sent["errors"],
            json!([]),
            "send-otp attempt {attempt}: {sent}"
        );
    }
    assert_wrapped(
        "fourth send-otp",
        &(200, exhausted.send_otp(GOWDA).await),
        "no_attempts_left",
    );
    let fresh = begin(&server, &csrf, request()).await;
    assert_wrapped(
        "blocked individual, new transaction",
        &(200, fresh.send_otp(GOWDA).await),
        "individual_id_blocked",
    );
    let blocked = fresh.authenticate(GOWDA, "PIN", "905718", "number").await;
    assert_wrapped(
        "blocked individual authenticating",
        &(200, blocked),
        "individual_id_blocked",
    );
    assert_eq!(
        fresh.send_otp(MANSOUR).await["errors"],
        json!([]),
        "the block is per individual"
    );

    // --- authenticate: shape of the challenges (refused before the transaction is touched).
    let browser = begin(&server, &csrf, request()).await;
    assert_eq!(
        browser.details["authFactors"],
        json!([[{"type": "OTP", "count": 0, "subTypes": null}], [{"type": "PIN", "count": 0, "subTypes": null}]])
    );
    let challenge = |factor: &str, value: &str, format: &str| json!({"authFactorType": factor, "challenge": value, "format": format});
    let list = |challenges: Vec<Value>| json!({"transactionId": browser.transaction_id, "individualId": PRIYA, "challengeList": challenges});
    let shapes: Vec<(&str, Value, &str)> = vec![
        (
            "lower-case type",
            list(vec![challenge("otp", "111111", "alpha-numeric")]),
            "invalid_auth_factor_type",
        ),
        (
            "unknown type",
            list(vec![challenge("FACE", "111111", "alpha-numeric")]),
            "invalid_auth_factor_type",
        ),
        (
            "OTP in number format",
            list(vec![challenge("OTP", "111111", "number")]),
            "invalid_challenge_format",
        ),
        (
            "PIN in alpha-numeric format",
            list(vec![challenge("PIN", "260395", "alpha-numeric")]),
            "invalid_challenge_format",
        ),
        (
            "five-digit OTP",
            list(vec![challenge("OTP", "11111", "alpha-numeric")]),
            "invalid_challenge",
        ),
        (
            "seven-digit PIN",
            list(vec![challenge("PIN", "2603950", "number")]),
            "invalid_challenge",
        ),
        (
            "PIN with a letter",
            list(vec![challenge("PIN", "26039a", "number")]),
            "invalid_challenge",
        ),
        (
            "short password",
            list(vec![challenge("PWD", "short", "alpha-numeric")]),
            "invalid_challenge",
        ),
        ("no challenge", list(vec![]), "invalid_no_of_challenges"),
        (
            "six challenges",
            list(vec![challenge("OTP", "111111", "alpha-numeric"); 6]),
            "invalid_no_of_challenges",
        ),
        (
            "blank individualId",
            with(
                list(vec![challenge("PIN", "260395", "number")]),
                json!({"individualId": ""}),
            ),
            "invalid_identifier",
        ),
        (
            "blank transactionId",
            with(
                list(vec![challenge("PIN", "260395", "number")]),
                json!({"transactionId": " "}),
            ),
            "invalid_transaction_id",
        ),
    ];
    for (case, body, code) in shapes {
        let response = server
            .post_wrapped(AUTHENTICATE, body, browser.headers())
            .await;
        assert_wrapped(&format!("authenticate: {case}"), &response, code);
    }
    // ... then three real attempts, each failing for its own reason, and the fourth refused.
    let attempts: Vec<(&str, Value, &str)> = vec![
        (
            "factor outside the ACRs",
            list(vec![challenge("PWD", "Password@123", "alpha-numeric")]),
            "auth_factor_mismatch",
        ),
        (
            "OTP never sent",
            list(vec![challenge("OTP", OTP, "alpha-numeric")]),
            "invalid_transaction",
        ),
        (
            "wrong PIN",
            list(vec![challenge("PIN", "000000", "number")]),
            "auth_failed",
        ),
        (
            "fourth attempt",
            list(vec![challenge("PIN", "260395", "number")]),
            "no_attempts_left",
        ),
    ];
    for (case, body, code) in attempts {
        let response = server
            .post_wrapped(AUTHENTICATE, body, browser.headers())
            .await;
        assert_wrapped(&format!("authenticate: {case}"), &response, code);
    }
    let next = begin(&server, &csrf, request()).await;
    let response = next.authenticate(PRIYA, "PIN", "260395", "number").await;
    assert_wrapped(
        "authenticate after exhausting attempts",
        &(200, response),
        "individual_id_blocked",
    );

    // A wrong OTP does not spend the OTP; success moves the transaction on.
    let browser = begin(&server, &csrf, request()).await;
    assert_eq!(browser.send_otp(MANSOUR).await["errors"], json!([]));
    let response = server
        .post_wrapped(
            AUTHENTICATE,
            otp_challenge(&browser.transaction_id, MANSOUR, "222222"),
            browser.headers(),
        )
        .await;
    assert_wrapped("wrong OTP", &response, "auth_failed");
    let other_person = server
        .post_wrapped(
            AUTHENTICATE,
            otp_challenge(&browser.transaction_id, MARTIN, OTP),
            browser.headers(),
        )
        .await;
    assert_wrapped(
        "OTP sent to someone else",
        &other_person,
        "invalid_transaction",
    );
    let success = browser
        .authenticate(MANSOUR, "OTP", OTP, "alpha-numeric")
        .await;
    assert_eq!(success["errors"], json!([]), "{success}");
    let again = browser
        .authenticate(MANSOUR, "PIN", "482916", "number")
        .await;
    assert_wrapped(
        "authenticate after success",
        &(200, again),
        "invalid_transaction",
    );
    assert_wrapped(
        "send-otp after success",
        &(200, browser.send_otp(MANSOUR).await),
        "invalid_transaction",
    );

    // --- claim-details and auth-code.
    let pending = begin(&server, &csrf, request()).await;
    assert_wrapped(
        "claim-details before authentication",
        &(200, pending.claim_details().await),
        "invalid_transaction",
    );
    assert_wrapped(
        "auth-code before authentication",
        &(200, pending.auth_code(&[], &[]).await),
        "invalid_transaction",
    );

    let consent = with(
        authorize_request(DEMO_CLIENT, DEMO_REDIRECT, "openid Manage-VID", None),
        json!({"prompt": "consent", "claims": {"userinfo": {"name": {"essential": true}, "email": null}}}),
    );
    let browser = begin(&server, &csrf, consent).await;
    assert_eq!(browser.details["essentialClaims"], json!(["name"]));
    assert_eq!(browser.details["authorizeScopes"], json!(["Manage-VID"]));
    let authenticated = browser.otp_login(SREYMOM).await;
    assert_eq!(
        authenticated["response"]["consentAction"], "CAPTURE",
        "{authenticated}"
    );
    let mut headers = browser.headers();
    headers.insert("oauth-details-hash", b64url(&sha256(b"x")).parse().unwrap());
    let claim_details = server
        .http
        .get(server.url("/authorization/claim-details"))
        .headers(headers)
        .send()
        .await
        .unwrap();
    let claim_details = (
        claim_details.status().as_u16(),
        claim_details.json::<Value>().await.unwrap(),
    );
    assert_wrapped(
        "claim-details with a wrong hash",
        &claim_details,
        "invalid_request",
    );
    assert_eq!(browser.claim_details().await["errors"], json!([]));
    assert_wrapped(
        "second claim-details",
        &(200, browser.claim_details().await),
        "no_attempts_left",
    );
    let consents: Vec<(&str, Vec<&str>, Vec<&str>, &str)> = vec![
        (
            "essential claim not accepted",
            vec!["email"],
            vec!["Manage-VID"],
            "invalid_accepted_claim",
        ),
        (
            "unrequested claim",
            vec!["name", "birthdate"],
            vec![],
            "invalid_accepted_claim",
        ),
        (
            "blank claim",
            vec!["name", " "],
            vec![],
            "invalid_accepted_claim",
        ),
        (
            "unrequested scope",
            vec!["name"],
            vec!["Manage-Identity-Data"],
            "invalid_permitted_scope",
        ),
        (
            "blank scope",
            vec!["name"],
            vec![""],
            "invalid_permitted_scope",
        ),
    ];
    for (case, accepted, permitted, code) in consents {
        assert_wrapped(
            case,
            &(200, browser.auth_code(&accepted, &permitted).await),
            code,
        );
    }
    let other = begin(&server, &csrf, request()).await;
    let response = server
        .post_wrapped(
            AUTH_CODE,
            json!({"transactionId": other.transaction_id, "acceptedClaims": ["name"], "permittedAuthorizeScopes": []}),
            browser.headers(),
        )
        .await;
    assert_wrapped(
        "auth-code for another transaction",
        &response,
        "invalid_transaction",
    );
    let code = browser.auth_code(&["name", "email"], &["Manage-VID"]).await;
    assert_eq!(code["errors"], json!([]), "{code}");
    assert_wrapped(
        "second auth-code",
        &(200, browser.auth_code(&["name"], &[]).await),
        "invalid_transaction",
    );
    assert_wrapped(
        "claim-details after auth-code",
        &(200, browser.claim_details().await),
        "invalid_transaction",
    );
}

// ---------------------------------------------------------------------------------------------
// token

#[tokio::test]
async fn token_errors() {
    let server = Server::start(&[]).await;
    let key = new_rsa_key();
    server
        .register_client("token-client", json!({}), &key)
        .await;
    let other_key = new_rsa_key();
    server
        .register_client("other-client", json!({}), &other_key)
        .await;
    let rp = Rp {
        server: &server,
        client_id: "token-client".into(),
        key: key.clone(),
        redirect_uri: RP_REDIRECT.into(),
    };
    let endpoint = server.token_endpoint();
    let csrf = csrf_token(&server).await;
    let (code, verifier) = login_code(&server, &csrf, "token-client", RP_REDIRECT, MANSOUR).await;
    let good = || client_assertion(&key, "token-client", &endpoint);
    let form = || token_form("token-client", &code, RP_REDIRECT, &verifier, good());

    let expired = {
        let now = unix_now();
        sign_rs256(
            &key,
            json!({"iss": "token-client", "sub": "token-client", "aud": endpoint, "iat": now - 120, "exp": now - 60, "jti": uuid()}),
            None,
        )
    };
    // A replayed assertion: its jti was spent at PAR (which accepts the token endpoint as
    // audience) by the same client.
    let spent = good();
    let (_, challenge) = pkce_pair();
    let pushed = push(&rp, &par_params(&challenge), Some(spent.clone()), None).await;
    assert_eq!(pushed.0, 201, "{}", pushed.2);
    let (wrong_verifier, _) = pkce_pair();

    let cases: Vec<(&str, Form, &str, &str)> = vec![
        (
            "unknown code",
            set(form(), "code", Some(&uuid())),
            "invalid_grant",
            "invalid_grant",
        ),
        (
            "blank code",
            set(form(), "code", Some("")),
            "invalid_grant",
            "invalid_grant",
        ),
        (
            "wrong PKCE verifier",
            set(form(), "code_verifier", Some(&wrong_verifier)),
            "invalid_grant",
            "pkce_failed",
        ),
        (
            "missing PKCE verifier",
            set(form(), "code_verifier", None),
            "invalid_grant",
            "invalid_pkce_code_verifier",
        ),
        (
            "PKCE verifier too short",
            set(form(), "code_verifier", Some("abc")),
            "invalid_grant",
            "invalid_pkce_code_verifier",
        ),
        (
            "redirect URI mismatch",
            set(
                form(),
                "redirect_uri",
                Some("https://rp.example/wild/other"),
            ),
            "invalid_grant",
            "invalid_redirect_uri",
        ),
        (
            "malformed redirect URI",
            set(form(), "redirect_uri", Some("not a uri")),
            "invalid_request",
            "invalid_redirect_uri",
        ),
        (
            "missing redirect URI",
            set(form(), "redirect_uri", None),
            "invalid_request",
            "invalid_redirect_uri",
        ),
        (
            "another client's id",
            set(form(), "client_id", Some("other-client")),
            "invalid_grant",
            "invalid_client_id",
        ),
        (
            "grant_type password",
            set(form(), "grant_type", Some("password")),
            "unsupported_grant_type",
            "unsupported_grant_type",
        ),
        (
            "missing grant_type",
            set(form(), "grant_type", None),
            "unsupported_grant_type",
            "unsupported_grant_type",
        ),
        (
            "missing assertion",
            set(form(), "client_assertion", None),
            "invalid_client",
            "invalid_client",
        ),
        (
            "wrong assertion type",
            set(
                form(),
                "client_assertion_type",
                Some("urn:ietf:params:oauth:client-assertion-type:saml2-bearer"),
            ),
            "invalid_client",
            "invalid_client",
        ),
        (
            "assertion signed by another key",
            set(
                form(),
                "client_assertion",
                Some(&client_assertion(&other_key, "token-client", &endpoint)),
            ),
            "invalid_client",
            "invalid_client",
        ),
        (
            "assertion for the PAR endpoint",
            set(
                form(),
                "client_assertion",
                Some(&client_assertion(
                    &key,
                    "token-client",
                    &server.par_endpoint(),
                )),
            ),
            "invalid_client",
            "invalid_client",
        ),
        (
            "expired assertion",
            set(form(), "client_assertion", Some(&expired)),
            "invalid_client",
            "invalid_client",
        ),
        (
            "iss differs from sub",
            set(
                form(),
                "client_assertion",
                Some(&sign_rs256(
                    &key,
                    assertion_claims("token-client", "other", &endpoint),
                    None,
                )),
            ),
            "invalid_client",
            "invalid_client",
        ),
        (
            "assertion not a JWT",
            set(form(), "client_assertion", Some("a.b.c")),
            "invalid_client",
            "invalid_client",
        ),
        (
            "replayed assertion jti",
            set(form(), "client_assertion", Some(&spent)),
            "invalid_client",
            "invalid_client",
        ),
    ];
    for (case, form, error, description) in cases {
        let response = rp.post_form(&endpoint, &form, None).await;
        assert_oauth(&format!("token: {case}"), &response, error, description);
    }
    // The deprecated endpoint has no verifier: a PKCE transaction cannot finish there.
    let v1_endpoint = server.url("/oauth/token");
    let v1_form = set(form(), "code_verifier", None);
    let v1_form = set(
        v1_form,
        "client_assertion",
        Some(&client_assertion(&key, "token-client", &v1_endpoint)),
    );
    let response = rp.post_form(&v1_endpoint, &v1_form, None).await;
    assert_oauth(
        "v1 token with PKCE",
        &response,
        "invalid_grant",
        "invalid_pkce_code_verifier",
    );
    // Only form bodies.
    let response = server
        .http
        .post(&endpoint)
        .json(&json!({"grant_type": "authorization_code", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        415,
        "JSON body at the token endpoint"
    );

    // After all those failures the code still works, once.
    let (status, headers, tokens) = rp.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert_eq!(tokens["token_type"], "Bearer");
    let reuse = rp.token(&code, Some(&verifier), None).await;
    assert_oauth("code reuse", &reuse, "invalid_grant", "invalid_grant");

    // A DPoP-bound client: a proof is mandatory, then the server nonce.
    let dpop_client_key = new_rsa_key();
    server
        .register_client(
            "dpop-client",
            json!({"dpop_bound_access_tokens": true}),
            &dpop_client_key,
        )
        .await;
    let dpop_rp = Rp {
        server: &server,
        client_id: "dpop-client".into(),
        key: dpop_client_key,
        redirect_uri: RP_REDIRECT.into(),
    };
    let (code, verifier) = login_code(&server, &csrf, "dpop-client", RP_REDIRECT, MANSOUR).await;
    let response = dpop_rp.token(&code, Some(&verifier), None).await;
    assert_dpop_refused("DPoP-bound client without a proof", &response);
    let dpop_key = new_ec_key();
    let wrong_htu = dpop_proof(&dpop_key, "POST", &server.par_endpoint(), None, None);
    assert_dpop_refused(
        "token proof for PAR",
        &dpop_rp.token(&code, Some(&verifier), Some(wrong_htu)).await,
    );
    let proof = dpop_proof(&dpop_key, "POST", &endpoint, None, None);
    let challenge = dpop_rp.token(&code, Some(&verifier), Some(proof)).await;
    assert_oauth(
        "DPoP proof without the server nonce",
        &challenge,
        "use_dpop_nonce",
        "Authorization server requires nonce in DPoP proof",
    );
    let nonce = header(&challenge.1, "dpop-nonce")
        .expect("a DPoP-Nonce header")
        .to_owned();
    let proof = dpop_proof(
        &dpop_key,
        "POST",
        &endpoint,
        Some("not-a-nonce-we-issued"),
        None,
    );
    let response = dpop_rp.token(&code, Some(&verifier), Some(proof)).await;
    assert_oauth(
        "DPoP proof with an unknown nonce",
        &response,
        "use_dpop_nonce",
        "Authorization server requires nonce in DPoP proof",
    );
    let proof = dpop_proof(&dpop_key, "POST", &endpoint, Some(&nonce), None);
    let (status, _, tokens) = dpop_rp.token(&code, Some(&verifier), Some(proof)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");

    // A client deactivated between its login and its token call.
    let other_rp = Rp {
        server: &server,
        client_id: "other-client".into(),
        key: other_key,
        redirect_uri: RP_REDIRECT.into(),
    };
    let (code, verifier) = login_code(&server, &csrf, "other-client", RP_REDIRECT, MANSOUR).await;
    let deactivated = admin(
        &server,
        Method::PUT,
        "/client-mgmt/client/other-client",
        update_request("INACTIVE"),
        admin_headers(ADMIN_TOKEN),
    )
    .await;
    assert_wrapped_ok("deactivating", &deactivated);
    let response = other_rp.token(&code, Some(&verifier), None).await;
    assert_oauth(
        "token for an INACTIVE client",
        &response,
        "invalid_client",
        "invalid_client",
    );
}

// ---------------------------------------------------------------------------------------------
// userinfo

#[tokio::test]
async fn userinfo_errors() {
    let server = Server::start(&[]).await;
    let csrf = csrf_token(&server).await;
    let endpoint = server.userinfo_endpoint();

    // A Bearer token from the demo client.
    let rp = Rp {
        server: &server,
        client_id: DEMO_CLIENT.into(),
        key: server.demo_client_key(),
        redirect_uri: DEMO_REDIRECT.into(),
    };
    let (code, verifier) = login_code(&server, &csrf, DEMO_CLIENT, DEMO_REDIRECT, MANSOUR).await;
    let (status, _, tokens) = rp.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    let bearer = tokens["access_token"].as_str().unwrap().to_owned();

    // A DPoP-bound token. Before the real exchange, a proof from another key obtains a server
    // nonce bound to that key.
    let client_key = new_rsa_key();
    server
        .register_client(
            "dpop-client",
            json!({"dpop_bound_access_tokens": true}),
            &client_key,
        )
        .await;
    let dpop_rp = Rp {
        server: &server,
        client_id: "dpop-client".into(),
        key: client_key,
        redirect_uri: RP_REDIRECT.into(),
    };
    let (code, verifier) = login_code(&server, &csrf, "dpop-client", RP_REDIRECT, SREYMOM).await;
    let dpop_key = new_ec_key();
    let other_key = new_ec_key();
    let token_endpoint = server.token_endpoint();
    let probe = dpop_proof(&other_key, "POST", &token_endpoint, None, None);
    let probe = dpop_rp.token(&code, Some(&verifier), Some(probe)).await;
    assert_eq!(probe.2["error"], "use_dpop_nonce", "{}", probe.2);
    let foreign_nonce = header(&probe.1, "dpop-nonce").unwrap().to_owned();
    let proof = dpop_proof(&dpop_key, "POST", &token_endpoint, None, None);
    let challenge = dpop_rp.token(&code, Some(&verifier), Some(proof)).await;
    let nonce = header(&challenge.1, "dpop-nonce").unwrap().to_owned();
    let proof = dpop_proof(&dpop_key, "POST", &token_endpoint, Some(&nonce), None);
    let (status, headers, tokens) = dpop_rp.token(&code, Some(&verifier), Some(proof)).await;
    assert_eq!(status, 200, "{tokens}");
    let bound = tokens["access_token"].as_str().unwrap().to_owned();
    let userinfo_nonce = header(&headers, "dpop-nonce").unwrap().to_owned();

    // The Authorization header.
    let bare = server.http.get(&endpoint).send().await.unwrap();
    let bare = (
        bare.status().as_u16(),
        bare.headers().clone(),
        bare.text().await.unwrap(),
    );
    assert_userinfo(
        "no Authorization",
        &bare,
        401,
        "Bearer, DPoP algs=\"ES256 PS256 RS256\"",
    );
    let twice = server
        .http
        .get(&endpoint)
        .header("Authorization", format!("Bearer {bearer}"))
        .header("Authorization", format!("Bearer {bearer}"))
        .send()
        .await
        .unwrap();
    let twice = (
        twice.status().as_u16(),
        twice.headers().clone(),
        twice.text().await.unwrap(),
    );
    assert_userinfo(
        "two Authorization headers",
        &twice,
        400,
        "Bearer error=\"invalid_request\"",
    );
    let mut tampered = bearer.clone().into_bytes();
    let position = tampered.len() - 10;
    tampered[position] = if tampered[position] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let tampered = String::from_utf8(tampered).unwrap();
    let bearer_cases: Vec<(&str, String)> = vec![
        ("garbage token", "Bearer garbage".to_owned()),
        ("unknown scheme", format!("Basic {bearer}")),
        ("scheme without token", "Bearer".to_owned()),
        ("signature tampered", format!("Bearer {tampered}")),
        ("DPoP-bound token as Bearer", format!("Bearer {bound}")),
    ];
    for (case, authorization) in bearer_cases {
        let response = rp.userinfo(&authorization, None).await;
        assert_userinfo(case, &response, 401, "Bearer error=\"invalid_token\"");
    }
    let (status, _, body) = rp.userinfo(&format!("Bearer {bearer}"), None).await;
    assert_eq!(status, 200, "the untampered Bearer token works: {body}");
    let proof = dpop_proof(
        &dpop_key,
        "GET",
        &endpoint,
        Some(&userinfo_nonce),
        Some(&bearer),
    );
    let response = rp.userinfo(&format!("DPoP {bearer}"), Some(proof)).await;
    assert_userinfo(
        "Bearer token presented as DPoP",
        &response,
        401,
        "DPoP error=\"invalid_token\"",
    );

    // DPoP proofs at userinfo.
    let authorization = format!("DPoP {bound}");
    let with_claims = |claims: Value| es256_proof(&dpop_key, Some("dpop+jwt"), claims);
    let base_claims = || {
        with(
            proof_claims("GET", &endpoint),
            json!({"nonce": userinfo_nonce, "ath": b64url(&sha256(bound.as_bytes()))}),
        )
    };
    let dpop_cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no DPoP header", None, USERINFO_DPOP_CHALLENGE),
        (
            "proof without ath",
            Some(with_claims(with(base_claims(), json!({"ath": null})))),
            USERINFO_DPOP_CHALLENGE,
        ),
        (
            "ath of another token",
            Some(with_claims(with(
                base_claims(),
                json!({"ath": b64url(&sha256(bearer.as_bytes()))}),
            ))),
            "DPoP error=\"invalid_token\"",
        ),
        (
            "proof from another key",
            Some(dpop_proof(
                &other_key,
                "GET",
                &endpoint,
                Some(&userinfo_nonce),
                Some(&bound),
            )),
            USERINFO_DPOP_CHALLENGE,
        ),
        (
            "proof for the token endpoint",
            Some(dpop_proof(
                &dpop_key,
                "GET",
                &token_endpoint,
                Some(&userinfo_nonce),
                Some(&bound),
            )),
            USERINFO_DPOP_CHALLENGE,
        ),
        (
            "proof for POST",
            Some(dpop_proof(
                &dpop_key,
                "POST",
                &endpoint,
                Some(&userinfo_nonce),
                Some(&bound),
            )),
            USERINFO_DPOP_CHALLENGE,
        ),
        (
            "stale proof",
            Some(with_claims(with(
                base_claims(),
                json!({"iat": unix_now() - 300}),
            ))),
            USERINFO_DPOP_CHALLENGE,
        ),
        (
            "HS256 proof",
            Some(hs256_proof(&dpop_key, base_claims())),
            USERINFO_DPOP_CHALLENGE,
        ),
    ];
    for (case, proof, challenge) in dpop_cases {
        let response = rp.userinfo(&authorization, proof).await;
        assert_userinfo(case, &response, 401, challenge);
    }
    // Server nonces: unknown, or issued to another key, are answered with a fresh one.
    let nonce_challenge = "DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\"";
    let stale: Vec<(&str, Option<&str>)> = vec![
        ("no nonce", None),
        ("unknown nonce", Some("a-nonce-never-issued")),
        ("nonce issued to another key", Some(&foreign_nonce)),
    ];
    let mut fresh = String::new();
    for (case, nonce) in stale {
        let proof = dpop_proof(&dpop_key, "GET", &endpoint, nonce, Some(&bound));
        let response = rp.userinfo(&authorization, Some(proof)).await;
        assert_userinfo(case, &response, 401, nonce_challenge);
        fresh = header(&response.1, "dpop-nonce")
            .expect("a DPoP-Nonce header")
            .to_owned();
        assert_ne!(Some(fresh.as_str()), nonce, "{case}: a new nonce");
        let exposed = header(&response.1, "access-control-expose-headers").unwrap_or_default();
        assert!(exposed.contains("DPoP-Nonce"), "{case}: {exposed}");
    }
    // The challenged nonce works (a just-issued nonce: no case above depends on the 15 s
    // lifetime of the one sent with the tokens); the same proof cannot be replayed.
    let proof = dpop_proof(&dpop_key, "GET", &endpoint, Some(&fresh), Some(&bound));
    let (status, _, body) = rp.userinfo(&authorization, Some(proof.clone())).await;
    assert_eq!(status, 200, "the challenged nonce works: {body}");
    let response = rp.userinfo(&authorization, Some(proof)).await;
    assert_userinfo("replayed proof", &response, 401, USERINFO_DPOP_CHALLENGE);
}

// ---------------------------------------------------------------------------------------------
// client-mgmt

#[tokio::test]
async fn client_mgmt_errors() {
    let server = Server::start(&[]).await;
    let key = new_rsa_key();
    let spare = new_rsa_key();
    let create = |request: Value| {
        admin(
            &server,
            Method::POST,
            "/client-mgmt/client",
            request,
            admin_headers(ADMIN_TOKEN),
        )
    };

    // Authentication of the admin API.
    let unauthenticated = [
        ("no token", HeaderMap::new()),
        (
            "wrong token",
            admin_headers("not-the-admin-token-0123456789-abcdefghijkl"),
        ),
        ("token prefix", admin_headers(&ADMIN_TOKEN[..20])),
    ];
    for (case, headers) in unauthenticated {
        let response = admin(
            &server,
            Method::POST,
            "/client-mgmt/client",
            client_request("intruder", &key),
            headers.clone(),
        )
        .await;
        assert_eq!(response.0, 401, "create, {case}: {}", response.1);
        assert_eq!(response.1["error"], "invalid_token", "create, {case}");
        let response = admin(
            &server,
            Method::PUT,
            "/client-mgmt/client/intruder",
            update_request("ACTIVE"),
            headers.clone(),
        )
        .await;
        assert_eq!(response.0, 401, "update, {case}: {}", response.1);
        assert_eq!(response.1["error"], "invalid_token", "update, {case}");
        let response = admin(
            &server,
            Method::PATCH,
            "/client-mgmt/client/intruder",
            json!({}),
            headers,
        )
        .await;
        assert_eq!(response.0, 401, "patch, {case}: {}", response.1);
        assert_eq!(response.1["error"], "invalid_token", "patch, {case}");
    }
    let mut basic = HeaderMap::new();
    basic.insert(
        "authorization",
        format!("Basic {ADMIN_TOKEN}").parse().unwrap(),
    );
    let response = admin(
        &server,
        Method::POST,
        "/client-mgmt/client",
        client_request("intruder", &key),
        basic,
    )
    .await;
    assert_eq!(response.0, 401, "Basic scheme: {}", response.1);

    let created = create(client_request("first-client", &key)).await;
    assert_wrapped_ok("create", &created);
    assert_eq!(
        created.1["response"],
        json!({"clientId": "first-client", "status": "ACTIVE"})
    );

    let mut enc_only = public_jwk(&spare);
    enc_only["use"] = json!("enc");
    let request = |changes: Value| with(client_request("new-client", &spare), changes);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "duplicate id",
            with(client_request("first-client", &spare), json!({})),
            "duplicate_client_id",
        ),
        (
            "same key as another client",
            client_request("second-client", &key),
            "duplicate_public_key",
        ),
        (
            "blank client id",
            request(json!({"clientId": " "})),
            "invalid_client_id",
        ),
        (
            "client id with a space",
            request(json!({"clientId": "new client"})),
            "invalid_client_id",
        ),
        (
            "blank name",
            request(json!({"clientName": ""})),
            "invalid_client_name",
        ),
        (
            "unknown language",
            request(json!({"clientNameLangMap": {"english": "Client"}})),
            "invalid_language_code",
        ),
        (
            "empty public key",
            request(json!({"publicKey": {}})),
            "invalid_public_key",
        ),
        (
            "public key not a key",
            request(json!({"publicKey": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}})),
            "invalid_public_key",
        ),
        (
            "encryption-only public key",
            request(json!({"publicKey": enc_only})),
            "invalid_public_key",
        ),
        (
            "missing public key",
            request(json!({"publicKey": null})),
            "invalid_public_key",
        ),
        (
            "blank relying party",
            request(json!({"relyingPartyId": ""})),
            "invalid_rp_id",
        ),
        (
            "unknown claim",
            request(json!({"userClaims": ["name", "shoe_size"]})),
            "invalid_claim",
        ),
        (
            "unknown ACR",
            request(json!({"authContextRefs": ["mosip:idp:acr:telepathy"]})),
            "invalid_acr",
        ),
        (
            "no ACR",
            request(json!({"authContextRefs": []})),
            "invalid_acr",
        ),
        (
            "logo javascript URL",
            request(json!({"logoUri": "javascript:alert(1)"})),
            "invalid_uri",
        ),
        (
            "malformed redirect URI",
            request(json!({"redirectUris": ["not a uri"]})),
            "invalid_redirect_uri",
        ),
        (
            "no redirect URI",
            request(json!({"redirectUris": []})),
            "invalid_redirect_uri",
        ),
        (
            "six redirect URIs",
            request(
                json!({"redirectUris": (1..=6).map(|i| format!("https://rp.example/{i}")).collect::<Vec<_>>()}),
            ),
            "invalid_redirect_uri",
        ),
        (
            "grant type implicit",
            request(json!({"grantTypes": ["implicit"]})),
            "unsupported_grant_type",
        ),
        (
            "auth method client_secret_basic",
            request(json!({"clientAuthMethods": ["client_secret_basic"]})),
            "invalid_client_auth",
        ),
        (
            "additional config with an unknown property",
            request(json!({"additionalConfig": {"theme": "dark"}})),
            "invalid_additional_config",
        ),
        (
            "consent_expire_in_mins 5",
            request(json!({"additionalConfig": {"consent_expire_in_mins": 5}})),
            "invalid_additional_config",
        ),
        (
            "userinfo_response_type XML",
            request(json!({"additionalConfig": {"userinfo_response_type": "XML"}})),
            "invalid_additional_config",
        ),
        (
            "flag not a boolean",
            request(json!({"additionalConfig": {"dpop_bound_access_tokens": "yes"}})),
            "invalid_additional_config",
        ),
        (
            "additional config not an object",
            request(json!({"additionalConfig": "JWE"})),
            "invalid_additional_config",
        ),
        (
            "missing additional config",
            request(json!({"additionalConfig": null})),
            "invalid_additional_config",
        ),
        (
            "unknown field",
            request(json!({"clientSecret": "s3cret"})),
            "unknown_error",
        ),
    ];
    for (case, body, code) in cases {
        assert_wrapped(&format!("create: {case}"), &create(body).await, code);
    }

    let update = |id: &str, request: Value| {
        admin(
            &server,
            Method::PUT,
            format!("/client-mgmt/client/{id}"),
            request,
            admin_headers(ADMIN_TOKEN),
        )
    };
    let patch = |id: &str, request: Value| {
        admin(
            &server,
            Method::PATCH,
            format!("/client-mgmt/client/{id}"),
            request,
            admin_headers(ADMIN_TOKEN),
        )
    };
    assert_wrapped(
        "update of an unknown id",
        &update("no-such-client", update_request("ACTIVE")).await,
        "invalid_client_id",
    );
    assert_wrapped(
        "update with a bad status",
        &update("first-client", update_request("DELETED")).await,
        "invalid_status",
    );
    assert_wrapped(
        "update with an unknown claim",
        &update(
            "first-client",
            with(
                update_request("ACTIVE"),
                json!({"userClaims": ["shoe_size"]}),
            ),
        )
        .await,
        "invalid_claim",
    );
    assert_wrapped(
        "update with a bad additional config",
        &update(
            "first-client",
            with(
                update_request("ACTIVE"),
                json!({"additionalConfig": {"consent_expire_in_mins": 5}}),
            ),
        )
        .await,
        "invalid_additional_config",
    );
    assert_wrapped(
        "patch of an unknown id",
        &patch(
            "no-such-client",
            json!({"logoUri": "https://rp.example/l.png"}),
        )
        .await,
        "invalid_client_id",
    );
    assert_wrapped(
        "patch with an EC encryption key",
        &patch(
            "first-client",
            json!({"encPublicKey": public_jwk(&new_ec_key())}),
        )
        .await,
        "invalid_public_key",
    );
    assert_wrapped(
        "patch with a bad redirect URI",
        &patch("first-client", json!({"redirectUris": ["::"]})).await,
        "invalid_redirect_uri",
    );

    // PATCH an encryption key: the JWE userinfo is then encrypted to it, not to the signing key.
    let signing_key = new_rsa_key();
    server
        .register_client(
            "jwe-client",
            json!({"userinfo_response_type": "JWE"}),
            &signing_key,
        )
        .await;
    // A key for another key-management algorithm is refused; josekit's generated key (labelled
    // RS256, a label the server drops) is accepted.
    let enc_key = new_rsa_key();
    let mut rsa1_5 = public_jwk(&enc_key);
    rsa1_5["alg"] = json!("RSA1_5");
    let refused = patch("jwe-client", json!({"encPublicKey": rsa1_5})).await;
    assert_wrapped("encryption key for RSA1_5", &refused, "invalid_public_key");
    let patched = patch("jwe-client", json!({"encPublicKey": public_jwk(&enc_key)})).await;
    assert_wrapped_ok("patch encPublicKey", &patched);
    assert_eq!(
        patched.1["response"],
        json!({"clientId": "jwe-client", "status": "ACTIVE"})
    );
    let rp = Rp {
        server: &server,
        client_id: "jwe-client".into(),
        key: signing_key.clone(),
        redirect_uri: RP_REDIRECT.into(),
    };
    let csrf = csrf_token(&server).await;
    let (code, verifier) = login_code(&server, &csrf, "jwe-client", RP_REDIRECT, MANSOUR).await;
    let (status, _, tokens) = rp.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    let (status, _, body) = rp
        .userinfo(
            &format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.split('.').count(), 5, "a compact JWE");
    let mut decryption_key = enc_key.clone();
    decryption_key.set_algorithm("RSA-OAEP-256");
    let inner = decrypt_jwe(&decryption_key, &body);
    let (_, claims) = verify_jws(&jwks(&server).await, &inner, Some("jwe-client"));
    assert_eq!(claims["name"], "Siddharth Kumar Mansour");
    // The signing key's material, presented as a decryption key, must not open it.
    let mut signing_as_enc = signing_key.clone();
    signing_as_enc.set_algorithm("RSA-OAEP-256");
    let decrypter = josekit::jwe::RSA_OAEP_256
        .decrypter_from_jwk(&signing_as_enc)
        .unwrap();
    assert!(
        josekit::jwe::deserialize_compact(&body, &decrypter).is_err(),
        "the signing key must not decrypt userinfo once an encryption key is set"
    );
}
