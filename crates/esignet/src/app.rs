//! Wiring: configuration → concrete implementations → the HTTP application. The only place that
//! names concrete backends.

use std::sync::Arc;

use anyhow::Context;
use esignet_authenticator_http::{HttpAuthenticator, HttpAuthenticatorConfig, HttpKeyBinder};
use esignet_captcha::{PowCaptcha, PowConfig, RemoteCaptcha, RemoteConfig, RemoteProvider};
use esignet_config::AuthenticatorKind;
use esignet_config::{CaptchaKind, RemoteCaptchaProvider, Settings};
use esignet_core::{
    BoundedAuthenticator, CachedClientStore, CaptchaPolicy, ClientManager, Core, CoreDeps,
};
use esignet_keys::{KeyEncryptionKey, KeyManager, KeyPolicy, KeyVault};
use esignet_mock_authenticator::{
    Directory, MockAuthenticator, MockSettings, RegisteredIdentities, SharedDirectory,
};
use esignet_spi::{
    Authenticator, BindingStore, Cache, CaptchaVerifier, ClientStore, Clock, KeyBinder,
    NoAuditMetrics, NoCaptcha, NoLoginMetrics, SystemClock,
};
use esignet_telemetry::{MeteredAuthenticator, MeteredCache, MeteredStore, Metrics};
use esignet_web::{AdminAuth, AdminConfig, AppState, IamConfig, UiConfig, WebConfig};

use crate::backends::Store;
use crate::core_config::core_config;
use crate::demo_client;

/// Key application of the service's token-signing keys.
pub const SERVICE_KEYS: &str = "OIDC_SERVICE";
/// Key application of the built-in mock identity system's KYC-signing keys.
pub const MOCK_IDENTITY_KEYS: &str = "MOCK_AUTHENTICATION_SERVICE";

/// A built application and the handles that keep it running.
pub struct App {
    /// The HTTP router.
    pub router: axum::Router,
    /// Background tasks (rotation, cache sweeping).
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The metrics listener's router, when `telemetry.metrics_bind` is set.
    pub metrics_router: Option<axum::Router>,
}

impl App {
    /// Binds the metrics listener (when metrics are on) and serves `/metrics` on it in the
    /// background; the handle is added to the tasks so it stops with the server.
    pub async fn start_metrics_listener(&mut self, settings: &Settings) -> anyhow::Result<()> {
        let (Some(router), Some(bind)) =
            (self.metrics_router.take(), settings.telemetry.metrics_bind)
        else {
            return Ok(());
        };
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind} (telemetry.metrics_bind)"))?;
        tracing::info!(address = %listener.local_addr()?, "metrics listener ready");
        self.tasks.push(tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router.into_make_service()).await {
                tracing::error!(%error, "metrics listener failed");
            }
        }));
        Ok(())
    }
}

/// What signing keys need: the store, the key-encryption key and, with `keys.backend =
/// "pkcs11"`, the HSM (opened once and shared by both).
pub struct KeyMaterial {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The key-encryption key: software, or held in the HSM (`keys.pkcs11_kek`).
    pub kek: Arc<KeyEncryptionKey>,
    /// The HSM holding the service signing keys.
    pub vault: Option<Arc<dyn KeyVault>>,
    /// The SQLite store itself when it is the one in use (the built-in signup registry keeps
    /// its residents there).
    pub sqlite: Option<esignet_store_sqlite::SqliteStore>,
}

