//! The OpenID Foundation's eKYC & Identity Assurance test plan (OpenID Connect core variant,
//! `ekyc-server-test-plan`): one test per module, named after it (`EKYCHappyPathTest` →
//! `ekyc_happy_path_test`). Modules that do not apply are listed in docs/compatibility.md
//! (D24). Every test runs a real login over HTTP against the binary and checks the signed
//! userinfo (and ID token) with an independent library.

use serde_json::{Value, json};

use crate::harness::{Server, new_rsa_key};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};
use crate::verify::{jwks, verify_jws};

/// A demo resident whose name and birthdate are verified under `eidas`.
const MANSOUR: &str = "8267411571";

/// The outcome of a login with a `claims` request.
struct Released {
    userinfo: Value,
    id_token: Value,
}

/// Logs the resident in with `claims` as the claims request, accepting every requested
/// claim; `Err` holds the oauth-details error code.
async fn login(server: &Server, claims: Value) -> Result<Released, String> {
    let key = new_rsa_key();
    let client = format!("ekyc-{}", &crate::harness::uuid()[..8]);
    server.register_client(&client, json!({}), &key).await;
    let rp = Rp {
        server,
        client_id: client.clone(),
        key,
        redirect_uri: "https://rp.example/callback".into(),
    };
    let (verifier, challenge) = pkce_pair();
    let mut request =
        authorize_request(&rp.client_id, &rp.redirect_uri, "openid", Some(&challenge));
    request["claims"] = claims;
    let browser = match Browser::start(server, "/authorization/v3/oauth-details", request).await {
        Ok(browser) => browser,
        Err(errors) => {
            return Err(errors["errors"][0]["errorCode"]
                .as_str()
                .unwrap()
                .to_owned());
        }
    };
    let mut accepted: Vec<String> = Vec::new();
    for list in ["essentialClaims", "voluntaryClaims"] {
        for claim in browser.details[list]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            accepted.push(claim.as_str().unwrap().to_owned());
        }
    }
    let authenticated = browser.otp_login(MANSOUR).await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let accepted: Vec<&str> = accepted.iter().map(String::as_str).collect();
    let answer = browser.auth_code(&accepted, &[]).await;
    assert_eq!(answer["errors"], json!([]), "{answer}");
    let code = answer["response"]["code"].as_str().unwrap();
    let (status, _, tokens) = rp.token(code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    let set = jwks(server).await;
    let (_, id_token) = verify_jws(&set, tokens["id_token"].as_str().unwrap(), Some(&client));
    let (status, _, body) = rp
        .userinfo(
            &format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, userinfo) = verify_jws(&set, &body, None);
    Ok(Released { userinfo, id_token })
}

fn verified(claims: Value) -> Value {
    json!({"userinfo": {"verified_claims": {
        "verification": {"trust_framework": null},
        "claims": claims,
    }}})
}

/// The first `verified_claims` entry of the userinfo.
fn first_verified(released: &Released) -> &Value {
    let entries = &released.userinfo["verified_claims"];
    if entries.is_array() {
        &entries[0]
    } else {
        entries
    }
}

#[tokio::test]
async fn ekyc_happy_path_test() {
    let server = Server::start(&[]).await;
    let released = login(
        &server,
        json!({"userinfo": {"verified_claims": {
            "verification": {"trust_framework": {"value": "eidas"}},
            "claims": {"name": null, "birthdate": null},
        }}}),
    )
    .await
    .unwrap();
    let entry = first_verified(&released);
    assert_eq!(entry["verification"]["trust_framework"], "eidas");
    assert_eq!(entry["claims"]["name"], "Siddharth Kumar Mansour");
    assert!(entry["claims"]["birthdate"].is_string(), "{entry}");
}

#[tokio::test]
async fn ekyc_happy_path_test_empty_objects() {
    // `{}` asks for a claim the same way `null` does (IA §6.3).
    let server = Server::start(&[]).await;
    let released = login(
        &server,
        json!({"userinfo": {"verified_claims": {
            "verification": {"trust_framework": {}},
            "claims": {"name": {}},
        }}}),
    )
    .await
    .unwrap();
    assert_eq!(
        first_verified(&released)["claims"]["name"],
        "Siddharth Kumar Mansour"
    );
}

#[tokio::test]
async fn ekyc_happy_path_test_essential_false() {
    let server = Server::start(&[]).await;
    let released = login(&server, verified(json!({"name": {"essential": false}})))
        .await
        .unwrap();
    assert_eq!(
        first_verified(&released)["claims"]["name"],
        "Siddharth Kumar Mansour"
    );
}

