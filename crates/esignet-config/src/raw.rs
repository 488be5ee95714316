//! The configuration file format as deserialized, before validation.
//!
//! Each section struct is declared through `section!`, which also emits that section's key
//! metadata ([`KeyDoc`]) from the same field list and doc comments: the documentation, the
//! example file and the environment parser cannot drift from the format. This file is the flat
//! catalogue of keys.

use serde::{Deserialize, Serialize};

use crate::catalogue::{KeyDoc, SectionDoc, ValueKind};
use crate::secret::SecretString;
use crate::settings::{
    AuthenticatorKind, CacheKind, CaptchaKind, CsrfCookieSecure, LogFormat, RemoteCaptchaProvider,
    ServerProfile, SigningAlgorithm, StoreKind,
};

/// Declares a section struct (with serde defaults and `deny_unknown_fields`) and its metadata.
///
/// Field syntax: doc comment (first line = summary), `name: Type = default, ValueKind`, then
/// optionally `default_doc = "markdown"` (shown instead of the serialized default) and
/// `example = "toml value"` (shown in the example file for unset keys).
macro_rules! section {
    (
        $(#[doc = $sdoc:literal])*
        $name:ident = $section:literal {
            $(
                $(#[doc = $doc:literal])+
                $field:ident : $ty:ty = $default:expr, $kind:expr
                    $(, default_doc = $ddoc:literal)? $(, example = $example:literal)? ;
            )+
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $( $(#[doc = $doc])+ pub $field: $ty, )+
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $($field: $default,)+ }
            }
        }

        impl $name {
            /// Metadata of every key of this section, in declaration order.
            pub const KEYS: &'static [KeyDoc] = &[$(
                KeyDoc {
                    section: $section,
                    key: stringify!($field),
                    kind: $kind,
                    doc: concat!($($doc, "\n"),+),
                    default_doc: section!(@opt $($ddoc)?),
                    example: section!(@opt $($example)?),
                },
            )+];

            /// Metadata of this section.
            pub const SECTION: SectionDoc =
                SectionDoc { name: $section, doc: concat!($($sdoc, "\n"),*), keys: Self::KEYS };
        }
    };
    (@opt) => { None };
    (@opt $value:literal) => { Some($value) };
}
// Sections declared in their own files (`signup.rs`) use the same macro.
pub(crate) use section;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The whole file. Unknown sections and keys are rejected.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    /// Version of the configuration format; must be 1.
    pub version: u64,
    /// `[server]`.
    pub server: ServerRaw,
    /// `[data]`.
    pub data: DataRaw,
    /// `[store]`.
    pub store: StoreRaw,
    /// `[cache]`.
    pub cache: CacheRaw,
    /// `[keys]`.
    pub keys: KeysRaw,
    /// `[tokens]`.
    pub tokens: TokensRaw,
    /// `[transaction]`.
    pub transaction: TransactionRaw,
    /// `[security]`.
    pub security: SecurityRaw,
    /// `[oidc]`.
    pub oidc: OidcRaw,
    /// `[authenticator]`.
    pub authenticator: AuthenticatorRaw,
    /// `[admin]`.
    pub admin: AdminRaw,
    /// `[demo]`.
    pub demo: DemoRaw,
    /// `[ui]`.
    pub ui: UiRaw,
    /// `[captcha]`.
    pub captcha: CaptchaRaw,
    /// `[wallet]`.
    pub wallet: WalletRaw,
    /// `[signup_redirect]`.
    pub signup_redirect: SignupRedirectRaw,
    /// `[logging]`.
    pub logging: LoggingRaw,
    /// `[telemetry]`.
    pub telemetry: TelemetryRaw,
    /// `[signup]`.
    pub signup: crate::signup::SignupRaw,
    /// `[sunbird_rc]`.
    pub sunbird_rc: SunbirdRcRaw,
    /// `[rest_identity]`.
    pub rest_identity: crate::rest_identity::RestIdentityRaw,
    /// `[notification]`.
    pub notification: crate::notification::NotificationRaw,
    /// `[audit]`.
    pub audit: crate::audit::AuditRaw,
    /// `[ida]`.
    pub ida: crate::ida::IdaRaw,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            version: 1,
            server: ServerRaw::default(),
            data: DataRaw::default(),
            store: StoreRaw::default(),
            cache: CacheRaw::default(),
            keys: KeysRaw::default(),
            tokens: TokensRaw::default(),
            transaction: TransactionRaw::default(),
            security: SecurityRaw::default(),
            oidc: OidcRaw::default(),
            authenticator: AuthenticatorRaw::default(),
            admin: AdminRaw::default(),
            demo: DemoRaw::default(),
            ui: UiRaw::default(),
            captcha: CaptchaRaw::default(),
            wallet: WalletRaw::default(),
            signup_redirect: SignupRedirectRaw::default(),
            logging: LoggingRaw::default(),
            telemetry: TelemetryRaw::default(),
            signup: crate::signup::SignupRaw::default(),
            sunbird_rc: SunbirdRcRaw::default(),
            rest_identity: crate::rest_identity::RestIdentityRaw::default(),
            notification: crate::notification::NotificationRaw::default(),
            audit: crate::audit::AuditRaw::default(),
            ida: crate::ida::IdaRaw::default(),
        }
    }
}

