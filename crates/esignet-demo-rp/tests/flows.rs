//! The portal over real HTTP against a fake OpenID provider: both sign-in paths, JWE userinfo,
//! and the failures a relying party must catch (state, issuer, provider errors, forged tokens).
// Test support code panics on purpose when the system under test misbehaves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake_op;

use std::collections::HashMap;
use std::sync::Arc;

use esignet_demo_rp::DemoRpConfig;
use esignet_jose::PrivateKey;
use esignet_spi::{Clock, ManualClock, SystemClock};
use fake_op::{Behaviour, FakeOp};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};

const CLIENT_ID: &str = "health-services-demo";

/// A running portal and a browser (cookie jar, no automatic redirects) pointed at it.
struct Portal {
    base: String,
    browser: reqwest::Client,
    _key_dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A client key written as the provider writes `demo-client-key.json`.
fn client_key(dir: &std::path::Path) -> (PrivateKey, std::path::PathBuf) {
    let key = PrivateKey::generate_rsa(2048).unwrap();
    let mut jwk = key.private_jwk_json().unwrap();
    jwk["kid"] = json!(key.public_jwk().thumbprint());
    jwk["alg"] = json!("RS256");
    jwk["use"] = json!("sig");
    let path = dir.join("demo-client-key.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&jwk).unwrap()).unwrap();
    (key, path)
}

/// Starts a fake provider and a portal configured for it.
async fn start_with_clock(clock: Arc<dyn Clock>) -> (FakeOp, Portal) {
    let dir = tempfile::tempdir().unwrap();
    let (key, key_file) = client_key(dir.path());
    let op = FakeOp::start(CLIENT_ID, key.public_jwk()).await;
    let portal = start_portal(op.issuer(), key_file, dir, clock).await;
    (op, portal)
}

async fn start() -> (FakeOp, Portal) {
    start_with_clock(Arc::new(SystemClock)).await
}

async fn start_portal(
    esignet_url: &str,
    private_key_file: std::path::PathBuf,
    key_dir: tempfile::TempDir,
    clock: Arc<dyn Clock>,
) -> Portal {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = DemoRpConfig {
        public_url: base.clone(),
        esignet_url: esignet_url.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        private_key_file,
        ..DemoRpConfig::default()
    };
    let router = esignet_demo_rp::build(config, clock).await.unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Portal {
        base,
        browser: browser(),
        _key_dir: key_dir,
        task,
    }
}

impl Portal {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.browser
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// Presses a sign-in button; returns the response (a redirect to the provider).
    async fn press(&self, path: &str) -> reqwest::Response {
        self.browser
            .post(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// The provider's redirect back to the portal.
    async fn callback(&self, params: &[(&str, &str)]) -> reqwest::Response {
        let url = url::Url::parse_with_params(&format!("{}/callback", self.base), params).unwrap();
        self.browser.get(url).send().await.unwrap()
    }

    /// A whole sign-in through button `path`; returns the callback response.
    async fn sign_in(&self, op: &FakeOp, path: &str) -> reqwest::Response {
        let pressed = self.press(path).await;
        assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
        let authorized = op.authorize(location(&pressed));
        self.callback(&[
            ("code", &authorized.code),
            ("state", &authorized.state),
            ("iss", op.issuer()),
        ])
        .await
    }
}

fn location(response: &reqwest::Response) -> &str {
    response.headers()[LOCATION].to_str().unwrap()
}

fn set_cookie(response: &reqwest::Response) -> String {
    response.headers()[SET_COOKIE].to_str().unwrap().to_owned()
}

/// Asserts an error page with `status` showing `code`, and returns its HTML.
async fn expect_error_page(response: reqwest::Response, status: StatusCode, code: &str) -> String {
    assert_eq!(response.status(), status);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains("<h1 id=\"failed\">Sign-in failed</h1>"),
        "{html}"
    );
    assert!(html.contains(&format!("<code>{code}</code>")), "{html}");
    assert!(
        !html.contains("panicked") && !html.contains("src/"),
        "{html}"
    );
    html
}

#[tokio::test]
async fn plain_login_shows_the_profile_with_escaped_claims() {
    let (op, portal) = start().await;
    let landing = portal.get("/").await;
    assert_eq!(landing.status(), StatusCode::OK);
    let csp = landing.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = landing.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains(">Sign in with eSignet</button>"));
    assert!(html.contains(">Sign in with eSignet (PAR + DPoP)</button>"));
    let logo = portal.get("/logo.svg").await;
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");
    assert!(logo.text().await.unwrap().starts_with("<svg"));

    let pressed = portal.press("/login").await;
    assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&pressed);
    assert!(cookie.starts_with("esignet_demo_rp_session="), "{cookie}");
    assert!(
        cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        cookie.contains("; Path=/") && !cookie.contains("Secure"),
        "{cookie}"
    );
    let authorized = op.authorize(location(&pressed));
    let params = &authorized.params;
    assert_eq!(params["redirect_uri"], format!("{}/callback", portal.base));
    assert_eq!(params["scope"], "openid profile");
    assert_eq!(params["code_challenge"].len(), 43);
    assert!(params["nonce"].len() >= 32 && params["state"].len() >= 32);
    assert!(params["acr_values"].starts_with("mosip:idp:acr:generated-code "));
    assert_eq!(params["claims_locales"], "en fr ar");
    assert!(!params.contains_key("ui_locales"));
    let claims: Value = serde_json::from_str(&params["claims"]).unwrap();
    assert_eq!(claims["userinfo"]["name"], json!({"essential": true}));

    let query = [
        ("code", authorized.code.as_str()),
        ("state", authorized.state.as_str()),
        ("iss", op.issuer()),
    ];
    let finished = portal.callback(&query).await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&finished), "/profile");
    assert_ne!(
        set_cookie(&finished),
        cookie,
        "the session id is rotated at sign-in"
    );

    let profile = portal.get("/profile").await;
    assert_eq!(profile.status(), StatusCode::OK);
    assert_eq!(profile.headers()["cache-control"], "no-store");
    let html = profile.text().await.unwrap();
    assert!(html.contains("Siddharth &lt;script&gt;alert(1)&lt;/script&gt; Mansour"));
    assert!(
        !html.contains("<script"),
        "no claim value reaches the page unescaped"
    );
    assert!(html.contains("<img class=\"photo\" src=\"data:image/png;base64,iVBORw0KGgo"));
    assert!(
        html.contains("<span lang=\"ar\" dir=\"rtl\">سيدهارث منصور</span>"),
        "{html}"
    );
    assert!(html.contains("<span lang=\"fr\">Siddharth Mansour</span>"));
    assert!(html.contains("sid&amp;dharth@example.com"));
    assert!(html.contains("12 Palm Street, Chennai, 600001, India"));
    assert!(html.contains("<dt>Trust framework</dt><dd>eidas</dd>"));
    assert!(html.contains("<dt>Assurance level</dt><dd>substantial</dd>"));
    assert!(html.contains("document; method pipp; document idcard"));
    assert!(html.contains("Date of birth"));
    assert!(html.contains("<summary>Raw claims</summary>"));
    assert!(html.contains("mosip:idp:acr:generated-code"));
    let log = op.log();
    assert_eq!((log.token_calls, log.userinfo_calls), (1, 1));
    assert_eq!(log.token_type.as_deref(), Some("Bearer"));
    assert!(log.refusals.is_empty(), "{:?}", log.refusals);

    // The landing page knows the resident; the same response cannot be used twice.
    let landing = portal.get("/").await.text().await.unwrap();
    assert!(landing.contains("You are signed in"));
    expect_error_page(
        portal.callback(&query).await,
        StatusCode::BAD_REQUEST,
        "invalid_state",
    )
    .await;
    assert_eq!(op.log().token_calls, 1);

    let logout = portal.get("/logout").await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&logout).contains("Max-Age=0"));
    let after = portal.get("/profile").await;
    assert_eq!(
        (after.status(), location(&after)),
        (StatusCode::SEE_OTHER, "/")
    );
}

