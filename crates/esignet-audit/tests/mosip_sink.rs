//! The `http` audit sink against a loopback axum server that records what it receives: the
//! exact MOSIP wrapper and DTO, the credentials header, and failures (a 500, a refusal in the
//! body, a timeout) retried, then dropped and counted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use esignet_audit::{MosipAuditConfig, MosipAuditSink, MosipAuth, QueueOptions, mosip_request};
use esignet_spi::{AuditAction, AuditEvent, AuditMetrics, AuditSink, AuditStatus, ManualClock};
use serde_json::{Value, json};
use time::macros::datetime;

#[derive(Default)]
struct Counts {
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
}

impl AuditMetrics for Counts {
    fn audit_written(&self, sink: &'static str, count: u64) {
        assert_eq!(sink, "http");
        self.written.fetch_add(count, Ordering::SeqCst);
    }
    fn audit_dropped(&self, _sink: &'static str, count: u64) {
        self.dropped.fetch_add(count, Ordering::SeqCst);
    }
    fn audit_failed(&self, _sink: &'static str, count: u64) {
        self.failed.fetch_add(count, Ordering::SeqCst);
    }
}

/// How the recording server answers.
#[derive(Clone, Copy)]
enum Answer {
    Ok,
    ServerError,
    Refused,
    /// Never answers (the sink's timeout must cut the request).
    Hang,
    /// Fails this many requests with a 500, then answers 200.
    FailFirst(usize),
}

#[derive(Default)]
struct Recorded {
    bodies: Mutex<Vec<Value>>,
    headers: Mutex<Vec<HeaderMap>>,
    requests: AtomicUsize,
}

async fn audits(
    State((answer, recorded)): State<(Answer, Arc<Recorded>)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let n = recorded.requests.fetch_add(1, Ordering::SeqCst);
    recorded.headers.lock().unwrap().push(headers);
    let ok = (
        StatusCode::OK,
        Json(json!({"response": {"status": true}, "errors": []})),
    );
    match answer {
        Answer::Ok => {
            recorded.bodies.lock().unwrap().push(body);
            ok
        }
        Answer::FailFirst(failures) if n >= failures => {
            recorded.bodies.lock().unwrap().push(body);
            ok
        }
        Answer::ServerError | Answer::FailFirst(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({})))
        }
        Answer::Refused => (
            StatusCode::OK,
            Json(json!({"response": null,
                "errors": [{"errorCode": "KER-AUD-001", "message": "Invalid Audit Request"}]})),
        ),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            ok
        }
    }
}

