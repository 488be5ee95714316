//! Audit end to end: `esignet demo` on PostgreSQL with every sink on (`log`, `postgres`,
//! `http` to a recording MOSIP audit manager in this test), a signup registration and an OTP
//! login by the new resident; then the expected rows are in `audit_event` (actions and
//! statuses in order, per transaction), and nothing personal reached any sink: not the table,
//! not the audit manager's bodies, not the instance's log output.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};

use crate::demo::{sign_in, start_demo_logging_to};
use crate::scaleout::{DropSchema, postgres_url, unique};
use crate::signup::{OTP, SignupClient, otp_challenge, user_info};

/// The identity registered and used to log in. Distinctive values, so a scan cannot match
/// anything else by chance.
const PHONE: &str = "9813572460";
const PASSWORD: &str = "Audit#Trail2026";
const FULL_NAME: &str = "Vannakriddh Auditova";
const GIVEN_NAME: &str = "Vannakriddh";
const FAMILY_NAME: &str = "Auditova";
const EMAIL: &str = "vannakriddh.auditova@example.org";
const TOKEN: &str = "audit-manager-token-5c1e";

type Captured = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

async fn record(
    State(captured): State<Captured>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    captured.lock().unwrap().push((headers, body));
    Json(json!({"response": {"status": true}, "errors": []}))
}

/// A MOSIP audit manager that records every request; returns its base URL.
async fn audit_manager() -> (String, Captured) {
    let captured: Captured = Arc::default();
    let app = axum::Router::new()
        .route("/v1/auditmanager/audits", post(record))
        .with_state(captured.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), captured)
}

/// Every audit row of `schema`, in order: (action, status, transaction id, row as JSON text).
pub(crate) fn audit_rows(schema: &str) -> Vec<(String, String, String, String)> {
    let output = std::process::Command::new("psql")
        .args([
            &postgres_url(),
            "-qAtF",
            "\u{1f}",
            "-c",
            &format!(
                "SELECT action, status, coalesce(transaction_id, ''), row_to_json(a)::text \
                 FROM {schema}.audit_event a ORDER BY id"
            ),
        ])
        .output()
        .expect("psql runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\u{1f}').map(str::to_owned);
            Some((
                fields.next()?,
                fields.next()?,
                fields.next()?,
                fields.next()?,
            ))
        })
        .collect()
}

/// Fails when `text` (what `place` holds) contains any of `personal` or the `otp` as a value.
/// Shared with the production-shaped deployment tests.
pub(crate) fn assert_no_personal_data(place: &str, text: &str, personal: &[&str], otp: &str) {
    for secret in personal {
        assert!(
            !text.contains(secret),
            "{place} contains personal data ({secret}):\n{text}"
        );
    }
    // The OTP, as a JSON value (six digits also occur inside ids and timestamps).
    assert!(
        !text.contains(&format!("\"{otp}\"")) && !text.contains(&format!("={otp}")),
        "{place} contains the OTP:\n{text}"
    );
}

/// What this test's resident gave: identity, secrets and the registered profile.
const PERSONAL: &[&str] = &[
    PHONE,
    PASSWORD,
    FULL_NAME,
    GIVEN_NAME,
    FAMILY_NAME,
    EMAIL,
    "545411",     // the registered PIN
    "1990/04/12", // the registered date of birth
];

