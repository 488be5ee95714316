//! The `[signup]` section: the eSignet Signup service (`/v1/signup`), its declarations and its
//! validation, kept in one file apart from the provider's sections.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalogue::{KeyDoc, SectionDoc, ValueKind};
use crate::error::Problems;
use crate::raw::section;
use crate::secret::SecretString;
use crate::settings::{AuthenticatorKind, AuthenticatorSettings, CaptchaKind, StoreKind};
use crate::validate::{bounded, secs};

/// eSignet signup's default password rule (`mosip.signup.password.pattern`): a digit, a
/// lower-case and an upper-case letter and a symbol, 8 to 20 characters.
pub const DEFAULT_PASSWORD_PATTERN: &str =
    r"^(?=.*[0-9])(?=.*[a-z])(?=.*[A-Z])(?=.*[\x5F\W])(?=.{8,20})[a-zA-Z0-9\x5F\W]{8,20}$";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

section! {
    /// The Signup service (registration, password reset and identity verification under
    /// `/v1/signup`), eSignet signup's `mosip.signup.*` properties.
    SignupRaw = "signup" {
        /// Serve `/v1/signup`. Off for `esignet serve` unless set; `esignet demo` turns it on. Residents are registered with the built-in mock identity system (`authenticator.kind = "mock"`, kept in the SQLite store) or the mock identity system over HTTP (`mock-identity-http`); not with `sunbird-rc`.
        enabled: bool = false, ValueKind::Bool;
        /// Regular expression a phone identifier (with its prefix) must match (`mosip.signup.identifier.regex`).
        identifier_regex: String = r"^\+91[1-9]\d{7,8}$".to_owned(), ValueKind::Str;
        /// Prefix the sign-up page puts before the number the resident types (`mosip.signup.identifier.prefix`).
        identifier_prefix: String = "+91".to_owned(), ValueKind::Str;
        /// Suffix appended to the identifier to form the individual id at the identity registry (`mosip.signup.individualid.postfix`).
        individual_id_postfix: String = String::new(), ValueKind::Str;
        /// Regular expression (look-around allowed) a new password must match (`mosip.signup.password.pattern`).
        password_pattern: String = DEFAULT_PASSWORD_PATTERN.to_owned(), ValueKind::Str;
        /// Shortest accepted password, in characters.
        password_min_length: u64 = 8, ValueKind::Int;
        /// Longest accepted password, in characters.
        password_max_length: u64 = 20, ValueKind::Int;
        /// Regular expression the full name must match (`mosip.signup.fullname.pattern`), published to the page.
        fullname_pattern: String = ".*".to_owned(), ValueKind::Str;
        /// Three-letter languages a request's `locale` may name (`mosip.signup.supported-languages`).
        supported_languages: Vec<String> = strings(&["eng"]), ValueKind::StrList;
        /// Language of notifications when a request names none.
        default_language: String = "eng".to_owned(), ValueKind::Str;
        /// Digits of a generated OTP (4 to 10).
        otp_length: u64 = 6, ValueKind::Int;
        /// A fixed OTP instead of a random one, for demonstrations and tests only: refused unless `authenticator.kind` is a mock (`mock` or `mock-identity-http`).
        fixed_otp: Option<SecretString> = None, ValueKind::Secret, example = "\"111111\"";
        /// Seconds an OTP stays valid after it was sent (`mosip.signup.challenge.timeout`).
        challenge_timeout_secs: u64 = 60, ValueKind::Int;
        /// OTPs one transaction may send in total before the identifier is blocked (`resend-attempt`).
        resend_attempts: u64 = 3, ValueKind::Int;
        /// Seconds between two sends of an OTP (`resend-delay`).
        resend_delay_secs: u64 = 60, ValueKind::Int;
        /// Wrong OTPs one transaction tolerates (`verification-attempt`).
        verification_attempts: u64 = 3, ValueKind::Int;
        /// Seconds an identifier stays blocked after too many sends (`generate-challenge.blocked.timeout`).
        blocked_secs: u64 = 300, ValueKind::Int;
        /// Seconds a challenge transaction (`TRANSACTION_ID` cookie) lives (`unauthenticated.txn.timeout`).
        unauthenticated_txn_ttl_secs: u64 = 300, ValueKind::Int;
        /// Seconds a verified transaction (`VERIFIED_TRANSACTION_ID`) has to register or reset (`verified.txn.timeout`).
        verified_txn_ttl_secs: u64 = 300, ValueKind::Int;
        /// Seconds the registration status can be polled after register / reset (`status-check.txn.timeout`).
        status_check_ttl_secs: u64 = 200, ValueKind::Int;
        /// Seconds between two status polls of the page (`status.request.delay`).
        status_request_delay_secs: u64 = 20, ValueKind::Int;
        /// Status polls of the page before it gives up (`status.request.limit`).
        status_request_limit: u64 = 10, ValueKind::Int;
        /// Require a captcha (the `[captcha]` verifier, action `send-otp`) on generate-challenge (`send-challenge.captcha-required`).
        /// Needs `captcha.kind` other than `none`.
        captcha_required: bool = true, ValueKind::Bool;
        /// Serve identity verification (video eKYC) under `/v1/signup/identity-verification` and `/v1/signup/ws`.
        /// Needs `signup_redirect.enabled` (the detour from a login). The built-in verifier list holds only the mock
        /// verifier, which verifies anyone: it is refused unless `authenticator.kind` is a mock.
        identity_verification: bool = false, ValueKind::Bool;
        /// Base URL at which the Signup service reaches this provider's token, userinfo and JWKS endpoints.
        /// The `server.public_url` when unset; set it when the public URL is not reachable from the provider itself.
        provider_url: Option<String> = None, ValueKind::OptStr, example = "\"http://127.0.0.1:8088\"";
        /// Client id of the Signup service at this provider (identity verification's OAuth client).
        oauth_client_id: String = "mosip-signup-oauth-client".to_owned(), ValueKind::Str;
        /// Seconds an identity-verification transaction (`IDV_TRANSACTION_ID`) lives.
        idv_txn_ttl_secs: u64 = 180, ValueKind::Int;
        /// Seconds an allotted slot waits for its WebSocket (`slot-allotted.timeout`).
        slot_allotted_ttl_secs: u64 = 300, ValueKind::Int;
        /// Seconds a connected slot (a running verification) lives (`verified-slot.timeout`).
        verified_slot_ttl_secs: u64 = 1200, ValueKind::Int;
        /// Verification slots open at the same time across all instances (`mosip.signup.slot.max-count`).
        slot_max_count: u64 = 50, ValueKind::Int;
        /// Seconds between two slot requests of the page (`slot.request.delay`).
        slot_request_delay_secs: u64 = 20, ValueKind::Int;
        /// Slot requests of the page before it gives up (`slot.request.limit`).
        slot_request_limit: u64 = 10, ValueKind::Int;
        /// JSON file listing the identity verifiers (`signup-identity-verifier-details.json`); built-in list when unset.
        verifiers_file: Option<String> = None, ValueKind::OptStr, example = "\"/etc/esignet/signup-identity-verifier-details.json\"";
        /// Directory of per-verifier workflow files `signup-idv_<id>.json`; built-in workflows when unset.
        verifier_workflow_dir: Option<String> = None, ValueKind::OptStr, example = "\"/etc/esignet/idv\"";
        /// User-story JSON replayed by the mock identity verifier; built-in story when unset.
        mock_story_file: Option<String> = None, ValueKind::OptStr, example = "\"/etc/esignet/mock-idv-user-story.json\"";
        /// Extra or replaced entries of the `GET /v1/signup/settings` map (the page's configuration).
        ui_configs: serde_json::Map<String, serde_json::Value> = serde_json::Map::new(), ValueKind::Table;
    }
}

