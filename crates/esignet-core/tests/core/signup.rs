//! The signup detour on real seams with a manual clock: prepare-signup-redirect, the signup
//! client's `id_token_hint`, the IDT factor and its internal userinfo, the back channel and
//! complete-signup-redirect, with their time and nonce rules.

use esignet_core::TokenScheme;
use esignet_core::acr::{AcrMapping, AuthFactor};
use esignet_core::api::{AuthCodeRequest, AuthenticateRequest, OAuthDetailsRequest, TokenForm};
use esignet_core::signup::{
    CompleteSignupRedirectRequest, PrepareSignupRedirectRequest, RequestCookies,
    SignupRedirectConfig,
};
use esignet_core::{
    AuthenticateVersion, DetailsHeaders, DetailsVersion, Error, JWT_BEARER, TokenVersion, codes,
};
use esignet_jose::{Algorithm, PrivateKey};
use esignet_spi::{AuthChallenge, ClientRecord, ClientStatus, ClientStore};
use serde_json::{Map, Value, json};

use crate::harness::{Harness, ISSUER, RESIDENT, config};

const SIGNUP_CLIENT: &str = "mosip-signup-oauth-client";
const SIGNUP_REDIRECT: &str = "https://esignet.test/signup/identity-verification";
const ID_TOKEN_ACR: &str = "mosip:idp:acr:id-token";
const FRAGMENT: &str = "urlInfo1767254400000";

struct Detour {
    h: Harness,
    signup_key: PrivateKey,
}

type Txn = (String, String);

fn headers(txn: &Txn) -> DetailsHeaders<'_> {
    DetailsHeaders {
        key: Some(&txn.0),
        hash: Some(&txn.1),
    }
}

impl Detour {
    async fn new() -> Detour {
        let factor = |t: &str| AuthFactor {
            factor_type: t.into(),
            count: 0,
            sub_types: None,
        };
        let mut core_config = config();
        core_config.acr = AcrMapping::new(
            vec![
                ("OTP".into(), vec![factor("OTP")]),
                ("ID-token".into(), vec![factor("IDT")]),
            ],
            vec![
                ("otp".into(), vec!["OTP".into()]),
                (ID_TOKEN_ACR.into(), vec!["ID-token".into()]),
            ],
        );
        let h = Harness::with_config(core_config).await;
        let signup_key = PrivateKey::generate_rsa(2048).unwrap();
        let public = signup_key.public_jwk();
        h.store
            .insert_client(&ClientRecord {
                client_id: SIGNUP_CLIENT.into(),
                name: Map::from_iter([("@none".to_owned(), json!("Signup"))]),
                relying_party_id: "mosip-signup".into(),
                logo_uri: "https://esignet.test/logo.png".into(),
                redirect_uris: vec![SIGNUP_REDIRECT.into()],
                claims: vec![],
                acr_values: vec![ID_TOKEN_ACR.into()],
                public_key: public.to_json(),
                public_key_hash: public.identity_hash(),
                enc_public_key: None,
                grant_types: vec!["authorization_code".into()],
                auth_methods: vec!["private_key_jwt".into()],
                status: ClientStatus::Active,
                additional_config: None,
                created_at: time::macros::datetime!(2026-01-01 08:00 UTC),
                updated_at: None,
            })
            .await
            .unwrap();
        let core = h.core.with_signup_redirect(SignupRedirectConfig {
            client_id: SIGNUP_CLIENT.into(),
            id_token_lifetime: std::time::Duration::from_secs(300),
            halted_ttl: std::time::Duration::from_secs(1800),
        });
        Detour {
            h: Harness { core, ..h },
            signup_key,
        }
    }

    /// An RP login authenticated with OTP.
    async fn authenticated(&self) -> Txn {
        let txn = self.h.start("openid email").await;
        self.h.authenticate(&txn).await.unwrap();
        txn
    }

    async fn prepare(&self, txn: &Txn, fragment: &str) -> esignet_core::Result<(String, String)> {
        let outcome = self
            .h
            .core
            .prepare_signup_redirect(
                headers(txn),
                PrepareSignupRedirectRequest {
                    transaction_id: Some(txn.0.clone()),
                    path_fragment: Some(fragment.into()),
                },
            )
            .await?;
        assert_eq!(outcome.cookie.name, txn.0);
        Ok((outcome.response.id_token, outcome.cookie.value))
    }

