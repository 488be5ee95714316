//! [`HttpAuthenticator`]: the [`Authenticator`] seam over the identity system's HTTP API.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use esignet_mock_authenticator::{AuthFactor, codes as mock_codes, iso639_3};
use esignet_spi::{
    Authenticator, Clock, KycAuthRequest, KycAuthResult, KycExchangeRequest, KycExchangeResult,
    PluginError, SendOtpRequest, SendOtpResult, SigningCertificate, SystemClock,
    UserinfoResponseType,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use url::Url;

use crate::wire::{
    Envelope, KeysResponse, KycAuthBody, KycAuthResponse, KycExchangeBody, KycExchangeResponse,
    SendOtpBody, SendOtpResponse, parse_timestamp, request_date_time,
};
use crate::{HttpAuthenticatorConfig, HttpAuthenticatorError, codes};

// The key binder shares this module's private plumbing (client, envelope, error mapping).
mod binder;
pub use binder::HttpKeyBinder;

/// How long the KYC signing certificates from `keys.json` are reused before asking again: short
/// enough that a rotation at the identity system shows within a minute, long enough that the
/// JWKS endpoint does not turn every request into a call.
pub const CERTIFICATE_CACHE_TTL: time::Duration = time::Duration::seconds(60);

/// Pause before the n-th retry of an idempotent call is n times this.
const RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// Why a call failed, before it becomes a [`PluginError`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum CallError {
    /// No answer within the timeout.
    Timeout,
    /// Connection refused or reset, or a 5xx answer.
    Unavailable,
    /// The identity system's own error code.
    Refused(String),
    /// An answer that is not the API's envelope or shape.
    Protocol,
}

impl CallError {
    fn is_transient(&self) -> bool {
        matches!(self, CallError::Timeout | CallError::Unavailable)
    }
}

impl From<CallError> for PluginError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Timeout => PluginError::new(codes::IDENTITY_SYSTEM_TIMEOUT),
            CallError::Unavailable => PluginError::new(codes::IDENTITY_SYSTEM_UNAVAILABLE),
            CallError::Refused(code) => PluginError::new(code),
            CallError::Protocol => PluginError::new(mock_codes::UNKNOWN_ERROR),
        }
    }
}

struct CachedCertificates {
    fetched_at: OffsetDateTime,
    certificates: Vec<SigningCertificate>,
}

/// eSignet's [`Authenticator`] seam implemented by calling a mock-identity-system compatible
/// HTTP API, the way MOSIP's mock plugin does (see the crate documentation).
///
/// Cheap to share behind an `Arc`; the HTTP connection pool is reused across calls. Nothing
/// personal (individual ids, challenges, claims) is logged or put in errors.
pub struct HttpAuthenticator {
    http: reqwest::Client,
    base: Url,
    retries: u32,
    otp_channels: Vec<String>,
    identity_system_encrypts: bool,
    clock: Arc<dyn Clock>,
    certificates: Mutex<Option<CachedCertificates>>,
}

impl std::fmt::Debug for HttpAuthenticator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpAuthenticator")
            .field("base_url", &self.base.as_str())
            .field("retries", &self.retries)
            .field("otp_channels", &self.otp_channels)
            .finish_non_exhaustive()
    }
}

impl HttpAuthenticator {
    /// An authenticator calling the API at `config.base_url`, reading time from the system
    /// clock (see [`HttpAuthenticator::with_clock`]).
    ///
    /// # Errors
    ///
    /// The base URL is not an absolute `http`/`https` URL without query or fragment, a timeout
    /// is zero, or the HTTP client cannot be built (TLS backend unavailable).
    pub fn new(config: HttpAuthenticatorConfig) -> Result<Self, HttpAuthenticatorError> {
        let base = crate::transport::parse_base_url(&config.base_url)?;
        let http = crate::transport::http_client(config.timeout, config.connect_timeout)?;
        Ok(Self {
            http,
            base,
            retries: config.retries,
            otp_channels: config.otp_channels,
            identity_system_encrypts: config.identity_system_encrypts,
            clock: Arc::new(SystemClock),
            certificates: Mutex::new(None),
        })
    }

