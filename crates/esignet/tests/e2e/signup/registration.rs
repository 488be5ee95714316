//! The happy paths: register then log in with the new identifier; reset the password (OTP and
//! KBI) then log in with the new password.

use serde_json::json;

use super::{OTP, SignupClient, otp_challenge, set_cookie, signup_url, user_info};
use crate::demo::{http_logout, sign_in, start_demo};

#[tokio::test]
async fn a_registered_resident_logs_in_and_a_reset_password_works() {
    let demo = start_demo().await;
    let server = &demo.server;
    let client = SignupClient::new(server).await;

    let settings = client.get("/settings").await;
    let configs = &settings["response"]["configs"];
    assert_eq!(configs["otp.length"], 6, "{settings}");
    assert_eq!(
        configs["signup.oauth-client-id"],
        "mosip-signup-oauth-client"
    );
    assert_eq!(configs["send-challenge.captcha.required"], false);
    assert_eq!(
        configs["signin.redirect-url"],
        format!("{}/authorize", server.base)
    );

    let phone = "9876543210";
    let (headers, sent) = client
        .post_full(
            "/registration/generate-challenge",
            json!({"identifier": phone, "captchaToken": null, "locale": "eng",
                   "regenerateChallenge": false, "purpose": "REGISTRATION"}),
        )
        .await;
    assert_eq!(sent["response"], json!({"status": "SUCCESS"}), "{sent}");
    assert_eq!(sent["errors"], json!([]));
    let cookie = set_cookie(&headers, "TRANSACTION_ID").expect("TRANSACTION_ID cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(cookie.contains("Max-Age=300"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");

    let (headers, verified) = client
        .post_full(
            "/registration/verify-challenge",
            json!({"identifier": phone, "challengeInfo": [otp_challenge(OTP)]}),
        )
        .await;
    assert_eq!(verified["response"]["status"], "SUCCESS", "{verified}");
    let cookie = set_cookie(&headers, "VERIFIED_TRANSACTION_ID").expect("verified cookie");
    assert!(cookie.contains("Max-Age=500"), "{cookie}");
    let cleared = set_cookie(&headers, "TRANSACTION_ID").expect("TRANSACTION_ID cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let registered = client
        .post(
            "/registration/register",
            json!({"username": phone, "password": "Secret@2024", "consent": "AGREE",
                   "userInfo": user_info(phone, "Sok Chan"), "locale": "eng"}),
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

    // The new resident logs in at the provider with the OTP sent to the registered phone.
    let profile = sign_in(&demo, "/login", phone, ("OTP", OTP, "alpha-numeric")).await;
    assert!(profile.contains("Sok Chan"), "{profile}");
    http_logout(&demo).await;
    // The login pages issued their own CSRF token: the signup page, opened again, reads it.
    let client = SignupClient::new(server).await;

    // Registering the same number again is refused at verify-challenge.
    client.generate(phone, "REGISTRATION", false).await;
    let again = client.verify(phone, json!([otp_challenge(OTP)])).await;
    assert_eq!(super::error_code(&again), "identifier_already_registered");

    // Forgot password: OTP plus the full name as knowledge.
    let kbi = json!({"fullName": [{"language": "khm", "value": "សុខ ចាន់"}]});
    client.verified(phone, "RESET_PASSWORD", Some(kbi)).await;
    let reset = client
        .post(
            "/reset-password",
            json!({"identifier": phone, "password": "Changed#2025", "locale": "eng"}),
        )
        .await;
    assert_eq!(reset["response"], json!({"status": "PENDING"}), "{reset}");
    let status = client.get("/registration/status").await;
    assert_eq!(status["response"]["status"], "COMPLETED", "{status}");

    let profile = sign_in(
        &demo,
        "/login",
        phone,
        ("PWD", "Changed#2025", "alpha-numeric"),
    )
    .await;
    assert!(profile.contains("Sok Chan"), "{profile}");
}

#[tokio::test]
async fn posts_without_the_csrf_header_are_forbidden_and_nothing_is_sent() {
    let demo = start_demo().await;
    let server = &demo.server;
    let response = server
        .http
        .post(signup_url(server, "/registration/generate-challenge"))
        .json(&json!({"requestTime": crate::harness::now_timestamp(),
                      "request": {"identifier": "9876543211", "regenerateChallenge": false,
                                  "purpose": "REGISTRATION"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.headers().get("set-cookie").is_none());
}