/// The top-level keys (outside any section).
const TOP_LEVEL: SectionDoc = SectionDoc {
    name: "",
    doc: "Top-level keys.\n",
    keys: &[KeyDoc {
        section: "",
        key: "version",
        kind: ValueKind::Int,
        doc: "Version of the configuration format; must be 1.\n",
        default_doc: None,
        example: None,
    }],
};

/// Every section in file order; the source of [`crate::catalogue::sections`].
pub(crate) const SECTIONS: &[SectionDoc] = &[
    TOP_LEVEL,
    ServerRaw::SECTION,
    DataRaw::SECTION,
    StoreRaw::SECTION,
    CacheRaw::SECTION,
    KeysRaw::SECTION,
    TokensRaw::SECTION,
    TransactionRaw::SECTION,
    SecurityRaw::SECTION,
    OidcRaw::SECTION,
    AuthenticatorRaw::SECTION,
    AdminRaw::SECTION,
    DemoRaw::SECTION,
    UiRaw::SECTION,
    CaptchaRaw::SECTION,
    WalletRaw::SECTION,
    SignupRedirectRaw::SECTION,
    LoggingRaw::SECTION,
    TelemetryRaw::SECTION,
    crate::signup::SignupRaw::SECTION,
    SunbirdRcRaw::SECTION,
    crate::rest_identity::RestIdentityRaw::SECTION,
    crate::notification::NotificationRaw::SECTION,
    crate::audit::AuditRaw::SECTION,
    crate::ida::IdaRaw::SECTION,
];

section! {
    /// The HTTP listener and the externally visible URLs.
    ServerRaw = "server" {
        /// Socket address (`host:port`) the HTTP server listens on.
        /// Use `0.0.0.0:8088` to accept connections from other hosts or containers.
        bind: String = "127.0.0.1:8088".to_owned(), ValueKind::Str;
        /// Externally visible base URL of this server, as browsers and relying parties reach it.
        /// Must be `http` or `https` without query or fragment; a trailing slash is removed.
        /// Endpoint URLs in discovery are built as `public_url + base_path + path`.
        public_url: String = "http://127.0.0.1:8088".to_owned(), ValueKind::Str;
        /// Path prefix of every API route.
        /// Must start with `/` and must not end with `/`.
        base_path: String = "/v1/esignet".to_owned(), ValueKind::Str;
        /// Issuer identifier: the discovery `issuer` and the `iss` of every token.
        /// Defaults to `server.public_url` (eSignet 1.8 behaviour: both values are equal).
        /// Must be an `http(s)` URL without query or fragment.
        issuer: Option<String> = None, ValueKind::OptStr,
            default_doc = "same as `server.public_url`", example = "\"http://127.0.0.1:8088\"";
        /// Longest time one request may take before it is answered with a timeout, in seconds.
        request_timeout_secs: u64 = 30, ValueKind::Int;
        /// Largest accepted request body, in bytes.
        max_body_bytes: u64 = 65_536, ValueKind::Int;
        /// Most requests one instance serves at once; `0` turns the limit off.
        /// More are refused at once with `503` and `Retry-After` (load shedding), so a burst
        /// cannot queue until every request is late. Long polls count; the health endpoint is
        /// never refused.
        max_in_flight_requests: u64 = 1024, ValueKind::Int;
        /// Server profile: `none`, or `fapi2.0` to force PAR, DPoP and PKCE for every client.
        /// This is eSignet 1.8's `mosip.esignet.server.profile`.
        profile: String = "none".to_owned(), ValueKind::Enum(ServerProfile::ALL);
    }
}

section! {
    /// Where local state lives.
    DataRaw = "data" {
        /// Directory for the embedded store, the generated key-encryption key and the demo client key.
        /// Relative paths are relative to the working directory; it is created if missing.
        dir: String = "data".to_owned(), ValueKind::Str;
    }
}

section! {
    /// The persistent store (clients, keys, consents).
    StoreRaw = "store" {
        /// Store backend: `sqlite` (embedded, one instance) or `postgres` (shared by many instances).
        kind: String = "sqlite".to_owned(), ValueKind::Enum(StoreKind::ALL);
        /// SQLite database file.
        /// Defaults to `esignet.db` inside `data.dir`.
        sqlite_path: Option<String> = None, ValueKind::OptStr,
            default_doc = "`<data.dir>/esignet.db`", example = "\"data/esignet.db\"";
        /// PostgreSQL connection URL, for `kind = "postgres"` (may hold a password: redacted in logs).
        /// Example: `postgres://esignet:secret@db:5432/esignet`.
        postgres_url: Option<SecretString> = None, ValueKind::Secret,
            default_doc = "unset", example = "\"postgres://esignet:secret@127.0.0.1:5432/esignet\"";
        /// PostgreSQL schema holding eSignet's tables (created if missing); default: the server's search path.
        postgres_schema: Option<String> = None, ValueKind::OptStr,
            default_doc = "unset", example = "\"esignet\"";
        /// Most PostgreSQL connections one instance opens.
        postgres_max_connections: u64 = 16, ValueKind::Int;
        /// Longest wait for a free PostgreSQL connection before answering 503.
        postgres_acquire_timeout_secs: u64 = 3, ValueKind::Int;
        /// Longest a PostgreSQL statement may run.
        postgres_statement_timeout_secs: u64 = 5, ValueKind::Int;
    }
}

