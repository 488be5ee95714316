//! Wiring of the Signup service (`/v1/signup`): its registry (the built-in mock identity
//! system's own directory with `authenticator.kind = "mock"`, the mock identity system over
//! HTTP with `mock-identity-http`), notifier, keys and, with
//! identity verification, its OAuth client at this provider and the halted-login reporter.

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use esignet_config::{AuthenticatorKind, Settings};
use esignet_core::Core;
use esignet_jose::PrivateKey;
use esignet_keys::KeyEncryptionKey;
use esignet_mock_authenticator::RegisteredIdentities;
use esignet_signup::idv::catalogue::Catalogue;
use esignet_signup::idv::grant::{GrantClient, GrantConfig};
use esignet_signup::idv::mock_verifier::{BUILT_IN_STORY, MOCK_VERIFIER_ID, MockIdentityVerifier};
use esignet_signup::idv::verifier::{IdentityVerifier, VerificationStatus};
use esignet_signup::idv::{IdvDeps, VerificationReporter};
use esignet_signup::{
    BuiltInRegistry, MaskedLogNotifier, MockIdentityRegistry, ProfileRegistry, SignupConfig,
    SignupDeps, SignupError,
};
use esignet_spi::{
    AuditSink, Cache, CaptchaVerifier, ClientRecord, ClientStatus, ClientStore, Clock,
    NotificationChannel, Notifier, StoreError,
};
use serde_json::{Map, Value, json};

/// The identity member holding the registered phone number (eSignet's
/// `mosip.signup.identifier.name` default).
const IDENTIFIER_FIELD: &str = "phone";
/// The authentication context of the signup client's login (the IDT factor).
const ID_TOKEN_ACR: &str = "mosip:idp:acr:id-token";

/// What the signup service shares with the provider.
pub struct SignupWiring<'a> {
    pub settings: &'a Settings,
    pub kek: &'a KeyEncryptionKey,
    pub cache: Arc<dyn Cache>,
    pub captcha: Arc<dyn CaptchaVerifier>,
    pub audit: Arc<dyn AuditSink>,
    pub clock: Arc<dyn Clock>,
    pub core: Arc<Core>,
    pub clients: Arc<dyn ClientStore>,
    /// The built-in mock identity system's writable directory (with `authenticator.kind =
    /// "mock"` on the SQLite store).
    pub registered_identities: Option<Arc<RegisteredIdentities>>,
}

/// The signup router for `settings`, sharing the provider's cache, captcha, audit and clock.
pub async fn router(wiring: SignupWiring<'_>) -> anyhow::Result<axum::Router> {
    let settings = wiring.settings;
    let clock = wiring.clock.clone();
    let registry: Arc<dyn ProfileRegistry> = match settings.authenticator.kind {
        AuthenticatorKind::MockIdentityHttp => Arc::new(
            MockIdentityRegistry::new(
                settings.authenticator.url.clone(),
                IDENTIFIER_FIELD,
                settings.authenticator.timeout,
                clock.clone(),
            )
            .context("cannot set up the signup identity registry client")?,
        ),
        // Residents are registered in the process's own mock identity system, visible to its
        // logins at once. The configuration check rules out the other stores.
        AuthenticatorKind::Mock => match &wiring.registered_identities {
            Some(identities) => {
                Arc::new(BuiltInRegistry::new(identities.clone(), IDENTIFIER_FIELD))
            }
            None => anyhow::bail!(
                "signup with authenticator.kind = \"mock\" needs store.kind = \"sqlite\""
            ),
        },
        AuthenticatorKind::SunbirdRc | AuthenticatorKind::Ida | AuthenticatorKind::Rest => {
            anyhow::bail!(
                "signup needs an identity registry that creates identities: set authenticator.kind = \"mock\" or \"mock-identity-http\""
            )
        }
    };
    let idv = if settings.signup.identity_verification {
        Some(identity_verification(&wiring).await?)
    } else {
        None
    };
    let config = SignupConfig {
        settings: settings.signup.clone(),
        public_url: settings.server.public_url.to_string(),
        base_path: settings.server.base_path.clone(),
        request_time_leeway: settings.security.request_time_leeway,
        captcha_site_key: settings
            .captcha
            .remote
            .as_ref()
            .map(|remote| remote.site_key.clone()),
    };
    // Signup sends over SMS only: a configuration with e-mail alone keeps the masked log.
    let notifier: Arc<dyn Notifier> =
        match esignet_notify::ChannelNotifier::from_settings(&settings.notification, clock.clone())
            .context("cannot set up [notification]")?
        {
            Some(notifier) if notifier.supports(NotificationChannel::Sms) => Arc::new(notifier),
            _ => Arc::new(MaskedLogNotifier),
        };
    let deps = SignupDeps {
        cache: wiring.cache,
        registry,
        notifier,
        captcha: wiring.captcha,
        audit: wiring.audit,
        clock,
        transaction_key: wiring.kek.derive("signup-transaction"),
        idv,
    };
    esignet_signup::router(config, deps)
}