    /// The signup service's authorize, as oauth-details v3 with the hint.
    async fn signup_details(
        &self,
        client_id: &str,
        hint: &str,
        cookies: &RequestCookies,
    ) -> esignet_core::Result<(Txn, Value)> {
        let outcome = self
            .h
            .core
            .oauth_details_with_cookies(
                DetailsVersion::V3,
                OAuthDetailsRequest {
                    client_id: Some(client_id.into()),
                    scope: Some("openid".into()),
                    response_type: Some("code".into()),
                    redirect_uri: Some(SIGNUP_REDIRECT.into()),
                    acr_values: Some(ID_TOKEN_ACR.into()),
                    state: Some("signup-state".into()),
                    nonce: Some("signup-nonce".into()),
                    id_token_hint: Some(hint.into()),
                    ..Default::default()
                },
                cookies,
            )
            .await?;
        let hash = esignet_jose::sha256_b64url(outcome.response_json.as_bytes());
        let response: Value = serde_json::from_str(&outcome.response_json).unwrap();
        Ok(((outcome.transaction_id, hash), response))
    }

    async fn idt(
        &self,
        txn: &Txn,
        individual_id: &str,
        token: &str,
        cookies: &RequestCookies,
    ) -> esignet_core::Result<()> {
        // The UI's btoa: standard base64 with padding.
        let challenge = esignet_jose::b64url_encode(
            json!({"token": token, "code": "code"})
                .to_string()
                .as_bytes(),
        )
        .replace('-', "+")
        .replace('_', "/");
        let padded = format!("{challenge}{}", "=".repeat((4 - challenge.len() % 4) % 4));
        self.h
            .core
            .authenticate_with_cookies(
                AuthenticateVersion::V2OrV3,
                headers(txn),
                AuthenticateRequest {
                    transaction_id: Some(txn.0.clone()),
                    individual_id: Some(individual_id.into()),
                    challenge_list: vec![AuthChallenge {
                        auth_factor_type: "IDT".into(),
                        challenge: padded,
                        format: "base64url-encoded-json".into(),
                    }],
                    captcha_token: None,
                },
                cookies,
            )
            .await
            .map(|_| ())
    }

    fn signup_assertion(&self) -> String {
        let now = self.h.now();
        let claims = json!({"iss": SIGNUP_CLIENT, "sub": SIGNUP_CLIENT,
            "aud": format!("{ISSUER}/v1/esignet/oauth/v2/token"),
            "iat": now, "exp": now + 60, "jti": esignet_jose::random_id()});
        esignet_jose::sign_compact(
            &self.signup_key,
            Algorithm::RS256,
            &Map::new(),
            claims.to_string().as_bytes(),
        )
        .unwrap()
    }

    async fn complete(&self, txn: &Txn) -> esignet_core::Result<&'static str> {
        self.h
            .core
            .complete_signup_redirect(
                headers(txn),
                CompleteSignupRedirectRequest {
                    transaction_id: Some(txn.0.clone()),
                },
            )
            .await
            .map(|r| r.status)
    }
}

fn jar(name: &str, value: &str) -> RequestCookies {
    RequestCookies::new([(name.to_owned(), value.to_owned())])
}

fn claims_of(jws: &str) -> Map<String, Value> {
    esignet_jose::decode_compact(jws).unwrap().claims().unwrap()
}

