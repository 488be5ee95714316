//! Registered clients are read on almost every request (oauth-details, PAR, token, userinfo):
//! this decorator keeps them in the instance's memory, so a login costs no database read and no
//! cache round trip for its client, and no JSON decoding of its record either.
//!
//! Invalidation goes through the flow cache's publish/subscribe: a write goes to the store
//! first, then evicts the local entry and publishes the client id on [`CHANNEL`]; every instance
//! (this one included) evicts it on receipt. Entries are only kept while the subscription is
//! up, and each lives at most `ttl`: that bounds how stale a client can be on an instance that
//! missed an eviction (a Redis connection lost and restored in between).
//!
//! A read that races an eviction must not put the old record back: every eviction bumps a
//! generation, and a read keeps what it fetched only if no eviction happened meanwhile.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use esignet_spi::{Cache, ClientRecord, ClientStore, Clock, StoreError};
use futures::StreamExt;
use time::OffsetDateTime;

/// The channel carrying the ids of changed clients.
pub const CHANNEL: &str = "clientdetails-evict";

/// The wait before subscribing again when the cache refused a subscription.
const RESUBSCRIBE_DELAY: Duration = Duration::from_secs(1);

/// A [`ClientStore`] that reads through an in-memory copy invalidated over pub/sub.
pub struct CachedClientStore {
    inner: Arc<dyn ClientStore>,
    cache: Arc<dyn Cache>,
    local: Arc<LocalClients>,
    listener: tokio::task::JoinHandle<()>,
}

/// This instance's copies.
struct LocalClients {
    entries: RwLock<HashMap<String, Entry>>,
    /// Bumped by every eviction (and every (re)subscription): fills that started before are
    /// dropped.
    generation: AtomicU64,
    /// Whether evictions are being received; without them nothing is kept.
    listening: AtomicBool,
    clock: Arc<dyn Clock>,
    ttl: time::Duration,
}

struct Entry {
    client: ClientRecord,
    expires_at: OffsetDateTime,
}

impl LocalClients {
    fn fresh(&self, client_id: &str) -> Option<ClientRecord> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(client_id)?;
        (entry.expires_at > self.clock.now()).then(|| entry.client.clone())
    }

    fn keep(&self, client: &ClientRecord, generation: u64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the write lock: an eviction bumps the generation before it takes the
        // lock, so it either sees this entry (and removes it) or this check sees its bump.
        if !self.listening.load(Ordering::Acquire)
            || self.generation.load(Ordering::Acquire) != generation
        {
            return;
        }
        entries.insert(
            client.client_id.clone(),
            Entry {
                client: client.clone(),
                expires_at: self.clock.now() + self.ttl,
            },
        );
    }

    fn evict(&self, client_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(client_id);
    }

    fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl CachedClientStore {
    /// Caches `inner`'s clients in memory for at most `ttl`, evicting them on the messages
    /// `cache` delivers on [`CHANNEL`]. Must be called inside a Tokio runtime (the listener is
    /// a task, stopped when this is dropped).
    pub fn new(
        inner: Arc<dyn ClientStore>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
        ttl: Duration,
    ) -> Self {
        let local = Arc::new(LocalClients {
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            clock,
            ttl: time::Duration::try_from(ttl).unwrap_or(time::Duration::MINUTE),
        });
        let listener = tokio::spawn(listen(cache.clone(), local.clone()));
        Self {
            inner,
            cache,
            local,
            listener,
        }
    }

    /// Whether evictions are being received (and clients therefore kept in memory).
    pub fn is_listening(&self) -> bool {
        self.local.listening.load(Ordering::Acquire)
    }

    /// Evicts everywhere after a write.
    async fn evicted(&self, client_id: &str) {
        self.local.evict(client_id);
        if let Err(error) = self.cache.publish(CHANNEL, client_id).await {
            // The other instances drop their copy within the TTL.
            tracing::warn!(%error, "could not publish a client eviction");
        }
    }
}

