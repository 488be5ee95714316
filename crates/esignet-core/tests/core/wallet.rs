//! Key binding and the QR-code (linked) login in the domain, on a manual clock: the whole flow,
//! expiry, wrong order, replays, and every way a WLA token or a consent signature can be wrong.

use esignet_core::wallet_api::{BindingOtpRequest, LinkTransactionRequest};
use esignet_core::{DetailsVersion, Error, codes};
use esignet_jose::{Algorithm, PrivateKey};
use serde_json::json;

use crate::wallet_harness::{MANSOUR, POLL_WAIT, SREYMOM, WalletHarness};

fn code(error: Error) -> String {
    error.error_code().to_owned()
}

#[tokio::test]
async fn bind_then_qr_login_through_to_tokens_and_reuse_of_the_signed_consent() {
    let h = WalletHarness::new().await;
    let wallet = h.bind(MANSOUR, Algorithm::ES256).await.unwrap();
    // EC keys get the binding id in clear (JWE here is RSA only).
    assert_eq!(wallet.response.wallet_user_id.len(), 43);
    let rsa_wallet = h.bind(SREYMOM, Algorithm::RS256).await.unwrap();
    assert_eq!(
        rsa_wallet.response.wallet_user_id.split('.').count(),
        5,
        "RSA wallets get the binding id as a compact JWE"
    );

    let mut login = h.start_qr().await.unwrap();
    // The browser's long poll is woken by the wallet's scan, not by its timeout.
    let (status, linked) = tokio::join!(h.link_status(&login), async {
        tokio::time::sleep(POLL_WAIT / 3).await;
        h.link_transaction(&login.link_code).await
    });
    status.unwrap();
    login.linked_id = linked.unwrap();

    let token = h.wla(&wallet, MANSOUR, |_| {});
    assert_eq!(
        h.authenticate(&login.linked_id, MANSOUR, &token)
            .await
            .unwrap(),
        "CAPTURE"
    );
    let signature = h.consent_signature(&wallet, &["name", "email"]);
    let (code, consented) = tokio::join!(h.link_auth_code(&login), async {
        tokio::time::sleep(POLL_WAIT / 3).await;
        h.consent(&login.linked_id, &["name", "email"], Some(signature))
            .await
    });
    consented.unwrap();
    let tokens = h.token(&code.unwrap()).await.unwrap();
    assert!(tokens["id_token"].is_string());

    // The code is collected once.
    assert_eq!(
        code_of(h.link_auth_code(&login).await),
        codes::INVALID_LINK_CODE
    );

    // The signed consent is reused: the next wallet login needs no consent step.
    let mut second = h.start_qr().await.unwrap();
    second.linked_id = h.link_transaction(&second.link_code).await.unwrap();
    let token = h.wla(&wallet, MANSOUR, |_| {});
    assert_eq!(
        h.authenticate(&second.linked_id, MANSOUR, &token)
            .await
            .unwrap(),
        "NOCAPTURE"
    );
    let code = h.link_auth_code(&second).await.unwrap();
    h.token(&code).await.unwrap();
}

fn code_of<T: std::fmt::Debug>(result: esignet_core::Result<T>) -> String {
    code(result.unwrap_err())
}

#[tokio::test]
async fn link_codes_expire_rotate_and_run_out() {
    let h = WalletHarness::new().await;
    let login = h.start_qr().await.unwrap();
    h.advance(61);
    assert_eq!(
        code_of(h.link_transaction(&login.link_code).await),
        codes::INVALID_LINK_CODE,
        "an expired link code cannot be scanned"
    );
    assert_eq!(
        code_of(h.link_status(&login).await),
        codes::INVALID_LINK_CODE
    );

    // Only the two newest codes of a transaction are usable.
    let first = h.link_code(&login.transaction_id).await.unwrap();
    let _second = h.link_code(&login.transaction_id).await.unwrap();
    let third = h.link_code(&login.transaction_id).await.unwrap();
    assert_eq!(
        code_of(h.link_transaction(&first).await),
        codes::INVALID_LINK_CODE
    );
    assert_eq!(third.len(), 15);
    assert!(third.chars().all(|c| c.is_ascii_alphanumeric()));
    // Ten codes per transaction: the start made one, four so far.
    for _ in 0..6 {
        h.link_code(&login.transaction_id).await.unwrap();
    }
    assert_eq!(
        code_of(h.link_code(&login.transaction_id).await),
        codes::LINK_CODE_LIMIT_REACHED
    );

    // A transaction past its pre-authentication window gets no code.
    let late = h.start_qr().await.unwrap();
    h.advance(301);
    assert_eq!(
        code_of(h.link_code(&late.transaction_id).await),
        codes::INVALID_TRANSACTION
    );
}

