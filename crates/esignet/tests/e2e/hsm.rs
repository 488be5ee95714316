//! Service signing keys in an HSM (`keys.backend = "pkcs11"`), against a SoftHSM2 token the test
//! initialises in its own `SOFTHSM2_CONF` directory: `config check` on wrong settings, a login
//! whose ID token the token signed, rotation and restarts of the real binary.

use std::path::PathBuf;
use std::process::Command;

use serde_json::json;

use crate::harness::{Server, run_cli};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};
use crate::verify::{jwks, verify_jws};

pub(crate) const PIN: &str = "2468-e2e-pin";
const LABEL: &str = "esignet-e2e";

/// A fresh SoftHSM2 token; the directory also holds the configuration file. Shared with the
/// production-shaped deployment tests, which sign with an HSM key as a country would.
pub(crate) fn softhsm_token() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let output = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", LABEL])
        .args(["--so-pin", "12345678", "--pin", PIN])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util (Debian package softhsm2) must be installed");
    assert!(output.status.success());
    (dir, conf)
}

/// The `[keys]` settings of the binary for the token of [`softhsm_token`].
pub(crate) fn hsm_env(conf: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("SOFTHSM2_CONF", conf.display().to_string()),
        ("ESIGNET_KEYS__BACKEND", "pkcs11".into()),
        (
            "ESIGNET_KEYS__PKCS11_MODULE",
            "/usr/lib/softhsm/libsofthsm2.so".into(),
        ),
        ("ESIGNET_KEYS__PKCS11_TOKEN_LABEL", LABEL.into()),
        ("ESIGNET_KEYS__PKCS11_PIN", PIN.into()),
    ]
}

pub(crate) fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter()
        .map(|(key, value)| (*key, value.as_str()))
        .collect()
}

pub(crate) fn with(
    env: &[(&'static str, String)],
    key: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    let mut env: Vec<_> = env.iter().filter(|(k, _)| *k != key).cloned().collect();
    env.push((key, value.to_owned()));
    env
}

#[test]
fn config_check_catches_a_wrong_module_token_or_pin_without_showing_the_pin() {
    let (_token, conf) = softhsm_token();
    let data = tempfile::tempdir().unwrap();
    let env = hsm_env(&conf);
    let (status, stdout, stderr) = run_cli(&["config", "check"], data.path(), &borrowed(&env));
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("configuration is valid"));

    let wrong_pin = "1357-not-the-pin";
    for (env, expected) in [
        (
            with(&env, "ESIGNET_KEYS__PKCS11_PIN", wrong_pin),
            "cannot log in to token \"esignet-e2e\": the PIN is wrong",
        ),
        (
            with(&env, "ESIGNET_KEYS__PKCS11_TOKEN_LABEL", "missing-token"),
            "no token labelled \"missing-token\"",
        ),
        (
            with(
                &env,
                "ESIGNET_KEYS__PKCS11_MODULE",
                "/nonexistent/libpkcs11.so",
            ),
            "cannot load the PKCS#11 module /nonexistent/libpkcs11.so",
        ),
    ] {
        let (status, stdout, stderr) = run_cli(&["config", "check"], data.path(), &borrowed(&env));
        assert_eq!(status, 1, "{stdout}{stderr}");
        assert!(
            stderr.contains(expected),
            "{expected} missing from:\n{stderr}"
        );
        assert!(
            !stderr.contains(wrong_pin) && !stderr.contains(PIN),
            "{stderr}"
        );
    }
    // Missing settings are configuration problems, reported with the rest.
    let env = with(&env, "ESIGNET_KEYS__PKCS11_TOKEN_LABEL", "");
    let (status, _, stderr) = run_cli(&["config", "check"], data.path(), &borrowed(&env));
    assert_eq!(status, 1);
    assert!(stderr.contains("keys.pkcs11_token_label"), "{stderr}");
    assert!(
        !data.path().join("esignet.db").exists(),
        "config check starts nothing"
    );
}

pub(crate) async fn login_id_token(server: &Server) -> String {
    let rp = Rp {
        server,
        client_id: "health-services-demo".into(),
        key: server.demo_client_key(),
        redirect_uri: "http://127.0.0.1:8090/callback".into(),
    };
    let (verifier, challenge) = pkce_pair();
    let request = authorize_request(
        &rp.client_id,
        &rp.redirect_uri,
        "openid email",
        Some(&challenge),
    );
    let browser = Browser::start(server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    assert_eq!(browser.otp_login("3519847260").await["errors"], json!([]));
    let code = browser.auth_code(&["email"], &[]).await["response"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, tokens) = rp.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    tokens["id_token"].as_str().unwrap().to_owned()
}

pub(crate) fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn id_tokens_are_signed_by_the_hsm_key_across_rotation_and_restarts() {
    let (_token, conf) = softhsm_token();
    let env = hsm_env(&conf);
    let server = Server::start_in(tempfile::tempdir().unwrap(), &borrowed(&env)).await;
    let first = login_id_token(&server).await;
    let set = jwks(&server).await;
    let (_, claims) = verify_jws(&set, &first, Some("health-services-demo"));
    assert_eq!(claims["aud"], "health-services-demo");
    let data = server.stop();

    // The key is the HSM's: without the HSM the service refuses to start rather than
    // misreading the record.
    let (status, _, stderr) = run_cli(&["keys", "list"], data.path(), &[]);
    assert_eq!(status, 1);
    assert!(stderr.contains("is held in an HSM"), "{stderr}");

    let (status, listing, stderr) = run_cli(&["keys", "list"], data.path(), &borrowed(&env));
    assert_eq!(status, 0, "{stderr}");
    assert!(listing.contains(&kid(&first)), "{listing}");
    let (status, rotated, stderr) = run_cli(&["keys", "rotate"], data.path(), &borrowed(&env));
    assert_eq!(status, 0, "{stderr}");
    assert!(rotated.contains("rotated: new current key"), "{rotated}");

    // Restarted, the binary finds both keys in the token again.
    let server = Server::start_in(data, &borrowed(&env)).await;
    let set = jwks(&server).await;
    assert!(
        set.find(&kid(&first)).is_some(),
        "the first key is still published"
    );
    verify_jws(&set, &first, Some("health-services-demo"));
    let second = login_id_token(&server).await;
    assert_ne!(kid(&second), kid(&first), "new tokens use the rotated key");
    assert!(rotated.contains(&kid(&second)), "{rotated}");
    verify_jws(&set, &second, Some("health-services-demo"));
    for token in [&first, &second] {
        let jwk = set.find(&kid(token)).unwrap();
        let chain = jwk.common.x509_chain.as_ref().unwrap();
        assert_eq!(chain.len(), 2, "leaf and ROOT");
    }
}
