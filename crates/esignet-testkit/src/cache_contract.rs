//! Contract suites for [`Cache`] implementations.
//!
//! Split in two because a shared cache such as Redis cannot be driven by a manual clock:
//! [`cache_contract`] needs no time to pass, [`cache_expiry_contract`] asks the caller to make
//! time pass.
//!
//! Concurrency checks run many operations on one task with `join_all`. Against a networked cache
//! that is real concurrency at the server; an in-process cache should add its own multi-threaded
//! race test, because its operations may complete without ever yielding.

use std::future::Future;
use std::time::Duration;

use esignet_spi::{BatchOutcome, Cache, CacheReply, CacheStep, Subscription};
use futures::StreamExt;
use futures::future::join_all;

use crate::fixtures::unique_id;

/// Long enough that nothing expires while [`cache_contract`] runs.
const LONG_TTL: Duration = Duration::from_secs(600);

/// How long to wait for a published message before declaring it lost.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks every rule of [`Cache`] that does not need time to pass: put/get/replace, namespace
/// separation, single-use `take` and `put_if_absent` under concurrency, atomic `increment`,
/// `delete`, and in-order publish/subscribe from the moment of subscription.
///
/// Must run inside a Tokio runtime with timers enabled (`#[tokio::test]` is enough): message
/// delivery is awaited with a timeout so a lost message fails instead of hanging.
///
/// # Panics
///
/// On the first violation, naming the rule broken.
pub async fn cache_contract(cache: &dyn Cache) {
    put_get_replace(cache).await;
    namespaces_are_separate(cache).await;
    take_is_single_use(cache).await;
    put_if_absent_stores_once(cache).await;
    increment_counts_atomically(cache).await;
    delete_removes(cache).await;
    batches_run_in_order_and_stop_at_a_missing_entry(cache).await;
    a_batched_move_is_single_use(cache).await;
    publish_subscribe(cache).await;
}

/// A namespace for [`CacheStep`]s, which name theirs with `&'static str` (the service's are
/// constants); a test leaks its unique names.
fn static_namespace(prefix: &str) -> &'static str {
    Box::leak(unique_id(prefix).into_boxed_str())
}

async fn batches_run_in_order_and_stop_at_a_missing_entry(cache: &dyn Cache) {
    let ns = static_namespace("batch");
    let step_get = |key: &str, required: bool| CacheStep::Get {
        namespace: ns,
        key: key.to_owned(),
        required,
    };
    let outcome = cache
        .batch(vec![
            CacheStep::Put {
                namespace: ns,
                key: "a".into(),
                value: b"one".to_vec(),
                ttl: LONG_TTL,
            },
            step_get("a", true),
            CacheStep::Increment {
                namespace: ns,
                key: "count".into(),
                ttl: LONG_TTL,
            },
            CacheStep::Increment {
                namespace: ns,
                key: "count".into(),
                ttl: LONG_TTL,
            },
            step_get("absent", false),
            CacheStep::Take {
                namespace: ns,
                key: "a".into(),
                required: true,
            },
            step_get("a", false),
            CacheStep::Delete {
                namespace: ns,
                key: "count".into(),
            },
        ])
        .await
        .expect("batch");
    assert_eq!(
        outcome,
        BatchOutcome::Completed(vec![
            CacheReply::Done,
            CacheReply::Value(Some(b"one".to_vec())),
            CacheReply::Count(1),
            CacheReply::Count(2),
            CacheReply::Value(None),
            CacheReply::Value(Some(b"one".to_vec())),
            CacheReply::Value(None),
            CacheReply::Done,
        ]),
        "every step runs in order, each seeing the ones before"
    );
    assert_eq!(cache.get(ns, "count").await.expect("get"), None);

    // A required entry that is absent stops the batch there: the steps after it do not run.
    let outcome = cache
        .batch(vec![
            step_get("absent", false),
            CacheStep::Take {
                namespace: ns,
                key: "absent".into(),
                required: true,
            },
            CacheStep::Put {
                namespace: ns,
                key: "after".into(),
                value: b"x".to_vec(),
                ttl: LONG_TTL,
            },
        ])
        .await
        .expect("batch");
    assert_eq!(outcome, BatchOutcome::Missing { step: 1 });
    assert_eq!(
        cache.get(ns, "after").await.expect("get"),
        None,
        "a step after the missing entry must not run"
    );
}

