//! Every error code of registration and reset (companions 3.3), one assertion per code, in one
//! demo instance. The order matters: cookies live in the one browser's jar.

use serde_json::{Value, json};

use super::{OTP, SignupClient, error_code, kbi_challenge, otp_challenge, user_info};
use crate::demo::{start_demo, start_demo_with};
use crate::harness::b64url;

/// A persona of the demo identity system.
const PERSONA: &str = "8267411571";
const PERSONA_NAME: &str = "Siddharth Kumar Mansour";

fn generate_request(identifier: &str, purpose: &str, regenerate: Value) -> Value {
    json!({"identifier": identifier, "captchaToken": null, "locale": "eng",
           "regenerateChallenge": regenerate, "purpose": purpose})
}

async fn expect(client: &SignupClient, path: &str, request: Value, code: &str) {
    let body = client.post(path, request).await;
    assert_eq!(error_code(&body), code, "{path}: {body}");
}

#[tokio::test]
async fn every_registration_and_reset_error_code() {
    let demo = start_demo().await;
    let client = SignupClient::new(&demo.server).await;
    let gen_path = "/registration/generate-challenge";
    let verify_path = "/registration/verify-challenge";
    let register_path = "/registration/register";

    // generate-challenge: field checks, then the transaction checks of a resend.
    expect(
        &client,
        gen_path,
        generate_request("abc", "REGISTRATION", json!(false)),
        "invalid_identifier",
    )
    .await;
    expect(&client, gen_path, json!({"identifier": "9123456780", "locale": "xyz", "regenerateChallenge": false, "purpose": "REGISTRATION"}), "unsupported_language").await;
    expect(
        &client,
        gen_path,
        generate_request("9123456780", "REGISTRATION", json!("maybe")),
        "invalid_request",
    )
    .await;
    expect(
        &client,
        gen_path,
        generate_request("9123456780", "OTHER", json!(false)),
        "invalid_purpose",
    )
    .await;
    expect(
        &client,
        gen_path,
        generate_request("9123456780", "REGISTRATION", json!(true)),
        "invalid_transaction",
    )
    .await;
    let stale = client
        .post_raw(gen_path, json!({"requestTime": "2020-01-01T00:00:00.000Z", "request": generate_request("9123456780", "REGISTRATION", json!(false))}))
        .await
        .1;
    assert_eq!(error_code(&stale), "invalid_request", "a stale requestTime");
    let sent = client.generate("9123456780", "REGISTRATION", false).await;
    assert_eq!(sent["response"]["status"], "SUCCESS", "{sent}");
    expect(
        &client,
        gen_path,
        generate_request("9123456781", "REGISTRATION", json!(true)),
        "identifier_mismatch",
    )
    .await;
    expect(
        &client,
        gen_path,
        generate_request("9123456780", "REGISTRATION", json!(true)),
        "too_early_attempt",
    )
    .await;

    // verify-challenge: field checks.
    expect(
        &client,
        verify_path,
        json!({"identifier": "x", "challengeInfo": [otp_challenge(OTP)]}),
        "invalid_identifier",
    )
    .await;
    expect(
        &client,
        verify_path,
        json!({"identifier": "9123456780", "challengeInfo": []}),
        "invalid_challenge_info",
    )
    .await;
    expect(&client, verify_path, json!({"identifier": "9123456780", "challengeInfo": [{"challenge": " ", "format": "alpha-numeric", "type": "OTP"}]}), "invalid_challenge").await;
    expect(&client, verify_path, json!({"identifier": "9123456780", "challengeInfo": [{"challenge": OTP, "format": "jwt", "type": "OTP"}]}), "invalid_challenge_format").await;
    expect(&client, verify_path, json!({"identifier": "9123456780", "challengeInfo": [{"challenge": OTP, "format": "alpha-numeric", "type": "PIN"}]}), "invalid_challenge_type").await;
    expect(&client, verify_path, json!({"identifier": "9123456780", "challengeInfo": [{"challenge": OTP, "format": "base64url-encoded-json", "type": "OTP"}]}), "challenge_format_and_type_mismatch").await;
    expect(
        &client,
        verify_path,
        json!({"identifier": "9123456780", "challengeInfo": [kbi_challenge(&json!({"a": 1}))]}),
        "invalid_challenge",
    )
    .await;
    // verify-challenge: transaction checks, then the OTP and its attempt limit.
    expect(
        &client,
        verify_path,
        json!({"identifier": "9123456781", "challengeInfo": [otp_challenge(OTP)]}),
        "identifier_mismatch",
    )
    .await;
    for _ in 0..3 {
        expect(
            &client,
            verify_path,
            json!({"identifier": "9123456780", "challengeInfo": [otp_challenge("000000")]}),
            "challenge_failed",
        )
        .await;
    }
    expect(
        &client,
        verify_path,
        json!({"identifier": "9123456780", "challengeInfo": [otp_challenge(OTP)]}),
        "too_many_verify_attempts",
    )
    .await;

    // Registration of a known resident, and resets of unknown or unproven ones.
    client.generate(PERSONA, "REGISTRATION", false).await;
    expect(
        &client,
        verify_path,
        json!({"identifier": PERSONA, "challengeInfo": [otp_challenge(OTP)]}),
        "identifier_already_registered",
    )
    .await;
    client.generate("9123456782", "RESET_PASSWORD", false).await;
    expect(
        &client,
        verify_path,
        json!({"identifier": "9123456782", "challengeInfo": [otp_challenge(OTP)]}),
        "identifier_not_found",
    )
    .await;
    client.generate(PERSONA, "RESET_PASSWORD", false).await;
    expect(
        &client,
        verify_path,
        json!({"identifier": PERSONA, "challengeInfo": [otp_challenge(OTP)]}),
        "kbi_challenge_not_found",
    )
    .await;
    let not_json = json!({"challenge": b64url(b"{not json"), "format": "base64url-encoded-json", "type": "KBI"});
    expect(
        &client,
        verify_path,
        json!({"identifier": PERSONA, "challengeInfo": [otp_challenge(OTP), not_json]}),
        "invalid_KBI_challenge",
    )
    .await;
    let wrong = kbi_challenge(&json!({"fullName": [{"language": "eng", "value": "Someone Else"}]}));
    expect(
        &client,
        verify_path,
        json!({"identifier": PERSONA, "challengeInfo": [otp_challenge(OTP), wrong]}),
        "knowledgebase_mismatch",
    )
    .await;

    // A verified reset transaction: register refuses its purpose; reset checks its fields.
    let right = json!({"fullName": [{"language": "eng", "value": PERSONA_NAME}]});
    client
        .verified(PERSONA, "RESET_PASSWORD", Some(right))
        .await;
    expect(&client, register_path, json!({"username": PERSONA, "password": "Secret@2024", "consent": "AGREE", "userInfo": user_info(PERSONA, "X")}), "unsupported_purpose").await;
    expect(
        &client,
        "/reset-password",
        json!({"identifier": "9123456780", "password": "Secret@2024"}),
        "identifier_mismatch",
    )
    .await;
    expect(
        &client,
        "/reset-password",
        json!({"identifier": PERSONA, "password": "weak"}),
        "invalid_password",
    )
    .await;
    // The demo's mock identity system runs the signup schema and serves its account form (the
    // full schema's `ui_spec_not_found` is checked in the mock identity system's own tests).
    let spec = client.get("/registration/ui-spec").await;
    assert_eq!(spec["errors"], json!([]), "{spec}");
    assert_eq!(spec["response"]["schema"][1]["id"], "fullName", "{spec}");

    // A verified registration transaction: the register checks.
    let phone = "9123456783";
    client.verified(phone, "REGISTRATION", None).await;
    expect(
        &client,
        "/reset-password",
        json!({"identifier": phone, "password": "Secret@2024"}),
        "unsupported_purpose",
    )
    .await;
    let register = |username: &str, password: &str, consent: &str, info: Value| json!({"username": username, "password": password, "consent": consent, "userInfo": info});
    expect(
        &client,
        register_path,
        register("12", "Secret@2024", "AGREE", user_info(phone, "Dara")),
        "invalid_username",
    )
    .await;
    expect(
        &client,
        register_path,
        register(phone, "secret", "AGREE", user_info(phone, "Dara")),
        "invalid_password",
    )
    .await;
    expect(
        &client,
        register_path,
        register(phone, "Secret@2024", "MAYBE", user_info(phone, "Dara")),
        "invalid_consent",
    )
    .await;
    expect(
        &client,
        register_path,
        register(phone, "Secret@2024", "AGREE", json!({})),
        "invalid_userinfo",
    )
    .await;
    expect(
        &client,
        register_path,
        register(phone, "Secret@2024", "DISAGREE", user_info(phone, "Dara")),
        "consent_required",
    )
    .await;
    expect(
        &client,
        register_path,
        register(
            "9123456784",
            "Secret@2024",
            "AGREE",
            user_info("9123456784", "Dara"),
        ),
        "identifier_mismatch",
    )
    .await;
    expect(
        &client,
        register_path,
        register(
            phone,
            "Secret@2024",
            "AGREE",
            user_info("9123456789", "Dara"),
        ),
        "identifier_mismatch",
    )
    .await;
    // The registry's schema errors come back as they are.
    let mut bad_email = user_info(phone, "Dara");
    bad_email["email"] = json!("not an address");
    expect(
        &client,
        register_path,
        register(phone, "Secret@2024", "AGREE", bad_email),
        "invalid_email",
    )
    .await;
    // The registry created nothing, and the transaction survived: the corrected form passes.
    let done = client
        .post(
            register_path,
            register(phone, "Secret@2024", "AGREE", user_info(phone, "Dara")),
        )
        .await;
    assert_eq!(done["response"]["status"], "PENDING", "{done}");
    // The verified transaction is single use.
    expect(
        &client,
        register_path,
        register(phone, "Secret@2024", "AGREE", user_info(phone, "Dara")),
        "invalid_transaction",
    )
    .await;
    // Without any transaction cookie.
    let fresh = reqwest::Client::new();
    let body: Value = fresh
        .get(super::signup_url(&demo.server, "/registration/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&body), "invalid_transaction");
}

#[tokio::test]
async fn generate_challenge_checks_the_captcha_when_required() {
    // With a captcha configured the demo keeps eSignet's default: a captcha on every send.
    let demo = start_demo_with(&[("ESIGNET_CAPTCHA__KIND", "pow")]).await;
    let client = SignupClient::new(&demo.server).await;
    let settings = client.get("/settings").await;
    assert_eq!(
        settings["response"]["configs"]["send-challenge.captcha.required"],
        true
    );
    let path = "/registration/generate-challenge";
    let mut request = generate_request("9123456780", "REGISTRATION", json!(false));
    expect(&client, path, request.clone(), "invalid_captcha").await;
    request["captchaToken"] = json!("not-a-solution");
    expect(&client, path, request, "invalid_captcha").await;
}
