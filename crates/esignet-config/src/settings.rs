//! The validated, typed configuration handed to the service.
//!
//! Every value here has passed validation: URLs parse, durations are in range, enumerations are
//! known, and derived defaults (issuer, file paths under the data directory) are resolved.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use url::Url;

use crate::acr::AcrMapping;
use crate::secret::{EncryptionKey, SecretString};

/// The whole validated configuration. `Debug` never shows secrets (they are wrapped in
/// [`SecretString`] / [`EncryptionKey`]).
#[derive(Clone, Debug)]
pub struct Settings {
    /// `[server]`.
    pub server: ServerSettings,
    /// `[data]`.
    pub data: DataSettings,
    /// `[store]`.
    pub store: StoreSettings,
    /// `[cache]`.
    pub cache: CacheSettings,
    /// `[keys]`.
    pub keys: KeySettings,
    /// `[tokens]`.
    pub tokens: TokenSettings,
    /// `[transaction]`.
    pub transaction: TransactionSettings,
    /// `[security]`.
    pub security: SecuritySettings,
    /// `[oidc]`.
    pub oidc: OidcSettings,
    /// `[authenticator]`.
    pub authenticator: AuthenticatorSettings,
    /// `[admin]`.
    pub admin: AdminSettings,
    /// `[demo]`.
    pub demo: DemoSettings,
    /// `[ui]`.
    pub ui: UiSettings,
    /// `[captcha]`.
    pub captcha: CaptchaSettings,
    /// `[wallet]`.
    pub wallet: WalletSettings,
    /// `[signup]`.
    pub signup: crate::signup::SignupSettings,
    /// `[signup_redirect]`.
    pub signup_redirect: crate::signup_redirect::SignupRedirectSettings,
    /// `[logging]`.
    pub logging: LoggingSettings,
    /// `[telemetry]`.
    pub telemetry: TelemetrySettings,
    /// `[audit]`.
    pub audit: crate::audit::AuditSettings,
    /// `[sunbird_rc]`.
    pub sunbird_rc: crate::sunbird::SunbirdRcSettings,
    /// `[rest_identity]`.
    pub rest_identity: crate::rest_identity::RestIdentitySettings,
    /// `[notification]`.
    pub notification: crate::notification::NotificationSettings,
    /// `[ida]`.
    pub ida: crate::ida::IdaSettings,
}

impl Settings {
    /// Absolute URL of an endpoint: `public_url + base_path + path`.
    ///
    /// `path` should start with `/` (for example `/oauth/v2/token`).
    pub fn endpoint_url(&self, path: &str) -> String {
        format!(
            "{}{}{}",
            self.server.public_url, self.server.base_path, path
        )
    }

    /// The issuer identifier: discovery `issuer` and the `iss` of every token.
    pub fn issuer(&self) -> &str {
        &self.server.issuer
    }

    /// Path of the embedded SQLite database.
    pub fn sqlite_path(&self) -> PathBuf {
        self.store.sqlite_path.clone()
    }

    /// Path of the key-encryption-key file (used when no inline key is configured; created
    /// on first start if absent).
    pub fn encryption_key_file(&self) -> PathBuf {
        self.keys.encryption_key_file.clone()
    }
}

/// `[server]`: the listener and the externally visible URLs.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// Externally visible base URL, `http` or `https`, without query, fragment or trailing
    /// slash (for example `https://esignet.example` or `https://example.org/idp`).
    pub public_url: String,
    /// Path prefix of the API, starting with `/` and not ending with `/` (`/v1/esignet`).
    pub base_path: String,
    /// Issuer identifier (discovery `issuer` and token `iss`); defaults to `public_url`.
    pub issuer: String,
    /// Upper bound on the handling time of one request.
    pub request_timeout: Duration,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Requests served at once before new ones are shed with 503; `None` for no limit.
    pub max_in_flight_requests: Option<usize>,
    /// Server profile; [`ServerProfile::Fapi2`] forces PAR, DPoP and PKCE for every client.
    pub profile: ServerProfile,
}

