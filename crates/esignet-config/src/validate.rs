//! Turns a deserialized [`RawConfig`] into typed [`Settings`], recording every problem.
//!
//! Each check records its problem and continues with a harmless fallback value, so one bad key
//! never hides another; the caller discards the `Settings` when any problem was recorded.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use url::Url;

use crate::acr::AcrMapping;
use crate::error::Problems;
use crate::raw::{self, RawConfig};
use crate::secret::{EncryptionKey, SecretString};
use crate::settings::*;

/// Longest accepted duration for any `*_secs` key: one year. Bounding durations keeps
/// `Instant`/`SystemTime` arithmetic in the service from overflowing.
const MAX_SECS: u64 = 366 * 86_400;
/// Longest accepted signing-key validity, in days (ten years).
const MAX_KEY_DAYS: u64 = 3650;
/// Shortest accepted admin static token, in characters.
pub(crate) const MIN_STATIC_TOKEN_CHARS: usize = 32;
/// Bounds of `server.max_body_bytes`: room for any real request, and a cap on memory per request.
const MIN_BODY_BYTES: u64 = 1024;
const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Validates `raw`, recording each problem in `problems`.
pub(crate) fn validate(raw: RawConfig, problems: &mut Problems) -> Settings {
    if raw.version != 1 {
        problems.push(
            "version",
            format!(
                "unsupported configuration version {}; this release reads version 1",
                raw.version
            ),
        );
    }
    let server = server(raw.server, problems);
    let data = DataSettings {
        dir: path_value(problems, "data.dir", &raw.data.dir),
    };
    let store = store(raw.store, &data.dir, problems);
    let cache = cache(raw.cache, problems);
    let keys = keys(raw.keys, &data.dir, problems);
    let tokens = TokenSettings {
        id_token_lifetime: secs(
            problems,
            "tokens.id_token_lifetime_secs",
            raw.tokens.id_token_lifetime_secs,
            1,
        ),
        access_token_lifetime: secs(
            problems,
            "tokens.access_token_lifetime_secs",
            raw.tokens.access_token_lifetime_secs,
            1,
        ),
        auth_code_lifetime: secs(
            problems,
            "tokens.auth_code_lifetime_secs",
            raw.tokens.auth_code_lifetime_secs,
            1,
        ),
    };
    let transaction = transaction(raw.transaction, problems);
    let security = security(raw.security, server.is_https(), problems);
    let oidc = oidc(raw.oidc, problems);
    let authenticator = authenticator(raw.authenticator, problems);
    let admin = admin(raw.admin, problems);
    let demo = demo(raw.demo, &data.dir, problems);
    let ui = crate::ui::ui(raw.ui, &oidc.ui_locales_supported, problems);
    let captcha = crate::captcha::captcha(raw.captcha, problems);
    let wallet = crate::wallet::wallet(raw.wallet, server.request_timeout, problems);
    let signup = crate::signup::signup(
        raw.signup,
        &authenticator,
        store.kind,
        captcha.kind,
        problems,
    );
    let signup_redirect =
        crate::signup_redirect::signup_redirect(raw.signup_redirect, &server.issuer, problems);
    let logging = LoggingSettings {
        format: word(problems, "logging.format", &raw.logging.format).unwrap_or(LogFormat::Text),
        level: non_empty(problems, "logging.level", raw.logging.level, "info"),
    };
    let telemetry = crate::telemetry::telemetry(raw.telemetry, problems);
    let sunbird_rc = crate::sunbird::sunbird_rc(raw.sunbird_rc, problems);
    let rest_identity =
        crate::rest_identity::rest_identity(raw.rest_identity, authenticator.kind, problems);
    let notification = crate::notification::notification(raw.notification, problems);
    let audit = crate::audit::audit(raw.audit, &store, problems);
    let ida = crate::ida::ida(
        raw.ida,
        authenticator.kind == AuthenticatorKind::Ida,
        problems,
    );
    Settings {
        server,
        data,
        store,
        cache,
        keys,
        tokens,
        transaction,
        security,
        oidc,
        authenticator,
        admin,
        demo,
        ui,
        captcha,
        wallet,
        signup_redirect,
        logging,
        telemetry,
        signup,
        sunbird_rc,
        rest_identity,
        notification,
        audit,
        ida,
    }
}

