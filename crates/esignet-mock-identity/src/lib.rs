//! The mock identity system as its own HTTP service: MOSIP's `mock-identity-system` API, so that
//! eSignet can be run (and benchmarked) against an identity system across the network, exactly
//! as a national ID backend would be plugged in.
//!
//! The `esignet` binary runs it as `esignet mock-identity`; [`serve`] is the whole service,
//! [`build`] the router for embedding (tests spawn it in-process on `127.0.0.1:0`).
//!
//! # API
//!
//! Everything lives under the context path [`CONTEXT_PATH`] (`/v1/mock-identity-system`), on its
//! own port (8082 by default, like the Java mock).
//!
//! | Method and path | Body | `response` on success |
//! |---|---|---|
//! | `POST /identity` | wrapped identity | `{"status": "mock identity data created successfully"}` |
//! | `PUT /identity` | wrapped partial identity with `individualId` | `{"status": "mock Identity data updated successfully"}` |
//! | `GET /identity/{individualId}` | | the stored identity (PIN and hashed password included) |
//! | `GET /identity/identity-schema` | | the JSON Schema `POST /identity` enforces |
//! | `GET /identity/ui-spec` | | the signup pages' account form (json-form-builder format) with [`SchemaProfile::Signup`]; `ui_spec_not_found` with the full schema |
//! | `POST /identity/add-verified-claim` | wrapped `{individualId, verificationDetail: {<field>: {trust_framework, ...}}, active}` | `{"status": "Verified Claim added successfully"}` |
//! | `POST /partner` | wrapped `{partnerId, clientId, key: "<RSA public JWK JSON>", status}` | `"Partner data created/updated successfully"` |
//! | `POST /send-otp/{rp}/{client}` | `{transactionId, individualId, otpChannels}` | `{transactionId, maskedEmail, maskedMobile}` |
//! | `POST /kyc-auth/{rp}/{client}` | `{transactionId, individualId, otp, pin, password, kbi, biometrics, tokens}` | `{authStatus, kycToken, partnerSpecificUserToken}` |
//! | `POST /v2/kyc-auth/{rp}/{client}` | the same plus `claimMetadataRequired` | the same plus `claimMetadata` when asked |
//! | `POST /v2/claim-metadata/{rp}/{client}` | `{individualId, claims}` | `{claimMetadata}`, as `v2/kyc-auth` would report it now, without authenticating (an extension: not in the Java mock) |
//! | `POST /kyc-exchange/{rp}/{client}` | `{requestDateTime, transactionId, kycToken, individualId, acceptedClaims, claimLocales}` | `{"kyc": "<JWS>"}` |
//! | `POST /v2/kyc-exchange/{rp}/{client}` | v1 plus `acceptedClaimDetail` (with `verified_claims`) | `{"kyc": "<JWS>"}` |
//! | `POST /v3/kyc-exchange/{rp}/{client}` | v2 plus `respType` (`JWS` or `JWE`) | `{"kyc": "<JWS or JWE>"}` |
//! | `GET /keys.json` | | `{"allCertificates": [{certificateData, issuedAt, expiryAt, keyId}]}` |
//! | `POST /binding/send-otp` | `{individualId, otpChannels}` | `{transactionId, maskedEmail, maskedMobile}` |
//! | `POST /binding/key-binding` | `{individualId, challengeList, publicKey, authFactorType}` | `{certificate, partnerSpecificUserToken}` |
//! | `GET /binding/keys.json` | | the wallet binding CA certificates, as `keys.json` |
//! | `GET /actuator/health` | | `{"status": "UP"}` (not enveloped; 503 when `DOWN`) |
//!
//! *Wrapped* bodies are `{"requestTime": "2024-07-24T08:53:05.142Z", "request": {...}}`, the time
//! within 120 s of the service's clock (else `invalid_request`). Every answer is HTTP 200 with
//! `{"responseTime", "response", "errors": [{"errorCode", "message"}]}`; `errors` is empty on
//! success, `response` is `null` on failure. Note `message`, not eSignet's `errorMessage`.
//! `keys.json` and the schema leave out `responseTime`. Error codes: [`codes`].
//!
//! # Identities
//!
//! The Java mock's identity JSON: `individualId` (5-19 digits), `pin`, `password` (sent in clear,
//! stored as upper-case hex SHA-256), multi-language fields as `[{"language": "eng", "value":
//! ...}]` (`fullName`, `givenName`, `familyName`, `middleName`, `nickName`, `preferredUsername`,
//! `gender`, `streetAddress`, `locality`, `region`, `country`), `dateOfBirth` (`yyyy/MM/dd`),
//! `postalCode`, `email`, `phone`, `encodedPhoto` (an image data URL, released as the `picture`
//! claim), `preferredLang`, `zoneInfo`, `locale`. `POST` requires the Java mock's required set;
//! `PUT` takes any subset and merges it shallowly (`null` members are ignored). Each schema
//! violation is one error, code `invalid_<lower-case field>` or `unknown_field`, message
//! `<field>: <rule>`; messages never repeat submitted values. Verifications (identity
//! assurance) are added with `add-verified-claim` and kept in their own table.
//!
//! With [`MockIdentityConfig::seed_demo`], the five demo personas of `esignet-mock-authenticator`
//! (credentials in that crate's documentation) are inserted on start when missing; identities
//! already stored are never overwritten. Two of them lack an e-mail or a phone on purpose, so
//! they would not pass `POST /identity` as they are.
//!
//! # Behaviour
//!
//! Authentication and KYC are the built-in mock's own code (`MockAuthenticator` over the one
//! identity concerned), so both mocks behave the same. Relative to MOSIP's Java mock that means:
//! every supplied factor must pass; a failure is an error (`auth_failed`, `invalid_transaction`
//! ...) rather than `{"authStatus": false}`; the OTP (configurable, `111111` by default) works
//! once, only after `send-otp` for the same transaction and individual, for 10 minutes; a wallet
//! token must name the individual in `sub` (eSignet verifies its signature before calling);
//! biometrics must be a well-formed SBI capture
//! made for this transaction, but are never matched against the person; a KYC token is single use and expires 180 s after `kyc-auth` by this service's clock
//! (`requestDateTime` is ignored); exchange errors are `invalid_kyc_token` and
//! `data_exchange_failed` (the Java mock's `mock-ida-006/007` and `mock-ida-008`). The `sub` is
//! SHA3-256-B64U(individualId + relyingPartyId), as in the Java mock. KYC is signed (RS256) by a
//! `MOCK_AUTHENTICATION_SERVICE` key whose certificates `keys.json` lists; with `v3` and
//! `respType: JWE` it is nested in a JWE (`RSA-OAEP-256`, `A256GCM`, `cty: JWT`) for the key
//! registered with `POST /partner` for (relying party id, client id): without an active one
//! the exchange fails with `data_exchange_failed` before spending the token.
//!
//! # Storage
//!
//! Everything lives in [`MockIdentityConfig::data_dir`]: `mock-identity.db` (tables
//! `mock_identity`, `verified_claim`, `partner_data`; this crate's migrations),
//! `mock-identity-keys.db` (the signing keys, through `esignet-store-sqlite`; a second file
//! because two sqlx migrators cannot share one migrations table) and `mock-identity.kek` (the
//! key-encryption key sealing the private keys: back it up with the keys). Pending OTPs and KYC
//! tokens are in memory and do not survive a restart. One process owns the files.
//!
//! # Pointing eSignet at an identity system over HTTP
//!
//! `esignet-authenticator-http` implements eSignet's `Authenticator` seam by calling this API
//! exactly as MOSIP's mock plugin does. Give it the base URL including the context path (e.g.
//! `http://127.0.0.1:8082/v1/mock-identity-system`). Any identity system that speaks this API
//! (this service, MOSIP's Java mock identity system, or an adapter in front of a national ID
//! system) can be plugged in that way. For relying parties that want JWE userinfo, register
//! their encryption key here with `POST /partner` (partnerId = the client's relying party id).
#![deny(missing_docs)]