section! {
    /// The transaction cache (flow state, nonces, rate limits).
    CacheRaw = "cache" {
        /// Cache backend: `memory` (in-process, one instance) or `redis` (shared by many instances).
        /// An in-process cache means a single server instance.
        kind: String = "memory".to_owned(), ValueKind::Enum(CacheKind::ALL);
        /// Most entries the in-process cache holds.
        max_entries: u64 = 1_000_000, ValueKind::Int;
        /// Redis URL, for `kind = "redis"` (may hold a password: redacted in logs).
        /// Example: `redis://cache:6379`.
        redis_url: Option<SecretString> = None, ValueKind::Secret,
            default_doc = "unset", example = "\"redis://127.0.0.1:6379\"";
        /// Prefix of every Redis key and channel (lets several deployments share one Redis).
        redis_prefix: String = "esignet".to_owned(), ValueKind::Str;
        /// Longest a Redis command may take before answering 503, in milliseconds.
        redis_command_timeout_ms: u64 = 2000, ValueKind::Int;
    }
}

section! {
    /// Signing keys and the key-encryption key that protects them at rest.
    KeysRaw = "keys" {
        /// Algorithm of the generated token-signing keys.
        algorithm: String = "RS256".to_owned(), ValueKind::Enum(SigningAlgorithm::ALL);
        /// Lifetime of a signing key, in days.
        validity_days: u64 = 90, ValueKind::Int;
        /// How many days before a key expires its successor is generated.
        /// Must be less than `keys.validity_days`.
        rotate_before_days: u64 = 14, ValueKind::Int;
        /// How often each instance reloads keys and checks whether a rotation is due, in seconds.
        /// It bounds how long an instance takes to see a key another instance generated.
        rotation_check_interval_secs: u64 = 300, ValueKind::Int;
        /// How long a rotated key is published before it signs, in seconds.
        /// With a shared store (`store.kind = "postgres"`) at least twice `rotation_check_interval_secs` is used, so every instance knows a key before it is used.
        activation_delay_secs: u64 = 0, ValueKind::Int;
        /// Key-encryption key given inline: base64 of exactly 32 bytes.
        /// Prefer setting it through `ESIGNET_KEYS__ENCRYPTION_KEY`. Cannot be combined with `keys.encryption_key_file`.
        encryption_key: Option<SecretString> = None, ValueKind::Secret,
            example = "\"<base64 of 32 random bytes>\"";
        /// File holding the key-encryption key; generated on first start if absent.
        /// Defaults to `master.key` inside `data.dir`. Cannot be combined with `keys.encryption_key`.
        encryption_key_file: Option<String> = None, ValueKind::OptStr,
            default_doc = "`<data.dir>/master.key`", example = "\"data/master.key\"";
        /// Where the service's token-signing keys are generated and used: `software` (in memory, stored encrypted under the key-encryption key) or `pkcs11` (inside an HSM token; the store keeps only certificates and key labels).
        /// Switching to `pkcs11` keeps existing software keys verifying until they expire; the next rotation makes an HSM key current. See docs/keys.md.
        backend: String = "software".to_owned(), ValueKind::Enum(crate::hsm::KeyBackend::ALL);
        /// Path of the HSM vendor's PKCS#11 library, for `backend = "pkcs11"`.
        /// For SoftHSM2 on Debian: `/usr/lib/softhsm/libsofthsm2.so`.
        pkcs11_module: Option<String> = None, ValueKind::OptStr,
            example = "\"/usr/lib/softhsm/libsofthsm2.so\"";
        /// Label of the token holding the keys. Cannot be combined with `keys.pkcs11_slot`.
        pkcs11_token_label: Option<String> = None, ValueKind::OptStr,
            example = "\"esignet\"";
        /// Slot id of the token holding the keys, instead of `keys.pkcs11_token_label`.
        pkcs11_slot: Option<String> = None, ValueKind::OptStr,
            example = "\"0\"";
        /// The token's user PIN. Prefer `ESIGNET_KEYS__PKCS11_PIN` or `keys.pkcs11_pin_file`; never logged.
        pkcs11_pin: Option<SecretString> = None, ValueKind::Secret,
            example = "\"<user PIN>\"";
        /// File holding the user PIN (a trailing newline is ignored), instead of `keys.pkcs11_pin`.
        pkcs11_pin_file: Option<String> = None, ValueKind::OptStr,
            example = "\"/run/secrets/hsm-pin\"";
        /// Prefix of the labels of the keys the service creates in the token (`<prefix>:<application>:<random>`).
        /// Lets several deployments share one token.
        pkcs11_key_label_prefix: String = "esignet".to_owned(), ValueKind::Str;
        /// Most PKCS#11 sessions open at once for signing.
        /// Each concurrent signature needs its own session: at least the signing threads (twice the CPU cores), within the HSM's per-application session limit.
        pkcs11_max_sessions: u64 = 8, ValueKind::Int;
        /// Hold the key-encryption key in the token too, with `backend = "pkcs11"`: an AES-256 key (`<prefix>:kek`, sensitive, non-extractable, generated on first start) seals the software private keys through the HSM, so no KEK file or secret exists.
        /// Cannot be combined with `keys.encryption_key` or `keys.encryption_key_file`. Keys sealed by a software KEK before cannot be opened with it. See docs/keys.md.
        pkcs11_kek: bool = false, ValueKind::Bool;
    }
}

