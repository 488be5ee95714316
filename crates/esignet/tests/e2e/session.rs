//! After the login: token introspection (RFC 7662), revocation (RFC 7009) and RP-initiated
//! logout (OpenID RP-Initiated Logout 1.0) over HTTP against the real binary, on one
//! embedded instance and across two instances on PostgreSQL + Redis.

use josekit::jwk::Jwk;
use serde_json::{Value, json};

use crate::harness::{Server, client_assertion, dpop_proof, new_ec_key, new_rsa_key, thumbprint};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};
use crate::scaleout::{DropSchema, as_refs, redis_url, shared_env, unique};

const PRIYA: &str = "3519847260";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const SIGNED_OUT_URI: &str = "https://rp.example/signed-out";

/// One refused request: what it tries, its form, the status and (`error`, `error_description`).
type FormCase<'a> = (&'a str, Vec<(&'a str, String)>, u16, (&'a str, &'a str));
/// One refused logout: what it tries, its query and the error code shown.
type LogoutCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

fn introspection_endpoint(server: &Server) -> String {
    server.url("/oauth/introspect")
}

fn revocation_endpoint(server: &Server) -> String {
    server.url("/oauth/revoke")
}

/// A complete OTP login of `rp`; with `dpop_key` the tokens are DPoP-bound. Returns the
/// token response.
async fn login(rp: &Rp<'_>, dpop_key: Option<&Jwk>) -> Value {
    let (verifier, challenge) = pkce_pair();
    let request = authorize_request(
        &rp.client_id,
        &rp.redirect_uri,
        "openid email",
        Some(&challenge),
    );
    let browser = Browser::start(rp.server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    let authenticated = browser.otp_login(PRIYA).await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let code = browser.auth_code(&["email"], &[]).await;
    assert_eq!(code["errors"], json!([]), "{code}");
    let code = code["response"]["code"].as_str().unwrap().to_owned();
    let token_endpoint = rp.server.token_endpoint();
    let proof = |nonce: Option<&str>| {
        dpop_key.map(|key| dpop_proof(key, "POST", &token_endpoint, nonce, None))
    };
    let (mut status, headers, mut tokens) = rp.token(&code, Some(&verifier), proof(None)).await;
    if status == 400 && tokens["error"] == "use_dpop_nonce" {
        let nonce = headers["dpop-nonce"].to_str().unwrap().to_owned();
        (status, _, tokens) = rp.token(&code, Some(&verifier), proof(Some(&nonce))).await;
    }
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// POSTs `token` to the introspection or revocation endpoint as `rp`.
async fn manage(rp: &Rp<'_>, endpoint: &str, token: &str) -> (u16, String) {
    let form = [
        ("token", token.to_owned()),
        ("client_assertion_type", JWT_BEARER.to_owned()),
        (
            "client_assertion",
            client_assertion(&rp.key, &rp.client_id, endpoint),
        ),
    ];
    post_raw(rp.server, endpoint, &form).await
}

async fn post_raw(server: &Server, endpoint: &str, form: &[(&str, String)]) -> (u16, String) {
    let response = server.http.post(endpoint).form(form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn introspect(rp: &Rp<'_>, token: &str) -> Value {
    let endpoint = introspection_endpoint(rp.server);
    let (status, body) = manage(rp, &endpoint, token).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn error_of(body: &str) -> (String, String) {
    let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    (
        body["error"].as_str().unwrap_or_default().to_owned(),
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// A client that does not follow redirects, to read the logout endpoint's `Location`.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GETs the logout endpoint with `query`; returns the `Location` of its 303.
async fn logout(server: &Server, query: &[(&str, &str)]) -> String {
    let response = no_redirects()
        .get(server.url("/oidc/logout"))
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303, "{query:?}");
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn registered<'a>(server: &'a Server, client_id: &str, additional_config: Value) -> Rp<'a> {
    let key = new_rsa_key();
    server
        .register_client(client_id, additional_config, &key)
        .await;
    Rp {
        server,
        client_id: client_id.into(),
        key,
        redirect_uri: "https://rp.example/callback".into(),
    }
}

#[tokio::test]
async fn introspection_and_revocation_of_a_bearer_token() {
    let server = Server::start(&[]).await;
    let rp = registered(&server, "session-client", json!({})).await;
    let other = registered(&server, "other-client", json!({})).await;
    let tokens = login(&rp, None).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();

    let active = introspect(&rp, access_token).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["client_id"], "session-client");
    assert_eq!(active["token_type"], "Bearer");
    assert_eq!(active["iss"], json!(server.base));
    assert!(active["sub"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(active["exp"].as_i64().unwrap() > crate::harness::unix_now());
    assert!(active.get("cnf").is_none(), "a bearer token has no cnf");
    // Only the client the token was issued to learns anything about it (RFC 7662 §4).
    assert_eq!(
        introspect(&other, access_token).await,
        json!({"active": false})
    );
    // Neither an ID token nor something we never issued is an active access token.
    assert_eq!(introspect(&rp, id_token).await, json!({"active": false}));
    assert_eq!(
        introspect(&rp, "not-a-token").await,
        json!({"active": false})
    );

    // Revocation by another client is refused and changes nothing (RFC 7009 §2.1).
    let revocation = revocation_endpoint(&server);
    let (status, body) = manage(&other, &revocation, access_token).await;
    assert_eq!(status, 400);
    assert_eq!(
        error_of(&body),
        (
            "invalid_request".into(),
            "token_not_issued_to_client".into()
        )
    );
    assert_eq!(introspect(&rp, access_token).await["active"], true);
    let (status, _, _) = rp.userinfo(&format!("Bearer {access_token}"), None).await;
    assert_eq!(status, 200);

    // The owner revokes: 200 with an empty body; the token is dead for userinfo and
    // introspection; revoking again, or an unknown token, is still 200 (§2.2).
    let (status, body) = manage(&rp, &revocation, access_token).await;
    assert_eq!((status, body.as_str()), (200, ""));
    assert_eq!(
        introspect(&rp, access_token).await,
        json!({"active": false})
    );
    let (status, headers, _) = rp.userinfo(&format!("Bearer {access_token}"), None).await;
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(manage(&rp, &revocation, access_token).await.0, 200);
    assert_eq!(manage(&rp, &revocation, "never-issued").await.0, 200);
}

#[tokio::test]
async fn introspection_and_revocation_refuse_bad_requests() {
    let server = Server::start(&[]).await;
    let rp = registered(&server, "strict-client", json!({})).await;
    let introspection = introspection_endpoint(&server);
    let revocation = revocation_endpoint(&server);
    let unknown_key = new_rsa_key();
    for endpoint in [&introspection, &revocation] {
        let assertion = |key: &Jwk, client: &str, aud: &str| client_assertion(key, client, aud);
        let cases: Vec<FormCase> = vec![
            (
                "no client authentication",
                vec![("token", "t".into())],
                400,
                ("invalid_client", "invalid_client"),
            ),
            (
                "an unknown client",
                vec![
                    ("token", "t".into()),
                    ("client_assertion_type", JWT_BEARER.into()),
                    (
                        "client_assertion",
                        assertion(&unknown_key, "no-such-client", endpoint),
                    ),
                ],
                400,
                ("invalid_client", "invalid_client_id"),
            ),
            (
                "an assertion signed with another key",
                vec![
                    ("token", "t".into()),
                    ("client_assertion_type", JWT_BEARER.into()),
                    (
                        "client_assertion",
                        assertion(&unknown_key, "strict-client", endpoint),
                    ),
                ],
                400,
                ("invalid_client", "invalid_client"),
            ),
            (
                "an assertion for the token endpoint's audience only",
                vec![
                    ("token", "t".into()),
                    ("client_assertion_type", JWT_BEARER.into()),
                    (
                        "client_assertion",
                        assertion(&rp.key, "strict-client", &server.token_endpoint()),
                    ),
                ],
                400,
                ("invalid_client", "invalid_client"),
            ),
            (
                "client_id naming another client than the assertion",
                vec![
                    ("token", "t".into()),
                    ("client_id", "other".into()),
                    ("client_assertion_type", JWT_BEARER.into()),
                    (
                        "client_assertion",
                        assertion(&rp.key, "strict-client", endpoint),
                    ),
                ],
                400,
                ("invalid_client", "invalid_client"),
            ),
            (
                "no token",
                vec![
                    ("client_assertion_type", JWT_BEARER.into()),
                    (
                        "client_assertion",
                        assertion(&rp.key, "strict-client", endpoint),
                    ),
                ],
                400,
                ("invalid_request", "invalid_request"),
            ),
        ];
        for (case, form, status, (error, description)) in cases {
            let (got_status, body) = post_raw(&server, endpoint, &form).await;
            assert_eq!(got_status, status, "{endpoint}: {case}: {body}");
            assert_eq!(
                error_of(&body),
                (error.to_owned(), description.to_owned()),
                "{endpoint}: {case}"
            );
        }
        // A replayed assertion is refused: its jti was used by the first call.
        let replayed = assertion(&rp.key, "strict-client", endpoint);
        let form = [
            ("token", "t".to_owned()),
            ("client_assertion_type", JWT_BEARER.to_owned()),
            ("client_assertion", replayed),
        ];
        assert_eq!(post_raw(&server, endpoint, &form).await.0, 200);
        let (status, body) = post_raw(&server, endpoint, &form).await;
        assert_eq!(
            (status, error_of(&body).0.as_str()),
            (400, "invalid_client"),
            "{endpoint}: replay"
        );
        // JSON is not the endpoint's media type.
        let response = server
            .http
            .post(endpoint.as_str())
            .json(&json!({"token": "t"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 415, "{endpoint}");
    }
}

#[tokio::test]
async fn rp_initiated_logout_validates_the_hint_and_the_post_logout_uri() {
    let server = Server::start(&[]).await;
    let rp = registered(
        &server,
        "logout-client",
        json!({"post_logout_redirect_uris": [SIGNED_OUT_URI, "https://rp.example/bye?from=op"]}),
    )
    .await;
    let other = registered(&server, "other-logout-client", json!({})).await;
    let tokens = login(&rp, None).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();

    // Discovery advertises the three endpoints.
    let metadata: Value = server
        .http
        .get(server.url("/oidc/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata["end_session_endpoint"],
        json!(server.url("/oidc/logout"))
    );
    assert_eq!(
        metadata["introspection_endpoint"],
        json!(introspection_endpoint(&server))
    );
    assert_eq!(
        metadata["revocation_endpoint"],
        json!(revocation_endpoint(&server))
    );
    assert_eq!(
        metadata["revocation_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );

    // A valid hint and a registered URI: back to the RP with its state.
    let location = logout(
        &server,
        &[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ("state", "bye state"),
        ],
    )
    .await;
    assert_eq!(location, format!("{SIGNED_OUT_URI}?state=bye+state"));
    // A registered URI with its own query keeps it; client_id alone identifies the client.
    let location = logout(
        &server,
        &[
            ("client_id", "logout-client"),
            ("post_logout_redirect_uri", "https://rp.example/bye?from=op"),
        ],
    )
    .await;
    assert_eq!(location, "https://rp.example/bye?from=op");
    // No redirect asked for: our signed-out page, in the RP's language.
    let ui = server.base.trim_end_matches('/').to_owned();
    assert_eq!(logout(&server, &[]).await, format!("{ui}/signed-out"));
    let location = logout(
        &server,
        &[("id_token_hint", id_token), ("ui_locales", "fr en")],
    )
    .await;
    assert_eq!(location, format!("{ui}/signed-out?ui_locales=fr"));
    let page = server.http.get(&location).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Vous êtes déconnecté"));

    // Never an open redirector, and never a hint that is not our ID token for this client.
    let forged = crate::harness::sign_rs256(
        &rp.key,
        json!({"iss": server.base, "aud": "logout-client", "sub": "x", "exp": crate::harness::unix_now() + 60}),
        Some("JWT"),
    );
    let refused: [LogoutCase; 6] = [
        (
            "an unregistered post-logout URI",
            vec![
                ("id_token_hint", id_token),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
            "invalid_post_logout_redirect_uri",
        ),
        (
            "a post-logout URI without a client to check it against",
            vec![("post_logout_redirect_uri", SIGNED_OUT_URI)],
            "invalid_post_logout_redirect_uri",
        ),
        (
            "another client's registered URI",
            vec![
                ("client_id", "other-logout-client"),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ],
            "invalid_post_logout_redirect_uri",
        ),
        (
            "client_id other than the hint's audience",
            vec![
                ("id_token_hint", id_token),
                ("client_id", "other-logout-client"),
            ],
            "invalid_id_token_hint",
        ),
        (
            "a hint signed by someone else",
            vec![
                ("id_token_hint", &forged),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ],
            "invalid_id_token_hint",
        ),
        (
            "an access token as the hint",
            vec![("id_token_hint", access_token)],
            "invalid_id_token_hint",
        ),
    ];
    for (case, query, code) in refused {
        let location = logout(&server, &query).await;
        assert_eq!(location, format!("{ui}/error?error={code}"), "{case}");
    }
    let location = logout(&server, &[("client_id", "no-such-client")]).await;
    assert_eq!(location, format!("{ui}/error?error=invalid_client_id"));
    // A client without post-logout URIs can still log out to our page.
    let location = logout(&server, &[("client_id", &other.client_id)]).await;
    assert_eq!(location, format!("{ui}/signed-out"));

    // POST (form) works the same way.
    let response = no_redirects()
        .post(server.url("/oidc/logout"))
        .form(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", SIGNED_OUT_URI),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], SIGNED_OUT_URI);

    // Registration refuses post-logout URIs that could not be compared exactly.
    for bad in [
        json!(["https://rp.example/*"]),
        json!(["not a url"]),
        json!("https://rp.example/"),
    ] {
        let key = new_rsa_key();
        let request = json!({
            "clientId": "bad-logout-client", "clientName": "Bad", "clientNameLangMap": {"eng": "Bad"},
            "publicKey": crate::harness::public_jwk(&key), "relyingPartyId": "bad-rp",
            "userClaims": ["email"], "authContextRefs": ["mosip:idp:acr:generated-code"],
            "logoUri": "https://rp.example/logo.png", "redirectUris": ["https://rp.example/callback"],
            "grantTypes": ["authorization_code"], "clientAuthMethods": ["private_key_jwt"],
            "additionalConfig": {"post_logout_redirect_uris": bad},
        });
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "authorization",
            format!("Bearer {}", crate::harness::ADMIN_TOKEN)
                .parse()
                .unwrap(),
        );
        let (_, body) = server
            .post_wrapped("/client-mgmt/client", request, headers)
            .await;
        assert_eq!(
            body["errors"][0]["errorCode"], "invalid_additional_config",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_dpop_bound_token_is_introspected_and_revoked_across_instances() {
    let schema = unique("e2e");
    let _drop_schema = DropSchema(schema.clone());
    let prefix = unique("e2e");
    let env = shared_env(&schema, &prefix, &redis_url());
    let a = Server::start(&as_refs(&env)).await;
    let mut env_b = env.clone();
    env_b.push(("ESIGNET_DEMO__SEED_CLIENT".into(), "false".into()));
    let mut b = Server::start(&as_refs(&env_b)).await;
    b.http = a.http.clone();

    let rp_a = registered(
        &a,
        "dpop-session-client",
        json!({"dpop_bound_access_tokens": true}),
    )
    .await;
    let rp_b = Rp {
        server: &b,
        client_id: rp_a.client_id.clone(),
        key: rp_a.key.clone(),
        redirect_uri: rp_a.redirect_uri.clone(),
    };
    let dpop_key = new_ec_key();
    let tokens = login(&rp_a, Some(&dpop_key)).await;
    assert_eq!(tokens["token_type"], "DPoP");
    let access_token = tokens["access_token"].as_str().unwrap();

    // Introspected on B: DPoP-bound, with the key's thumbprint for the resource server.
    let active = introspect(&rp_b, access_token).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["token_type"], "DPoP");
    assert_eq!(active["cnf"], json!({"jkt": thumbprint(&dpop_key)}));

    // Revoked on B, dead on A.
    let (status, _) = manage(&rp_b, &revocation_endpoint(&b), access_token).await;
    assert_eq!(status, 200);
    assert_eq!(
        introspect(&rp_a, access_token).await,
        json!({"active": false})
    );
    let proof = dpop_proof(
        &dpop_key,
        "GET",
        &a.userinfo_endpoint(),
        None,
        Some(access_token),
    );
    let (status, _, _) = rp_a
        .userinfo(&format!("DPoP {access_token}"), Some(proof))
        .await;
    assert_eq!(status, 401);
}