impl ServerSettings {
    /// Whether the public URL uses `https`.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// `[data]`.
#[derive(Clone, Debug)]
pub struct DataSettings {
    /// Directory holding the embedded store, the generated key-encryption key and the demo
    /// client key (relative paths are relative to the working directory).
    pub dir: PathBuf,
}

/// `[store]`.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    /// Which store backend to use.
    pub kind: StoreKind,
    /// SQLite database file (resolved; defaults to `<data.dir>/esignet.db`).
    pub sqlite_path: PathBuf,
    /// PostgreSQL settings, when `kind` is `postgres`.
    pub postgres: Option<PostgresSettings>,
}

/// `[store]` PostgreSQL settings.
#[derive(Clone, Debug)]
pub struct PostgresSettings {
    /// Connection URL (secret: it may hold a password).
    pub url: SecretString,
    /// Schema for eSignet's tables.
    pub schema: Option<String>,
    /// Pool size per instance.
    pub max_connections: u32,
    /// Wait for a pooled connection.
    pub acquire_timeout: Duration,
    /// Statement timeout.
    pub statement_timeout: Duration,
}

/// `[cache]`.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    /// Which cache backend to use.
    pub kind: CacheKind,
    /// Most entries the in-process cache holds before refusing/evicting.
    pub max_entries: usize,
    /// Redis settings, when `kind` is `redis`.
    pub redis: Option<RedisSettings>,
}

/// `[cache]` Redis settings.
#[derive(Clone, Debug)]
pub struct RedisSettings {
    /// Connection URL (secret: it may hold a password).
    pub url: SecretString,
    /// Key and channel prefix.
    pub prefix: String,
    /// Per-command timeout.
    pub command_timeout: Duration,
}

/// `[keys]`: signing-key lifecycle and the key-encryption key.
#[derive(Clone, Debug)]
pub struct KeySettings {
    /// Algorithm of the generated signing keys.
    pub algorithm: SigningAlgorithm,
    /// Lifetime of a signing key.
    pub validity: Duration,
    /// How long before expiry a successor key is generated (always less than `validity`).
    pub rotate_before: Duration,
    /// How often the rotation check runs.
    pub rotation_check_interval: Duration,
    /// How long a rotated key is published before it signs (as configured; the binary raises it
    /// for shared stores).
    pub activation_delay: Duration,
    /// Inline key-encryption key; when `Some`, `encryption_key_file` is not used.
    pub encryption_key: Option<EncryptionKey>,
    /// Key-encryption-key file (resolved; defaults to `<data.dir>/master.key`, generated if
    /// absent). Only meaningful when `encryption_key` is `None`.
    pub encryption_key_file: PathBuf,
    /// Where the token-signing keys live.
    pub backend: crate::hsm::KeyBackend,
    /// The HSM, when `backend` is `pkcs11`.
    pub pkcs11: Option<crate::hsm::Pkcs11Settings>,
}

/// `[tokens]`: token and code lifetimes.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    /// ID token lifetime.
    pub id_token_lifetime: Duration,
    /// Access token lifetime (also the userinfo cache TTL).
    pub access_token_lifetime: Duration,
    /// Authorization code lifetime.
    pub auth_code_lifetime: Duration,
}

/// `[transaction]`: flow cache TTLs and attempt limits.
#[derive(Clone, Debug)]
pub struct TransactionSettings {
    /// TTL of a transaction between oauth-details and authenticate.
    pub preauth_ttl: Duration,
    /// TTL of a transaction between authenticate and auth-code.
    pub authenticated_ttl: Duration,
    /// TTL of a pushed authorization request.
    pub par_ttl: Duration,
    /// How long a used nonce is remembered.
    pub nonce_ttl: Duration,
    /// How long a used `jti` (client assertion, DPoP proof) is remembered.
    pub jti_ttl: Duration,
    /// Send-OTP calls allowed per transaction.
    pub send_otp_attempts: u32,
    /// Authenticate calls allowed per transaction.
    pub authenticate_attempts: u32,
    /// Window of the per-transaction rate-limit counters.
    pub rate_limit_window: Duration,
    /// How long an individual stays blocked after exhausting attempts.
    pub block_ttl: Duration,
    /// Length of the auth transaction id passed to the identity system.
    pub auth_txn_id_length: usize,
}