#[tokio::test]
async fn par_and_dpop_login_retries_the_nonce_challenges() {
    let (op, portal) = start().await;
    op.set(Behaviour {
        nonce_at_token: true,
        nonce_at_userinfo: true,
        ..Behaviour::default()
    });
    let pressed = portal.press("/login/par").await;
    assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
    let url = url::Url::parse(location(&pressed)).unwrap();
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let mut keys: Vec<&str> = query.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["client_id", "request_uri"],
        "the request itself was pushed"
    );
    let log = op.log();
    assert_eq!(log.par_calls, 1);
    assert!(log.par_dpop_jkt.is_some(), "the PAR carried a DPoP proof");

    let authorized = op.authorize(location(&pressed));
    assert_eq!(authorized.params["claims_locales"], "en fr ar");
    let finished = portal
        .callback(&[
            ("code", &authorized.code),
            ("state", &authorized.state),
            ("iss", op.issuer()),
        ])
        .await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER, "{:?}", op.log());
    let html = portal.get("/profile").await.text().await.unwrap();
    assert!(html.contains("Pushed authorization request (PAR), PKCE and DPoP"));
    assert!(html.contains("<dt>Token type</dt><dd>DPoP</dd>"));
    assert!(html.contains("sid&amp;dharth@example.com"));
    let log = op.log();
    assert_eq!(log.token_calls, 2, "one nonce challenge, one retry");
    assert_eq!(log.userinfo_calls, 2, "one nonce challenge, one retry");
    assert_eq!(log.nonce_challenges, 2);
    assert_eq!(log.token_type.as_deref(), Some("DPoP"));
    assert!(log.refusals.is_empty(), "{:?}", log.refusals);
}

