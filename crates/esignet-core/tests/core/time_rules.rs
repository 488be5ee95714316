//! Rules that depend on time passing, checked by moving the clock.

use esignet_core::{Error, codes};
use esignet_jose::{Algorithm, PrivateKey};
use esignet_spi::ConsentStore;
use serde_json::{Map, json};

use crate::harness::{CLIENT, Harness, RESIDENT};

#[tokio::test]
async fn consent_is_reused_until_it_expires_and_history_keeps_every_capture() {
    let h = Harness::new().await;
    let first = h.start("openid email").await;
    assert_eq!(h.authenticate(&first).await.unwrap(), "CAPTURE");
    let code = h.auth_code(&first, &["email"]).await.unwrap();
    let tokens = h.token(&code, h.assertion(60)).await.unwrap();
    assert_eq!(
        tokens["expires_in"], 600,
        "consent_expire_in_mins caps token lifetime"
    );

    h.advance(9 * 60);
    let second = h.start("openid email").await;
    assert_eq!(h.authenticate(&second).await.unwrap(), "NOCAPTURE");

    h.advance(2 * 60);
    let third = h.start("openid email").await;
    assert_eq!(
        h.authenticate(&third).await.unwrap(),
        "CAPTURE",
        "expired consent is asked again"
    );
    h.auth_code(&third, &["email"]).await.unwrap();

    let psut = esignet_mock_authenticator::partner_specific_user_token(
        esignet_mock_authenticator::PsutMode::Pairwise,
        RESIDENT,
        "core-rp",
    )
    .unwrap();
    let history = h.store.consent_history(CLIENT, &psut).await.unwrap();
    assert_eq!(history.len(), 2, "both captures are in the history");
    let current = h.store.get_consent(CLIENT, &psut).await.unwrap().unwrap();
    assert_eq!(current.id, history[1].id);
    assert_eq!(current.accepted_claims, vec!["email"]);
}

#[tokio::test]
async fn transactions_and_codes_expire() {
    let h = Harness::new().await;
    let txn = h.start("openid email").await;
    h.advance(301);
    assert_eq!(
        h.send_otp(&txn).await,
        Err(Error::code(codes::INVALID_TRANSACTION))
    );

    let txn = h.start("openid email").await;
    h.authenticate(&txn).await.unwrap();
    h.advance(121);
    assert_eq!(
        h.auth_code(&txn, &["email"]).await,
        Err(Error::code(codes::INVALID_TRANSACTION)),
        "consent must be given within the authenticated window"
    );

    let txn = h.start("openid email").await;
    h.authenticate(&txn).await.unwrap();
    let code = h.auth_code(&txn, &["email"]).await.unwrap();
    h.advance(301);
    assert_eq!(
        h.token(&code, h.assertion(60)).await,
        Err(Error::code(codes::INVALID_GRANT))
    );
}

#[tokio::test]
async fn client_assertion_expiry_has_a_small_leeway() {
    let h = Harness::new().await;
    let txn = h.start("openid email").await;
    h.authenticate(&txn).await.unwrap();
    let code = h.auth_code(&txn, &["email"]).await.unwrap();
    // Expired 10 s ago: beyond the 5 s leeway.
    assert_eq!(
        h.token(&code, h.assertion(-10)).await,
        Err(Error::code(codes::INVALID_CLIENT))
    );
    // Expired 3 s ago: within the leeway, and the code survived the failed attempt.
    assert!(h.token(&code, h.assertion(-3)).await.is_ok());
}

#[tokio::test]
async fn dpop_proofs_must_be_fresh() {
    let h = Harness::new().await;
    let key = PrivateKey::generate_ec_p256().unwrap();
    let htu = h.core.config().token_endpoint.clone();
    let proof = |iat: i64, jti: &str| {
        let mut header = Map::new();
        header.insert("typ".into(), json!("dpop+jwt"));
        header.insert("jwk".into(), key.public_jwk().to_json());
        let claims = json!({"htm": "POST", "htu": htu, "iat": iat, "jti": jti});
        esignet_jose::sign_compact(
            &key,
            Algorithm::ES256,
            &header,
            claims.to_string().as_bytes(),
        )
        .unwrap()
    };
    let now = h.now();
    let invalid = Err(Error::code(codes::INVALID_DPOP_PROOF));
    assert_eq!(
        h.core
            .validate_dpop_proof(&[&proof(now - 61, "a")], "POST", &htu)
            .await,
        invalid
    );
    assert_eq!(
        h.core
            .validate_dpop_proof(&[&proof(now + 11, "b")], "POST", &htu)
            .await,
        invalid
    );
    let fresh = h
        .core
        .validate_dpop_proof(&[&proof(now - 30, "c")], "POST", &htu)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fresh.jkt, key.public_jwk().thumbprint());
    assert_eq!(
        h.core
            .validate_dpop_proof(&[&proof(now - 30, "c")], "POST", &htu)
            .await,
        invalid,
        "a jti is single use"
    );
}

#[tokio::test]
async fn audit_events_never_carry_the_individual_id() {
    let h = Harness::new().await;
    let txn = h.start("openid email").await;
    h.authenticate(&txn).await.unwrap();
    h.auth_code(&txn, &["email"]).await.unwrap();
    let events = h.audit.0.lock().unwrap().clone();
    assert!(events.len() >= 4);
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(RESIDENT), "{text}");
    let hash = esignet_core::individual_id_hash(RESIDENT);
    assert!(
        text.contains(&hash),
        "events identify the individual by hash"
    );
}
