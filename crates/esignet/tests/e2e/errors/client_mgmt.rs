//! Error matrix: client management.

use super::*;

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