section! {
    /// Token and authorization-code lifetimes.
    TokensRaw = "tokens" {
        /// ID token lifetime, in seconds.
        id_token_lifetime_secs: u64 = 3600, ValueKind::Int;
        /// Access token lifetime, in seconds.
        /// Userinfo can be fetched with an access token for this long.
        access_token_lifetime_secs: u64 = 3600, ValueKind::Int;
        /// Authorization code lifetime, in seconds.
        auth_code_lifetime_secs: u64 = 300, ValueKind::Int;
    }
}

section! {
    /// Lifetimes of flow state in the cache, and attempt limits.
    TransactionRaw = "transaction" {
        /// Seconds a transaction may wait between oauth-details and authenticate.
        preauth_ttl_secs: u64 = 300, ValueKind::Int;
        /// Seconds a transaction may wait between authenticate and auth-code.
        authenticated_ttl_secs: u64 = 120, ValueKind::Int;
        /// Seconds a pushed authorization request (`request_uri`) stays usable.
        par_ttl_secs: u64 = 60, ValueKind::Int;
        /// Seconds a used `nonce` is remembered to reject replays.
        nonce_ttl_secs: u64 = 86_400, ValueKind::Int;
        /// Seconds a used `jti` (client assertion or DPoP proof) is remembered to reject replays.
        jti_ttl_secs: u64 = 86_400, ValueKind::Int;
        /// Send-OTP requests allowed per transaction.
        send_otp_attempts: u64 = 3, ValueKind::Int;
        /// Authenticate requests allowed per transaction.
        authenticate_attempts: u64 = 3, ValueKind::Int;
        /// Window of the per-transaction attempt counters, in seconds.
        rate_limit_window_secs: u64 = 180, ValueKind::Int;
        /// Seconds an individual stays blocked after exhausting the attempts.
        block_ttl_secs: u64 = 600, ValueKind::Int;
        /// Length of the auth transaction id passed to the identity system (1 to 64).
        auth_txn_id_length: u64 = 10, ValueKind::Int;
    }
}

section! {
    /// Clock leeways and accepted signature algorithms.
    SecurityRaw = "security" {
        /// Seconds a wrapped request's `requestTime` may differ from the server clock.
        request_time_leeway_secs: u64 = 120, ValueKind::Int;
        /// Clock leeway for client-assertion `exp`, `iat` and `nbf`, in seconds (FAPI 2.0 §5.3.2.1 asks to accept up to 10 s in the future).
        client_assertion_leeway_secs: u64 = 10, ValueKind::Int;
        /// Seconds a DPoP proof's `iat` may lie in the future.
        dpop_clock_skew_secs: u64 = 10, ValueKind::Int;
        /// Seconds a DPoP proof's `iat` may lie in the past.
        dpop_iat_window_secs: u64 = 60, ValueKind::Int;
        /// Lifetime of a server-issued DPoP nonce, in seconds.
        dpop_nonce_ttl_secs: u64 = 15, ValueKind::Int;
        /// Algorithms accepted for DPoP proofs (each one of `RS256`, `PS256`, `ES256`).
        dpop_signing_algs: Vec<String> = strings(&["ES256", "PS256", "RS256"]), ValueKind::StrList;
        /// Algorithms accepted for `private_key_jwt` client assertions (each one of `RS256`, `PS256`, `ES256`).
        client_assertion_signing_algs: Vec<String> = strings(&["RS256", "PS256", "ES256"]), ValueKind::StrList;
        /// Whether the CSRF cookie is marked `Secure`: `auto`, `always` or `never`.
        /// `auto` marks it Secure when `server.public_url` is `https`.
        csrf_cookie_secure: String = "auto".to_owned(), ValueKind::Enum(CsrfCookieSecure::ALL);
    }
}

