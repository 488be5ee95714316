//! Identity verification (video eKYC) end to end against the real binary, over HTTP and the
//! STOMP WebSocket: an RP asks for a verified name the resident lacks; the login halts,
//! the signup client logs in with the ID token hint, initiate redeems its code, the mock
//! verifier's story plays over the socket, the status writes the verified claims to the mock
//! identity system and reports to the halted login, and the login resumes to an RP userinfo
//! carrying the new verified claims. Once on one instance (SQLite + memory cache) and once
//! across two instances (PostgreSQL + Redis), where every step alternates between them and
//! the WebSocket is held by the other instance than the one that allotted the slot.

use futures::{SinkExt, StreamExt};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::scaleout::{mock_identity, signup_env};
use super::{SignupClient, error_code, set_cookie};
use crate::harness::{Server, new_rsa_key, uuid};
use crate::login::{Browser, Rp, authorize_request};
use crate::scaleout::{DropSchema, as_refs, redis_url, shared_env, unique};
use crate::signup_redirect::{
    SIGNUP_CLIENT, complete, idt_challenge, prepare, signup_redirect_uri, signup_start_to,
};
use crate::verify::{jwks, verify_jws};

/// A demo resident with nothing verified.
const RESIDENT: &str = "3519847260";
const FRAGMENT: &str = "urlInfo1767254400123";
const VERIFIER: &str = "mock-identity-verifier";

pub(super) fn ekyc_env(identity_url: &str) -> Vec<(String, String)> {
    let mut env = signup_env(identity_url);
    env.push(("ESIGNET_SIGNUP_REDIRECT__ENABLED".into(), "true".into()));
    env.push((
        "ESIGNET_SIGNUP__IDENTITY_VERIFICATION".into(),
        "true".into(),
    ));
    env
}

/// The RP's request: a verified name, essential.
fn verified_name_request(rp: &Rp<'_>) -> Value {
    let mut request = authorize_request(&rp.client_id, &rp.redirect_uri, "openid", None);
    request["claims"] = json!({
        "userinfo": {
            "verified_claims": {
                "verification": {"trust_framework": null},
                "claims": {"name": {"essential": true}, "birthdate": null}
            }
        }
    });
    request
}

async fn register_rp(server: &Server) -> Rp<'_> {
    let key = new_rsa_key();
    let client_id = format!("ekyc-{}", &uuid()[..8]);
    server.register_client(&client_id, json!({}), &key).await;
    Rp {
        server,
        client_id,
        key,
        redirect_uri: "https://rp.example/callback".into(),
    }
}

/// A STOMP client over the WebSocket of `base` for `slot_id`, with the slot cookie.
struct Stomp {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Stomp {
    async fn connect(base: &str, slot_id: &str, cookie: &str) -> Result<Stomp, u16> {
        let url = format!(
            "{}/v1/signup/ws?slotId={slot_id}",
            base.replacen("http://", "ws://", 1)
        );
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Stomp { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(error) => panic!("{error}"),
        }
    }

    async fn send(&mut self, frame: &str) {
        self.socket
            .send(Message::Text(frame.to_owned().into()))
            .await
            .unwrap();
    }

    /// The next STOMP frame: (command, headers, body).
    async fn next(&mut self) -> (String, Vec<(String, String)>, String) {
        loop {
            let message =
                tokio::time::timeout(std::time::Duration::from_secs(10), self.socket.next())
                    .await
                    .expect("a frame within 10 s")
                    .expect("the socket is open")
                    .unwrap();
            let Message::Text(text) = message else {
                continue;
            };
            let text = text.to_string();
            let frame = text.trim_end_matches('\0');
            let (head, body) = frame.split_once("\n\n").unwrap_or((frame, ""));
            let mut lines = head.lines();
            let command = lines.next().unwrap_or_default().to_owned();
            let headers = lines
                .filter_map(|line| line.split_once(':'))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            return (command, headers, body.to_owned());
        }
    }