#[tokio::test]
async fn audit_trail_of_a_signup_and_an_otp_login_lands_in_every_sink_without_personal_data() {
    let schema = unique("audit");
    let _drop_schema = DropSchema(schema.clone());
    let (manager, captured) = audit_manager().await;
    let log_path = tempfile::NamedTempFile::new().unwrap();
    let env = [
        ("ESIGNET_STORE__KIND", "postgres"),
        ("ESIGNET_STORE__POSTGRES_URL", &postgres_url()),
        ("ESIGNET_STORE__POSTGRES_SCHEMA", &schema),
        ("ESIGNET_AUDIT__SINKS", "[\"log\", \"postgres\", \"http\"]"),
        ("ESIGNET_AUDIT__HTTP_URL", &manager),
        ("ESIGNET_AUDIT__HTTP_AUTH", "bearer"),
        ("ESIGNET_AUDIT__HTTP_TOKEN", TOKEN),
        ("ESIGNET_AUDIT__INSTANCE", "audit-e2e-1"),
        // Everything at info, so the scan sees what operators' logs would hold.
        ("ESIGNET_LOG", "info"),
        ("ESIGNET_LOGGING__FORMAT", "json"),
    ];
    let demo = start_demo_logging_to(&env, Some(log_path.reopen().unwrap())).await;

    // Registration.
    let client = SignupClient::new(&demo.server).await;
    let sent = client.generate(PHONE, "REGISTRATION", false).await;
    assert_eq!(sent["response"]["status"], "SUCCESS", "{sent}");
    let verified = client.verify(PHONE, json!([otp_challenge(OTP)])).await;
    assert_eq!(verified["response"]["status"], "SUCCESS", "{verified}");
    let mut info = user_info(PHONE, FULL_NAME);
    info["givenName"] = json!([{"language": "eng", "value": GIVEN_NAME}]);
    info["familyName"] = json!([{"language": "eng", "value": FAMILY_NAME}]);
    info["email"] = json!(EMAIL);
    let registered = client
        .post(
            "/registration/register",
            json!({"username": PHONE, "password": PASSWORD, "consent": "AGREE",
                   "userInfo": info, "locale": "eng"}),
        )
        .await;
    assert_eq!(registered["response"]["status"], "PENDING", "{registered}");
    let status = client.get("/registration/status").await;
    assert_eq!(status["response"]["status"], "COMPLETED", "{status}");

    // The new resident logs in with an OTP at the demo RP (token and userinfo included).
    let profile = sign_in(&demo, "/login", PHONE, ("OTP", OTP, "alpha-numeric")).await;
    assert!(profile.contains(FULL_NAME), "{profile}");

    // Delivery is asynchronous: wait for the last step of the login in the table and at the
    // audit manager.
    let deadline = Instant::now() + Duration::from_secs(30);
    let rows = loop {
        let rows = audit_rows(&schema);
        let delivered = captured.lock().unwrap().len();
        if rows.iter().any(|row| row.0 == "GET_USERINFO") && delivered == rows.len() {
            break rows;
        }
        assert!(
            Instant::now() < deadline,
            "audit rows did not arrive: {rows:?}, {delivered} posted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Signup: the registration's steps, in order, all successful.
    let signup: Vec<(&str, &str)> = rows
        .iter()
        .filter(|row| {
            [
                "GENERATE_CHALLENGE",
                "VERIFY_CHALLENGE",
                "REGISTER",
                "REGISTER_STATUS_CHECK",
            ]
            .contains(&row.0.as_str())
        })
        .map(|row| (row.0.as_str(), row.1.as_str()))
        .collect();
    assert_eq!(
        signup,
        [
            ("GENERATE_CHALLENGE", "SUCCESS"),
            ("VERIFY_CHALLENGE", "SUCCESS"),
            ("REGISTER", "SUCCESS"),
            ("REGISTER_STATUS_CHECK", "SUCCESS"),
        ],
        "{rows:#?}"
    );

    // The login: one transaction from oauth-details to the KYC exchange of the token request,
    // every step successful.
    let started = rows
        .iter()
        .find(|row| row.0 == "GET_OAUTH_DETAILS")
        .expect("oauth-details audited");
    let transaction = started.2.clone();
    assert!(!transaction.is_empty());
    let login: Vec<(&str, &str)> = rows
        .iter()
        .filter(|row| row.2 == transaction)
        .map(|row| (row.0.as_str(), row.1.as_str()))
        .collect();
    assert_eq!(
        login,
        [
            ("GET_OAUTH_DETAILS", "SUCCESS"),
            ("TRANSACTION_STARTED", "SUCCESS"),
            ("SEND_OTP", "SUCCESS"),
            ("DO_KYC_AUTH", "SUCCESS"),
            // The stored consent is looked up while authenticating.
            ("GET_USER_CONSENT", "SUCCESS"),
            ("AUTHENTICATE", "SUCCESS"),
            ("SAVE_CONSENT", "SUCCESS"),
            ("GET_AUTH_CODE", "SUCCESS"),
            ("DO_KYC_EXCHANGE", "SUCCESS"),
        ],
        "{rows:#?}"
    );
    // Token and userinfo (audited without the transaction id) come after, successfully.
    let tail: Vec<(&str, &str)> = rows
        .iter()
        .skip_while(|row| row.0 != "GET_AUTH_CODE")
        .filter(|row| ["GENERATE_TOKEN", "GET_USERINFO"].contains(&row.0.as_str()))
        .map(|row| (row.0.as_str(), row.1.as_str()))
        .collect();
    assert_eq!(
        tail,
        [("GENERATE_TOKEN", "SUCCESS"), ("GET_USERINFO", "SUCCESS")],
        "{rows:#?}"
    );
    for row in &rows {
        assert!(row.3.contains("\"instance\":\"audit-e2e-1\""), "{}", row.3);
    }

    // The audit manager got the same events, in the same order, with the token.
    let posted = captured.lock().unwrap().clone();
    let posted_actions: Vec<&str> = posted
        .iter()
        .map(|(_, body)| body["request"]["eventId"].as_str().unwrap())
        .collect();
    let stored_actions: Vec<&str> = rows.iter().map(|row| row.0.as_str()).collect();
    assert_eq!(posted_actions, stored_actions);
    for (headers, body) in &posted {
        assert_eq!(headers["authorization"], format!("Bearer {TOKEN}"));
        assert_eq!(body["request"]["hostName"], "audit-e2e-1");
        assert_eq!(body["request"]["sessionUserId"], "no-user");
    }

    // No personal data anywhere.
    let table: String = rows.iter().map(|row| format!("{}\n", row.3)).collect();
    assert_no_personal_data("the audit_event table", &table, PERSONAL, OTP);
    let bodies: String = posted.iter().map(|(_, body)| format!("{body}\n")).collect();
    assert_no_personal_data("the audit manager's requests", &bodies, PERSONAL, OTP);
    let log = std::fs::read_to_string(log_path.path()).unwrap();
    assert!(
        log.contains("\"target\":\"audit\""),
        "the log sink wrote audit lines:\n{log}"
    );
    assert_no_personal_data("the instance's log output", &log, PERSONAL, OTP);
}
