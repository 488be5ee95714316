//! Error matrix: oauth-details (v1, v2, v3).

use super::*;

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
            "an essential acr no registered level meets (OIDC Core 5.5.1.1)",
            json!({"claims": {"id_token": {"acr": {"essential": true, "values": ["urn:no-such-acr"]}}}}),
            "invalid_acr",
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