fn server(raw: raw::ServerRaw, problems: &mut Problems) -> ServerSettings {
    let bind = SocketAddr::from_str(raw.bind.trim()).unwrap_or_else(|_| {
        problems.push(
            "server.bind",
            format!(
                "\"{}\" is not a socket address such as 127.0.0.1:8088 or [::]:8088",
                raw.bind
            ),
        );
        SocketAddr::from((Ipv4Addr::LOCALHOST, 8088))
    });
    let public_url = match http_url(&raw.public_url) {
        Ok(url) => url.as_str().trim_end_matches('/').to_owned(),
        Err(message) => {
            problems.push("server.public_url", message);
            "http://127.0.0.1:8088".to_owned()
        }
    };
    if let Err(message) = check_base_path(&raw.base_path) {
        problems.push("server.base_path", message);
    }
    let issuer = match raw.issuer {
        None => public_url.clone(),
        Some(issuer) => match http_url(&issuer) {
            Ok(_) => issuer.trim().to_owned(),
            Err(message) => {
                problems.push("server.issuer", message);
                public_url.clone()
            }
        },
    };
    ServerSettings {
        bind,
        public_url,
        base_path: raw.base_path,
        issuer,
        request_timeout: secs(
            problems,
            "server.request_timeout_secs",
            raw.request_timeout_secs,
            1,
        ),
        max_body_bytes: bounded(
            problems,
            "server.max_body_bytes",
            raw.max_body_bytes,
            MIN_BODY_BYTES,
            MAX_BODY_BYTES,
        )
        .try_into()
        .unwrap_or(usize::MAX),
        max_in_flight_requests: match raw.max_in_flight_requests {
            0 => None,
            limit => Some(usize::try_from(limit).unwrap_or(usize::MAX)),
        },
        profile: word(problems, "server.profile", &raw.profile).unwrap_or(ServerProfile::None),
    }
}

/// An absolute `http(s)` URL without credentials, query or fragment.
pub(crate) fn http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("\"{text}\" is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("\"{text}\" must use http or https"));
    }
    if url.host().is_none() {
        return Err(format!("\"{text}\" has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // The value is not repeated: it contains credentials.
        return Err("must not contain a user name or password".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("\"{text}\" must not have a query or fragment"));
    }
    Ok(url)
}

fn check_base_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("\"{path}\" must start with '/'"));
    }
    if path.ends_with('/') {
        return Err(format!("\"{path}\" must not end with '/'"));
    }
    if path.contains("//") {
        return Err(format!(
            "\"{path}\" must not contain an empty segment (\"//\")"
        ));
    }
    // RFC 3986 path characters minus '%' (no encoded segments in a route prefix).
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-._~!$&'()*+,;=:@".contains(c);
    if !path.chars().all(allowed) {
        return Err(format!(
            "\"{path}\" may contain only letters, digits, '/' and -._~!$&'()*+,;=:@"
        ));
    }
    Ok(())
}

