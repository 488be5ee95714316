//! The bounded queue and background writer shared by the PostgreSQL and HTTP sinks: `record`
//! only tries to enqueue; one task takes events off in batches and delivers each batch with
//! retries and exponential backoff, counting what was written, what failed and what was lost.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use esignet_spi::{AuditEvent, AuditMetrics};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Queue and retry settings of a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOptions {
    /// Events the queue holds; more are dropped (and counted) until the writer catches up.
    pub capacity: usize,
    /// Most events delivered in one batch (at least 1).
    pub batch_size: usize,
    /// Delivery attempts of one batch before its events are dropped (at least 1).
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubled after each further failure.
    pub initial_backoff: Duration,
    /// Longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            batch_size: 100,
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// Delivers one batch to a destination.
#[async_trait]
pub(crate) trait BatchWriter: Send + 'static {
    /// Writes every event of `batch`, or fails as a whole (the batch is then retried). The
    /// error text is logged: it must not contain event fields or credentials.
    async fn write(&mut self, batch: &[AuditEvent]) -> Result<(), String>;
}

/// The sending side: what `record` uses.
pub(crate) struct Queue {
    sink: &'static str,
    sender: mpsc::Sender<AuditEvent>,
    metrics: Arc<dyn AuditMetrics>,
}

impl Queue {
    /// Enqueues `event`, or drops and counts it when the queue is full. Never waits.
    pub(crate) fn push(&self, event: AuditEvent) {
        if self.sender.try_send(event).is_err() {
            self.metrics.audit_dropped(self.sink, 1);
            tracing::warn!(target: "audit", sink = self.sink, "audit queue full: event dropped");
        }
    }
}

/// Starts the writer task of `writer` and returns the queue feeding it. The task ends once
/// every [`Queue`] is dropped and the events already queued are delivered (or dropped).
pub(crate) fn spawn(
    sink: &'static str,
    mut writer: impl BatchWriter,
    options: &QueueOptions,
    metrics: Arc<dyn AuditMetrics>,
) -> (Queue, JoinHandle<()>) {
    let (sender, mut receiver) = mpsc::channel::<AuditEvent>(options.capacity.max(1));
    let options = options.clone();
    let task_metrics = Arc::clone(&metrics);
    let task = tokio::spawn(async move {
        let batch_size = options.batch_size.max(1);
        let mut batch = Vec::with_capacity(batch_size);
        while receiver.recv_many(&mut batch, batch_size).await > 0 {
            deliver(sink, &mut writer, &batch, &options, task_metrics.as_ref()).await;
            batch.clear();
        }
    });
    (
        Queue {
            sink,
            sender,
            metrics,
        },
        task,
    )
}

