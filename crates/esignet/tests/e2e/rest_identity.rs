//! The real binary with `authenticator.kind = "rest"` against the REST test identity system:
//! a complete OTP login, tokens and userinfo (with the mapped claims) verified with
//! `jsonwebtoken`, the identity system's faults and absence as clean error codes, and
//! `config check` on bad `[rest_identity]` settings.

use esignet_authenticator_rest::test_server::{Fault, TestIdentitySystem, demo_people};
use serde_json::{Value, json};

use crate::harness::{Server, new_rsa_key, run_cli};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};
use crate::verify::{jwks, verify_jws};

const CLIENT: &str = "rest-client";
const API_KEY: &str = "rest-api-key";

/// The test identity system; shared with the deployment tests.
pub(crate) async fn system() -> TestIdentitySystem {
    TestIdentitySystem::start(demo_people(), API_KEY)
        .await
        .unwrap()
}

async fn start(system: &TestIdentitySystem) -> Server {
    start_with(system, &[], None).await
}

/// The binary's `[authenticator]` and `[rest_identity]` settings for `system`; shared with the
/// deployment tests.
pub(crate) fn rest_env(system: &TestIdentitySystem) -> Vec<(&'static str, String)> {
    let base = system.base_url();
    vec![
        ("ESIGNET_AUTHENTICATOR__KIND", "rest".into()),
        (
            "ESIGNET_REST_IDENTITY__AUTH_FACTORS",
            "[\"OTP\", \"PIN\"]".into(),
        ),
        (
            "ESIGNET_REST_IDENTITY__AUTHENTICATE_URL",
            format!("{base}/authenticate"),
        ),
        (
            "ESIGNET_REST_IDENTITY__AUTHENTICATE_BODY",
            r#"{"id": "{individual_id}", "type": "{factor}", "secret": "{challenge}"}"#.into(),
        ),
        (
            "ESIGNET_REST_IDENTITY__AUTHENTICATE_SUCCESS_POINTER",
            "/result/authenticated".into(),
        ),
        (
            "ESIGNET_REST_IDENTITY__AUTHENTICATE_SUBJECT_POINTER",
            "/result/personId".into(),
        ),
        ("ESIGNET_REST_IDENTITY__SEND_OTP_URL", format!("{base}/otp")),
        (
            "ESIGNET_REST_IDENTITY__SEND_OTP_MASKED_EMAIL_POINTER",
            "/masked/email".into(),
        ),
        (
            "ESIGNET_REST_IDENTITY__SEND_OTP_MASKED_MOBILE_POINTER",
            "/masked/mobile".into(),
        ),
        (
            "ESIGNET_REST_IDENTITY__USER_INFO_URL",
            format!("{base}/people/{{individual_id}}"),
        ),
        (
            "ESIGNET_REST_IDENTITY__CLAIMS",
            "{ name = \"/fullName\", email = \"/contact/email\", phone_number = \"/contact/phone\", gender = \"/gender\", birthdate = \"/birthDate\" }".into(),
        ),
        ("ESIGNET_REST_IDENTITY__REQUIRED_CLAIMS", "[\"name\"]".into()),
        ("ESIGNET_REST_IDENTITY__API_KEY", API_KEY.into()),
        ("ESIGNET_REST_IDENTITY__TIMEOUT_SECS", "2".into()),
    ]
}

/// The server with `extra` settings (later values win) and, if given, its output in `log`.
async fn start_with(
    system: &TestIdentitySystem,
    extra: &[(&str, &str)],
    log: Option<std::fs::File>,
) -> Server {
    let settings = rest_env(system);
    let mut env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    Server::launch_logging_to(&["serve"], tempfile::tempdir().unwrap(), &env, log).await
}

