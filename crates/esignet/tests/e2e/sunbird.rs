//! The real binary with `authenticator.kind = "sunbird-rc"` against the Sunbird-RC-compatible
//! test registry: a complete KBI login, tokens and userinfo verified with `jsonwebtoken`, the
//! registry's faults as clean error codes, and `config check` on bad `[sunbird_rc]` settings.

use esignet_authenticator_sunbird::encode_kbi_challenge;
use esignet_authenticator_sunbird::test_registry::{Fault, TestRegistry};
use serde_json::{Value, json};

use crate::harness::{Server, new_rsa_key, run_cli};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};
use crate::verify::{jwks, verify_jws};

const CLIENT: &str = "sunbird-client";

/// The test registry; shared with the deployment tests.
pub(crate) async fn registry() -> TestRegistry {
    TestRegistry::start(
        "Insurance",
        vec![
            json!({"osid": "1-7f3a", "policyNumber": "100200", "fullName": "Asha Rao", "dob": "1990-01-02",
                   "email": "asha@example.org", "mobile": "+911234567890", "gender": "Female"}),
            json!({"osid": "1-8b4c", "policyNumber": "100300", "fullName": "Ravi K", "dob": "1985-05-06"}),
        ],
        true,
        Some("registry-api-token".to_owned()),
    )
    .await
    .unwrap()
}

pub(crate) fn kbi(policy: &str, name: &str, dob: &str) -> String {
    let Value::Object(form) = json!({"policyNumber": policy, "fullName": name, "dob": dob}) else {
        unreachable!()
    };
    encode_kbi_challenge(&form)
}

/// The binary's `[authenticator]` and `[sunbird_rc]` settings for `registry`.
pub(crate) fn sunbird_env(registry: &TestRegistry) -> Vec<(&'static str, String)> {
    vec![
        ("ESIGNET_AUTHENTICATOR__KIND", "sunbird-rc".into()),
        ("ESIGNET_SUNBIRD_RC__SEARCH_URL", registry.search_url()),
        ("ESIGNET_SUNBIRD_RC__ENTITY_URL", registry.entity_url()),
        ("ESIGNET_SUNBIRD_RC__PSUT", "pairwise".into()),
        (
            "ESIGNET_SUNBIRD_RC__BEARER_TOKEN",
            "registry-api-token".into(),
        ),
        ("ESIGNET_SUNBIRD_RC__TIMEOUT_SECS", "2".into()),
    ]
}

async fn start(registry: &TestRegistry) -> Server {
    let env = sunbird_env(registry);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start(&pairs).await
}

