//! Error matrix: the token endpoint.

use super::*;

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
            "another client's id with this client's assertion",
            set(form(), "client_id", Some("other-client")),
            "invalid_client",
            "invalid_client",
        ),
        (
            "another client, authenticated, with this client's code",
            token_form(
                "other-client",
                &code,
                RP_REDIRECT,
                &verifier,
                client_assertion(&other_key, "other-client", &endpoint),
            ),
            "invalid_grant",
            "invalid_client_id",
        ),
        (
            "an unknown client, with an assertion of its own",
            token_form(
                "no-such-client",
                &code,
                RP_REDIRECT,
                &verifier,
                client_assertion(&other_key, "no-such-client", &endpoint),
            ),
            "invalid_client",
            "invalid_client_id",
        ),
        (
            "an unknown client with a code that does not exist: the client is checked first",
            token_form(
                "no-such-client",
                "no-such-code",
                RP_REDIRECT,
                &verifier,
                client_assertion(&other_key, "no-such-client", &endpoint),
            ),
            "invalid_client",
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
        "invalid_client_id",
    );
}