#[tokio::test]
async fn every_step_refuses_the_wrong_order_and_replays() {
    let h = WalletHarness::new().await;
    let wallet = h.bind(MANSOUR, Algorithm::ES256).await.unwrap();
    let mut login = h.start_qr().await.unwrap();
    let token = h.wla(&wallet, MANSOUR, |_| {});
    assert_eq!(
        code_of(h.authenticate("not-linked", MANSOUR, &token).await),
        codes::INVALID_TRANSACTION,
        "authenticate before link-transaction"
    );
    login.linked_id = h.link_transaction(&login.link_code).await.unwrap();
    assert_eq!(
        code_of(h.link_transaction(&login.link_code).await),
        codes::INVALID_LINK_CODE,
        "a link code links once"
    );
    assert_eq!(
        code_of(
            h.consent(
                &login.linked_id,
                &["name"],
                Some(h.consent_signature(&wallet, &["name"]))
            )
            .await
        ),
        codes::INVALID_TRANSACTION,
        "consent before authenticate"
    );
    h.authenticate(&login.linked_id, MANSOUR, &token)
        .await
        .unwrap();
    let fresh = h.wla(&wallet, MANSOUR, |_| {});
    assert_eq!(
        code_of(h.authenticate(&login.linked_id, MANSOUR, &fresh).await),
        codes::INVALID_TRANSACTION,
        "a linked transaction authenticates once"
    );
    // The same WLA token in another login is a replay.
    let mut other = h.start_qr().await.unwrap();
    other.linked_id = h.link_transaction(&other.link_code).await.unwrap();
    assert_eq!(
        code_of(h.authenticate(&other.linked_id, MANSOUR, &token).await),
        codes::INVALID_WLA_TOKEN
    );
    // The browser still sees its code as linked; an unknown code links nothing.
    h.link_status(&login).await.unwrap();
    assert_eq!(
        code_of(
            h.core
                .link_transaction(
                    DetailsVersion::V1,
                    LinkTransactionRequest {
                        link_code: Some("unknown-code-000".into())
                    }
                )
                .await
        ),
        codes::INVALID_LINK_CODE
    );
}

