//! The service object the web layer calls: one instance per process, holding the seams.

use std::sync::Arc;
use std::time::Duration;

use esignet_jose::Algorithm;
use esignet_spi::{
    AuditAction, AuditEvent, AuditSink, AuditStatus, Authenticator, ClientRecord, ClientStatus,
    ClientStore, Clock, ConsentStore, TokenSigner,
};
use serde_json::{Map, Value};

use crate::acr::AcrMapping;
use crate::captcha::CaptchaPolicy;
use crate::codes;
use crate::error::{Error, Result};
use crate::transaction::FlowCache;

/// Everything the domain needs to know from configuration, already validated and typed.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Discovery `issuer` and the tokens' `iss`.
    pub issuer: String,
    /// The login page (`<public url>/authorize`).
    pub authorization_endpoint: String,
    /// `/oauth/v2/token`, public URL.
    pub token_endpoint: String,
    /// The deprecated `/oauth/token`, public URL.
    pub token_endpoint_v1: String,
    /// `/oauth/par`, public URL.
    pub par_endpoint: String,
    /// `/oidc/userinfo`, public URL.
    pub userinfo_endpoint: String,
    /// `/oauth/introspect` (RFC 7662), public URL.
    pub introspection_endpoint: String,
    /// `/oauth/revoke` (RFC 7009), public URL.
    pub revocation_endpoint: String,
    /// `/oidc/logout` (RP-Initiated Logout 1.0), public URL.
    pub end_session_endpoint: String,
    /// `/.well-known/jwks.json`, public URL.
    pub jwks_uri: String,
    /// Known OpenID scopes.
    pub openid_scopes: Vec<String>,
    /// Known authorize scopes.
    pub authorize_scopes: Vec<String>,
    /// Claims a client may register.
    pub claims_supported: Vec<String>,
    /// Claims that may be requested inside `verified_claims`.
    pub verified_claims_supported: Vec<String>,
    /// Trust frameworks of verified claims (Identity Assurance `trust_frameworks_supported`).
    pub trust_frameworks_supported: Vec<String>,
    /// Advertised claim locales.
    pub claims_locales_supported: Vec<String>,
    /// Advertised UI locales.
    pub ui_locales_supported: Vec<String>,
    /// Advertised ACR values.
    pub acr_values_supported: Vec<String>,
    /// The ACR → AMR → factor mapping.
    pub acr: AcrMapping,
    /// eSignet 1.8 `fapi2.0` server profile: PAR, DPoP and PKCE for every client.
    pub fapi2_profile: bool,
    /// ID token lifetime.
    pub id_token_lifetime: Duration,
    /// Access token lifetime (and userinfo availability).
    pub access_token_lifetime: Duration,
    /// Authorization code lifetime.
    pub auth_code_lifetime: Duration,
    /// Time to authenticate after oauth-details.
    pub preauth_ttl: Duration,
    /// Time to consent after authentication.
    pub authenticated_ttl: Duration,
    /// Lifetime of a pushed request.
    pub par_ttl: Duration,
    /// How long a used nonce is remembered.
    pub nonce_ttl: Duration,
    /// How long a used `jti` is remembered.
    pub jti_ttl: Duration,
    /// Window of the per-transaction attempt counters.
    pub rate_limit_window: Duration,
    /// How long an individual stays blocked after too many attempts.
    pub block_ttl: Duration,
    /// send-otp calls allowed per transaction.
    pub send_otp_attempts: u64,
    /// authenticate calls allowed per transaction.
    pub authenticate_attempts: u64,
    /// Length of the auth transaction id given to the identity system.
    pub auth_txn_id_length: usize,
    /// Allowed skew of the wrapper's `requestTime`.
    pub request_time_leeway: Duration,
    /// Leeway on client assertion `exp`/`nbf`.
    pub client_assertion_leeway: Duration,
    /// Leeway on DPoP `exp`/`nbf` and future `iat`.
    pub dpop_clock_skew: Duration,
    /// Maximum age of a DPoP proof's `iat`.
    pub dpop_iat_window: Duration,
    /// Lifetime of a DPoP server nonce.
    pub dpop_nonce_ttl: Duration,
    /// Accepted DPoP proof algorithms.
    pub dpop_algs: Vec<Algorithm>,
    /// Accepted client assertion algorithms.
    pub client_assertion_algs: Vec<Algorithm>,
    /// The UI `configs` map returned by oauth-details (without per-transaction entries).
    pub ui_configs: Map<String, Value>,
}

/// The seams the domain runs on.
#[derive(Clone)]
pub struct CoreDeps {
    /// Registered clients.
    pub clients: Arc<dyn ClientStore>,
    /// Consent registry.
    pub consents: Arc<dyn ConsentStore>,
    /// Flow cache.
    pub cache: Arc<dyn esignet_spi::Cache>,
    /// The identity system.
    pub authenticator: Arc<dyn Authenticator>,
    /// The service's token signer (`OIDC_SERVICE` keys).
    pub signer: Arc<dyn TokenSigner>,
    /// Audit events.
    pub audit: Arc<dyn AuditSink>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Key sealing individual ids held in the flow cache (derived from the key-encryption key).
    pub transaction_key: [u8; 32],
}