mod binding;
pub mod codes;
mod envelope;
mod identities;
mod kyc;
mod partners;
mod state;
mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use esignet_cache_memory::MemoryCache;
use esignet_jose::Algorithm;
use esignet_keys::{KeyEncryptionKey, KeyManager, KeyPolicy};
use esignet_mock_authenticator::MockSettings;
use esignet_spi::{Clock, Notifier};
use esignet_store_sqlite::SqliteStore;

pub use envelope::REQUEST_TIME_LEEWAY;

use crate::state::{MockIdentityState, SharedState};
use crate::store::IdentityStore;

/// The path prefix of every endpoint.
pub const CONTEXT_PATH: &str = "/v1/mock-identity-system";
/// The key application of the KYC signing keys (the Java mock's application id).
pub const KEY_APPLICATION: &str = "MOCK_AUTHENTICATION_SERVICE";
/// The key application of the wallet binding CA keys (MOSIP keymanager's name).
pub const BINDING_KEY_APPLICATION: &str = "MOCK_BINDING_SERVICE";
/// The identity database, in the data directory.
pub const DATABASE_FILE: &str = "mock-identity.db";
/// The signing-key database, in the data directory.
pub const KEY_DATABASE_FILE: &str = "mock-identity-keys.db";
/// The key-encryption key file, in the data directory.
pub const KEK_FILE: &str = "mock-identity.kek";
/// The default port (the Java mock's).
pub const DEFAULT_PORT: u16 = 8082;