section! {
    /// OpenID Connect capabilities: advertised in discovery and enforced by the validators.
    OidcRaw = "oidc" {
        /// OpenID scopes supported; must include `openid`.
        scopes: Vec<String> = strings(&["openid", "profile", "email", "phone", "address"]), ValueKind::StrList;
        /// Authorize scopes a client may be registered for (scopes that are not OpenID scopes).
        authorize_scopes: Vec<String> = strings(&[
            "Manage-Identity-Data",
            "Manage-VID",
            "Manage-Authentication",
            "Manage-Service-Requests",
            "Manage-Credentials",
        ]), ValueKind::StrList;
        /// Claims supported; client registrations may only request these.
        claims_supported: Vec<String> = strings(&[
            "name",
            "given_name",
            "family_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "address",
            "gender",
            "birthdate",
            "picture",
            "email",
            "phone_number",
            "phone_number_verified",
            "locale",
            "zoneinfo",
            "individual_id",
            "registration_type",
            "updated_at",
        ]), ValueKind::StrList;
        /// Claims that can be requested as verified claims; each must be in `oidc.claims_supported`.
        claims_in_verified_claims_supported: Vec<String> = strings(&[
            "name",
            "given_name",
            "family_name",
            "address",
            "gender",
            "birthdate",
            "picture",
            "email",
            "phone_number",
        ]), ValueKind::StrList;
        /// Trust frameworks of the identity system's verified claims, advertised as `trust_frameworks_supported` (OpenID Identity Assurance §8; required in discovery when verified claims are supported). The defaults are those of the demo residents and of the mock video-eKYC verifier (`XYZ TF`).
        trust_frameworks_supported: Vec<String> = strings(&["eidas", "uk_tfida", "de_aml", "nist_800_63A", "XYZ TF"]), ValueKind::StrList;
        /// Locales supported for claim values.
        claims_locales_supported: Vec<String> = strings(&["en", "fr", "ar", "hi", "kn", "ta", "km"]), ValueKind::StrList;
        /// Locales supported for the login UI.
        ui_locales_supported: Vec<String> = strings(&["en", "fr", "ar", "hi", "kn", "ta", "km"]), ValueKind::StrList;
        /// JSON file mapping ACR values to authentication factors, in eSignet's `amr-acr-mapping.json` format.
        /// Loaded and validated at start. Unset means the built-in mapping (eSignet's bundled default:
        /// static-code, generated-code, linked-wallet, biometrics, knowledge, password, id-token).
        acr_amr_mapping_file: Option<String> = None, ValueKind::OptStr,
            default_doc = "built-in mapping", example = "\"amr-acr-mapping.json\"";
        /// ACR values advertised in discovery; each must exist in the ACR/AMR mapping.
        acr_values_supported: Vec<String> = strings(&[
            "mosip:idp:acr:knowledge",
            "mosip:idp:acr:password",
            "mosip:idp:acr:static-code",
            "mosip:idp:acr:generated-code",
            "mosip:idp:acr:linked-wallet",
            "mosip:idp:acr:biometrics",
        ]), ValueKind::StrList;
    }
}

section! {
    /// The identity system that authenticates individuals and supplies their claims.
    AuthenticatorRaw = "authenticator" {
        /// Authenticator plugin: `mock` (built-in, in process) or `mock-identity-http` (over HTTP).
        /// `sunbird-rc` is a Sunbird RC registry (`[sunbird_rc]`), `ida` MOSIP ID Authentication (`[ida]`), `rest` a generic REST identity system (`[rest_identity]`).
        /// `mock-identity-http` talks to the mock identity service (`esignet mock-identity`) or
        /// any identity system speaking its API.
        kind: String = "mock".to_owned(), ValueKind::Enum(AuthenticatorKind::ALL);
        /// The OTP the built-in mock identity system accepts for every identity (6 digits).
        mock_otp: String = "111111".to_owned(), ValueKind::Str;
        /// Base URL of the identity service API, for `kind = "mock-identity-http"`.
        url: String = "http://127.0.0.1:8082/v1/mock-identity-system".to_owned(), ValueKind::Str;
        /// Total time allowed for one call to the identity service, for `kind = "mock-identity-http"`.
        timeout_secs: u64 = 10, ValueKind::Int;
        /// Most calls this instance has in flight towards the identity system (any `kind`); further calls queue, in order.
        /// Bounds what a slow identity system can make the instance hold: connections, buffers and waiting logins.
        max_concurrent_calls: u64 = 1024, ValueKind::Int;
        /// How long a call may queue for one of the `max_concurrent_calls` before it fails with `identity_system_unavailable`.
        queue_timeout_ms: u64 = 2000, ValueKind::Int;
    }
}

section! {
    /// Authentication of the admin API (client management).
    /// The admin API is never open by default: it rejects every request unless `iam_jwks_url` or a static token is set.
    AdminRaw = "admin" {
        /// JWKS URL of the IAM whose bearer tokens may call the admin API.
        /// Requires `admin.iam_issuer`.
        iam_jwks_url: Option<String> = None, ValueKind::OptStr,
            example = "\"https://iam.example/realms/mosip/protocol/openid-connect/certs\"";
        /// Required `iss` of IAM bearer tokens; required when `admin.iam_jwks_url` is set.
        iam_issuer: Option<String> = None, ValueKind::OptStr,
            example = "\"https://iam.example/realms/mosip\"";
        /// Required `aud` of IAM bearer tokens, if any.
        iam_audience: Option<String> = None, ValueKind::OptStr, example = "\"esignet\"";
        /// Static bearer token accepted by the admin API (at least 32 characters).
        /// Prefer `ESIGNET_ADMIN__STATIC_TOKEN` or `admin.static_token_file`. Cannot be combined with `admin.static_token_file`.
        static_token: Option<SecretString> = None, ValueKind::Secret,
            example = "\"<at least 32 random characters>\"";
        /// File whose content (surrounding whitespace removed) is the static admin bearer token.
        /// Read at start; the token must be at least 32 characters.
        static_token_file: Option<String> = None, ValueKind::OptStr,
            example = "\"data/admin-token\"";
    }
}

