//! Decorators that measure the identity system and count flow-cache failures without the
//! domain knowing: the binary wraps the configured backends in them when metrics are on.
//!
//! Every method of the wrapped traits is forwarded explicitly (none falls back to a trait
//! default), so a decorated backend behaves exactly as the bare one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use esignet_spi::{
    Authenticator, BatchOutcome, Cache, CacheError, CacheStep, KycAuthRequest, KycAuthResult,
    KycExchangeRequest, KycExchangeResult, PluginError, SendOtpRequest, SendOtpResult,
    SigningCertificate, Subscription,
};

use crate::Metrics;

/// An [`Authenticator`] whose every call is timed into
/// `esignet_identity_system_duration_seconds`.
pub struct MeteredAuthenticator {
    inner: Arc<dyn Authenticator>,
    metrics: Arc<Metrics>,
}

impl MeteredAuthenticator {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Authenticator>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn record<T>(
        &self,
        operation: &'static str,
        started: Instant,
        result: &Result<T, PluginError>,
    ) {
        self.metrics
            .identity_system_call(operation, result.is_ok(), started.elapsed());
    }
}

#[async_trait]
impl Authenticator for MeteredAuthenticator {
    async fn send_otp(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: SendOtpRequest,
    ) -> Result<SendOtpResult, PluginError> {
        let started = Instant::now();
        let result = self
            .inner
            .send_otp(relying_party_id, client_id, request)
            .await;
        self.record("send_otp", started, &result);
        result
    }

    fn is_supported_otp_channel(&self, channel: &str) -> bool {
        self.inner.is_supported_otp_channel(channel)
    }

    async fn kyc_auth(
        &self,
        relying_party_id: &str,
        client_id: &str,
        claims_metadata_required: bool,
        request: KycAuthRequest,
    ) -> Result<KycAuthResult, PluginError> {
        let started = Instant::now();
        let result = self
            .inner
            .kyc_auth(
                relying_party_id,
                client_id,
                claims_metadata_required,
                request,
            )
            .await;
        self.record("kyc_auth", started, &result);
        result
    }

    async fn kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        let started = Instant::now();
        let result = self
            .inner
            .kyc_exchange(relying_party_id, client_id, request)
            .await;
        self.record("kyc_exchange", started, &result);
        result
    }

    async fn verified_kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        let started = Instant::now();
        let result = self
            .inner
            .verified_kyc_exchange(relying_party_id, client_id, request)
            .await;
        self.record("verified_kyc_exchange", started, &result);
        result
    }

    async fn kyc_signing_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        let started = Instant::now();
        let result = self.inner.kyc_signing_certificates().await;
        self.record("kyc_signing_certificates", started, &result);
        result
    }

    async fn claims_metadata(
        &self,
        relying_party_id: &str,
        client_id: &str,
        individual_id: &str,
        claims: &[String],
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, PluginError> {
        let started = Instant::now();
        let result = self
            .inner
            .claims_metadata(relying_party_id, client_id, individual_id, claims)
            .await;
        self.record("claims_metadata", started, &result);
        result
    }
}

/// A [`Cache`] whose calls are counted in `esignet_dependency_calls_total{dependency="cache"}`
/// and its failures in `esignet_dependency_errors_total`.
pub struct MeteredCache {
    inner: Arc<dyn Cache>,
    metrics: Arc<Metrics>,
}

impl MeteredCache {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Cache>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn check<T>(
        &self,
        operation: &'static str,
        result: Result<T, CacheError>,
    ) -> Result<T, CacheError> {
        self.metrics.count_call("cache", operation, result)
    }
}

