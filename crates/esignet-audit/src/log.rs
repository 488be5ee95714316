//! The built-in audit sink: structured log records on the `audit` target, written by a
//! background task so a request never waits on logging.

use std::sync::Arc;

use esignet_spi::{AuditEvent, AuditMetrics, AuditSink};
use tokio::sync::mpsc;

/// The sink's name in metrics and configuration.
const SINK: &str = "log";

/// Audit events as JSON lines on the `audit` tracing target.
pub struct LogAuditSink {
    sender: mpsc::Sender<AuditEvent>,
    metrics: Arc<dyn AuditMetrics>,
}

impl LogAuditSink {
    /// Starts the writer task with a bounded queue of `capacity` events.
    pub fn spawn(capacity: usize, metrics: Arc<dyn AuditMetrics>) -> Self {
        let (sender, mut receiver) = mpsc::channel::<AuditEvent>(capacity.max(1));
        let task_metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            while let Some(event) = receiver.recv().await {
                match serde_json::to_string(&event) {
                    Ok(line) => {
                        tracing::info!(target: "audit", "{line}");
                        task_metrics.audit_written(SINK, 1);
                    }
                    Err(error) => {
                        task_metrics.audit_dropped(SINK, 1);
                        tracing::warn!(target: "audit", %error, "unserializable audit event");
                    }
                }
            }
        });
        Self { sender, metrics }
    }
}

impl AuditSink for LogAuditSink {
    fn record(&self, event: AuditEvent) {
        // Nothing to do when the `audit` log target is filtered out.
        if !tracing::enabled!(target: "audit", tracing::Level::INFO) {
            return;
        }
        // A full queue drops the event rather than slowing down the login.
        if self.sender.try_send(event).is_err() {
            self.metrics.audit_dropped(SINK, 1);
            tracing::warn!(target: "audit", "audit queue full: event dropped");
        }
    }
}