/// `[signup]`, validated. Durations are positive; patterns are not compiled here (the service
/// compiles them at start and refuses to start on a bad one).
#[derive(Debug, Clone)]
pub struct SignupSettings {
    /// Whether `/v1/signup` is served.
    pub enabled: bool,
    /// Whether identity verification is served.
    pub identity_verification: bool,
    /// Where the service reaches the provider, when not at its public URL.
    pub provider_url: Option<String>,
    /// Identifier pattern.
    pub identifier_regex: String,
    /// Identifier prefix shown by the page.
    pub identifier_prefix: String,
    /// Suffix of the individual id at the registry.
    pub individual_id_postfix: String,
    /// Password pattern.
    pub password_pattern: String,
    /// Password length bounds.
    pub password_min_length: usize,
    /// Password length bounds.
    pub password_max_length: usize,
    /// Full-name pattern.
    pub fullname_pattern: String,
    /// Accepted `locale` values.
    pub supported_languages: Vec<String>,
    /// Notification language fallback.
    pub default_language: String,
    /// OTP digits.
    pub otp_length: usize,
    /// Fixed OTP (mock deployments only).
    pub fixed_otp: Option<SecretString>,
    /// OTP validity.
    pub challenge_timeout: Duration,
    /// Sends per transaction.
    pub resend_attempts: u64,
    /// Delay between sends.
    pub resend_delay: Duration,
    /// Wrong OTPs tolerated.
    pub verification_attempts: u64,
    /// Blocking time.
    pub blocked: Duration,
    /// Challenge transaction TTL.
    pub unauthenticated_txn_ttl: Duration,
    /// Verified transaction TTL.
    pub verified_txn_ttl: Duration,
    /// Status-check TTL.
    pub status_check_ttl: Duration,
    /// Page poll delay.
    pub status_request_delay: Duration,
    /// Page poll limit.
    pub status_request_limit: u64,
    /// Captcha on generate-challenge.
    pub captcha_required: bool,
    /// The Signup service's OAuth client id.
    pub oauth_client_id: String,
    /// IDV transaction TTL.
    pub idv_txn_ttl: Duration,
    /// Allotted-slot TTL.
    pub slot_allotted_ttl: Duration,
    /// Connected-slot TTL.
    pub verified_slot_ttl: Duration,
    /// Slots open at once.
    pub slot_max_count: u64,
    /// Page slot-request delay.
    pub slot_request_delay: Duration,
    /// Page slot-request limit.
    pub slot_request_limit: u64,
    /// Verifier list override.
    pub verifiers_file: Option<PathBuf>,
    /// Workflow directory override.
    pub verifier_workflow_dir: Option<PathBuf>,
    /// Mock story override.
    pub mock_story_file: Option<PathBuf>,
    /// Extra `/settings` entries.
    pub ui_configs: serde_json::Map<String, serde_json::Value>,
}