async fn browser<'a>(server: &'a Server) -> (Browser<'a>, String) {
    let (verifier, challenge) = pkce_pair();
    let mut request = authorize_request(
        CLIENT,
        "https://rp.example/callback",
        "openid profile",
        Some(&challenge),
    );
    request["acrValues"] = json!("mosip:idp:acr:knowledge");
    request["claims"] =
        json!({"userinfo": {"name": {"essential": true}, "email": null, "gender": null}});
    let browser = Browser::start(server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    assert_eq!(browser.details["authFactors"][0][0]["type"], "KBI");
    (browser, verifier)
}

#[tokio::test]
async fn kbi_login_against_a_sunbird_registry() {
    let registry = registry().await;
    let server = start(&registry).await;
    let key = new_rsa_key();
    server.register_client(CLIENT, json!({}), &key).await;
    let (browser, verifier) = browser(&server).await;

    // A wrong answer, then a registry outage: clean codes, and the transaction stays usable.
    let wrong = browser
        .authenticate(
            "100200",
            "KBI",
            &kbi("100200", "Asha Rao", "1990-01-03"),
            "base64url-encoded-json",
        )
        .await;
    assert_eq!(wrong["errors"][0]["errorCode"], "auth_failed", "{wrong}");
    registry.set_fault(Fault::ServerError);
    let down = browser
        .authenticate(
            "100200",
            "KBI",
            &kbi("100200", "Asha Rao", "1990-01-02"),
            "base64url-encoded-json",
        )
        .await;
    assert_eq!(
        down["errors"][0]["errorCode"], "identity_system_unavailable",
        "{down}"
    );
    registry.set_fault(Fault::None);

    // The third attempt (eSignet allows three per transaction) succeeds.
    let authenticated = browser
        .authenticate(
            "100200",
            "KBI",
            &kbi("100200", "Asha Rao", "1990-01-02"),
            "base64url-encoded-json",
        )
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
    assert_eq!(id_token["acr"], "mosip:idp:acr:knowledge");
    let sub = id_token["sub"].as_str().unwrap();
    assert_ne!(
        sub, "1-7f3a",
        "pairwise subjects do not reveal the entity id"
    );

    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = rp.userinfo(&format!("Bearer {access}"), None).await;
    assert_eq!(status, 200, "{body}");
    let (_, userinfo) = verify_jws(&set, &body, Some(CLIENT));
    assert_eq!(userinfo["sub"], json!(sub));
    assert_eq!(userinfo["name"], "Asha Rao");
    assert_eq!(userinfo["email"], "asha@example.org");
    assert_eq!(userinfo["gender"], "Female");
    assert!(userinfo.get("phone_number").is_none());
}

#[tokio::test]
async fn a_hanging_registry_times_out_cleanly() {
    let registry = registry().await;
    let server = start(&registry).await;
    server
        .register_client(CLIENT, json!({}), &new_rsa_key())
        .await;
    let (browser, _) = browser(&server).await;
    registry.set_fault(Fault::Hang);
    let answer = browser
        .authenticate(
            "100200",
            "KBI",
            &kbi("100200", "Asha Rao", "1990-01-02"),
            "base64url-encoded-json",
        )
        .await;
    assert_eq!(
        answer["errors"][0]["errorCode"], "identity_system_timeout",
        "{answer}"
    );
    registry.set_fault(Fault::Garbage);
    let garbage = browser
        .authenticate(
            "100200",
            "KBI",
            &kbi("100200", "Asha Rao", "1990-01-02"),
            "base64url-encoded-json",
        )
        .await;
    assert_eq!(
        garbage["errors"][0]["errorCode"], "unknown_error",
        "{garbage}"
    );
    // A registry has no OTP channel: the core refuses before calling the authenticator.
    registry.set_fault(Fault::None);
    let otp = browser.send_otp("100200").await;
    assert_eq!(
        otp["errors"][0]["errorCode"], "invalid_otp_channel",
        "{otp}"
    );
}

#[test]
fn config_check_explains_sunbird_mistakes() {
    let data = tempfile::tempdir().unwrap();
    let (status, _, stderr) = run_cli(
        &["config", "check"],
        data.path(),
        &[
            ("ESIGNET_AUTHENTICATOR__KIND", "sunbird-rc"),
            (
                "ESIGNET_SUNBIRD_RC__SEARCH_URL",
                "registry.local/api/v1/Insurance/search",
            ),
            ("ESIGNET_SUNBIRD_RC__INDIVIDUAL_ID_FIELD", "nationalId"),
            (
                "ESIGNET_SUNBIRD_RC__CLAIMS",
                "{ name = \"fullName\", locality = \"address.city\" }",
            ),
            ("ESIGNET_SUNBIRD_RC__PSUT", "hashed"),
        ],
    );
    assert_eq!(status, 1, "{stderr}");
    for expected in [
        "sunbird_rc.search_url",
        "is not a URL",
        "sunbird_rc.individual_id_field",
        "\"nationalId\" is not one of sunbird_rc.kbi_fields (policyNumber, fullName, dob)",
        "sunbird_rc.claims",
        "JSON pointers",
        "sunbird_rc.psut",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected} missing from:\n{stderr}"
        );
    }
}
