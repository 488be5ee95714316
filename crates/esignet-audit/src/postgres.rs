//! The `postgres` sink: the append-only `audit_event` table, written in multi-row `INSERT`
//! batches by the queue's writer task.
//!
//! The table is a migration of the PostgreSQL store (`0003_audit_event.sql`), so a database
//! shared with the store has one migration history; [`PostgresAuditSink::connect`] runs the
//! store's migrator (a no-op when the store already did). Writes go over a small pool of their
//! own, opened lazily: a database that is down after start-up only delays (retries) or drops
//! (counts) events; it never stops the instance or a request.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use esignet_spi::{AuditEvent, AuditMetrics, AuditSink, StoreError};
use esignet_store_postgres::{PgStoreOptions, PostgresStore};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Executor, Postgres, QueryBuilder};
use tokio::task::JoinHandle;

use crate::queue::{self, BatchWriter, Queue, QueueOptions};

/// The sink's name in metrics and configuration.
const SINK: &str = "postgres";

/// Connections of the writer pool: one writer task writes one batch at a time; the second
/// connection lets a fresh one open while a broken one is being dropped.
const POOL_CONNECTIONS: u32 = 2;

/// Bind parameters per row; PostgreSQL allows 65 535 per statement, which bounds a batch.
const COLUMNS: usize = 8;

/// The largest batch one `INSERT` can carry.
pub(crate) const MAX_BATCH: usize = 65_535 / COLUMNS;

/// Audit events as rows of `audit_event`.
pub struct PostgresAuditSink {
    queue: Queue,
}

impl PostgresAuditSink {
    /// Migrates the database at `url` (the store's migrations, the audit table included) and
    /// starts the writer; `instance` is stored with every row. Returns the sink and its
    /// writer task, which ends after the sink is dropped and the queue drained.
    ///
    /// # Errors
    ///
    /// `Unavailable` when the database cannot be reached or migrated at start-up (the message
    /// never contains the URL).
    pub async fn connect(
        url: &str,
        store_options: PgStoreOptions,
        instance: String,
        options: &QueueOptions,
        metrics: Arc<dyn AuditMetrics>,
    ) -> Result<(Self, JoinHandle<()>), StoreError> {
        let migrator = PostgresStore::connect(url, store_options.clone()).await?;
        let migrated = migrator.migrate().await;
        migrator.close().await;
        migrated?;

        let connect_options = PgConnectOptions::from_str(url)
            .map_err(|error| StoreError::Unavailable(format!("invalid PostgreSQL URL: {error}")))?
            .application_name("esignet-audit");
        let mut setup = format!(
            "SET statement_timeout = {}",
            store_options.statement_timeout.as_millis().max(1)
        );
        if let Some(schema) = &store_options.schema {
            // Already checked by `PostgresStore::connect` above; quoted here the same way.
            setup.push_str(&format!(
                "; SET search_path TO \"{}\"",
                schema.replace('"', "\"\"")
            ));
        }
        let setup: Arc<str> = setup.into();
        let pool = PgPoolOptions::new()
            .max_connections(POOL_CONNECTIONS)
            .acquire_timeout(store_options.acquire_timeout)
            .test_before_acquire(true)
            .after_connect(move |connection, _| {
                let setup = Arc::clone(&setup);
                Box::pin(async move {
                    connection.execute(&*setup).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(connect_options);
        let mut options = options.clone();
        options.batch_size = options.batch_size.clamp(1, MAX_BATCH);
        let writer = PgWriter { pool, instance };
        let (queue, task) = queue::spawn(SINK, writer, &options, metrics);
        Ok((Self { queue }, task))
    }
}

impl AuditSink for PostgresAuditSink {
    fn record(&self, event: AuditEvent) {
        self.queue.push(event);
    }
}

struct PgWriter {
    pool: PgPool,
    instance: String,
}

#[async_trait]
impl BatchWriter for PgWriter {
    async fn write(&mut self, batch: &[AuditEvent]) -> Result<(), String> {
        let mut insert: QueryBuilder<'_, Postgres> = QueryBuilder::new(
            "INSERT INTO audit_event (at, action, status, transaction_id, client_id, \
             individual_id_hash, error_code, instance) ",
        );
        // One statement: the batch lands entirely, in order (identity ids follow the VALUES
        // order), or not at all, so a retry never duplicates part of it.
        insert.push_values(batch, |mut row, event| {
            row.push_bind(event.at)
                .push_bind(event.action.name())
                .push_bind(event.status.name())
                .push_bind(event.transaction_id.as_deref())
                .push_bind(event.client_id.as_deref())
                .push_bind(event.individual_id_hash.as_deref())
                .push_bind(event.error_code.as_deref())
                .push_bind(self.instance.as_str());
        });
        insert
            .build()
            .persistent(false)
            .execute(&self.pool)
            .await
            .map(drop)
            // sqlx's errors name the failure (refused, timed out, constraint), not the values.
            .map_err(|error| error.to_string())
    }
}
