//! The in-process [`Cache`] for a single eSignet-rs instance.
//!
//! [`MemoryCache`] keeps every entry in one concurrent map (`DashMap`, sharded locks) keyed by
//! namespace and key. Each operation is one step under the lock of the entry's shard, which is
//! what makes `take` (one-time codes), `put_if_absent` (replay caches) and `increment` (rate
//! limits) atomic.
//!
//! Expiry is judged with the injected [`Clock`], never the system time, so tests move a
//! `ManualClock` instead of sleeping. An expired entry is invisible from the instant its TTL
//! ends; its memory is reclaimed when an operation meets it, by [`MemoryCache::sweep`] (which
//! [`MemoryCache::spawn_sweeper`] runs periodically), and before refusing a new entry for lack
//! of room.
//!
//! Memory is bounded by a maximum entry count ([`CacheLimits::max_entries`]). A new key beyond it
//! is refused with `CacheError::Unavailable("cache full")`; live entries are never evicted to
//! make room, because silently dropping a live one-time code or transaction would break a
//! resident's login half way through, while a refusal is reported and retried.
//!
//! Publish/subscribe is in-process only (a `tokio::sync::broadcast` channel per channel name),
//! which is all a single instance needs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry as MapEntry;
use esignet_spi::{Cache, CacheError, Clock, Subscription};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

mod pubsub;

use pubsub::Channels;

/// Entries kept at most by [`MemoryCache::new`]: about a million live flows and codes, a few GB
/// at worst for transaction-sized values. Deployments size it with
/// [`MemoryCache::with_capacity_limit`].
pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;

/// Messages buffered per channel for a subscriber that has not read them yet, by default.
pub const DEFAULT_CHANNEL_CAPACITY: usize = 1024;

/// The largest channel buffer accepted; larger requests are clamped (the buffer is allocated
/// up front for every channel).
pub const MAX_CHANNEL_CAPACITY: usize = 1 << 16;

/// The shortest sweep interval [`MemoryCache::spawn_sweeper`] accepts; shorter ones are raised
/// to it so a misconfiguration cannot turn the sweeper into a busy loop.
pub const MIN_SWEEP_INTERVAL: Duration = Duration::from_millis(10);

/// A TTL too large to represent ends here, which is as good as never.
const FAR_FUTURE: OffsetDateTime = datetime!(9999-12-31 23:59:59.999_999_999 UTC);

/// Size bounds of a [`MemoryCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Most entries (live or expired but not yet reclaimed) held at once. A new key beyond this
    /// is refused after a sweep; replacing an existing key always succeeds.
    pub max_entries: usize,
    /// Messages buffered per subscriber of a channel; a subscriber further behind skips the
    /// oldest. Clamped to `1..=MAX_CHANNEL_CAPACITY`.
    pub channel_capacity: usize,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            max_entries: DEFAULT_MAX_ENTRIES,
            channel_capacity: DEFAULT_CHANNEL_CAPACITY,
        }
    }
}

/// An in-process, TTL-bounded, size-bounded [`Cache`]. See the crate documentation.
pub struct MemoryCache {
    clock: Arc<dyn Clock>,
    /// Keyed by [`entry_key`]`(namespace, key)`.
    entries: DashMap<String, Entry>,
    /// Counts map entries; see [`Slots`].
    slots: Slots,
    channels: Arc<Channels>,
}

/// One stored value and the instant it stops being visible.
struct Entry {
    value: Vec<u8>,
    expires_at: OffsetDateTime,
}

impl Entry {
    fn new(value: Vec<u8>, now: OffsetDateTime, ttl: Duration) -> Self {
        Self {
            value,
            expires_at: deadline(now, ttl),
        }
    }

    /// Whether the entry is still visible at `now`; it expires at the end of its TTL exactly.
    fn is_live(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }
}

/// The entry-count bound.
///
/// `used` is reserved before a new key is inserted and released after a key is removed, so it
/// is never below the number of map entries and concurrent inserts cannot overshoot `max`.
struct Slots {
    used: AtomicUsize,
    max: usize,
}

impl Slots {
    /// Claims room for one new entry; `false` when the cache is full.
    fn reserve(&self) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < self.max).then_some(used + 1)
            })
            .is_ok()
    }

    /// Returns the room of `count` removed entries.
    fn release(&self, count: usize) {
        if count > 0 {
            self.used.fetch_sub(count, Ordering::AcqRel);
        }
    }
}

impl MemoryCache {
    /// A cache on `clock` with the default [`CacheLimits`].
    pub fn new(clock: Arc<dyn Clock>) -> Arc<Self> {
        Self::with_limits(clock, CacheLimits::default())
    }