    /// Reads time from `clock` instead (for `requestDateTime` and the certificate cache).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The base URL calls are made under.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// `base` + `/` + each segment, percent-encoded (relying party and client ids are data).
    fn url(&self, segments: &[&str]) -> Result<Url, CallError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| CallError::Protocol)?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Sends one request and reads the envelope: the `response` member, or the first error's
    /// code. `empty` is the failure code when the answer has neither (`response: null`).
    async fn call(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
        empty: &'static str,
    ) -> Result<Value, CallError> {
        let started = Instant::now();
        // The provider's request id travels on, so one login can be followed across services.
        let request = match esignet_spi::current_request_id() {
            Some(request_id) if !request_id.is_empty() => {
                request.header("x-request-id", request_id)
            }
            _ => request,
        };
        let response = request
            .send()
            .await
            .map_err(|error| transport_error(operation, &error))?;
        let status = response.status();
        if status.is_server_error() {
            tracing::warn!(
                operation,
                status = status.as_u16(),
                "identity system answered with a server error"
            );
            return Err(CallError::Unavailable);
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| transport_error(operation, &error))?;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
            tracing::warn!(
                operation,
                status = status.as_u16(),
                "identity system answer is not the API envelope"
            );
            return Err(CallError::Protocol);
        };
        if let Some(error) = envelope.errors.unwrap_or_default().into_iter().next() {
            if error.error_code.trim().is_empty() {
                tracing::warn!(operation, "identity system error without a code");
                return Err(CallError::Protocol);
            }
            tracing::info!(operation, code = %error.error_code, elapsed_ms, "identity system refused");
            return Err(CallError::Refused(error.error_code));
        }
        if !status.is_success() {
            tracing::warn!(
                operation,
                status = status.as_u16(),
                "identity system answered with an unexpected status"
            );
            return Err(CallError::Protocol);
        }
        if envelope.response.is_null() {
            tracing::info!(
                operation,
                code = empty,
                "identity system answered without a result"
            );
            return Err(CallError::Refused(empty.to_owned()));
        }
        tracing::debug!(operation, elapsed_ms, "identity system answered");
        Ok(envelope.response)
    }

    /// POSTs `body` once (never retried: these calls have side effects) and decodes the result.
    async fn post<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        segments: &[&str],
        body: &impl Serialize,
        empty: &'static str,
    ) -> Result<T, PluginError> {
        let url = self.url(segments)?;
        let response = self
            .call(operation, self.http.post(url).json(body), empty)
            .await?;
        serde_json::from_value(response).map_err(|_| {
            tracing::warn!(operation, "identity system result has an unexpected shape");
            PluginError::from(CallError::Protocol)
        })
    }

    /// `GET /keys.json`, retried on timeouts and unavailability (it is idempotent).
    async fn fetch_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        let url = self.url(&["keys.json"])?;
        let mut attempt: u32 = 0;
        let response = loop {
            match self
                .call(
                    "keys",
                    self.http.get(url.clone()),
                    mock_codes::UNKNOWN_ERROR,
                )
                .await
            {
                Ok(response) => break response,
                Err(error) if error.is_transient() && attempt < self.retries => {
                    attempt += 1;
                    tracing::info!(attempt, "retrying keys.json");
                    tokio::time::sleep(RETRY_BACKOFF * attempt).await;
                }
                Err(error) => return Err(error.into()),
            }
        };
        let keys: KeysResponse =
            serde_json::from_value(response).map_err(|_| PluginError::from(CallError::Protocol))?;
        keys.all_certificates
            .into_iter()
            .map(|certificate| {
                let (Some(issued_at), Some(expires_at)) = (
                    parse_timestamp(&certificate.issued_at),
                    parse_timestamp(&certificate.expiry_at),
                ) else {
                    tracing::warn!("keys.json has an unreadable certificate date");
                    return Err(PluginError::from(CallError::Protocol));
                };
                Ok(SigningCertificate {
                    key_id: certificate.key_id,
                    certificate_pem: certificate.certificate_data,
                    issued_at,
                    expires_at,
                })
            })
            .collect()
    }

    /// The plain, verified and encrypted exchanges: v3 when a JWE is wanted, else v2 for
    /// verified claims, else v1.
    async fn exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: &KycExchangeRequest,
        verified: bool,
    ) -> Result<KycExchangeResult, PluginError> {
        // By default eSignet-rs encrypts for JWE clients itself (to the key the client registered
        // with eSignet), so the identity system only signs; opting in hands that to the system.
        let jwe = self.identity_system_encrypts
            && request.userinfo_response_type == UserinfoResponseType::Jwe;
        let (version, details, resp_type) = if jwe {
            (
                Some("v3"),
                Some(&request.accepted_claim_details),
                Some("JWE"),
            )
        } else if verified {
            (Some("v2"), Some(&request.accepted_claim_details), None)
        } else {
            (None, None, None)
        };
        let body = KycExchangeBody {
            request_date_time: request_date_time(self.clock.now()),
            transaction_id: &request.transaction_id,
            kyc_token: &request.kyc_token,
            individual_id: &request.individual_id,
            accepted_claims: &request.accepted_claims,
            // eSignet's mock plugin sends ISO 639-3 codes; identities store those.
            claim_locales: request
                .claims_locales
                .iter()
                .map(|tag| iso639_3(tag).unwrap_or_else(|| tag.clone()))
                .collect(),
            accepted_claim_detail: details,
            resp_type,
        };
        let mut segments = Vec::with_capacity(4);
        segments.extend(version);
        segments.extend(["kyc-exchange", relying_party_id, client_id]);
        let response: KycExchangeResponse = self
            .post(
                "kyc-exchange",
                &segments,
                &body,
                mock_codes::DATA_EXCHANGE_FAILED,
            )
            .await?;
        match response.kyc {
            Some(kyc) if !kyc.is_empty() => Ok(KycExchangeResult { encrypted_kyc: kyc }),
            _ => Err(PluginError::new(mock_codes::DATA_EXCHANGE_FAILED)),
        }
    }
}

