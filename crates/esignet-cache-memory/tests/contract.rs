//! The shared cache contract suites, run against `MemoryCache` on a manual clock.

use std::sync::Arc;

use esignet_cache_memory::MemoryCache;
use esignet_spi::ManualClock;
use time::macros::datetime;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(datetime!(2025-06-01 12:00:00 UTC)))
}

#[tokio::test]
async fn memory_cache_passes_the_cache_contract() {
    let cache = MemoryCache::new(clock());
    esignet_testkit::cache_contract(cache.as_ref()).await;
}

#[tokio::test]
async fn memory_cache_passes_the_cache_expiry_contract() {
    let clock = clock();
    let cache = MemoryCache::new(clock.clone());
    esignet_testkit::cache_expiry_contract(cache.as_ref(), |elapsed| {
        let elapsed = time::Duration::try_from(elapsed).expect("test durations fit");
        clock.advance(elapsed);
        std::future::ready(())
    })
    .await;
}

#[tokio::test]
async fn the_contracts_pass_run_after_run_under_a_small_capacity_limit() {
    // One run of both suites leaves at most 20 entries behind and removes others along the way
    // (by take, delete and expiry). With room for 32, ten runs, each followed by the expiry of
    // all it left, pass only if every removal gives its room back.
    let clock = clock();
    let cache = MemoryCache::with_capacity_limit(clock.clone(), 32);
    for _ in 0..10 {
        esignet_testkit::cache_contract(cache.as_ref()).await;
        esignet_testkit::cache_expiry_contract(cache.as_ref(), |elapsed| {
            clock.advance(time::Duration::try_from(elapsed).expect("test durations fit"));
            std::future::ready(())
        })
        .await;
        assert!(
            cache.entry_count() <= 20,
            "{} entries left",
            cache.entry_count()
        );
        clock.advance(time::Duration::hours(1));
    }
}
