//! Signup with the embedded defaults (`esignet serve`: SQLite store, in-process cache,
//! `authenticator.kind = "mock"`): the built-in registry writes to the mock identity system of
//! the same process, so a registered resident logs in at once, a reset password works, and the
//! identity survives a restart on the same data directory.

use serde_json::{Value, json};

use super::{OTP, SignupClient, error_code, otp_challenge};
use crate::harness::Server;
use crate::login::{Browser, Rp, authorize_request};
use crate::verify::{jwks, verify_jws};

const PHONE: &str = "9123456780";

/// `esignet serve` with signup on and nothing else installed (the identifier is a bare number,
/// as the built-in directory's individual ids are digits).
async fn serve(data: tempfile::TempDir) -> Server {
    Server::start_in(
        data,
        &[
            ("ESIGNET_SIGNUP__ENABLED", "true"),
            ("ESIGNET_SIGNUP__CAPTCHA_REQUIRED", "false"),
            ("ESIGNET_SIGNUP__FIXED_OTP", OTP),
            ("ESIGNET_SIGNUP__IDENTIFIER_REGEX", "^[1-9][0-9]{7,9}$"),
            ("ESIGNET_SIGNUP__IDENTIFIER_PREFIX", ""),
        ],
    )
    .await
}

/// A whole login of the demo client with one factor; returns the authentication's envelope
/// and, on success, the userinfo claims.
async fn log_in(server: &Server, factor: &str, secret: Option<&str>) -> (Value, Option<Value>) {
    let rp = Rp::demo(server);
    let mut request = authorize_request(&rp.client_id, &rp.redirect_uri, "openid profile", None);
    request["acrValues"] = json!("mosip:idp:acr:password mosip:idp:acr:generated-code");
    request["claims"] = json!({"userinfo": {"name": {"essential": true}, "phone_number": null}});
    let browser = Browser::start(server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    let authenticated = match (factor, secret) {
        ("OTP", None) => browser.otp_login(PHONE).await,
        (factor, Some(secret)) => {
            browser
                .authenticate(PHONE, factor, secret, "alpha-numeric")
                .await
        }
        _ => unreachable!(),
    };
    if authenticated["errors"] != json!([]) {
        return (authenticated, None);
    }
    let code = browser.auth_code(&["name", "phone_number"], &[]).await;
    assert_eq!(code["errors"], json!([]), "{code}");
    let (status, _, tokens) = rp
        .token(code["response"]["code"].as_str().unwrap(), None, None)
        .await;
    assert_eq!(status, 200, "{tokens}");
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let (status, _, userinfo) = rp.userinfo(&bearer, None).await;
    assert_eq!(status, 200, "{userinfo}");
    let (_, claims) = verify_jws(&jwks(server).await, &userinfo, Some(&rp.client_id));
    (authenticated, Some(claims))
}

#[tokio::test]
async fn signup_with_the_embedded_defaults_registers_logs_in_resets_and_survives_a_restart() {
    let server = serve(tempfile::tempdir().unwrap()).await;
    // An unknown phone number cannot log in yet.
    let (refused, _) = log_in(&server, "PWD", Some("Secret@2024")).await;
    assert_eq!(error_code(&refused), "invalid_individual_id");

    // The login pages issued their own CSRF token in the shared cookie jar: the signup page,
    // opened after a login, reads the current one.
    let client = SignupClient::new(&server).await;

    client.verified(PHONE, "REGISTRATION", None).await;
    // The account form is the built-in registry's (the mock identity system's signup form).
    let form = client.get("/registration/ui-spec").await;
    assert_eq!(form["response"]["schema"][0]["id"], "phone", "{form}");
    // The registry's schema decides, with the HTTP mock's codes; the form can be corrected.
    let rejected = client
        .post(
            "/registration/register",
            json!({"username": PHONE, "password": "Secret@2024", "consent": "AGREE",
                   "userInfo": {"phone": PHONE, "fullName": [{"language": "eng", "value": "Dara Sok"}],
                                "preferredLang": "eng", "email": "not-an-address"},
                   "locale": "eng"}),
        )
        .await;
    assert_eq!(error_code(&rejected), "invalid_email");
    let registered = client
        .post(
            "/registration/register",
            json!({"username": PHONE, "password": "Secret@2024", "consent": "AGREE",
                   "userInfo": {"phone": PHONE, "fullName": [{"language": "eng", "value": "Dara Sok"}],
                                "preferredLang": "eng"},
                   "locale": "eng"}),
        )
        .await;
    assert_eq!(
        registered["response"],
        json!({"status": "PENDING"}),
        "{registered}"
    );
    let status = client.get("/registration/status").await;
    assert_eq!(
        status["response"],
        json!({"status": "COMPLETED"}),
        "{status}"
    );

    // The same process authenticates the new resident at once: password, then OTP.
    let (authenticated, claims) = log_in(&server, "PWD", Some("Secret@2024")).await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let claims = claims.unwrap();
    assert_eq!(claims["name"], "Dara Sok", "{claims}");
    assert_eq!(claims["phone_number"], PHONE, "{claims}");
    let (wrong, _) = log_in(&server, "PWD", Some("Wrong@2024")).await;
    assert_eq!(error_code(&wrong), "auth_failed");
    let (otp, claims) = log_in(&server, "OTP", None).await;
    assert_eq!(otp["errors"], json!([]), "{otp}");
    assert_eq!(claims.unwrap()["name"], "Dara Sok");

    // Registering the number again is refused.
    let client = SignupClient::new(&server).await;
    client.generate(PHONE, "REGISTRATION", false).await;
    let again = client.verify(PHONE, json!([otp_challenge(OTP)])).await;
    assert_eq!(error_code(&again), "identifier_already_registered");

    // Forgot password: OTP plus the full name; then only the new password logs in.
    let kbi = json!({"fullName": [{"language": "eng", "value": "Dara Sok"}]});
    client.verified(PHONE, "RESET_PASSWORD", Some(kbi)).await;
    let reset = client
        .post(
            "/reset-password",
            json!({"identifier": PHONE, "password": "Changed#2025", "locale": "eng"}),
        )
        .await;
    assert_eq!(reset["response"], json!({"status": "PENDING"}), "{reset}");
    let status = client.get("/registration/status").await;
    assert_eq!(status["response"]["status"], "COMPLETED", "{status}");
    let (old, _) = log_in(&server, "PWD", Some("Secret@2024")).await;
    assert_eq!(error_code(&old), "auth_failed");
    let (new, _) = log_in(&server, "PWD", Some("Changed#2025")).await;
    assert_eq!(new["errors"], json!([]), "{new}");

    // Registered identities live in the SQLite store, the password only hashed.
    let data = server.stop();
    let database = std::fs::read(data.path().join("esignet.db")).unwrap_or_default();
    let wal = std::fs::read(data.path().join("esignet.db-wal")).unwrap_or_default();
    for bytes in [&database, &wal] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("Changed#2025") && !text.contains("Secret@2024"));
    }
    assert!(
        String::from_utf8_lossy(&database).contains("pbkdf2-sha256$")
            || String::from_utf8_lossy(&wal).contains("pbkdf2-sha256$"),
        "the salted hash is stored"
    );

    // A restart on the same data directory: the resident still logs in, with the new password.
    let server = serve(data).await;
    let (restarted, claims) = log_in(&server, "PWD", Some("Changed#2025")).await;
    assert_eq!(restarted["errors"], json!([]), "{restarted}");
    assert_eq!(claims.unwrap()["name"], "Dara Sok");
    let (old, _) = log_in(&server, "PWD", Some("Secret@2024")).await;
    assert_eq!(error_code(&old), "auth_failed");
}

#[tokio::test]
async fn video_ekyc_with_the_built_in_registry_adds_verified_claims_the_login_releases() {
    // The eKYC deployment of the HTTP round trip, with the embedded mock instead: the verified
    // claims are written to the process's own directory and released by the resumed login.
    let env: Vec<(String, String)> = super::ekyc::ekyc_env("")
        .into_iter()
        .filter(|(key, _)| !key.starts_with("ESIGNET_AUTHENTICATOR__"))
        .collect();
    let server = Server::start(&crate::scaleout::as_refs(&env)).await;
    super::ekyc::round_trip(&server, &server).await;
}