section! {
    /// The demo relying party seeded on first start.
    DemoRaw = "demo" {
        /// Seed the demo client on first start (only when it does not exist yet).
        seed_client: bool = true, ValueKind::Bool;
        /// Client id of the demo client.
        client_id: String = "health-services-demo".to_owned(), ValueKind::Str;
        /// Display name of the demo client.
        client_name: String = "Health Services Portal".to_owned(), ValueKind::Str;
        /// Redirect URIs registered for the demo client; a trailing `*` or `**` is a wildcard.
        redirect_uris: Vec<String> = strings(&["http://127.0.0.1:8090/**", "http://localhost:8090/**"]), ValueKind::StrList;
        /// File where the demo client's private key (a JWK) is written on first start.
        /// Defaults to `demo-client-key.json` inside `data.dir`.
        private_key_file: Option<String> = None, ValueKind::OptStr,
            default_doc = "`<data.dir>/demo-client-key.json`", example = "\"data/demo-client-key.json\"";
    }
}

section! {
    /// Login UI settings.
    UiRaw = "ui" {
        /// Free-form table merged into the `configs` map of oauth-details responses.
        /// Values may be any TOML value (strings, numbers, booleans, arrays, tables);
        /// in the environment give a JSON object or a TOML inline table.
        configs: serde_json::Map<String, serde_json::Value> = serde_json::Map::new(), ValueKind::Table,
            example = "{ \"resend.otp.delay.secs\" = 180, \"sbi.env\" = \"Developer\" }";
        /// Product name shown in the login pages' header and window title.
        title: String = "eSignet".to_owned(), ValueKind::Str;
        /// Logo in the login pages' header: an absolute `http(s)` URL or a path on this server starting with `/`.
        /// Unset shows the built-in mark; an absolute URL's origin is added to the pages' CSP `img-src`.
        logo_url: Option<String> = None, ValueKind::OptStr,
            example = "\"https://example.org/logo.svg\"";
        /// Brand colour of the login pages' buttons, links and focus rings, `#rgb` or `#rrggbb`.
        /// White text on it must reach WCAG AA contrast (4.5:1), so buttons stay readable.
        primary_color: String = "#0b5cad".to_owned(), ValueKind::Str;
        /// Background colour of the login pages' header band, `#rgb` or `#rrggbb`.
        /// Its text is black or white, whichever contrasts more.
        secondary_color: String = "#eef3f9".to_owned(), ValueKind::Str;
        /// Language of the login pages when neither `ui_locales`, the resident's earlier choice nor the browser's languages name a supported one.
        /// Two-letter code listed in `oidc.ui_locales_supported`.
        default_language: String = "en".to_owned(), ValueKind::Str;
        /// Extra CSP `img-src` sources of the login pages, for relying-party and wallet logos hosted elsewhere (`https://rp.example.org`, or `https:` for any).
        /// The pages load images only from this server otherwise; the seeded demo client's origin is added while `demo.seed_client` is on.
        image_sources: Vec<String> = Vec::new(), ValueKind::StrList;
    }
}

section! {
    /// Captcha on the login page's sensitive requests (eSignet's `mosip.esignet.captcha.*`); off by default.
    /// The login page learns the settings from the oauth-details `configs` keys `captcha.enable`, `captcha.sitekey`,
    /// `captcha.kind`, `captcha.provider`, `captcha.pow.challenge-url` and `captcha.pow.difficulty`, which are
    /// derived from this section and take precedence over `[ui] configs`.
    CaptchaRaw = "captcha" {
        /// Captcha kind: `none`, `pow` (built-in proof of work: no third party sees the resident) or `remote` (reCAPTCHA, hCaptcha or Turnstile).
        kind: String = "none".to_owned(), ValueKind::Enum(CaptchaKind::ALL);
        /// Actions that require a captcha, each one of `send-otp`, `pwd`, `pin`, `kbi`, `bio`, `binding-otp`.
        /// `send-otp` guards requesting an OTP; `binding-otp` a wallet's key-binding OTP (v2 only); the others guard authenticating with that factor.
        /// Empty turns captcha off; a non-empty list needs `captcha.kind` other than `none`.
        required: Vec<String> = Vec::new(), ValueKind::StrList;
        /// Proof of work: leading zero bits of SHA-256 a solution needs (8 to 32).
        /// 14 costs a phone about half a second on average; each extra bit doubles the cost.
        pow_difficulty_bits: u64 = 14, ValueKind::Int;
        /// Proof of work: seconds an issued challenge stays usable.
        pow_challenge_ttl_secs: u64 = 300, ValueKind::Int;
        /// Remote: the widget the login page renders: `recaptcha`, `hcaptcha` or `turnstile`.
        remote_provider: String = "recaptcha".to_owned(), ValueKind::Enum(RemoteCaptchaProvider::ALL);
        /// Remote: URL tokens are verified at (the provider's `siteverify` protocol).
        /// Must be `https`, except for a loopback host.
        remote_verify_url: Option<String> = None, ValueKind::OptStr,
            default_doc = "the provider's siteverify URL", example = "\"https://www.google.com/recaptcha/api/siteverify\"";
        /// Remote: the provider's secret key; required when `captcha.kind` is `remote`.
        /// Prefer setting it through `ESIGNET_CAPTCHA__REMOTE_SECRET`.
        remote_secret: Option<SecretString> = None, ValueKind::Secret,
            example = "\"<provider secret key>\"";
        /// Remote: the public site key the widget is rendered with; required when `captcha.kind` is `remote`.
        remote_site_key: Option<String> = None, ValueKind::OptStr, example = "\"<provider site key>\"";
        /// Remote: the hostname the provider must report the captcha was solved on; unset means not checked.
        remote_hostname: Option<String> = None, ValueKind::OptStr, example = "\"login.example.org\"";
        /// Remote: require the action the provider reports to equal the action checked (reCAPTCHA v3, Turnstile).
        remote_check_action: bool = false, ValueKind::Bool;
        /// Remote: seconds a verify call may take; slower answers fail with `failed_to_validate_captcha`.
        remote_timeout_secs: u64 = 5, ValueKind::Int;
    }
}