#[tokio::test]
async fn the_whole_detour_returns_the_resident_to_consent() {
    let d = Detour::new().await;
    let rp = d.authenticated().await;
    let (id_token, cookie) = d.prepare(&rp, &format!(" {FRAGMENT}\n")).await.unwrap();

    let claims = claims_of(&id_token);
    assert!(d.h.core.signer().verify_jws(&id_token).is_some());
    assert_eq!(claims["sub"], rp.0.as_str(), "sub is the transaction id");
    assert_eq!(claims["aud"], SIGNUP_CLIENT);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["exp"].as_i64().unwrap() - d.h.now(), 300);
    let nonce = claims["nonce"].as_str().unwrap().to_owned();
    assert_eq!(
        cookie,
        format!("{nonce}~###~{FRAGMENT}"),
        "whitespace removed"
    );

    // The transaction is halted: the UI calls of an authenticated one no longer work.
    assert_eq!(
        d.h.auth_code(&rp, &[]).await,
        Err(Error::code(codes::INVALID_TRANSACTION))
    );

    let cookies = jar(&rp.0, &cookie);
    let (signup, details) = d
        .signup_details(SIGNUP_CLIENT, &id_token, &cookies)
        .await
        .unwrap();
    assert_eq!(
        details["authFactors"],
        json!([[{"type": "IDT", "count": 0, "subTypes": null}]])
    );
    d.idt(&signup, &rp.0, &id_token, &cookies).await.unwrap();
    let response =
        d.h.core
            .auth_code(
                headers(&signup),
                AuthCodeRequest {
                    transaction_id: Some(signup.0.clone()),
                    accepted_claims: vec![],
                    permitted_authorize_scopes: vec![],
                },
            )
            .await
            .unwrap();
    assert_eq!(
        response.state.as_deref(),
        Some(FRAGMENT),
        "state = path fragment"
    );
    assert_eq!(
        response.nonce.as_deref(),
        Some(nonce.as_str()),
        "nonce = hint's"
    );

    let tokens =
        d.h.core
            .token(
                TokenVersion::V2,
                TokenForm {
                    grant_type: Some("authorization_code".into()),
                    code: Some(response.code),
                    client_id: Some(SIGNUP_CLIENT.into()),
                    redirect_uri: Some(SIGNUP_REDIRECT.into()),
                    client_assertion_type: Some(JWT_BEARER.into()),
                    client_assertion: Some(d.signup_assertion()),
                    code_verifier: None,
                },
                None,
            )
            .await
            .unwrap();
    assert_eq!(claims_of(&tokens.response.id_token)["sub"], rp.0.as_str());
    let userinfo =
        d.h.core
            .userinfo(TokenScheme::Bearer, &tokens.response.access_token, None)
            .await
            .unwrap();
    let payload = d.h.core.signer().verify_jws(&userinfo).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&payload).unwrap(),
        json!({"sub": RESIDENT})
    );

    // The signup service reports, then the resident comes back.
    d.h.core
        .record_signup_verification(&rp.0, "STARTED", None)
        .await
        .unwrap();
    assert_eq!(
        d.complete(&rp).await,
        Err(Error::code("verification_incomplete"))
    );
}

#[tokio::test]
async fn completed_verification_resumes_at_claim_details_with_fresh_metadata() {
    let d = Detour::new().await;
    let rp = d.authenticated().await;
    d.h.core.claim_details(headers(&rp)).await.unwrap();
    d.prepare(&rp, FRAGMENT).await.unwrap();
    d.h.core
        .record_signup_verification(&rp.0, "COMPLETED", None)
        .await
        .unwrap();
    assert_eq!(d.complete(&rp).await, Ok("COMPLETED"));
    // Back in `authenticated`: claim-details may be read once more, and the code is issued.
    d.h.core.claim_details(headers(&rp)).await.unwrap();
    d.h.auth_code(&rp, &["email"]).await.unwrap();
    assert_eq!(
        d.complete(&rp).await,
        Err(Error::code(codes::INVALID_TRANSACTION)),
        "single use"
    );
}

#[tokio::test]
async fn a_failed_verification_ends_the_transaction_with_its_code() {
    let d = Detour::new().await;
    let rp = d.authenticated().await;
    d.prepare(&rp, FRAGMENT).await.unwrap();
    d.h.core
        .record_signup_verification(&rp.0, "FAILED", Some("identity_verification_failed"))
        .await
        .unwrap();
    assert_eq!(
        d.complete(&rp).await,
        Err(Error::Code("identity_verification_failed".into()))
    );
    assert_eq!(
        d.complete(&rp).await,
        Err(Error::code(codes::INVALID_TRANSACTION)),
        "the halted entry is gone"
    );
    assert_eq!(
        d.h.core
            .record_signup_verification(&rp.0, "COMPLETED", None)
            .await,
        Err(Error::code(codes::INVALID_TRANSACTION))
    );
}