fn store(raw: raw::StoreRaw, data_dir: &Path, problems: &mut Problems) -> StoreSettings {
    let kind = word(problems, "store.kind", &raw.kind).unwrap_or(StoreKind::Sqlite);
    let max_connections = bounded(
        problems,
        "store.postgres_max_connections",
        raw.postgres_max_connections,
        1,
        1000,
    );
    let acquire_timeout = secs(
        problems,
        "store.postgres_acquire_timeout_secs",
        raw.postgres_acquire_timeout_secs,
        1,
    );
    let statement_timeout = secs(
        problems,
        "store.postgres_statement_timeout_secs",
        raw.postgres_statement_timeout_secs,
        1,
    );
    if let Some(schema) = &raw.postgres_schema
        && (schema.is_empty()
            || !schema
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        problems.push(
            "store.postgres_schema",
            "must be letters, digits and underscores",
        );
    }
    let postgres = match (kind, raw.postgres_url) {
        (StoreKind::Postgres, None) => {
            problems.push(
                "store.postgres_url",
                "is required when store.kind = \"postgres\"",
            );
            None
        }
        (StoreKind::Postgres, Some(url)) => {
            let text = url.expose().trim();
            if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
                problems.push("store.postgres_url", "must be a postgres:// URL");
            }
            Some(PostgresSettings {
                url,
                schema: raw.postgres_schema,
                max_connections: u32::try_from(max_connections).unwrap_or(u32::MAX),
                acquire_timeout,
                statement_timeout,
            })
        }
        (StoreKind::Sqlite, _) => None,
    };
    StoreSettings {
        kind,
        sqlite_path: derived_path(
            problems,
            "store.sqlite_path",
            raw.sqlite_path,
            data_dir,
            "esignet.db",
        ),
        postgres,
    }
}

fn cache(raw: raw::CacheRaw, problems: &mut Problems) -> CacheSettings {
    let kind = word(problems, "cache.kind", &raw.kind).unwrap_or(CacheKind::Memory);
    let max_entries = bounded(
        problems,
        "cache.max_entries",
        raw.max_entries,
        1,
        u64::from(u32::MAX),
    );
    let command_timeout_ms = bounded(
        problems,
        "cache.redis_command_timeout_ms",
        raw.redis_command_timeout_ms,
        10,
        60_000,
    );
    if raw.redis_prefix.is_empty() || raw.redis_prefix.contains(char::is_whitespace) {
        problems.push("cache.redis_prefix", "must be a non-empty word");
    }
    let redis = match (kind, raw.redis_url) {
        (CacheKind::Redis, None) => {
            problems.push("cache.redis_url", "is required when cache.kind = \"redis\"");
            None
        }
        (CacheKind::Redis, Some(url)) => {
            if !url.expose().trim().starts_with("redis://") {
                problems.push("cache.redis_url", "must be a redis:// URL");
            }
            Some(RedisSettings {
                url,
                prefix: raw.redis_prefix,
                command_timeout: Duration::from_millis(command_timeout_ms),
            })
        }
        (CacheKind::Memory, _) => None,
    };
    CacheSettings {
        kind,
        max_entries: max_entries.try_into().unwrap_or(usize::MAX),
        redis,
    }
}

fn keys(raw: raw::KeysRaw, data_dir: &Path, problems: &mut Problems) -> KeySettings {
    let (backend, pkcs11) = crate::hsm::backend(&raw, problems);
    let algorithm =
        word(problems, "keys.algorithm", &raw.algorithm).unwrap_or(SigningAlgorithm::Rs256);
    let validity_days = bounded(
        problems,
        "keys.validity_days",
        raw.validity_days,
        1,
        MAX_KEY_DAYS,
    );
    if raw.rotate_before_days == 0 {
        problems.push("keys.rotate_before_days", "must be at least 1");
    } else if raw.rotate_before_days >= raw.validity_days {
        problems.push(
            "keys.rotate_before_days",
            format!(
                "must be less than keys.validity_days ({}), got {}",
                raw.validity_days, raw.rotate_before_days
            ),
        );
    }
    let rotation_check_interval = secs(
        problems,
        "keys.rotation_check_interval_secs",
        raw.rotation_check_interval_secs,
        1,
    );
    if raw.encryption_key.is_some() && raw.encryption_key_file.is_some() {
        problems.push(
            "keys.encryption_key",
            "set either keys.encryption_key or keys.encryption_key_file, not both",
        );
    }
    let encryption_key = raw.encryption_key.as_ref().and_then(|key| {
        decode_key(key)
            .map_err(|message| problems.push("keys.encryption_key", message))
            .ok()
    });
    let encryption_key_file = derived_path(
        problems,
        "keys.encryption_key_file",
        raw.encryption_key_file,
        data_dir,
        "master.key",
    );
    KeySettings {
        algorithm,
        validity: Duration::from_secs(validity_days * 86_400),
        rotate_before: Duration::from_secs(raw.rotate_before_days.min(MAX_KEY_DAYS) * 86_400),
        rotation_check_interval,
        activation_delay: Duration::from_secs(raw.activation_delay_secs.min(MAX_KEY_DAYS * 86_400)),
        encryption_key,
        encryption_key_file,
        backend,
        pkcs11,
    }
}