    /// The next MESSAGE's JSON body.
    async fn message(&mut self) -> Value {
        let (command, headers, body) = self.next().await;
        assert_eq!(command, "MESSAGE", "{headers:?} {body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn process(&mut self, slot_id: &str, step: &str, orders: &[u64]) {
        let frames: Vec<Value> = orders
            .iter()
            .map(|order| json!({"frame": "/9j/4AAQSkZJRgABAQ==", "order": order}))
            .collect();
        let body = json!({"slotId": slot_id, "stepCode": step, "frames": frames}).to_string();
        self.send(&format!(
            "SEND\ndestination:/v1/signup/ws/process-frame\ncontent-type:application/json\n\n{body}\0"
        ))
        .await;
    }
}

fn cookie_pair(headers: &HeaderMap, name: &str) -> String {
    set_cookie(headers, name)
        .unwrap_or_else(|| panic!("{name} cookie"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The round trip with the login on `a` and each later step alternating between `a` and
/// `b` (which may be the same server).
/// A login of `RESIDENT` at `rp` halted for verification, and the signup client's
/// authorization code for it (its login run on `b`).
async fn detour<'a>(a: &'a Server, b: &Server, rp: &Rp<'_>) -> (Browser<'a>, String) {
    let original = Browser::start(
        a,
        "/authorization/v3/oauth-details",
        verified_name_request(rp),
    )
    .await
    .unwrap();
    let authenticated = original.otp_login(RESIDENT).await;
    assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
    let details = original.claim_details().await;
    assert_eq!(
        details["response"]["profileUpdateRequired"], true,
        "nothing verified yet: {details}"
    );

    // The detour: halted login, the signup client's login with the hint, its code.
    let (prepared, _) = prepare(&original, FRAGMENT).await;
    assert_eq!(prepared["errors"], json!([]), "{prepared}");
    let id_token = prepared["response"]["idToken"].as_str().unwrap().to_owned();
    // Behind one public URL: the signup client's redirect URI is under `a`'s.
    let signup_login = signup_start_to(b, SIGNUP_CLIENT, &signup_redirect_uri(a), &id_token, None)
        .await
        .expect("the seeded signup client starts its login");
    let idt = signup_login
        .authenticate(
            &original.transaction_id,
            "IDT",
            &idt_challenge(&id_token),
            "base64url-encoded-json",
        )
        .await;
    assert_eq!(idt["errors"], json!([]), "{idt}");
    let code = signup_login.auth_code(&[], &[]).await;
    assert_eq!(code["response"]["state"], FRAGMENT, "{code}");
    let code = code["response"]["code"].as_str().unwrap().to_owned();
    (original, code)
}

pub(super) async fn round_trip(a: &Server, b: &Server) {
    let rp = register_rp(a).await;
    let (mut original, code) = detour(a, b, &rp).await;

    // The identity-verification page: its own browser (cookie jar).
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let on_a = SignupClient::with(browser.clone(), &a.base).await;
    let on_b = SignupClient::with(browser.clone(), &b.base).await;
    let (headers, initiated) = on_a
        .post_full(
            "/identity-verification/initiate",
            json!({"authorizationCode": code, "state": FRAGMENT}),
        )
        .await;
    assert_eq!(initiated["errors"], json!([]), "{initiated}");
    let verifiers = initiated["response"]["identityVerifiers"]
        .as_array()
        .unwrap();
    assert_eq!(verifiers[0]["id"], VERIFIER, "{initiated}");
    assert_eq!(verifiers[0]["processType"], "VIDEO");
    let cookie = set_cookie(&headers, "IDV_TRANSACTION_ID").unwrap();
    assert!(
        cookie.contains("Max-Age=180") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let replayed = on_b
        .post(
            "/identity-verification/initiate",
            json!({"authorizationCode": code, "state": FRAGMENT}),
        )
        .await;
    assert_eq!(
        error_code(&replayed),
        "grant_exchange_failed",
        "a code is single use"
    );

    let workflow = on_b
        .get(&format!(
            "/identity-verification/identity-verifier/{VERIFIER}"
        ))
        .await;
    assert!(
        workflow["response"]["terms&Conditions"]["eng"].is_string(),
        "{workflow}"
    );
    assert!(workflow["response"]["messages"]["turn_left"]["eng"].is_string());

    let (headers, slot) = on_a
        .post_full(
            "/identity-verification/slot",
            json!({"verifierId": VERIFIER, "consent": "AGREE", "disabilityType": null}),
        )
        .await;
    assert_eq!(slot["errors"], json!([]), "{slot}");
    let slot_id = slot["response"]["slotId"].as_str().unwrap().to_owned();
    let slot_cookie = cookie_pair(&headers, "IDV_SLOT_ALLOTTED");
    assert!(
        slot_cookie.ends_with(&format!("###{slot_id}")),
        "{slot_cookie}"
    );
    let cleared = set_cookie(&headers, "IDV_TRANSACTION_ID").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    // The WebSocket on the other instance; a second handshake with the same cookie fails.
    let mut stomp = Stomp::connect(&b.base, &slot_id, &slot_cookie)
        .await
        .unwrap();
    assert_eq!(
        Stomp::connect(&a.base, &slot_id, &slot_cookie).await.err(),
        Some(403),
        "the slot is connected once"
    );
    stomp
        .send("CONNECT\naccept-version:1.2,1.1,1.0\nheart-beat:10000,10000\n\n\0")
        .await;
    let (command, headers, _) = stomp.next().await;
    assert_eq!(command, "CONNECTED");
    assert!(
        headers.contains(&("version".into(), "1.2".into())),
        "{headers:?}"
    );
    stomp
        .send(&format!(
            "SUBSCRIBE\nid:sub-0\ndestination:/topic/{slot_id}\nack:auto\n\n\0"
        ))
        .await;
    // A frame that is not base64 gets the service's own error feedback.
    stomp
        .send(&format!(
            "SEND\ndestination:/v1/signup/ws/process-frame\n\n{}\0",
            json!({"slotId": slot_id, "stepCode": "liveness_check", "frames": [{"frame": "data:image/jpeg;base64,AAAA", "order": 0}]})
        ))
        .await;
    assert_eq!(
        stomp.message().await,
        json!({"feedback": {"type": "ERROR", "code": "invalid_frame"}})
    );
    stomp.process(&slot_id, "START", &[0]).await;
    let started = stomp.message().await;
    assert_eq!(started["id"], slot_id);
    assert_eq!(started["verifierId"], VERIFIER);
    assert_eq!(started["step"]["code"], "liveness_check", "{started}");
    assert_eq!(
        started["feedback"],
        json!({"type": "MESSAGE", "code": "camera_on"})
    );
    stomp
        .process(&slot_id, "liveness_check", &[0, 1, 2, 3])
        .await;
    let mut feedback = Vec::new();
    for _ in 0..4 {
        feedback.push(stomp.message().await["feedback"]["code"].clone());
    }
    assert_eq!(
        feedback,
        [
            json!("facingcamera"),
            json!("orange"),
            json!("turn_left"),
            json!("turn_right")
        ]
    );
    // Not yet at the end: the status says so.
    let early = on_a.get("/identity-verification/status").await;
    assert_eq!(early["response"]["status"], "STARTED", "{early}");
    stomp.process(&slot_id, "liveness_check", &[4]).await;
    let next = stomp.message().await;
    assert_eq!(next["step"]["code"], "id_verification", "{next}");
    stomp.process(&slot_id, "id_verification", &[0, 1, 2]).await;
    assert_eq!(stomp.message().await["feedback"]["type"], "ERROR");
    assert_eq!(stomp.message().await["feedback"]["code"], "green");
    let end = stomp.message().await;
    assert_eq!(end["step"]["code"], "END", "{end}");
    stomp.send("DISCONNECT\nreceipt:77\n\n\0").await;
    let (command, headers, _) = stomp.next().await;
    assert_eq!(command, "RECEIPT");
    assert!(headers.contains(&("receipt-id".into(), "77".into())));

    // The status writes the verified claims and reports to the halted login.
    let status = on_b.get("/identity-verification/status").await;
    assert_eq!(status["response"]["status"], "COMPLETED", "{status}");

    // Back at the consent page: the halted login resumes, now with the verified name.
    let completed = complete(&mut original).await;
    assert_eq!(completed["errors"], json!([]), "{completed}");
    assert_eq!(completed["response"]["status"], "COMPLETED");
    let details = original.claim_details().await;
    assert_eq!(
        details["response"]["profileUpdateRequired"], false,
        "{details}"
    );
    let code = original.auth_code(&["name", "birthdate"], &[]).await;
    assert_eq!(code["errors"], json!([]), "{code}");
    let (status, _, tokens) = rp
        .token(code["response"]["code"].as_str().unwrap(), None, None)
        .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, userinfo) = rp.userinfo(&format!("Bearer {access}"), None).await;
    assert_eq!(status, 200, "{userinfo}");
    let (_, info) = verify_jws(&jwks(a).await, &userinfo, None);
    let verified = &info["verified_claims"];
    let verified = if verified.is_array() {
        &verified[0]
    } else {
        verified
    };
    assert_eq!(
        verified["verification"]["trust_framework"], "XYZ TF",
        "{info}"
    );
    assert!(verified["claims"]["name"].is_string(), "{info}");
    assert!(verified["claims"]["birthdate"].is_string(), "{info}");
}

#[tokio::test]
async fn video_ekyc_round_trip_on_one_instance() {
    let identity = mock_identity().await;
    let env = ekyc_env(&identity.url);
    let server = Server::start(&as_refs(&env)).await;
    round_trip(&server, &server).await;
}

#[tokio::test]
async fn video_ekyc_round_trip_across_two_instances_on_postgres_and_redis() {
    let identity = mock_identity().await;
    let schema = unique("ekyc");
    let _drop_schema = DropSchema(schema.clone());
    let prefix = unique("ekyc");
    let mut env = shared_env(&schema, &prefix, &redis_url());
    env.extend(ekyc_env(&identity.url));
    let a = Server::start(&as_refs(&env)).await;
    // Both instances behind one public URL (the same issuer, endpoints and redirect URIs),
    // and one browser cookie jar.
    let mut env_b = env.clone();
    env_b.push(("ESIGNET_DEMO__SEED_CLIENT".into(), "false".into()));
    env_b.push(("ESIGNET_SERVER__PUBLIC_URL".into(), a.base.clone()));
    env_b.push(("ESIGNET_SERVER__ISSUER".into(), a.base.clone()));
    let mut b = Server::start(&as_refs(&env_b)).await;
    b.http = a.http.clone();
    round_trip(&a, &b).await;
}

/// A fresh browser (cookie jar) on the signup API of `server`.
async fn idv_page(server: &Server) -> SignupClient {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    SignupClient::with(browser, &server.base).await
}

fn slot_request(verifier: Value, consent: &str, disability: Value) -> Value {
    json!({"verifierId": verifier, "consent": consent, "disabilityType": disability})
}

#[tokio::test]
async fn every_identity_verification_error_code() {
    let identity = mock_identity().await;
    let mut env = ekyc_env(&identity.url);
    // One seat, so a second resident waits.
    env.push(("ESIGNET_SIGNUP__SLOT_MAX_COUNT".into(), "1".into()));
    let server = Server::start(&as_refs(&env)).await;
    let rp = register_rp(&server).await;
    let page = idv_page(&server).await;
    let initiate = "/identity-verification/initiate";

    // initiate: the code and state are required, and the code must be the provider's.
    let cases = [
        (json!({"state": FRAGMENT}), "invalid_authorization_code"),
        (
            json!({"authorizationCode": " ", "state": FRAGMENT}),
            "invalid_authorization_code",
        ),
        (json!({"authorizationCode": "abc"}), "invalid_state"),
        (
            json!({"authorizationCode": "not-a-code", "state": FRAGMENT}),
            "grant_exchange_failed",
        ),
    ];
    for (request, code) in cases {
        let answer = page.post(initiate, request.clone()).await;
        assert_eq!(error_code(&answer), code, "{request}");
    }
    // Nothing started: every later step refuses.
    let slot = slot_request(json!(VERIFIER), "AGREE", Value::Null);
    assert_eq!(
        error_code(&page.post("/identity-verification/slot", slot.clone()).await),
        "invalid_transaction"
    );
    assert_eq!(
        error_code(&page.get("/identity-verification/status").await),
        "invalid_transaction"
    );

    // A started verification.
    let (_login, code) = detour(&server, &server, &rp).await;
    let started = page
        .post(
            initiate,
            json!({"authorizationCode": code, "state": FRAGMENT}),
        )
        .await;
    assert_eq!(started["errors"], json!([]), "{started}");
    let unknown = page
        .get("/identity-verification/identity-verifier/no-such-verifier")
        .await;
    assert_eq!(error_code(&unknown), "invalid_identity_verifier_id");
    let cases = [
        (
            slot_request(Value::Null, "AGREE", Value::Null),
            "invalid_identity_verifier_id",
        ),
        (
            slot_request(json!("no-such-verifier"), "AGREE", Value::Null),
            "invalid_identity_verifier_id",
        ),
        (
            slot_request(json!(VERIFIER), "DISAGREE", Value::Null),
            "consent_required",
        ),
        (
            slot_request(json!(VERIFIER), "AGREE", json!("TELEPATHY")),
            "invalid_disability_type",
        ),
    ];
    for (request, code) in cases {
        let answer = page
            .post("/identity-verification/slot", request.clone())
            .await;
        assert_eq!(error_code(&answer), code, "{request}");
    }
    // The refusals kept the transaction: the corrected request gets the slot (the only seat).
    let (headers, taken) = page
        .post_full("/identity-verification/slot", slot.clone())
        .await;
    assert_eq!(taken["errors"], json!([]), "{taken}");
    let slot_id = taken["response"]["slotId"].as_str().unwrap().to_owned();
    let slot_cookie = cookie_pair(&headers, "IDV_SLOT_ALLOTTED");

    // A second resident finds no seat, and keeps the transaction to ask again.
    let other = idv_page(&server).await;
    let (_other_login, other_code) = detour(&server, &server, &rp).await;
    let other_started = other
        .post(
            initiate,
            json!({"authorizationCode": other_code, "state": FRAGMENT}),
        )
        .await;
    assert_eq!(other_started["errors"], json!([]), "{other_started}");
    assert_eq!(
        error_code(
            &other
                .post("/identity-verification/slot", slot.clone())
                .await
        ),
        "slot_not_available"
    );

    // The WebSocket: only with the slot's own cookie.
    assert_eq!(
        Stomp::connect(&server.base, "another-slot", &slot_cookie)
            .await
            .err(),
        Some(403)
    );
    let mut stomp = Stomp::connect(&server.base, &slot_id, &slot_cookie)
        .await
        .unwrap();
    stomp
        .send("CONNECT\naccept-version:1.2\nhost:127.0.0.1:1\n\n\0")
        .await;
    assert_eq!(stomp.next().await.0, "CONNECTED");
    stomp
        .send(&format!(
            "SUBSCRIBE\nid:sub-0\ndestination:/topic/{slot_id}\n\n\0"
        ))
        .await;
    let frame = "/9j/4AAQ";
    let cases = [
        (
            json!({"slotId": "another-slot", "stepCode": "START", "frames": [{"frame": frame, "order": 0}]}),
            "invalid_slot_id",
        ),
        (
            json!({"slotId": slot_id, "stepCode": "", "frames": [{"frame": frame, "order": 0}]}),
            "invalid_step_code",
        ),
        (
            json!({"slotId": slot_id, "stepCode": "liveness_check", "frames": []}),
            "invalid_frame",
        ),
        (
            json!({"slotId": slot_id, "stepCode": "liveness_check", "frames": [{"frame": frame}]}),
            "invalid_order",
        ),
        (
            json!({"slotId": slot_id, "stepCode": "liveness_check", "frames": [{"frame": frame, "order": "first"}]}),
            "invalid_order",
        ),
    ];
    for (request, code) in cases {
        stomp
            .send(&format!(
                "SEND\ndestination:/v1/signup/ws/process-frame\n\n{request}\0"
            ))
            .await;
        assert_eq!(
            stomp.message().await,
            json!({"feedback": {"type": "ERROR", "code": code}}),
            "{request}"
        );
    }
    stomp.process(&slot_id, "START", &[0]).await;
    assert_eq!(stomp.message().await["step"]["code"], "liveness_check");
    // The socket drops before the end: the verification fails and the seat is free again.
    drop(stomp);
    let mut status = Value::Null;
    for _ in 0..50 {
        status = page.get("/identity-verification/status").await;
        if status["response"]["status"] == "FAILED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status["response"]["status"], "FAILED", "{status}");
    let mut retried = Value::Null;
    for _ in 0..50 {
        retried = other
            .post("/identity-verification/slot", slot.clone())
            .await;
        if retried["errors"] == json!([]) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        retried["errors"],
        json!([]),
        "the seat was freed: {retried}"
    );
}