#[tokio::test]
async fn a_report_keeps_the_halted_expiry() {
    let d = Detour::new().await;
    let rp = d.authenticated().await;
    d.prepare(&rp, FRAGMENT).await.unwrap();
    d.h.advance(1000);
    d.h.core
        .record_signup_verification(&rp.0, "COMPLETED", None)
        .await
        .unwrap();
    d.h.advance(801);
    assert_eq!(
        d.complete(&rp).await,
        Err(Error::code(codes::INVALID_TRANSACTION)),
        "1801 s after halting the entry is gone although updated at 1000 s"
    );
    assert_eq!(
        d.h.core
            .record_signup_verification(&rp.0, "COMPLETED", None)
            .await,
        Err(Error::code(codes::INVALID_TRANSACTION))
    );
    assert_eq!(
        d.h.core
            .record_signup_verification(&rp.0, "DONE", None)
            .await,
        Err(Error::code(codes::INVALID_STATUS))
    );
}

#[tokio::test]
async fn prepare_checks_its_input_and_the_transaction() {
    let d = Detour::new().await;
    let rp = d.authenticated().await;
    async fn call(
        d: &Detour,
        rp: &Txn,
        id: Option<&str>,
        fragment: Option<&str>,
        hash: &str,
    ) -> esignet_core::Result<()> {
        let headers = DetailsHeaders {
            key: Some(&rp.0),
            hash: Some(hash),
        };
        let request = PrepareSignupRedirectRequest {
            transaction_id: id.map(str::to_owned),
            path_fragment: fragment.map(str::to_owned),
        };
        d.h.core
            .prepare_signup_redirect(headers, request)
            .await
            .map(|_| ())
    }
    let code = |c| Err(Error::code(c));
    assert_eq!(
        call(&d, &rp, None, Some(FRAGMENT), &rp.1).await,
        code(codes::INVALID_TRANSACTION_ID)
    );
    assert_eq!(
        call(&d, &rp, Some(" "), Some(FRAGMENT), &rp.1).await,
        code(codes::INVALID_TRANSACTION_ID)
    );
    for bad in [None, Some(""), Some("  "), Some("a;b"), Some("a~###~b")] {
        assert_eq!(
            call(&d, &rp, Some(&rp.0), bad, &rp.1).await,
            code("invalid_path_fragment")
        );
    }
    assert_eq!(
        call(&d, &rp, Some(&rp.0), Some(FRAGMENT), "wrong").await,
        code(codes::INVALID_REQUEST)
    );
    let preauth = d.h.start("openid email").await;
    assert_eq!(
        d.prepare(&preauth, FRAGMENT).await.map(|_| ()),
        code(codes::INVALID_TRANSACTION),
        "not authenticated yet"
    );
}

#[tokio::test]
async fn the_hint_is_only_for_the_signup_client_with_its_cookie_and_in_time() {
    let d = Detour::new().await;
    let rp = d.authenticated().await;
    let (id_token, cookie) = d.prepare(&rp, FRAGMENT).await.unwrap();
    let hint_error = Err(Error::code("invalid_id_token_hint"));
    let cookies = jar(&rp.0, &cookie);
    let outcome = |r: esignet_core::Result<(Txn, Value)>| r.map(|_| ());
    assert_eq!(
        outcome(
            d.signup_details(crate::harness::CLIENT, &id_token, &cookies)
                .await
        ),
        hint_error,
        "another client"
    );
    assert_eq!(
        outcome(
            d.signup_details(SIGNUP_CLIENT, &id_token, &RequestCookies::default())
                .await
        ),
        hint_error,
        "no cookie"
    );
    assert_eq!(
        outcome(
            d.signup_details(SIGNUP_CLIENT, &id_token, &jar("other", &cookie))
                .await
        ),
        hint_error,
        "cookie of another transaction"
    );
    // An ID token of ours for another audience (the RP's own) is no hint for signup.
    let code = d.h.start("openid").await;
    d.h.authenticate(&code).await.unwrap();
    let rp_code = d.h.auth_code(&code, &[]).await.unwrap();
    let rp_tokens = d.h.token(&rp_code, d.h.assertion(60)).await.unwrap();
    let rp_id_token = rp_tokens["id_token"].as_str().unwrap();
    assert_eq!(
        outcome(d.signup_details(SIGNUP_CLIENT, rp_id_token, &cookies).await),
        hint_error,
        "wrong audience"
    );
    let mut forged = id_token.clone();
    forged.pop();
    forged.push(if id_token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        outcome(d.signup_details(SIGNUP_CLIENT, &forged, &cookies).await),
        hint_error,
        "bad signature"
    );
    d.h.advance(301);
    assert_eq!(
        outcome(d.signup_details(SIGNUP_CLIENT, &id_token, &cookies).await),
        hint_error,
        "expired"
    );
}

