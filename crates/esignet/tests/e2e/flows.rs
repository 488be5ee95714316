//! Whole logins: plain and FAPI (PAR + DPoP + JWE), claims, verified claims, locales, consent.

use serde_json::{Value, json};

use crate::harness::{Server, client_assertion, dpop_proof, new_ec_key, new_rsa_key, thumbprint};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};
use crate::verify::{decrypt_jwe, jwks, verify_jws};

const MANSOUR: &str = "8267411571";
const SREYMOM: &str = "5860142938";

#[tokio::test]
async fn plain_otp_login_with_the_seeded_demo_client() {
    let server = Server::start(&[]).await;
    let rp = Rp {
        server: &server,
        client_id: "health-services-demo".into(),
        key: server.demo_client_key(),
        redirect_uri: "http://127.0.0.1:8090/callback".into(),
    };
    let (verifier, challenge) = pkce_pair();
    let mut request = authorize_request(
        &rp.client_id,
        &rp.redirect_uri,
        "openid profile",
        Some(&challenge),
    );
    request["claims"] = json!({"userinfo": {"name": {"essential": true}, "email": null, "birthdate": {"essential": false}}});
    let nonce = request["nonce"].as_str().unwrap().to_owned();
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    let details = &browser.details;
    assert_eq!(details["essentialClaims"], json!(["name"]));
    assert!(
        details["voluntaryClaims"]
            .as_array()
            .unwrap()
            .contains(&json!("email"))
    );
    assert_eq!(details["authFactors"][0][0]["type"], "OTP");
    assert_eq!(details["clientName"]["@none"], "Health Services Portal");
    assert_eq!(details["configs"]["issuer"], json!(server.base));

    let authenticated = browser.otp_login(MANSOUR).await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    assert_eq!(authenticated["response"]["consentAction"], "CAPTURE");
    let claim_details = browser.claim_details().await;
    assert_eq!(claim_details["response"]["consentAction"], "CAPTURE");
    let code_response = browser.auth_code(&["name", "email"], &[]).await;
    assert_eq!(code_response["errors"], json!([]), "{code_response}");
    let code = code_response["response"]["code"].as_str().unwrap();
    assert_eq!(code_response["response"]["state"], "state-123");
    assert_eq!(
        code_response["response"]["redirectUri"],
        json!(rp.redirect_uri)
    );

    let (status, headers, tokens) = rp.token(code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let set = jwks(&server).await;
    let (id_header, id_token) = verify_jws(
        &set,
        tokens["id_token"].as_str().unwrap(),
        Some(&rp.client_id),
    );
    assert_eq!(id_header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(id_token["iss"], json!(server.base));
    assert_eq!(id_token["nonce"], json!(nonce));
    assert_eq!(id_token["acr"], "mosip:idp:acr:generated-code");
    let access_token = tokens["access_token"].as_str().unwrap();
    let expected_at_hash =
        crate::harness::b64url(&crate::harness::sha256(access_token.as_bytes())[..16]);
    assert_eq!(id_token["at_hash"], json!(expected_at_hash));
    let (at_header, at_claims) = verify_jws(&set, access_token, Some(&rp.client_id));
    assert_eq!(at_header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(at_claims["client_id"], json!(rp.client_id));
    assert_eq!(at_claims["sub"], id_token["sub"]);
    assert!(at_claims["jti"].is_string());

    let (status, headers, userinfo) = rp.userinfo(&format!("Bearer {access_token}"), None).await;
    assert_eq!(status, 200, "{userinfo}");
    assert_eq!(headers["content-type"], "application/jwt");
    let (_, claims) = verify_jws(&set, &userinfo, Some(&rp.client_id));
    assert_eq!(claims["sub"], id_token["sub"]);
    assert_eq!(claims["name"], "Siddharth Kumar Mansour");
    assert_eq!(claims["email"], "siddharth.mansour@example.com");
    assert!(
        claims.get("birthdate").is_none(),
        "a voluntary claim not accepted is not released"
    );

    // The code is single use.
    let (status, _, body) = rp.token(code, Some(&verifier), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A second login by the same person reuses the stored consent.
    let (verifier, challenge) = pkce_pair();
    let mut request = authorize_request(
        &rp.client_id,
        &rp.redirect_uri,
        "openid profile",
        Some(&challenge),
    );
    request["claims"] = json!({"userinfo": {"name": {"essential": true}, "email": null, "birthdate": {"essential": false}}});
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request.clone())
        .await
        .unwrap();
    let authenticated = browser.otp_login(MANSOUR).await;
    assert_eq!(
        authenticated["response"]["consentAction"], "NOCAPTURE",
        "{authenticated}"
    );
    let code = browser.auth_code(&[], &[]).await["response"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, tokens) = rp.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200);
    let (_, _, userinfo) = rp
        .userinfo(
            &format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
            None,
        )
        .await;
    let (_, claims) = verify_jws(&set, &userinfo, None);
    assert_eq!(
        claims["email"], "siddharth.mansour@example.com",
        "stored accepted claims are reused"
    );

    // prompt=consent forces capture; a changed request too.
    // (A different claims request: with only `openid`, profile claims are no longer implied.)
    for change in [
        json!({"prompt": "consent"}),
        json!({"scope": "openid", "claims": {"userinfo": {"name": {"essential": true}}}}),
    ] {
        let mut changed = request.clone();
        changed["nonce"] = json!(crate::harness::uuid());
        for (key, value) in change.as_object().unwrap() {
            changed[key] = value.clone();
        }
        let browser = Browser::start(&server, "/authorization/v3/oauth-details", changed)
            .await
            .unwrap();
        let authenticated = browser.otp_login(MANSOUR).await;
        assert_eq!(
            authenticated["response"]["consentAction"], "CAPTURE",
            "{change}"
        );
    }
}

#[tokio::test]
async fn fapi_login_with_par_dpop_pkce_and_encrypted_userinfo() {
    let server = Server::start(&[]).await;
    let key = new_rsa_key();
    server
        .register_client(
            "fapi-client",
            json!({"userinfo_response_type": "JWE", "require_pushed_authorization_requests": true,
                   "dpop_bound_access_tokens": true, "require_pkce": true, "consent_expire_in_mins": 10}),
            &key,
        )
        .await;
    let rp = Rp {
        server: &server,
        client_id: "fapi-client".into(),
        key,
        redirect_uri: "https://rp.example/callback".into(),
    };
    let dpop_key = new_ec_key();
    let (verifier, challenge) = pkce_pair();
    // Without PAR the client is refused.
    let plain = authorize_request(
        &rp.client_id,
        &rp.redirect_uri,
        "openid profile",
        Some(&challenge),
    );
    let refused = Browser::start(&server, "/authorization/v3/oauth-details", plain)
        .await
        .err()
        .unwrap();
    assert_eq!(refused["errors"][0]["errorCode"], "invalid_request");

    let params = vec![
        ("scope", "openid profile".to_owned()),
        ("response_type", "code".to_owned()),
        ("redirect_uri", rp.redirect_uri.clone()),
        ("state", "fapi-state".to_owned()),
        ("nonce", crate::harness::uuid()),
        ("acr_values", "mosip:idp:acr:static-code".to_owned()),
        (
            "claims",
            json!({"userinfo": {"name": {"essential": true}, "phone_number": null}}).to_string(),
        ),
        ("claims_locales", "en km".to_owned()),
        ("code_challenge", challenge.clone()),
        ("code_challenge_method", "S256".to_owned()),
    ];
    let (status, headers, pushed) = rp.par(&params, Some(&dpop_key)).await;
    assert_eq!(status, 201, "{pushed}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(pushed["expires_in"], 60);
    // RFC 9449 §8: the PAR response already carries a server nonce for the proof's key.
    let par_nonce = headers["dpop-nonce"].to_str().unwrap().to_owned();
    assert!(!par_nonce.is_empty());
    let request_uri = pushed["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    let browser = Browser::start(
        &server,
        "/authorization/par-oauth-details",
        json!({"clientId": rp.client_id, "requestUri": request_uri}),
    )
    .await
    .unwrap();
    assert_eq!(
        browser.details["authFactors"],
        json!([[{"type": "PIN", "count": 0, "subTypes": null}]])
    );
    let authenticated = browser
        .authenticate(SREYMOM, "PIN", "739201", "number")
        .await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let code = browser.auth_code(&["name", "phone_number"], &[]).await["response"]["code"]
        .as_str()
        .unwrap()
        .to_owned();

    // The request URI is single use.
    let reused = Browser::start(
        &server,
        "/authorization/par-oauth-details",
        json!({"clientId": rp.client_id, "requestUri": request_uri}),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(reused["errors"][0]["errorCode"], "invalid_request");

    // A token call without a nonce draws a challenge (the PAR nonce would have avoided it).
    let proof = dpop_proof(&dpop_key, "POST", &server.token_endpoint(), None, None);
    let (status, headers, body) = rp.token(&code, Some(&verifier), Some(proof)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("use_dpop_nonce")),
        "{body}"
    );
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_owned();
    // A proof from another key is refused: the code is bound to the PAR key.
    let other = new_ec_key();
    let proof = dpop_proof(&other, "POST", &server.token_endpoint(), Some(&nonce), None);
    let (status, _, body) = rp.token(&code, Some(&verifier), Some(proof)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{body}"
    );
    let proof = dpop_proof(
        &dpop_key,
        "POST",
        &server.token_endpoint(),
        Some(&nonce),
        None,
    );
    let (status, headers, tokens) = rp.token(&code, Some(&verifier), Some(proof)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
    assert_eq!(
        tokens["expires_in"], 600,
        "consent_expire_in_mins caps the lifetime"
    );
    let set = jwks(&server).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let (_, at_claims) = verify_jws(&set, access_token, Some(&rp.client_id));
    assert_eq!(at_claims["cnf"]["jkt"], json!(thumbprint(&dpop_key)));
    let userinfo_nonce = headers["dpop-nonce"].to_str().unwrap().to_owned();

    // Bearer use of a DPoP-bound token is refused.
    let (status, headers, _) = rp.userinfo(&format!("Bearer {access_token}"), None).await;
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let proof = dpop_proof(
        &dpop_key,
        "GET",
        &server.userinfo_endpoint(),
        Some(&userinfo_nonce),
        Some(access_token),
    );
    let (status, headers, body) = rp
        .userinfo(&format!("DPoP {access_token}"), Some(proof))
        .await;
    assert_eq!(status, 200, "{body} {headers:?}");
    assert_eq!(body.split('.').count(), 5, "userinfo is a compact JWE");
    let inner = decrypt_jwe(&rp.key, &body);
    let (_, claims) = verify_jws(&set, &inner, Some(&rp.client_id));
    assert_eq!(claims["name#en"], "Chan Sreymom");
    assert_eq!(claims["name#km"], "ចាន់ ស្រីមុំ");
    assert_eq!(claims["phone_number"], "+85512345678");
    assert_eq!(claims["sub"], at_claims["sub"]);
}

#[tokio::test]
async fn verified_claims_are_released_with_their_verification() {
    let server = Server::start(&[]).await;
    let key = new_rsa_key();
    server.register_client("ia-client", json!({}), &key).await;
    let rp = Rp {
        server: &server,
        client_id: "ia-client".into(),
        key,
        redirect_uri: "https://rp.example/wild/done".into(),
    };
    let (verifier, challenge) = pkce_pair();
    let mut request =
        authorize_request(&rp.client_id, &rp.redirect_uri, "openid", Some(&challenge));
    request["claims"] = json!({"userinfo": {
        "email": null,
        "verified_claims": {
            "verification": {"trust_framework": {"value": "eidas"}},
            "claims": {"name": {"essential": true, "purpose": "To open your account"}, "birthdate": null}
        }
    }});
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    assert_eq!(browser.details["essentialClaims"], json!(["name"]));
    let authenticated = browser.otp_login(MANSOUR).await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let statuses = browser.claim_details().await;
    let status_of = |claim: &str| {
        statuses["response"]["claimStatus"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["claim"] == claim)
            .cloned()
            .unwrap()
    };
    assert_eq!(status_of("name")["verified"], true, "{statuses}");
    assert_eq!(statuses["response"]["profileUpdateRequired"], false);
    // claim-details is served once per transaction.
    assert_eq!(
        browser.claim_details().await["errors"][0]["errorCode"],
        "no_attempts_left"
    );
    let code = browser
        .auth_code(&["name", "birthdate", "email"], &[])
        .await["response"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, tokens) = rp.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    let (_, _, userinfo) = rp
        .userinfo(
            &format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
            None,
        )
        .await;
    let (_, claims) = verify_jws(&jwks(&server).await, &userinfo, None);
    let verified: &Value = &claims["verified_claims"];
    assert!(verified.is_array(), "{claims}");
    let entry = &verified[0];
    assert_eq!(entry["verification"]["trust_framework"], "eidas");
    assert_eq!(entry["claims"]["name"], "Siddharth Kumar Mansour");
    assert!(entry["claims"]["birthdate"].is_string());
    assert!(
        claims.get("name").is_none(),
        "verified claims are not repeated at the top level"
    );
    assert_eq!(claims["email"], "siddharth.mansour@example.com");
}

#[tokio::test]
async fn fapi2_server_profile_forces_par_dpop_and_pkce_for_every_client() {
    let server = Server::start(&[("ESIGNET_SERVER__PROFILE", "fapi2.0")]).await;
    let discovery: Value = server
        .http
        .get(format!("{}/.well-known/openid-configuration", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["require_pushed_authorization_requests"], true);
    let rp = Rp {
        server: &server,
        client_id: "health-services-demo".into(),
        key: server.demo_client_key(),
        redirect_uri: "http://127.0.0.1:8090/callback".into(),
    };
    // The demo client has no FAPI flags of its own: the profile alone refuses plain requests.
    let (_, challenge) = pkce_pair();
    let plain = authorize_request(&rp.client_id, &rp.redirect_uri, "openid", Some(&challenge));
    let refused = Browser::start(&server, "/authorization/v3/oauth-details", plain)
        .await
        .err()
        .unwrap();
    assert_eq!(refused["errors"][0]["errorCode"], "invalid_request");
    // A pushed request without PKCE is refused when the transaction starts.
    let params = vec![
        ("scope", "openid".to_owned()),
        ("response_type", "code".to_owned()),
        ("redirect_uri", rp.redirect_uri.clone()),
    ];
    let (status, _, pushed) = par_to_issuer(&rp, &params).await;
    assert_eq!(status, 201, "{pushed}");
    let no_pkce = Browser::start(
        &server,
        "/authorization/par-oauth-details",
        json!({"clientId": rp.client_id, "requestUri": pushed["request_uri"]}),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(no_pkce["errors"][0]["errorCode"], "invalid_pkce_challenge");
    // With PKCE the login proceeds, and the token call demands DPoP.
    let (verifier, challenge) = pkce_pair();
    let mut params = params.clone();
    params.push(("code_challenge", challenge));
    params.push(("code_challenge_method", "S256".to_owned()));
    let (_, _, pushed) = par_to_issuer(&rp, &params).await;
    let browser = Browser::start(
        &server,
        "/authorization/par-oauth-details",
        json!({"clientId": rp.client_id, "requestUri": pushed["request_uri"]}),
    )
    .await
    .unwrap();
    assert_eq!(browser.otp_login("7704215589").await["errors"], json!([]));
    let code = browser.auth_code(&[], &[]).await["response"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, body) = token_to_issuer(&rp, &code, &verifier, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{body}"
    );
    let dpop_key = new_ec_key();
    let proof = dpop_proof(&dpop_key, "POST", &server.token_endpoint(), None, None);
    let (_, headers, _) = token_to_issuer(&rp, &code, &verifier, Some(proof)).await;
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_owned();
    let proof = dpop_proof(
        &dpop_key,
        "POST",
        &server.token_endpoint(),
        Some(&nonce),
        None,
    );
    // FAPI 2.0 §5.3.2.1: under the profile only the issuer is an accepted audience.
    let (status, _, body) = rp
        .token(
            &code,
            Some(&verifier),
            Some(dpop_proof(
                &dpop_key,
                "POST",
                &server.token_endpoint(),
                Some(&nonce),
                None,
            )),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client")),
        "{body}"
    );
    let (status, _, tokens) = token_to_issuer(&rp, &code, &verifier, Some(proof)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
}

/// PAR with the assertion audience FAPI 2.0 requires: the issuer.
async fn par_to_issuer(
    rp: &Rp<'_>,
    params: &[(&str, String)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut form = params.to_vec();
    form.push(("client_id", rp.client_id.clone()));
    form.push(("client_assertion_type", JWT_BEARER.to_owned()));
    form.push((
        "client_assertion",
        client_assertion(&rp.key, &rp.client_id, &rp.server.base),
    ));
    rp.post_form(&rp.server.par_endpoint(), &form, None).await
}

/// The token call with the issuer as the assertion audience.
async fn token_to_issuer(
    rp: &Rp<'_>,
    code: &str,
    verifier: &str,
    dpop: Option<String>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("redirect_uri", rp.redirect_uri.clone()),
        ("client_id", rp.client_id.clone()),
        ("code_verifier", verifier.to_owned()),
        ("client_assertion_type", JWT_BEARER.to_owned()),
        (
            "client_assertion",
            client_assertion(&rp.key, &rp.client_id, &rp.server.base),
        ),
    ];
    rp.post_form(&rp.server.token_endpoint(), &form, dpop).await
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
