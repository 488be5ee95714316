//! [`SunbirdAuthenticator`]: the [`Authenticator`] seam over a Sunbird RC registry.

use std::sync::Arc;

use esignet_authenticator_http::transport::{self, TransportFailure};
use esignet_mock_authenticator::codes as mock_codes;
use esignet_spi::{
    Authenticator, Cache, Clock, KycAuthRequest, KycAuthResult, KycExchangeRequest,
    KycExchangeResult, PluginError, SendOtpRequest, SendOtpResult, SigningCertificate, TokenSigner,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::config::{PsutDerivation, SunbirdConfig, SunbirdConfigError};
use crate::{codes, kbi, kyc};

/// The cache namespace of issued KYC tokens.
pub const KYC_TOKEN_NAMESPACE: &str = "sunbird-kyc";

/// Largest registry answer read (a search answers at most two entities).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// What a KYC token unlocks, kept in the cache under the token's hash.
#[derive(Serialize, Deserialize)]
struct IssuedToken {
    transaction_id: String,
    entity_id: String,
    psut: String,
}

/// Why a registry call failed, before it becomes a [`PluginError`].
enum CallError {
    Transport(TransportFailure),
    /// Not a registry answer (not JSON, wrong shape, unexpected status, too large).
    Garbage,
    /// A 4xx answer: for the entity read, the entity is gone.
    Refused,
}

/// eSignet's [`Authenticator`] seam over a Sunbird RC registry (see the crate documentation).
pub struct SunbirdAuthenticator {
    http: reqwest::Client,
    search_url: Url,
    entity_url: Url,
    config: SunbirdConfig,
    signer: Arc<dyn TokenSigner>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SunbirdAuthenticator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SunbirdAuthenticator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SunbirdAuthenticator {
    /// An authenticator searching the registry of `config`, signing userinfo with `signer` and
    /// keeping KYC tokens in `cache`.
    ///
    /// # Errors
    ///
    /// A URL, a field or claim mapping, a header or a timeout of `config` is unusable.
    pub fn new(
        config: SunbirdConfig,
        signer: Arc<dyn TokenSigner>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SunbirdConfigError> {
        let (search_url, entity_url, headers) = config.checked()?;
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout);
        // Validate the timeouts with the shared rule before building our own client (which
        // carries the default headers the shared builder does not take).
        transport::http_client(config.timeout, config.connect_timeout)
            .map_err(|error| SunbirdConfigError(error.to_string()))?;
        let http = http
            .build()
            .map_err(|error| SunbirdConfigError(error.to_string()))?;
        Ok(Self {
            http,
            search_url,
            entity_url,
            config,
            signer,
            cache,
            clock,
        })
    }

    /// Sends one request (never retried: the search is cheap for the resident to repeat and
    /// the exchange is at the end of a single-use flow) and reads a JSON answer.
    async fn call(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, CallError> {
        let mut response = request
            .send()
            .await
            .map_err(|error| CallError::Transport(transport::classify(operation, &error)))?;
        let status = response.status();
        if status.is_server_error() {
            tracing::warn!(
                operation,
                status = status.as_u16(),
                "registry answered with a server error"
            );
            return Err(CallError::Transport(TransportFailure::Unavailable));
        }
        if status.is_client_error() {
            tracing::warn!(
                operation,
                status = status.as_u16(),
                "registry refused the call"
            );
            return Err(CallError::Refused);
        }
        if !status.is_success() {
            tracing::warn!(
                operation,
                status = status.as_u16(),
                "registry answered with an unexpected status"
            );
            return Err(CallError::Garbage);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| CallError::Transport(transport::classify(operation, &error)))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                tracing::warn!(operation, "registry answer too large");
                return Err(CallError::Garbage);
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|_| {
            tracing::warn!(operation, "registry answer is not JSON");
            CallError::Garbage
        })
    }

    fn psut(&self, entity_id: &str, relying_party_id: &str) -> String {
        match self.config.psut {
            PsutDerivation::EntityId => entity_id.to_owned(),
            PsutDerivation::Pairwise => {
                esignet_jose::sha3_256_b64url(format!("{entity_id}{relying_party_id}").as_bytes())
            }
        }
    }
}

/// The entities of a search answer: a JSON array (Sunbird RC 1.x, what the plugin reads) or
/// `{"data": [...]}` (the paged answer of later versions).
fn search_results(answer: Value) -> Option<Vec<Value>> {
    match answer {
        Value::Array(entities) => Some(entities),
        Value::Object(mut object) => match object.remove("data") {
            Some(Value::Array(entities)) => Some(entities),
            _ => None,
        },
        _ => None,
    }
}

fn plugin_error(error: CallError, refused: &'static str) -> PluginError {
    match error {
        CallError::Transport(failure) => PluginError::new(failure.code()),
        CallError::Garbage => PluginError::new(mock_codes::UNKNOWN_ERROR),
        CallError::Refused => PluginError::new(refused),
    }
}

#[async_trait::async_trait]
impl Authenticator for SunbirdAuthenticator {
    /// A registry holds no OTP channel: always `not_implemented`, as the plugin answers.
    async fn send_otp(
        &self,
        _relying_party_id: &str,
        _client_id: &str,
        _request: SendOtpRequest,
    ) -> Result<SendOtpResult, PluginError> {
        Err(PluginError::new(codes::NOT_IMPLEMENTED))
    }

    fn is_supported_otp_channel(&self, _channel: &str) -> bool {
        false
    }

    /// One `KBI` challenge (`base64url-encoded-json`) searched in the registry; exactly one match
    /// authenticates.
    async fn kyc_auth(
        &self,
        relying_party_id: &str,
        _client_id: &str,
        _claims_metadata_required: bool,
        request: KycAuthRequest,
    ) -> Result<KycAuthResult, PluginError> {
        let [challenge] = request.challenges.as_slice() else {
            return Err(PluginError::new(mock_codes::INVALID_AUTH_FACTOR_TYPE));
        };
        if challenge.auth_factor_type != "KBI" {
            return Err(PluginError::new(mock_codes::INVALID_AUTH_FACTOR_TYPE));
        }
        if challenge.format != "base64url-encoded-json" {
            return Err(PluginError::new(mock_codes::INVALID_CHALLENGE_FORMAT));
        }
        let body = kbi::decode_challenge(&challenge.challenge)
            .and_then(|answers| {
                kbi::search_body(
                    &self.config.kbi_fields,
                    &self.config.individual_id_field,
                    &request.individual_id,
                    &answers,
                )
            })
            .ok_or_else(|| {
                tracing::info!("sunbird kbi challenge is malformed or incomplete");
                PluginError::new(mock_codes::AUTH_FAILED)
            })?;
        let answer = self
            .call(
                "registry-search",
                self.http.post(self.search_url.clone()).json(&body),
            )
            .await
            // A 4xx to a well-formed search means the registry rejects it (unknown attribute,
            // missing credentials): the resident cannot be authenticated.
            .map_err(|error| plugin_error(error, mock_codes::AUTH_FAILED))?;
        let Some(entities) = search_results(answer) else {
            tracing::warn!("registry search answer is not a list of entities");
            return Err(PluginError::new(mock_codes::UNKNOWN_ERROR));
        };
        let [entity] = entities.as_slice() else {
            tracing::info!(
                matches = entities.len(),
                "sunbird kbi did not match exactly one entity"
            );
            return Err(PluginError::new(mock_codes::AUTH_FAILED));
        };
        let Some(entity_id) = entity
            .get(&self.config.entity_id_field)
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
        else {
            tracing::warn!("registry entity has no entity id");
            return Err(PluginError::new(mock_codes::UNKNOWN_ERROR));
        };
        let psut = self.psut(entity_id, relying_party_id);
        let kyc_token = esignet_mock_authenticator::issue_kyc_token(
            self.cache.as_ref(),
            KYC_TOKEN_NAMESPACE,
            self.config.kyc_token_ttl,
            &IssuedToken {
                transaction_id: request.transaction_id.clone(),
                entity_id: entity_id.to_owned(),
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

    /// Spends the KYC token, reads the entity and returns the signed userinfo.
    async fn kyc_exchange(
        &self,
        _relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        let invalid_token = || PluginError::new(mock_codes::INVALID_KYC_TOKEN);
        let issued: IssuedToken = esignet_mock_authenticator::take_kyc_token(
            self.cache.as_ref(),
            KYC_TOKEN_NAMESPACE,
            &request.kyc_token,
        )
        .await?;
        if issued.transaction_id != request.transaction_id {
            tracing::info!("sunbird kyc token presented for another transaction");
            return Err(invalid_token());
        }
        let mut url = self.entity_url.clone();
        url.path_segments_mut()
            .map_err(|()| PluginError::new(mock_codes::DATA_EXCHANGE_FAILED))?
            .pop_if_empty()
            .push(&issued.entity_id);
        let entity = self
            .call("registry-read", self.http.get(url))
            .await
            .map_err(|error| plugin_error(error, mock_codes::DATA_EXCHANGE_FAILED))?;
        if !entity.is_object() {
            tracing::warn!("registry entity is not an object");
            return Err(PluginError::new(mock_codes::UNKNOWN_ERROR));
        }
        let mut payload = Map::new();
        payload.insert("sub".to_owned(), Value::from(issued.psut));
        payload.insert("iss".to_owned(), Value::from(self.config.issuer.as_str()));
        payload.insert("aud".to_owned(), Value::from(client_id));
        payload.insert(
            "iat".to_owned(),
            Value::from(self.clock.now().unix_timestamp()),
        );
        payload.extend(kyc::claims(
            &entity,
            &self.config.claims,
            &request.accepted_claims,
            &request.claims_locales,
            &self.config.default_language,
        ));
        let payload = serde_json::to_vec(&Value::Object(payload))
            .map_err(|_| PluginError::new(mock_codes::DATA_EXCHANGE_FAILED))?;
        // RSA signing is CPU work: keep it off the async workers.
        let signer = Arc::clone(&self.signer);
        let signed = tokio::task::spawn_blocking(move || signer.sign_jws(None, &payload))
            .await
            .map_err(|_| PluginError::new(mock_codes::DATA_EXCHANGE_FAILED))?
            .map_err(|error| {
                tracing::error!(%error, "sunbird kyc signing failed");
                PluginError::new(mock_codes::DATA_EXCHANGE_FAILED)
            })?;
        Ok(KycExchangeResult {
            encrypted_kyc: signed,
        })
    }

    async fn kyc_signing_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        Ok(self.signer.certificates())
    }
}