/// Classifies a transport failure (see [`crate::transport::classify`]).
fn transport_error(operation: &'static str, error: &reqwest::Error) -> CallError {
    match crate::transport::classify(operation, error) {
        crate::transport::TransportFailure::Timeout => CallError::Timeout,
        crate::transport::TransportFailure::Unavailable => CallError::Unavailable,
    }
}

#[async_trait::async_trait]
impl Authenticator for HttpAuthenticator {
    /// `POST send-otp/{rp}/{client}`. Not retried: a real system would send the resident a
    /// second message.
    async fn send_otp(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: SendOtpRequest,
    ) -> Result<SendOtpResult, PluginError> {
        let body = SendOtpBody {
            transaction_id: &request.transaction_id,
            individual_id: &request.individual_id,
            otp_channels: &request.otp_channels,
        };
        let response: SendOtpResponse = self
            .post(
                "send-otp",
                &["send-otp", relying_party_id, client_id],
                &body,
                mock_codes::SEND_OTP_FAILED,
            )
            .await?;
        let transaction_id = response
            .transaction_id
            .ok_or_else(|| PluginError::new(mock_codes::SEND_OTP_FAILED))?;
        Ok(SendOtpResult {
            transaction_id,
            masked_email: response.masked_email,
            masked_mobile: response.masked_mobile,
        })
    }

    fn is_supported_otp_channel(&self, channel: &str) -> bool {
        self.otp_channels
            .iter()
            .any(|supported| supported.eq_ignore_ascii_case(channel))
    }

