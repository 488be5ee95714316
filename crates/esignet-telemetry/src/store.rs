//! [`MeteredStore`]: the durable store with its calls counted in
//! `esignet_dependency_calls_total{dependency="store"}` and its failures in
//! `esignet_dependency_errors_total`. Every method is forwarded as is.

use std::sync::Arc;

use async_trait::async_trait;
use esignet_spi::{
    BindingStore, ClientRecord, ClientStore, ConsentRecord, ConsentStore, KeyBindingRecord,
    KeyRecord, KeyStore, StoreError,
};

use crate::Metrics;

/// Wraps a store implementing every store trait (one pool serves them all).
pub struct MeteredStore<S: ?Sized> {
    inner: Arc<S>,
    metrics: Arc<Metrics>,
}

impl<S: ?Sized> MeteredStore<S> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<S>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn check<T>(
        &self,
        operation: &'static str,
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.metrics.count_call("store", operation, result)
    }
}

#[async_trait]
impl<S: ClientStore + ?Sized> ClientStore for MeteredStore<S> {
    async fn get_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let result = self.inner.get_client(client_id).await;
        self.check("get_client", result)
    }

    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        let result = self.inner.insert_client(client).await;
        self.check("insert_client", result)
    }

    async fn update_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        let result = self.inner.update_client(client).await;
        self.check("update_client", result)
    }
}

#[async_trait]
impl<S: ConsentStore + ?Sized> ConsentStore for MeteredStore<S> {
    async fn get_consent(
        &self,
        client_id: &str,
        psu_token: &str,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        let result = self.inner.get_consent(client_id, psu_token).await;
        self.check("get_consent", result)
    }

    async fn save_consent(&self, consent: &ConsentRecord) -> Result<(), StoreError> {
        let result = self.inner.save_consent(consent).await;
        self.check("save_consent", result)
    }

    async fn delete_consent(&self, client_id: &str, psu_token: &str) -> Result<(), StoreError> {
        let result = self.inner.delete_consent(client_id, psu_token).await;
        self.check("delete_consent", result)
    }

    async fn consent_history(
        &self,
        client_id: &str,
        psu_token: &str,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        let result = self.inner.consent_history(client_id, psu_token).await;
        self.check("consent_history", result)
    }
}

#[async_trait]
impl<S: KeyStore + ?Sized> KeyStore for MeteredStore<S> {
    async fn list_keys(&self, application: &str) -> Result<Vec<KeyRecord>, StoreError> {
        let result = self.inner.list_keys(application).await;
        self.check("list_keys", result)
    }

    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let result = self.inner.insert_key(key).await;
        self.check("insert_key", result)
    }
}

#[async_trait]
impl<S: BindingStore + ?Sized> BindingStore for MeteredStore<S> {
    async fn save_binding(&self, binding: &KeyBindingRecord) -> Result<(), StoreError> {
        let result = self.inner.save_binding(binding).await;
        self.check("save_binding", result)
    }

    async fn get_binding(
        &self,
        id_hash: &str,
        auth_factor: &str,
    ) -> Result<Option<KeyBindingRecord>, StoreError> {
        let result = self.inner.get_binding(id_hash, auth_factor).await;
        self.check("get_binding", result)
    }

    async fn find_binding_by_thumbprint(
        &self,
        id_hash: &str,
        thumbprint: &str,
    ) -> Result<Option<KeyBindingRecord>, StoreError> {
        let result = self
            .inner
            .find_binding_by_thumbprint(id_hash, thumbprint)
            .await;
        self.check("find_binding_by_thumbprint", result)
    }
}