#[tokio::test]
async fn wla_tokens_are_checked_against_the_binding() {
    let h = WalletHarness::new().await;
    let wallet = h.bind(MANSOUR, Algorithm::RS256).await.unwrap();
    let other = h.bind(SREYMOM, Algorithm::ES256).await.unwrap();
    let cases: Vec<(String, &str, String)> = vec![
        // Signed by a key that is not bound, naming the bound certificate.
        (
            h.wla(&h.forged(&wallet), MANSOUR, |_| {}),
            MANSOUR,
            codes::INVALID_WLA_TOKEN.to_owned(),
        ),
        // Another resident's certificate and key, presented for Mansour (who is bound).
        (
            h.wla(&other, MANSOUR, |_| {}),
            MANSOUR,
            codes::BINDING_AUTH_FAILED.to_owned(),
        ),
        (
            h.wla(&wallet, MANSOUR, |c| c["aud"] = json!("someone-else")),
            MANSOUR,
            codes::INVALID_WLA_TOKEN.to_owned(),
        ),
        (
            h.wla(&wallet, SREYMOM, |_| {}),
            MANSOUR,
            codes::INVALID_WLA_TOKEN.to_owned(),
        ),
        (
            h.wla(&wallet, MANSOUR, |c| {
                c["iat"] = json!(h.now() - 600);
                c["exp"] = json!(h.now() + 60);
            }),
            MANSOUR,
            codes::INVALID_WLA_TOKEN.to_owned(),
        ),
        (
            h.wla(&wallet, MANSOUR, |c| c["exp"] = json!(h.now() - 60)),
            MANSOUR,
            codes::INVALID_WLA_TOKEN.to_owned(),
        ),
        (
            h.wla(&wallet, MANSOUR, |c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            MANSOUR,
            codes::INVALID_WLA_TOKEN.to_owned(),
        ),
        (
            {
                let claims = json!({"sub": MANSOUR, "aud": "esignet-binding", "iat": h.now(),
                                    "exp": h.now() + 60, "jti": "x"});
                esignet_jose::sign_compact(
                    &wallet.key,
                    Algorithm::RS256,
                    &serde_json::Map::new(),
                    claims.to_string().as_bytes(),
                )
                .unwrap()
            },
            MANSOUR,
            codes::SHA256_THUMBPRINT_HEADER_MISSING.to_owned(),
        ),
    ];
    for (index, (token, individual, expected)) in cases.into_iter().enumerate() {
        let mut login = h.start_qr().await.unwrap();
        login.linked_id = h.link_transaction(&login.link_code).await.unwrap();
        assert_eq!(
            code_of(h.authenticate(&login.linked_id, individual, &token).await),
            expected,
            "case {index}"
        );
    }

    // A binding ends with its certificate.
    h.advance(10 * 86_400 + 1);
    let mut login = h.start_qr().await.unwrap();
    login.linked_id = h.link_transaction(&login.link_code).await.unwrap();
    let token = h.wla(&wallet, MANSOUR, |_| {});
    assert_eq!(
        code_of(h.authenticate(&login.linked_id, MANSOUR, &token).await),
        codes::BINDING_NOT_FOUND
    );
}

#[tokio::test]
async fn rebinding_replaces_and_a_key_belongs_to_one_resident() {
    let h = WalletHarness::new().await;
    let first = h.bind(MANSOUR, Algorithm::ES256).await.unwrap();
    let second = h.bind(MANSOUR, Algorithm::ES256).await.unwrap();
    assert_eq!(
        first.response.wallet_user_id, second.response.wallet_user_id,
        "re-binding keeps the wallet binding id"
    );
    let mut login = h.start_qr().await.unwrap();
    login.linked_id = h.link_transaction(&login.link_code).await.unwrap();
    let stale = h.wla(&first, MANSOUR, |_| {});
    assert_eq!(
        code_of(h.authenticate(&login.linked_id, MANSOUR, &stale).await),
        codes::BINDING_AUTH_FAILED,
        "the replaced binding no longer logs in: a failed binding authentication"
    );

    let reused = PrivateKey::from_pkcs8_der(&second.key.to_pkcs8_der().unwrap()).unwrap();
    assert_eq!(
        code_of(h.bind_key(SREYMOM, reused, Algorithm::ES256).await),
        codes::DUPLICATE_PUBLIC_KEY
    );
}

#[tokio::test]
async fn binding_rejects_bad_requests_and_blocks_guessing() {
    let h = WalletHarness::new().await;
    let key = PrivateKey::generate_ec_p256().unwrap();
    let mut request = h.binding_request(MANSOUR, &key, "OTP", "111111");
    request.public_key = Some(json!({"kty": "oct", "k": "c2VjcmV0"}));
    assert_eq!(
        code_of(h.core.wallet_binding(request, &[]).await),
        codes::INVALID_PUBLIC_KEY
    );
    let mut request = h.binding_request(MANSOUR, &key, "OTP", "111111");
    request.format = Some("alpha-numeric".into());
    assert_eq!(
        code_of(h.core.wallet_binding(request, &[]).await),
        codes::INVALID_AUTH_FACTOR_TYPE_OR_CHALLENGE_FORMAT
    );
    let mut request = h.binding_request(MANSOUR, &key, "OTP", "111111");
    request.individual_id = None;
    assert_eq!(
        code_of(h.core.wallet_binding(request, &[]).await),
        codes::INVALID_INDIVIDUAL_ID
    );
    assert_eq!(
        code_of(
            h.core
                .send_binding_otp(
                    BindingOtpRequest {
                        individual_id: Some(MANSOUR.into()),
                        otp_channels: vec![],
                        captcha_token: None
                    },
                    &[]
                )
                .await
        ),
        codes::INVALID_OTP_CHANNEL
    );
    // Wrong PINs: three tries, then the resident is blocked.
    for _ in 0..3 {
        assert_eq!(
            code_of(
                h.core
                    .wallet_binding(h.binding_request(MANSOUR, &key, "PIN", "000000"), &[])
                    .await
            ),
            codes::AUTH_FAILED
        );
    }
    assert_eq!(
        code_of(
            h.core
                .wallet_binding(h.binding_request(MANSOUR, &key, "PIN", "482916"), &[])
                .await
        ),
        codes::NO_ATTEMPTS_LEFT
    );
    assert_eq!(
        code_of(
            h.core
                .wallet_binding(h.binding_request(MANSOUR, &key, "PIN", "482916"), &[])
                .await
        ),
        codes::INDIVIDUAL_ID_BLOCKED
    );
}

#[tokio::test]
async fn consent_must_cover_the_essential_claims_and_carry_a_valid_signature() {
    let h = WalletHarness::new().await;
    let wallet = h.bind(MANSOUR, Algorithm::ES256).await.unwrap();
    let mut login = h.start_qr().await.unwrap();
    login.linked_id = h.link_transaction(&login.link_code).await.unwrap();
    let token = h.wla(&wallet, MANSOUR, |_| {});
    h.authenticate(&login.linked_id, MANSOUR, &token)
        .await
        .unwrap();
    assert_eq!(
        code_of(
            h.consent(
                &login.linked_id,
                &["email"],
                Some(h.consent_signature(&wallet, &["email"]))
            )
            .await
        ),
        codes::INVALID_ACCEPTED_CLAIM,
        "declining an essential claim"
    );
    assert_eq!(
        code_of(h.consent(&login.linked_id, &["name"], None).await),
        codes::INVALID_SIGNATURE_FORMAT
    );
    assert_eq!(
        code_of(
            h.consent(&login.linked_id, &["name"], Some("a.b.c".into()))
                .await
        ),
        codes::INVALID_SIGNATURE_FORMAT
    );
    assert_eq!(
        code_of(
            h.consent(
                &login.linked_id,
                &["name"],
                Some(h.consent_signature(&wallet, &["name", "email"]))
            )
            .await
        ),
        codes::INVALID_TOKEN,
        "a signature over other claims"
    );
    // Nothing consented: the browser's poll times out cleanly and can poll again.
    assert_eq!(
        code_of(h.link_auth_code(&login).await),
        codes::RESPONSE_TIMEOUT
    );
    h.consent(
        &login.linked_id,
        &["name"],
        Some(h.consent_signature(&wallet, &["name"])),
    )
    .await
    .unwrap();
    h.link_auth_code(&login).await.unwrap();
}

#[tokio::test]
async fn link_status_times_out_cleanly_and_rejects_foreign_codes() {
    let h = WalletHarness::new().await;
    let login = h.start_qr().await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        code_of(h.link_status(&login).await),
        codes::RESPONSE_TIMEOUT
    );
    assert!(started.elapsed() >= POLL_WAIT);
    let other = h.start_qr().await.unwrap();
    let mut crossed = other;
    crossed.link_code = login.link_code.clone();
    assert_eq!(
        code_of(h.link_status(&crossed).await),
        codes::INVALID_LINK_CODE,
        "a link code answers only its own transaction"
    );
}

