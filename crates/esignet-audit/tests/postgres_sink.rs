//! The `postgres` audit sink against a real PostgreSQL server (`ESIGNET_TEST_POSTGRES_URL`, by
//! default `postgres://postgres@127.0.0.1:5432/test`), each test in a schema of its own: order,
//! batches, the append-only guarantee, outages (retried, or dropped and counted) and overflow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../esignet-store-postgres/tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use esignet_audit::{PostgresAuditSink, QueueOptions};
use esignet_spi::{AuditAction, AuditEvent, AuditMetrics, AuditSink, AuditStatus};
use sqlx::Row;
use support::{
    Proxy, free_port, options, postgres_url, raw_connection, url_via, with_fresh_schema,
};
use time::macros::datetime;

#[derive(Default)]
struct Counts {
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
}

impl AuditMetrics for Counts {
    fn audit_written(&self, sink: &'static str, count: u64) {
        assert_eq!(sink, "postgres");
        self.written.fetch_add(count, Ordering::SeqCst);
    }
    fn audit_dropped(&self, _sink: &'static str, count: u64) {
        self.dropped.fetch_add(count, Ordering::SeqCst);
    }
    fn audit_failed(&self, _sink: &'static str, count: u64) {
        self.failed.fetch_add(count, Ordering::SeqCst);
    }
}

fn event(n: usize) -> AuditEvent {
    let actions = [
        AuditAction::GetOauthDetails,
        AuditAction::SendOtp,
        AuditAction::Authenticate,
        AuditAction::GetAuthCode,
    ];
    AuditEvent {
        at: datetime!(2026-03-01 10:00:00 UTC) + time::Duration::milliseconds(n as i64),
        action: actions[n % actions.len()],
        status: if n.is_multiple_of(3) {
            AuditStatus::Error
        } else {
            AuditStatus::Success
        },
        transaction_id: Some(format!("txn-{n}")),
        client_id: Some("client-a".into()),
        individual_id_hash: Some("aGFzaA".into()),
        error_code: n.is_multiple_of(3).then(|| "auth_failed".to_owned()),
    }
}

fn queue(batch_size: usize, capacity: usize, max_attempts: u32) -> QueueOptions {
    QueueOptions {
        capacity,
        batch_size,
        max_attempts,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    }
}

