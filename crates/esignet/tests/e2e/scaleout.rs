//! Several stateless instances over the same PostgreSQL and Redis (a browser login and a wallet
//! login whose steps reach different instances), and the behaviour when Redis goes away and
//! comes back. These run against the real servers of the machine (PostgreSQL on
//! 127.0.0.1:5432, Redis on 127.0.0.1:6379 unless `ESIGNET_TEST_POSTGRES_URL` /
//! `ESIGNET_TEST_REDIS_URL` say otherwise) and fail when they are missing.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use esignet_core::POLL_RECHECK;
use esignet_jose::Algorithm;
use esignet_wallet_sim::ConsentChoice;
use serde_json::json;

use crate::harness::{OTP, Server, free_port, new_rsa_key};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};
use crate::verify::{jwks, verify_jws};
use crate::wallet::{MANSOUR, demo_rp, link_auth_code, link_status, show_qr, wallet};

const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub(crate) fn postgres_url() -> String {
    std::env::var("ESIGNET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub(crate) fn redis_url() -> String {
    std::env::var("ESIGNET_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Drops a test's PostgreSQL schema when the test ends (pass or fail), so repeated runs do not
/// accumulate schemas. Uses the `psql` client that comes with the server.
pub(crate) struct DropSchema(pub(crate) String);

impl Drop for DropSchema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                &postgres_url(),
                "-qc",
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

pub(crate) fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        crate::harness::uuid().replace('-', "")[..16].to_owned()
    )
}

/// Environment for an instance on the shared PostgreSQL schema and Redis prefix.
pub(crate) fn shared_env(schema: &str, prefix: &str, redis: &str) -> Vec<(String, String)> {
    vec![
        ("ESIGNET_STORE__KIND".into(), "postgres".into()),
        ("ESIGNET_STORE__POSTGRES_URL".into(), postgres_url()),
        ("ESIGNET_STORE__POSTGRES_SCHEMA".into(), schema.into()),
        ("ESIGNET_CACHE__KIND".into(), "redis".into()),
        ("ESIGNET_CACHE__REDIS_URL".into(), redis.into()),
        ("ESIGNET_CACHE__REDIS_PREFIX".into(), prefix.into()),
        ("ESIGNET_KEYS__ENCRYPTION_KEY".into(), KEK.into()),
    ]
}

pub(crate) fn as_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Two instances over a fresh PostgreSQL schema and Redis prefix (dropped with the returned
/// guard): A seeds the demo client (its private key lands in A's data directory), B serves the
/// same client from the shared store.
async fn two_instances(name: &str) -> (Server, Server, DropSchema) {
    let schema = unique(name);
    let drop_schema = DropSchema(schema.clone());
    let prefix = unique(name);
    let env = shared_env(&schema, &prefix, &redis_url());
    let a = Server::start(&as_refs(&env)).await;
    let mut env_b = env.clone();
    env_b.push(("ESIGNET_DEMO__SEED_CLIENT".into(), "false".into()));
    let b = Server::start(&as_refs(&env_b)).await;
    (a, b, drop_schema)
}

#[tokio::test]
async fn each_login_step_can_reach_a_different_instance() {
    let (a, mut b, _drop_schema) = two_instances("e2e").await;
    // One browser (one cookie jar) talks to both instances, as behind a load balancer.
    b.http = a.http.clone();

    let key = new_rsa_key();
    a.register_client("scale-client", json!({}), &key).await;
    // B serves the client A registered: the store is shared.
    let rp_b = Rp {
        server: &b,
        client_id: "scale-client".into(),
        key: key.clone(),
        redirect_uri: "https://rp.example/callback".into(),
    };
    let rp_a = Rp {
        server: &a,
        client_id: rp_b.client_id.clone(),
        key: key.clone(),
        redirect_uri: rp_b.redirect_uri.clone(),
    };

    let (verifier, challenge) = pkce_pair();
    let request = authorize_request(
        &rp_a.client_id,
        &rp_a.redirect_uri,
        "openid email",
        Some(&challenge),
    );
    // oauth-details on A.
    let on_a = Browser::start(&a, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    // The same transaction, driven through B.
    let on_b = Browser {
        server: &b,
        csrf: on_a.csrf.clone(),
        transaction_id: on_a.transaction_id.clone(),
        hash: on_a.hash.clone(),
        details: on_a.details.clone(),
    };
    let sent = on_b.send_otp("3519847260").await;
    assert_eq!(sent["errors"], json!([]), "send-otp on B: {sent}");
    let authenticated = on_a
        .authenticate("3519847260", "OTP", "111111", "alpha-numeric")
        .await;
    assert_eq!(
        authenticated["errors"],
        json!([]),
        "authenticate on A: {authenticated}"
    );
    let claim_details = on_b.claim_details().await;
    assert_eq!(
        claim_details["errors"],
        json!([]),
        "claim-details on B: {claim_details}"
    );
    let code = on_b.auth_code(&["email"], &[]).await;
    assert_eq!(code["errors"], json!([]), "auth-code on B: {code}");
    let code = code["response"]["code"].as_str().unwrap().to_owned();
    // Token on A, userinfo on B.
    let (status, _, tokens) = rp_a.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200, "token on A: {tokens}");
    let access_token = tokens["access_token"].as_str().unwrap();
    let (status, _, userinfo) = rp_b.userinfo(&format!("Bearer {access_token}"), None).await;
    assert_eq!(status, 200, "userinfo on B: {userinfo}");
    // Both instances publish the same keys and sign with the same current key.
    let set_b = jwks(&b).await;
    let (_, id_token) = verify_jws(
        &set_b,
        tokens["id_token"].as_str().unwrap(),
        Some("scale-client"),
    );
    let (_, claims) = verify_jws(&set_b, &userinfo, Some("scale-client"));
    assert_eq!(claims["sub"], id_token["sub"]);
    assert_eq!(claims["email"], "priya.ramaswamy@example.org");
    // A code used on A is gone for B too.
    let (status, _, body) = rp_b.token(&code, Some(&verifier), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_wallet_login_crosses_instances_and_wakes_the_waiting_page_through_redis() {
    let (a, b, _drop_schema) = two_instances("e2e_wallet").await;

    // The wallet binds its key through B: the binding is in the shared PostgreSQL registry.
    let wallet_b = wallet(&b);
    let binding = wallet_b
        .bind(MANSOUR, OTP, Algorithm::ES256)
        .await
        .expect("binding through B");

    // The login page runs on A: oauth-details, then the link code shown as a QR code.
    let rp = demo_rp(&a);
    let (browser, verifier, link_code) = show_qr(&a, &rp).await;

    // The page long-polls link-status on A while the wallet links, authenticates and consents
    // on B. Nothing in A's memory knows about B's link: A only learns of it from Redis.
    let poll_started = Instant::now();
    let ((status, answered_after), login) = tokio::join!(
        async {
            let status = link_status(&browser, &link_code).await;
            (status, poll_started.elapsed())
        },
        async {
            // Time for A to take the poll, subscribe and find the code still waiting.
            tokio::time::sleep(Duration::from_millis(500)).await;
            wallet_b
                .login(&binding, MANSOUR, &link_code, &ConsentChoice::All)
                .await
        }
    );
    assert_eq!(status["response"]["linkStatus"], "LINKED", "{status}");
    // Besides the notification, a waiting poll only looks at the cache again POLL_RECHECK after
    // it started (and answers response_timeout after 25 s): an answer sooner than that was woken
    // by the message B published.
    assert!(
        answered_after < POLL_RECHECK,
        "link-status on A answered after {answered_after:?}: not woken by B's notification"
    );
    let login = login.expect("wallet login through B");
    assert_eq!(login.consent_action, "CAPTURE");
    assert_eq!(login.accepted_claims, ["name", "email"]);

    // The page collects the code on A and the relying party redeems it.
    let answer = link_auth_code(&browser, &link_code).await;
    assert_eq!(answer["errors"], json!([]), "link-auth-code on A: {answer}");
    let code = answer["response"]["code"].as_str().unwrap();
    let (status, _, tokens) = rp.token(code, Some(&verifier), None).await;
    assert_eq!(status, 200, "token on A: {tokens}");
    let (_, id_token) = verify_jws(
        &jwks(&b).await,
        tokens["id_token"].as_str().unwrap(),
        Some(&rp.client_id),
    );
    assert_eq!(id_token["acr"], "mosip:idp:acr:linked-wallet");
}

/// A Redis server owned by the test, on its own port.
struct OwnRedis {
    child: Option<Child>,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let redis = OwnRedis { child: Some(child) };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start");
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn losing_redis_gives_clear_503s_and_the_service_recovers_without_restart() {
    let port = free_port();
    let mut redis = OwnRedis::start(port);
    let redis_url = format!("redis://127.0.0.1:{port}");
    let schema = unique("fault");
    let _drop_schema = DropSchema(schema.clone());
    let env = shared_env(&schema, "fault", &redis_url);
    let server = Server::start(&as_refs(&env)).await;
    let rp = Rp {
        server: &server,
        client_id: "health-services-demo".into(),
        key: server.demo_client_key(),
        redirect_uri: "http://127.0.0.1:8090/callback".into(),
    };
    let (_, challenge) = pkce_pair();
    let request = authorize_request(
        &rp.client_id,
        &rp.redirect_uri,
        "openid email",
        Some(&challenge),
    );
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request.clone())
        .await
        .unwrap();

    redis.stop();
    // Wrapped API: HTTP 503 with an error code, no panic, no hang.
    let started = std::time::Instant::now();
    let (status, body) = server
        .post_wrapped(
            "/authorization/send-otp",
            json!({"transactionId": browser.transaction_id, "individualId": "3519847260", "otpChannels": ["email"]}),
            browser.headers(),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["errors"][0]["errorCode"], "service_unavailable");
    assert!(started.elapsed() < Duration::from_secs(5), "fails fast");
    // OAuth endpoint: a proper error body.
    let (status, headers, body) = rp
        .token("any-code", Some("x".repeat(43).as_str()), None)
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(headers["cache-control"], "no-store");

    // Redis comes back on the same port: new flows succeed without restarting eSignet.
    let _redis = OwnRedis::start(port);
    let (verifier, challenge) = pkce_pair();
    let mut request = authorize_request(
        &rp.client_id,
        &rp.redirect_uri,
        "openid email",
        Some(&challenge),
    );
    request["nonce"] = json!(crate::harness::uuid());
    let mut browser = None;
    for _ in 0..50 {
        match Browser::start(&server, "/authorization/v3/oauth-details", request.clone()).await {
            Ok(started) => {
                browser = Some(started);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let browser = browser.expect("the service recovers once Redis is back");
    assert_eq!(browser.otp_login("3519847260").await["errors"], json!([]));
    let code = browser.auth_code(&["email"], &[]).await["response"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, tokens) = rp.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn the_signup_detour_crosses_instances() {
    let schema = unique("e2e_signup");
    let _drop_schema = DropSchema(schema.clone());
    let prefix = unique("e2e_signup");
    let mut env = shared_env(&schema, &prefix, &redis_url());
    env.push((
        crate::signup_redirect::ENABLED.0.into(),
        crate::signup_redirect::ENABLED.1.into(),
    ));
    let a = Server::start(&as_refs(&env)).await;
    let mut env_b = env.clone();
    env_b.push(("ESIGNET_DEMO__SEED_CLIENT".into(), "false".into()));
    // Both instances issue the same `iss`, as behind one public URL.
    env_b.push(("ESIGNET_SERVER__ISSUER".into(), a.base.clone()));
    let mut b = Server::start(&as_refs(&env_b)).await;
    b.http = a.http.clone();
    // prepare-signup-redirect on A, the signup login (hint, IDT, token, userinfo) on B.
    crate::signup_redirect::signup_detour(&a, &b).await;
}

/// Clients are kept in each instance's memory: a change made through one instance reaches the
/// other's copy through Redis pub/sub, at once rather than after the copy's lifetime.
#[tokio::test]
async fn a_client_changed_on_one_instance_is_seen_by_the_other_at_once() {
    use crate::login::{csrf_headers, csrf_token};
    let (a, b, _drop_schema) = two_instances("e2e_clients").await;
    let key = new_rsa_key();
    a.register_client("cached-client", json!({}), &key).await;
    let csrf = csrf_token(&b).await;
    let details = || {
        authorize_request(
            "cached-client",
            "https://rp.example/callback",
            "openid",
            None,
        )
    };
    let (status, body) = b
        .post_wrapped(
            "/authorization/v3/oauth-details",
            details(),
            csrf_headers(&csrf),
        )
        .await;
    assert_eq!((status, &body["errors"]), (200, &json!([])), "{body}");

    // Deactivated through A, while B holds the client in memory.
    let update = json!({
        "requestTime": crate::harness::now_timestamp(),
        "request": {
            "clientName": "Cached client",
            "clientNameLangMap": {"eng": "Cached client"},
            "logoUri": "https://rp.example/logo.png",
            "redirectUris": ["https://rp.example/callback"],
            "userClaims": ["name", "email"],
            "authContextRefs": ["mosip:idp:acr:generated-code"],
            "status": "INACTIVE",
            "grantTypes": ["authorization_code"],
            "clientAuthMethods": ["private_key_jwt"],
            "additionalConfig": {},
        }
    });
    let response = a
        .http
        .put(a.url("/client-mgmt/client/cached-client"))
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Pub/sub is asynchronous: allow it a moment, far below the copies' 60 s lifetime.
    let started = Instant::now();
    loop {
        let (_, body) = b
            .post_wrapped(
                "/authorization/v3/oauth-details",
                details(),
                csrf_headers(&csrf),
            )
            .await;
        if body["errors"][0]["errorCode"] == "invalid_client_id" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "B still serves the deactivated client: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