/// Base64 (standard or URL-safe alphabet, padding optional) of exactly 32 bytes. Messages
/// never include the value.
fn decode_key(key: &SecretString) -> Result<EncryptionKey, String> {
    let indifferent =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let text = key.expose().trim();
    let bytes = GeneralPurpose::new(&base64::alphabet::STANDARD, indifferent)
        .decode(text)
        .or_else(|_| GeneralPurpose::new(&base64::alphabet::URL_SAFE, indifferent).decode(text))
        .map_err(|_| {
            "must be base64 of exactly 32 bytes; the value is not valid base64".to_owned()
        })?;
    // Keep the decoded bytes out of an unzeroized Vec for longer than needed.
    let bytes = zeroize::Zeroizing::new(bytes);
    let array: [u8; EncryptionKey::LEN] = bytes.as_slice().try_into().map_err(|_| {
        format!(
            "must be base64 of exactly 32 bytes; it decodes to {} bytes",
            bytes.len()
        )
    })?;
    Ok(EncryptionKey::from_bytes(array))
}

fn transaction(raw: raw::TransactionRaw, problems: &mut Problems) -> TransactionSettings {
    let attempts = |problems: &mut Problems, key: &str, value: u64| -> u32 {
        u32::try_from(bounded(problems, key, value, 1, 1000)).unwrap_or(1000)
    };
    TransactionSettings {
        preauth_ttl: secs(
            problems,
            "transaction.preauth_ttl_secs",
            raw.preauth_ttl_secs,
            1,
        ),
        authenticated_ttl: secs(
            problems,
            "transaction.authenticated_ttl_secs",
            raw.authenticated_ttl_secs,
            1,
        ),
        par_ttl: secs(problems, "transaction.par_ttl_secs", raw.par_ttl_secs, 1),
        nonce_ttl: secs(
            problems,
            "transaction.nonce_ttl_secs",
            raw.nonce_ttl_secs,
            1,
        ),
        jti_ttl: secs(problems, "transaction.jti_ttl_secs", raw.jti_ttl_secs, 1),
        send_otp_attempts: attempts(
            problems,
            "transaction.send_otp_attempts",
            raw.send_otp_attempts,
        ),
        authenticate_attempts: attempts(
            problems,
            "transaction.authenticate_attempts",
            raw.authenticate_attempts,
        ),
        rate_limit_window: secs(
            problems,
            "transaction.rate_limit_window_secs",
            raw.rate_limit_window_secs,
            1,
        ),
        block_ttl: secs(
            problems,
            "transaction.block_ttl_secs",
            raw.block_ttl_secs,
            1,
        ),
        auth_txn_id_length: usize::try_from(bounded(
            problems,
            "transaction.auth_txn_id_length",
            raw.auth_txn_id_length,
            1,
            64,
        ))
        .unwrap_or(64),
    }
}

