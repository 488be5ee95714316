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

    /// Publishes `message` to every current subscriber of `channel` (on every instance, for a
    /// shared cache). Messages to a channel without subscribers are dropped.
    async fn publish(&self, channel: &str, message: &str) -> Result<(), CacheError>;

    /// Subscribes to `channel`. The stream ends when the subscription is dropped.
    async fn subscribe(&self, channel: &str) -> Result<Subscription, CacheError>;
}
