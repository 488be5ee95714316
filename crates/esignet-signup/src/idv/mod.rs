//! Identity verification (video eKYC, companions 3.3 and 3.5): initiate, the verifier's
//! workflow, a slot, the live steps over a STOMP WebSocket and the status that writes the
//! verified claims to the registry and reports to the provider's halted login.
//!
//! Every piece of state is in the cache seam, and a verifier's results travel over the
//! cache's publish/subscribe, so the WebSocket may be held by any instance.

pub mod catalogue;
pub mod grant;
mod handlers;
pub mod mock_verifier;
pub mod transaction;
pub mod verifier;
mod ws;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::envelope::SignupError;
use crate::registration::Service;
use catalogue::Catalogue;
use grant::GrantClient;
use verifier::{IdentityVerifier, ResultPublisher, VerificationStatus};

pub(crate) use handlers::{initiate, slot, status, verifier_workflow};
pub(crate) use ws::websocket;

/// Tells the provider how the verification of a halted login went (eSignet's signup writes
/// into eSignet's halted transaction directly; here the provider offers it as a seam).
#[async_trait]
pub trait VerificationReporter: Send + Sync {
    /// Records `status` (and `error_code`) on the halted login `halted_transaction_id`.
    async fn report(
        &self,
        halted_transaction_id: &str,
        status: VerificationStatus,
        error_code: Option<&str>,
    ) -> Result<(), SignupError>;
}

/// What identity verification runs on.
#[derive(Clone)]
pub struct IdvDeps {
    /// The verifiers offered.
    pub catalogue: Catalogue,
    /// Their implementations, by id.
    pub verifiers: Vec<Arc<dyn IdentityVerifier>>,
    /// The signup service's OAuth client at the provider.
    pub grant: Arc<GrantClient>,
    /// The provider's halted logins.
    pub reporter: Arc<dyn VerificationReporter>,
}

/// The identity-verification state shared by its handlers.
pub(crate) struct IdvService {
    pub(crate) base: Arc<Service>,
    pub(crate) catalogue: Catalogue,
    pub(crate) verifiers: HashMap<String, Arc<dyn IdentityVerifier>>,
    pub(crate) grant: Arc<GrantClient>,
    pub(crate) reporter: Arc<dyn VerificationReporter>,
    pub(crate) publisher: ResultPublisher,
}

impl IdvService {
    pub(crate) fn new(base: Arc<Service>, deps: IdvDeps) -> anyhow::Result<Self> {
        let verifiers: HashMap<String, Arc<dyn IdentityVerifier>> = deps
            .verifiers
            .into_iter()
            .map(|verifier| (verifier.id().to_owned(), verifier))
            .collect();
        if let Some(missing) = deps
            .catalogue
            .active_ids()
            .find(|id| !verifiers.contains_key(*id))
        {
            anyhow::bail!("the active identity verifier {missing} has no implementation");
        }
        Ok(Self {
            publisher: ResultPublisher::new(base.deps.cache.clone()),
            base,
            catalogue: deps.catalogue,
            verifiers,
            grant: deps.grant,
            reporter: deps.reporter,
        })
    }

    fn settings(&self) -> &esignet_config::SignupSettings {
        &self.base.config.settings
    }

    /// How long a connected verification lives: the verifier's `processDuration` when it
    /// declares one, else `verified_slot_ttl`.
    fn verification_ttl(&self, verifier_id: Option<&str>) -> Duration {
        verifier_id
            .and_then(|id| self.catalogue.process_duration(id))
            .map(Duration::from_secs)
            .unwrap_or(self.settings().verified_slot_ttl)
    }
}
