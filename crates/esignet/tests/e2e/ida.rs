//! The real binary with `authenticator.kind = "ida"` against the IDA-compatible test server: a
//! complete OTP login (send-otp → kyc-auth → kyc-exchange) to a userinfo verified with the
//! published JWKS, a wallet binding its key through IDA and logging in by QR code with a WLA
//! token, IDA's codes passed through, IDA faults as clean codes, and `config check` on bad
//! `[ida]` settings.

use esignet_authenticator_ida::test_server::{
    Fault, IDENTITIES, TEST_KERNEL_APP_ID, TEST_KERNEL_CLIENT_ID, TEST_KERNEL_SECRET_KEY, TEST_OTP,
    TestIda, TestIdaSettings,
};
use esignet_authenticator_ida::testing::{certificate_pem, private_key_pem, self_signed};
use serde_json::json;

use crate::harness::{Server, new_rsa_key, run_cli};
use crate::login::{Browser, Rp, authorize_request, pkce_pair};
use crate::verify::{jwks, verify_jws};

mod wallet;

// The test server accepts this client as its API key; shared with the deployment tests.
pub(crate) const CLIENT: &str = "ida-client";
const PARTNER: &str = "mpartner-esignet";
const LICENSE: &str = "e2e-misp-license-key";

/// The test server and the PEM files the binary reads.
pub(crate) struct Ida {
    pub(crate) server: TestIda,
    files: tempfile::TempDir,
}

impl Ida {
    pub(crate) async fn start() -> Self {
        let partner = self_signed("eSignet partner");
        let ida_partner = self_signed("IDA-PARTNER");
        let ida_signing = self_signed("IDA SIGN");
        let binding_ca = self_signed("IDA KEY BINDING CA");
        let files = tempfile::tempdir().unwrap();
        let write = |name: &str, body: String| {
            std::fs::write(files.path().join(name), body).unwrap();
        };
        write("partner-key.pem", private_key_pem(&partner.0));
        write("partner.pem", certificate_pem(&partner.1));
        write("ida-partner.pem", certificate_pem(&ida_partner.1));
        write("ida-sign.pem", certificate_pem(&ida_signing.1));
        write("binding-ca.pem", certificate_pem(&binding_ca.1));
        let server = TestIda::start(TestIdaSettings {
            license_key: LICENSE.to_owned(),
            partner_id: PARTNER.to_owned(),
            api_keys: vec![CLIENT.to_owned()],
            partner_certificate: partner.1,
            ida_partner,
            ida_signing,
            binding_ca,
        })
        .await;
        Self { server, files }
    }

    fn file(&self, name: &str) -> String {
        self.files.path().join(name).to_str().unwrap().to_owned()
    }

    /// The binary's `[authenticator]` and `[ida]` settings for this test server.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ESIGNET_AUTHENTICATOR__KIND", "ida".to_owned()),
            ("ESIGNET_IDA__AUTH_URL", self.server.base_url()),
            ("ESIGNET_IDA__OTP_URL", self.server.base_url()),
            ("ESIGNET_IDA__MISP_LICENSE_KEY", LICENSE.to_owned()),
            ("ESIGNET_IDA__PARTNER_ID", PARTNER.to_owned()),
            // Key binding has no client id to fall back on.
            ("ESIGNET_IDA__API_KEY", CLIENT.to_owned()),
            (
                "ESIGNET_IDA__PARTNER_PRIVATE_KEY_FILE",
                self.file("partner-key.pem"),
            ),
            (
                "ESIGNET_IDA__PARTNER_CERTIFICATE_FILE",
                self.file("partner.pem"),
            ),
            (
                "ESIGNET_IDA__IDA_PARTNER_CERTIFICATE_FILE",
                self.file("ida-partner.pem"),
            ),
            (
                "ESIGNET_IDA__IDA_SIGNING_CERTIFICATE_FILE",
                self.file("ida-sign.pem"),
            ),
            (
                "ESIGNET_IDA__BINDING_CA_CERTIFICATE_FILES",
                self.file("binding-ca.pem"),
            ),
            ("ESIGNET_IDA__TIMEOUT_SECS", "2".to_owned()),
        ]
    }
}

impl Ida {
    /// The binary configured for this test server.
    pub(crate) async fn start_server(&self) -> Server {
        let env = self.env();
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Server::start(&pairs).await
    }
}

async fn start(ida: &Ida) -> Server {
    ida.start_server().await
}

