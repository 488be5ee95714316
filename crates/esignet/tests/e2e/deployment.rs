//! Production-shaped integration matrix: `esignet serve` deployed as a country would run it
//! (PostgreSQL store, Redis cache, service signing keys in a fresh SoftHSM2 token, audit to the
//! log and to PostgreSQL), one full login over HTTP per identity system. After each login:
//! (a) the ID token is signed by the HSM key (in the JWKS, current in `esignet keys list`, and
//! unreadable without the token), (b) the transaction's audit rows are in `audit_event`, and
//! (c) nothing personal (individual id, contacts, names, the OTP or answers used) reached the
//! audit table or the instance's log output.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use josekit::jwk::Jwk;
use serde_json::{Value, json};

use crate::audit::{assert_no_personal_data, audit_rows};
use crate::harness::{Server, free_port, new_rsa_key, run_cli};
use crate::hsm::{hsm_env, softhsm_token};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};
use crate::notification::otp_in;
use crate::notification::smtp_server::{SmtpOptions, SmtpServer};
use crate::scaleout::{DropSchema, as_refs, redis_url, shared_env, unique};
use crate::verify::{jwks, verify_jws};

const REDIRECT: &str = "https://rp.example/callback";
const INSTANCE: &str = "deployment-e2e-1";

/// One instance on the shared backing services, with its own schema, cache prefix, HSM token
/// and log file; the schema is dropped when the test ends.
struct Deployment {
    server: Server,
    env: Vec<(String, String)>,
    schema: String,
    log: tempfile::NamedTempFile,
    client_id: String,
    key: Jwk,
    _token: tempfile::TempDir,
    _drop_schema: DropSchema,
}

/// What a completed login left with the relying party.
struct Login {
    transaction_id: String,
    id_token: String,
    userinfo: Value,
}

