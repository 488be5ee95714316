//! Wallets over real HTTP: key binding, then the QR-code (linked) login with the browser
//! long-polling, through to a verified userinfo; and the ways it must fail (expired link code,
//! unbound key, another resident's certificate, replayed WLA token, declined consent, timeouts).
//! The wallet is `esignet-wallet-sim`, the same code as `esignet wallet-sim`.

use std::sync::Arc;
use std::time::Duration;

use esignet_jose::{Algorithm, PrivateKey};
use esignet_wallet_sim::{Binding, ConsentChoice, WalletError, WalletSim};
use serde_json::{Value, json};

use crate::harness::Server;
use crate::login::{Browser, Rp, authorize_request, csrf_headers, pkce_pair};
use crate::verify::{jwks, verify_jws};

pub(crate) const MANSOUR: &str = "8267411571";
const SREYMOM: &str = "5860142938";
const PRIYA: &str = "3519847260";
const OTP: &str = "111111";

pub(crate) fn wallet(server: &Server) -> WalletSim {
    WalletSim::new(
        &server.base,
        "/v1/esignet",
        Arc::new(esignet_spi::SystemClock),
    )
    .unwrap()
}

pub(crate) fn demo_rp(server: &Server) -> Rp<'_> {
    Rp {
        server,
        client_id: "health-services-demo".into(),
        key: server.demo_client_key(),
        redirect_uri: "http://127.0.0.1:8090/callback".into(),
    }
}

/// The login page's part up to the QR code: oauth-details (wallet ACR; name essential, email
/// voluntary) and a link code. Returns the browser, the PKCE verifier and the link code.
pub(crate) async fn show_qr<'a>(server: &'a Server, rp: &Rp<'_>) -> (Browser<'a>, String, String) {
    let (verifier, challenge) = pkce_pair();
    let mut request =
        authorize_request(&rp.client_id, &rp.redirect_uri, "openid", Some(&challenge));
    request["acrValues"] = json!("mosip:idp:acr:linked-wallet");
    request["claims"] = json!({"userinfo": {"name": {"essential": true}, "email": null}});
    let browser = Browser::start(server, "/authorization/v3/oauth-details", request)
        .await
        .unwrap();
    let answer = browser
        .call(
            "/linked-authorization/link-code",
            json!({"transactionId": browser.transaction_id}),
        )
        .await;
    assert_eq!(answer["errors"], json!([]), "{answer}");
    let link_code = answer["response"]["linkCode"].as_str().unwrap().to_owned();
    assert_eq!(link_code.len(), 15);
    assert!(answer["response"]["expireDateTime"].is_string());
    (browser, verifier, link_code)
}

pub(crate) async fn link_status(browser: &Browser<'_>, link_code: &str) -> Value {
    browser
        .call(
            "/linked-authorization/link-status",
            json!({"transactionId": browser.transaction_id, "linkCode": link_code}),
        )
        .await
}

pub(crate) async fn link_auth_code(browser: &Browser<'_>, link_code: &str) -> Value {
    browser
        .call(
            "/linked-authorization/link-auth-code",
            json!({"transactionId": browser.transaction_id, "linkedCode": link_code}),
        )
        .await
}

fn error_code(answer: &Value) -> &str {
    answer["errors"][0]["errorCode"]
        .as_str()
        .unwrap_or_default()
}

fn api_code(result: Result<impl std::fmt::Debug, WalletError>) -> String {
    result
        .unwrap_err()
        .code()
        .unwrap_or("not an API error")
        .to_owned()
}

/// link-transaction v2 + authenticate v2 with `token` for `individual_id`; the authenticate
/// answer (or error).
async fn wallet_authenticate(
    wallet: &WalletSim,
    link_code: &str,
    individual_id: &str,
    token: &str,
) -> Result<Value, WalletError> {
    let details = wallet
        .call(
            "/linked-authorization/v2/link-transaction",
            json!({"linkCode": link_code}),
        )
        .await?;
    wallet
        .call(
            "/linked-authorization/v2/authenticate",
            json!({
                "linkedTransactionId": details["linkTransactionId"],
                "individualId": individual_id,
                "challengeList": [{"authFactorType": "WLA", "challenge": token, "format": "jwt"}],
            }),
        )
        .await
}