/// Largest accepted request body: an identity carries its photo, and the Java mock's UI
/// specification allows 5 MiB uploads (base64 adds a third).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// KYC keys live three years and rotate 60 days before expiry (the Java mock's key policy).
const KEY_VALIDITY: time::Duration = time::Duration::days(1095);
const KEY_ROTATE_BEFORE: time::Duration = time::Duration::days(60);
/// How often the rotation task looks at the keys.
const ROTATION_CHECK: Duration = Duration::from_secs(3600);
/// How often expired OTPs and KYC tokens are swept from memory.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// The identity schema's variants (shared with the built-in registry of
/// `esignet-mock-authenticator`).
pub use esignet_mock_authenticator::SchemaProfile;

/// Settings of the mock identity service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockIdentityConfig {
    /// Where [`serve`] listens (default `127.0.0.1:8082`).
    pub bind: SocketAddr,
    /// Directory of the service's own files ([`DATABASE_FILE`], [`KEY_DATABASE_FILE`],
    /// [`KEK_FILE`]); created if missing.
    pub data_dir: PathBuf,
    /// The eSignet issuer, put in the KYC's `iss`.
    pub issuer: String,
    /// The one OTP every resident receives (delivered only with [`Self::notifier`]). Default
    /// `111111`.
    pub otp: String,
    /// Artificial latency added after every `send-otp`, `kyc-auth` and `kyc-exchange`, to model
    /// a slow national ID backend in benchmarks. Default zero.
    pub response_delay: Duration,
    /// Insert the demo personas on start when missing. Default true.
    pub seed_demo: bool,
    /// Which members `POST /identity` requires, and whether `GET /identity/ui-spec` serves the
    /// account form of the signup pages. Default [`SchemaProfile::Full`].
    pub schema: SchemaProfile,
    /// Validity of the wallet binding certificates `binding/key-binding` issues. Default 10
    /// days (eSignet's `binding.key-expire-days`).
    pub certificate_validity: time::Duration,
    /// Delivers the login OTP of `send-otp` to the identity's phone or e-mail, for the
    /// channels asked and supported. `None` (the default): nothing is sent, as in the Java
    /// mock.
    pub notifier: Option<OtpNotifier>,
}

/// The notifier delivering login OTPs (compared by identity, so the configuration stays
/// comparable).
#[derive(Clone)]
pub struct OtpNotifier(pub Arc<dyn Notifier>);

impl std::fmt::Debug for OtpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtpNotifier")
    }
}

impl PartialEq for OtpNotifier {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OtpNotifier {}

impl MockIdentityConfig {
    /// The defaults, storing in `data_dir` and signing KYC for `issuer`.
    pub fn new(data_dir: impl Into<PathBuf>, issuer: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            data_dir: data_dir.into(),
            issuer: issuer.into(),
            otp: esignet_mock_authenticator::DEFAULT_OTP.to_owned(),
            response_delay: Duration::ZERO,
            seed_demo: true,
            schema: SchemaProfile::Full,
            certificate_validity: esignet_mock_authenticator::DEFAULT_CERTIFICATE_VALIDITY,
            notifier: None,
        }
    }
}

