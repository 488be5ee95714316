//! Error matrix: send-otp, authenticate, claim-details, auth-code.

use super::*;

#[tokio::test]
async fn login_step_errors() {
    let server = Server::start(&[]).await;
    let csrf = csrf_token(&server).await;
    let request = || authorize_request(DEMO_CLIENT, DEMO_REDIRECT, "openid profile", None);
    let otp_body = |transaction_id: &str, individual_id: &str| json!({"transactionId": transaction_id, "individualId": individual_id, "otpChannels": ["email", "phone"]});
    let otp_challenge = |transaction_id: &str, individual_id: &str, otp: &str| {
        json!({"transactionId": transaction_id, "individualId": individual_id,
               "challengeList": [{"authFactorType": "OTP", "challenge": otp, "format": "alpha-numeric"}]})
    };

    // --- send-otp: the oauth-details headers.
    let browser = begin(&server, &csrf, request()).await;
    let txn = browser.transaction_id.clone();
    let mut headers = browser.headers();
    headers.remove("oauth-details-hash");
    let response = server
        .post_wrapped(SEND_OTP, otp_body(&txn, MANSOUR), headers)
        .await;
    assert_wrapped(
        "send-otp without oauth-details-hash",
        &response,
        "invalid_request",
    );
    let mut headers = browser.headers();
    headers.insert(
        "oauth-details-hash",
        b64url(&sha256(b"another response")).parse().unwrap(),
    );
    let response = server
        .post_wrapped(SEND_OTP, otp_body(&txn, MANSOUR), headers)
        .await;
    assert_wrapped("send-otp with a wrong hash", &response, "invalid_request");
    let mut headers = browser.headers();
    headers.remove("oauth-details-key");
    let response = server
        .post_wrapped(SEND_OTP, otp_body(&txn, MANSOUR), headers)
        .await;
    assert_wrapped(
        "send-otp without oauth-details-key",
        &response,
        "invalid_transaction",
    );
    let unknown = b64url(&sha256(uuid().as_bytes()));
    let mut headers = browser.headers();
    headers.insert("oauth-details-key", unknown.parse().unwrap());
    let response = server
        .post_wrapped(SEND_OTP, otp_body(&unknown, MANSOUR), headers)
        .await;
    assert_wrapped(
        "send-otp for an unknown transaction",
        &response,
        "invalid_transaction",
    );
    let other = begin(&server, &csrf, request()).await;
    let response = server
        .post_wrapped(
            SEND_OTP,
            otp_body(&other.transaction_id, MANSOUR),
            browser.headers(),
        )
        .await;
    assert_wrapped(
        "body transactionId differs from the header",
        &response,
        "invalid_transaction",
    );
    let response = server
        .post_wrapped(SEND_OTP, otp_body(&txn, MANSOUR), csrf_headers(&csrf))
        .await;
    assert_wrapped(
        "send-otp without any oauth-details header",
        &response,
        "invalid_transaction",
    );

    // --- send-otp: the body.
    let bodies: Vec<(&str, Value, &str)> = vec![
        (
            "blank transactionId",
            otp_body(" ", MANSOUR),
            "invalid_transaction_id",
        ),
        (
            "blank individualId",
            otp_body(&txn, "  "),
            "invalid_identifier",
        ),
        (
            "missing individualId",
            with(otp_body(&txn, MANSOUR), json!({"individualId": null})),
            "invalid_identifier",
        ),
        (
            "unsupported channel",
            with(otp_body(&txn, MANSOUR), json!({"otpChannels": ["fax"]})),
            "invalid_otp_channel",
        ),
        (
            "one unsupported channel",
            with(
                otp_body(&txn, MANSOUR),
                json!({"otpChannels": ["email", "pigeon"]}),
            ),
            "invalid_otp_channel",
        ),
        (
            "no channel",
            with(otp_body(&txn, MANSOUR), json!({"otpChannels": []})),
            "invalid_otp_channel",
        ),
        (
            "unknown field",
            with(otp_body(&txn, MANSOUR), json!({"channel": "sms"})),
            "unknown_error",
        ),
        (
            "unknown individual",
            otp_body(&txn, "0000000000"),
            "invalid_individual_id",
        ),
    ];
    for (case, body, code) in bodies {
        let response = server.post_wrapped(SEND_OTP, body, browser.headers()).await;
        assert_wrapped(&format!("send-otp: {case}"), &response, code);
    }

    // --- send-otp: three per transaction; the fourth blocks the individual everywhere.
    let exhausted = begin(&server, &csrf, request()).await;
    for attempt in 1..=3 {
        let sent = exhausted.send_otp(GOWDA).await;
        assert_eq!(
            sent["errors"],
            json!([]),
            "send-otp attempt {attempt}: {sent}"
        );
    }
    assert_wrapped(
        "fourth send-otp",
        &(200, exhausted.send_otp(GOWDA).await),
        "no_attempts_left",
    );
    let fresh = begin(&server, &csrf, request()).await;
    assert_wrapped(
        "blocked individual, new transaction",
        &(200, fresh.send_otp(GOWDA).await),
        "individual_id_blocked",
    );
    let blocked = fresh.authenticate(GOWDA, "PIN", "905718", "number").await;
    assert_wrapped(
        "blocked individual authenticating",
        &(200, blocked),
        "individual_id_blocked",
    );
    assert_eq!(
        fresh.send_otp(MANSOUR).await["errors"],
        json!([]),
        "the block is per individual"
    );

    // --- authenticate: shape of the challenges (refused before the transaction is touched).
    let browser = begin(&server, &csrf, request()).await;
    assert_eq!(
        browser.details["authFactors"],
        json!([[{"type": "OTP", "count": 0, "subTypes": null}], [{"type": "PIN", "count": 0, "subTypes": null}]])
    );
    let challenge = |factor: &str, value: &str, format: &str| json!({"authFactorType": factor, "challenge": value, "format": format});
    let list = |challenges: Vec<Value>| json!({"transactionId": browser.transaction_id, "individualId": PRIYA, "challengeList": challenges});
    let shapes: Vec<(&str, Value, &str)> = vec![
        (
            "lower-case type",
            list(vec![challenge("otp", "111111", "alpha-numeric")]),
            "invalid_auth_factor_type",
        ),
        (
            "unknown type",
            list(vec![challenge("FACE", "111111", "alpha-numeric")]),
            "invalid_auth_factor_type",
        ),
        (
            "OTP in number format",
            list(vec![challenge("OTP", "111111", "number")]),
            "invalid_challenge_format",
        ),
        (
            "PIN in alpha-numeric format",
            list(vec![challenge("PIN", "260395", "alpha-numeric")]),
            "invalid_challenge_format",
        ),
        (
            "five-digit OTP",
            list(vec![challenge("OTP", "11111", "alpha-numeric")]),
            "invalid_challenge",
        ),
        (
            "seven-digit PIN",
            list(vec![challenge("PIN", "2603950", "number")]),
            "invalid_challenge",
        ),
        (
            "PIN with a letter",
            list(vec![challenge("PIN", "26039a", "number")]),
            "invalid_challenge",
        ),
        (
            "short password",
            list(vec![challenge("PWD", "short", "alpha-numeric")]),
            "invalid_challenge",
        ),
        ("no challenge", list(vec![]), "invalid_no_of_challenges"),
        (
            "six challenges",
            list(vec![challenge("OTP", "111111", "alpha-numeric"); 6]),
            "invalid_no_of_challenges",
        ),
        (
            "blank individualId",
            with(
                list(vec![challenge("PIN", "260395", "number")]),
                json!({"individualId": ""}),
            ),
            "invalid_identifier",
        ),
        (
            "blank transactionId",
            with(
                list(vec![challenge("PIN", "260395", "number")]),
                json!({"transactionId": " "}),
            ),
            "invalid_transaction_id",
        ),
    ];
    for (case, body, code) in shapes {
        let response = server
            .post_wrapped(AUTHENTICATE, body, browser.headers())
            .await;
        assert_wrapped(&format!("authenticate: {case}"), &response, code);
    }
    // ... then three real attempts, each failing for its own reason, and the fourth refused.
    let attempts: Vec<(&str, Value, &str)> = vec![
        (
            "factor outside the ACRs",
            list(vec![challenge("PWD", "Password@123", "alpha-numeric")]),
            "auth_factor_mismatch",
        ),
        (
            "OTP never sent",
            list(vec![challenge("OTP", OTP, "alpha-numeric")]),
            "invalid_transaction",
        ),
        (
            "wrong PIN",
            list(vec![challenge("PIN", "000000", "number")]),
            "auth_failed",
        ),
        (
            "fourth attempt",
            list(vec![challenge("PIN", "260395", "number")]),
            "no_attempts_left",
        ),
    ];
    for (case, body, code) in attempts {
        let response = server
            .post_wrapped(AUTHENTICATE, body, browser.headers())
            .await;
        assert_wrapped(&format!("authenticate: {case}"), &response, code);
    }
    let next = begin(&server, &csrf, request()).await;
    let response = next.authenticate(PRIYA, "PIN", "260395", "number").await;
    assert_wrapped(
        "authenticate after exhausting attempts",
        &(200, response),
        "individual_id_blocked",
    );

    // A wrong OTP does not spend the OTP; success moves the transaction on.
    let browser = begin(&server, &csrf, request()).await;
    assert_eq!(browser.send_otp(MANSOUR).await["errors"], json!([]));
    let response = server
        .post_wrapped(
            AUTHENTICATE,
            otp_challenge(&browser.transaction_id, MANSOUR, "222222"),
            browser.headers(),
        )
        .await;
    assert_wrapped("wrong OTP", &response, "auth_failed");
    let other_person = server
        .post_wrapped(
            AUTHENTICATE,
            otp_challenge(&browser.transaction_id, MARTIN, OTP),
            browser.headers(),
        )
        .await;
    assert_wrapped(
        "OTP sent to someone else",
        &other_person,
        "invalid_transaction",
    );
    let success = browser
        .authenticate(MANSOUR, "OTP", OTP, "alpha-numeric")
        .await;
    assert_eq!(success["errors"], json!([]), "{success}");
    let again = browser
        .authenticate(MANSOUR, "PIN", "482916", "number")
        .await;
    assert_wrapped(
        "authenticate after success",
        &(200, again),
        "invalid_transaction",
    );
    assert_wrapped(
        "send-otp after success",
        &(200, browser.send_otp(MANSOUR).await),
        "invalid_transaction",
    );

    // --- claim-details and auth-code.
    let pending = begin(&server, &csrf, request()).await;
    assert_wrapped(
        "claim-details before authentication",
        &(200, pending.claim_details().await),
        "invalid_transaction",
    );
    assert_wrapped(
        "auth-code before authentication",
        &(200, pending.auth_code(&[], &[]).await),
        "invalid_transaction",
    );

    let consent = with(
        authorize_request(DEMO_CLIENT, DEMO_REDIRECT, "openid Manage-VID", None),
        json!({"prompt": "consent", "claims": {"userinfo": {"name": {"essential": true}, "email": null}}}),
    );
    let browser = begin(&server, &csrf, consent).await;
    assert_eq!(browser.details["essentialClaims"], json!(["name"]));
    assert_eq!(browser.details["authorizeScopes"], json!(["Manage-VID"]));
    let authenticated = browser.otp_login(SREYMOM).await;
    assert_eq!(
        authenticated["response"]["consentAction"], "CAPTURE",
        "{authenticated}"
    );
    let mut headers = browser.headers();
    headers.insert("oauth-details-hash", b64url(&sha256(b"x")).parse().unwrap());
    let claim_details = server
        .http
        .get(server.url("/authorization/claim-details"))
        .headers(headers)
        .send()
        .await
        .unwrap();
    let claim_details = (
        claim_details.status().as_u16(),
        claim_details.json::<Value>().await.unwrap(),
    );
    assert_wrapped(
        "claim-details with a wrong hash",
        &claim_details,
        "invalid_request",
    );
    assert_eq!(browser.claim_details().await["errors"], json!([]));
    assert_wrapped(
        "second claim-details",
        &(200, browser.claim_details().await),
        "no_attempts_left",
    );
    let consents: Vec<(&str, Vec<&str>, Vec<&str>, &str)> = vec![
        (
            "essential claim not accepted",
            vec!["email"],
            vec!["Manage-VID"],
            "invalid_accepted_claim",
        ),
        (
            "unrequested claim",
            vec!["name", "birthdate"],
            vec![],
            "invalid_accepted_claim",
        ),
        (
            "blank claim",
            vec!["name", " "],
            vec![],
            "invalid_accepted_claim",
        ),
        (
            "unrequested scope",
            vec!["name"],
            vec!["Manage-Identity-Data"],
            "invalid_permitted_scope",
        ),
        (
            "blank scope",
            vec!["name"],
            vec![""],
            "invalid_permitted_scope",
        ),
    ];
    for (case, accepted, permitted, code) in consents {
        assert_wrapped(
            case,
            &(200, browser.auth_code(&accepted, &permitted).await),
            code,
        );
    }
    let other = begin(&server, &csrf, request()).await;
    let response = server
        .post_wrapped(
            AUTH_CODE,
            json!({"transactionId": other.transaction_id, "acceptedClaims": ["name"], "permittedAuthorizeScopes": []}),
            browser.headers(),
        )
        .await;
    assert_wrapped(
        "auth-code for another transaction",
        &response,
        "invalid_transaction",
    );
    let code = browser.auth_code(&["name", "email"], &["Manage-VID"]).await;
    assert_eq!(code["errors"], json!([]), "{code}");
    assert_wrapped(
        "second auth-code",
        &(200, browser.auth_code(&["name"], &[]).await),
        "invalid_transaction",
    );
    assert_wrapped(
        "claim-details after auth-code",
        &(200, browser.claim_details().await),
        "invalid_transaction",
    );
}