    /// `POST v2/kyc-auth/{rp}/{client}` with one member per challenge (`PIN`→`pin`, `OTP`→`otp`,
    /// `BIO`→`biometrics`, `WLA`→`tokens[0]`, `KBI`→`kbi`, `PWD`→`password`). Refused before
    /// any call: an unknown factor or `IDT` (`invalid_auth_factor_type`), a format other than
    /// the factor's (`invalid_challenge_format`), a factor given twice
    /// (`invalid_auth_challenge`). Not retried: it consumes the OTP and issues a KYC token.
    async fn kyc_auth(
        &self,
        relying_party_id: &str,
        client_id: &str,
        claims_metadata_required: bool,
        request: KycAuthRequest,
    ) -> Result<KycAuthResult, PluginError> {
        let mut body = KycAuthBody {
            transaction_id: &request.transaction_id,
            individual_id: &request.individual_id,
            claim_metadata_required: claims_metadata_required,
            ..KycAuthBody::default()
        };
        let mut seen = HashSet::new();
        for challenge in &request.challenges {
            let factor = AuthFactor::from_type(&challenge.auth_factor_type)
                .ok_or_else(|| PluginError::new(mock_codes::INVALID_AUTH_FACTOR_TYPE))?;
            if challenge.format != factor.expected_format() {
                return Err(PluginError::new(mock_codes::INVALID_CHALLENGE_FORMAT));
            }
            if !seen.insert(factor) {
                return Err(PluginError::new(codes::INVALID_AUTH_CHALLENGE));
            }
            let value = Some(challenge.challenge.as_str());
            match factor {
                AuthFactor::Otp => body.otp = value,
                AuthFactor::Pin => body.pin = value,
                AuthFactor::Password => body.password = value,
                AuthFactor::Kbi => body.kbi = value,
                AuthFactor::Biometrics => body.biometrics = value,
                AuthFactor::Wallet => body.tokens = vec![challenge.challenge.as_str()],
                AuthFactor::IdToken => {
                    return Err(PluginError::new(mock_codes::INVALID_AUTH_FACTOR_TYPE));
                }
            }
        }
        let response: KycAuthResponse = self
            .post(
                "kyc-auth",
                &["v2", "kyc-auth", relying_party_id, client_id],
                &body,
                mock_codes::AUTH_FAILED,
            )
            .await?;
        match response {
            KycAuthResponse {
                auth_status: true,
                kyc_token: Some(kyc_token),
                partner_specific_user_token: Some(partner_specific_user_token),
                claim_metadata,
            } if !kyc_token.is_empty() && !partner_specific_user_token.is_empty() => {
                Ok(KycAuthResult {
                    kyc_token,
                    partner_specific_user_token,
                    claims_metadata: if claims_metadata_required {
                        claim_metadata.unwrap_or_default()
                    } else {
                        serde_json::Map::new()
                    },
                })
            }
            // `{"authStatus": false}` without an error: how the Java mock reports a wrong factor.
            _ => Err(PluginError::new(mock_codes::AUTH_FAILED)),
        }
    }

    /// `POST v2/claim-metadata/{rp}/{client}` (an extension of our mock identity system): what
    /// the identity system now holds about `claims`, read when a halted login resumes after
    /// identity verification. An identity system without the endpoint (the Java mock answers
    /// it with a non-envelope 404) cannot tell: `None`, and the metadata read at authentication
    /// stands. Retried on timeouts and unavailability (it only reads).
    async fn claims_metadata(
        &self,
        relying_party_id: &str,
        client_id: &str,
        individual_id: &str,
        claims: &[String],
    ) -> Result<Option<serde_json::Map<String, Value>>, PluginError> {
        let url = self.url(&["v2", "claim-metadata", relying_party_id, client_id])?;
        let body = serde_json::json!({ "individualId": individual_id, "claims": claims });
        let mut attempt: u32 = 0;
        let response = loop {
            match self
                .call(
                    "claim-metadata",
                    self.http.post(url.clone()).json(&body),
                    mock_codes::UNKNOWN_ERROR,
                )
                .await
            {
                Ok(response) => break response,
                Err(CallError::Protocol) => return Ok(None),
                Err(error) if error.is_transient() && attempt < self.retries => {
                    attempt += 1;
                    tokio::time::sleep(RETRY_BACKOFF * attempt).await;
                }
                Err(error) => return Err(error.into()),
            }
        };
        match response.get("claimMetadata") {
            Some(Value::Object(metadata)) => Ok(Some(metadata.clone())),
            _ => Err(CallError::Protocol.into()),
        }
    }

    /// `POST kyc-exchange/{rp}/{client}`, or `v3/...` with `respType: JWE` when the client wants
    /// a JWE (the identity system then encrypts to the key registered for (rp, client)). Not
    /// retried: the KYC token is single use.
    async fn kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        self.exchange(relying_party_id, client_id, &request, false)
            .await
    }

    /// `POST v2/kyc-exchange/{rp}/{client}` with `acceptedClaimDetail` (or `v3` for a JWE).
    async fn verified_kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        self.exchange(relying_party_id, client_id, &request, true)
            .await
    }

    /// `GET keys.json`, cached for [`CERTIFICATE_CACHE_TTL`] and retried up to `retries` times.
    async fn kyc_signing_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        let now = self.clock.now();
        {
            let cached = self
                .certificates
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(cached) = cached.as_ref()
                && (now - cached.fetched_at) < CERTIFICATE_CACHE_TTL
                && now >= cached.fetched_at
            {
                return Ok(cached.certificates.clone());
            }
        }
        // Fetched without the lock held; concurrent misses may fetch twice, which is harmless.
        let certificates = self.fetch_certificates().await?;
        *self
            .certificates
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(CachedCertificates {
            fetched_at: now,
            certificates: certificates.clone(),
        });
        Ok(certificates)
    }
}