async fn a_batched_move_is_single_use(cache: &dyn Cache) {
    let from = static_namespace("from");
    let to = static_namespace("to");
    cache
        .put(from, "tx", b"state".to_vec(), LONG_TTL)
        .await
        .expect("put");
    let moves = (0..16).map(|i| {
        cache.batch(vec![
            CacheStep::Take {
                namespace: from,
                key: "tx".into(),
                required: true,
            },
            CacheStep::Put {
                namespace: to,
                key: format!("tx-{i}"),
                value: b"next".to_vec(),
                ttl: LONG_TTL,
            },
        ])
    });
    let outcomes = join_all(moves).await;
    let completed = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(BatchOutcome::Completed(_))))
        .count();
    assert_eq!(
        completed, 1,
        "exactly one concurrent move wins: {outcomes:?}"
    );
    let keys: Vec<String> = (0..16).map(|i| format!("tx-{i}")).collect();
    let stored = join_all(keys.iter().map(|key| cache.get(to, key))).await;
    assert_eq!(
        stored.iter().filter(|v| matches!(v, Ok(Some(_)))).count(),
        1,
        "only the winner's entry is stored"
    );
}

async fn put_get_replace(cache: &dyn Cache) {
    let ns = unique_id("ns");
    let key = unique_id("key");
    assert_eq!(
        cache.get(&ns, &key).await.expect("get"),
        None,
        "an unknown key must be absent"
    );
    cache
        .put(&ns, &key, b"first".to_vec(), LONG_TTL)
        .await
        .expect("put");
    assert_eq!(
        cache.get(&ns, &key).await.expect("get"),
        Some(b"first".to_vec())
    );
    assert_eq!(
        cache.get(&ns, &key).await.expect("get"),
        Some(b"first".to_vec()),
        "get must not consume the value"
    );
    cache
        .put(&ns, &key, b"second".to_vec(), LONG_TTL)
        .await
        .expect("put over an existing key");
    assert_eq!(
        cache.get(&ns, &key).await.expect("get"),
        Some(b"second".to_vec()),
        "put must replace the previous value"
    );

    // Values are opaque bytes: empty and non-UTF-8 values round-trip.
    let binary = vec![0x00, 0xFF, 0xC3, 0x28, 0x0A];
    cache
        .put(&ns, "binary", binary.clone(), LONG_TTL)
        .await
        .expect("put binary");
    assert_eq!(cache.get(&ns, "binary").await.expect("get"), Some(binary));
    cache
        .put(&ns, "empty", Vec::new(), LONG_TTL)
        .await
        .expect("put empty");
    assert_eq!(
        cache.get(&ns, "empty").await.expect("get"),
        Some(Vec::new()),
        "an empty value is present, not absent"
    );
}

