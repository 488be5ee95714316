//! A wallet against the real binary with `authenticator.kind = "ida"`: it binds its key through
//! IDA's identity key binding (the certificate verified against `/binding/certificates`, which
//! publishes the IDA binding CA), then logs in by QR code with a WLA token that IDA checks in
//! kyc-auth, through to a verified userinfo; IDA's refusals reach the wallet verbatim, and
//! without binding CA certificates the wallet endpoints are `not_implemented`.

use std::time::Duration;

use esignet_authenticator_ida::test_server::{IDENTITIES, TEST_OTP};
use esignet_jose::Algorithm;
use esignet_wallet_sim::ConsentChoice;
use reqwest::header::HeaderMap;
use serde_json::json;

use super::{CLIENT, Ida};
use crate::harness::{ADMIN_TOKEN, Server, new_rsa_key, public_jwk};
use crate::login::Rp;
use crate::verify::{jwks, verify_jws};
use crate::wallet::{link_auth_code, link_status, show_qr, wallet};

/// Registers [`CLIENT`] for the linked-wallet ACR.
async fn wallet_rp(server: &Server) -> Rp<'_> {
    let key = new_rsa_key();
    let request = json!({
        "clientId": CLIENT,
        "clientName": "IDA wallet client",
        "clientNameLangMap": {"eng": "IDA wallet client"},
        "publicKey": public_jwk(&key),
        "relyingPartyId": format!("{CLIENT}-rp"),
        "userClaims": ["name", "email", "phone_number", "birthdate", "gender"],
        "authContextRefs": ["mosip:idp:acr:linked-wallet", "mosip:idp:acr:generated-code"],
        "logoUri": "https://rp.example/logo.png",
        "redirectUris": ["https://rp.example/callback"],
        "grantTypes": ["authorization_code"],
        "clientAuthMethods": ["private_key_jwt"],
        "additionalConfig": {},
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Bearer {ADMIN_TOKEN}").parse().unwrap(),
    );
    let (status, body) = server
        .post_wrapped("/client-mgmt/client", request, headers)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"], json!([]), "{body}");
    Rp {
        server,
        client_id: CLIENT.into(),
        key,
        redirect_uri: "https://rp.example/callback".into(),
    }
}

#[tokio::test]
async fn a_wallet_binds_through_ida_and_logs_in_by_qr_code() {
    let ida = Ida::start().await;
    let server = ida.start_server().await;
    let rp = wallet_rp(&server).await;
    let wallet = wallet(&server);
    let uin = IDENTITIES[0].uin;

    // A wrong OTP: IDA's code reaches the wallet verbatim.
    let wrong = wallet
        .bind(uin, "999999", Algorithm::ES256)
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Some("IDA-OTA-004"), "{wrong:?}");
    // `bind` verifies the certificate against /binding/certificates: the IDA binding CA.
    let binding = wallet.bind(uin, TEST_OTP, Algorithm::ES256).await.unwrap();
    assert!(
        binding
            .certificate
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let set: serde_json::Value = reqwest::get(server.url("/binding/certificates"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(set["keys"].as_array().unwrap().len(), 1, "{set}");

    let (browser, verifier, link_code) = show_qr(&server, &rp).await;
    let (status, login) = tokio::join!(link_status(&browser, &link_code), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        wallet
            .login(&binding, uin, &link_code, &ConsentChoice::All)
            .await
    });
    assert_eq!(status["response"]["linkStatus"], "LINKED", "{status}");
    let login = login.unwrap();
    assert_eq!(login.accepted_claims, ["name", "email"]);
    let answer = link_auth_code(&browser, &link_code).await;
    assert_eq!(answer["errors"], json!([]), "{answer}");
    let code = answer["response"]["code"].as_str().unwrap();
    let (status, _, tokens) = rp.token(code, Some(&verifier), None).await;
    assert_eq!(status, 200, "{tokens}");
    let set = jwks(&server).await;
    let (_, id_token) = verify_jws(&set, tokens["id_token"].as_str().unwrap(), Some(CLIENT));
    assert_eq!(id_token["acr"], "mosip:idp:acr:linked-wallet");
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = rp.userinfo(&format!("Bearer {access}"), None).await;
    assert_eq!(status, 200, "{body}");
    let (_, userinfo) = verify_jws(&set, &body, Some(CLIENT));
    assert_eq!(userinfo["sub"], id_token["sub"]);
    assert_eq!(userinfo["name"], "Siddharth K Mansour");
    assert_eq!(userinfo["email"], "siddharth@example.org");

    // Another resident cannot log in with this resident's binding.
    let other = IDENTITIES[1].uin;
    let (_, _, link_code) = show_qr(&server, &rp).await;
    let foreign = wallet
        .login(&binding, other, &link_code, &ConsentChoice::All)
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Some("binding_not_found"), "{foreign:?}");
}

#[tokio::test]
async fn without_binding_ca_certificates_wallets_are_not_implemented() {
    let ida = Ida::start().await;
    let env: Vec<(&str, String)> = ida
        .env()
        .into_iter()
        .filter(|(key, _)| *key != "ESIGNET_IDA__BINDING_CA_CERTIFICATE_FILES")
        .collect();
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start(&pairs).await;
    let error = wallet(&server)
        .bind(IDENTITIES[0].uin, TEST_OTP, Algorithm::ES256)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("not_implemented"), "{error:?}");
    assert_eq!(ida.server.calls(), 0);
}
