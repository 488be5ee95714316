//! Behaviour specific to the in-process cache: the capacity bound, reclaiming expired entries,
//! the sweeper task, channel lifecycle, lagging subscribers and multi-threaded races.

use std::sync::Arc;
use std::time::Duration;

use esignet_cache_memory::{CacheLimits, MemoryCache};
use esignet_spi::{Cache, CacheError, ManualClock};
use futures::StreamExt;
use time::macros::datetime;

const NS: &str = "preauth";
const SHORT: Duration = Duration::from_secs(1);
const LONG: Duration = Duration::from_secs(3600);

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(datetime!(2025-06-01 12:00:00 UTC)))
}

fn advance(clock: &ManualClock, by: Duration) {
    clock.advance(time::Duration::try_from(by).expect("test durations fit"));
}

fn assert_full<T: std::fmt::Debug>(result: Result<T, CacheError>) {
    match result {
        Err(CacheError::Unavailable(reason)) => assert_eq!(reason, "cache full"),
        other => panic!("expected CacheError::Unavailable(\"cache full\"), got {other:?}"),
    }
}

#[tokio::test]
async fn a_full_cache_refuses_new_keys_but_keeps_and_replaces_live_ones() {
    let cache = MemoryCache::with_capacity_limit(clock(), 2);
    cache.put(NS, "a", b"a".to_vec(), LONG).await.unwrap();
    cache.put(NS, "b", b"b".to_vec(), LONG).await.unwrap();

    assert_full(cache.put(NS, "c", b"c".to_vec(), LONG).await);
    assert_full(cache.put_if_absent(NS, "c", b"c".to_vec(), LONG).await);
    assert_full(cache.increment(NS, "c", LONG).await);
    assert_eq!(cache.get(NS, "c").await.unwrap(), None);
    assert_eq!(cache.entry_count(), 2);

    // Nothing live was evicted to make room, and existing keys can still be replaced.
    assert_eq!(cache.get(NS, "a").await.unwrap(), Some(b"a".to_vec()));
    cache.put(NS, "a", b"a2".to_vec(), LONG).await.unwrap();
    assert_eq!(cache.get(NS, "a").await.unwrap(), Some(b"a2".to_vec()));
    assert!(
        !cache
            .put_if_absent(NS, "b", b"x".to_vec(), LONG)
            .await
            .unwrap()
    );

    // take and delete give room back.
    assert_eq!(cache.take(NS, "a").await.unwrap(), Some(b"a2".to_vec()));
    cache.put(NS, "c", b"c".to_vec(), LONG).await.unwrap();
    assert_full(cache.put(NS, "d", b"d".to_vec(), LONG).await);
    cache.delete(NS, "b").await.unwrap();
    assert_eq!(cache.increment(NS, "d", LONG).await.unwrap(), 1);
    assert_eq!(cache.entry_count(), 2);
}

#[tokio::test]
async fn a_full_cache_reclaims_expired_entries_before_refusing() {
    let clock = clock();
    let cache = MemoryCache::with_capacity_limit(clock.clone(), 2);
    cache.put(NS, "short", b"s".to_vec(), SHORT).await.unwrap();
    cache.put(NS, "long", b"l".to_vec(), LONG).await.unwrap();
    advance(&clock, SHORT);
    assert_eq!(cache.entry_count(), 2, "expired but not yet reclaimed");

    assert!(
        cache
            .put_if_absent(NS, "new", b"n".to_vec(), LONG)
            .await
            .unwrap()
    );
    assert_eq!(cache.entry_count(), 2);
    assert_eq!(cache.get(NS, "long").await.unwrap(), Some(b"l".to_vec()));
    assert_full(cache.put(NS, "another", b"x".to_vec(), LONG).await);
}

#[tokio::test]
async fn a_zero_capacity_cache_refuses_everything_new() {
    let cache = MemoryCache::with_capacity_limit(clock(), 0);
    assert_full(cache.put(NS, "a", b"a".to_vec(), LONG).await);
    assert_eq!(cache.get(NS, "a").await.unwrap(), None);
}

