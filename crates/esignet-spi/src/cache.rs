//! The short-lived flow cache: transactions, codes, nonces, replay caches, counters, events.

use std::time::Duration;

use futures::stream::BoxStream;

/// The cache could not be reached or answered wrongly. The caller turns this into a 503-style
/// error; nothing half-written is left behind because every operation is a single atomic step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The cache backend is down or timed out.
    #[error("cache unavailable: {0}")]
    Unavailable(String),
}

/// Messages published on a channel, in order, from the moment of subscription.
pub type Subscription = BoxStream<'static, String>;

/// One step of a [`Cache::batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStep {
    /// [`Cache::get`]. With `required`, an absent entry stops the batch.
    Get {
        /// The namespace.
        namespace: &'static str,
        /// The key.
        key: String,
        /// Whether the batch stops when the entry is absent.
        required: bool,
    },
    /// [`Cache::take`]. With `required`, an absent entry stops the batch.
    Take {
        /// The namespace.
        namespace: &'static str,
        /// The key.
        key: String,
        /// Whether the batch stops when the entry is absent.
        required: bool,
    },
    /// [`Cache::put`].
    Put {
        /// The namespace.
        namespace: &'static str,
        /// The key.
        key: String,
        /// The value.
        value: Vec<u8>,
        /// Its time to live.
        ttl: Duration,
    },
    /// [`Cache::delete`].
    Delete {
        /// The namespace.
        namespace: &'static str,
        /// The key.
        key: String,
    },
    /// [`Cache::increment`].
    Increment {
        /// The namespace.
        namespace: &'static str,
        /// The key.
        key: String,
        /// The counter's lifetime from its creation.
        ttl: Duration,
    },
}

/// The answer of one [`CacheStep`], in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheReply {
    /// Of `Get` and `Take`.
    Value(Option<Vec<u8>>),
    /// Of `Put` and `Delete`.
    Done,
    /// Of `Increment`: the new count.
    Count(u64),
}

/// The outcome of a [`Cache::batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Every step ran; one reply per step.
    Completed(Vec<CacheReply>),
    /// The required entry of step `step` was absent: that step and the ones after it did not
    /// run (the ones before it did).
    Missing {
        /// The index of the step whose entry was absent.
        step: usize,
    },
}

/// Runs `steps` one by one with the single-step methods: the default of [`Cache::batch`].
async fn batch_step_by_step<C: Cache + ?Sized>(
    cache: &C,
    steps: Vec<CacheStep>,
) -> Result<BatchOutcome, CacheError> {
    let mut replies = Vec::with_capacity(steps.len());
    for (index, step) in steps.into_iter().enumerate() {
        let reply = match step {
            CacheStep::Get {
                namespace,
                key,
                required,
            } => {
                let value = cache.get(namespace, &key).await?;
                if required && value.is_none() {
                    return Ok(BatchOutcome::Missing { step: index });
                }
                CacheReply::Value(value)
            }
            CacheStep::Take {
                namespace,
                key,
                required,
            } => {
                let value = cache.take(namespace, &key).await?;
                if required && value.is_none() {
                    return Ok(BatchOutcome::Missing { step: index });
                }
                CacheReply::Value(value)
            }
            CacheStep::Put {
                namespace,
                key,
                value,
                ttl,
            } => {
                cache.put(namespace, &key, value, ttl).await?;
                CacheReply::Done
            }
            CacheStep::Delete { namespace, key } => {
                cache.delete(namespace, &key).await?;
                CacheReply::Done
            }
            CacheStep::Increment {
                namespace,
                key,
                ttl,
            } => CacheReply::Count(cache.increment(namespace, &key, ttl).await?),
        };
        replies.push(reply);
    }
    Ok(BatchOutcome::Completed(replies))
}

/// A namespaced key-value cache with per-entry time to live.
///
/// `namespace` names the stage or purpose (`preauth`, `authenticated`, `jti`, ...); keys are
/// unique within a namespace. Values are opaque bytes (the core serializes them). Every method
/// is atomic on its own: `take` is read-and-delete (one-time codes), `put_if_absent` is
/// set-if-not-exists (replay caches), `increment` creates the counter with `ttl` on first use
/// (rate limits). Implementations must not keep an entry past its TTL.
#[async_trait::async_trait]
pub trait Cache: Send + Sync {
    /// Stores `value` under `key`, replacing any previous value, expiring after `ttl`.
    async fn put(
        &self,
        namespace: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), CacheError>;

    /// The value under `key`, or `None` if absent or expired.
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError>;

    /// Atomically reads and removes the value under `key`. At most one caller ever receives a
    /// given stored value.
    async fn take(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError>;

    /// Removes `key` (no error if absent).
    async fn delete(&self, namespace: &str, key: &str) -> Result<(), CacheError>;

    /// Stores `value` only if `key` is absent (or expired). Returns `true` if this call stored it.
    async fn put_if_absent(
        &self,
        namespace: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, CacheError>;

    /// Increments the counter under `key` and returns the new value. A new counter starts at 1
    /// and expires `ttl` after its creation (later increments do not extend it).
    async fn increment(&self, namespace: &str, key: &str, ttl: Duration)
    -> Result<u64, CacheError>;

    /// Runs `steps` in order, stopping at the first `required` entry that is absent. For a
    /// shared cache this is one round trip instead of one per step: a login's state moves
    /// (read the transaction and count the attempt; take it from one stage and store it in the
    /// next) are batches. Each step keeps its own atomicity; Redis runs the whole batch as one
    /// atomic script, the default runs the steps one after another.
    async fn batch(&self, steps: Vec<CacheStep>) -> Result<BatchOutcome, CacheError> {
        batch_step_by_step(self, steps).await
    }

    /// Publishes `message` to every current subscriber of `channel` (on every instance, for a
    /// shared cache). Messages to a channel without subscribers are dropped.
    async fn publish(&self, channel: &str, message: &str) -> Result<(), CacheError>;

    /// Subscribes to `channel`. The stream ends when the subscription is dropped.
    async fn subscribe(&self, channel: &str) -> Result<Subscription, CacheError>;
}