#[tokio::test]
async fn bind_then_qr_login_through_to_a_verified_userinfo() {
    let server = Server::start(&[]).await;
    let rp = demo_rp(&server);
    let wallet = wallet(&server);
    let binding = wallet.bind(MANSOUR, OTP, Algorithm::ES256).await.unwrap();
    assert!(
        binding
            .certificate
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(binding.expire_date_time.ends_with('Z'));
    // An RSA wallet gets its binding id encrypted to its key.
    let rsa = wallet.bind(SREYMOM, OTP, Algorithm::RS256).await.unwrap();
    assert_eq!(rsa.wallet_user_id.split('.').count(), 5);

    let (browser, verifier, link_code) = show_qr(&server, &rp).await;
    // The browser endpoints need CSRF; the wallet's (the simulator sends no cookie) do not.
    let (status, _) = server
        .post_wrapped(
            "/linked-authorization/link-code",
            json!({"transactionId": browser.transaction_id}),
            reqwest::header::HeaderMap::new(),
        )
        .await;
    assert_eq!(status, 403);

    // The page long-polls link-status while the wallet scans, authenticates and consents.
    let deep_link = format!("io.mosip.residentapp.inji://wla-auth?linkCode={link_code}");
    let (status, login) = tokio::join!(link_status(&browser, &link_code), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        wallet
            .login(&binding, MANSOUR, &deep_link, &ConsentChoice::All)
            .await
    });
    assert_eq!(status["response"]["linkStatus"], "LINKED", "{status}");
    let login = login.unwrap();
    assert_eq!(login.consent_action, "CAPTURE");
    assert_eq!(login.accepted_claims, ["name", "email"]);

    let answer = link_auth_code(&browser, &link_code).await;
    assert_eq!(answer["errors"], json!([]), "{answer}");
    let code = answer["response"]["code"].as_str().unwrap();
    assert_eq!(answer["response"]["state"], "state-123");
    let (status, _, tokens) = rp.token(code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    let set = jwks(&server).await;
    let (_, id_token) = verify_jws(
        &set,
        tokens["id_token"].as_str().unwrap(),
        Some(&rp.client_id),
    );
    assert_eq!(id_token["acr"], "mosip:idp:acr:linked-wallet");
    let access_token = tokens["access_token"].as_str().unwrap();
    let (status, _, userinfo) = rp.userinfo(&format!("Bearer {access_token}"), None).await;
    assert_eq!(status, 200, "{userinfo}");
    let (_, claims) = verify_jws(&set, &userinfo, Some(&rp.client_id));
    assert_eq!(claims["sub"], id_token["sub"]);
    assert_eq!(claims["name"], "Siddharth Kumar Mansour");
    assert_eq!(claims["email"], "siddharth.mansour@example.com");

    // The code was collected once; the link code is spent.
    assert_eq!(
        error_code(&link_auth_code(&browser, &link_code).await),
        "invalid_link_code"
    );

    // The wallet-signed consent is reused: the next wallet login skips the consent step.
    let (browser, verifier, link_code) = show_qr(&server, &rp).await;
    let login = wallet
        .login(&binding, MANSOUR, &link_code, &ConsentChoice::All)
        .await
        .unwrap();
    assert_eq!(login.consent_action, "NOCAPTURE");
    let answer = link_auth_code(&browser, &link_code).await;
    let code = answer["response"]["code"].as_str().unwrap();
    let (status, _, _) = rp.token(code, Some(&verifier), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn expired_link_codes_and_long_polls_time_out_cleanly() {
    let server = Server::start(&[
        ("ESIGNET_WALLET__LINK_CODE_TTL_SECS", "5"),
        ("ESIGNET_WALLET__LINK_STATUS_TIMEOUT_SECS", "1"),
        ("ESIGNET_WALLET__LINK_AUTH_CODE_TIMEOUT_SECS", "1"),
    ])
    .await;
    let rp = demo_rp(&server);
    let (browser, _, link_code) = show_qr(&server, &rp).await;
    let started = std::time::Instant::now();
    let answer = link_status(&browser, &link_code).await;
    assert_eq!(error_code(&answer), "response_timeout", "{answer}");
    assert_eq!(
        answer["errors"][0]["errorMessage"],
        "Deferred response timed out."
    );
    assert!(started.elapsed() >= Duration::from_secs(1));

    // Poll as the page does until the code expires (bounded: the TTL is 5 s, each poll 1 s;
    // the margin keeps a loaded machine from expiring the code before the first poll).
    let mut outcome = String::new();
    for _ in 0..10 {
        outcome = error_code(&link_status(&browser, &link_code).await).to_owned();
        if outcome != "response_timeout" {
            break;
        }
    }
    assert_eq!(outcome, "invalid_link_code");
    let wallet = wallet(&server);
    assert_eq!(
        api_code(
            wallet
                .call(
                    "/linked-authorization/v2/link-transaction",
                    json!({"linkCode": link_code}),
                )
                .await
        ),
        "invalid_link_code"
    );
}

#[tokio::test]
async fn wrong_keys_foreign_certificates_replays_and_declined_consent_fail() {
    let server = Server::start(&[("ESIGNET_WALLET__LINK_AUTH_CODE_TIMEOUT_SECS", "1")]).await;
    let rp = demo_rp(&server);
    let wallet = wallet(&server);
    let mansour = wallet.bind(MANSOUR, OTP, Algorithm::ES256).await.unwrap();
    let sreymom = wallet.bind(SREYMOM, OTP, Algorithm::ES256).await.unwrap();

    // A key that was never bound, naming Mansour's certificate.
    let forged = Binding {
        key: PrivateKey::generate_ec_p256().unwrap(),
        ..mansour.clone()
    };
    let (_, _, link_code) = show_qr(&server, &rp).await;
    let token = wallet.wla_token(&forged, MANSOUR).unwrap();
    assert_eq!(
        api_code(wallet_authenticate(&wallet, &link_code, MANSOUR, &token).await),
        "invalid_wla_token"
    );

    // Sreymom's certificate and key, presented as Mansour (who has a binding of his own): a
    // failed binding authentication.
    let (_, _, link_code) = show_qr(&server, &rp).await;
    let token = wallet.wla_token(&sreymom, MANSOUR).unwrap();
    assert_eq!(
        api_code(wallet_authenticate(&wallet, &link_code, MANSOUR, &token).await),
        "binding_auth_failed"
    );
    // Presented as Priya, who has bound no key at all: there is no binding.
    let (_, _, link_code) = show_qr(&server, &rp).await;
    let token = wallet.wla_token(&sreymom, PRIYA).unwrap();
    assert_eq!(
        api_code(wallet_authenticate(&wallet, &link_code, PRIYA, &token).await),
        "binding_not_found"
    );

    // A valid token works once; replayed in another login it is refused.
    let (_, _, link_code) = show_qr(&server, &rp).await;
    let token = wallet.wla_token(&mansour, MANSOUR).unwrap();
    let answer = wallet_authenticate(&wallet, &link_code, MANSOUR, &token)
        .await
        .unwrap();
    assert_eq!(answer["consentAction"], "CAPTURE");
    let (_, _, link_code) = show_qr(&server, &rp).await;
    assert_eq!(
        api_code(wallet_authenticate(&wallet, &link_code, MANSOUR, &token).await),
        "invalid_wla_token"
    );

    // Declining the essential claim: the wallet is refused and the page keeps waiting.
    let (browser, _, link_code) = show_qr(&server, &rp).await;
    let declined = wallet
        .login(
            &mansour,
            MANSOUR,
            &link_code,
            &ConsentChoice::Claims(vec!["email".into()]),
        )
        .await;
    assert_eq!(api_code(declined), "invalid_accepted_claim");
    assert_eq!(
        error_code(&link_auth_code(&browser, &link_code).await),
        "response_timeout"
    );

    // A key bound to one resident cannot be bound to another.
    let (status, answer) = server
        .post_wrapped(
            "/binding/binding-otp",
            json!({"individualId": SREYMOM, "otpChannels": ["phone"]}),
            csrf_headers("unused"),
        )
        .await;
    assert_eq!((status, answer["errors"].clone()), (200, json!([])));
    let answer = wallet
        .call(
            "/binding/wallet-binding",
            json!({
                "individualId": SREYMOM,
                "challengeList": [{"authFactorType": "OTP", "challenge": OTP, "format": "alpha-numeric"}],
                "publicKey": mansour.key.public_jwk().to_json(),
                "authFactorType": "WLA",
                "format": "jwt",
            }),
        )
        .await;
    assert_eq!(api_code(answer), "duplicate_public_key");
}

#[tokio::test]
async fn the_wallet_sim_command_binds_and_logs_in() {
    let server = Server::start(&[]).await;
    let rp = demo_rp(&server);
    let state = tempfile::tempdir().unwrap();
    let state_file = state.path().join("wallet.json");
    let state_arg = state_file.to_str().unwrap();
    let (status, stdout, stderr) = crate::harness::run_cli(
        &[
            "wallet-sim",
            "--url",
            &server.base,
            "--state-file",
            state_arg,
        ],
        state.path(),
        &[],
    );
    assert_eq!(status, 0, "{stdout}{stderr}");
    assert!(stdout.contains("bound a new ES256 key"), "{stdout}");
    assert!(state_file.is_file());

    let (browser, verifier, link_code) = show_qr(&server, &rp).await;
    let (status, stdout, stderr) = crate::harness::run_cli(
        &[
            "wallet-sim",
            "--url",
            &server.base,
            "--state-file",
            state_arg,
            "--link-code",
            &link_code,
        ],
        state.path(),
        &[],
    );
    assert_eq!(status, 0, "{stdout}{stderr}");
    assert!(stdout.contains("using the binding"), "{stdout}");
    assert!(
        stdout.contains("consent CAPTURE (claims: name;"),
        "{stdout}"
    );
    assert_eq!(
        link_status(&browser, &link_code).await["response"]["linkStatus"],
        "LINKED"
    );
    let answer = link_auth_code(&browser, &link_code).await;
    let code = answer["response"]["code"].as_str().unwrap();
    let (status, _, tokens) = rp.token(code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn wallets_work_against_the_identity_system_over_http() {
    // `esignet demo`: the provider calls the mock identity service over HTTP, binding included.
    let identity_bind = format!("127.0.0.1:{}", crate::harness::free_port());
    let rp_bind = format!("127.0.0.1:{}", crate::harness::free_port());
    let server = Server::launch(
        &[
            "demo",
            "--identity-bind",
            &identity_bind,
            "--rp-bind",
            &rp_bind,
        ],
        tempfile::tempdir().unwrap(),
        &[],
    )
    .await;
    let rp = demo_rp(&server);
    let wallet = wallet(&server);
    let binding = wallet.bind(MANSOUR, OTP, Algorithm::RS256).await.unwrap();
    let (browser, verifier, link_code) = show_qr(&server, &rp).await;
    let login = wallet
        .login(&binding, MANSOUR, &link_code, &ConsentChoice::EssentialOnly)
        .await
        .unwrap();
    assert_eq!(login.accepted_claims, ["name"]);
    let answer = link_auth_code(&browser, &link_code).await;
    let code = answer["response"]["code"].as_str().unwrap();
    let (status, _, tokens) = rp.token(code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    let access_token = tokens["access_token"].as_str().unwrap();
    let (status, _, userinfo) = rp.userinfo(&format!("Bearer {access_token}"), None).await;
    assert_eq!(status, 200);
    let (_, claims) = verify_jws(&jwks(&server).await, &userinfo, Some(&rp.client_id));
    assert_eq!(claims["name"], "Siddharth Kumar Mansour");
}

/// The binding CA set a wallet fetches: `(x5c chains as DER, the whole document)`.
async fn binding_ca_chains(server: &Server) -> (Vec<Vec<Vec<u8>>>, Value) {
    let response = server
        .http
        .get(server.url("/binding/certificates"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let set: Value = response.json().await.unwrap();
    let engine = base64::engine::general_purpose::STANDARD;
    let chains = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| {
            key["x5c"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b64| base64::Engine::decode(&engine, b64.as_str().unwrap()).unwrap())
                .collect()
        })
        .collect();
    (chains, set)
}

/// Whether the PEM `certificate` verifies, by an independent X.509 implementation, against
/// the first certificate of one of `chains`, and every chain links up by signature.
fn chains_to_published_ca(certificate: &str, chains: &[Vec<Vec<u8>>]) -> bool {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, pem) = x509_parser::pem::parse_x509_pem(certificate.as_bytes()).unwrap();
    let (_, leaf) = X509Certificate::from_der(&pem.contents).unwrap();
    chains.iter().any(|chain| {
        let parsed: Vec<X509Certificate> = chain
            .iter()
            .map(|der| X509Certificate::from_der(der).unwrap().1)
            .collect();
        let links = parsed.windows(2).all(|pair| {
            pair[0].issuer() == pair[1].subject()
                && pair[0].verify_signature(Some(pair[1].public_key())).is_ok()
        });
        links
            && leaf.issuer() == parsed[0].subject()
            && leaf.verify_signature(Some(parsed[0].public_key())).is_ok()
    })
}

#[tokio::test]
async fn a_binding_certificate_chains_to_the_published_ca_and_rebinding_retires_the_old_key() {
    let server = Server::start(&[]).await;
    let rp = demo_rp(&server);
    let wallet = wallet(&server);
    // `bind` itself refuses a certificate that does not chain to /binding/certificates.
    let first = wallet.bind(MANSOUR, OTP, Algorithm::ES256).await.unwrap();
    let (chains, set) = binding_ca_chains(&server).await;
    assert!(!chains.is_empty(), "{set}");
    for key in set["keys"].as_array().unwrap() {
        assert_eq!(
            key["key_ops"],
            json!(["verify"]),
            "a CA key never verifies tokens"
        );
        assert!(key["kid"].as_str().is_some_and(|kid| !kid.is_empty()));
        assert!(key.get("use").is_none());
    }
    assert!(chains_to_published_ca(&first.certificate, &chains));
    // The CA keys are not in the token JWKS: an RP must never accept a JWT they signed.
    let token_keys = jwks(&server).await;
    for key in set["keys"].as_array().unwrap() {
        assert!(
            !token_keys
                .keys
                .iter()
                .any(|token_key| token_key.common.key_id.as_deref() == key["kid"].as_str()),
            "binding CA {} published as a token key",
            key["kid"]
        );
    }
    // A certificate of another deployment's binding CA does not verify against this set.
    let elsewhere = Server::start(&[]).await;
    let foreign = crate::wallet::wallet(&elsewhere)
        .bind(MANSOUR, OTP, Algorithm::ES256)
        .await
        .unwrap()
        .certificate;
    drop(elsewhere);
    assert!(!chains_to_published_ca(&foreign, &chains));
    assert!(matches!(
        wallet.verify_certificate(&foreign).await,
        Err(WalletError::Protocol(_))
    ));

    // Re-binding replaces the binding: the old key's WLA tokens fail as a binding
    // authentication, the new key's work.
    let second = wallet.bind(MANSOUR, OTP, Algorithm::RS256).await.unwrap();
    assert_ne!(first.thumbprint, second.thumbprint);
    assert!(chains_to_published_ca(&second.certificate, &chains));
    let (_, _, link_code) = show_qr(&server, &rp).await;
    let stale = wallet.wla_token(&first, MANSOUR).unwrap();
    assert_eq!(
        api_code(wallet_authenticate(&wallet, &link_code, MANSOUR, &stale).await),
        "binding_auth_failed"
    );
    let (_, _, link_code) = show_qr(&server, &rp).await;
    let fresh = wallet.wla_token(&second, MANSOUR).unwrap();
    let answer = wallet_authenticate(&wallet, &link_code, MANSOUR, &fresh)
        .await
        .unwrap();
    assert_eq!(answer["consentAction"], "CAPTURE");
}
