//! Registration and password reset: csrf/token, generate-challenge, verify-challenge,
//! register, status, ui-spec and reset-password (companions 3.3).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use esignet_jose::b64url_decode;
use esignet_spi::{
    AuditAction, AuditEvent, AuditStatus, Notification, NotificationChannel, NotificationTemplate,
};
use fancy_regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::codes;
use crate::crypto::{self, constant_time_eq, sha3_b64u};
use crate::envelope::{self, SignupError};
use crate::http::{self, TRANSACTION_ID, VERIFIED_TRANSACTION_ID};
use crate::profile::{Profile, ProfileAction, ProfileStatus};
use crate::transaction::{self as txn, Purpose, RegistrationTransaction};
use crate::{SignupConfig, SignupDeps};

/// Challenge formats eSignet signup accepts.
const OTP_FORMAT: &str = "alpha-numeric";
const KBI_FORMAT: &str = "base64url-encoded-json";

/// The service state shared by the handlers.
pub struct Service {
    pub(crate) config: SignupConfig,
    pub(crate) deps: SignupDeps,
    pub(crate) configs: Map<String, Value>,
    identifier: Regex,
    password: Regex,
    secure_cookies: bool,
}

pub(crate) type Outcome = Result<(Value, Vec<CookieChange>), SignupError>;

/// A cookie to set (with its max age) or clear (max age 0).
pub(crate) struct CookieChange {
    name: &'static str,
    value: String,
    max_age: u64,
}

impl CookieChange {
    pub(crate) fn set(name: &'static str, value: String, ttl: Duration) -> Self {
        Self {
            name,
            value,
            max_age: ttl.as_secs(),
        }
    }

    pub(crate) fn clear(name: &'static str) -> Self {
        Self {
            name,
            value: String::new(),
            max_age: 0,
        }
    }
}

pub(crate) fn unavailable(error: esignet_spi::CacheError) -> SignupError {
    tracing::warn!(%error, "signup cache failure");
    SignupError::new(codes::UNKNOWN_ERROR)
}

impl Service {
    pub(crate) fn new(config: SignupConfig, deps: SignupDeps) -> anyhow::Result<Self> {
        let identifier = Regex::new(&config.settings.identifier_regex)
            .map_err(|e| anyhow::anyhow!("signup.identifier_regex does not compile: {e}"))?;
        let password = Regex::new(&config.settings.password_pattern)
            .map_err(|e| anyhow::anyhow!("signup.password_pattern does not compile: {e}"))?;
        let secure_cookies = config.public_url.starts_with("https://");
        let configs = crate::settings_map::configs(&config);
        Ok(Self {
            config,
            deps,
            configs,
            identifier,
            password,
            secure_cookies,
        })
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.deps.clock.now()
    }