async fn namespaces_are_separate(cache: &dyn Cache) {
    let base = unique_id("ns");
    let (ns_a, ns_b) = (format!("{base}-a"), format!("{base}-b"));
    cache
        .put(&ns_a, "shared-key", b"in a".to_vec(), LONG_TTL)
        .await
        .expect("put");
    assert_eq!(
        cache.get(&ns_b, "shared-key").await.expect("get"),
        None,
        "a key in one namespace must not be visible in another"
    );
    cache
        .put(&ns_b, "shared-key", b"in b".to_vec(), LONG_TTL)
        .await
        .expect("put");
    assert_eq!(
        cache.get(&ns_a, "shared-key").await.expect("get"),
        Some(b"in a".to_vec()),
        "a put in one namespace must not replace the same key in another"
    );
    assert_eq!(
        cache.take(&ns_b, "shared-key").await.expect("take"),
        Some(b"in b".to_vec())
    );
    assert_eq!(
        cache.get(&ns_a, "shared-key").await.expect("get"),
        Some(b"in a".to_vec()),
        "take in one namespace must not remove the key from another"
    );
    cache.delete(&ns_b, "shared-key").await.expect("delete");
    cache
        .put(&ns_b, "shared-key", b"in b again".to_vec(), LONG_TTL)
        .await
        .expect("put");
    cache.delete(&ns_a, "shared-key").await.expect("delete");
    assert_eq!(
        cache.get(&ns_b, "shared-key").await.expect("get"),
        Some(b"in b again".to_vec()),
        "delete in one namespace must not remove the key from another"
    );

    // The namespace/key boundary is not just concatenation.
    let ab = format!("{base}ab");
    let a = format!("{base}a");
    cache
        .put(&ab, "c", b"ab/c".to_vec(), LONG_TTL)
        .await
        .expect("put");
    assert_eq!(
        cache.get(&a, "bc").await.expect("get"),
        None,
        "(\"..ab\", \"c\") and (\"..a\", \"bc\") must be different entries"
    );
}

async fn take_is_single_use(cache: &dyn Cache) {
    let ns = unique_id("ns");
    assert_eq!(
        cache.take(&ns, "missing").await.expect("take"),
        None,
        "take of an unknown key must be None"
    );

    cache
        .put(&ns, "code", b"one-time".to_vec(), LONG_TTL)
        .await
        .expect("put");
    assert_eq!(
        cache.take(&ns, "code").await.expect("take"),
        Some(b"one-time".to_vec())
    );
    assert_eq!(
        cache.take(&ns, "code").await.expect("take"),
        None,
        "a second take must find nothing"
    );
    assert_eq!(
        cache.get(&ns, "code").await.expect("get"),
        None,
        "take must remove the value"
    );

    cache
        .put(&ns, "raced", b"prize".to_vec(), LONG_TTL)
        .await
        .expect("put");
    let results = join_all((0..50).map(|_| cache.take(&ns, "raced"))).await;
    let winners: Vec<Vec<u8>> = results
        .into_iter()
        .filter_map(|result| result.expect("concurrent take"))
        .collect();
    assert_eq!(
        winners,
        vec![b"prize".to_vec()],
        "exactly one of 50 concurrent takers must receive the value"
    );
}

async fn put_if_absent_stores_once(cache: &dyn Cache) {
    let ns = unique_id("ns");
    assert!(
        cache
            .put_if_absent(&ns, "jti", b"first".to_vec(), LONG_TTL)
            .await
            .expect("put_if_absent"),
        "put_if_absent of a new key must store it"
    );
    assert!(
        !cache
            .put_if_absent(&ns, "jti", b"second".to_vec(), LONG_TTL)
            .await
            .expect("put_if_absent"),
        "put_if_absent of an existing key must report false"
    );
    assert_eq!(
        cache.get(&ns, "jti").await.expect("get"),
        Some(b"first".to_vec()),
        "a refused put_if_absent must not change the value"
    );

    let contenders = join_all((0..50u32).map(|i| {
        let ns = ns.clone();
        async move {
            let value = i.to_be_bytes().to_vec();
            let stored = cache
                .put_if_absent(&ns, "raced", value.clone(), LONG_TTL)
                .await
                .expect("concurrent put_if_absent");
            (stored, value)
        }
    }))
    .await;
    let winners: Vec<Vec<u8>> = contenders
        .into_iter()
        .filter_map(|(stored, value)| stored.then_some(value))
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one of 50 concurrent put_if_absent calls must store"
    );
    assert_eq!(
        cache.get(&ns, "raced").await.expect("get"),
        winners.into_iter().next(),
        "the stored value must be the winner's"
    );
}

