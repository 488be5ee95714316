//! Error matrix: userinfo.

use super::*;

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