/// `[security]`: clock leeways and algorithm allow-lists.
#[derive(Clone, Debug)]
pub struct SecuritySettings {
    /// Accepted skew of a wrapped request's `requestTime`.
    pub request_time_leeway: Duration,
    /// Clock leeway applied to client-assertion `exp`/`iat`/`nbf`.
    pub client_assertion_leeway: Duration,
    /// Clock skew accepted on a DPoP proof's `iat` in the future.
    pub dpop_clock_skew: Duration,
    /// How old a DPoP proof's `iat` may be.
    pub dpop_iat_window: Duration,
    /// Lifetime of a server-issued DPoP nonce.
    pub dpop_nonce_ttl: Duration,
    /// Algorithms accepted for DPoP proofs (non-empty, no duplicates, in configured order).
    pub dpop_signing_algs: Vec<SigningAlgorithm>,
    /// Algorithms accepted for `private_key_jwt` client assertions (non-empty, no duplicates).
    pub client_assertion_signing_algs: Vec<SigningAlgorithm>,
    /// Whether the CSRF cookie carries `Secure` (resolved from `auto`/`always`/`never`).
    pub csrf_cookie_secure: bool,
}

/// `[oidc]`: advertised and enforced OpenID Connect capabilities.
#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// OpenID scopes supported (always contains `openid`).
    pub scopes: Vec<String>,
    /// Authorize scopes (non-OpenID scopes a client may be granted).
    pub authorize_scopes: Vec<String>,
    /// Claims supported (checked at client registration).
    pub claims_supported: Vec<String>,
    /// Claims that can be requested as verified claims (a subset of `claims_supported`).
    pub claims_in_verified_claims_supported: Vec<String>,
    /// Advertised trust frameworks of verified claims.
    pub trust_frameworks_supported: Vec<String>,
    /// Claim locales supported.
    pub claims_locales_supported: Vec<String>,
    /// UI locales supported.
    pub ui_locales_supported: Vec<String>,
    /// The ACR/AMR mapping (built-in default or loaded from `acr_amr_mapping_file`).
    pub acr_mapping: AcrMapping,
    /// ACR values advertised in discovery; each exists in `acr_mapping`.
    pub acr_values_supported: Vec<String>,
}

/// `[authenticator]`: the identity system behind authentication and KYC.
#[derive(Clone, Debug)]
pub struct AuthenticatorSettings {
    /// Which authenticator plugin to use.
    pub kind: AuthenticatorKind,
    /// The OTP the mock identity system accepts (6 digits).
    pub mock_otp: String,
    /// Base URL of the identity service API (`mock-identity-http`), without trailing slash.
    pub url: String,
    /// Time allowed for one call to the identity service.
    pub timeout: Duration,
    /// Most calls in flight towards the identity system; more queue.
    pub max_concurrent_calls: usize,
    /// Longest wait in that queue.
    pub queue_timeout: Duration,
}

/// `[admin]`: how the admin API (client management) is authenticated. Closed unless
/// [`AdminSettings::is_enabled`].
#[derive(Clone, Debug)]
pub struct AdminSettings {
    /// Bearer tokens verified against an IAM's JWKS.
    pub iam: Option<IamSettings>,
    /// A static bearer token (from `static_token` or the content of `static_token_file`),
    /// at least 32 characters.
    pub static_token: Option<SecretString>,
}

impl AdminSettings {
    /// Whether any admin authentication is configured; when `false` the admin API must reject
    /// every request.
    pub fn is_enabled(&self) -> bool {
        self.iam.is_some() || self.static_token.is_some()
    }
}

/// IAM-issued bearer tokens for the admin API.
#[derive(Clone, Debug)]
pub struct IamSettings {
    /// Where the IAM's signing keys are published.
    pub jwks_url: Url,
    /// Required `iss` of admin tokens.
    pub issuer: String,
    /// Required `aud` of admin tokens, if any.
    pub audience: Option<String>,
}

/// `[demo]`: the demo relying party seeded on first start.
#[derive(Clone, Debug)]
pub struct DemoSettings {
    /// Whether to seed the demo client on first start.
    pub seed_client: bool,
    /// Client id of the demo client.
    pub client_id: String,
    /// Display name of the demo client.
    pub client_name: String,
    /// Registered redirect URIs (patterns may end in `*` / `**` wildcards).
    pub redirect_uris: Vec<String>,
    /// Where the demo client's private JWK is written (resolved; defaults to
    /// `<data.dir>/demo-client-key.json`).
    pub private_key_file: PathBuf,
}

