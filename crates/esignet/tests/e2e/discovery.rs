//! The published documents: OpenID Provider metadata, RFC 8414 authorization-server metadata and
//! the JWKS, as snapshots with the port-dependent base URL normalized and key material redacted,
//! plus the checks a snapshot cannot make (both key sets present, each certificate carries its
//! JWK's key, CORS).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::harness::{Server, b64url, sha256};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};

/// What the per-test base URL (a free loopback port) is replaced with.
const NORMALIZED_BASE: &str = "http://esignet.test";
/// JWK members that are key material or otherwise differ per run.
const REDACTED_MEMBERS: [&str; 5] = ["n", "kid", "x5t#S256", "exp", "x5c"];

/// GETs a public document at its root alias and under the base path; both must be identical and
/// readable cross-origin. Returns the document.
async fn public_document(server: &Server, root_path: &str, api_path: &str) -> Value {
    let mut documents = Vec::new();
    for url in [format!("{}{root_path}", server.base), server.url(api_path)] {
        let response = server.http.get(&url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{url}");
        let headers: HeaderMap = response.headers().clone();
        assert_eq!(
            headers
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok()),
            Some("*"),
            "{url}: readable from any origin"
        );
        assert!(
            headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json")),
            "{url}: {headers:?}"
        );
        documents.push(response.json::<Value>().await.unwrap());
    }
    assert_eq!(
        documents[0], documents[1],
        "{root_path} and {api_path} serve the same document"
    );
    documents.remove(0)
}