#[tokio::test]
async fn the_idt_factor_needs_matching_nonces_cookie_and_subject_once() {
    let d = Detour::new().await;
    let rp = d.authenticated().await;
    let (id_token, cookie) = d.prepare(&rp, FRAGMENT).await.unwrap();
    let cookies = jar(&rp.0, &cookie);
    let (signup, _) = d
        .signup_details(SIGNUP_CLIENT, &id_token, &cookies)
        .await
        .unwrap();
    let failed = Err(Error::code(codes::AUTH_FAILED));
    assert_eq!(
        d.idt(&signup, &rp.0, &id_token, &RequestCookies::default())
            .await,
        failed,
        "no cookie"
    );
    let fragment = cookie.split_once("~###~").unwrap().1;
    assert_eq!(
        d.idt(
            &signup,
            &rp.0,
            &id_token,
            &jar(&rp.0, &format!("other~###~{fragment}"))
        )
        .await,
        failed,
        "cookie nonce differs"
    );
    // The same hint cannot start a second signup login (its nonce is spent).
    assert_eq!(
        d.signup_details(SIGNUP_CLIENT, &id_token, &cookies)
            .await
            .map(|_| ()),
        Err(Error::code(codes::INVALID_REQUEST))
    );
    d.idt(&signup, &rp.0, &id_token, &cookies).await.unwrap();
    assert_eq!(
        d.idt(&signup, &rp.0, &id_token, &cookies).await,
        Err(Error::code(codes::INVALID_TRANSACTION)),
        "replayed on the same transaction"
    );
}

#[tokio::test]
async fn the_idt_factor_fails_once_the_halted_transaction_expired() {
    let d = Detour::new().await;
    let rp = d.authenticated().await;
    let (id_token, cookie) = d.prepare(&rp, FRAGMENT).await.unwrap();
    let cookies = jar(&rp.0, &cookie);
    let (signup, _) = d
        .signup_details(SIGNUP_CLIENT, &id_token, &cookies)
        .await
        .unwrap();
    d.h.core
        .record_signup_verification(&rp.0, "FAILED", None)
        .await
        .unwrap();
    assert!(d.complete(&rp).await.is_err(), "ends the halted entry");
    assert_eq!(
        d.idt(&signup, &rp.0, &id_token, &cookies).await,
        Err(Error::code(codes::AUTH_FAILED))
    );
}

#[tokio::test]
async fn without_the_signup_redirect_both_endpoints_and_hints_are_refused() {
    let h = Harness::new().await;
    let txn = h.start("openid email").await;
    h.authenticate(&txn).await.unwrap();
    let prepared = h
        .core
        .prepare_signup_redirect(
            headers(&txn),
            PrepareSignupRedirectRequest {
                transaction_id: Some(txn.0.clone()),
                path_fragment: Some(FRAGMENT.into()),
            },
        )
        .await;
    assert_eq!(
        prepared.map(|_| ()),
        Err(Error::code(codes::INVALID_REQUEST))
    );
    assert_eq!(
        h.core
            .record_signup_verification(&txn.0, "COMPLETED", None)
            .await,
        Err(Error::code(codes::INVALID_TRANSACTION))
    );
}

#[tokio::test]
async fn the_idt_individual_id_must_be_the_tokens_subject() {
    let d = Detour::new().await;
    let rp = d.authenticated().await;
    let (id_token, cookie) = d.prepare(&rp, FRAGMENT).await.unwrap();
    let cookies = jar(&rp.0, &cookie);
    let (signup, _) = d
        .signup_details(SIGNUP_CLIENT, &id_token, &cookies)
        .await
        .unwrap();
    assert_eq!(
        d.idt(&signup, RESIDENT, &id_token, &cookies).await,
        Err(Error::code(codes::INVALID_INDIVIDUAL_ID))
    );
}