/// Opens the store, the HSM (if configured) and the key-encryption key.
pub async fn open_store(settings: &Settings) -> anyhow::Result<KeyMaterial> {
    let (store, sqlite) = crate::backends::open_store_and_sqlite(settings).await?;
    let pkcs11 = crate::hsm::open_vault(settings)?;
    let hsm_kek = settings.keys.pkcs11.as_ref().is_some_and(|hsm| hsm.kek);
    let kek = match (&pkcs11, &settings.keys.encryption_key) {
        (Some(vault), _) if hsm_kek => {
            let vault = vault.clone();
            tokio::task::spawn_blocking(move || vault.key_encryption_key())
                .await
                .context("the HSM task failed")?
                .context("cannot open the key-encryption key in the HSM (keys.pkcs11_kek)")?
        }
        (_, Some(key)) => KeyEncryptionKey::from_base64(&esignet_jose::b64url_encode(key.expose()))
            .context("invalid keys.encryption_key")?,
        (_, None) => KeyEncryptionKey::load_or_create(&settings.encryption_key_file())
            .with_context(|| {
                format!(
                    "cannot load the key-encryption key {}",
                    settings.encryption_key_file().display()
                )
            })?,
    };
    let vault = pkcs11.map(|vault| -> Arc<dyn KeyVault> { vault });
    Ok(KeyMaterial {
        store,
        kek: Arc::new(kek),
        vault,
        sqlite,
    })
}

/// The key policy of an application from the `[keys]` settings.
pub fn key_policy(settings: &Settings, common_name: &str) -> anyhow::Result<KeyPolicy> {
    let algorithm = esignet_jose::Algorithm::parse(settings.keys.algorithm.as_str())
        .context("unsupported signing algorithm")?;
    let validity =
        time::Duration::try_from(settings.keys.validity).context("key validity out of range")?;
    let rotate_before = time::Duration::try_from(settings.keys.rotate_before)
        .context("rotation window out of range")?;
    // With a shared store, other instances learn a new key at their next reload: publish it for
    // at least two reload intervals before it signs.
    let mut activation_delay = settings.keys.activation_delay;
    if settings.store.kind == esignet_config::StoreKind::Postgres {
        activation_delay = activation_delay.max(settings.keys.rotation_check_interval * 2);
    }
    let activation_delay =
        time::Duration::try_from(activation_delay).context("activation delay out of range")?;
    Ok(
        KeyPolicy::for_jws(algorithm, validity, rotate_before, common_name.to_owned())
            .with_activation_delay(activation_delay),
    )
}