    pub(crate) fn now_ms(&self) -> i64 {
        i64::try_from(self.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    fn matches(regex: &Regex, text: &str) -> bool {
        regex.is_match(text).unwrap_or(false)
    }

    fn valid_identifier(&self, identifier: Option<&str>) -> Option<String> {
        identifier
            .filter(|id| Self::matches(&self.identifier, id))
            .map(str::to_owned)
    }

    fn identifier_hash(identifier: &str) -> Result<String, SignupError> {
        sha3_b64u(identifier.to_lowercase().as_bytes())
    }

    pub(crate) fn audit(
        &self,
        action: AuditAction,
        transaction_id: Option<&str>,
        result: &Outcome,
    ) {
        let error_code = result.as_ref().err().map(|e| e.code.clone());
        self.deps.audit.record(AuditEvent {
            at: self.now(),
            action,
            status: if error_code.is_some() {
                AuditStatus::Error
            } else {
                AuditStatus::Success
            },
            transaction_id: transaction_id.map(str::to_owned),
            client_id: None,
            individual_id_hash: None,
            error_code,
        });
    }

    pub(crate) fn respond(&self, result: Outcome) -> Response {
        match result {
            Ok((body, cookies)) => {
                let mut response = envelope::ok(self.now(), body);
                for cookie in cookies {
                    http::set_cookie(
                        &mut response,
                        cookie.name,
                        &cookie.value,
                        cookie.max_age,
                        self.secure_cookies,
                    );
                }
                response
            }
            Err(error) => envelope::error(self.now(), &error),
        }
    }

    pub(crate) fn unwrap<T: serde::de::DeserializeOwned>(
        &self,
        body: &[u8],
    ) -> Result<T, SignupError> {
        envelope::unwrap(body, self.now(), self.config.request_time_leeway)
    }

    async fn load(
        &self,
        namespace: &str,
        id: Option<&str>,
    ) -> Result<(String, RegistrationTransaction), SignupError> {
        let id = id.ok_or_else(|| SignupError::new(codes::INVALID_TRANSACTION))?;
        let bytes = self
            .deps
            .cache
            .get(namespace, id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| SignupError::new(codes::INVALID_TRANSACTION))?;
        let transaction = serde_json::from_slice(&bytes)
            .map_err(|_| SignupError::new(codes::INVALID_TRANSACTION))?;
        Ok((id.to_owned(), transaction))
    }

    /// Stores `transaction` under `namespace/id` until its `expires_at_ms`.
    async fn store(
        &self,
        namespace: &str,
        id: &str,
        transaction: &RegistrationTransaction,
    ) -> Result<(), SignupError> {
        let remaining = transaction.expires_at_ms.saturating_sub(self.now_ms());
        let remaining = u64::try_from(remaining)
            .ok()
            .filter(|ms| *ms > 0)
            .ok_or_else(|| SignupError::new(codes::INVALID_TRANSACTION))?;
        let bytes =
            serde_json::to_vec(transaction).map_err(|_| SignupError::new(codes::UNKNOWN_ERROR))?;
        self.deps
            .cache
            .put(namespace, id, bytes, Duration::from_millis(remaining))
            .await
            .map_err(unavailable)
    }

    pub(crate) fn expiry(&self, ttl: Duration) -> i64 {
        self.now_ms()
            .saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
    }

    fn locale(&self, locale: Option<&str>) -> Result<String, SignupError> {
        match locale {
            None => Ok(self.config.settings.default_language.clone()),
            Some(locale)
                if self
                    .config
                    .settings
                    .supported_languages
                    .iter()
                    .any(|l| l == locale) =>
            {
                Ok(locale.to_owned())
            }
            Some(_) => Err(SignupError::field("locale", codes::UNSUPPORTED_LANGUAGE)),
        }
    }

    fn recipient(&self, identifier: &str) -> String {
        identifier
            .strip_prefix(self.config.settings.identifier_prefix.as_str())
            .unwrap_or(identifier)
            .to_owned()
    }

    async fn notify(
        &self,
        identifier: &str,
        template: NotificationTemplate,
        locale: &str,
        values: BTreeMap<String, String>,
    ) -> Result<(), esignet_spi::NotificationError> {
        self.deps
            .notifier
            .send(&Notification {
                channel: NotificationChannel::Sms,
                recipient: self.recipient(identifier),
                template,
                locale: locale.to_owned(),
                values,
            })
            .await
    }

    /// Sends a confirmation in the background: its failure does not undo the registration.
    fn notify_later(
        self: &Arc<Self>,
        transaction: &RegistrationTransaction,
        template: NotificationTemplate,
    ) {
        let Some(identifier) = transaction
            .sealed_identifier
            .as_deref()
            .and_then(|s| crypto::open(&self.deps.transaction_key, s).ok())
        else {
            return;
        };
        let service = self.clone();
        let locale = transaction.locale.clone();
        tokio::spawn(async move {
            if let Err(error) = service
                .notify(&identifier, template, &locale, BTreeMap::new())
                .await
            {
                tracing::warn!(%error, template = template.as_str(), "signup confirmation not sent");
            }
        });
    }
}

/// `GET /csrf/token`: the token, reusing the origin's `XSRF-TOKEN` cookie when the browser
/// has one (the login pages share it), else a fresh one set as the cookie.
pub(crate) async fn csrf_token(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
) -> Response {
    let existing = http::cookie(&headers, http::CSRF_COOKIE).map(str::to_owned);
    let token = match existing.clone() {
        Some(token) => token,
        None => match crypto::random_bytes(32) {
            Ok(bytes) => {
                uuid::Builder::from_random_bytes(bytes[..16].try_into().unwrap_or([0u8; 16]))
                    .into_uuid()
                    .to_string()
            }
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    };
    let body = json!({"headerName": http::CSRF_HEADER, "parameterName": "_csrf", "token": token});
    let mut response = axum::Json(body).into_response();
    if existing.is_none() {
        let secure = if service.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        if let Ok(value) = axum::http::HeaderValue::from_str(&format!(
            "{}={token}; Path=/; SameSite=Lax{secure}",
            http::CSRF_COOKIE
        )) {
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, value);
        }
    }
    response
}

pub(crate) fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::Json(json!({"status": 403, "error": "Forbidden", "message": "invalid or missing CSRF token"})),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateChallengeRequest {
    identifier: Option<String>,
    captcha_token: Option<String>,
    locale: Option<String>,
    regenerate_challenge: Option<Value>,
    purpose: Option<String>,
}

/// `POST /registration/generate-challenge`.
pub(crate) async fn generate_challenge(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !http::csrf_ok(&headers) {
        return forbidden();
    }
    let cookie = http::cookie(&headers, TRANSACTION_ID);
    let result = generate(&service, cookie, &body).await;
    service.audit(AuditAction::GenerateChallenge, None, &result);
    service.respond(result)
}

async fn generate(service: &Service, cookie: Option<&str>, body: &[u8]) -> Outcome {
    let request: GenerateChallengeRequest = service.unwrap(body)?;
    let settings = &service.config.settings;
    let identifier = service
        .valid_identifier(request.identifier.as_deref())
        .ok_or_else(|| SignupError::field("identifier", codes::INVALID_IDENTIFIER))?;
    let locale = service.locale(request.locale.as_deref())?;
    let regenerate = match request.regenerate_challenge {
        Some(Value::Bool(flag)) => flag,
        Some(Value::String(text)) if text == "true" || text == "false" => text == "true",
        _ => {
            return Err(SignupError::field(
                "regenerateChallenge",
                codes::INVALID_REQUEST,
            ));
        }
    };
    let purpose = request
        .purpose
        .as_deref()
        .and_then(Purpose::parse)
        .ok_or_else(|| SignupError::field("purpose", codes::INVALID_PURPOSE))?;
    if settings.captcha_required {
        let token = request
            .captcha_token
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| SignupError::field("captchaToken", codes::INVALID_CAPTCHA))?;
        let valid = service
            .deps
            .captcha
            .verify(token, "send-otp")
            .await
            .map_err(|_| SignupError::new(codes::INVALID_CAPTCHA))?;
        if !valid {
            return Err(SignupError::new(codes::INVALID_CAPTCHA));
        }
    }
    let identifier_hash = Service::identifier_hash(&identifier)?;
    if service
        .deps
        .cache
        .get(txn::BLOCKED_IDENTIFIER, &identifier_hash)
        .await
        .map_err(unavailable)?
        .is_some()
    {
        return Err(SignupError::new(codes::IDENTIFIER_BLOCKED));
    }
    let now_ms = service.now_ms();
    let (id, mut transaction, mut cookies) = if regenerate {
        let (id, transaction) = service.load(txn::CHALLENGE_GENERATED, cookie).await?;
        if !constant_time_eq(&transaction.identifier_hash, &identifier_hash) {
            return Err(SignupError::new(codes::IDENTIFIER_MISMATCH));
        }
        let delay_ms = i64::try_from(settings.resend_delay.as_millis()).unwrap_or(i64::MAX);
        if now_ms < transaction.last_sent_at_ms.saturating_add(delay_ms) {
            return Err(SignupError::new(codes::TOO_EARLY_ATTEMPT));
        }
        if transaction.purpose != purpose {
            return Err(SignupError::new(codes::INVALID_PURPOSE));
        }
        (id, transaction, Vec::new())
    } else {
        let id = crypto::transaction_id(i128::from(now_ms))?;
        let transaction = RegistrationTransaction {
            identifier_hash: identifier_hash.clone(),
            challenge_hash: String::new(),
            last_sent_at_ms: now_ms,
            sends: 0,
            application_id: uuid::Uuid::new_v4().to_string(),
            locale: locale.clone(),
            purpose,
            sealed_individual_id: None,
            status: None,
            sealed_identifier: None,
            expires_at_ms: service.expiry(settings.unauthenticated_txn_ttl),
        };
        let cookie =
            CookieChange::set(TRANSACTION_ID, id.clone(), settings.unauthenticated_txn_ttl);
        (id, transaction, vec![cookie])
    };
    // The counter is atomic across instances: parallel sends cannot exceed the limit.
    let sends = service
        .deps
        .cache
        .increment(txn::SEND_COUNT, &id, settings.unauthenticated_txn_ttl)
        .await
        .map_err(unavailable)?;
    if sends > settings.resend_attempts {
        service
            .deps
            .cache
            .put(
                txn::BLOCKED_IDENTIFIER,
                &identifier_hash,
                b"blocked".to_vec(),
                settings.blocked,
            )
            .await
            .map_err(unavailable)?;
        service
            .deps
            .cache
            .delete(txn::CHALLENGE_GENERATED, &id)
            .await
            .map_err(unavailable)?;
        return Err(SignupError::new(codes::IDENTIFIER_BLOCKED));
    }
    let otp = match &settings.fixed_otp {
        Some(otp) => otp.expose().to_owned(),
        None => crypto::numeric_otp(settings.otp_length)?,
    };
    transaction.challenge_hash = sha3_b64u(otp.as_bytes())?;
    transaction.last_sent_at_ms = now_ms;
    transaction.sends = sends;
    transaction.locale = locale.clone();
    service
        .store(txn::CHALLENGE_GENERATED, &id, &transaction)
        .await?;
    let values = BTreeMap::from([("challenge".to_owned(), otp)]);
    service
        .notify(
            &identifier,
            NotificationTemplate::SignupOtp,
            &locale,
            values,
        )
        .await
        .map_err(|error| {
            tracing::warn!(%error, "signup OTP not sent");
            SignupError::new(codes::OTP_NOTIFICATION_FAILED)
        })?;
    if regenerate {
        cookies.clear();
    }
    Ok((json!({"status": "SUCCESS"}), cookies))
}

#[derive(Deserialize)]
struct ChallengeInfo {
    challenge: Option<String>,
    format: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyChallengeRequest {
    identifier: Option<String>,
    challenge_info: Option<Vec<ChallengeInfo>>,
}

/// `POST /registration/verify-challenge`.
pub(crate) async fn verify_challenge(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !http::csrf_ok(&headers) {
        return forbidden();
    }
    let cookie = http::cookie(&headers, TRANSACTION_ID);
    let result = verify(&service, cookie, &body).await;
    service.audit(AuditAction::VerifyChallenge, None, &result);
    service.respond(result)
}

/// The OTP and the optional KBI of a verify request, after the field checks.
fn challenges(request: &VerifyChallengeRequest) -> Result<(String, Option<String>), SignupError> {
    let infos = request
        .challenge_info
        .as_ref()
        .filter(|infos| !infos.is_empty())
        .ok_or_else(|| SignupError::field("challengeInfo", codes::INVALID_CHALLENGE_INFO))?;
    let mut otp = None;
    let mut kbi = None;
    for info in infos {
        let challenge = info
            .challenge
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| SignupError::field("challenge", codes::INVALID_CHALLENGE))?;
        let format = info
            .format
            .as_deref()
            .filter(|f| *f == OTP_FORMAT || *f == KBI_FORMAT)
            .ok_or_else(|| SignupError::field("format", codes::INVALID_CHALLENGE_FORMAT))?;
        match info.kind.as_deref() {
            Some("OTP") if format == OTP_FORMAT => otp = Some(challenge.to_owned()),
            Some("KBI") if format == KBI_FORMAT => kbi = Some(challenge.to_owned()),
            Some("OTP" | "KBI") => {
                return Err(SignupError::new(codes::CHALLENGE_FORMAT_AND_TYPE_MISMATCH));
            }
            _ => return Err(SignupError::field("type", codes::INVALID_CHALLENGE_TYPE)),
        }
    }
    let otp = otp.ok_or_else(|| SignupError::field("challengeInfo", codes::INVALID_CHALLENGE))?;
    Ok((otp, kbi))
}

async fn verify(service: &Service, cookie: Option<&str>, body: &[u8]) -> Outcome {
    let request: VerifyChallengeRequest = service.unwrap(body)?;
    let settings = &service.config.settings;
    let identifier = service
        .valid_identifier(request.identifier.as_deref())
        .ok_or_else(|| SignupError::field("identifier", codes::INVALID_IDENTIFIER))?;
    let (otp, kbi) = challenges(&request)?;
    let (id, mut transaction) = service.load(txn::CHALLENGE_GENERATED, cookie).await?;
    if !constant_time_eq(
        &transaction.identifier_hash,
        &Service::identifier_hash(&identifier)?,
    ) {
        return Err(SignupError::new(codes::IDENTIFIER_MISMATCH));
    }
    let timeout_ms = i64::try_from(settings.challenge_timeout.as_millis()).unwrap_or(i64::MAX);
    if service.now_ms() > transaction.last_sent_at_ms.saturating_add(timeout_ms) {
        return Err(SignupError::new(codes::CHALLENGE_EXPIRED));
    }
    let attempts_key = format!("{id}:{}", transaction.sends);
    let failed = service
        .deps
        .cache
        .get(txn::VERIFY_ATTEMPTS, &attempts_key)
        .await
        .map_err(unavailable)?
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(0);
    if failed >= settings.verification_attempts {
        return Err(SignupError::new(codes::TOO_MANY_VERIFY_ATTEMPTS));
    }
    if !constant_time_eq(&sha3_b64u(otp.as_bytes())?, &transaction.challenge_hash) {
        let failed = service
            .deps
            .cache
            .increment(
                txn::VERIFY_ATTEMPTS,
                &attempts_key,
                settings.unauthenticated_txn_ttl,
            )
            .await
            .map_err(unavailable)?;
        if failed > settings.verification_attempts {
            return Err(SignupError::new(codes::TOO_MANY_VERIFY_ATTEMPTS));
        }
        return Err(SignupError::new(codes::CHALLENGE_FAILED));
    }
    let individual_id = format!("{identifier}{}", settings.individual_id_postfix);
    let profile = service.deps.registry.get(&individual_id).await?;
    match transaction.purpose {
        Purpose::Registration => {
            if profile.active || profile.identity.is_some() {
                return Err(SignupError::new(codes::IDENTIFIER_ALREADY_REGISTERED));
            }
        }
        Purpose::ResetPassword => {
            let identity = profile
                .identity
                .as_ref()
                .filter(|_| profile.active)
                .ok_or_else(|| SignupError::new(codes::IDENTIFIER_NOT_FOUND))?;
            let kbi = kbi.ok_or_else(|| SignupError::new(codes::KBI_CHALLENGE_NOT_FOUND))?;
            let challenge: Value = b64url_decode(&kbi)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .ok_or_else(|| SignupError::new(codes::INVALID_KBI_CHALLENGE))?;
            if !service.deps.registry.is_match(identity, &challenge) {
                return Err(SignupError::new(codes::KNOWLEDGEBASE_MISMATCH));
            }
            transaction.sealed_individual_id = Some(crypto::seal(
                &service.deps.transaction_key,
                &profile.individual_id,
            )?);
        }
    }
    // Single use: only the caller that takes the challenge transaction moves on.
    if service
        .deps
        .cache
        .take(txn::CHALLENGE_GENERATED, &id)
        .await
        .map_err(unavailable)?
        .is_none()
    {
        return Err(SignupError::new(codes::INVALID_TRANSACTION));
    }
    let verified_id = crypto::transaction_id(i128::from(service.now_ms()))?;
    let ttl = settings.verified_txn_ttl + settings.status_check_ttl;
    transaction.sealed_identifier = Some(crypto::seal(&service.deps.transaction_key, &identifier)?);
    transaction.expires_at_ms = service.expiry(settings.verified_txn_ttl);
    service
        .store(txn::CHALLENGE_VERIFIED, &verified_id, &transaction)
        .await?;
    Ok((
        json!({"status": "SUCCESS"}),
        vec![
            CookieChange::set(VERIFIED_TRANSACTION_ID, verified_id, ttl),
            CookieChange::clear(TRANSACTION_ID),
        ],
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterRequest {
    username: Option<String>,
    password: Option<String>,
    consent: Option<String>,
    user_info: Option<Value>,
    locale: Option<String>,
}

/// `POST /registration/register`.
pub(crate) async fn register(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !http::csrf_ok(&headers) {
        return forbidden();
    }
    let cookie = http::cookie(&headers, VERIFIED_TRANSACTION_ID);
    let result = register_profile(&service, cookie, &body).await;
    service.audit(AuditAction::Register, None, &result);
    service.respond(result)
}

fn check_password(service: &Service, password: Option<&str>) -> Result<String, SignupError> {
    let settings = &service.config.settings;
    password
        .filter(|p| {
            let length = p.chars().count();
            length >= settings.password_min_length
                && length <= settings.password_max_length
                && Service::matches(&service.password, p)
        })
        .map(str::to_owned)
        .ok_or_else(|| SignupError::field("password", codes::INVALID_PASSWORD))
}

async fn register_profile(service: &Arc<Service>, cookie: Option<&str>, body: &[u8]) -> Outcome {
    let request: RegisterRequest = service.unwrap(body)?;
    let username = service
        .valid_identifier(request.username.as_deref())
        .ok_or_else(|| SignupError::field("username", codes::INVALID_USERNAME))?;
    let password = check_password(service, request.password.as_deref())?;
    let consent = request
        .consent
        .as_deref()
        .filter(|c| *c == "AGREE" || *c == "DISAGREE")
        .ok_or_else(|| SignupError::field("consent", codes::INVALID_CONSENT))?;
    let mut user_info = request
        .user_info
        .and_then(|v| v.as_object().cloned())
        .filter(|info| !info.is_empty())
        .ok_or_else(|| SignupError::field("userInfo", codes::INVALID_USERINFO))?;
    if let Some(locale) = request.locale.as_deref() {
        service.locale(Some(locale))?;
    }
    user_info.insert("password".into(), json!(password));
    let (id, mut transaction) = service.load(txn::CHALLENGE_VERIFIED, cookie).await?;
    if transaction.purpose != Purpose::Registration {
        return Err(SignupError::new(codes::UNSUPPORTED_PURPOSE));
    }
    if consent != "AGREE" {
        return Err(SignupError::new(codes::CONSENT_REQUIRED));
    }
    if !constant_time_eq(
        &transaction.identifier_hash,
        &Service::identifier_hash(&username)?,
    ) {
        return Err(SignupError::new(codes::IDENTIFIER_MISMATCH));
    }
    let profile = Profile {
        individual_id: format!(
            "{username}{}",
            service.config.settings.individual_id_postfix
        ),
        consent: Some(consent.to_owned()),
        identity: Some(Value::Object(user_info)),
        active: true,
    };
    service
        .deps
        .registry
        .validate(ProfileAction::Create, &profile)
        .await?;
    // One create per verified transaction: parallel submits cannot both reach the registry.
    let taken = service
        .deps
        .cache
        .take(txn::CHALLENGE_VERIFIED, &id)
        .await
        .map_err(unavailable)?;
    if taken.is_none() {
        return Err(SignupError::new(codes::INVALID_TRANSACTION));
    }
    let status = match service
        .deps
        .registry
        .create(&transaction.application_id, &profile)
        .await
    {
        Ok(status) => status,
        Err(error) => {
            // Nothing was created: give the transaction back so the form can be corrected.
            let _ = service
                .store(txn::CHALLENGE_VERIFIED, &id, &transaction)
                .await;
            return Err(error);
        }
    };
    transaction.status = Some(status_word(status).to_owned());
    transaction.expires_at_ms = service.expiry(service.config.settings.status_check_ttl);
    service.store(txn::STATUS_CHECK, &id, &transaction).await?;
    service.notify_later(&transaction, NotificationTemplate::Registration);
    Ok((json!({"status": "PENDING"}), Vec::new()))
}

fn status_word(status: ProfileStatus) -> &'static str {
    match status {
        ProfileStatus::Pending => "PENDING",
        ProfileStatus::Completed => "COMPLETED",
        ProfileStatus::Failed => "FAILED",
    }
}

/// `GET /registration/status`.
pub(crate) async fn status(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let cookie = http::cookie(&headers, VERIFIED_TRANSACTION_ID);
    let result = registration_status(&service, cookie).await;
    service.audit(AuditAction::RegisterStatusCheck, None, &result);
    service.respond(result)
}

async fn registration_status(service: &Service, cookie: Option<&str>) -> Outcome {
    let (id, mut transaction) = service.load(txn::STATUS_CHECK, cookie).await?;
    let mut status = transaction
        .status
        .clone()
        .unwrap_or_else(|| "PENDING".into());
    if status == "PENDING" {
        let fresh = service
            .deps
            .registry
            .status(&transaction.application_id)
            .await?;
        status = status_word(fresh).to_owned();
        transaction.status = Some(status.clone());
        service.store(txn::STATUS_CHECK, &id, &transaction).await?;
    }
    Ok((json!({"status": status}), Vec::new()))
}

/// `GET /registration/ui-spec` (needs a verified transaction, as in signup 1.2).
pub(crate) async fn ui_spec(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let cookie = http::cookie(&headers, VERIFIED_TRANSACTION_ID);
    let result = async {
        service.load(txn::CHALLENGE_VERIFIED, cookie).await?;
        Ok((service.deps.registry.ui_spec().await?, Vec::new()))
    }
    .await;
    service.respond(result)
}

#[derive(Deserialize)]
struct ResetPasswordRequest {
    identifier: Option<String>,
    password: Option<String>,
    locale: Option<String>,
}

/// `POST /reset-password`.
pub(crate) async fn reset_password(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !http::csrf_ok(&headers) {
        return forbidden();
    }
    let cookie = http::cookie(&headers, VERIFIED_TRANSACTION_ID);
    let result = reset(&service, cookie, &body).await;
    service.audit(AuditAction::ResetPassword, None, &result);
    service.respond(result)
}

async fn reset(service: &Arc<Service>, cookie: Option<&str>, body: &[u8]) -> Outcome {
    let request: ResetPasswordRequest = service.unwrap(body)?;
    let identifier = service
        .valid_identifier(request.identifier.as_deref())
        .ok_or_else(|| SignupError::field("identifier", codes::INVALID_IDENTIFIER))?;
    let password = check_password(service, request.password.as_deref())?;
    if let Some(locale) = request.locale.as_deref() {
        service.locale(Some(locale))?;
    }
    let (id, mut transaction) = service.load(txn::CHALLENGE_VERIFIED, cookie).await?;
    if !constant_time_eq(
        &transaction.identifier_hash,
        &Service::identifier_hash(&identifier)?,
    ) {
        return Err(SignupError::new(codes::IDENTIFIER_MISMATCH));
    }
    if transaction.purpose != Purpose::ResetPassword {
        return Err(SignupError::new(codes::UNSUPPORTED_PURPOSE));
    }
    let individual_id = transaction
        .sealed_individual_id
        .as_deref()
        .ok_or_else(|| SignupError::new(codes::INVALID_TRANSACTION))
        .and_then(|sealed| crypto::open(&service.deps.transaction_key, sealed))?;
    let profile = Profile {
        individual_id,
        consent: None,
        identity: Some(json!({"password": password})),
        active: true,
    };
    service
        .deps
        .registry
        .validate(ProfileAction::Update, &profile)
        .await?;
    if service
        .deps
        .cache
        .take(txn::CHALLENGE_VERIFIED, &id)
        .await
        .map_err(unavailable)?
        .is_none()
    {
        return Err(SignupError::new(codes::INVALID_TRANSACTION));
    }
    let status = match service
        .deps
        .registry
        .update(&transaction.application_id, &profile)
        .await
    {
        Ok(status) => status,
        Err(error) => {
            let _ = service
                .store(txn::CHALLENGE_VERIFIED, &id, &transaction)
                .await;
            return Err(error);
        }
    };
    transaction.status = Some(status_word(status).to_owned());
    transaction.expires_at_ms = service.expiry(service.config.settings.status_check_ttl);
    service.store(txn::STATUS_CHECK, &id, &transaction).await?;
    service.notify_later(&transaction, NotificationTemplate::ForgotPassword);
    Ok((json!({"status": "PENDING"}), Vec::new()))
}