fn security(raw: raw::SecurityRaw, https: bool, problems: &mut Problems) -> SecuritySettings {
    let csrf = word(
        problems,
        "security.csrf_cookie_secure",
        &raw.csrf_cookie_secure,
    )
    .unwrap_or(CsrfCookieSecure::Auto);
    SecuritySettings {
        request_time_leeway: secs(
            problems,
            "security.request_time_leeway_secs",
            raw.request_time_leeway_secs,
            0,
        ),
        client_assertion_leeway: secs(
            problems,
            "security.client_assertion_leeway_secs",
            raw.client_assertion_leeway_secs,
            0,
        ),
        dpop_clock_skew: secs(
            problems,
            "security.dpop_clock_skew_secs",
            raw.dpop_clock_skew_secs,
            0,
        ),
        dpop_iat_window: secs(
            problems,
            "security.dpop_iat_window_secs",
            raw.dpop_iat_window_secs,
            1,
        ),
        dpop_nonce_ttl: secs(
            problems,
            "security.dpop_nonce_ttl_secs",
            raw.dpop_nonce_ttl_secs,
            1,
        ),
        dpop_signing_algs: algorithms(
            problems,
            "security.dpop_signing_algs",
            &raw.dpop_signing_algs,
        ),
        client_assertion_signing_algs: algorithms(
            problems,
            "security.client_assertion_signing_algs",
            &raw.client_assertion_signing_algs,
        ),
        csrf_cookie_secure: match csrf {
            CsrfCookieSecure::Auto => https,
            CsrfCookieSecure::Always => true,
            CsrfCookieSecure::Never => false,
        },
    }
}

fn algorithms(problems: &mut Problems, key: &str, names: &[String]) -> Vec<SigningAlgorithm> {
    if names.is_empty() {
        problems.push(key, "must name at least one algorithm");
    }
    let mut algs = Vec::with_capacity(names.len());
    for name in names {
        match SigningAlgorithm::from_str(name) {
            Ok(alg) if algs.contains(&alg) => {
                problems.push(key, format!("\"{name}\" is listed twice"))
            }
            Ok(alg) => algs.push(alg),
            Err(e) => problems.push(key, format!("unsupported algorithm \"{name}\": {e}")),
        }
    }
    algs
}

fn oidc(raw: raw::OidcRaw, problems: &mut Problems) -> OidcSettings {
    for (key, list) in [
        ("oidc.scopes", &raw.scopes),
        ("oidc.authorize_scopes", &raw.authorize_scopes),
        ("oidc.claims_supported", &raw.claims_supported),
        (
            "oidc.claims_in_verified_claims_supported",
            &raw.claims_in_verified_claims_supported,
        ),
        (
            "oidc.claims_locales_supported",
            &raw.claims_locales_supported,
        ),
        ("oidc.ui_locales_supported", &raw.ui_locales_supported),
        ("oidc.acr_values_supported", &raw.acr_values_supported),
    ] {
        if list
            .iter()
            .any(|item| item.trim().is_empty() || item.contains(char::is_whitespace))
        {
            problems.push(key, "items must be non-empty and contain no whitespace");
        }
    }
    if !raw.scopes.iter().any(|s| s == "openid") {
        problems.push("oidc.scopes", "must include \"openid\"");
    }
    // Framework names are the identity system's (the mock verifier's is `XYZ TF`): only blank
    // ones are refused.
    if raw
        .trust_frameworks_supported
        .iter()
        .any(|framework| framework.trim().is_empty())
    {
        problems.push(
            "oidc.trust_frameworks_supported",
            "must not contain blank names",
        );
    }
    for claim in &raw.claims_in_verified_claims_supported {
        if !raw.claims_supported.contains(claim) {
            problems.push(
                "oidc.claims_in_verified_claims_supported",
                format!("\"{claim}\" is not in oidc.claims_supported"),
            );
        }
    }
    let mapping = acr_mapping(raw.acr_amr_mapping_file.as_deref(), problems);
    if raw.acr_values_supported.is_empty() {
        problems.push("oidc.acr_values_supported", "must name at least one ACR");
    }
    if let Some(mapping) = &mapping {
        for acr in &raw.acr_values_supported {
            if !mapping.contains_acr(acr) {
                problems.push(
                    "oidc.acr_values_supported",
                    format!("\"{acr}\" is not in the ACR/AMR mapping"),
                );
            }
        }
    }
    OidcSettings {
        scopes: raw.scopes,
        authorize_scopes: raw.authorize_scopes,
        claims_supported: raw.claims_supported,
        claims_in_verified_claims_supported: raw.claims_in_verified_claims_supported,
        trust_frameworks_supported: raw.trust_frameworks_supported,
        claims_locales_supported: raw.claims_locales_supported,
        ui_locales_supported: raw.ui_locales_supported,
        acr_mapping: mapping.unwrap_or_else(|| AcrMapping {
            amr: Default::default(),
            acr_amr: Vec::new(),
        }),
        acr_values_supported: raw.acr_values_supported,
    }
}

