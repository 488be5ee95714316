//! Where eSignet-rs's audit events go.
//!
//! Every sink implements [`AuditSink`](esignet_spi::AuditSink): `record` hands the event to a
//! bounded queue and returns at once, and a background task delivers it. A request never waits
//! on, or fails because of, auditing; when a queue is full the event is dropped and counted.
//!
//! - [`LogAuditSink`]: JSON lines on the `audit` tracing target.
//! - [`PostgresAuditSink`]: rows of the append-only `audit_event` table (a migration of the
//!   PostgreSQL store), written in multi-row `INSERT` batches, retried with backoff while the
//!   database is down.
//! - [`MosipAuditSink`]: MOSIP's audit manager (`POST /v1/auditmanager/audits`), one
//!   `AuditRequestDto` per event in MOSIP's request wrapper, the mapping eSignet's own audit
//!   plugin uses.
//! - [`FanOut`]: several of the above at once.
//!
//! What each sink did is counted through [`AuditMetrics`](esignet_spi::AuditMetrics) (written,
//! dropped, failed, per sink). Events hold no personal data (see
//! [`AuditEvent`](esignet_spi::AuditEvent)), and the sinks add none: the only thing they add
//! is the instance name.

mod log;
mod mosip;
mod postgres;
mod queue;

use std::sync::Arc;

use esignet_spi::{AuditEvent, AuditSink};

pub use log::LogAuditSink;
pub use mosip::{MosipAuditConfig, MosipAuditSink, MosipAuth, mosip_request};
pub use postgres::PostgresAuditSink;
pub use queue::QueueOptions;

/// Records each event in every one of its sinks.
pub struct FanOut {
    sinks: Vec<Arc<dyn AuditSink>>,
}

impl FanOut {
    /// A fan-out over `sinks` (in that order).
    pub fn new(sinks: Vec<Arc<dyn AuditSink>>) -> Self {
        Self { sinks }
    }
}

impl AuditSink for FanOut {
    fn record(&self, event: AuditEvent) {
        if let Some((last, others)) = self.sinks.split_last() {
            for sink in others {
                sink.record(event.clone());
            }
            last.record(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use esignet_spi::{AuditAction, AuditStatus};
    use time::macros::datetime;

    use super::*;

    #[derive(Default)]
    struct Collect(Mutex<Vec<AuditAction>>);

    impl AuditSink for Collect {
        fn record(&self, event: AuditEvent) {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(event.action);
        }
    }

    #[test]
    fn a_fan_out_gives_every_sink_every_event() {
        let a = Arc::new(Collect::default());
        let b = Arc::new(Collect::default());
        let fan_out = FanOut::new(vec![a.clone(), b.clone()]);
        for action in [AuditAction::SendOtp, AuditAction::Authenticate] {
            fan_out.record(AuditEvent {
                at: datetime!(2026-01-01 00:00 UTC),
                action,
                status: AuditStatus::Success,
                transaction_id: None,
                client_id: None,
                individual_id_hash: None,
                error_code: None,
            });
        }
        let expected = vec![AuditAction::SendOtp, AuditAction::Authenticate];
        assert_eq!(*a.0.lock().unwrap(), expected);
        assert_eq!(*b.0.lock().unwrap(), expected);
        // No sinks: nothing to do, and no panic.
        FanOut::new(Vec::new()).record(AuditEvent {
            at: datetime!(2026-01-01 00:00 UTC),
            action: AuditAction::SendOtp,
            status: AuditStatus::Error,
            transaction_id: None,
            client_id: None,
            individual_id_hash: None,
            error_code: Some("x".into()),
        });
    }
}