async fn increment_counts_atomically(cache: &dyn Cache) {
    let ns = unique_id("ns");
    for expected in 1..=3 {
        assert_eq!(
            cache
                .increment(&ns, "counter", LONG_TTL)
                .await
                .expect("increment"),
            expected,
            "a new counter starts at 1 and counts up by one"
        );
    }
    assert_eq!(
        cache
            .increment(&ns, "other-counter", LONG_TTL)
            .await
            .expect("increment"),
        1,
        "counters are independent per key"
    );

    let results = join_all((0..100).map(|_| cache.increment(&ns, "raced", LONG_TTL))).await;
    let mut seen: Vec<u64> = results
        .into_iter()
        .map(|result| result.expect("concurrent increment"))
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=100).collect::<Vec<u64>>(),
        "100 concurrent increments must each see a distinct value from 1 to 100"
    );
    assert_eq!(
        cache
            .increment(&ns, "raced", LONG_TTL)
            .await
            .expect("increment"),
        101
    );
}

async fn delete_removes(cache: &dyn Cache) {
    let ns = unique_id("ns");
    cache
        .put(&ns, "key", b"value".to_vec(), LONG_TTL)
        .await
        .expect("put");
    cache.delete(&ns, "key").await.expect("delete");
    assert_eq!(cache.get(&ns, "key").await.expect("get"), None);
    assert_eq!(cache.take(&ns, "key").await.expect("take"), None);
    cache
        .delete(&ns, "key")
        .await
        .expect("delete of an absent key is not an error");
    assert!(
        cache
            .put_if_absent(&ns, "key", b"again".to_vec(), LONG_TTL)
            .await
            .expect("put_if_absent"),
        "a deleted key is absent for put_if_absent"
    );
    cache
        .increment(&ns, "counter", LONG_TTL)
        .await
        .expect("increment");
    cache.delete(&ns, "counter").await.expect("delete");
    assert_eq!(
        cache
            .increment(&ns, "counter", LONG_TTL)
            .await
            .expect("increment"),
        1,
        "a deleted counter starts again from 1"
    );
}

async fn publish_subscribe(cache: &dyn Cache) {
    let channel = unique_id("channel");
    let other_channel = unique_id("channel-other");

    cache
        .publish(&channel, "nobody listens")
        .await
        .expect("publishing to a channel without subscribers is not an error");

    let mut first = cache.subscribe(&channel).await.expect("subscribe");
    let mut second = cache.subscribe(&channel).await.expect("subscribe");
    cache
        .publish(&other_channel, "elsewhere")
        .await
        .expect("publish");
    for message in ["one", "two", "three"] {
        cache.publish(&channel, message).await.expect("publish");
    }
    for subscriber in [&mut first, &mut second] {
        for expected in ["one", "two", "three"] {
            assert_eq!(
                next_message(subscriber).await,
                expected,
                "every subscriber receives every message of its channel, in order, and nothing \
                 published before it subscribed or on another channel"
            );
        }
    }

    // A subscriber that leaves does not disturb the one that stays.
    drop(first);
    cache.publish(&channel, "four").await.expect("publish");
    assert_eq!(next_message(&mut second).await, "four");
}

/// The next message on `subscription`, panicking if none arrives in time or the stream ends.
async fn next_message(subscription: &mut Subscription) -> String {
    match tokio::time::timeout(DELIVERY_TIMEOUT, subscription.next()).await {
        Ok(Some(message)) => message,
        Ok(None) => panic!("the subscription ended while the subscriber still held it"),
        Err(_) => panic!("a published message was not delivered within {DELIVERY_TIMEOUT:?}"),
    }
}