impl Deployment {
    /// Starts the instance with the identity system's settings and registers `client_id`.
    async fn start(client_id: &str, identity: Vec<(&'static str, String)>) -> Self {
        let schema = unique("deploy");
        let drop_schema = DropSchema(schema.clone());
        let (token, conf) = softhsm_token();
        let mut env = shared_env(&schema, &unique("deploy"), &redis_url());
        let settings = [
            ("ESIGNET_AUDIT__SINKS", "[\"log\", \"postgres\"]".to_owned()),
            ("ESIGNET_AUDIT__INSTANCE", INSTANCE.to_owned()),
            // No demo client: a country registers its relying parties.
            ("ESIGNET_DEMO__SEED_CLIENT", "false".to_owned()),
            // Everything at info, so the scan sees what operators' logs would hold.
            ("ESIGNET_LOG", "info".to_owned()),
            ("ESIGNET_LOGGING__FORMAT", "json".to_owned()),
        ];
        env.extend(
            hsm_env(&conf)
                .into_iter()
                .chain(settings)
                .chain(identity)
                .map(|(key, value)| (key.to_owned(), value)),
        );
        let log = tempfile::NamedTempFile::new().unwrap();
        let server = Server::launch_logging_to(
            &["serve"],
            tempfile::tempdir().unwrap(),
            &as_refs(&env),
            Some(log.reopen().unwrap()),
        )
        .await;
        let key = new_rsa_key();
        server.register_client(client_id, json!({}), &key).await;
        Deployment {
            server,
            env,
            schema,
            log,
            client_id: client_id.to_owned(),
            key,
            _token: token,
            _drop_schema: drop_schema,
        }
    }

    /// oauth-details for `acr`, asking for `claims` in the userinfo; returns the PKCE verifier.
    async fn browser(&self, acr: &str, claims: &[&str]) -> (Browser<'_>, String) {
        let (verifier, challenge) = pkce_pair();
        let mut request = authorize_request(
            &self.client_id,
            REDIRECT,
            "openid profile",
            Some(&challenge),
        );
        request["acrValues"] = json!(acr);
        let mut userinfo = serde_json::Map::new();
        for claim in claims {
            userinfo.insert((*claim).to_owned(), Value::Null);
        }
        request["claims"] = json!({"userinfo": userinfo});
        let browser = Browser::start(&self.server, "/authorization/v3/oauth-details", request)
            .await
            .unwrap();
        (browser, verifier)
    }

    /// After authentication: consent to `claims`, the code, the token request and the
    /// userinfo, both verified against the published JWKS.
    async fn finish(&self, browser: Browser<'_>, verifier: &str, claims: &[&str]) -> Login {
        let code = browser.auth_code(claims, &[]).await;
        assert_eq!(code["errors"], json!([]), "{code}");
        let code = code["response"]["code"].as_str().unwrap();
        let rp = Rp {
            server: &self.server,
            client_id: self.client_id.clone(),
            key: self.key.clone(),
            redirect_uri: REDIRECT.into(),
        };
        let (status, _, tokens) = rp.token(code, Some(verifier), None).await;
        assert_eq!(status, 200, "{tokens}");
        let set = jwks(&self.server).await;
        let id_token = tokens["id_token"].as_str().unwrap().to_owned();
        let (_, claims) = verify_jws(&set, &id_token, Some(&self.client_id));
        let access = tokens["access_token"].as_str().unwrap();
        let (status, _, body) = rp.userinfo(&format!("Bearer {access}"), None).await;
        assert_eq!(status, 200, "{body}");
        let (_, userinfo) = verify_jws(&set, &body, Some(&self.client_id));
        assert_eq!(userinfo["sub"], claims["sub"]);
        Login {
            transaction_id: browser.transaction_id.clone(),
            id_token,
            userinfo,
        }
    }

    /// (a), (b) and (c) of the module comment. `steps` are the transaction's audited actions
    /// between oauth-details and the KYC exchange; `personal` what the resident gave.
    async fn assert_production_shaped(
        &self,
        login: &Login,
        steps: &[&str],
        personal: &[&str],
        otp: &str,
    ) {
        self.assert_signed_by_the_hsm_key(&login.id_token).await;

        // Audit delivery is asynchronous: wait for the userinfo, the last step of the login.
        let deadline = Instant::now() + Duration::from_secs(30);
        let rows = loop {
            let rows = audit_rows(&self.schema);
            if rows.iter().any(|row| row.0 == "GET_USERINFO") {
                break rows;
            }
            assert!(Instant::now() < deadline, "audit rows missing: {rows:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let transaction: Vec<(&str, &str)> = rows
            .iter()
            .filter(|row| row.2 == login.transaction_id)
            .map(|row| (row.0.as_str(), row.1.as_str()))
            .collect();
        let expected: Vec<(&str, &str)> = steps.iter().map(|step| (*step, "SUCCESS")).collect();
        assert_eq!(transaction, expected, "{rows:#?}");
        // Token and userinfo are audited without the transaction id, after the code.
        let tail: Vec<(&str, &str)> = rows
            .iter()
            .skip_while(|row| row.0 != "GET_AUTH_CODE")
            .filter(|row| ["GENERATE_TOKEN", "GET_USERINFO"].contains(&row.0.as_str()))
            .map(|row| (row.0.as_str(), row.1.as_str()))
            .collect();
        assert_eq!(
            tail,
            [("GENERATE_TOKEN", "SUCCESS"), ("GET_USERINFO", "SUCCESS")],
            "{rows:#?}"
        );
        for row in &rows {
            assert!(
                row.3.contains(&format!("\"instance\":\"{INSTANCE}\"")),
                "{}",
                row.3
            );
        }

        let table: String = rows.iter().map(|row| format!("{}\n", row.3)).collect();
        assert_no_personal_data("the audit_event table", &table, personal, otp);
        let log = std::fs::read_to_string(self.log.path()).unwrap();
        assert!(
            log.contains("\"target\":\"audit\""),
            "the log sink wrote audit lines:\n{log}"
        );
        assert_no_personal_data("the instance's log output", &log, personal, otp);
    }

    /// The ID token's key is published, is the current key `esignet keys list` shows for the
    /// same configuration, and is held in the token: without the PKCS#11 settings the same
    /// store's key cannot be used.
    async fn assert_signed_by_the_hsm_key(&self, id_token: &str) {
        let kid = jsonwebtoken::decode_header(id_token).unwrap().kid.unwrap();
        assert!(jwks(&self.server).await.find(&kid).is_some(), "{kid}");
        let data = self.server.data.path();
        let (status, listing, stderr) = run_cli(&["keys", "list"], data, &as_refs(&self.env));
        assert_eq!(status, 0, "{stderr}");
        let line = listing
            .lines()
            .find(|line| line.starts_with(&kid))
            .unwrap_or_else(|| panic!("{kid} not listed:\n{listing}"));
        assert!(line.trim_end().ends_with("yes"), "{kid} is current: {line}");
        let without_hsm: Vec<(String, String)> = self
            .env
            .iter()
            .filter(|(key, _)| {
                !key.starts_with("ESIGNET_KEYS__PKCS11") && key != "ESIGNET_KEYS__BACKEND"
            })
            .cloned()
            .collect();
        let (status, _, stderr) = run_cli(&["keys", "list"], data, &as_refs(&without_hsm));
        assert_eq!(status, 1);
        assert!(stderr.contains("is held in an HSM"), "{stderr}");
    }
}

/// The audited steps of an OTP login transaction.
const OTP_STEPS: &[&str] = &[
    "GET_OAUTH_DETAILS",
    "TRANSACTION_STARTED",
    "SEND_OTP",
    "DO_KYC_AUTH",
    // The stored consent is looked up while authenticating.
    "GET_USER_CONSENT",
    "AUTHENTICATE",
    "SAVE_CONSENT",
    "GET_AUTH_CODE",
    "DO_KYC_EXCHANGE",
];

#[tokio::test]
async fn deployment_login_through_mosip_ida() {
    use esignet_authenticator_ida::test_server::{IDENTITIES, TEST_OTP};
    let ida = crate::ida::Ida::start().await;
    let deployment = Deployment::start(crate::ida::CLIENT, ida.env()).await;
    let claims = ["name", "email"];
    let (browser, verifier) = deployment
        .browser("mosip:idp:acr:generated-code", &claims)
        .await;
    let uin = IDENTITIES[0].uin;
    let sent = browser.send_otp(uin).await;
    assert_eq!(sent["errors"], json!([]), "{sent}");
    let authenticated = browser
        .authenticate(uin, "OTP", TEST_OTP, "alpha-numeric")
        .await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let login = deployment.finish(browser, &verifier, &claims).await;
    assert_eq!(login.userinfo["name"], "Siddharth K Mansour");
    deployment
        .assert_production_shaped(
            &login,
            OTP_STEPS,
            &[
                uin,
                "Siddharth",
                "Mansour",
                "siddharth@example.org",
                "841987567",
            ],
            TEST_OTP,
        )
        .await;
}

#[tokio::test]
async fn deployment_login_through_sunbird_rc_kbi() {
    let registry = crate::sunbird::registry().await;
    let deployment =
        Deployment::start("deployment-client", crate::sunbird::sunbird_env(&registry)).await;
    let claims = ["name", "email"];
    let (browser, verifier) = deployment.browser("mosip:idp:acr:knowledge", &claims).await;
    let answer = crate::sunbird::kbi("100200", "Asha Rao", "1990-01-02");
    let authenticated = browser
        .authenticate("100200", "KBI", &answer, "base64url-encoded-json")
        .await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let login = deployment.finish(browser, &verifier, &claims).await;
    assert_eq!(login.userinfo["name"], "Asha Rao");
    let mut steps: Vec<&str> = OTP_STEPS.to_vec();
    steps.retain(|step| *step != "SEND_OTP");
    deployment
        .assert_production_shaped(
            &login,
            &steps,
            &[
                "100200",
                "1-7f3a",
                "Asha Rao",
                "1990-01-02",
                "asha@example.org",
                "1234567890",
                &answer,
            ],
            // No OTP in a KBI login; the policy number stands in as the value to look for.
            "100200",
        )
        .await;
}

#[tokio::test]
async fn deployment_login_through_generic_rest_identity_system() {
    let system = crate::rest_identity::system().await;
    let deployment =
        Deployment::start("deployment-client", crate::rest_identity::rest_env(&system)).await;
    let claims = ["name", "email"];
    let (browser, verifier) = deployment
        .browser("mosip:idp:acr:generated-code", &claims)
        .await;
    let sent = browser.send_otp("UIN4711A").await;
    assert_eq!(sent["errors"], json!([]), "{sent}");
    let authenticated = browser
        .authenticate("UIN4711A", "OTP", "123456", "alpha-numeric")
        .await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let login = deployment.finish(browser, &verifier, &claims).await;
    assert_eq!(login.userinfo["name"], "Asha Rao");
    deployment
        .assert_production_shaped(
            &login,
            OTP_STEPS,
            &[
                "UIN4711A",
                "P-0001",
                "Asha Rao",
                "asha@example.org",
                "1234567890",
            ],
            "123456",
        )
        .await;
}

/// A demo persona of the mock identity system with an e-mail and a phone.
const SID: &str = "8267411571";
const SID_PERSONAL: &[&str] = &[
    SID,
    "Siddharth",
    "Mansour",
    "siddharth.mansour@example.com",
    "612345678",
    "1987/11/25",
];

/// `esignet mock-identity` in its own process, delivering login OTPs through `[notification]`
/// as configured by `notification`; killed on drop.
struct MockIdentity {
    child: Child,
    url: String,
    _data: tempfile::TempDir,
}

impl MockIdentity {
    async fn start(notification: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_esignet"))
            .args(["mock-identity", "--bind", &format!("127.0.0.1:{port}")])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ESIGNET_DATA__DIR", data.path())
            .env("ESIGNET_LOG", "warn")
            .envs(notification.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("esignet mock-identity starts");
        let url = format!("http://127.0.0.1:{port}/v1/mock-identity-system");
        let deadline = Instant::now() + Duration::from_secs(15);
        while reqwest::get(format!("{url}/actuator/health"))
            .await
            .map_or(true, |response| !response.status().is_success())
        {
            assert!(
                Instant::now() < deadline,
                "the mock identity system did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        MockIdentity {
            child,
            url,
            _data: data,
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ESIGNET_AUTHENTICATOR__KIND", "mock-identity-http".into()),
            ("ESIGNET_AUTHENTICATOR__URL", self.url.clone()),
        ]
    }
}

impl Drop for MockIdentity {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The login through the mock identity system; `delivered` is called once send-otp answered
/// and returns the delivered message, whose OTP then authenticates.
async fn mock_identity_login(identity: &MockIdentity, delivered: impl Fn() -> String) {
    let deployment = Deployment::start("deployment-client", identity.env()).await;
    let claims = ["name", "email"];
    let (browser, verifier) = deployment
        .browser("mosip:idp:acr:generated-code", &claims)
        .await;
    let sent = browser.send_otp(SID).await;
    assert_eq!(sent["errors"], json!([]), "{sent}");
    let otp = otp_in(&delivered());
    let authenticated = browser
        .authenticate(SID, "OTP", &otp, "alpha-numeric")
        .await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let login = deployment.finish(browser, &verifier, &claims).await;
    assert!(
        login.userinfo["name"]
            .to_string()
            .contains("Siddharth Kumar Mansour"),
        "{}",
        login.userinfo
    );
    deployment
        .assert_production_shaped(&login, OTP_STEPS, SID_PERSONAL, &otp)
        .await;
}

#[tokio::test]
async fn deployment_login_through_mock_identity_with_otp_by_smtp() {
    let smtp = SmtpServer::start(&SmtpOptions::default());
    let port = smtp.port.to_string();
    let identity = MockIdentity::start(&[
        ("ESIGNET_NOTIFICATION__SMTP_HOST", "127.0.0.1"),
        ("ESIGNET_NOTIFICATION__SMTP_PORT", &port),
        ("ESIGNET_NOTIFICATION__SMTP_SECURITY", "none"),
        ("ESIGNET_NOTIFICATION__SMTP_FROM", "no-reply@esignet.test"),
    ])
    .await;
    mock_identity_login(&identity, || {
        let messages = smtp.messages();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(
            messages[0]["rcpt_tos"],
            json!(["siddharth.mansour@example.com"])
        );
        messages[0]["body"].as_str().unwrap().to_owned()
    })
    .await;
}

type Captured = Arc<Mutex<Vec<Value>>>;

async fn capture(State(captured): State<Captured>, Json(body): Json<Value>) -> Json<Value> {
    captured.lock().unwrap().push(body);
    Json(json!({"status": "sent"}))
}

#[tokio::test]
async fn deployment_login_through_mock_identity_with_otp_by_sms_gateway() {
    let captured: Captured = Arc::default();
    let app = axum::Router::new()
        .route("/sms", post(capture))
        .with_state(captured.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let identity = MockIdentity::start(&[
        ("ESIGNET_NOTIFICATION__SMS_URL", &url),
        (
            "ESIGNET_NOTIFICATION__SMS_BODY_TEMPLATE",
            r#"{"to": "{recipient}", "text": "{message}"}"#,
        ),
    ])
    .await;
    mock_identity_login(&identity, || {
        let requests = captured.lock().unwrap().clone();
        assert_eq!(requests.len(), 1, "{requests:?}");
        assert!(
            requests[0]["to"].as_str().unwrap().ends_with("612345678"),
            "{requests:?}"
        );
        requests[0]["text"].as_str().unwrap().to_owned()
    })
    .await;
}