#[tokio::test]
async fn the_verified_details_sign_in_asks_for_an_essential_verified_name() {
    let (op, portal) = start().await;
    let landing = portal.get("/").await.text().await.unwrap();
    assert!(landing.contains("action=\"/login/verified\""));
    assert!(landing.contains(">Sign in with verified details</button>"));

    let pressed = portal.press("/login/verified").await;
    assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
    let authorized = op.authorize(location(&pressed));
    let claims: Value = serde_json::from_str(&authorized.params["claims"]).unwrap();
    let verified = &claims["userinfo"]["verified_claims"];
    assert_eq!(verified["claims"]["name"], json!({"essential": true}));
    assert_eq!(verified["verification"], json!({"trust_framework": null}));
    assert!(
        claims["userinfo"].get("name").is_none(),
        "the name is asked for as a verified claim only: {claims}"
    );
    assert!(!authorized.params.contains_key("request_uri"), "no PAR");

    let finished = portal
        .callback(&[
            ("code", &authorized.code),
            ("state", &authorized.state),
            ("iss", op.issuer()),
        ])
        .await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER);
    let html = portal.get("/profile").await.text().await.unwrap();
    assert!(html.contains("Authorization code with PKCE, verified claims required"));
    assert!(html.contains("<dt>Trust framework</dt><dd>eidas</dd>"));
    assert_eq!(op.log().token_type.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn encrypted_userinfo_is_decrypted_and_verified() {
    let (op, portal) = start().await;
    op.set(Behaviour {
        userinfo_jwe: true,
        ..Behaviour::default()
    });
    let finished = portal.sign_in(&op, "/login").await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER);
    let html = portal.get("/profile").await.text().await.unwrap();
    assert!(html.contains("<span lang=\"ar\" dir=\"rtl\">سيدهارث منصور</span>"));
}

#[tokio::test]
async fn a_state_from_elsewhere_is_refused_before_any_token_request() {
    let (op, portal) = start().await;
    let pressed = portal.press("/login").await;
    let authorized = op.authorize(location(&pressed));
    let wrong = portal
        .callback(&[
            ("code", &authorized.code),
            ("state", "forged"),
            ("iss", op.issuer()),
        ])
        .await;
    expect_error_page(wrong, StatusCode::BAD_REQUEST, "invalid_state").await;
    // The right state in another browser (no session cookie) is refused too.
    let other_browser = browser()
        .get(format!("{}/callback", portal.base))
        .query(&[("code", &authorized.code), ("state", &authorized.state)])
        .send()
        .await
        .unwrap();
    expect_error_page(other_browser, StatusCode::BAD_REQUEST, "invalid_state").await;
    assert_eq!(op.log().token_calls, 0);
}