async fn browser<'a>(server: &'a Server) -> (Browser<'a>, String) {
    let (verifier, challenge) = pkce_pair();
    let mut request = authorize_request(
        CLIENT,
        "https://rp.example/callback",
        "openid profile",
        Some(&challenge),
    );
    request["acrValues"] = json!("mosip:idp:acr:generated-code");
    request["claims"] =
        json!({"userinfo": {"name": {"essential": true}, "email": null, "gender": null}});
    let browser = Browser::start(server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    assert_eq!(browser.details["authFactors"][0][0]["type"], "OTP");
    (browser, verifier)
}

fn error_code(answer: &Value) -> &str {
    answer["errors"][0]["errorCode"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn rest_identity_otp_login_ends_in_verified_userinfo_with_mapped_claims() {
    let system = system().await;
    let server = start(&system).await;
    let key = new_rsa_key();
    server.register_client(CLIENT, json!({}), &key).await;
    let (browser, verifier) = browser(&server).await;

    let sent = browser.send_otp("UIN4711A").await;
    assert_eq!(sent["errors"], json!([]), "{sent}");
    assert_eq!(
        sent["response"]["maskedEmail"], "a***@example.org",
        "{sent}"
    );
    assert_eq!(sent["response"]["maskedMobile"], "******7890", "{sent}");

    let wrong = browser
        .authenticate("UIN4711A", "OTP", "000000", "alpha-numeric")
        .await;
    assert_eq!(error_code(&wrong), "auth_failed", "{wrong}");
    let authenticated = browser
        .authenticate("UIN4711A", "OTP", "123456", "alpha-numeric")
        .await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let code = browser.auth_code(&["name", "email", "gender"], &[]).await;
    assert_eq!(code["errors"], json!([]), "{code}");
    let code = code["response"]["code"].as_str().unwrap();

    let rp = Rp {
        server: &server,
        client_id: CLIENT.into(),
        key,
        redirect_uri: "https://rp.example/callback".into(),
    };
    let (status, _, tokens) = rp.token(code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    let set = jwks(&server).await;
    let (_, id_token) = verify_jws(&set, tokens["id_token"].as_str().unwrap(), Some(CLIENT));
    assert_eq!(id_token["acr"], "mosip:idp:acr:generated-code");
    let sub = id_token["sub"].as_str().unwrap();
    assert_ne!(
        sub, "UIN4711A",
        "the subject does not reveal the individual id"
    );
    assert_ne!(sub, "P-0001", "nor the identity system's person id");

    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = rp.userinfo(&format!("Bearer {access}"), None).await;
    assert_eq!(status, 200, "{body}");
    // Signed by the REST adapter's own KYC key, published in the JWKS.
    let (_, userinfo) = verify_jws(&set, &body, Some(CLIENT));
    assert_eq!(userinfo["sub"], json!(sub));
    assert_eq!(userinfo["name"], "Asha Rao");
    assert_eq!(userinfo["email"], "asha@example.org");
    assert_eq!(userinfo["gender"], "Female");
    assert!(userinfo.get("phone_number").is_none(), "not accepted");
    assert!(userinfo.get("birthdate").is_none(), "not requested");
}

#[tokio::test]
async fn rest_identity_system_down_or_failing_gives_clean_errors() {
    let system = system().await;
    // The individual id in the URL too: a failed call must not log it.
    let authenticate = format!("{}/authenticate?who={{individual_id}}", system.base_url());
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("esignet.log");
    let server = start_with(
        &system,
        &[("ESIGNET_REST_IDENTITY__AUTHENTICATE_URL", &authenticate)],
        Some(std::fs::File::create(&log_path).unwrap()),
    )
    .await;
    server
        .register_client(CLIENT, json!({}), &new_rsa_key())
        .await;
    let (browser, _) = browser(&server).await;

    system.set_fault(Fault::ServerError);
    let otp = browser.send_otp("UIN4711A").await;
    assert_eq!(error_code(&otp), "identity_system_unavailable", "{otp}");
    system.set_fault(Fault::Garbage);
    let otp = browser.send_otp("UIN4711A").await;
    assert_eq!(error_code(&otp), "send_otp_failed", "{otp}");
    system.set_fault(Fault::None);
    let sent = browser.send_otp("UIN4711A").await;
    assert_eq!(sent["errors"], json!([]), "{sent}");

    system.set_fault(Fault::ServerError);
    let down = browser
        .authenticate("UIN4711A", "OTP", "123456", "alpha-numeric")
        .await;
    assert_eq!(error_code(&down), "identity_system_unavailable", "{down}");
    // Nobody listening any more.
    drop(system);
    let gone = browser
        .authenticate("UIN4711A", "OTP", "123456", "alpha-numeric")
        .await;
    assert_eq!(error_code(&gone), "identity_system_unavailable", "{gone}");
    for answer in [&otp, &down, &gone] {
        let text = answer.to_string();
        assert!(
            !text.contains("UIN4711A") && !text.contains("123456"),
            "{text}"
        );
    }
    // The failures were logged (warnings), without the id, the OTP or the API key.
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("identity system"), "{log}");
    for secret in ["UIN4711A", "123456", API_KEY] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
    drop(server);
}

#[test]
fn rest_identity_config_check_explains_mistakes() {
    let data = tempfile::tempdir().unwrap();
    let (status, _, stderr) = run_cli(
        &["config", "check"],
        data.path(),
        &[
            ("ESIGNET_AUTHENTICATOR__KIND", "rest"),
            (
                "ESIGNET_REST_IDENTITY__AUTHENTICATE_URL",
                "https://id.example.org/auth/{otp}",
            ),
            (
                "ESIGNET_REST_IDENTITY__CLAIMS",
                "{ name = \"fullName.first\" }",
            ),
        ],
    );
    assert_eq!(status, 1, "{stderr}");
    for expected in [
        "rest_identity.authenticate_url",
        "unknown placeholder `{otp}`",
        "rest_identity.user_info_url",
        "is required",
        "rest_identity.claims",
        "JSON pointer",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected} missing from:\n{stderr}"
        );
    }
}