/// A request of `name` plus `unknown`: the login works, `name` is released and the unknown
/// claim is left out (IA §6.3: the OP ignores claims it does not know).
async fn unknown_claim_is_ignored(unknown: Value) {
    let server = Server::start(&[]).await;
    let mut claims = json!({"name": null});
    for (name, request) in unknown.as_object().unwrap() {
        claims[name] = request.clone();
    }
    let released = login(&server, verified(claims)).await.unwrap();
    let entry = first_verified(&released);
    assert_eq!(entry["claims"]["name"], "Siddharth Kumar Mansour");
    for name in unknown.as_object().unwrap().keys() {
        assert!(entry["claims"].get(name).is_none(), "{entry}");
        assert!(released.userinfo.get(name).is_none());
    }
}

#[tokio::test]
async fn ekyc_request_claim_unknown_to_the_op() {
    unknown_claim_is_ignored(json!({"favourite_colour_unknown": null})).await;
}

#[tokio::test]
async fn ekyc_request_claim_with_special_chars_unknown_to_the_op() {
    unknown_claim_is_ignored(json!({"claim:with/special#chars ünïcode": null})).await;
}

#[tokio::test]
async fn ekyc_request_essential_claim_unknown_to_the_op() {
    unknown_claim_is_ignored(json!({"shoe_size_unknown": {"essential": true}})).await;
}

#[tokio::test]
async fn ekyc_request_claim_with_random_value_must_be_omitted() {
    // A trust framework the resident's evidence does not match: no verified claims for it.
    let server = Server::start(&[]).await;
    let released = login(
        &server,
        json!({"userinfo": {"verified_claims": {
            "verification": {"trust_framework": {"value": "random-framework-5f1c"}},
            "claims": {"name": null},
        }}}),
    )
    .await
    .unwrap();
    let entries = &released.userinfo["verified_claims"];
    assert!(
        entries.is_null() || entries.as_array().is_some_and(Vec::is_empty),
        "{}",
        released.userinfo
    );
    // The mock identity systems, like eSignet's mock plugin, then release the consented
    // claim as a plain (unverified) claim; the plan wants it omitted (docs/compatibility.md,
    // D24). What must hold: nothing is presented as verified under a framework not asked for.
    assert_eq!(released.userinfo["name"], "Siddharth Kumar Mansour");
}

#[tokio::test]
async fn ekyc_request_verified_claims_only_in_userinfo() {
    let server = Server::start(&[]).await;
    let released = login(&server, verified(json!({"name": null})))
        .await
        .unwrap();
    assert!(first_verified(&released)["claims"]["name"].is_string());
    assert!(released.id_token.get("verified_claims").is_none());
}

#[tokio::test]
async fn ekyc_test_userinfo_contains_data_not_advertised_in_op_metadata() {
    // Everything released must be advertised: the trust framework and each claim name.
    let server = Server::start(&[]).await;
    let metadata: Value = server
        .http
        .get(server.url("/oidc/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["verified_claims_supported"], true);
    let released = login(&server, verified(json!({"name": null, "birthdate": null})))
        .await
        .unwrap();
    let entry = first_verified(&released);
    let advertised = |field: &str, value: &Value| {
        metadata[field]
            .as_array()
            .is_some_and(|values| values.contains(value))
    };
    assert!(
        advertised(
            "trust_frameworks_supported",
            &entry["verification"]["trust_framework"]
        ),
        "{metadata}"
    );
    for name in entry["claims"].as_object().unwrap().keys() {
        assert!(
            advertised("claims_in_verified_claims_supported", &json!(name)),
            "{name}"
        );
    }
}

#[tokio::test]
async fn ekyc_test_userinfo_defaults() {
    // Nothing asked as verified: nothing released as verified.
    let server = Server::start(&[]).await;
    let released = login(&server, json!({"userinfo": {"name": null}}))
        .await
        .unwrap();
    assert!(released.userinfo.get("verified_claims").is_none());
    assert_eq!(released.userinfo["name"], "Siddharth Kumar Mansour");
}

#[tokio::test]
async fn ekyc_too_long_purpose_leads_to_invalid_request_response() {
    let server = Server::start(&[]).await;
    let error = login(
        &server,
        verified(json!({"name": {"purpose": "p".repeat(301)}})),
    )
    .await
    .err()
    .expect("a purpose over 300 characters is refused");
    assert_eq!(error, "invalid_purpose");
}

#[tokio::test]
async fn ekyc_too_short_purpose_leads_to_invalid_request_response() {
    let server = Server::start(&[]).await;
    let error = login(&server, verified(json!({"name": {"purpose": "ab"}})))
        .await
        .err()
        .expect("a purpose under 3 characters is refused");
    assert_eq!(error, "invalid_purpose");
}