impl Drop for CachedClientStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Receives evictions for as long as the store lives, subscribing again whenever the cache
/// refuses or ends the subscription. Copies are dropped whenever evictions may have been missed.
async fn listen(cache: Arc<dyn Cache>, local: Arc<LocalClients>) {
    loop {
        match cache.subscribe(CHANNEL).await {
            Ok(mut evictions) => {
                // Evictions published before now were not received: start empty.
                local.clear();
                local.listening.store(true, Ordering::Release);
                while let Some(client_id) = evictions.next().await {
                    local.evict(&client_id);
                }
                local.listening.store(false, Ordering::Release);
                local.clear();
            }
            Err(error) => {
                tracing::warn!(%error, "client evictions unavailable; reading clients from the store");
            }
        }
        tokio::time::sleep(RESUBSCRIBE_DELAY).await;
    }
}

#[async_trait::async_trait]
impl ClientStore for CachedClientStore {
    async fn get_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        if let Some(client) = self.local.fresh(client_id) {
            return Ok(Some(client));
        }
        let generation = self.local.generation.load(Ordering::Acquire);
        let client = self.inner.get_client(client_id).await?;
        if let Some(client) = &client {
            self.local.keep(client, generation);
        }
        Ok(client)
    }

    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        self.inner.insert_client(client).await?;
        self.evicted(&client.client_id).await;
        Ok(())
    }

    async fn update_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        self.inner.update_client(client).await?;
        self.evicted(&client.client_id).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    use esignet_cache_memory::MemoryCache;
    use esignet_spi::{CacheError, ClientStatus, ManualClock, Subscription};
    use serde_json::{Map, json};

    use super::*;

    /// A store shared by the "instances" of a test, counting its reads.
    #[derive(Default)]
    struct CountingStore {
        clients: Mutex<HashMap<String, ClientRecord>>,
        reads: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl ClientStore for CountingStore {
        async fn get_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.clients.lock().unwrap().get(client_id).cloned())
        }
        async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
            self.clients
                .lock()
                .unwrap()
                .insert(client.client_id.clone(), client.clone());
            Ok(())
        }
        async fn update_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
            self.insert_client(client).await
        }
    }

    fn client(name: &str) -> ClientRecord {
        ClientRecord {
            client_id: "portal".into(),
            name: Map::from_iter([("@none".to_owned(), json!(name))]),
            relying_party_id: "rp".into(),
            logo_uri: "https://rp.example/logo.png".into(),
            redirect_uris: vec!["https://rp.example/cb".into()],
            claims: vec!["name".into()],
            acr_values: vec!["mosip:idp:acr:generated-code".into()],
            public_key: json!({"kty": "RSA"}),
            public_key_hash: "hash".into(),
            enc_public_key: None,
            grant_types: vec!["authorization_code".into()],
            auth_methods: vec!["private_key_jwt".into()],
            status: ClientStatus::Active,
            additional_config: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: None,
        }
    }

    async fn until_listening(store: &CachedClientStore) {
        for _ in 0..200 {
            if store.is_listening() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the eviction listener never subscribed");
    }

    fn name(client: &ClientRecord) -> &str {
        client.name["@none"].as_str().unwrap()
    }

    #[tokio::test]
    async fn reads_are_served_from_memory_and_writes_on_another_instance_evict_them() {
        let clock = Arc::new(ManualClock::new(OffsetDateTime::UNIX_EPOCH));
        let shared_cache: Arc<dyn Cache> = MemoryCache::new(clock.clone());
        let database = Arc::new(CountingStore::default());
        let first = CachedClientStore::new(
            database.clone(),
            shared_cache.clone(),
            clock.clone(),
            Duration::from_secs(60),
        );
        let second = CachedClientStore::new(
            database.clone(),
            shared_cache,
            clock.clone(),
            Duration::from_secs(60),
        );
        until_listening(&first).await;
        until_listening(&second).await;
        first.insert_client(&client("Portal")).await.unwrap();
        for _ in 0..5 {
            let read = second.get_client("portal").await.unwrap().unwrap();
            assert_eq!(name(&read), "Portal");
        }
        assert_eq!(
            database.reads.load(Ordering::SeqCst),
            1,
            "one store read, then memory"
        );

        first
            .update_client(&client("Renamed portal"))
            .await
            .unwrap();
        // The eviction travels through the cache's pub/sub to the other instance.
        let mut seen = String::new();
        for _ in 0..200 {
            seen = name(&second.get_client("portal").await.unwrap().unwrap()).to_owned();
            if seen == "Renamed portal" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(seen, "Renamed portal");
        assert_eq!(
            name(&first.get_client("portal").await.unwrap().unwrap()),
            "Renamed portal"
        );
    }

    #[tokio::test]
    async fn an_entry_lives_at_most_its_ttl() {
        let clock = Arc::new(ManualClock::new(OffsetDateTime::UNIX_EPOCH));
        let database = Arc::new(CountingStore::default());
        database.insert_client(&client("Portal")).await.unwrap();
        let store = CachedClientStore::new(
            database.clone(),
            MemoryCache::new(clock.clone()),
            clock.clone(),
            Duration::from_secs(60),
        );
        until_listening(&store).await;
        store.get_client("portal").await.unwrap();
        clock.advance(time::Duration::seconds(59));
        store.get_client("portal").await.unwrap();
        assert_eq!(database.reads.load(Ordering::SeqCst), 1);
        clock.advance(time::Duration::seconds(2));
        store.get_client("portal").await.unwrap();
        assert_eq!(
            database.reads.load(Ordering::SeqCst),
            2,
            "expired: read again"
        );
        assert_eq!(store.get_client("absent").await.unwrap(), None);
    }

    /// A cache whose pub/sub is down.
    struct NoPubSub(Arc<dyn Cache>);

    #[async_trait::async_trait]
    impl Cache for NoPubSub {
        async fn put(&self, n: &str, k: &str, v: Vec<u8>, t: Duration) -> Result<(), CacheError> {
            self.0.put(n, k, v, t).await
        }
        async fn get(&self, n: &str, k: &str) -> Result<Option<Vec<u8>>, CacheError> {
            self.0.get(n, k).await
        }
        async fn take(&self, n: &str, k: &str) -> Result<Option<Vec<u8>>, CacheError> {
            self.0.take(n, k).await
        }
        async fn delete(&self, n: &str, k: &str) -> Result<(), CacheError> {
            self.0.delete(n, k).await
        }
        async fn put_if_absent(
            &self,
            n: &str,
            k: &str,
            v: Vec<u8>,
            t: Duration,
        ) -> Result<bool, CacheError> {
            self.0.put_if_absent(n, k, v, t).await
        }
        async fn increment(&self, n: &str, k: &str, t: Duration) -> Result<u64, CacheError> {
            self.0.increment(n, k, t).await
        }
        async fn publish(&self, _: &str, _: &str) -> Result<(), CacheError> {
            Err(CacheError::Unavailable("down".into()))
        }
        async fn subscribe(&self, _: &str) -> Result<Subscription, CacheError> {
            Err(CacheError::Unavailable("down".into()))
        }
    }

    #[tokio::test]
    async fn without_evictions_every_read_goes_to_the_store() {
        let clock = Arc::new(ManualClock::new(OffsetDateTime::UNIX_EPOCH));
        let database = Arc::new(CountingStore::default());
        let store = CachedClientStore::new(
            database.clone(),
            Arc::new(NoPubSub(MemoryCache::new(clock.clone()))),
            clock,
            Duration::from_secs(60),
        );
        store.insert_client(&client("Portal")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!store.is_listening());
        for _ in 0..3 {
            assert_eq!(
                name(&store.get_client("portal").await.unwrap().unwrap()),
                "Portal"
            );
        }
        assert_eq!(database.reads.load(Ordering::SeqCst), 3);
    }
}
