//! TEMPORARY smoke test against the real provider binary; deleted before hand-off.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::sync::Arc;
use std::time::Duration;

use esignet_demo_rp::DemoRpConfig;
use esignet_spi::SystemClock;
use reqwest::header::{HeaderMap, LOCATION};
use serde_json::{Value, json};

fn ts() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap()
}

async fn wrapped(http: &reqwest::Client, url: String, request: Value, headers: HeaderMap) -> Value {
    http.post(url)
        .headers(headers)
        .json(&json!({"requestTime": ts(), "request": request}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn login_at_provider(base: &str, location: &str, id: &str) -> (String, String) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let api = |p: &str| format!("{base}/v1/esignet{p}");
    let csrf: Value = http
        .get(api("/csrf/token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = csrf["token"].as_str().unwrap().to_owned();
    let mut h = HeaderMap::new();
    h.insert("X-XSRF-TOKEN", csrf.parse().unwrap());
    let url = url::Url::parse(location).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let details = if let Some(uri) = q.get("request_uri") {
        wrapped(
            &http,
            api("/authorization/par-oauth-details"),
            json!({"clientId": q["client_id"], "requestUri": uri}),
            h.clone(),
        )
        .await
    } else {
        let mut r = json!({
            "clientId": q["client_id"], "scope": q["scope"], "responseType": "code",
            "redirectUri": q["redirect_uri"], "acrValues": q["acr_values"], "nonce": q["nonce"],
            "state": q["state"], "claimsLocales": q["claims_locales"],
            "claims": serde_json::from_str::<Value>(&q["claims"]).unwrap(),
            "codeChallenge": q["code_challenge"], "codeChallengeMethod": q["code_challenge_method"],
        });
        r["display"] = json!("page");
        wrapped(&http, api("/authorization/v3/oauth-details"), r, h.clone()).await
    };
    assert_eq!(details["errors"], json!([]), "{details}");
    let resp = details["response"].clone();
    let tx = resp["transactionId"].as_str().unwrap().to_owned();
    let hash = esignet_jose::sha256_b64url(serde_json::to_string(&resp).unwrap().as_bytes());
    h.insert("oauth-details-key", tx.parse().unwrap());
    h.insert("oauth-details-hash", hash.parse().unwrap());
    let sent = wrapped(
        &http,
        api("/authorization/send-otp"),
        json!({"transactionId": tx, "individualId": id, "otpChannels": ["email","phone"]}),
        h.clone(),
    )
    .await;
    assert_eq!(sent["errors"], json!([]), "{sent}");
    let auth = wrapped(&http, api("/authorization/v3/authenticate"), json!({"transactionId": tx, "individualId": id, "challengeList": [{"authFactorType": "OTP", "challenge": "111111", "format": "alpha-numeric"}]}), h.clone()).await;
    assert_eq!(auth["errors"], json!([]), "{auth}");
    let mut accepted: Vec<Value> = resp["essentialClaims"].as_array().unwrap().clone();
    accepted.extend(resp["voluntaryClaims"].as_array().unwrap().iter().cloned());
    let code = wrapped(
        &http,
        api("/authorization/auth-code"),
        json!({"transactionId": tx, "acceptedClaims": accepted, "permittedAuthorizeScopes": []}),
        h.clone(),
    )
    .await;
    assert_eq!(code["errors"], json!([]), "{code}");
    (
        code["response"]["code"].as_str().unwrap().to_owned(),
        code["response"]["state"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn smoke() {
    let bin = std::env::var("RP_SMOKE_BIN").unwrap();
    let data = tempfile::tempdir().unwrap();
    let base = "http://127.0.0.1:18088";
    let mut child = std::process::Command::new(bin)
        .arg("serve").env_remove("RP_SMOKE_BIN")
        .env("ESIGNET_SERVER__BIND", "127.0.0.1:18088")
        .env("ESIGNET_SERVER__PUBLIC_URL", base)
        .env("ESIGNET_DATA__DIR", data.path())
        .env("ESIGNET_LOG", "warn")
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("{base}/v1/esignet/actuator/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let config = DemoRpConfig {
        esignet_url: base.into(),
        private_key_file: data.path().join("demo-client-key.json"),
        ..DemoRpConfig::default()
    };
    let router = esignet_demo_rp::build(config, Arc::new(SystemClock))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8090")
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (path, id) in [
        ("/login", "8267411571"),
        ("/login/par", "5860142938"),
        ("/login", "7704215589"),
    ] {
        let pressed = browser
            .post(format!("http://127.0.0.1:8090{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(pressed.status(), 303, "{}", pressed.text().await.unwrap());
        let location = pressed.headers()[LOCATION].to_str().unwrap().to_owned();
        println!("authorize: {location}");
        let (code, state) = login_at_provider(base, &location, id).await;
        let cb = browser
            .get("http://127.0.0.1:8090/callback")
            .query(&[
                ("code", code.as_str()),
                ("state", state.as_str()),
                ("iss", base),
            ])
            .send()
            .await
            .unwrap();
        let status = cb.status();
        let body = cb.text().await.unwrap();
        assert_eq!(status, 303, "{body}");
        let profile = browser
            .get("http://127.0.0.1:8090/profile")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let start = profile.find("<h1>Your profile").unwrap();
        let end = profile.find("<details>").unwrap();
        println!("==== {path} {id}\n{}", &profile[start..end]);
        let raw_start = profile.find("<pre>").unwrap();
        println!(
            "RAW: {}",
            &profile[raw_start..profile.find("</pre>").unwrap()]
        );
    }
    let _ = child.kill();
}
