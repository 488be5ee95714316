//! Wiring of `[audit]`: the configured sinks, behind one fan-out when there are several.

use std::sync::Arc;

use anyhow::Context;
use esignet_audit::{
    FanOut, LogAuditSink, MosipAuditConfig, MosipAuditSink, MosipAuth, PostgresAuditSink,
    QueueOptions,
};
use esignet_config::{AuditHttpAuth, Settings};
use esignet_spi::{AuditMetrics, AuditSink, Clock};
use esignet_store_postgres::PgStoreOptions;
use tokio::task::JoinHandle;

/// The audit sink of `settings.audit` and the writer tasks behind it.
pub async fn audit_sink(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn AuditMetrics>,
) -> anyhow::Result<(Arc<dyn AuditSink>, Vec<JoinHandle<()>>)> {
    let audit = &settings.audit;
    let instance = audit.instance.clone().unwrap_or_else(host_name);
    let options = QueueOptions {
        capacity: audit.queue_size,
        batch_size: audit.batch_size,
        max_attempts: audit.max_attempts,
        ..QueueOptions::default()
    };
    let mut sinks: Vec<Arc<dyn AuditSink>> = Vec::new();
    let mut tasks = Vec::new();
    for name in &audit.sinks {
        match name.as_str() {
            "log" => sinks.push(Arc::new(LogAuditSink::spawn(
                audit.queue_size,
                metrics.clone(),
            ))),
            "postgres" => {
                let postgres = audit
                    .postgres
                    .as_ref()
                    .context("the postgres audit sink has no database")?;
                let (sink, task) = PostgresAuditSink::connect(
                    postgres.url.expose(),
                    PgStoreOptions {
                        max_connections: postgres.max_connections,
                        acquire_timeout: postgres.acquire_timeout,
                        statement_timeout: postgres.statement_timeout,
                        schema: postgres.schema.clone(),
                    },
                    instance.clone(),
                    &options,
                    metrics.clone(),
                )
                .await
                .context("cannot open the PostgreSQL audit table")?;
                sinks.push(Arc::new(sink));
                tasks.push(task);
            }
            "http" => {
                let http = audit
                    .http
                    .as_ref()
                    .context("the http audit sink has no URL")?;
                let auth = match &http.auth {
                    AuditHttpAuth::None => MosipAuth::None,
                    AuditHttpAuth::Bearer(token) => MosipAuth::Bearer(token.expose().to_owned()),
                    AuditHttpAuth::Cookie(token) => MosipAuth::Cookie(token.expose().to_owned()),
                };
                let (sink, task) = MosipAuditSink::spawn(
                    MosipAuditConfig {
                        url: http.url.clone(),
                        auth,
                        timeout: http.timeout,
                        instance: instance.clone(),
                    },
                    &options,
                    clock.clone(),
                    metrics.clone(),
                )
                .map_err(anyhow::Error::msg)
                .context("cannot set up the MOSIP audit manager sink")?;
                sinks.push(Arc::new(sink));
                tasks.push(task);
            }
            // Configuration validation admits only the names above.
            other => anyhow::bail!("unknown audit sink {other}"),
        }
    }
    let sink: Arc<dyn AuditSink> = match sinks.len() {
        1 => sinks.remove(0),
        _ => Arc::new(FanOut::new(sinks)),
    };
    Ok((sink, tasks))
}

/// The host name, which identifies the instance in audit records (a pod name under
/// Kubernetes); `esignet` when it cannot be read.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "esignet".to_owned())
}
