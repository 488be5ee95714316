//! `keys.pkcs11_kek`: the key-encryption key is an AES key in a SoftHSM2 token of the test's
//! own. The real binary starts, signs, restarts and reads every stored key again (the mock
//! identity system's software keys are sealed by the token), with no KEK file; a wrong PIN is
//! a clear startup error.

use crate::harness::{Server, run_cli};
use crate::hsm::{PIN, borrowed, hsm_env, kid, login_id_token, softhsm_token, with};
use crate::verify::{jwks, verify_jws};

#[tokio::test]
async fn hsm_kek_seals_the_keys_across_restarts_and_a_wrong_pin_stops_the_start() {
    let (_token, conf) = softhsm_token();
    let env = with(&hsm_env(&conf), "ESIGNET_KEYS__PKCS11_KEK", "true");
    let server = Server::start_in(tempfile::tempdir().unwrap(), &borrowed(&env)).await;
    let first = login_id_token(&server).await;
    verify_jws(&jwks(&server).await, &first, Some("health-services-demo"));
    let data = server.stop();
    assert!(
        !data.path().join("master.key").exists(),
        "no software KEK is created"
    );

    // Restarted on the same token: the same KEK is found by label and opens every key.
    let server = Server::start_in(data, &borrowed(&env)).await;
    let set = jwks(&server).await;
    verify_jws(&set, &first, Some("health-services-demo"));
    let second = login_id_token(&server).await;
    assert_eq!(
        kid(&second),
        kid(&first),
        "the same key signs after a restart"
    );
    verify_jws(&set, &second, Some("health-services-demo"));
    let data = server.stop();

    let wrong_pin = "1357-not-the-pin";
    let (status, stdout, stderr) = run_cli(
        &["keys", "list"],
        data.path(),
        &borrowed(&with(&env, "ESIGNET_KEYS__PKCS11_PIN", wrong_pin)),
    );
    assert_eq!(status, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("cannot log in to token \"esignet-e2e\": the PIN is wrong"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(wrong_pin) && !stderr.contains(PIN),
        "{stderr}"
    );
    let (status, _, stderr) = run_cli(
        &["config", "check"],
        data.path(),
        &borrowed(&with(&env, "ESIGNET_KEYS__PKCS11_PIN", wrong_pin)),
    );
    assert_eq!(status, 1);
    assert!(stderr.contains("the PIN is wrong"), "{stderr}");

    // A missing token is as clear.
    let (status, _, stderr) = run_cli(
        &["keys", "list"],
        data.path(),
        &borrowed(&with(
            &env,
            "ESIGNET_KEYS__PKCS11_TOKEN_LABEL",
            "missing-token",
        )),
    );
    assert_eq!(status, 1);
    assert!(
        stderr.contains("no token labelled \"missing-token\""),
        "{stderr}"
    );
}