section! {
    /// Wallets: key binding (`/binding/*`) and the QR-code login (`/linked-authorization/*`).
    /// eSignet's `link-code-*`, `link-status-deferred-response-timeout-secs`, `binding.*` and the linked cache TTLs.
    WalletRaw = "wallet" {
        /// Seconds a link code (the QR code of the wallet login) can be scanned.
        /// Cut at the end of the login transaction's `transaction.preauth_ttl_secs`.
        link_code_ttl_secs: u64 = 60, ValueKind::Int;
        /// Characters of a link code (`[A-Za-z0-9]`, 8 to 64).
        link_code_length: u64 = 15, ValueKind::Int;
        /// Link codes one login transaction may generate in total (1 to 100).
        link_code_limit: u64 = 10, ValueKind::Int;
        /// Link codes of one transaction usable at the same time; a new code evicts the oldest (1 to 10).
        active_link_codes: u64 = 2, ValueKind::Int;
        /// Longest wait of one `link-status` long poll, in seconds, before it answers `response_timeout`.
        /// Must be less than `server.request_timeout_secs`.
        link_status_timeout_secs: u64 = 25, ValueKind::Int;
        /// Longest wait of one `link-auth-code` long poll, in seconds, before it answers `response_timeout`.
        /// Must be less than `server.request_timeout_secs`.
        link_auth_code_timeout_secs: u64 = 25, ValueKind::Int;
        /// Seconds a wallet has after scanning the code to authenticate the resident.
        linked_ttl_secs: u64 = 300, ValueKind::Int;
        /// Seconds a wallet has after authenticating to send the resident's consent.
        linked_auth_ttl_secs: u64 = 120, ValueKind::Int;
        /// Seconds the login page has after the wallet's consent to collect its authorization code.
        consented_ttl_secs: u64 = 300, ValueKind::Int;
        /// Required `aud` of WLA tokens (the JWTs wallets sign with their bound key to log in).
        binding_audience: String = "esignet-binding".to_owned(), ValueKind::Str;
        /// Seconds after its `iat` a WLA token stays acceptable.
        wla_max_age_secs: u64 = 120, ValueKind::Int;
        /// Clock skew tolerated on a WLA token's `iat` and `exp`, in seconds.
        wla_clock_skew_secs: u64 = 10, ValueKind::Int;
        /// Days a binding certificate, and so a wallet binding, stays valid (built-in mock identity system).
        certificate_validity_days: u64 = 10, ValueKind::Int;
        /// Whether `walletUserId` is returned as a JWE encrypted to the wallet's RSA key (EC keys get it in clear).
        encrypt_binding_id: bool = true, ValueKind::Bool;
    }
}

section! {
    /// The signup detour (eSignet's `mosip.esignet.signup-*` and the UI's `signup.config`,
    /// `forgot-password.config`, `eKYC-steps.config`): sign-up and forgot-password links on the
    /// login page, and identity verification at the signup service when an RP asks for verified
    /// claims the resident lacks. URLs left empty derive from `server.issuer`.
    SignupRedirectRaw = "signup_redirect" {
        /// Whether prepare/complete-signup-redirect, the `id_token_hint` of the signup client and the `IDT` factor are on.
        enabled: bool = false, ValueKind::Bool;
        /// The signup service's OAuth client id, also the `aud` of the ID tokens prepare-signup-redirect issues.
        client_id: String = "mosip-signup-oauth-client".to_owned(), ValueKind::Str;
        /// Seconds the ID token (and the cookie set with it) stays valid.
        id_token_lifetime_secs: u64 = 300, ValueKind::Int;
        /// Seconds a halted transaction waits for the resident to come back from the signup service.
        halted_ttl_secs: u64 = 1800, ValueKind::Int;
        /// The sign-up page the login page's banner links to (default `<issuer>/signup/register`).
        signup_url: Option<String> = None, ValueKind::OptStr, example = "\"https://signup.example.org/signup/register\"";
        /// The password-reset page of the "forgot password" link (default `<issuer>/signup/reset-password`).
        forgot_password_url: Option<String> = None, ValueKind::OptStr, example = "\"https://signup.example.org/signup/reset-password\"";
        /// The identity-verification page of the eKYC detour (default `<issuer>/signup/identity-verification`).
        ekyc_url: Option<String> = None, ValueKind::OptStr, example = "\"https://signup.example.org/signup/identity-verification\"";
        /// Whether the login page shows the sign-up banner (a client's `additional_config.signup_banner_required` overrides it).
        signup_banner: bool = true, ValueKind::Bool;
        /// Whether the password login shows the "forgot password" link (a client's `additional_config.forgot_pwd_link_required` overrides it).
        forgot_password_link: bool = true, ValueKind::Bool;
    }
}

