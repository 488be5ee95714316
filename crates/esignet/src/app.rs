//! Wiring: configuration → concrete implementations → the HTTP application. The only place that
//! names concrete backends.

use std::sync::Arc;

use anyhow::Context;
use esignet_authenticator_http::{HttpAuthenticator, HttpAuthenticatorConfig, HttpKeyBinder};
use esignet_captcha::{PowCaptcha, PowConfig, RemoteCaptcha, RemoteConfig, RemoteProvider};
use esignet_config::AuthenticatorKind;
use esignet_config::{CaptchaKind, RemoteCaptchaProvider, Settings};
use esignet_core::{CachedClientStore, CaptchaPolicy, ClientManager, Core, CoreDeps};
use esignet_keys::{KeyEncryptionKey, KeyManager, KeyPolicy};
use esignet_mock_authenticator::{Directory, MockAuthenticator, MockSettings};
use esignet_spi::{
    Authenticator, BindingStore, Cache, CaptchaVerifier, ClientStore, Clock, KeyBinder, NoCaptcha,
    SystemClock,
};
use esignet_web::{AdminAuth, AdminConfig, AppState, IamConfig, UiConfig, WebConfig};

use crate::audit::LogAuditSink;
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
}

/// Opens the store and the key-encryption key.
pub async fn open_store(
    settings: &Settings,
) -> anyhow::Result<(Arc<dyn Store>, Arc<KeyEncryptionKey>)> {
    let store = crate::backends::open_store(settings).await?;
    let kek = match &settings.keys.encryption_key {
        Some(key) => KeyEncryptionKey::from_base64(&esignet_jose::b64url_encode(key.expose()))
            .context("invalid keys.encryption_key")?,
        None => KeyEncryptionKey::load_or_create(&settings.encryption_key_file()).with_context(
            || {
                format!(
                    "cannot load the key-encryption key {}",
                    settings.encryption_key_file().display()
                )
            },
        )?,
    };
    Ok((store, Arc::new(kek)))
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
    let (store, kek) = open_store(settings).await?;
    let service_keys = KeyManager::open(
        store.clone(),
        kek.clone(),
        clock.clone(),
        SERVICE_KEYS,
        key_policy(settings, "eSignet token signing")?,
    )
    .await
    .context("cannot open the service signing keys")?;
    let (cache, memory_cache) = crate::backends::open_cache(settings, clock.clone()).await?;
    let mut tasks = Vec::new();
    let key_binder: Arc<dyn KeyBinder>;
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
            let mock = Arc::new(MockAuthenticator::new(
                Directory::demo().context("cannot load the demo identities")?,
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
    };
    let audit = Arc::new(LogAuditSink::spawn(10_000));
    // Clients are read on almost every request: read them through the (shared) cache.
    let client_store: Arc<dyn ClientStore> = Arc::new(CachedClientStore::new(
        store.clone(),
        cache.clone(),
        std::time::Duration::from_secs(300),
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
    let captcha = captcha_policy(settings, &kek, cache.clone(), clock.clone())?;
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
                audit,
                clock: clock.clone(),
                transaction_key: kek.derive("transaction-cache"),
            },
        )
        .with_captcha(captcha)
        .with_wallet(wallet),
    );
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
    };
    let state = AppState::new(core, web, admin, clients);
    tasks.push(service_keys.spawn_rotation(settings.keys.rotation_check_interval));
    if let Some(memory_cache) = memory_cache {
        tasks.push(memory_cache.spawn_sweeper(std::time::Duration::from_secs(30)));
    }
    Ok(App {
        router: esignet_web::router(state),
        tasks,
    })
}

/// The captcha verifier of `[captcha]` and the actions requiring it.
fn captcha_policy(
    settings: &Settings,
    kek: &KeyEncryptionKey,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<CaptchaPolicy> {
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
    Ok(CaptchaPolicy::new(verifier, captcha.required.clone()))
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
