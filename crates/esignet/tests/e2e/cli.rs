//! The command line: `config check` and `keys list|rotate`, including rotation with overlap
//! across a restart.

use serde_json::json;

use crate::harness::{Server, run_cli};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};
use crate::verify::{jwks, verify_jws};

#[test]
fn config_check_lists_every_problem_at_once() {
    let data = tempfile::tempdir().unwrap();
    let (status, stdout, _) = run_cli(&["config", "check"], data.path(), &[]);
    assert_eq!(status, 0);
    assert!(stdout.contains("configuration is valid"));

    let (status, _, stderr) = run_cli(
        &["config", "check"],
        data.path(),
        &[
            ("ESIGNET_SERVER__PUBLIC_URL", "ftp://nowhere"),
            ("ESIGNET_KEYS__ALGORITHM", "HS256"),
            ("ESIGNET_KEYS__ROTATE_BEFORE_DAYS", "400"),
            ("ESIGNET_SERVR__BIND", "127.0.0.1:1"),
        ],
    );
    assert_eq!(status, 1, "{stderr}");
    for key in [
        "server.public_url",
        "keys.algorithm",
        "keys.rotate_before_days",
        "ESIGNET_SERVR__BIND",
    ] {
        assert!(stderr.contains(key), "{key} missing from:\n{stderr}");
    }
    assert!(
        !data.path().join("esignet.db").exists(),
        "config check starts nothing"
    );
}

#[tokio::test]
async fn rotated_keys_overlap_so_earlier_tokens_still_verify() {
    let server = Server::start(&[]).await;
    let rp = Rp {
        server: &server,
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
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    assert_eq!(browser.otp_login("3519847260").await["errors"], json!([]));
    let code = browser.auth_code(&["email"], &[]).await["response"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, tokens) = rp.token(&code, Some(&verifier), None).await;
    assert_eq!(status, 200);
    let old_id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let old_kid = jsonwebtoken::decode_header(&old_id_token)
        .unwrap()
        .kid
        .unwrap();
    drop(rp);
    let data = server.stop();

    let (status, stdout, stderr) = run_cli(&["keys", "rotate"], data.path(), &[]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("rotated: new current key"), "{stdout}");
    let (status, listing, _) = run_cli(&["keys", "list"], data.path(), &[]);
    assert_eq!(status, 0);
    assert!(listing.contains(&old_kid), "{listing}");
    assert_eq!(
        listing
            .lines()
            .filter(|l| l.trim_end().ends_with("yes"))
            .count(),
        1,
        "{listing}"
    );

    let server = Server::start_in(data, &[]).await;
    let set = jwks(&server).await;
    // The token signed before the rotation still verifies.
    let (_, claims) = verify_jws(&set, &old_id_token, Some("health-services-demo"));
    assert_eq!(claims["aud"], "health-services-demo");
    let rp = Rp {
        server: &server,
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
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    assert_eq!(browser.otp_login("3519847260").await["errors"], json!([]));
    let code = browser.auth_code(&["email"], &[]).await["response"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, tokens) = rp.token(&code, Some(&verifier), None).await;
    let new_token = tokens["id_token"].as_str().unwrap();
    let new_kid = jsonwebtoken::decode_header(new_token).unwrap().kid.unwrap();
    assert_ne!(new_kid, old_kid, "new tokens use the rotated key");
    verify_jws(&set, new_token, Some("health-services-demo"));
}
