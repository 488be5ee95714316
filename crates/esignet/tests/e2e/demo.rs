//! `esignet demo` end to end: the provider, the mock identity system (over HTTP) and the demo
//! relying party, driven exactly as a browser would with one cookie jar: the RP's sign-in
//! button, the login page's API calls, the redirect back, and the profile page.

use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

use crate::harness::{Server, free_port};
use crate::login::{csrf_headers, csrf_token, details_hash};

pub(crate) struct Demo {
    pub(crate) server: Server,
    pub(crate) rp: String,
}

pub(crate) async fn start_demo() -> Demo {
    start_demo_with(&[]).await
}

/// `esignet demo` with extra `ESIGNET_*` variables.
pub(crate) async fn start_demo_with(extra_env: &[(&str, &str)]) -> Demo {
    start_demo_logging_to(extra_env, None).await
}

/// [`start_demo_with`], the instance's output written to `log`.
pub(crate) async fn start_demo_logging_to(
    extra_env: &[(&str, &str)],
    log: Option<std::fs::File>,
) -> Demo {
    let rp_port = free_port();
    let identity_port = free_port();
    let rp = format!("http://127.0.0.1:{rp_port}");
    let redirect = format!("[\"{rp}/**\"]");
    let identity_bind = format!("127.0.0.1:{identity_port}");
    let rp_bind = format!("127.0.0.1:{rp_port}");
    let server = Server::launch_logging_to(
        &[
            "demo",
            "--identity-bind",
            &identity_bind,
            "--rp-bind",
            &rp_bind,
        ],
        tempfile::tempdir().unwrap(),
        &[
            &[("ESIGNET_DEMO__REDIRECT_URIS", redirect.as_str())],
            extra_env,
        ]
        .concat(),
        log,
    )
    .await;
    // The portal starts after the provider; wait for it too.
    for _ in 0..200 {
        if server
            .http
            .get(&rp)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Demo { server, rp }
}

/// What the login page's script does with an `/authorize` URL: oauth-details (or
/// par-oauth-details), then the factor, then consent; returns the URL the browser is sent to.
async fn log_in(
    demo: &Demo,
    authorize: &Url,
    individual: &str,
    factor: (&str, &str, &str),
) -> String {
    let server = &demo.server;
    let page = server.http.get(authorize.as_str()).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "the login page is served at /authorize"
    );
    let params: std::collections::HashMap<String, String> =
        authorize.query_pairs().into_owned().collect();
    let csrf = csrf_token(server).await;
    let (path, request) = if let Some(request_uri) = params.get("request_uri") {
        (
            "/authorization/par-oauth-details",
            json!({"clientId": params["client_id"], "requestUri": request_uri}),
        )
    } else {
        let mut request = json!({
            "clientId": params["client_id"], "redirectUri": params["redirect_uri"], "responseType": params["response_type"],
            "scope": params["scope"], "nonce": params["nonce"], "state": params["state"],
            "acrValues": params.get("acr_values"), "claimsLocales": params.get("claims_locales"),
            "codeChallenge": params.get("code_challenge"), "codeChallengeMethod": params.get("code_challenge_method"),
        });
        if let Some(claims) = params.get("claims") {
            request["claims"] = serde_json::from_str(claims).unwrap();
        }
        // The UI drops null parameters.
        request.as_object_mut().unwrap().retain(|_, v| !v.is_null());
        ("/authorization/v3/oauth-details", request)
    };
    let (_, details) = server
        .post_wrapped(path, request, csrf_headers(&csrf))
        .await;
    assert_eq!(details["errors"], json!([]), "{details}");
    let details = details["response"].clone();
    let transaction_id = details["transactionId"].as_str().unwrap().to_owned();
    let mut headers = csrf_headers(&csrf);
    headers.insert("oauth-details-key", transaction_id.parse().unwrap());
    headers.insert(
        "oauth-details-hash",
        details_hash(&details).parse().unwrap(),
    );
    let (factor_type, challenge, format) = factor;
    if factor_type == "OTP" {
        let (_, sent) = server
            .post_wrapped("/authorization/send-otp", json!({"transactionId": transaction_id, "individualId": individual, "otpChannels": ["phone"]}), headers.clone())
            .await;
        assert_eq!(sent["errors"], json!([]), "{sent}");
    }
    let (_, authenticated) = server
        .post_wrapped(
            "/authorization/v3/authenticate",
            json!({"transactionId": transaction_id, "individualId": individual,
                   "challengeList": [{"authFactorType": factor_type, "challenge": challenge, "format": format}]}),
            headers.clone(),
        )
        .await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let mut accepted: Vec<Value> = details["essentialClaims"].as_array().unwrap().clone();
    accepted.extend(
        details["voluntaryClaims"]
            .as_array()
            .unwrap()
            .iter()
            .cloned(),
    );
    let (_, code) = server
        .post_wrapped(
            "/authorization/auth-code",
            json!({"transactionId": transaction_id, "acceptedClaims": accepted, "permittedAuthorizeScopes": []}),
            headers,
        )
        .await;
    assert_eq!(code["errors"], json!([]), "{code}");
    let code = &code["response"];
    let mut back = Url::parse(code["redirectUri"].as_str().unwrap()).unwrap();
    back.query_pairs_mut()
        .append_pair("state", code["state"].as_str().unwrap_or_default())
        .append_pair("code", code["code"].as_str().unwrap())
        .append_pair("iss", details["configs"]["issuer"].as_str().unwrap());
    back.to_string()
}