fn non_blank(problems: &mut Problems, key: &str, value: String) -> String {
    if value.trim().is_empty() {
        problems.push(key, "must not be empty");
    }
    value
}

fn optional_path(value: Option<String>) -> Option<PathBuf> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

pub(crate) fn signup(
    raw: SignupRaw,
    authenticator: &AuthenticatorSettings,
    store_kind: StoreKind,
    captcha_kind: CaptchaKind,
    problems: &mut Problems,
) -> SignupSettings {
    match authenticator.kind {
        // A Sunbird RC registry is searched, not written, and IDA or a REST identity system
        // are authenticated against, not registered into: there is nowhere to register a
        // resident.
        AuthenticatorKind::SunbirdRc | AuthenticatorKind::Ida | AuthenticatorKind::Rest
            if raw.enabled =>
        {
            problems.push(
            "signup.enabled",
                "needs an identity registry that creates identities: set authenticator.kind = \"mock\" or \"mock-identity-http\"",
            )
        }
        // The built-in registry keeps registered identities in the embedded SQLite store and
        // in this process's memory: instances sharing a PostgreSQL store would not see each
        // other's registrations.
        AuthenticatorKind::Mock if raw.enabled && store_kind == StoreKind::Postgres => {
            problems.push(
                "signup.enabled",
                "with authenticator.kind = \"mock\" needs store.kind = \"sqlite\" (the built-in registry is one instance's); with PostgreSQL use authenticator.kind = \"mock-identity-http\"",
            )
        }
        _ => {}
    }
    if raw.enabled && raw.captcha_required && captcha_kind == CaptchaKind::None {
        problems.push(
            "signup.captcha_required",
            "is true but captcha.kind is \"none\"; choose a captcha or set it to false",
        );
    }
    let password_min_length = bounded(
        problems,
        "signup.password_min_length",
        raw.password_min_length,
        1,
        256,
    );
    let password_max_length = bounded(
        problems,
        "signup.password_max_length",
        raw.password_max_length,
        1,
        256,
    );
    if password_min_length > password_max_length {
        problems.push(
            "signup.password_min_length",
            "must not exceed signup.password_max_length",
        );
    }
    let otp_length = bounded(problems, "signup.otp_length", raw.otp_length, 4, 10);
    if let Some(otp) = &raw.fixed_otp {
        // A fixed OTP turns the phone check into a public password: only deployments whose
        // identity system is itself a mock may have one.
        if !matches!(
            authenticator.kind,
            AuthenticatorKind::Mock | AuthenticatorKind::MockIdentityHttp
        ) {
            problems.push(
                "signup.fixed_otp",
                "is only allowed when authenticator.kind is a mock (mock or mock-identity-http)",
            );
        }
        let digits = otp.expose();
        if u64::try_from(digits.len()).ok() != Some(otp_length)
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            problems.push("signup.fixed_otp", "must be signup.otp_length digits");
        }
    }
    let mut supported_languages = Vec::new();
    for language in raw.supported_languages {
        let language = language.trim().to_owned();
        if language.len() != 3 || !language.bytes().all(|b| b.is_ascii_lowercase()) {
            problems.push(
                "signup.supported_languages",
                format!("\"{language}\" is not a three-letter lower-case language code"),
            );
        }
        supported_languages.push(language);
    }
    if supported_languages.is_empty() {
        problems.push("signup.supported_languages", "must not be empty");
    }
    let default_language = raw.default_language.trim().to_owned();
    if !supported_languages.contains(&default_language) {
        problems.push(
            "signup.default_language",
            "must be one of signup.supported_languages",
        );
    }
    let slot_max_count = bounded(
        problems,
        "signup.slot_max_count",
        raw.slot_max_count,
        1,
        100_000,
    );
    let provider_url = raw
        .provider_url
        .map(|url| url.trim().trim_end_matches('/').to_owned())
        .filter(|url| !url.is_empty());
    if let Some(url) = &provider_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        problems.push("signup.provider_url", "must be an http:// or https:// URL");
    }
    SignupSettings {
        enabled: raw.enabled,
        identity_verification: raw.identity_verification,
        provider_url,
        identifier_regex: non_blank(problems, "signup.identifier_regex", raw.identifier_regex),
        identifier_prefix: raw.identifier_prefix,
        individual_id_postfix: raw.individual_id_postfix,
        password_pattern: non_blank(problems, "signup.password_pattern", raw.password_pattern),
        password_min_length: usize::try_from(password_min_length).unwrap_or(8),
        password_max_length: usize::try_from(password_max_length).unwrap_or(20),
        fullname_pattern: non_blank(problems, "signup.fullname_pattern", raw.fullname_pattern),
        supported_languages,
        default_language,
        otp_length: usize::try_from(otp_length).unwrap_or(6),
        fixed_otp: raw.fixed_otp,
        challenge_timeout: secs(
            problems,
            "signup.challenge_timeout_secs",
            raw.challenge_timeout_secs,
            1,
        ),
        resend_attempts: bounded(
            problems,
            "signup.resend_attempts",
            raw.resend_attempts,
            1,
            100,
        ),
        resend_delay: secs(
            problems,
            "signup.resend_delay_secs",
            raw.resend_delay_secs,
            0,
        ),
        verification_attempts: bounded(
            problems,
            "signup.verification_attempts",
            raw.verification_attempts,
            1,
            100,
        ),
        blocked: secs(problems, "signup.blocked_secs", raw.blocked_secs, 1),
        unauthenticated_txn_ttl: secs(
            problems,
            "signup.unauthenticated_txn_ttl_secs",
            raw.unauthenticated_txn_ttl_secs,
            1,
        ),
        verified_txn_ttl: secs(
            problems,
            "signup.verified_txn_ttl_secs",
            raw.verified_txn_ttl_secs,
            1,
        ),
        status_check_ttl: secs(
            problems,
            "signup.status_check_ttl_secs",
            raw.status_check_ttl_secs,
            1,
        ),
        status_request_delay: secs(
            problems,
            "signup.status_request_delay_secs",
            raw.status_request_delay_secs,
            1,
        ),
        status_request_limit: bounded(
            problems,
            "signup.status_request_limit",
            raw.status_request_limit,
            1,
            1000,
        ),
        captcha_required: raw.captcha_required,
        oauth_client_id: non_blank(problems, "signup.oauth_client_id", raw.oauth_client_id),
        idv_txn_ttl: secs(problems, "signup.idv_txn_ttl_secs", raw.idv_txn_ttl_secs, 1),
        slot_allotted_ttl: secs(
            problems,
            "signup.slot_allotted_ttl_secs",
            raw.slot_allotted_ttl_secs,
            1,
        ),
        verified_slot_ttl: secs(
            problems,
            "signup.verified_slot_ttl_secs",
            raw.verified_slot_ttl_secs,
            1,
        ),
        slot_max_count,
        slot_request_delay: secs(
            problems,
            "signup.slot_request_delay_secs",
            raw.slot_request_delay_secs,
            1,
        ),
        slot_request_limit: bounded(
            problems,
            "signup.slot_request_limit",
            raw.slot_request_limit,
            1,
            1000,
        ),
        verifiers_file: optional_path(raw.verifiers_file),
        verifier_workflow_dir: optional_path(raw.verifier_workflow_dir),
        mock_story_file: optional_path(raw.mock_story_file),
        ui_configs: raw.ui_configs,
    }
}