/// `[ui]`.
#[derive(Clone, Debug, Default)]
pub struct UiSettings {
    /// Merged into the `configs` map of oauth-details responses.
    pub configs: serde_json::Map<String, serde_json::Value>,
    /// Product name of the login pages.
    pub title: String,
    /// Header logo: an absolute http(s) URL or a path starting with `/`; `None` = built-in.
    pub logo_url: Option<String>,
    /// Brand colour (`#rgb` / `#rrggbb`, white text on it reaches 4.5:1).
    pub primary_color: String,
    /// Header background colour (`#rgb` / `#rrggbb`).
    pub secondary_color: String,
    /// Fallback language of the login pages (two-letter, one of `oidc.ui_locales_supported`).
    pub default_language: String,
    /// Extra CSP `img-src` sources of the login pages.
    pub image_sources: Vec<String>,
}

/// `[wallet]`: key binding and the QR-code (linked) login. Every duration is positive and
/// both long-poll waits are shorter than `server.request_timeout`.
#[derive(Clone, Debug)]
pub struct WalletSettings {
    /// How long a link code can be scanned.
    pub link_code_ttl: Duration,
    /// Characters of a link code (8 to 64).
    pub link_code_length: usize,
    /// Link codes one transaction may generate.
    pub link_code_limit: u64,
    /// Link codes of one transaction usable at the same time.
    pub active_link_codes: u64,
    /// Longest `link-status` long poll.
    pub link_status_timeout: Duration,
    /// Longest `link-auth-code` long poll.
    pub link_auth_code_timeout: Duration,
    /// Time to authenticate after linking.
    pub linked_ttl: Duration,
    /// Time to consent after the wallet's authentication.
    pub linked_auth_ttl: Duration,
    /// Time for the login page to collect its code after consent.
    pub consented_ttl: Duration,
    /// Required `aud` of WLA tokens (non-empty).
    pub binding_audience: String,
    /// How old (by `iat`) a WLA token may be.
    pub wla_max_age: Duration,
    /// Clock skew tolerated on WLA `iat`/`exp`.
    pub wla_clock_skew: Duration,
    /// Validity of binding certificates issued by the built-in mock (1 to 3650 days).
    pub certificate_validity: Duration,
    /// Whether `walletUserId` is encrypted to the wallet's RSA key.
    pub encrypt_binding_id: bool,
}

/// `[captcha]`: which captcha protects which actions.
#[derive(Clone, Debug)]
pub struct CaptchaSettings {
    /// The captcha kind; never [`CaptchaKind::None`] while `required` is non-empty.
    pub kind: CaptchaKind,
    /// Actions requiring a captcha, lower case, each one of `send-otp`, `pwd`, `pin`, `kbi`,
    /// `bio`, `binding-otp`, without duplicates. Empty means captcha is off.
    pub required: Vec<String>,
    /// Proof of work: leading zero bits required (8 to 32).
    pub pow_difficulty_bits: u8,
    /// Proof of work: lifetime of an issued challenge.
    pub pow_challenge_ttl: Duration,
    /// The remote verifier; `Some` exactly when `kind` is [`CaptchaKind::Remote`].
    pub remote: Option<RemoteCaptchaSettings>,
}

impl CaptchaSettings {
    /// Whether any action requires a captcha.
    pub fn is_enabled(&self) -> bool {
        !self.required.is_empty()
    }
}

/// A validated remote (siteverify) captcha.
#[derive(Clone, Debug)]
pub struct RemoteCaptchaSettings {
    /// The widget the page renders.
    pub provider: RemoteCaptchaProvider,
    /// Where tokens are verified (`https`, or `http` on a loopback host).
    pub verify_url: Url,
    /// The provider's secret key.
    pub secret: SecretString,
    /// The public site key.
    pub site_key: String,
    /// The hostname the provider must report, if checked.
    pub hostname: Option<String>,
    /// Whether the reported action must equal the checked action.
    pub check_action: bool,
    /// Upper bound on one verify call.
    pub timeout: Duration,
}

