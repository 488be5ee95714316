//! Configuration of the `esignet` binary.
//!
//! One TOML file plus environment overrides, layered as built-in defaults < file <
//! environment. Every key `key` of section `[section]` can be set with the environment variable
//! `ESIGNET_<SECTION>__<KEY>` (double underscore between section and key), for example
//! `ESIGNET_SERVER__BIND=0.0.0.0:8088`. [`load`] validates everything up front and reports
//! every problem at once; with no file and no variables it yields a configuration that runs the
//! demo (embedded store under `data/`, in-process cache, generated keys, mock identity system,
//! seeded demo client).
//!
//! The key catalogue ([`catalogue`]) is generated from the same declarations as the file
//! format, and [`reference_markdown`] / [`example_toml`] render `docs/configuration.md` and
//! `config.example.toml` from it.

mod acr;
mod audit;
mod captcha;
pub mod catalogue;
mod docs;
mod error;
mod hsm;
mod ida;
mod notification;
mod raw;
mod rest_identity;
mod secret;
mod settings;
mod signup;
mod signup_redirect;
mod sources;
mod sunbird;
mod telemetry;
mod ui;
mod validate;
mod wallet;

use std::path::Path;

pub use acr::{AcrMapping, AuthFactorSpec, BUILTIN_ACR_AMR_MAPPING, FACTOR_TYPES};
pub use audit::{
    AUDIT_SINKS, AuditHttpAuth, AuditHttpSettings, AuditRaw, AuditSettings,
    DEFAULT_AUDIT_MANAGER_PATH,
};
pub use captcha::CAPTCHA_ACTIONS;
pub use docs::{example_toml, reference_markdown};
pub use error::{ConfigErrors, ConfigProblem};
pub use hsm::{KeyBackend, Pkcs11Settings, Pkcs11Token};
pub use ida::{IdaCertificateSettings, IdaRaw, IdaSettings};
pub use notification::{
    MOSIP_SMS_BODY_TEMPLATE, NOTIFICATION_TEMPLATES, NotificationRaw, NotificationSettings,
    SmsGatewaySettings, SmsMethod, SmsPreset, SmtpSecurity, SmtpSettings,
};
pub use raw::{
    AdminRaw, AuthenticatorRaw, CacheRaw, CaptchaRaw, DataRaw, DemoRaw, KeysRaw, LoggingRaw,
    OidcRaw, RawConfig, SecurityRaw, ServerRaw, SignupRedirectRaw, StoreRaw, SunbirdRcRaw,
    TelemetryRaw, TokensRaw, TransactionRaw, UiRaw, WalletRaw,
};
pub use rest_identity::{RestIdentityRaw, RestIdentitySettings, RestSendOtpSettings};
pub use secret::{EncryptionKey, REDACTED, SecretString};
pub use settings::{
    AdminSettings, AuthenticatorKind, AuthenticatorSettings, CacheKind, CacheSettings, CaptchaKind,
    CaptchaSettings, CsrfCookieSecure, DataSettings, DemoSettings, IamSettings, KeySettings,
    LogFormat, LoggingSettings, OidcSettings, PostgresSettings, RedisSettings,
    RemoteCaptchaProvider, RemoteCaptchaSettings, SecuritySettings, ServerProfile, ServerSettings,
    Settings, SigningAlgorithm, StoreKind, StoreSettings, TelemetrySettings, TokenSettings,
    TransactionSettings, UiSettings, UnknownWord, WalletSettings,
};
pub use signup::{SignupRaw, SignupSettings};
pub use signup_redirect::SignupRedirectSettings;
pub use sources::{ENV_PREFIX, RESERVED_ENV_VARS};
pub use sunbird::{SunbirdPsut, SunbirdRcSettings};

/// Environment variable naming the configuration file (read by the binary's `--config`
/// option; [`load`] itself takes the path as an argument).
pub const CONFIG_PATH_ENV_VAR: &str = "ESIGNET_CONFIG";

/// Loads and validates the configuration.
///
/// * `path`: the TOML file, if one was given (`--config` or `ESIGNET_CONFIG`). A given file
///   must exist; without one, defaults and the environment alone are used.
/// * `env`: the process environment (`std::env::vars()`); only `ESIGNET_*` variables are read.
///   A variable that matches no key is a problem, except [`RESERVED_ENV_VARS`].
///
/// Relative paths in the configuration (data directory, mapping file, token file) are relative
/// to the working directory; files named by `oidc.acr_amr_mapping_file` and
/// `admin.static_token_file` are read here.
///
/// # Errors
/// [`ConfigErrors`] listing every problem found: unreadable or malformed file, unknown keys and
/// variables, ill-typed values, and every failed validation rule.
pub fn load(
    path: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigErrors> {
    let mut problems = error::Problems::default();
    let file_text = path.and_then(|p| sources::read_file(p, &mut problems));
    let env = sources::env_layer(env, &mut problems);
    if path.is_some() && file_text.is_none() {
        // Validating defaults in place of the intended file would only add noise.
        return Err(problems.into_errors());
    }
    let file = path.zip(file_text.as_deref());
    let Some(merged) = sources::merge(file, &env, &mut problems) else {
        return Err(problems.into_errors());
    };
    let Some(raw) = sources::extract(merged, &env.origins, &mut problems) else {
        return Err(problems.into_errors());
    };
    let settings = validate::validate(raw, &mut problems);
    problems.into_result(settings)
}