section! {
    /// Log output.
    LoggingRaw = "logging" {
        /// Log format: `text` for people, `json` for log collectors.
        format: String = "text".to_owned(), ValueKind::Enum(LogFormat::ALL);
        /// Default log filter (for example `info` or `esignet=debug,info`).
        /// The `ESIGNET_LOG` environment variable overrides it.
        level: String = "info".to_owned(), ValueKind::Str;
    }
}

section! {
    /// Metrics and traces for operators (docs/operations.md).
    TelemetryRaw = "telemetry" {
        /// Socket address of the separate listener serving Prometheus metrics at `/metrics`.
        /// Empty: no metrics listener. Keep it off the public network (for example
        /// `127.0.0.1:9464`, or a cluster-internal address): it is for the monitoring system.
        metrics_bind: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"127.0.0.1:9464\"";
        /// OpenTelemetry collector endpoint receiving traces over OTLP/HTTP.
        /// For example `http://otel-collector:4318/v1/traces`. Empty: no traces are exported.
        otlp_endpoint: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"http://127.0.0.1:4318/v1/traces\"";
        /// The `service.name` resource attribute of exported traces.
        service_name: String = "esignet".to_owned(), ValueKind::Str;
    }
}

section! {
    /// The Sunbird RC registry, for `authenticator.kind = "sunbird-rc"`: residents identify
    /// themselves with knowledge-based identification (KBI) searched in the registry, and their
    /// claims come from the registry entity (see docs/identity-systems.md).
    SunbirdRcRaw = "sunbird_rc" {
        /// The registry's search endpoint, `.../api/v1/<Entity>/search`.
        search_url: String = "http://127.0.0.1:8081/api/v1/Insurance/search".to_owned(), ValueKind::Str;
        /// The registry's entity endpoint, `.../api/v1/<Entity>`; the entity id is appended as a path segment.
        entity_url: String = "http://127.0.0.1:8081/api/v1/Insurance".to_owned(), ValueKind::Str;
        /// KBI form field id → registry attribute it is searched on (`eq`), in form order.
        /// Every field is required in the challenge; the login form's fields are `ui.configs."auth.factor.kbi.field-details"`.
        /// Empty means the default.
        kbi_fields: serde_json::Map<String, serde_json::Value> = serde_json::Map::new(), ValueKind::Table,
            default_doc = "`{ policyNumber = \"policyNumber\", fullName = \"fullName\", dob = \"dob\" }`",
            example = "{ policyNumber = \"policyNumber\", fullName = \"fullName\", dob = \"dob\" }";
        /// The KBI field holding the individual id; must be one of `sunbird_rc.kbi_fields`.
        individual_id_field: String = "policyNumber".to_owned(), ValueKind::Str;
        /// The entity attribute holding the entity id.
        entity_id_field: String = "osid".to_owned(), ValueKind::Str;
        /// How the subject (`sub`) is derived from the entity id.
        /// `entity-id`: the entity id itself, as eSignet's sunbird-rc plugin does (one subject for every relying party);
        /// `pairwise`: base64url(SHA3-256(entity id + relying party id)), one subject per relying party.
        psut: String = "entity-id".to_owned(), ValueKind::Enum(crate::sunbird::PSUT_WORDS);
        /// OIDC claim → entity path: a JSON pointer (`/address/city`) or a top-level attribute name.
        /// Only mapped claims are ever released. Empty means the default.
        claims: serde_json::Map<String, serde_json::Value> = serde_json::Map::new(), ValueKind::Table,
            default_doc = "`{ name = \"fullName\", email = \"email\", phone_number = \"mobile\", birthdate = \"dob\", gender = \"gender\" }`",
            example = "{ name = \"fullName\", email = \"email\", phone_number = \"mobile\", birthdate = \"dob\", gender = \"gender\", locality = \"/address/city\" }";
        /// Bearer token sent as `Authorization: Bearer <token>` with every registry call, if the registry requires one.
        /// Prefer `ESIGNET_SUNBIRD_RC__BEARER_TOKEN`.
        bearer_token: Option<SecretString> = None, ValueKind::Secret, example = "\"<registry API token>\"";
        /// Total time allowed for one registry call, in seconds.
        timeout_secs: u64 = 10, ValueKind::Int;
        /// Time allowed to connect to the registry, in seconds.
        connect_timeout_secs: u64 = 2, ValueKind::Int;
        /// Seconds a KYC token (between authentication and the token request) stays usable.
        kyc_token_ttl_secs: u64 = 300, ValueKind::Int;
        /// ISO 639-3 language of multi-language entity values when no requested claims locale matches.
        default_language: String = "eng".to_owned(), ValueKind::Str;
    }
}