/// Builds the whole application.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let metrics = settings.telemetry.metrics_bind.map(|_| Metrics::shared());
    let KeyMaterial {
        store,
        kek,
        vault,
        sqlite,
    } = open_store(settings).await?;
    let store: Arc<dyn Store> = match &metrics {
        Some(metrics) => Arc::new(MeteredStore::new(store, metrics.clone())),
        None => store,
    };
    let service_keys = KeyManager::open_with_vault(
        store.clone(),
        kek.clone(),
        vault,
        clock.clone(),
        SERVICE_KEYS,
        key_policy(settings, "eSignet token signing")?,
    )
    .await
    .context("cannot open the service signing keys")?;
    let (cache, memory_cache) = crate::backends::open_cache(settings, clock.clone()).await?;
    let cache: Arc<dyn Cache> = match &metrics {
        Some(metrics) => Arc::new(MeteredCache::new(cache, metrics.clone())),
        None => cache,
    };
    let mut tasks = Vec::new();
    let key_binder: Arc<dyn KeyBinder>;
    // The built-in registry, when the built-in mock keeps its directory in the SQLite store.
    let mut registered_identities = None;
    let authenticator: Arc<dyn Authenticator> = match settings.authenticator.kind {
        AuthenticatorKind::Mock => {
            let mock_keys = KeyManager::open(
                store.clone(),
                kek.clone(),
                clock.clone(),
                MOCK_IDENTITY_KEYS,
                key_policy(settings, "Mock identity system KYC signing")?,
            )
            .await
            .context("cannot open the mock identity system's signing keys")?;
            tasks.push(mock_keys.spawn_rotation(settings.keys.rotation_check_interval));
            let mut mock_settings = MockSettings::new(settings.issuer());
            mock_settings.otp = settings.authenticator.mock_otp.clone();
            let directory =
                SharedDirectory::new(Directory::demo().context("cannot load the demo identities")?);
            // Residents registered earlier log in whether or not signup is still on.
            if let Some(sqlite) = &sqlite {
                let records = crate::identity_records::SqliteIdentityRecords::new(
                    sqlite.clone(),
                    clock.clone(),
                );
                registered_identities = Some(Arc::new(
                    RegisteredIdentities::open(directory.clone(), Arc::new(records))
                        .await
                        .context("cannot load the registered identities")?,
                ));
            }
            let mock = Arc::new(MockAuthenticator::over(
                directory,
                mock_keys,
                cache.clone(),
                clock.clone(),
                mock_settings,
            ));
            let (binder, rotation) = crate::wallet::mock_key_binder(
                settings,
                store.clone(),
                kek.clone(),
                clock.clone(),
                mock.clone(),
            )
            .await?;
            tasks.push(rotation);
            key_binder = binder;
            mock
        }
        AuthenticatorKind::MockIdentityHttp => {
            let mut config = HttpAuthenticatorConfig::new(settings.authenticator.url.clone());
            config.timeout = settings.authenticator.timeout;
            let http = Arc::new(
                HttpAuthenticator::new(config)
                    .context("cannot set up the identity system client")?,
            );
            key_binder = Arc::new(HttpKeyBinder::new(http.clone()));
            http
        }
        AuthenticatorKind::SunbirdRc => {
            let (sunbird, binder, rotation) = crate::sunbird::sunbird_authenticator(
                settings,
                store.clone(),
                kek.clone(),
                cache.clone(),
                clock.clone(),
            )
            .await?;
            tasks.push(rotation);
            key_binder = binder;
            sunbird
        }
        AuthenticatorKind::Ida => {
            let (ida, binder) = crate::ida::ida_authenticator(settings, clock.clone())?;
            key_binder = binder;
            ida
        }
        AuthenticatorKind::Rest => {
            let (rest, binder, rotation) = crate::rest_identity::rest_authenticator(
                settings,
                store.clone(),
                kek.clone(),
                cache.clone(),
                clock.clone(),
            )
            .await?;
            tasks.push(rotation);
            key_binder = binder;
            rest
        }
    };
    let authenticator: Arc<dyn Authenticator> = match &metrics {
        Some(metrics) => Arc::new(MeteredAuthenticator::new(authenticator, metrics.clone())),
        None => authenticator,
    };
    // Outside the metering: the identity system's latency is measured without the queueing.
    let authenticator: Arc<dyn Authenticator> = Arc::new(BoundedAuthenticator::new(
        authenticator,
        settings.authenticator.max_concurrent_calls,
        settings.authenticator.queue_timeout,
    ));
    let audit_metrics: Arc<dyn esignet_spi::AuditMetrics> = match &metrics {
        Some(metrics) => metrics.clone(),
        None => Arc::new(NoAuditMetrics),
    };
    let (audit, audit_tasks) =
        crate::audit::audit_sink(settings, clock.clone(), audit_metrics).await?;
    tasks.extend(audit_tasks);
    // Clients are read on almost every request: keep them in memory, evicted on every instance
    // through the cache's pub/sub when one changes; 60 s bounds the staleness of a copy whose
    // eviction was lost.
    let client_store: Arc<dyn ClientStore> = Arc::new(CachedClientStore::new(
        store.clone(),
        cache.clone(),
        clock.clone(),
        std::time::Duration::from_secs(60),
    ));
    if settings.demo.seed_client {
        demo_client::seed(settings, client_store.as_ref(), clock.as_ref()).await?;
    }
    let config = core_config(settings);
    let known_acrs: Vec<String> = settings
        .oidc
        .acr_mapping
        .acr_amr
        .iter()
        .map(|(acr, _)| acr.clone())
        .collect();
    let clients = ClientManager::new(
        client_store.clone(),
        clock.clone(),
        audit.clone(),
        settings.oidc.claims_supported.clone(),
        known_acrs,
    );
    let captcha_verifier = captcha_verifier(settings, &kek, cache.clone(), clock.clone())?;
    let captcha = CaptchaPolicy::new(captcha_verifier.clone(), settings.captcha.required.clone());
    // The public key registry is the store's own (upcast from `Store`), so wallet bindings share
    // its pool and live wherever the rest of the data does, PostgreSQL included.
    let bindings: Arc<dyn BindingStore> = store.clone();
    let wallet = crate::wallet::wallet_support(settings, key_binder, bindings);
    let core = Arc::new(
        Core::new(
            config,
            CoreDeps {
                clients: client_store.clone(),
                consents: store.clone(),
                cache: cache.clone(),
                authenticator,
                signer: service_keys.clone(),
                audit: audit.clone(),
                clock: clock.clone(),
                transaction_key: kek.derive("transaction-cache"),
            },
        )
        .with_captcha(captcha)
        .with_wallet(wallet)
        .with_metrics(match &metrics {
            Some(metrics) => metrics.clone(),
            None => Arc::new(NoLoginMetrics),
        }),
    );
    let core = match crate::core_config::signup_redirect_config(settings) {
        Some(signup) => Arc::new(
            Arc::into_inner(core)
                .context("the core is not shared yet")?
                .with_signup_redirect(signup),
        ),
        None => core,
    };
    let admin = AdminAuth::new(
        AdminConfig {
            static_token: settings
                .admin
                .static_token
                .as_ref()
                .map(|t| t.expose().to_owned()),
            iam: settings.admin.iam.as_ref().map(|iam| IamConfig {
                jwks_url: iam.jwks_url.to_string(),
                issuer: iam.issuer.clone(),
                audience: iam.audience.clone(),
            }),
        },
        clock.clone(),
    );
    let web = WebConfig {
        base_path: settings.server.base_path.clone(),
        request_time_leeway: settings.security.request_time_leeway,
        csrf_cookie_secure: settings.security.csrf_cookie_secure,
        max_body_bytes: settings.server.max_body_bytes,
        request_timeout: settings.server.request_timeout,
        ui: Some(ui_config(settings)),
        extra_openapi: if settings.signup.enabled {
            esignet_web::openapi::SIGNUP_ENDPOINTS.to_vec()
        } else {
            Vec::new()
        },
        max_in_flight: settings.server.max_in_flight_requests,
    };
    let signup_core = core.clone();
    let state = AppState::new(core, web, admin, clients);
    tasks.push(service_keys.spawn_rotation(settings.keys.rotation_check_interval));
    if let Some(memory_cache) = memory_cache {
        tasks.push(memory_cache.spawn_sweeper(std::time::Duration::from_secs(30)));
    }
    let (mut router, metrics_router) = match metrics {
        Some(metrics) => (
            esignet_web::router_with_metrics(state, metrics.clone()),
            Some(esignet_web::metrics_router(metrics)),
        ),
        None => (esignet_web::router(state), None),
    };
    if settings.signup.enabled {
        let signup = crate::signup::router(crate::signup::SignupWiring {
            settings,
            kek: &kek,
            cache,
            captcha: captcha_verifier,
            audit,
            clock,
            core: signup_core,
            clients: client_store,
            registered_identities,
        })
        .await?;
        router = router.nest(esignet_signup::CONTEXT_PATH, signup);
        // The signup pages, calling the API above.
        router = router.nest(
            SIGNUP_PAGES_PATH,
            esignet_signup_ui::router(signup_ui_config(settings)),
        );
    }
    Ok(App {
        router,
        tasks,
        metrics_router,
    })
}