/// The mapping from `file`, or the built-in one. `None` (problems recorded) when invalid.
fn acr_mapping(file: Option<&str>, problems: &mut Problems) -> Option<AcrMapping> {
    const KEY: &str = "oidc.acr_amr_mapping_file";
    let parsed = match file {
        None => AcrMapping::builtin(),
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => AcrMapping::from_json(&text),
            Err(e) => {
                problems.push(KEY, format!("cannot read {path}: {e}"));
                return None;
            }
        },
    };
    match parsed {
        Ok(mapping) => Some(mapping),
        Err(messages) => {
            let source = file.unwrap_or("built-in mapping");
            for message in messages {
                problems.push(KEY, format!("{source}: {message}"));
            }
            None
        }
    }
}

fn authenticator(raw: raw::AuthenticatorRaw, problems: &mut Problems) -> AuthenticatorSettings {
    let kind = word(problems, "authenticator.kind", &raw.kind).unwrap_or(AuthenticatorKind::Mock);
    if raw.mock_otp.len() != 6 || !raw.mock_otp.bytes().all(|b| b.is_ascii_digit()) {
        problems.push("authenticator.mock_otp", "must be exactly 6 digits");
    }
    let url = match http_url(&raw.url) {
        Ok(url) => url.as_str().trim_end_matches('/').to_owned(),
        Err(message) => {
            problems.push("authenticator.url", message);
            raw.url
        }
    };
    let timeout = secs(problems, "authenticator.timeout_secs", raw.timeout_secs, 1);
    if raw.max_concurrent_calls == 0 {
        problems.push("authenticator.max_concurrent_calls", "must be at least 1");
    }
    if raw.queue_timeout_ms == 0 {
        problems.push("authenticator.queue_timeout_ms", "must be at least 1");
    }
    AuthenticatorSettings {
        kind,
        mock_otp: raw.mock_otp,
        url,
        timeout,
        max_concurrent_calls: usize::try_from(raw.max_concurrent_calls)
            .unwrap_or(usize::MAX)
            .max(1),
        queue_timeout: Duration::from_millis(raw.queue_timeout_ms.max(1)),
    }
}

fn admin(raw: raw::AdminRaw, problems: &mut Problems) -> AdminSettings {
    let iam = match raw.iam_jwks_url {
        Some(jwks) => {
            let jwks_url = http_url(&jwks)
                .map_err(|m| problems.push("admin.iam_jwks_url", m))
                .ok();
            let issuer = raw.iam_issuer.filter(|i| !i.trim().is_empty());
            if issuer.is_none() {
                problems.push(
                    "admin.iam_issuer",
                    "is required when admin.iam_jwks_url is set",
                );
            }
            jwks_url.zip(issuer).map(|(jwks_url, issuer)| IamSettings {
                jwks_url,
                issuer,
                audience: raw.iam_audience,
            })
        }
        None => {
            // Without a JWKS URL these would silently leave the admin API closed.
            if raw.iam_issuer.is_some() {
                problems.push(
                    "admin.iam_issuer",
                    "has no effect without admin.iam_jwks_url",
                );
            }
            if raw.iam_audience.is_some() {
                problems.push(
                    "admin.iam_audience",
                    "has no effect without admin.iam_jwks_url",
                );
            }
            None
        }
    };
    let static_token = match (raw.static_token, raw.static_token_file) {
        (Some(_), Some(_)) => {
            problems.push(
                "admin.static_token",
                "set either admin.static_token or admin.static_token_file, not both",
            );
            None
        }
        (Some(token), None) => checked_token(problems, "admin.static_token", token.expose().trim()),
        (None, Some(file)) => match std::fs::read_to_string(&file) {
            Ok(text) => checked_token(
                problems,
                "admin.static_token_file",
                zeroize::Zeroizing::new(text).trim(),
            ),
            Err(e) => {
                problems.push(
                    "admin.static_token_file",
                    format!("cannot read {file}: {e}"),
                );
                None
            }
        },
        (None, None) => None,
    };
    AdminSettings { iam, static_token }
}

