//! The built-in mock identity system's registered identities in the embedded SQLite store:
//! the adapter between `esignet-mock-authenticator`'s records seam and the store's
//! `registered_identity` table (neither crate depends on the other).

use std::sync::Arc;

use async_trait::async_trait;
use esignet_mock_authenticator::IdentityRecords;
use esignet_spi::{Clock, StoreError};
use esignet_store_sqlite::SqliteStore;

/// Registered identities in the SQLite store, timestamped by `clock`.
pub struct SqliteIdentityRecords {
    store: SqliteStore,
    clock: Arc<dyn Clock>,
}

impl SqliteIdentityRecords {
    /// Records in `store` (sharing its pool and writer lock).
    pub fn new(store: SqliteStore, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl IdentityRecords for SqliteIdentityRecords {
    async fn load(&self) -> Result<Vec<String>, StoreError> {
        self.store.registered_identities().await
    }

    async fn insert(&self, individual_id: &str, document: &str) -> Result<(), StoreError> {
        self.store
            .insert_registered_identity(individual_id, document, self.clock.now())
            .await
    }

    async fn save(&self, individual_id: &str, document: &str) -> Result<(), StoreError> {
        self.store
            .save_registered_identity(individual_id, document, self.clock.now())
            .await
    }
}