/// Clicks a sign-in button on the portal and follows the whole login to the profile page.
pub(crate) async fn sign_in(
    demo: &Demo,
    button: &str,
    individual: &str,
    factor: (&str, &str, &str),
) -> String {
    let http = &demo.server.http;
    let home = http
        .get(&demo.rp)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Sign in with eSignet"));
    let redirect = http
        .post(format!("{}{button}", demo.rp))
        .send()
        .await
        .unwrap();
    assert!(redirect.status().is_redirection(), "{}", redirect.status());
    let authorize = Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    assert!(
        authorize
            .as_str()
            .starts_with(&format!("{}/authorize?", demo.server.base)),
        "{authorize}"
    );
    let callback = log_in(demo, &authorize, individual, factor).await;
    let response = http.get(&callback).send().await.unwrap();
    assert!(
        response.status().is_redirection(),
        "callback: {}",
        response.status()
    );
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let profile_url = if location.starts_with("http") {
        location
    } else {
        format!("{}{location}", demo.rp)
    };
    let profile = http.get(profile_url).send().await.unwrap();
    assert_eq!(profile.status(), StatusCode::OK);
    profile.text().await.unwrap()
}

#[tokio::test]
async fn demo_login_shows_the_profile_for_two_residents_and_two_factors() {
    let demo = start_demo().await;
    let profile = sign_in(
        &demo,
        "/login",
        "8267411571",
        ("OTP", "111111", "alpha-numeric"),
    )
    .await;
    assert!(profile.contains("Siddharth Kumar Mansour"), "{profile}");
    assert!(
        profile.contains("dir=\"rtl\""),
        "the Arabic name is shown right to left"
    );
    assert!(profile.contains("سيدهارث"), "the Arabic name is shown");
    assert!(
        profile.contains("data:image/png;base64,"),
        "the photo is shown"
    );
    assert!(
        profile.contains("eidas"),
        "verified claims show their trust framework"
    );

    http_logout(&demo).await;
    let profile = sign_in(
        &demo,
        "/login/par",
        "5860142938",
        ("PIN", "739201", "number"),
    )
    .await;
    assert!(profile.contains("Chan Sreymom"), "{profile}");
    assert!(profile.contains("+85512345678"));
    assert!(profile.contains("nist_800_63A"));
}

#[tokio::test]
async fn demo_relying_party_shows_provider_errors_readably() {
    let demo = start_demo().await;
    let http = &demo.server.http;
    let redirect = http
        .post(format!("{}/login", demo.rp))
        .send()
        .await
        .unwrap();
    let authorize = Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    let params: std::collections::HashMap<String, String> =
        authorize.query_pairs().into_owned().collect();
    // The resident cancels on the consent page: the UI returns access_denied to the RP.
    let mut back = Url::parse(&params["redirect_uri"]).unwrap();
    back.query_pairs_mut()
        .append_pair("error", "access_denied")
        .append_pair("error_description", "The resident declined")
        .append_pair("state", &params["state"]);
    let page = http.get(back.as_str()).send().await.unwrap();
    let body = page.text().await.unwrap();
    assert!(body.contains("access_denied"), "{body}");
}

pub(crate) async fn http_logout(demo: &Demo) {
    let response = demo
        .server
        .http
        .get(format!("{}/logout", demo.rp))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success() || response.status().is_redirection());
}