/// A recording audit manager on a free loopback port; returns its audits URL.
async fn audit_manager(answer: Answer) -> (url::Url, Arc<Recorded>) {
    let recorded = Arc::new(Recorded::default());
    let app = axum::Router::new()
        .route("/v1/auditmanager/audits", post(audits))
        .with_state((answer, recorded.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let url = url::Url::parse(&format!("http://{address}/v1/auditmanager/audits")).unwrap();
    (url, recorded)
}

fn event(action: AuditAction, status: AuditStatus) -> AuditEvent {
    AuditEvent {
        at: datetime!(2026-03-01 10:00:00.250 UTC),
        action,
        status,
        transaction_id: Some("txn-9".into()),
        client_id: Some("client-z".into()),
        individual_id_hash: Some("aGFzaA".into()),
        error_code: (status == AuditStatus::Error).then(|| "invalid_otp".to_owned()),
    }
}

fn start(
    url: url::Url,
    auth: MosipAuth,
    max_attempts: u32,
    capacity: usize,
) -> (MosipAuditSink, Arc<Counts>) {
    let metrics = Arc::new(Counts::default());
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-01 10:00:01 UTC)));
    let (sink, _task) = MosipAuditSink::spawn(
        MosipAuditConfig {
            url,
            auth,
            timeout: Duration::from_millis(300),
            instance: "node-3".into(),
        },
        &QueueOptions {
            capacity,
            batch_size: 50,
            max_attempts,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
        },
        clock,
        metrics.clone(),
    )
    .unwrap();
    (sink, metrics)
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn each_event_is_posted_as_mosip_dto_with_the_bearer_token() {
    let (url, recorded) = audit_manager(Answer::Ok).await;
    let (sink, metrics) = start(url, MosipAuth::Bearer("tok-123".into()), 3, 100);
    let first = event(AuditAction::SendOtp, AuditStatus::Success);
    let second = event(AuditAction::Authenticate, AuditStatus::Error);
    sink.record(first.clone());
    sink.record(second.clone());
    eventually("two bodies", || recorded.bodies.lock().unwrap().len() == 2).await;
    let bodies = recorded.bodies.lock().unwrap().clone();
    let now = datetime!(2026-03-01 10:00:01 UTC);
    assert_eq!(bodies[0], mosip_request(&first, "node-3", now));
    assert_eq!(bodies[1], mosip_request(&second, "node-3", now));
    // The exact shape, spelled out once.
    let dto = &bodies[1]["request"];
    let keys: Vec<&str> = dto
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "eventId",
            "eventName",
            "eventType",
            "actionTimeStamp",
            "hostName",
            "hostIp",
            "applicationId",
            "applicationName",
            "sessionUserId",
            "sessionUserName",
            "id",
            "idType",
            "createdBy",
            "moduleName",
            "moduleId",
            "description"
        ]
    );
    assert_eq!(dto["eventId"], "AUTHENTICATE");
    assert_eq!(dto["eventType"], "ERROR");
    assert_eq!(dto["actionTimeStamp"], "2026-03-01T10:00:00.250");
    assert_eq!(dto["id"], "txn-9");
    assert_eq!(dto["idType"], "transaction");
    assert_eq!(dto["sessionUserId"], "no-user");
    assert_eq!(bodies[1]["requesttime"], "2026-03-01T10:00:01.000Z");
    assert_eq!(bodies[1]["version"], "1.0");
    for headers in recorded.headers.lock().unwrap().iter() {
        assert_eq!(headers["authorization"], "Bearer tok-123");
        assert_eq!(headers["content-type"], "application/json");
    }
    eventually("counted", || metrics.written.load(Ordering::SeqCst) == 2).await;
    assert_eq!(metrics.failed.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_cookie_scheme_sends_mosip_s_authorization_cookie() {
    let (url, recorded) = audit_manager(Answer::Ok).await;
    let (sink, _metrics) = start(url, MosipAuth::Cookie("tok-456".into()), 3, 100);
    sink.record(event(AuditAction::GetAuthCode, AuditStatus::Success));
    eventually("a body", || recorded.bodies.lock().unwrap().len() == 1).await;
    let headers = recorded.headers.lock().unwrap()[0].clone();
    assert_eq!(headers["cookie"], "Authorization=tok-456");
    assert!(headers.get("authorization").is_none());

    // No credentials: no header at all.
    let (url, recorded) = audit_manager(Answer::Ok).await;
    let (sink, _metrics) = start(url, MosipAuth::None, 3, 100);
    sink.record(event(AuditAction::GetAuthCode, AuditStatus::Success));
    eventually("a body", || recorded.bodies.lock().unwrap().len() == 1).await;
    let headers = recorded.headers.lock().unwrap()[0].clone();
    assert!(headers.get("cookie").is_none() && headers.get("authorization").is_none());
}

#[tokio::test]
async fn a_500_is_retried_and_delivered_once_the_server_recovers() {
    let (url, recorded) = audit_manager(Answer::FailFirst(2)).await;
    let (sink, metrics) = start(url, MosipAuth::None, 5, 100);
    sink.record(event(AuditAction::SendOtp, AuditStatus::Success));
    eventually("delivered", || metrics.written.load(Ordering::SeqCst) == 1).await;
    assert_eq!(metrics.failed.load(Ordering::SeqCst), 2);
    assert_eq!(metrics.dropped.load(Ordering::SeqCst), 0);
    assert_eq!(recorded.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn persistent_500s_refusals_and_timeouts_end_in_counted_drops() {
    for answer in [Answer::ServerError, Answer::Refused, Answer::Hang] {
        let (url, recorded) = audit_manager(answer).await;
        let (sink, metrics) = start(url, MosipAuth::None, 2, 100);
        sink.record(event(AuditAction::SendOtp, AuditStatus::Success));
        sink.record(event(AuditAction::Authenticate, AuditStatus::Success));
        eventually("both dropped", || {
            metrics.dropped.load(Ordering::SeqCst) == 2
        })
        .await;
        // Two events, two attempts each.
        assert_eq!(metrics.failed.load(Ordering::SeqCst), 4);
        assert_eq!(metrics.written.load(Ordering::SeqCst), 0);
        assert_eq!(recorded.requests.load(Ordering::SeqCst), 4);
    }
}

#[tokio::test]
async fn an_unreachable_audit_manager_and_a_full_queue_are_counted() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/v1/auditmanager/audits")).unwrap();
    let (sink, metrics) = start(url, MosipAuth::None, 1, 3);
    // The writer does not run while this loop does (a current-thread runtime): 3 fit.
    for _ in 0..10 {
        sink.record(event(AuditAction::SendOtp, AuditStatus::Success));
    }
    assert_eq!(metrics.dropped.load(Ordering::SeqCst), 7);
    eventually("the queued ones dropped too", || {
        metrics.dropped.load(Ordering::SeqCst) == 10
    })
    .await;
    assert_eq!(metrics.failed.load(Ordering::SeqCst), 3);
}