/// `[telemetry]`.
#[derive(Clone, Debug)]
pub struct TelemetrySettings {
    /// Where the metrics listener binds, if metrics are on.
    pub metrics_bind: Option<std::net::SocketAddr>,
    /// The OTLP/HTTP traces endpoint, if traces are exported.
    pub otlp_endpoint: Option<url::Url>,
    /// `service.name` of exported traces.
    pub service_name: String,
}

/// `[logging]`.
#[derive(Clone, Debug)]
pub struct LoggingSettings {
    /// Output format.
    pub format: LogFormat,
    /// Default filter directive (for example `info` or `esignet=debug,info`); `ESIGNET_LOG`
    /// overrides it at run time.
    pub level: String,
}

/// Defines a closed set of configuration words with `as_str`, `Display` and `FromStr`.
macro_rules! config_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $vdoc:literal])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[doc = $vdoc])* $variant,)+
        }

        impl $name {
            /// Every accepted spelling, in documentation order.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// The configuration spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownWord { expected: Self::ALL }),
                }
            }
        }
    };
}

/// A configuration word outside its closed set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownWord {
    /// The accepted spellings.
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("must be one of ")?;
        for (i, word) in self.expected.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "\"{word}\"")?;
        }
        Ok(())
    }
}

config_enum! {
    /// JWS algorithms this server signs with and accepts.
    SigningAlgorithm {
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        Rs256 = "RS256",
        /// RSASSA-PSS with SHA-256.
        Ps256 = "PS256",
        /// ECDSA P-256 with SHA-256.
        Es256 = "ES256",
    }
}

config_enum! {
    /// eSignet 1.8 server profile.
    ServerProfile {
        /// Per-client flags decide PAR, DPoP and PKCE.
        None = "none",
        /// FAPI 2.0: PAR, DPoP and PKCE are required for every client.
        Fapi2 = "fapi2.0",
    }
}

config_enum! {
    /// Store backend.
    StoreKind {
        /// Embedded SQLite database.
        Sqlite = "sqlite",
        /// PostgreSQL, shared by several instances.
        Postgres = "postgres",
    }
}

config_enum! {
    /// Cache backend.
    CacheKind {
        /// In-process cache.
        Memory = "memory",
        /// Redis, shared by several instances.
        Redis = "redis",
    }
}

config_enum! {
    /// Authenticator (identity system) plugin.
    AuthenticatorKind {
        /// Built-in mock identity system with demo identities.
        Mock = "mock",
        /// A mock identity service (or any system speaking its API) over HTTP.
        MockIdentityHttp = "mock-identity-http",
        /// A Sunbird RC registry (knowledge-based identification), see `[sunbird_rc]`.
        SunbirdRc = "sunbird-rc",
        /// MOSIP ID Authentication (OTP, PIN), see `[ida]`.
        Ida = "ida",
        /// A generic REST identity system configured by templates, see `[rest_identity]`.
        Rest = "rest",
    }
}

config_enum! {
    /// Log output format.
    LogFormat {
        /// Human-readable lines.
        Text = "text",
        /// One JSON object per line.
        Json = "json",
    }
}

config_enum! {
    /// When the CSRF cookie gets the `Secure` attribute.
    CsrfCookieSecure {
        /// Secure when `server.public_url` is `https`.
        Auto = "auto",
        /// Always Secure.
        Always = "always",
        /// Never Secure (plain-http development only).
        Never = "never",
    }
}

config_enum! {
    /// Captcha kind.
    CaptchaKind {
        /// No captcha.
        None = "none",
        /// The built-in proof-of-work captcha.
        Pow = "pow",
        /// A remote provider (reCAPTCHA, hCaptcha, Turnstile).
        Remote = "remote",
    }
}

config_enum! {
    /// The widget of a remote captcha (all three share the siteverify protocol).
    RemoteCaptchaProvider {
        /// Google reCAPTCHA.
        Recaptcha = "recaptcha",
        /// hCaptcha.
        Hcaptcha = "hcaptcha",
        /// Cloudflare Turnstile.
        Turnstile = "turnstile",
    }
}

impl RemoteCaptchaProvider {
    /// The provider's public verify endpoint.
    pub fn default_verify_url(self) -> &'static str {
        match self {
            Self::Recaptcha => "https://www.google.com/recaptcha/api/siteverify",
            Self::Hcaptcha => "https://api.hcaptcha.com/siteverify",
            Self::Turnstile => "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        }
    }
}
