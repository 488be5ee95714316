//! Registered clients are read on almost every request (oauth-details, PAR, token): this
//! decorator keeps them in the flow cache (eSignet's `clientdetails` cache), so a login costs no
//! database read for its client. Writes go to the store first and then evict the cached entry;
//! with a shared cache (Redis) every instance sees the eviction.

use std::sync::Arc;
use std::time::Duration;

use esignet_spi::{Cache, ClientRecord, ClientStore, StoreError};

const NAMESPACE: &str = "clientdetails";

/// A [`ClientStore`] that reads through the cache.
pub struct CachedClientStore {
    inner: Arc<dyn ClientStore>,
    cache: Arc<dyn Cache>,
    ttl: Duration,
}

impl CachedClientStore {
    /// Caches `inner`'s clients in `cache` for `ttl` (an upper bound on how stale a client can
    /// be if an eviction is lost, e.g. while the cache is down).
    pub fn new(inner: Arc<dyn ClientStore>, cache: Arc<dyn Cache>, ttl: Duration) -> Self {
        Self { inner, cache, ttl }
    }

    async fn evict(&self, client_id: &str) {
        if let Err(error) = self.cache.delete(NAMESPACE, client_id).await {
            // The entry expires by itself within the TTL.
            tracing::warn!(%error, "could not evict a cached client");
        }
    }
}

#[async_trait::async_trait]
impl ClientStore for CachedClientStore {
    async fn get_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        // A cache outage must not hide the store: fall through to it.
        if let Ok(Some(bytes)) = self.cache.get(NAMESPACE, client_id).await
            && let Ok(client) = serde_json::from_slice::<ClientRecord>(&bytes)
        {
            return Ok(Some(client));
        }
        let client = self.inner.get_client(client_id).await?;
        if let Some(client) = &client
            && let Ok(bytes) = serde_json::to_vec(client)
        {
            let _ = self.cache.put(NAMESPACE, client_id, bytes, self.ttl).await;
        }
        Ok(client)
    }

    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        self.inner.insert_client(client).await?;
        self.evict(&client.client_id).await;
        Ok(())
    }

    async fn update_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        self.inner.update_client(client).await?;
        self.evict(&client.client_id).await;
        Ok(())
    }
}
