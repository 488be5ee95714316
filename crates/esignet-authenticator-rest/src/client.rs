//! [`RestAuthenticator`]: the [`Authenticator`] seam over a configured REST identity system.

use std::sync::Arc;

use esignet_authenticator_http::transport::{self, TransportFailure};
use esignet_mock_authenticator::codes as mock_codes;
use esignet_spi::{
    Authenticator, Cache, Clock, KycAuthRequest, KycAuthResult, KycExchangeRequest,
    KycExchangeResult, PluginError, SendOtpRequest, SendOtpResult, SigningCertificate, TokenSigner,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::claims;
use crate::codes;
use crate::config::{Compiled, Method, RestConfig, RestConfigError};
use crate::template::Values;

/// The cache namespace of issued KYC tokens.
pub const KYC_TOKEN_NAMESPACE: &str = "rest-identity-kyc";

/// Largest answer read from the identity system.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// What a KYC token unlocks, kept in the cache under the token's hash. The individual id is
/// kept only as a hash: enough to refuse a token presented for someone else.
#[derive(Serialize, Deserialize)]
struct IssuedToken {
    transaction_id: String,
    individual_id_hash: String,
    psut: String,
}

/// Why a call failed, before it becomes a [`PluginError`] of the operation.
enum CallError {
    Transport(TransportFailure),
    /// A 4xx answer, or a 2xx answer that is not what the operation expects.
    Rejected,
}

/// The error of an operation: transport failures keep their shared codes, everything else is
/// the operation's own failure code.
fn plugin_error(error: CallError, code: &'static str) -> PluginError {
    match error {
        CallError::Transport(failure) => PluginError::new(failure.code()),
        CallError::Rejected => PluginError::new(code),
    }
}

/// eSignet's [`Authenticator`] seam over an identity system with JSON endpoints, driven by the
/// templates and mappings of [`RestConfig`] (see the crate documentation).
pub struct RestAuthenticator {
    http: reqwest::Client,
    compiled: Compiled,
    config: RestConfig,
    signer: Arc<dyn TokenSigner>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RestAuthenticator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RestAuthenticator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RestAuthenticator {
    /// An authenticator calling the identity system of `config`, signing userinfo with
    /// `signer` and keeping KYC tokens in `cache`.
    ///
    /// # Errors
    ///
    /// A template, pointer, claim mapping, header or timeout of `config` is unusable.
    pub fn new(
        config: RestConfig,
        signer: Arc<dyn TokenSigner>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RestConfigError> {
        let compiled = config.compile()?;
        // Validate the timeouts with the shared rule before building our own client (which
        // carries the default headers the shared builder does not take).
        transport::http_client(config.timeout, config.connect_timeout)
            .map_err(|error| RestConfigError(error.to_string()))?;
        let http = reqwest::Client::builder()
            .default_headers(compiled.headers.clone())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|error| RestConfigError(error.to_string()))?;
        Ok(Self {
            http,
            compiled,
            config,
            signer,
            cache,
            clock,
        })
    }

    /// Sends one request (never retried: an OTP check or send must not happen twice) and reads
    /// a 2xx answer's bytes.
    async fn call(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, CallError> {
        let mut response = request
            .send()
            .await
            // The URL may carry the individual id: it is dropped before the error is logged.
            .map_err(|error| {
                CallError::Transport(transport::classify(operation, &error.without_url()))
            })?;
        let status = response.status();
        if status.is_server_error() {
            tracing::warn!(
                operation,
                status = status.as_u16(),
                "identity system answered with a server error"
            );
            return Err(CallError::Transport(TransportFailure::Unavailable));
        }
        if !status.is_success() {
            tracing::info!(
                operation,
                status = status.as_u16(),
                "identity system refused the call"
            );
            return Err(CallError::Rejected);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            // The URL may carry the individual id: it is dropped before the error is logged.
            .map_err(|error| {
                CallError::Transport(transport::classify(operation, &error.without_url()))
            })?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                tracing::warn!(operation, "identity system answer too large");
                return Err(CallError::Rejected);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// A 2xx answer as JSON.
    async fn call_json(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, CallError> {
        let body = self.call(operation, request).await?;
        serde_json::from_slice(&body).map_err(|_| {
            // The body is not logged: it may hold personal data.
            tracing::warn!(operation, "identity system answer is not JSON");
            CallError::Rejected
        })
    }

    /// Verifies one challenge; on success, the person's stable id if the answer gives one.
    async fn authenticate(&self, values: &Values<'_>) -> Result<Option<String>, PluginError> {
        let failed = || PluginError::new(mock_codes::AUTH_FAILED);
        let operation = &self.config.authenticate;
        let url = self
            .compiled
            .authenticate_url
            .render(values)
            .ok_or_else(failed)?;
        let request = self
            .http
            .post(url)
            .json(&self.compiled.authenticate_body.render(values));
        if operation.success_pointer.is_none() && operation.subject_pointer.is_none() {
            // Only the status decides: the answer need not be JSON.
            self.call("rest-authenticate", request)
                .await
                .map_err(|error| plugin_error(error, mock_codes::AUTH_FAILED))?;
            return Ok(None);
        }
        let answer = self
            .call_json("rest-authenticate", request)
            .await
            .map_err(|error| plugin_error(error, mock_codes::AUTH_FAILED))?;
        if let Some(pointer) = &operation.success_pointer
            && answer.pointer(pointer) != Some(&operation.success_value)
        {
            tracing::info!(
                factor = values.factor,
                "identity system did not confirm the challenge"
            );
            return Err(failed());
        }
        let Some(pointer) = &operation.subject_pointer else {
            return Ok(None);
        };
        match answer.pointer(pointer) {
            Some(Value::String(subject)) if !subject.is_empty() => Ok(Some(subject.clone())),
            Some(Value::Number(subject)) => Ok(Some(subject.to_string())),
            _ => {
                tracing::warn!("identity system answer has no subject at the configured pointer");
                Err(failed())
            }
        }
    }
}

/// A text value at `pointer`, if the pointer is configured and the answer holds text there.
fn text_at(answer: &Value, pointer: Option<&String>) -> Option<String> {
    answer
        .pointer(pointer?)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

#[async_trait::async_trait]
impl Authenticator for RestAuthenticator {
    /// `POST` to the `send_otp` template; `not_implemented` when none is configured.
    async fn send_otp(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: SendOtpRequest,
    ) -> Result<SendOtpResult, PluginError> {
        let (Some(operation), Some((url, body))) = (&self.config.send_otp, &self.compiled.send_otp)
        else {
            return Err(PluginError::new(codes::NOT_IMPLEMENTED));
        };
        let failed = || PluginError::new(mock_codes::SEND_OTP_FAILED);
        if request.otp_channels.is_empty()
            || !request
                .otp_channels
                .iter()
                .all(|channel| self.is_supported_otp_channel(channel))
        {
            return Err(PluginError::new(mock_codes::INVALID_OTP_CHANNEL));
        }
        let values = Values {
            individual_id: &request.individual_id,
            transaction_id: &request.transaction_id,
            channels: &request.otp_channels,
            relying_party_id,
            client_id,
            ..Values::default()
        };
        let url = url.render(&values).ok_or_else(failed)?;
        let http = self.http.post(url).json(&body.render(&values));
        let wants_answer =
            operation.masked_email_pointer.is_some() || operation.masked_mobile_pointer.is_some();
        let answer = if wants_answer {
            self.call_json("rest-send-otp", http).await
        } else {
            self.call("rest-send-otp", http).await.map(|_| Value::Null)
        }
        .map_err(|error| plugin_error(error, mock_codes::SEND_OTP_FAILED))?;
        Ok(SendOtpResult {
            transaction_id: request.transaction_id,
            // Masked addresses are shown to the resident when given; an answer without them
            // still means the OTP was sent.
            masked_email: text_at(&answer, operation.masked_email_pointer.as_ref()),
            masked_mobile: text_at(&answer, operation.masked_mobile_pointer.as_ref()),
        })
    }

    fn is_supported_otp_channel(&self, channel: &str) -> bool {
        self.config.send_otp.is_some()
            && self
                .config
                .otp_channels
                .iter()
                .any(|known| known.eq_ignore_ascii_case(channel))
    }

    /// Every challenge, of a configured factor type, is verified by its own `authenticate`
    /// call; all must pass.
    async fn kyc_auth(
        &self,
        relying_party_id: &str,
        client_id: &str,
        _claims_metadata_required: bool,
        request: KycAuthRequest,
    ) -> Result<KycAuthResult, PluginError> {
        if request.challenges.is_empty() {
            return Err(PluginError::new(mock_codes::AUTH_FAILED));
        }
        if let Some(challenge) = request.challenges.iter().find(|challenge| {
            !self
                .config
                .auth_factors
                .iter()
                .any(|factor| factor.eq_ignore_ascii_case(&challenge.auth_factor_type))
        }) {
            tracing::info!(
                factor = challenge.auth_factor_type,
                "auth factor type not configured"
            );
            return Err(PluginError::new(mock_codes::INVALID_AUTH_FACTOR_TYPE));
        }
        let mut subject = None;
        for challenge in &request.challenges {
            let values = Values {
                individual_id: &request.individual_id,
                transaction_id: &request.transaction_id,
                factor: &challenge.auth_factor_type,
                challenge: &challenge.challenge,
                relying_party_id,
                client_id,
                ..Values::default()
            };
            if let Some(found) = self.authenticate(&values).await? {
                subject = Some(found);
            }
        }
        let subject = subject.unwrap_or_else(|| request.individual_id.clone());
        let psut = esignet_jose::sha3_256_b64url(format!("{subject}{relying_party_id}").as_bytes());
        let kyc_token = esignet_mock_authenticator::issue_kyc_token(
            self.cache.as_ref(),
            KYC_TOKEN_NAMESPACE,
            self.config.kyc_token_ttl,
            &IssuedToken {
                transaction_id: request.transaction_id.clone(),
                individual_id_hash: esignet_jose::sha256_b64url(request.individual_id.as_bytes()),
                psut: psut.clone(),
            },
        )
        .await?;
        Ok(KycAuthResult {
            kyc_token,
            partner_specific_user_token: psut,
            claims_metadata: Map::new(),
        })
    }

    /// Spends the KYC token, reads the person from `user_info` and returns the signed userinfo.
    async fn kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        let invalid_token = || PluginError::new(mock_codes::INVALID_KYC_TOKEN);
        let failed = || PluginError::new(mock_codes::DATA_EXCHANGE_FAILED);
        let issued: IssuedToken = esignet_mock_authenticator::take_kyc_token(
            self.cache.as_ref(),
            KYC_TOKEN_NAMESPACE,
            &request.kyc_token,
        )
        .await?;
        if issued.transaction_id != request.transaction_id
            || issued.individual_id_hash
                != esignet_jose::sha256_b64url(request.individual_id.as_bytes())
        {
            tracing::info!("rest kyc token presented for another transaction or individual");
            return Err(invalid_token());
        }
        let values = Values {
            individual_id: &request.individual_id,
            transaction_id: &request.transaction_id,
            relying_party_id,
            client_id,
            ..Values::default()
        };
        let url = self
            .compiled
            .user_info_url
            .render(&values)
            .ok_or_else(failed)?;
        let http = match (self.config.user_info.method, &self.compiled.user_info_body) {
            (Method::Post, Some(body)) => self.http.post(url).json(&body.render(&values)),
            _ => self.http.get(url),
        };
        let person = self
            .call_json("rest-user-info", http)
            .await
            .map_err(|error| plugin_error(error, mock_codes::DATA_EXCHANGE_FAILED))?;
        if !person.is_object() {
            tracing::warn!("identity system user info is not an object");
            return Err(failed());
        }
        let released = claims::claims(
            &person,
            &self.config.claims,
            &self.config.required_claims,
            &request.accepted_claims,
            &request.claims_locales,
            &self.config.default_language,
        )
        .map_err(|claim| {
            // The claim's name only, never a value.
            tracing::warn!(claim, "identity system user info lacks a required claim");
            failed()
        })?;
        let mut payload = Map::new();
        payload.insert("sub".to_owned(), Value::from(issued.psut));
        payload.insert("iss".to_owned(), Value::from(self.config.issuer.as_str()));
        payload.insert("aud".to_owned(), Value::from(client_id));
        payload.insert(
            "iat".to_owned(),
            Value::from(self.clock.now().unix_timestamp()),
        );
        payload.extend(released);
        let payload = serde_json::to_vec(&Value::Object(payload)).map_err(|_| failed())?;
        // RSA signing is CPU work: keep it off the async workers.
        let signer = Arc::clone(&self.signer);
        let signed = tokio::task::spawn_blocking(move || signer.sign_jws(None, &payload))
            .await
            .map_err(|_| failed())?
            .map_err(|error| {
                tracing::error!(%error, "rest kyc signing failed");
                failed()
            })?;
        Ok(KycExchangeResult {
            encrypted_kyc: signed,
        })
    }

    async fn kyc_signing_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        Ok(self.signer.certificates())
    }
}