    /// A cache on `clock` holding at most `max_entries` entries.
    pub fn with_capacity_limit(clock: Arc<dyn Clock>, max_entries: usize) -> Arc<Self> {
        Self::with_limits(
            clock,
            CacheLimits {
                max_entries,
                ..CacheLimits::default()
            },
        )
    }

    /// A cache on `clock` with the given bounds.
    pub fn with_limits(clock: Arc<dyn Clock>, limits: CacheLimits) -> Arc<Self> {
        Arc::new(Self {
            clock,
            entries: DashMap::new(),
            slots: Slots {
                used: AtomicUsize::new(0),
                max: limits.max_entries,
            },
            channels: Arc::new(Channels::new(
                limits.channel_capacity.clamp(1, MAX_CHANNEL_CAPACITY),
            )),
        })
    }

    /// Removes every expired entry now and returns how many it removed.
    ///
    /// Locks one shard at a time, so other operations proceed on the rest of the map.
    pub fn sweep(&self) -> usize {
        let now = self.clock.now();
        let mut removed = 0;
        self.entries.retain(|_, entry| {
            let live = entry.is_live(now);
            if !live {
                removed += 1;
            }
            live
        });
        self.slots.release(removed);
        removed
    }

    /// Runs [`MemoryCache::sweep`] every `every` (at least [`MIN_SWEEP_INTERVAL`]) on the Tokio
    /// runtime, starting one interval from now.
    ///
    /// The task holds only a weak reference: it ends by itself once the cache is dropped. Abort
    /// the returned handle to stop it earlier. Must be called within a Tokio runtime.
    pub fn spawn_sweeper(self: &Arc<Self>, every: Duration) -> JoinHandle<()> {
        let cache = Arc::downgrade(self);
        let every = every.max(MIN_SWEEP_INTERVAL);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            // The first tick completes at once; the first sweep is due one interval from now.
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(cache) = cache.upgrade() else { break };
                // Inline rather than on the blocking pool: a sweep is a few nanoseconds per entry
                // and locks one shard at a time, so even a full default-size cache holds this
                // worker for milliseconds, once per interval.
                cache.sweep();
            }
        })
    }

    /// Entries held, live or expired but not yet reclaimed.
    pub fn entry_count(&self) -> usize {
        self.entries.len()
    }

    /// Channels that currently have at least one subscriber.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Runs `attempt`; if it found no room for a new entry, sweeps expired entries and runs it
    /// once more. `attempt` hands its inputs back when refused so the retry can reuse them, and
    /// must release its map guard before returning, since the sweep locks every shard.
    fn with_room<C, T>(
        &self,
        inputs: C,
        attempt: impl Fn(C, OffsetDateTime) -> Result<T, C>,
    ) -> Result<T, CacheError> {
        match attempt(inputs, self.clock.now()) {
            Ok(done) => Ok(done),
            Err(inputs) => {
                self.sweep();
                attempt(inputs, self.clock.now())
                    .map_err(|_| CacheError::Unavailable("cache full".to_owned()))
            }
        }
    }

    /// Removes the entry under `key` if it has expired at `now` (an operation met it).
    fn reclaim_if_expired(&self, key: &str, now: OffsetDateTime) {
        if self
            .entries
            .remove_if(key, |_, entry| !entry.is_live(now))
            .is_some()
        {
            self.slots.release(1);
        }
    }
}