async fn rows(schema: &str) -> Vec<(String, String, Option<String>, Option<String>, String)> {
    let mut connection = raw_connection(schema).await;
    sqlx::query(
        "SELECT action, status, transaction_id, error_code, instance FROM audit_event ORDER BY id",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap()
    .into_iter()
    .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
    .collect()
}

/// Polls `check` until it holds or 30 s pass (delivery is asynchronous).
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn events_land_in_order_in_multi_row_batches() {
    with_fresh_schema(|schema| async move {
        let metrics = Arc::new(Counts::default());
        let (sink, _task) = PostgresAuditSink::connect(
            &postgres_url(),
            options(&schema),
            "node-7".into(),
            &queue(3, 100, 3),
            metrics.clone(),
        )
        .await
        .unwrap();
        for n in 0..10 {
            sink.record(event(n));
        }
        eventually("10 rows", async || rows(&schema).await.len() == 10).await;
        let stored = rows(&schema).await;
        for (n, row) in stored.iter().enumerate() {
            let expected = event(n);
            assert_eq!(row.0, expected.action.name(), "row {n}");
            assert_eq!(row.1, expected.status.name(), "row {n}");
            assert_eq!(row.2, expected.transaction_id, "row {n}");
            assert_eq!(row.3, expected.error_code, "row {n}");
            assert_eq!(row.4, "node-7");
        }
        // One INSERT per batch: rows of one batch share a writing transaction (xmin).
        let mut connection = raw_connection(&schema).await;
        let sizes: Vec<i64> = sqlx::query_scalar(
            "SELECT count(*) FROM audit_event GROUP BY xmin::text ORDER BY min(id)",
        )
        .fetch_all(&mut connection)
        .await
        .unwrap();
        assert!(sizes.len() >= 4, "at most 3 per batch: {sizes:?}");
        assert!(sizes.iter().all(|size| *size <= 3), "{sizes:?}");
        assert!(
            sizes.iter().any(|size| *size > 1),
            "some batch held several: {sizes:?}"
        );
        let (at, hash): (time::OffsetDateTime, Option<String>) =
            sqlx::query_as("SELECT at, individual_id_hash FROM audit_event ORDER BY id LIMIT 1")
                .fetch_one(&mut connection)
                .await
                .unwrap();
        assert_eq!(at, event(0).at);
        assert_eq!(hash.as_deref(), Some("aGFzaA"));
        assert_eq!(metrics.written.load(Ordering::SeqCst), 10);
        assert_eq!(metrics.dropped.load(Ordering::SeqCst), 0);
        assert_eq!(metrics.failed.load(Ordering::SeqCst), 0);
    })
    .await;
}

#[tokio::test]
async fn the_table_refuses_update_delete_and_truncate() {
    with_fresh_schema(|schema| async move {
        let (sink, _task) = PostgresAuditSink::connect(
            &postgres_url(),
            options(&schema),
            "node-1".into(),
            &queue(10, 10, 3),
            Arc::new(Counts::default()),
        )
        .await
        .unwrap();
        sink.record(event(1));
        eventually("the row", async || rows(&schema).await.len() == 1).await;
        let mut connection = raw_connection(&schema).await;
        for statement in [
            "UPDATE audit_event SET status = 'ERROR'",
            "DELETE FROM audit_event",
            "TRUNCATE audit_event",
        ] {
            let error = sqlx::query(statement)
                .execute(&mut connection)
                .await
                .expect_err(statement);
            assert!(
                error.to_string().contains("append-only"),
                "{statement}: {error}"
            );
        }
        assert_eq!(rows(&schema).await[0].1, "SUCCESS");
    })
    .await;
}

#[tokio::test]
async fn an_outage_is_ridden_out_by_retries_and_nothing_is_lost() {
    with_fresh_schema(|schema| async move {
        let proxy = Proxy::new().await;
        proxy.start().await;
        let metrics = Arc::new(Counts::default());
        let mut store_options = options(&schema);
        store_options.acquire_timeout = Duration::from_millis(500);
        let (sink, _task) = PostgresAuditSink::connect(
            &proxy.url(),
            store_options,
            "node-1".into(),
            &queue(10, 100, 10_000),
            metrics.clone(),
        )
        .await
        .unwrap();
        sink.record(event(0));
        eventually("the first row", async || rows(&schema).await.len() == 1).await;

        proxy.stop().await;
        // `record` returns at once while the database is away.
        for n in 1..4 {
            sink.record(event(n));
        }
        eventually("failed attempts", async || {
            metrics.failed.load(Ordering::SeqCst) > 0
        })
        .await;
        assert_eq!(rows(&schema).await.len(), 1);

        proxy.start().await;
        eventually("every row", async || rows(&schema).await.len() == 4).await;
        let stored = rows(&schema).await;
        let ids: Vec<_> = stored.iter().map(|row| row.2.clone().unwrap()).collect();
        assert_eq!(ids, ["txn-0", "txn-1", "txn-2", "txn-3"]);
        assert_eq!(metrics.written.load(Ordering::SeqCst), 4);
        assert_eq!(metrics.dropped.load(Ordering::SeqCst), 0);
        proxy.stop().await;
    })
    .await;
}

#[tokio::test]
async fn events_are_dropped_and_counted_when_every_retry_fails_or_the_queue_is_full() {
    with_fresh_schema(|schema| async move {
        let proxy = Proxy::new().await;
        proxy.start().await;
        let metrics = Arc::new(Counts::default());
        let mut store_options = options(&schema);
        store_options.acquire_timeout = Duration::from_millis(300);
        let (sink, _task) = PostgresAuditSink::connect(
            &proxy.url(),
            store_options,
            "node-1".into(),
            &queue(100, 2, 2),
            metrics.clone(),
        )
        .await
        .unwrap();
        proxy.stop().await;
        // The writer takes at most one batch off the queue, which holds 2 more: of 20 events
        // at least 17 overflow at once, and the rest are dropped after their two attempts.
        for n in 0..20 {
            sink.record(event(n));
        }
        assert!(metrics.dropped.load(Ordering::SeqCst) >= 17);
        eventually("every event dropped", async || {
            metrics.dropped.load(Ordering::SeqCst) == 20
        })
        .await;
        assert!(metrics.failed.load(Ordering::SeqCst) >= 2);
        assert_eq!(metrics.written.load(Ordering::SeqCst), 0);

        // Back up: later events are written again.
        proxy.start().await;
        sink.record(event(42));
        eventually("the later row", async || rows(&schema).await.len() == 1).await;
        assert_eq!(rows(&schema).await[0].2.as_deref(), Some("txn-42"));
        proxy.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_database_at_start_up_is_reported_without_the_url() {
    let port = free_port().await;
    let mut url = url::Url::parse(&url_via("127.0.0.1", port)).unwrap();
    url.set_password(Some("s3cret")).unwrap();
    let mut store_options = options("esignet_audit_unreachable");
    store_options.acquire_timeout = Duration::from_millis(300);
    let error = PostgresAuditSink::connect(
        url.as_str(),
        store_options,
        "node-1".into(),
        &QueueOptions::default(),
        Arc::new(Counts::default()),
    )
    .await
    .err()
    .expect("refused");
    assert!(!error.to_string().contains("s3cret"), "{error}");
}
