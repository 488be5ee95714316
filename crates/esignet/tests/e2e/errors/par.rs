//! Error matrix: PAR and par-oauth-details.

use super::*;

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
            "only a scope that does not exist",
            set(params(), "scope", Some("no_such_scope")),
            "invalid_scope",
            "invalid_scope",
        ),
        (
            "no openid or credential scope",
            set(params(), "scope", Some("profile")),
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
        "invalid_client",
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