fn checked_token(problems: &mut Problems, key: &str, token: &str) -> Option<SecretString> {
    let chars = token.chars().count();
    if chars < MIN_STATIC_TOKEN_CHARS {
        problems.push(
            key,
            format!(
                "the admin token must be at least {MIN_STATIC_TOKEN_CHARS} characters, got {chars}"
            ),
        );
        return None;
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        problems.push(
            key,
            "the admin token must not contain whitespace or control characters",
        );
        return None;
    }
    Some(SecretString::new(token))
}

fn demo(raw: raw::DemoRaw, data_dir: &Path, problems: &mut Problems) -> DemoSettings {
    let client_id = non_empty(
        problems,
        "demo.client_id",
        raw.client_id,
        "health-services-demo",
    );
    let client_name = non_empty(
        problems,
        "demo.client_name",
        raw.client_name,
        "Health Services Portal",
    );
    if raw.seed_client && raw.redirect_uris.is_empty() {
        problems.push(
            "demo.redirect_uris",
            "must list at least one URI when demo.seed_client is true",
        );
    }
    for uri in &raw.redirect_uris {
        if let Err(e) = Url::parse(uri) {
            problems.push("demo.redirect_uris", format!("\"{uri}\" is not a URL: {e}"));
        }
    }
    DemoSettings {
        seed_client: raw.seed_client,
        client_id,
        client_name,
        redirect_uris: raw.redirect_uris,
        private_key_file: derived_path(
            problems,
            "demo.private_key_file",
            raw.private_key_file,
            data_dir,
            "demo-client-key.json",
        ),
    }
}

/// Parses a word of a closed set; the message lists the accepted words.
pub(crate) fn word<T: FromStr<Err = UnknownWord>>(
    problems: &mut Problems,
    key: &str,
    text: &str,
) -> Option<T> {
    T::from_str(text)
        .map_err(|e| problems.push(key, format!("\"{text}\" is not supported; {e}")))
        .ok()
}

/// `value` seconds, at least `min` and at most [`MAX_SECS`].
pub(crate) fn secs(problems: &mut Problems, key: &str, value: u64, min: u64) -> Duration {
    Duration::from_secs(bounded(problems, key, value, min, MAX_SECS))
}

/// `value` if within `min..=max`; otherwise a problem and the nearest bound.
pub(crate) fn bounded(problems: &mut Problems, key: &str, value: u64, min: u64, max: u64) -> u64 {
    if value < min || value > max {
        let range = if min == 1 && value == 0 {
            "must be greater than 0".to_owned()
        } else {
            format!("must be between {min} and {max}, got {value}")
        };
        problems.push(key, range);
    }
    value.clamp(min, max)
}

fn non_empty(problems: &mut Problems, key: &str, value: String, fallback: &str) -> String {
    if value.trim().is_empty() {
        problems.push(key, "must not be empty");
        fallback.to_owned()
    } else {
        value
    }
}

fn path_value(problems: &mut Problems, key: &str, value: &str) -> PathBuf {
    if value.trim().is_empty() {
        problems.push(key, "must not be empty");
    }
    PathBuf::from(value)
}

/// An explicit path, or `data_dir/default_name`.
fn derived_path(
    problems: &mut Problems,
    key: &str,
    value: Option<String>,
    data_dir: &Path,
    default_name: &str,
) -> PathBuf {
    match value {
        Some(path) => path_value(problems, key, &path),
        None => data_dir.join(default_name),
    }
}