#[async_trait]
impl Cache for MeteredCache {
    async fn put(
        &self,
        namespace: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let result = self.inner.put(namespace, key, value, ttl).await;
        self.check("put", result)
    }

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let result = self.inner.get(namespace, key).await;
        self.check("get", result)
    }

    async fn take(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let result = self.inner.take(namespace, key).await;
        self.check("take", result)
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<(), CacheError> {
        let result = self.inner.delete(namespace, key).await;
        self.check("delete", result)
    }

    async fn put_if_absent(
        &self,
        namespace: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let result = self.inner.put_if_absent(namespace, key, value, ttl).await;
        self.check("put_if_absent", result)
    }

    async fn increment(
        &self,
        namespace: &str,
        key: &str,
        ttl: Duration,
    ) -> Result<u64, CacheError> {
        let result = self.inner.increment(namespace, key, ttl).await;
        self.check("increment", result)
    }

    async fn batch(&self, steps: Vec<CacheStep>) -> Result<BatchOutcome, CacheError> {
        let result = self.inner.batch(steps).await;
        self.check("batch", result)
    }

    async fn publish(&self, channel: &str, message: &str) -> Result<(), CacheError> {
        let result = self.inner.publish(channel, message).await;
        self.check("publish", result)
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, CacheError> {
        let result = self.inner.subscribe(channel).await;
        self.check("subscribe", result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esignet_spi::{Clock, ManualClock};

    /// A cache that is down: every call fails as a real backend's outage does.
    struct DownCache;

    #[async_trait]
    impl Cache for DownCache {
        async fn put(&self, _: &str, _: &str, _: Vec<u8>, _: Duration) -> Result<(), CacheError> {
            Err(CacheError::Unavailable("down".into()))
        }
        async fn get(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, CacheError> {
            Err(CacheError::Unavailable("down".into()))
        }
        async fn take(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, CacheError> {
            Err(CacheError::Unavailable("down".into()))
        }
        async fn delete(&self, _: &str, _: &str) -> Result<(), CacheError> {
            Err(CacheError::Unavailable("down".into()))
        }
        async fn put_if_absent(
            &self,
            _: &str,
            _: &str,
            _: Vec<u8>,
            _: Duration,
        ) -> Result<bool, CacheError> {
            Err(CacheError::Unavailable("down".into()))
        }
        async fn increment(&self, _: &str, _: &str, _: Duration) -> Result<u64, CacheError> {
            Err(CacheError::Unavailable("down".into()))
        }
        async fn publish(&self, _: &str, _: &str) -> Result<(), CacheError> {
            Err(CacheError::Unavailable("down".into()))
        }
        async fn subscribe(&self, _: &str) -> Result<Subscription, CacheError> {
            Err(CacheError::Unavailable("down".into()))
        }
    }

    #[tokio::test]
    async fn a_working_cache_behaves_as_the_bare_one_and_counts_nothing() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(time::OffsetDateTime::UNIX_EPOCH));
        let metrics = Metrics::shared();
        let cache = MeteredCache::new(
            esignet_cache_memory::MemoryCache::new(clock),
            metrics.clone(),
        );
        cache
            .put("ns", "k", b"v".to_vec(), Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(cache.take("ns", "k").await.unwrap(), Some(b"v".to_vec()));
        assert_eq!(
            cache.take("ns", "k").await.unwrap(),
            None,
            "take stays single-use"
        );
        assert!(
            cache
                .put_if_absent("ns", "j", vec![], Duration::from_secs(60))
                .await
                .unwrap()
        );
        assert!(
            !cache
                .put_if_absent("ns", "j", vec![], Duration::from_secs(60))
                .await
                .unwrap()
        );
        assert_eq!(
            cache
                .increment("ns", "c", Duration::from_secs(60))
                .await
                .unwrap(),
            1
        );
        let text = metrics.render();
        assert!(!text.contains("esignet_dependency_errors_total{"), "{text}");
        for (operation, calls) in [("put_if_absent", 2), ("increment", 1)] {
            let line = format!(
                r#"esignet_dependency_calls_total{{dependency="cache",operation="{operation}"}} {calls}"#
            );
            assert!(text.contains(&line), "{line} missing from {text}");
        }
    }

    #[tokio::test]
    async fn failures_pass_through_and_are_counted_per_operation() {
        let metrics = Metrics::shared();
        let cache = MeteredCache::new(Arc::new(DownCache), metrics.clone());
        assert!(cache.get("ns", "k").await.is_err());
        assert!(cache.get("ns", "k").await.is_err());
        assert!(cache.publish("channel", "m").await.is_err());
        let text = metrics.render();
        assert!(
            text.contains(
                r#"esignet_dependency_errors_total{dependency="cache",operation="get"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"esignet_dependency_errors_total{dependency="cache",operation="publish"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"esignet_dependency_calls_total{dependency="cache",operation="get"} 2"#
            ),
            "failed calls are calls too: {text}"
        );
    }
}
