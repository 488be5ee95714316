//! The shared cache contract suites, run against Redis under a fresh key prefix per test.

mod support;

use std::time::Duration;

use esignet_spi::Cache;
use futures::StreamExt;
use support::{connect, redis_url, with_fresh_prefix};

#[tokio::test]
async fn redis_passes_the_cache_contract() {
    with_fresh_prefix(|prefix| async move {
        let cache = connect(&redis_url(), &prefix).await;
        esignet_testkit::cache_contract(cache.as_ref()).await;
    })
    .await;
}

#[tokio::test]
async fn redis_passes_the_cache_expiry_contract_in_real_time() {
    with_fresh_prefix(|prefix| async move {
        let cache = connect(&redis_url(), &prefix).await;
        esignet_testkit::cache_expiry_contract(cache.as_ref(), tokio::time::sleep).await;
    })
    .await;
}

#[tokio::test]
async fn the_contract_holds_for_instances_sharing_a_prefix_concurrently() {
    with_fresh_prefix(|prefix| async move {
        let first = connect(&redis_url(), &prefix).await;
        let second = connect(&redis_url(), &prefix).await;
        tokio::join!(
            esignet_testkit::cache_contract(first.as_ref()),
            esignet_testkit::cache_contract(second.as_ref()),
            esignet_testkit::cache_contract(first.as_ref()),
        );
    })
    .await;
}

#[tokio::test]
async fn instances_sharing_a_prefix_share_entries_and_messages() {
    with_fresh_prefix(|prefix| async move {
        let first = connect(&redis_url(), &prefix).await;
        let second = connect(&redis_url(), &prefix).await;
        let ttl = Duration::from_secs(60);

        first
            .put("preauth", "txn", b"flow".to_vec(), ttl)
            .await
            .unwrap();
        assert_eq!(
            second.take("preauth", "txn").await.unwrap(),
            Some(b"flow".to_vec())
        );
        assert_eq!(first.get("preauth", "txn").await.unwrap(), None);
        assert!(
            first
                .put_if_absent("jti", "j1", b"1".to_vec(), ttl)
                .await
                .unwrap()
        );
        assert!(
            !second
                .put_if_absent("jti", "j1", b"1".to_vec(), ttl)
                .await
                .unwrap()
        );
        assert_eq!(first.increment("apiratelimit", "t", ttl).await.unwrap(), 1);
        assert_eq!(second.increment("apiratelimit", "t", ttl).await.unwrap(), 2);

        let mut events = first.subscribe("keys").await.unwrap();
        second.publish("keys", "rotated").await.unwrap();
        let delivered = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("delivered in time");
        assert_eq!(delivered.as_deref(), Some("rotated"));

        // A different prefix is a different cache.
        let other = connect(&redis_url(), &format!("{prefix}-other")).await;
        assert_eq!(other.get("jti", "j1").await.unwrap(), None);
        support::delete_prefix(&redis_url(), &format!("{prefix}-other")).await;
    })
    .await;
}
