//! Storage and cache backends chosen by configuration: the embedded SQLite store and in-process
//! cache (one instance), or PostgreSQL and Redis (many stateless instances).

use std::sync::Arc;

use anyhow::Context;
use esignet_cache_memory::MemoryCache;
use esignet_cache_redis::{RedisCache, RedisOptions};
use esignet_config::{CacheKind, Settings, StoreKind};
use esignet_spi::{BindingStore, Cache, ClientStore, Clock, ConsentStore, KeyStore};
use esignet_store_postgres::{PgStoreOptions, PostgresStore};
use esignet_store_sqlite::SqliteStore;

/// Every durable aggregate the service stores, the wallet public key registry included: one
/// store object (one pool) serves them all.
pub trait Store: ClientStore + ConsentStore + KeyStore + BindingStore {}

impl<T: ClientStore + ConsentStore + KeyStore + BindingStore> Store for T {}

/// Opens the configured store, running its migrations (PostgreSQL migrations take an advisory
/// lock, so instances starting together do not race).
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    Ok(open_store_and_sqlite(settings).await?.0)
}

/// As [`open_store`], also returning the SQLite store itself when that is the one in use (the
/// built-in mock identity system keeps registered identities in it, on the same pool).
pub async fn open_store_and_sqlite(
    settings: &Settings,
) -> anyhow::Result<(Arc<dyn Store>, Option<SqliteStore>)> {
    match (settings.store.kind, &settings.store.postgres) {
        (StoreKind::Postgres, Some(postgres)) => {
            let options = PgStoreOptions {
                max_connections: postgres.max_connections,
                acquire_timeout: postgres.acquire_timeout,
                statement_timeout: postgres.statement_timeout,
                schema: postgres.schema.clone(),
            };
            let store = PostgresStore::connect(postgres.url.expose(), options)
                .await
                .context("cannot connect to PostgreSQL")?;
            store
                .migrate()
                .await
                .context("PostgreSQL migrations failed")?;
            Ok((Arc::new(store), None))
        }
        _ => {
            let path = settings.sqlite_path();
            let store = SqliteStore::open(&path)
                .await
                .with_context(|| format!("cannot open the store at {}", path.display()))?;
            Ok((Arc::new(store.clone()), Some(store)))
        }
    }
}

/// Runs the PostgreSQL migrations only (`esignet migrate`); SQLite migrates on open.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    open_store(settings).await.map(|_| ())
}

/// Opens the configured cache. Returns the in-process cache too when that is the one in use,
/// so its sweeper can be started.
pub async fn open_cache(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Arc<dyn Cache>, Option<Arc<MemoryCache>>)> {
    match (settings.cache.kind, &settings.cache.redis) {
        (CacheKind::Redis, Some(redis)) => {
            let options = RedisOptions {
                prefix: redis.prefix.clone(),
                command_timeout: redis.command_timeout,
                ..RedisOptions::default()
            };
            let cache = RedisCache::connect(redis.url.expose(), options)
                .await
                .context("cannot connect to Redis")?;
            Ok((cache, None))
        }
        _ => {
            let cache = MemoryCache::with_capacity_limit(clock, settings.cache.max_entries);
            Ok((cache.clone(), Some(cache)))
        }
    }
}