#[tokio::test]
async fn an_rsa_wallet_logs_in_and_browser_wla_challenges_are_verified_too() {
    use esignet_core::api::{AuthenticateRequest, OAuthDetailsRequest};
    use esignet_core::{AuthenticateVersion, DetailsHeaders};
    use esignet_spi::AuthChallenge;

    let h = WalletHarness::new().await;
    let wallet = h.bind(SREYMOM, Algorithm::RS256).await.unwrap();
    let (_, code) = h.qr_login(&wallet, SREYMOM).await.unwrap();
    h.token(&code).await.unwrap();

    // The browser API never hands an unverified WLA token to the identity system either.
    let outcome = h
        .core
        .oauth_details(
            DetailsVersion::V3,
            OAuthDetailsRequest {
                client_id: Some(crate::wallet_harness::CLIENT.into()),
                scope: Some("openid".into()),
                response_type: Some("code".into()),
                redirect_uri: Some(crate::wallet_harness::REDIRECT.into()),
                acr_values: Some("wallet".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let hash = esignet_jose::sha256_b64url(outcome.response_json.as_bytes());
    let authenticate = |token: String| {
        h.core.authenticate(
            AuthenticateVersion::V2OrV3,
            DetailsHeaders {
                key: Some(&outcome.transaction_id),
                hash: Some(&hash),
            },
            AuthenticateRequest {
                transaction_id: Some(outcome.transaction_id.clone()),
                individual_id: Some(SREYMOM.into()),
                challenge_list: vec![AuthChallenge {
                    auth_factor_type: "WLA".into(),
                    challenge: token,
                    format: "jwt".into(),
                }],
                captcha_token: None,
            },
        )
    };
    assert_eq!(
        code_of(authenticate(h.wla(&h.forged(&wallet), SREYMOM, |_| {})).await),
        codes::INVALID_WLA_TOKEN
    );
    authenticate(h.wla(&wallet, SREYMOM, |_| {})).await.unwrap();
}
