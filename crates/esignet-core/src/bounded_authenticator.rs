//! Bounded concurrency towards the identity system: at most `max_in_flight` calls at once,
//! the rest waiting in arrival order for at most `queue_timeout`.
//!
//! An identity system that slows down makes every waiting login hold a connection, its
//! buffers and its request state; without a bound, a burst against a 1 s backend grows the
//! instance's memory with the burst. With it, what the instance holds is bounded by the limit,
//! and a login that cannot get a turn in time fails cleanly with
//! `identity_system_unavailable` instead of piling up.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use esignet_spi::{
    Authenticator, KycAuthRequest, KycAuthResult, KycExchangeRequest, KycExchangeResult,
    PluginError, SendOtpRequest, SendOtpResult, SigningCertificate,
};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Reported when a call waited `queue_timeout` without getting a turn.
pub const IDENTITY_SYSTEM_UNAVAILABLE: &str = "identity_system_unavailable";

/// An [`Authenticator`] whose calls are limited to a number in flight.
pub struct BoundedAuthenticator {
    inner: Arc<dyn Authenticator>,
    turns: Semaphore,
    queue_timeout: Duration,
}

impl BoundedAuthenticator {
    /// Wraps `inner`: at most `max_in_flight` (at least 1) calls at once; a call waits at
    /// most `queue_timeout` for its turn (tokio's semaphore is fair: first come, first served).
    pub fn new(
        inner: Arc<dyn Authenticator>,
        max_in_flight: usize,
        queue_timeout: Duration,
    ) -> Self {
        Self {
            inner,
            turns: Semaphore::new(max_in_flight.clamp(1, Semaphore::MAX_PERMITS)),
            queue_timeout,
        }
    }

    /// Calls free right now (for tests and diagnostics).
    pub fn free_turns(&self) -> usize {
        self.turns.available_permits()
    }

    async fn turn(&self, operation: &'static str) -> Result<SemaphorePermit<'_>, PluginError> {
        match tokio::time::timeout(self.queue_timeout, self.turns.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                tracing::warn!(
                    operation,
                    "identity system call queue full: no turn in time"
                );
                Err(PluginError::new(IDENTITY_SYSTEM_UNAVAILABLE))
            }
        }
    }
}

#[async_trait]
impl Authenticator for BoundedAuthenticator {
    async fn send_otp(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: SendOtpRequest,
    ) -> Result<SendOtpResult, PluginError> {
        let _turn = self.turn("send_otp").await?;
        self.inner
            .send_otp(relying_party_id, client_id, request)
            .await
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
        let _turn = self.turn("kyc_auth").await?;
        self.inner
            .kyc_auth(
                relying_party_id,
                client_id,
                claims_metadata_required,
                request,
            )
            .await
    }

    async fn kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        let _turn = self.turn("kyc_exchange").await?;
        self.inner
            .kyc_exchange(relying_party_id, client_id, request)
            .await
    }

    async fn verified_kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        let _turn = self.turn("verified_kyc_exchange").await?;
        self.inner
            .verified_kyc_exchange(relying_party_id, client_id, request)
            .await
    }

    async fn kyc_signing_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        let _turn = self.turn("kyc_signing_certificates").await?;
        self.inner.kyc_signing_certificates().await
    }

    async fn claims_metadata(
        &self,
        relying_party_id: &str,
        client_id: &str,
        individual_id: &str,
        claims: &[String],
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, PluginError> {
        let _turn = self.turn("claims_metadata").await?;
        self.inner
            .claims_metadata(relying_party_id, client_id, individual_id, claims)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An identity system that answers every send-otp after `delay`.
    struct Slow {
        delay: Duration,
    }

    #[async_trait]
    impl Authenticator for Slow {
        async fn send_otp(
            &self,
            _: &str,
            _: &str,
            _: SendOtpRequest,
        ) -> Result<SendOtpResult, PluginError> {
            tokio::time::sleep(self.delay).await;
            Ok(SendOtpResult {
                transaction_id: "t".into(),
                masked_email: None,
                masked_mobile: None,
            })
        }
        fn is_supported_otp_channel(&self, _: &str) -> bool {
            true
        }
        async fn kyc_auth(
            &self,
            _: &str,
            _: &str,
            _: bool,
            _: KycAuthRequest,
        ) -> Result<KycAuthResult, PluginError> {
            Err(PluginError::new("auth_failed"))
        }
        async fn kyc_exchange(
            &self,
            _: &str,
            _: &str,
            _: KycExchangeRequest,
        ) -> Result<KycExchangeResult, PluginError> {
            Err(PluginError::new("data_exchange_failed"))
        }
        async fn kyc_signing_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
            Ok(Vec::new())
        }
    }

    fn request() -> SendOtpRequest {
        SendOtpRequest {
            transaction_id: "t".into(),
            individual_id: "i".into(),
            otp_channels: vec!["email".into()],
        }
    }

    #[tokio::test(start_paused = true)]
    async fn calls_beyond_the_limit_queue_and_time_out_cleanly() {
        let bounded = Arc::new(BoundedAuthenticator::new(
            Arc::new(Slow {
                delay: Duration::from_secs(1),
            }),
            2,
            Duration::from_millis(500),
        ));
        let mut calls = Vec::new();
        for _ in 0..3 {
            let bounded = bounded.clone();
            calls.push(tokio::spawn(async move {
                bounded.send_otp("rp", "client", request()).await
            }));
        }
        let outcomes: Vec<_> = futures::future::join_all(calls)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 2);
        let refused: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].code, IDENTITY_SYSTEM_UNAVAILABLE);
        assert_eq!(bounded.free_turns(), 2, "every turn is given back");
    }

    #[tokio::test(start_paused = true)]
    async fn a_queued_call_gets_its_turn_when_one_ends_in_time() {
        let bounded = Arc::new(BoundedAuthenticator::new(
            Arc::new(Slow {
                delay: Duration::from_millis(300),
            }),
            1,
            Duration::from_secs(1),
        ));
        let first = tokio::spawn({
            let bounded = bounded.clone();
            async move { bounded.send_otp("rp", "client", request()).await }
        });
        tokio::task::yield_now().await;
        assert_eq!(bounded.free_turns(), 0);
        let second = bounded.send_otp("rp", "client", request()).await;
        assert!(second.is_ok(), "{second:?}");
        assert!(first.await.unwrap().is_ok());
    }
}