/// Identity verification: the verifier list, the mock verifier, the signup service's OAuth
/// client (seeded at this provider) and the reporter into the provider's halted logins.
async fn identity_verification(wiring: &SignupWiring<'_>) -> anyhow::Result<IdvDeps> {
    let settings = wiring.settings;
    let signup = &settings.signup;
    if !settings.signup_redirect.enabled {
        anyhow::bail!(
            "signup.identity_verification needs signup_redirect.enabled: residents reach it from a login"
        );
    }
    let catalogue = Catalogue::load(
        signup.verifiers_file.as_deref(),
        signup.verifier_workflow_dir.as_deref(),
    )?;
    let mut verifiers: Vec<Arc<dyn IdentityVerifier>> = Vec::new();
    if catalogue.active(MOCK_VERIFIER_ID).is_some() {
        let story = match &signup.mock_story_file {
            Some(path) => std::fs::read_to_string(path).with_context(|| {
                format!("cannot read signup.mock_story_file {}", path.display())
            })?,
            None => BUILT_IN_STORY.to_owned(),
        };
        verifiers.push(Arc::new(MockIdentityVerifier::new(
            MOCK_VERIFIER_ID,
            &story,
        )?));
    }
    // One key for every instance, derived from the shared key-encryption key: nothing to
    // store or distribute, and it changes with the key-encryption key.
    let key = PrivateKey::ec_p256_from_seed(&wiring.kek.derive("signup-oauth-client"))
        .context("cannot derive the signup client key")?;
    let public_url = settings.server.public_url.to_string();
    let public_url = public_url.trim_end_matches('/');
    let provider = signup
        .provider_url
        .clone()
        .unwrap_or_else(|| public_url.to_owned());
    let base_path = &settings.server.base_path;
    let redirect_uri = format!(
        "{public_url}{}/identity-verification",
        esignet_web::openapi::SIGNUP_PAGES_PATH
    );
    let grant = GrantClient::new(
        GrantConfig {
            client_id: signup.oauth_client_id.clone(),
            key,
            redirect_uri: redirect_uri.clone(),
            issuer: settings.server.issuer.clone(),
            token_audience: format!("{public_url}{base_path}/oauth/v2/token"),
            token_url: format!("{provider}{base_path}/oauth/v2/token"),
            userinfo_url: format!("{provider}{base_path}/oidc/userinfo"),
            jwks_url: format!("{provider}{base_path}/oauth/.well-known/jwks.json"),
            timeout: settings.authenticator.timeout,
        },
        wiring.clock.clone(),
    )?;
    seed_signup_client(
        wiring.clients.as_ref(),
        wiring.clock.as_ref(),
        &signup.oauth_client_id,
        &redirect_uri,
        &grant.public_jwk(),
    )
    .await?;
    Ok(IdvDeps {
        catalogue,
        verifiers,
        grant: Arc::new(grant),
        reporter: Arc::new(CoreReporter(wiring.core.clone())),
    })
}

/// Registers the signup service's client (as eSignet's signup deployment seeds it), or
/// brings its key and redirect URI up to date: the deployment owns this client.
async fn seed_signup_client(
    store: &dyn ClientStore,
    clock: &dyn Clock,
    client_id: &str,
    redirect_uri: &str,
    public_jwk: &Value,
) -> anyhow::Result<()> {
    let public = esignet_jose::PublicJwk::from_json(public_jwk)
        .context("the signup client key is not a valid JWK")?;
    let public_key_hash = public.identity_hash();
    if let Some(mut existing) = store.get_client(client_id).await? {
        if existing.public_key_hash == public_key_hash
            && existing.redirect_uris.iter().any(|uri| uri == redirect_uri)
        {
            return Ok(());
        }
        existing.public_key = public_jwk.clone();
        existing.public_key_hash = public_key_hash;
        existing.redirect_uris = vec![redirect_uri.to_owned()];
        existing.updated_at = Some(clock.now());
        store
            .update_client(&existing)
            .await
            .context("cannot update the signup client")?;
        tracing::info!(client_id, "updated the signup client's key");
        return Ok(());
    }
    let mut name = Map::new();
    name.insert("@none".into(), Value::from("Signup"));
    name.insert("eng".into(), Value::from("Signup"));
    let record = ClientRecord {
        client_id: client_id.to_owned(),
        name,
        relying_party_id: "mosip-signup".to_owned(),
        logo_uri: String::new(),
        redirect_uris: vec![redirect_uri.to_owned()],
        claims: Vec::new(),
        acr_values: vec![ID_TOKEN_ACR.to_owned()],
        public_key: public_jwk.clone(),
        public_key_hash,
        enc_public_key: None,
        grant_types: vec!["authorization_code".into()],
        auth_methods: vec!["private_key_jwt".into()],
        status: ClientStatus::Active,
        additional_config: Some(json!({
            "userinfo_response_type": "JWS",
            "signup_banner_required": false,
            "forgot_pwd_link_required": false,
        })),
        created_at: clock.now(),
        updated_at: None,
    };
    match store.insert_client(&record).await {
        Ok(()) => {
            tracing::info!(client_id, "seeded the signup client");
            Ok(())
        }
        // Another instance seeded it first, with the same derived key.
        Err(StoreError::Conflict(_)) => Ok(()),
        Err(error) => Err(error).context("cannot seed the signup client"),
    }
}

/// Records verification outcomes in the provider's halted logins.
struct CoreReporter(Arc<Core>);

#[async_trait]
impl VerificationReporter for CoreReporter {
    async fn report(
        &self,
        halted_transaction_id: &str,
        status: VerificationStatus,
        error_code: Option<&str>,
    ) -> Result<(), SignupError> {
        self.0
            .record_signup_verification(halted_transaction_id, status.as_str(), error_code)
            .await
            .map_err(|error| SignupError::new(error.error_code()))
    }
}