/// Delivers one batch, retrying with backoff; counts the outcome.
async fn deliver(
    sink: &'static str,
    writer: &mut impl BatchWriter,
    batch: &[AuditEvent],
    options: &QueueOptions,
    metrics: &dyn AuditMetrics,
) {
    let count = u64::try_from(batch.len()).unwrap_or(u64::MAX);
    let attempts = options.max_attempts.max(1);
    let mut backoff = options.initial_backoff;
    for attempt in 1..=attempts {
        match writer.write(batch).await {
            Ok(()) => {
                metrics.audit_written(sink, count);
                return;
            }
            Err(error) => {
                metrics.audit_failed(sink, count);
                if attempt == attempts {
                    metrics.audit_dropped(sink, count);
                    tracing::error!(
                        target: "audit", sink, %error, events = count, attempts,
                        "audit delivery failed: events dropped"
                    );
                    return;
                }
                tracing::warn!(
                    target: "audit", sink, %error, events = count, attempt,
                    "audit delivery failed: retrying"
                );
                // Meanwhile new events wait in the queue, or are dropped when it is full:
                // back-pressure never reaches the request.
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2).min(options.max_backoff);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    use esignet_spi::{AuditAction, AuditStatus};
    use time::macros::datetime;

    use super::*;

    /// Counts per outcome, whatever the sink.
    #[derive(Default, Debug)]
    pub(crate) struct Counts {
        pub(crate) written: AtomicU64,
        pub(crate) dropped: AtomicU64,
        pub(crate) failed: AtomicU64,
    }

    impl AuditMetrics for Counts {
        fn audit_written(&self, _sink: &'static str, count: u64) {
            self.written.fetch_add(count, Ordering::SeqCst);
        }
        fn audit_dropped(&self, _sink: &'static str, count: u64) {
            self.dropped.fetch_add(count, Ordering::SeqCst);
        }
        fn audit_failed(&self, _sink: &'static str, count: u64) {
            self.failed.fetch_add(count, Ordering::SeqCst);
        }
    }

    pub(crate) fn event(action: AuditAction) -> AuditEvent {
        AuditEvent {
            at: datetime!(2026-03-01 10:00:00.123 UTC),
            action,
            status: AuditStatus::Success,
            transaction_id: Some("txn-1".into()),
            client_id: Some("client-1".into()),
            individual_id_hash: None,
            error_code: None,
        }
    }

    /// Fails its first `failures` writes, then records batches; `gate` holds every write
    /// until a permit is added.
    struct Flaky {
        failures: u32,
        batches: Arc<Mutex<Vec<Vec<AuditAction>>>>,
        gate: Arc<tokio::sync::Semaphore>,
    }

    #[async_trait]
    impl BatchWriter for Flaky {
        async fn write(&mut self, batch: &[AuditEvent]) -> Result<(), String> {
            self.gate
                .acquire()
                .await
                .map_err(|e| e.to_string())?
                .forget();
            if self.failures > 0 {
                self.failures -= 1;
                return Err("down".into());
            }
            self.batches
                .lock()
                .unwrap()
                .push(batch.iter().map(|e| e.action).collect());
            Ok(())
        }
    }

    fn fast(capacity: usize, batch_size: usize, max_attempts: u32) -> QueueOptions {
        QueueOptions {
            capacity,
            batch_size,
            max_attempts,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_without_waiting_then_delivers_the_rest_in_batches() {
        let metrics = Arc::new(Counts::default());
        let batches = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let writer = Flaky {
            failures: 0,
            batches: batches.clone(),
            gate: gate.clone(),
        };
        let (queue, task) = spawn("test", writer, &fast(3, 10, 1), metrics.clone());
        // The writer is held at the gate: the first event is taken off the queue (or not yet),
        // so between 3 and 4 events fit; the rest are dropped at once.
        for _ in 0..10 {
            queue.push(event(AuditAction::SendOtp));
        }
        let dropped = metrics.dropped.load(Ordering::SeqCst);
        assert!((6..=7).contains(&dropped), "dropped {dropped}");
        gate.add_permits(100);
        drop(queue);
        task.await.unwrap();
        let delivered: usize = batches.lock().unwrap().iter().map(Vec::len).sum();
        assert_eq!(delivered as u64 + dropped, 10);
        assert_eq!(metrics.written.load(Ordering::SeqCst), delivered as u64);
        assert_eq!(metrics.failed.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn failed_batches_are_retried_then_dropped_and_counted() {
        let metrics = Arc::new(Counts::default());
        let batches = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(tokio::sync::Semaphore::new(100));
        // Two failures, three attempts: the batch gets through on the third.
        let writer = Flaky {
            failures: 2,
            batches: batches.clone(),
            gate: gate.clone(),
        };
        let (queue, task) = spawn("test", writer, &fast(10, 10, 3), metrics.clone());
        queue.push(event(AuditAction::SendOtp));
        drop(queue);
        task.await.unwrap();
        assert_eq!(*batches.lock().unwrap(), vec![vec![AuditAction::SendOtp]]);
        assert_eq!(metrics.failed.load(Ordering::SeqCst), 2);
        assert_eq!(metrics.written.load(Ordering::SeqCst), 1);
        assert_eq!(metrics.dropped.load(Ordering::SeqCst), 0);

        // Five failures, two attempts: the batch is dropped, then the next one goes through.
        let metrics = Arc::new(Counts::default());
        let batches = Arc::new(Mutex::new(Vec::new()));
        let writer = Flaky {
            failures: 2,
            batches: batches.clone(),
            gate: Arc::new(tokio::sync::Semaphore::new(100)),
        };
        let (queue, task) = spawn("test", writer, &fast(10, 1, 2), metrics.clone());
        queue.push(event(AuditAction::SendOtp));
        queue.push(event(AuditAction::Authenticate));
        drop(queue);
        task.await.unwrap();
        assert_eq!(
            *batches.lock().unwrap(),
            vec![vec![AuditAction::Authenticate]]
        );
        assert_eq!(metrics.failed.load(Ordering::SeqCst), 2);
        assert_eq!(metrics.dropped.load(Ordering::SeqCst), 1);
        assert_eq!(metrics.written.load(Ordering::SeqCst), 1);
    }
}