/// The captcha verifier of `[captcha]`.
fn captcha_verifier(
    settings: &Settings,
    kek: &KeyEncryptionKey,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<dyn CaptchaVerifier>> {
    let captcha = &settings.captcha;
    let verifier: Arc<dyn CaptchaVerifier> = match captcha.kind {
        CaptchaKind::None => Arc::new(NoCaptcha),
        // The key is derived from the key-encryption key, so every instance verifies every
        // instance's challenges without sharing anything else.
        CaptchaKind::Pow => Arc::new(PowCaptcha::new(
            kek.derive("captcha-pow"),
            PowConfig {
                difficulty_bits: captcha.pow_difficulty_bits,
                challenge_ttl: captcha.pow_challenge_ttl,
            },
            cache,
            clock,
        )),
        CaptchaKind::Remote => {
            let remote = captcha
                .remote
                .as_ref()
                .context("captcha.kind is remote but the remote settings are missing")?;
            Arc::new(
                RemoteCaptcha::new(RemoteConfig {
                    provider: match remote.provider {
                        RemoteCaptchaProvider::Recaptcha => RemoteProvider::Recaptcha,
                        RemoteCaptchaProvider::Hcaptcha => RemoteProvider::Hcaptcha,
                        RemoteCaptchaProvider::Turnstile => RemoteProvider::Turnstile,
                    },
                    verify_url: remote.verify_url.to_string(),
                    secret: remote.secret.expose().to_owned().into(),
                    site_key: remote.site_key.clone(),
                    expected_hostname: remote.hostname.clone(),
                    check_action: remote.check_action,
                    timeout: remote.timeout,
                })
                .context("cannot build the remote captcha verifier")?,
            )
        }
    };
    Ok(verifier)
}

/// Where the signup pages are mounted (the default sign-up and forgot-password links and the
/// eKYC redirect URI point there); the OpenAPI table documents them there.
const SIGNUP_PAGES_PATH: &str = esignet_web::openapi::SIGNUP_PAGES_PATH;

/// `a == b`, at compile time.
const fn same_path(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut index = 0;
    while index < a.len() {
        if a[index] != b[index] {
            return false;
        }
        index += 1;
    }
    true
}

// The OpenAPI document places the Signup API where the binary nests it.
const _: () = assert!(
    same_path(
        esignet_signup::CONTEXT_PATH,
        esignet_web::openapi::SIGNUP_API_PATH
    ),
    "the OpenAPI table's signup mount differs from the Signup service's context path"
);

/// The signup pages' settings: the login pages' `[ui]` theme and language, the signup API.
fn signup_ui_config(settings: &Settings) -> esignet_signup_ui::SignupUiConfig {
    let ui = &settings.ui;
    esignet_signup_ui::SignupUiConfig {
        mount_path: SIGNUP_PAGES_PATH.to_owned(),
        api_base_path: esignet_signup::CONTEXT_PATH.to_owned(),
        esignet_api_base_path: settings.server.base_path.clone(),
        title: ui.title.clone(),
        logo_url: ui.logo_url.clone(),
        primary_color: ui.primary_color.clone(),
        secondary_color: ui.secondary_color.clone(),
        default_language: ui.default_language.clone(),
    }
}

/// The login pages' settings: API base path, attempt limits and the `[ui]` theme.
fn ui_config(settings: &Settings) -> UiConfig {
    let ui = &settings.ui;
    let mut config = UiConfig {
        api_base_path: settings.server.base_path.clone(),
        title: ui.title.clone(),
        logo_url: ui.logo_url.clone(),
        primary_color: ui.primary_color.clone(),
        secondary_color: ui.secondary_color.clone(),
        default_language: ui.default_language.clone(),
        image_sources: ui.image_sources.clone(),
        send_otp_attempts: settings.transaction.send_otp_attempts,
        authenticate_attempts: settings.transaction.authenticate_attempts,
    };
    if settings.demo.seed_client {
        // The seeded demo client's logo is served by the demo relying party.
        for uri in &settings.demo.redirect_uris {
            config.allow_images_from(uri);
        }
    }
    config
}