#[tokio::test]
async fn otp_login_through_ida_to_a_verified_userinfo() {
    let ida = Ida::start().await;
    // The KYC signing certificate is published from IDA's key manager.
    let mut env = ida.env();
    env.extend([
        (
            "ESIGNET_IDA__CERTIFICATES_URL",
            ida.server.certificates_url(),
        ),
        ("ESIGNET_IDA__AUTH_TOKEN_URL", ida.server.auth_token_url()),
        (
            "ESIGNET_IDA__AUTH_CLIENT_ID",
            TEST_KERNEL_CLIENT_ID.to_owned(),
        ),
        (
            "ESIGNET_IDA__AUTH_SECRET_KEY",
            TEST_KERNEL_SECRET_KEY.to_owned(),
        ),
        ("ESIGNET_IDA__AUTH_APP_ID", TEST_KERNEL_APP_ID.to_owned()),
    ]);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start(&pairs).await;
    let key = new_rsa_key();
    server.register_client(CLIENT, json!({}), &key).await;
    let (verifier, challenge) = pkce_pair();
    let mut request = authorize_request(
        CLIENT,
        "https://rp.example/callback",
        "openid profile",
        Some(&challenge),
    );
    request["claims"] = json!({"userinfo": {"name": {"essential": true}, "email": null}});
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    let uin = IDENTITIES[0].uin;

    let sent = browser.send_otp(uin).await;
    assert_eq!(sent["errors"], json!([]), "{sent}");
    assert_eq!(sent["response"]["maskedEmail"], "s*******h@example.org");
    // A wrong OTP: IDA's code reaches the UI verbatim.
    let wrong = browser
        .authenticate(uin, "OTP", "999999", "alpha-numeric")
        .await;
    assert_eq!(wrong["errors"][0]["errorCode"], "IDA-OTA-004", "{wrong}");
    let authenticated = browser
        .authenticate(uin, "OTP", TEST_OTP, "alpha-numeric")
        .await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let code = browser.auth_code(&["name", "email"], &[]).await;
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
    let sub = id_token["sub"].as_str().unwrap().to_owned();

    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = rp.userinfo(&format!("Bearer {access}"), None).await;
    assert_eq!(status, 200, "{body}");
    // IDA's KYC JWT, verified with the IDA signing certificate eSignet publishes.
    let (_, userinfo) = verify_jws(&set, &body, Some(CLIENT));
    assert_eq!(userinfo["sub"], json!(sub));
    assert_eq!(userinfo["name"], "Siddharth K Mansour");
    assert_eq!(userinfo["email"], "siddharth@example.org");
    assert!(userinfo.get("birthdate").is_none());
}

#[tokio::test]
async fn ida_faults_give_clean_codes() {
    let ida = Ida::start().await;
    let server = start(&ida).await;
    server
        .register_client(CLIENT, json!({}), &new_rsa_key())
        .await;
    let (_, challenge) = pkce_pair();
    let request = authorize_request(
        CLIENT,
        "https://rp.example/callback",
        "openid profile",
        Some(&challenge),
    );
    let browser = Browser::start(&server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    let uin = IDENTITIES[0].uin;
    ida.server.set_fault(Fault::TamperSignature);
    let sent = browser.send_otp(uin).await;
    assert_eq!(sent["errors"][0]["errorCode"], "send_otp_failed", "{sent}");
    ida.server.set_fault(Fault::Hang);
    let hang = browser
        .authenticate(uin, "OTP", TEST_OTP, "alpha-numeric")
        .await;
    assert_eq!(hang["errors"][0]["errorCode"], "auth_failed", "{hang}");
}

#[test]
fn config_check_explains_ida_mistakes() {
    let data = tempfile::tempdir().unwrap();
    let other_key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other_key.path(), private_key_pem(&self_signed("other").0)).unwrap();
    let partner = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(partner.path(), certificate_pem(&self_signed("partner").1)).unwrap();
    let (status, _, stderr) = run_cli(
        &["config", "check"],
        data.path(),
        &[
            ("ESIGNET_AUTHENTICATOR__KIND", "ida"),
            (
                "ESIGNET_IDA__AUTH_URL",
                "ida-auth.local/idauthentication/v1",
            ),
            (
                "ESIGNET_IDA__PARTNER_PRIVATE_KEY_FILE",
                other_key.path().to_str().unwrap(),
            ),
            (
                "ESIGNET_IDA__PARTNER_CERTIFICATE_FILE",
                partner.path().to_str().unwrap(),
            ),
            (
                "ESIGNET_IDA__IDA_PARTNER_CERTIFICATE_FILE",
                "/nonexistent/ida-partner.pem",
            ),
        ],
    );
    assert_eq!(status, 1, "{stderr}");
    for expected in [
        "ida.auth_url",
        "is not a URL",
        "ida.misp_license_key",
        "the private key does not belong to ida.partner_certificate_file",
        "ida.ida_partner_certificate_file",
        "cannot read",
        "ida.ida_signing_certificate_file",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected} missing from:\n{stderr}"
        );
    }
}