/// Checks the time-to-live rules of [`Cache`]: an entry is visible until its TTL and invisible
/// after it for `get`, `take` and `put_if_absent` (which then stores again); `put` resets the
/// TTL; a counter expires `ttl` after its creation, later increments do not extend it, and an
/// expired counter restarts from 1.
///
/// `advance` makes time pass by the given amount: for a cache on an injected clock, move the
/// clock (`ManualClock::advance`) and return a ready future; for a cache on real time (Redis),
/// sleep. The suite uses a 1 s TTL and lets about 1.7 s pass in total, with at least 200 ms
/// between any check and the expiry it tests, so real-time implementations pass reliably.
///
/// # Panics
///
/// On the first violation, naming the rule broken.
pub async fn cache_expiry_contract<F, Fut>(cache: &dyn Cache, advance: F)
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    const TTL: Duration = Duration::from_secs(1);
    let ns = unique_id("ns");
    let put = |key: &'static str, value: &'static [u8], ttl: Duration| {
        let ns = ns.clone();
        async move {
            cache.put(&ns, key, value.to_vec(), ttl).await.expect("put");
        }
    };

    // t = 0
    put("plain", b"plain", TTL).await;
    put("long", b"long", LONG_TTL).await;
    put("to-take", b"to-take", TTL).await;
    put("reput", b"reput-1", TTL).await;
    assert!(
        cache
            .put_if_absent(&ns, "replay", b"old".to_vec(), TTL)
            .await
            .expect("put_if_absent")
    );
    assert_eq!(
        cache
            .increment(&ns, "counter", TTL)
            .await
            .expect("increment"),
        1
    );

    advance(Duration::from_millis(500)).await;
    // t = 0.5 s: nothing has expired yet.
    assert_eq!(
        cache.get(&ns, "plain").await.expect("get"),
        Some(b"plain".to_vec()),
        "an entry must be visible before its TTL"
    );
    assert!(
        !cache
            .put_if_absent(&ns, "replay", b"new".to_vec(), TTL)
            .await
            .expect("put_if_absent"),
        "put_if_absent must refuse while the entry lives"
    );
    put("reput", b"reput-2", TTL).await;
    assert_eq!(
        cache
            .increment(&ns, "counter", TTL)
            .await
            .expect("increment"),
        2
    );

    advance(Duration::from_millis(700)).await;
    // t = 1.2 s: every 1 s entry written at t = 0 is gone.
    assert_eq!(
        cache.get(&ns, "plain").await.expect("get"),
        None,
        "get must not see an entry past its TTL"
    );
    assert_eq!(
        cache.take(&ns, "to-take").await.expect("take"),
        None,
        "take must not return an entry past its TTL"
    );
    assert!(
        cache
            .put_if_absent(&ns, "replay", b"new".to_vec(), TTL)
            .await
            .expect("put_if_absent"),
        "put_if_absent must store again once the entry has expired"
    );
    assert_eq!(
        cache.get(&ns, "replay").await.expect("get"),
        Some(b"new".to_vec())
    );
    assert_eq!(
        cache
            .increment(&ns, "counter", TTL)
            .await
            .expect("increment"),
        1,
        "a counter expires ttl after its creation (increments do not extend it) and then \
         restarts from 1"
    );
    assert_eq!(
        cache.get(&ns, "reput").await.expect("get"),
        Some(b"reput-2".to_vec()),
        "put must reset the TTL"
    );
    assert_eq!(
        cache.get(&ns, "long").await.expect("get"),
        Some(b"long".to_vec()),
        "an entry with a longer TTL must outlive the short ones"
    );

    advance(Duration::from_millis(500)).await;
    // t = 1.7 s: the entry re-put at t = 0.5 s is gone; the one stored at t = 1.2 s lives.
    assert_eq!(
        cache.get(&ns, "reput").await.expect("get"),
        None,
        "a re-put entry must expire TTL after the last put"
    );
    assert_eq!(
        cache.get(&ns, "replay").await.expect("get"),
        Some(b"new".to_vec()),
        "an entry stored again after expiry gets a fresh TTL"
    );
    assert_eq!(
        cache
            .increment(&ns, "counter", TTL)
            .await
            .expect("increment"),
        2,
        "a restarted counter keeps counting within its new TTL"
    );
}