impl std::fmt::Debug for MemoryCache {
    // Hand-written so that values (transactions, codes) never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("entries", &self.entries.len())
            .field("max_entries", &self.slots.max)
            .field("channels", &self.channels.len())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    async fn put(
        &self,
        namespace: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        self.with_room(
            (entry_key(namespace, key), value),
            |(key, value), now| match self.entries.entry(key) {
                MapEntry::Occupied(mut occupied) => {
                    occupied.insert(Entry::new(value, now, ttl));
                    Ok(())
                }
                MapEntry::Vacant(vacant) => {
                    if self.slots.reserve() {
                        vacant.insert(Entry::new(value, now, ttl));
                        Ok(())
                    } else {
                        Err((vacant.into_key(), value))
                    }
                }
            },
        )
    }

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let key = entry_key(namespace, key);
        let now = self.clock.now();
        // The read guard ends with this statement: reclaiming needs the shard's write lock.
        let found = self
            .entries
            .get(&key)
            .map(|entry| entry.is_live(now).then(|| entry.value.clone()));
        match found {
            Some(Some(value)) => Ok(Some(value)),
            Some(None) => {
                self.reclaim_if_expired(&key, now);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn take(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let now = self.clock.now();
        // Removal under the shard lock hands the entry to exactly one caller; an expired one is
        // reclaimed and reported absent.
        let Some((_, entry)) = self.entries.remove(&entry_key(namespace, key)) else {
            return Ok(None);
        };
        self.slots.release(1);
        Ok(entry.is_live(now).then_some(entry.value))
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<(), CacheError> {
        if self.entries.remove(&entry_key(namespace, key)).is_some() {
            self.slots.release(1);
        }
        Ok(())
    }

    async fn put_if_absent(
        &self,
        namespace: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        self.with_room(
            (entry_key(namespace, key), value),
            |(key, value), now| match self.entries.entry(key) {
                MapEntry::Occupied(occupied) if occupied.get().is_live(now) => Ok(false),
                MapEntry::Occupied(mut expired) => {
                    expired.insert(Entry::new(value, now, ttl));
                    Ok(true)
                }
                MapEntry::Vacant(vacant) => {
                    if self.slots.reserve() {
                        vacant.insert(Entry::new(value, now, ttl));
                        Ok(true)
                    } else {
                        Err((vacant.into_key(), value))
                    }
                }
            },
        )
    }

    async fn increment(
        &self,
        namespace: &str,
        key: &str,
        ttl: Duration,
    ) -> Result<u64, CacheError> {
        // Counters are stored as ASCII decimal, as Redis does, so `get` of a counter reads the
        // same on both backends.
        let first = || b"1".to_vec();
        self.with_room(entry_key(namespace, key), |key, now| {
            match self.entries.entry(key) {
                MapEntry::Occupied(mut occupied) if occupied.get().is_live(now) => {
                    let entry = occupied.get_mut();
                    let next = parse_counter(&entry.value)
                        .ok_or_else(|| {
                            CacheError::Unavailable("increment of a non-counter value".to_owned())
                        })
                        .and_then(|count| {
                            count.checked_add(1).ok_or_else(|| {
                                CacheError::Unavailable("counter overflow".to_owned())
                            })
                        });
                    if let Ok(next) = next {
                        // The expiry stays: a counter lives `ttl` from its creation.
                        entry.value = next.to_string().into_bytes();
                    }
                    Ok(next)
                }
                MapEntry::Occupied(mut expired) => {
                    expired.insert(Entry::new(first(), now, ttl));
                    Ok(Ok(1))
                }
                MapEntry::Vacant(vacant) => {
                    if self.slots.reserve() {
                        vacant.insert(Entry::new(first(), now, ttl));
                        Ok(Ok(1))
                    } else {
                        Err(vacant.into_key())
                    }
                }
            }
        })?
    }

    async fn publish(&self, channel: &str, message: &str) -> Result<(), CacheError> {
        self.channels.publish(channel, message);
        Ok(())
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, CacheError> {
        Ok(self.channels.subscribe(channel))
    }
}

/// The map key of (`namespace`, `key`). The namespace's length prefix keeps the pair
/// unambiguous: ("ab", "c") and ("a", "bc") are different keys whatever characters they hold.
fn entry_key(namespace: &str, key: &str) -> String {
    format!("{}:{namespace}{key}", namespace.len())
}

/// `now + ttl`, or [`FAR_FUTURE`] if that is beyond what a timestamp can hold.
fn deadline(now: OffsetDateTime, ttl: Duration) -> OffsetDateTime {
    time::Duration::try_from(ttl)
        .ok()
        .and_then(|ttl| now.checked_add(ttl))
        .map_or(FAR_FUTURE, |deadline| deadline.min(FAR_FUTURE))
}

/// The count stored in a counter value, if it is one.
fn parse_counter(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_keys_do_not_collide_across_the_namespace_boundary() {
        assert_ne!(entry_key("ab", "c"), entry_key("a", "bc"));
        assert_ne!(entry_key("1:a", "b"), entry_key("1", ":ab"));
        assert_eq!(entry_key("ns", "k"), entry_key("ns", "k"));
    }

    #[test]
    fn deadline_saturates_instead_of_overflowing() {
        let now = datetime!(2025-01-01 00:00:00 UTC);
        assert_eq!(deadline(now, Duration::MAX), FAR_FUTURE);
        assert_eq!(
            deadline(now, Duration::from_secs(90)),
            datetime!(2025-01-01 00:01:30 UTC)
        );
    }

    #[test]
    fn counters_parse_only_decimal_text() {
        assert_eq!(parse_counter(b"42"), Some(42));
        assert_eq!(parse_counter(b"-1"), None);
        assert_eq!(parse_counter(b"forty"), None);
        assert_eq!(parse_counter(&[0xFF]), None);
    }
}