/// Opens the service's store and keys (generating the first signing key and the
/// key-encryption key on first start), seeds the demo personas if configured, starts the
/// background tasks and returns the router (every route under [`CONTEXT_PATH`]).
///
/// The background tasks (key rotation, sweeping expired OTPs and KYC tokens from memory) hold
/// only weak references: they end by themselves once the router is dropped. Must be called
/// within a Tokio runtime.
///
/// # Errors
///
/// The data directory, a database or the key-encryption key cannot be opened or created, or the
/// stored keys do not decrypt with that key.
pub async fn build(config: &MockIdentityConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Router> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let store = IdentityStore::open(&config.data_dir.join(DATABASE_FILE))
        .await
        .context("cannot open the mock identity database")?;
    let key_store = SqliteStore::open(&config.data_dir.join(KEY_DATABASE_FILE))
        .await
        .context("cannot open the mock identity key database")?;
    let kek = Arc::new(
        KeyEncryptionKey::load_or_create(&config.data_dir.join(KEK_FILE))
            .context("cannot load the mock identity key-encryption key")?,
    );
    let key_store = Arc::new(key_store);
    let signer = KeyManager::open(
        key_store.clone(),
        kek.clone(),
        clock.clone(),
        KEY_APPLICATION,
        KeyPolicy::for_jws(
            Algorithm::RS256,
            KEY_VALIDITY,
            KEY_ROTATE_BEFORE,
            "Mock identity system KYC signing",
        ),
    )
    .await
    .context("cannot open the KYC signing keys")?;
    let binding_keys = KeyManager::open(
        key_store,
        kek,
        clock.clone(),
        BINDING_KEY_APPLICATION,
        KeyPolicy::for_jws(
            Algorithm::RS256,
            KEY_VALIDITY,
            KEY_ROTATE_BEFORE,
            "Mock identity system wallet binding CA",
        )
        .issuing_certificates(),
    )
    .await
    .context("cannot open the wallet binding CA keys")?;
    if config.seed_demo {
        let inserted = state::seed_demo(&store, clock.now())
            .await
            .context("cannot seed the demo identities")?;
        if inserted > 0 {
            tracing::info!(inserted, "seeded demo identities");
        }
    }
    let cache = MemoryCache::new(clock.clone());
    signer.spawn_rotation(ROTATION_CHECK);
    binding_keys.spawn_rotation(ROTATION_CHECK);
    cache.spawn_sweeper(SWEEP_INTERVAL);

    let mut settings = MockSettings::new(config.issuer.clone());
    settings.otp = config.otp.clone();
    Ok(router(Arc::new(MockIdentityState {
        store,
        signer,
        binding_keys,
        certificate_validity: config.certificate_validity,
        cache,
        clock,
        settings,
        response_delay: config.response_delay,
        schema: config.schema,
        notifier: config.notifier.clone().map(|n| n.0),
        writes: tokio::sync::Mutex::new(()),
    })))
}

/// Runs the service on [`MockIdentityConfig::bind`] until `shutdown` completes, then finishes
/// the requests in flight.
///
/// # Errors
///
/// As [`build`], or the address cannot be bound, or the server fails.
pub async fn serve(
    config: &MockIdentityConfig,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    serve_listener(listener, config, clock, shutdown).await
}

/// As [`serve`], on a listener the caller bound (for example to `127.0.0.1:0` in tests);
/// [`MockIdentityConfig::bind`] is not used.
///
/// # Errors
///
/// As [`build`], or the server fails.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    config: &MockIdentityConfig,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let router = build(config, clock).await?;
    let address = listener.local_addr().context("no local address")?;
    tracing::info!(%address, context_path = CONTEXT_PATH, "mock identity system is ready");
    axum::serve(listener, router.into_make_service())
        .with_graceful_shutdown(shutdown)
        .await
        .context("mock identity server failed")
}

fn router(state: SharedState) -> Router {
    let api = Router::new()
        .route(
            "/identity",
            post(identities::create).put(identities::update),
        )
        .route("/identity/identity-schema", get(identities::schema))
        .route("/identity/ui-spec", get(identities::ui_spec))
        .route(
            "/identity/add-verified-claim",
            post(identities::add_verified_claim),
        )
        .route("/identity/{individual_id}", get(identities::get))
        .route("/partner", post(partners::register))
        .route("/send-otp/{rp}/{client}", post(kyc::send_otp))
        .route("/kyc-auth/{rp}/{client}", post(kyc::kyc_auth_v1))
        .route("/v2/kyc-auth/{rp}/{client}", post(kyc::kyc_auth_v2))
        .route(
            "/v2/claim-metadata/{rp}/{client}",
            post(kyc::claim_metadata),
        )
        .route("/kyc-exchange/{rp}/{client}", post(kyc::kyc_exchange_v1))
        .route("/v2/kyc-exchange/{rp}/{client}", post(kyc::kyc_exchange_v2))
        .route("/v3/kyc-exchange/{rp}/{client}", post(kyc::kyc_exchange_v3))
        .route("/keys.json", get(partners::keys))
        .route("/binding/send-otp", post(binding::send_otp))
        .route("/binding/key-binding", post(binding::key_binding))
        .route("/binding/keys.json", get(binding::keys))
        .route("/actuator/health", get(partners::health))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    Router::new().nest(CONTEXT_PATH, api)
}