/// The document with the server's base URL replaced by [`NORMALIZED_BASE`].
fn normalized(server: &Server, document: &Value) -> Value {
    let text = serde_json::to_string(document)
        .unwrap()
        .replace(&server.base, NORMALIZED_BASE);
    assert!(
        !text.contains("127.0.0.1"),
        "no other port-dependent value: {text}"
    );
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn metadata_documents() {
    let server = Server::start(&[]).await;
    let openid = public_document(
        &server,
        "/.well-known/openid-configuration",
        "/oidc/.well-known/openid-configuration",
    )
    .await;
    let oauth = public_document(
        &server,
        "/.well-known/oauth-authorization-server",
        "/oauth/.well-known/oauth-authorization-server",
    )
    .await;

    // The endpoints are the ones the server actually serves and checks (htu, aud).
    assert_eq!(openid["issuer"], json!(server.base));
    assert_eq!(openid["token_endpoint"], json!(server.token_endpoint()));
    assert_eq!(
        openid["pushed_authorization_request_endpoint"],
        json!(server.par_endpoint())
    );
    assert_eq!(
        openid["userinfo_endpoint"],
        json!(server.userinfo_endpoint())
    );
    assert_eq!(
        openid["jwks_uri"],
        json!(format!("{}/.well-known/jwks.json", server.base))
    );
    // RFC 8414 §3.3: the shared members agree.
    for (member, value) in oauth.as_object().unwrap() {
        if let Some(same) = openid.get(member) {
            assert_eq!(same, value, "{member} differs between the two documents");
        }
    }

    insta::assert_json_snapshot!("openid_configuration", normalized(&server, &openid));
    insta::assert_json_snapshot!("oauth_authorization_server", normalized(&server, &oauth));
}

/// One DER element at the start of `input`: (tag, the whole element, its content, the rest).
fn der_element(input: &[u8]) -> (u8, &[u8], &[u8], &[u8]) {
    let tag = input[0];
    let (length, header) = match input[1] {
        short if short < 0x80 => (usize::from(short), 2),
        long => {
            let count = usize::from(long & 0x7f);
            let length = input[2..2 + count]
                .iter()
                .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
            (length, 2 + count)
        }
    };
    let end = header + length;
    (tag, &input[..end], &input[header..end], &input[end..])
}

/// The DER SubjectPublicKeyInfo of an X.509 certificate (RFC 5280 §4.1), read structurally so
/// the key is taken from the certificate, not from the JWK.
fn subject_public_key_info(certificate: &[u8]) -> &[u8] {
    let (_, _, certificate, _) = der_element(certificate);
    let (_, _, tbs, _) = der_element(certificate);
    let mut rest = tbs;
    if rest[0] == 0xa0 {
        rest = der_element(rest).3; // [0] version
    }
    // serialNumber, signature, issuer, validity, subject
    for _ in 0..5 {
        rest = der_element(rest).3;
    }
    let (tag, spki, _, _) = der_element(rest);
    assert_eq!(tag, 0x30, "subjectPublicKeyInfo is a SEQUENCE");
    spki
}

/// Verifies `token` with the public key of `certificate` (josekit, independent of the JWK).
fn verify_with_certificate(token: &str, certificate: &[u8]) {
    let spki = subject_public_key_info(certificate);
    let header = jsonwebtoken::decode_header(token).unwrap();
    let result = match header.alg {
        jsonwebtoken::Algorithm::RS256 => josekit::jws::deserialize_compact(
            token,
            &josekit::jws::RS256.verifier_from_der(spki).unwrap(),
        ),
        jsonwebtoken::Algorithm::PS256 => josekit::jws::deserialize_compact(
            token,
            &josekit::jws::PS256.verifier_from_der(spki).unwrap(),
        ),
        jsonwebtoken::Algorithm::ES256 => josekit::jws::deserialize_compact(
            token,
            &josekit::jws::ES256.verifier_from_der(spki).unwrap(),
        ),
        other => panic!("unexpected signing algorithm {other:?}"),
    };
    assert!(
        result.is_ok(),
        "the certificate's key verifies the token: {result:?}"
    );
}

#[tokio::test]
async fn jwks_document() {
    let server = Server::start(&[]).await;
    let jwks = public_document(
        &server,
        "/.well-known/jwks.json",
        "/oauth/.well-known/jwks.json",
    )
    .await;

    // One login yields a token signed by the service key (ID token) and one signed by the mock
    // identity system's KYC key (userinfo).
    let rp = Rp {
        server: &server,
        client_id: "health-services-demo".into(),
        key: server.demo_client_key(),
        redirect_uri: "http://127.0.0.1:8090/callback".into(),
    };
    let (verifier, challenge) = pkce_pair();
    let request = authorize_request(
        &rp.client_id,
        &rp.redirect_uri,
        "openid profile",
        Some(&challenge),
    );
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    let authenticated = browser.otp_login("8267411571").await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let code = browser.auth_code(&["name"], &[]).await["response"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, tokens) = rp.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    let (status, _, userinfo) = rp.userinfo(&format!("Bearer {access_token}"), None).await;
    assert_eq!(status, 200, "{userinfo}");

    let service_kid = jsonwebtoken::decode_header(id_token).unwrap().kid.unwrap();
    let kyc_kid = jsonwebtoken::decode_header(&userinfo).unwrap().kid.unwrap();
    assert_ne!(
        service_kid, kyc_kid,
        "the identity system signs with its own key"
    );
    let keys = jwks["keys"].as_array().unwrap();
    let find = |kid: &str| {
        keys.iter()
            .find(|key| key["kid"] == kid)
            .unwrap_or_else(|| panic!("kid {kid} is published: {jwks}"))
    };
    let signed = [
        (find(&service_kid), id_token),
        (find(&service_kid), access_token),
        (find(&kyc_kid), userinfo.as_str()),
    ];
    for (key, token) in signed {
        // The JWK verifies (jsonwebtoken) ...
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<Value>(
            token,
            &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
            &validation,
        )
        .expect("the JWK verifies the token");
        // ... and so does the leaf certificate of its x5c chain.
        let leaf = STANDARD.decode(key["x5c"][0].as_str().unwrap()).unwrap();
        verify_with_certificate(token, &leaf);
    }

    // Every published key: its certificate holds the JWK's key, and x5t#S256 is its digest.
    for key in keys {
        let chain = key["x5c"]
            .as_array()
            .unwrap_or_else(|| panic!("x5c on {key}"));
        let leaf = STANDARD.decode(chain[0].as_str().unwrap()).unwrap();
        assert_eq!(
            key["x5t#S256"],
            json!(b64url(&sha256(&leaf))),
            "{}",
            key["kid"]
        );
        let spki = subject_public_key_info(&leaf);
        if key["kty"] == "RSA" {
            let modulus = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
            let exponent = URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap();
            assert!(
                spki.windows(modulus.len()).any(|w| w == modulus),
                "n is the certificate's modulus"
            );
            assert!(
                spki.windows(exponent.len()).any(|w| w == exponent),
                "e is the certificate's exponent"
            );
        }
        assert!(
            key["exp"]
                .as_i64()
                .is_some_and(|exp| exp > crate::harness::unix_now()),
            "{key}"
        );
        assert!(
            key.get("d").is_none() && key.get("p").is_none(),
            "no private member: {key}"
        );
    }

    // The shape, with the key material redacted.
    let mut redacted = normalized(&server, &jwks);
    for key in redacted["keys"].as_array_mut().unwrap() {
        let key = key.as_object_mut().unwrap();
        for member in REDACTED_MEMBERS {
            match key.get_mut(member) {
                Some(Value::Array(items)) => items
                    .iter_mut()
                    .for_each(|item| *item = json!("[redacted]")),
                Some(value) => *value = json!("[redacted]"),
                None => {}
            }
        }
    }
    insta::assert_json_snapshot!("jwks", redacted);
}

#[tokio::test]
async fn the_openapi_document_is_served_at_the_root_and_under_the_base_path() {
    let server = Server::start(&[]).await;
    for path in ["/openapi.json", "/v1/esignet/openapi.json"] {
        let response = server
            .http
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let doc: Value = response.json().await.unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["servers"][0]["url"], json!(server.base));
        let paths = doc["paths"].as_object().unwrap();
        for expected in [
            "/v1/esignet/oauth/v2/token",
            "/v1/esignet/authorization/v3/authenticate",
            "/v1/esignet/client-mgmt/client/{client_id}",
            "/.well-known/openid-configuration",
            "/authorize",
        ] {
            assert!(
                paths.contains_key(expected),
                "{expected} missing from {path}"
            );
        }
    }
}

#[tokio::test]
async fn every_documented_get_route_is_served_by_the_demo_with_signup() {
    // `esignet demo` mounts the Signup service and its pages: the document lists them, and
    // every parameterless GET it lists answers (not 404 or 405) on the running binary.
    let demo = crate::demo::start_demo().await;
    let server = &demo.server;
    let doc: Value = server
        .http
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/v1/signup/registration/generate-challenge",
        "/v1/signup/reset-password",
        "/signup/register",
        "/v1/esignet/authorization/prepare-signup-redirect",
    ] {
        assert!(paths.contains_key(expected), "{expected} missing");
    }
    let mut checked = 0;
    for (path, operations) in paths {
        if operations.get("get").is_none() || path.contains('{') {
            continue;
        }
        let response = server
            .http
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        // The not-found page is served with the status it names.
        let expected_404 = path == "/page-not-found" && status == 404;
        assert!(
            (status != 404 || expected_404) && status != 405,
            "GET {path} is documented but answers {status}"
        );
        checked += 1;
    }
    assert!(checked > 20, "only {checked} GET routes checked");
}