/// The eSignet domain service.
pub struct Core {
    pub(crate) config: CoreConfig,
    pub(crate) clients: Arc<dyn ClientStore>,
    pub(crate) consents: Arc<dyn ConsentStore>,
    pub(crate) flow: FlowCache,
    pub(crate) authenticator: Arc<dyn Authenticator>,
    pub(crate) signer: Arc<dyn TokenSigner>,
    pub(crate) audit_sink: Arc<dyn AuditSink>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) transaction_key: [u8; 32],
    pub(crate) captcha: CaptchaPolicy,
    /// Key binding and the QR-code login; `None` answers them with `not_implemented`.
    pub(crate) wallet: Option<crate::wallet::WalletSupport>,
    /// Login counters (see [`Core::with_metrics`]).
    pub(crate) metrics: Arc<dyn esignet_spi::LoginMetrics>,
    /// The signup detour; `None` rejects its endpoints and every `id_token_hint`.
    pub(crate) signup: Option<crate::signup::SignupRedirectConfig>,
}

impl Core {
    /// Builds the service, with captcha off (see [`Core::with_captcha`]).
    pub fn new(config: CoreConfig, deps: CoreDeps) -> Self {
        Self {
            config,
            clients: deps.clients,
            consents: deps.consents,
            flow: FlowCache::new(deps.cache),
            authenticator: deps.authenticator,
            signer: deps.signer,
            audit_sink: deps.audit,
            clock: deps.clock,
            transaction_key: deps.transaction_key,
            captcha: CaptchaPolicy::disabled(),
            wallet: None,
            metrics: Arc::new(esignet_spi::NoLoginMetrics),
            signup: None,
        }
    }

    /// Reports logins started, authentications by factor, completions and failures to
    /// `metrics` (the default counts nothing).
    pub fn with_metrics(mut self, metrics: Arc<dyn esignet_spi::LoginMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The token signer.
    pub fn signer(&self) -> &dyn TokenSigner {
        self.signer.as_ref()
    }

    /// The current Unix time.
    pub(crate) fn now_unix(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// An ACTIVE client, or `code` if unknown or inactive.
    pub(crate) async fn active_client(
        &self,
        client_id: &str,
        code: &'static str,
    ) -> Result<ClientRecord> {
        match self.clients.get_client(client_id).await? {
            Some(client) if client.status == ClientStatus::Active => Ok(client),
            _ => Err(Error::code(code)),
        }
    }

    /// Records an audit event (never fails the request).
    pub(crate) fn audit(
        &self,
        action: AuditAction,
        outcome: std::result::Result<(), &Error>,
        transaction_id: Option<&str>,
        client_id: Option<&str>,
        individual_id_hash: Option<&str>,
    ) {
        let (status, error_code) = match outcome {
            Ok(()) => (AuditStatus::Success, None),
            Err(error) => (AuditStatus::Error, Some(error.error_code().to_owned())),
        };
        // Every audited step passes here, so the login counters are kept in this one place.
        match (action, &error_code) {
            (AuditAction::GetOauthDetails | AuditAction::GetParOauthDetails, None) => {
                self.metrics.login_started();
            }
            (AuditAction::GenerateToken, None) => self.metrics.login_completed(),
            (_, Some(code)) => self.metrics.login_failed(action, code),
            _ => {}
        }
        self.audit_sink.record(AuditEvent {
            at: self.clock.now(),
            action,
            status,
            transaction_id: transaction_id.map(str::to_owned),
            client_id: client_id.map(str::to_owned),
            individual_id_hash: individual_id_hash.map(str::to_owned),
            error_code,
        });
    }

    /// Whether a client's `additional_config` flag is set.
    pub(crate) fn client_flag(client: &ClientRecord, flag: &str) -> bool {
        client
            .additional_config
            .as_ref()
            .and_then(|config| config.get(flag))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// PAR required for this client (its flag or the FAPI 2.0 profile).
    pub(crate) fn requires_par(&self, client: &ClientRecord) -> bool {
        self.config.fapi2_profile
            || Self::client_flag(client, "require_pushed_authorization_requests")
    }

    /// PKCE required for this client.
    pub(crate) fn requires_pkce(&self, client: &ClientRecord) -> bool {
        self.config.fapi2_profile || Self::client_flag(client, "require_pkce")
    }

    /// DPoP-bound tokens required for this client.
    pub(crate) fn requires_dpop(&self, client: &ClientRecord) -> bool {
        self.config.fapi2_profile || Self::client_flag(client, "dpop_bound_access_tokens")
    }

    /// Seals an individual id for the flow cache.
    pub(crate) fn seal_individual_id(
        &self,
        individual_id: &str,
        transaction_id: &str,
    ) -> Result<String> {
        esignet_jose::aead::seal(
            &self.transaction_key,
            individual_id.as_bytes(),
            transaction_id.as_bytes(),
        )
        .map(|sealed| esignet_jose::b64url_encode(&sealed))
        .map_err(|_| Error::code(codes::UNKNOWN_ERROR))
    }

    /// Opens an individual id sealed by [`Core::seal_individual_id`].
    pub(crate) fn open_individual_id(&self, sealed: &str, transaction_id: &str) -> Result<String> {
        let bytes = esignet_jose::b64url_decode(sealed)
            .map_err(|_| Error::code(codes::INVALID_TRANSACTION))?;
        let plain =
            esignet_jose::aead::open(&self.transaction_key, &bytes, transaction_id.as_bytes())
                .map_err(|_| Error::code(codes::INVALID_TRANSACTION))?;
        String::from_utf8(plain).map_err(|_| Error::code(codes::INVALID_TRANSACTION))
    }
}

/// base64url(SHA3-256(individual id)): the only form in which an individual appears in logs,
/// audit events and block lists.
pub fn individual_id_hash(individual_id: &str) -> String {
    esignet_jose::sha3_256_b64url(individual_id.as_bytes())
}