#[tokio::test]
async fn a_provider_error_is_shown_readably() {
    let (op, portal) = start().await;
    let pressed = portal.press("/login").await;
    let authorized = op.authorize(location(&pressed));
    let response = portal
        .callback(&[
            ("error", "access_denied"),
            ("error_description", "The resident <b>declined</b> consent"),
            ("state", &authorized.state),
            ("iss", op.issuer()),
        ])
        .await;
    let html = expect_error_page(response, StatusCode::BAD_REQUEST, "access_denied").await;
    assert!(html.contains("The identity provider did not sign you in."));
    assert!(html.contains("The resident &lt;b&gt;declined&lt;/b&gt; consent"));
    assert_eq!(op.log().token_calls, 0);
}

#[tokio::test]
async fn a_forged_id_token_signature_is_refused() {
    let (op, portal) = start().await;
    op.set(Behaviour {
        forge_id_token: true,
        ..Behaviour::default()
    });
    let response = portal.sign_in(&op, "/login").await;
    let html = expect_error_page(response, StatusCode::BAD_GATEWAY, "invalid_id_token").await;
    assert!(html.contains("signature does not verify"));
    assert_eq!(op.log().userinfo_calls, 0);
    assert_eq!(portal.get("/profile").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_issuer_mismatch_or_a_missing_issuer_is_refused() {
    let (op, portal) = start().await;
    for iss in [Some("https://evil.example"), None] {
        let pressed = portal.press("/login").await;
        let authorized = op.authorize(location(&pressed));
        let mut query = vec![
            ("code", authorized.code.as_str()),
            ("state", &authorized.state),
        ];
        if let Some(iss) = iss {
            query.push(("iss", iss));
        }
        let response = portal.callback(&query).await;
        expect_error_page(response, StatusCode::BAD_REQUEST, "invalid_issuer").await;
    }
    assert_eq!(
        op.log().token_calls,
        0,
        "no code is sent to a mixed-up provider"
    );
}

#[tokio::test]
async fn token_errors_are_shown_with_the_providers_codes() {
    let (op, portal) = start().await;
    op.set(Behaviour {
        token_error: Some("invalid_grant"),
        ..Behaviour::default()
    });
    let response = portal.sign_in(&op, "/login").await;
    let html = expect_error_page(response, StatusCode::BAD_GATEWAY, "invalid_grant").await;
    assert!(html.contains("refused to exchange the authorization code"));
    assert!(html.contains("pkce_failed &lt;as the provider says&gt;"));
}

#[tokio::test]
async fn sessions_end_after_thirty_idle_minutes() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let (op, portal) = start_with_clock(clock.clone()).await;
    assert_eq!(
        portal.sign_in(&op, "/login").await.status(),
        StatusCode::SEE_OTHER
    );
    clock.advance(time::Duration::minutes(29));
    assert_eq!(portal.get("/profile").await.status(), StatusCode::OK);
    clock.advance(time::Duration::minutes(31));
    let expired = portal.get("/profile").await;
    assert_eq!(
        (expired.status(), location(&expired)),
        (StatusCode::SEE_OTHER, "/")
    );
}

#[tokio::test]
async fn an_unreachable_provider_gives_an_error_page_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (_, key_file) = client_key(dir.path());
    // A port that was free a moment ago: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let portal = start_portal(&closed, key_file, dir, Arc::new(SystemClock)).await;
    let pressed = portal.press("/login").await;
    expect_error_page(pressed, StatusCode::BAD_GATEWAY, "provider_unavailable").await;
    assert_eq!(portal.get("/nowhere").await.status(), StatusCode::NOT_FOUND);
}