#[tokio::test]
async fn an_entry_expires_exactly_at_the_end_of_its_ttl_and_is_reclaimed_when_met() {
    let clock = clock();
    let cache = MemoryCache::new(clock.clone());
    cache.put(NS, "k", b"v".to_vec(), SHORT).await.unwrap();
    advance(&clock, SHORT - Duration::from_nanos(1));
    assert_eq!(cache.get(NS, "k").await.unwrap(), Some(b"v".to_vec()));
    advance(&clock, Duration::from_nanos(1));
    assert_eq!(cache.get(NS, "k").await.unwrap(), None);
    assert_eq!(cache.entry_count(), 0, "get reclaims the expired entry");

    cache
        .put(NS, "zero", b"v".to_vec(), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        cache.get(NS, "zero").await.unwrap(),
        None,
        "a zero TTL is expired at once"
    );

    cache
        .put(NS, "forever", b"v".to_vec(), Duration::MAX)
        .await
        .unwrap();
    advance(&clock, Duration::from_secs(100 * 365 * 86_400));
    assert_eq!(
        cache.get(NS, "forever").await.unwrap(),
        Some(b"v".to_vec()),
        "an unrepresentably long TTL saturates instead of failing"
    );
}

#[tokio::test]
async fn sweep_removes_only_expired_entries() {
    let clock = clock();
    let cache = MemoryCache::new(clock.clone());
    for key in ["a", "b", "c"] {
        cache.put(NS, key, b"v".to_vec(), SHORT).await.unwrap();
    }
    cache.increment("apiratelimit", "txn", LONG).await.unwrap();
    assert_eq!(cache.sweep(), 0, "nothing has expired yet");
    advance(&clock, SHORT);
    assert_eq!(cache.sweep(), 3);
    assert_eq!(cache.entry_count(), 1);
    assert_eq!(
        cache.increment("apiratelimit", "txn", LONG).await.unwrap(),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_reclaims_periodically_and_stops_with_the_cache() {
    let clock = clock();
    let cache = MemoryCache::new(clock.clone());
    cache.put(NS, "short", b"v".to_vec(), SHORT).await.unwrap();
    cache.put(NS, "long", b"v".to_vec(), LONG).await.unwrap();
    advance(&clock, Duration::from_secs(2));

    let every = Duration::from_secs(30);
    let sweeper = cache.spawn_sweeper(every);
    tokio::task::yield_now().await;
    assert_eq!(
        cache.entry_count(),
        2,
        "the first sweep is one interval away"
    );

    tokio::time::advance(every).await;
    tokio::task::yield_now().await;
    assert_eq!(
        cache.entry_count(),
        1,
        "the sweeper reclaimed the expired entry"
    );
    assert_eq!(cache.get(NS, "long").await.unwrap(), Some(b"v".to_vec()));

    drop(cache);
    tokio::time::advance(every).await;
    tokio::time::timeout(every, sweeper)
        .await
        .expect("the sweeper ends once the cache is dropped")
        .expect("the sweeper task did not panic");
}

#[tokio::test]
async fn a_channel_lives_exactly_while_it_has_subscribers() {
    let cache = MemoryCache::new(clock());
    assert_eq!(cache.channel_count(), 0);
    let first = cache.subscribe("events").await.unwrap();
    let mut second = cache.subscribe("events").await.unwrap();
    assert_eq!(cache.channel_count(), 1);
    drop(first);
    assert_eq!(cache.channel_count(), 1, "one subscriber remains");
    cache.publish("events", "still here").await.unwrap();
    assert_eq!(second.next().await.as_deref(), Some("still here"));
    drop(second);
    assert_eq!(
        cache.channel_count(),
        0,
        "the last subscriber removed the channel"
    );

    cache.publish("events", "to nobody").await.unwrap();
    assert_eq!(
        cache.channel_count(),
        0,
        "publishing does not create channels"
    );
    let mut again = cache.subscribe("events").await.unwrap();
    cache.publish("events", "fresh").await.unwrap();
    assert_eq!(again.next().await.as_deref(), Some("fresh"));
}

#[tokio::test]
async fn a_lagging_subscriber_skips_the_oldest_messages_and_carries_on() {
    let cache = MemoryCache::with_limits(
        clock(),
        CacheLimits {
            channel_capacity: 2,
            ..CacheLimits::default()
        },
    );
    let mut slow = cache.subscribe("events").await.unwrap();
    for message in ["m1", "m2", "m3", "m4", "m5"] {
        cache.publish("events", message).await.unwrap();
    }
    assert_eq!(slow.next().await.as_deref(), Some("m4"));
    assert_eq!(slow.next().await.as_deref(), Some("m5"));
    cache.publish("events", "m6").await.unwrap();
    assert_eq!(slow.next().await.as_deref(), Some("m6"));
}

#[tokio::test]
async fn counters_read_as_decimal_text_and_refuse_other_values() {
    let cache = MemoryCache::new(clock());
    cache.increment(NS, "count", LONG).await.unwrap();
    cache.increment(NS, "count", LONG).await.unwrap();
    assert_eq!(cache.get(NS, "count").await.unwrap(), Some(b"2".to_vec()));

    cache
        .put(NS, "text", b"not a number".to_vec(), LONG)
        .await
        .unwrap();
    assert!(matches!(
        cache.increment(NS, "text", LONG).await,
        Err(CacheError::Unavailable(_))
    ));
    assert_eq!(
        cache.get(NS, "text").await.unwrap(),
        Some(b"not a number".to_vec()),
        "a refused increment leaves the value alone"
    );

    cache
        .put(NS, "max", u64::MAX.to_string().into_bytes(), LONG)
        .await
        .unwrap();
    assert!(matches!(
        cache.increment(NS, "max", LONG).await,
        Err(CacheError::Unavailable(_))
    ));
}

#[tokio::test]
async fn debug_output_never_shows_values() {
    let cache = MemoryCache::new(clock());
    cache
        .put(NS, "code", b"secret-auth-code".to_vec(), LONG)
        .await
        .unwrap();
    let debug = format!("{cache:?}");
    assert!(!debug.contains("secret-auth-code"), "{debug}");
    assert!(debug.contains("entries: 1"), "{debug}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_time_operations_hold_under_parallel_threads() {
    let cache = MemoryCache::new(clock());
    for round in 0..20 {
        let key = format!("code-{round}");
        cache.put(NS, &key, b"code".to_vec(), LONG).await.unwrap();
        let takers: Vec<_> = (0..16)
            .map(|_| {
                let (cache, key) = (Arc::clone(&cache), key.clone());
                tokio::spawn(async move { cache.take(NS, &key).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for taker in takers {
            winners += usize::from(taker.await.unwrap().is_some());
        }
        assert_eq!(
            winners, 1,
            "round {round}: exactly one thread takes the code"
        );

        let key = format!("jti-{round}");
        let storers: Vec<_> = (0..16)
            .map(|_| {
                let (cache, key) = (Arc::clone(&cache), key.clone());
                tokio::spawn(async move {
                    cache
                        .put_if_absent(NS, &key, b"1".to_vec(), LONG)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut stored = 0;
        for storer in storers {
            stored += usize::from(storer.await.unwrap());
        }
        assert_eq!(
            stored, 1,
            "round {round}: exactly one thread stores the jti"
        );
    }

    let counters: Vec<_> = (0..8)
        .map(|_| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                for _ in 0..1000 {
                    cache.increment(NS, "hits", LONG).await.unwrap();
                }
            })
        })
        .collect();
    for counter in counters {
        counter.await.unwrap();
    }
    assert_eq!(cache.increment(NS, "hits", LONG).await.unwrap(), 8001);
}
