//! Redis-specific behaviour: the key layout, timeouts, and what happens when Redis goes away
//! and comes back (on private `redis-server` processes, never the shared server).

mod support;

use std::time::{Duration, Instant};

use esignet_cache_redis::{RedisCache, RedisOptions};
use esignet_spi::{Cache, CacheError, Subscription};
use futures::StreamExt;
use support::{RedisServer, connect, free_port, raw_connection, redis_url, with_fresh_prefix};

/// The bound the brief sets for a failing call while Redis is down.
const FAIL_FAST: Duration = Duration::from_secs(3);

#[tokio::test]
async fn entries_use_the_esignet_key_layout_with_their_ttl() {
    with_fresh_prefix(|prefix| async move {
        let cache = connect(&redis_url(), &prefix).await;
        cache
            .put(
                "authcodegenerated",
                "code-hash",
                b"txn".to_vec(),
                Duration::from_secs(300),
            )
            .await
            .unwrap();
        cache
            .increment("apiratelimit", "txn-1", Duration::from_millis(1500))
            .await
            .unwrap();
        cache
            .increment("apiratelimit", "txn-1", Duration::from_secs(900))
            .await
            .unwrap();

        let mut raw = raw_connection(&redis_url()).await;
        let key = format!("{prefix}:authcodegenerated::code-hash");
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(value, Some(b"txn".to_vec()));
        let pttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert!((299_000..=300_000).contains(&pttl), "PTTL {pttl}");

        let counter = format!("{prefix}:apiratelimit::txn-1");
        let count: String = redis::cmd("GET")
            .arg(&counter)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(count, "2");
        let pttl: i64 = redis::cmd("PTTL")
            .arg(&counter)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert!(
            (0..=1500).contains(&pttl),
            "the second increment must not extend the counter's TTL: PTTL {pttl}"
        );

        // Channels are `<prefix>:<channel>`: a plain Redis subscriber sees the cache's messages.
        let mut listener = redis::Client::open(redis_url())
            .unwrap()
            .get_async_pubsub()
            .await
            .unwrap();
        listener
            .subscribe(format!("{prefix}:events"))
            .await
            .unwrap();
        cache.publish("events", "hello").await.unwrap();
        let message = tokio::time::timeout(Duration::from_secs(5), listener.on_message().next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(message.get_payload_bytes(), b"hello");
    })
    .await;
}

#[tokio::test]
async fn namespaces_with_a_colon_are_refused() {
    with_fresh_prefix(|prefix| async move {
        let cache = connect(&redis_url(), &prefix).await;
        let ttl = Duration::from_secs(60);
        // ("a:", "x") and ("a", ":x") would otherwise share the key `<prefix>:a:::x`.
        let refused = cache.put("a:", "x", b"1".to_vec(), ttl).await;
        assert!(
            matches!(refused, Err(CacheError::Unavailable(_))),
            "{refused:?}"
        );
        cache.put("a", ":x", b"2".to_vec(), ttl).await.unwrap();
        assert_eq!(cache.get("a", ":x").await.unwrap(), Some(b"2".to_vec()));
    })
    .await;
}

#[tokio::test]
async fn a_closed_port_is_unavailable_at_once() {
    let url = format!("redis://:s3cret-password@127.0.0.1:{}", free_port());
    let started = Instant::now();
    let refused = RedisCache::connect(&url, RedisOptions::default()).await;
    let Err(CacheError::Unavailable(message)) = refused else {
        panic!("nothing listens there, yet got {refused:?}");
    };
    assert!(started.elapsed() < FAIL_FAST, "{:?}", started.elapsed());
    assert!(!message.contains("s3cret-password"), "{message}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_unavailable_within_the_timeouts() {
    // Accepts connections and reads nothing: the handshake never completes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepting = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let options = RedisOptions {
        connect_timeout: Duration::from_millis(500),
        ..RedisOptions::default()
    };
    let started = Instant::now();
    let refused = RedisCache::connect(&format!("redis://127.0.0.1:{port}"), options).await;
    assert!(
        matches!(refused, Err(CacheError::Unavailable(_))),
        "{refused:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    accepting.abort();
}

#[tokio::test]
async fn a_server_without_getdel_is_refused_at_connect() {
    // Redis before 6.2 has no GETDEL; a renamed-away command looks the same to a client.
    let server = RedisServer::start_with(free_port(), &["--rename-command", "GETDEL", ""]).await;
    let refused = RedisCache::connect(&server.url(), RedisOptions::default()).await;
    let Err(CacheError::Unavailable(message)) = refused else {
        panic!("expected Unavailable, got {refused:?}");
    };
    assert!(message.contains("6.2"), "{message}");
}

#[tokio::test]
async fn a_paused_server_is_unavailable_within_the_command_timeout_then_serves_again() {
    let server = RedisServer::start(free_port()).await;
    let options = RedisOptions {
        prefix: "paused".to_owned(),
        command_timeout: Duration::from_millis(500),
        ..RedisOptions::default()
    };
    let cache = RedisCache::connect(&server.url(), options).await.unwrap();
    cache
        .put("ns", "k", b"v".to_vec(), Duration::from_secs(60))
        .await
        .unwrap();

    let mut admin = raw_connection(&server.url()).await;
    redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(2000)
        .arg("ALL")
        .query_async::<()>(&mut admin)
        .await
        .unwrap();
    let started = Instant::now();
    let stalled = cache.get("ns", "k").await;
    assert!(
        matches!(stalled, Err(CacheError::Unavailable(_))),
        "{stalled:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );

    // Once the pause ends the same connection answers again.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(cache.get("ns", "k").await.unwrap(), Some(b"v".to_vec()));
}

/// Every operation fails with `Unavailable` within [`FAIL_FAST`].
async fn assert_every_operation_fails_fast(cache: &RedisCache, round: usize) {
    let ttl = Duration::from_secs(60);
    macro_rules! fails_fast {
        ($name:literal, $call:expr) => {{
            let started = Instant::now();
            let outcome = $call.await;
            let elapsed = started.elapsed();
            assert!(
                matches!(outcome, Err(CacheError::Unavailable(_))),
                "round {round}, {}: expected Unavailable, got {:?}",
                $name,
                outcome.map(|_| ())
            );
            assert!(
                elapsed < FAIL_FAST,
                "round {round}, {}: took {elapsed:?}",
                $name
            );
        }};
    }
    fails_fast!("put", cache.put("ns", "k", b"v".to_vec(), ttl));
    fails_fast!("get", cache.get("ns", "k"));
    fails_fast!("take", cache.take("ns", "k"));
    fails_fast!("delete", cache.delete("ns", "k"));
    fails_fast!(
        "put_if_absent",
        cache.put_if_absent("ns", "p", b"v".to_vec(), ttl)
    );
    fails_fast!("increment", cache.increment("ns", "c", ttl));
    fails_fast!("publish", cache.publish("events", "lost"));
    fails_fast!("subscribe", cache.subscribe("events"));
}

/// Publishes `message` until `subscription` receives it (messages published while a
/// subscription reconnects are lost by design), for up to ten seconds.
async fn publish_until_received(
    cache: &RedisCache,
    subscription: &mut Subscription,
    message: &str,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // While the subscription is still reconnecting, the publish reaches no one.
        cache.publish("events", message).await.expect("publish");
        match tokio::time::timeout(Duration::from_millis(200), subscription.next()).await {
            Ok(Some(received)) if received == message => return,
            Ok(Some(other)) => panic!("unexpected message {other:?}"),
            Ok(None) => panic!("the subscription ended while held"),
            Err(_) => {}
        }
        assert!(
            Instant::now() < deadline,
            "the subscription never came back"
        );
    }
}

#[tokio::test]
async fn redis_going_away_fails_fast_and_the_same_cache_recovers_when_it_is_back() {
    let port = free_port();
    let mut server = RedisServer::start(port).await;
    let cache = RedisCache::connect(&server.url(), RedisOptions::default())
        .await
        .unwrap();
    let ttl = Duration::from_secs(60);
    cache.put("ns", "before", b"v".to_vec(), ttl).await.unwrap();
    assert_eq!(cache.increment("ns", "c", ttl).await.unwrap(), 1);
    let mut subscription = cache.subscribe("events").await.unwrap();
    publish_until_received(&cache, &mut subscription, "up").await;

    server.kill();
    for round in 0..2 {
        assert_every_operation_fails_fast(&cache, round).await;
    }

    // Back on the same port (empty: it keeps nothing on disk). The first call succeeds.
    let _server = RedisServer::start(port).await;
    assert_eq!(cache.get("ns", "before").await.unwrap(), None);
    cache.put("ns", "after", b"w".to_vec(), ttl).await.unwrap();
    assert_eq!(
        cache.take("ns", "after").await.unwrap(),
        Some(b"w".to_vec())
    );
    assert!(
        cache
            .put_if_absent("ns", "p", b"v".to_vec(), ttl)
            .await
            .unwrap()
    );
    // The restarted server has no cached scripts: the increment script is sent again.
    assert_eq!(cache.increment("ns", "c", ttl).await.unwrap(), 1);
    assert_eq!(cache.increment("ns", "c", ttl).await.unwrap(), 2);

    // The subscription taken before the outage subscribes again by itself, and delivers in
    // order from then on.
    publish_until_received(&cache, &mut subscription, "back").await;
    for message in ["one", "two", "three"] {
        cache.publish("events", message).await.unwrap();
    }
    for expected in ["one", "two", "three"] {
        let received = tokio::time::timeout(Duration::from_secs(5), subscription.next())
            .await
            .expect("delivered in time");
        assert_eq!(received.as_deref(), Some(expected));
    }
    // And new subscriptions work.
    let mut fresh = cache.subscribe("events").await.unwrap();
    cache.publish("events", "to both").await.unwrap();
    for subscriber in [&mut subscription, &mut fresh] {
        let received = tokio::time::timeout(Duration::from_secs(5), subscriber.next())
            .await
            .expect("delivered in time");
        assert_eq!(received.as_deref(), Some("to both"));
    }
}
