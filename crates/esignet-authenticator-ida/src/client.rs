//! [`IdaAuthenticator`]: the [`Authenticator`] seam over MOSIP IDA.

use std::sync::Arc;

use esignet_authenticator_http::transport;
use esignet_spi::{
    Authenticator, Clock, KycAuthRequest, KycAuthResult, KycExchangeRequest, KycExchangeResult,
    PluginError, SendOtpRequest, SendOtpResult, SigningCertificate,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Map;
use url::Url;

use crate::certificates::{self, CertificateSource, IdaCertificateSource};
use crate::config::{IdaConfig, IdaConfigError};
use crate::envelope;
use crate::wire::{self, ResponseWrapper};
use crate::{codes, kyc};

/// Largest IDA answer read.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Why a call got no usable answer. Every kind maps to the operation's failure code.
#[derive(Debug)]
pub(crate) enum CallError {
    /// IDA answered, signed, with an error: its code, passed through.
    Ida(String),
    /// No usable answer (transport, status, signature, shape).
    Failed,
}

/// eSignet's [`Authenticator`] seam over MOSIP IDA (see the crate documentation).
pub struct IdaAuthenticator {
    http: reqwest::Client,
    auth_url: Url,
    otp_url: Url,
    config: IdaConfig,
    clock: Arc<dyn Clock>,
    /// Where the KYC signing certificates are read from; `None`: the configured certificate.
    certificates: Option<CertificateSource>,
}

impl std::fmt::Debug for IdaAuthenticator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("IdaAuthenticator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Whether an IDA error code may be passed to the client: IDA's codes are short words of
/// letters, digits and `-`/`_`; anything else could carry data and is replaced.
fn safe_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// `code` if it may be passed to the client (see [`safe_code`]).
pub(crate) fn ida_code(code: &str) -> Option<String> {
    safe_code(code).then(|| code.to_owned())
}

impl IdaAuthenticator {
    /// An authenticator calling the IDA of `config`; `clock` dates the requests.
    ///
    /// # Errors
    ///
    /// A URL, a timeout, the license key or the credentials are unusable.
    pub fn new(config: IdaConfig, clock: Arc<dyn Clock>) -> Result<Self, IdaConfigError> {
        let url = |name: &str, text: &str| {
            transport::parse_base_url(text.trim_end_matches('/'))
                .map_err(|error| IdaConfigError(format!("{name}: {error}")))
        };
        let auth_url = url("auth_url", &config.auth_url)?;
        let otp_url = url("otp_url", &config.otp_url)?;
        if config.misp_license_key.trim().is_empty() {
            return Err(IdaConfigError("the MISP license key is empty".to_owned()));
        }
        config.credentials.check()?;
        let http = transport::http_client(config.timeout, config.connect_timeout)
            .map_err(|error| IdaConfigError(error.to_string()))?;
        Ok(Self {
            http,
            auth_url,
            otp_url,
            config,
            clock,
            certificates: None,
        })
    }

    /// Reads the KYC signing certificates from MOSIP's key manager instead of publishing the
    /// configured IDA signing certificate (which still verifies every answer and KYC JWT).
    ///
    /// # Errors
    ///
    /// An unusable URL, or no client id or secret key.
    pub fn with_certificate_source(
        mut self,
        source: IdaCertificateSource,
    ) -> Result<Self, IdaConfigError> {
        self.certificates = Some(CertificateSource::new(source)?);
        Ok(self)
    }

    pub(crate) fn now(&self) -> String {
        wire::request_time(self.clock.now())
    }

    /// `{base}/{segments...}/{license}/{partner}/{api key}`, each segment percent-encoded.
    pub(crate) fn endpoint(
        &self,
        base: &Url,
        segments: &[&str],
        relying_party_id: &str,
        client_id: &str,
    ) -> Result<Url, CallError> {
        let mut url = base.clone();
        {
            let mut path = url.path_segments_mut().map_err(|_| CallError::Failed)?;
            path.pop_if_empty();
            path.extend(segments);
            path.push(&self.config.misp_license_key);
            path.push(
                self.config
                    .partner_id
                    .as_deref()
                    .unwrap_or(relying_party_id),
            );
            path.push(self.config.api_key.as_deref().unwrap_or(client_id));
        }
        Ok(url)
    }

    /// Signs and posts `body`, verifies IDA's `response-signature` over the exact answer bytes
    /// and decodes it. Never retried: every call has side effects (an OTP sent, an OTP or a
    /// KYC token spent).
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
        body: &impl Serialize,
    ) -> Result<T, CallError> {
        let body = serde_json::to_vec(body).map_err(|_| CallError::Failed)?;
        let signature = envelope::sign_detached(
            &self.config.credentials.partner_key,
            &self.config.credentials.partner_certificate,
            &body,
        )
        .map_err(|error| {
            tracing::error!(operation, %error, "cannot sign the IDA request");
            CallError::Failed
        })?;
        let mut response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(wire::SIGNATURE_HEADER, signature)
            // The plugin sends this placeholder; IDA's gateway expects the header to exist.
            .header(reqwest::header::AUTHORIZATION, "Authorization")
            .body(body)
            .send()
            .await
            .map_err(|error| {
                // The URL holds the license key and API key: never logged.
                transport::classify(operation, &error.without_url());
                CallError::Failed
            })?;
        let status = response.status();
        if !status.is_success() {
            tracing::warn!(
                operation,
                status = status.as_u16(),
                "IDA answered with an error status"
            );
            return Err(CallError::Failed);
        }
        let response_signature = response
            .headers()
            .get(wire::RESPONSE_SIGNATURE_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let mut answer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| {
            transport::classify(operation, &error.without_url());
            CallError::Failed
        })? {
            if answer.len() + chunk.len() > MAX_ANSWER_BYTES {
                tracing::warn!(operation, "IDA answer too large");
                return Err(CallError::Failed);
            }
            answer.extend_from_slice(&chunk);
        }
        let Some(response_signature) = response_signature else {
            tracing::warn!(operation, "IDA answer has no response-signature");
            return Err(CallError::Failed);
        };
        if let Err(error) = envelope::verify_detached(
            &response_signature,
            &answer,
            &self.config.credentials.ida_signing_certificate,
        ) {
            tracing::warn!(operation, %error, "IDA response signature refused");
            return Err(CallError::Failed);
        }
        let wrapper: ResponseWrapper<T> = serde_json::from_slice(&answer).map_err(|_| {
            tracing::warn!(operation, "IDA answer is not the API's envelope");
            CallError::Failed
        })?;
        if let Some(error) = wrapper.errors.as_ref().and_then(|errors| errors.first()) {
            if safe_code(&error.error_code) {
                tracing::info!(operation, code = %error.error_code, "IDA refused the request");
                return Err(CallError::Ida(error.error_code.clone()));
            }
            tracing::warn!(operation, "IDA error code is not a code");
            return Err(CallError::Failed);
        }
        wrapper.response.ok_or_else(|| {
            tracing::warn!(operation, "IDA answer has neither response nor errors");
            CallError::Failed
        })
    }

    /// The settings this authenticator was built with.
    pub(crate) fn config(&self) -> &IdaConfig {
        &self.config
    }

    /// The OTP service base URL.
    pub(crate) fn otp_url(&self) -> &Url {
        &self.otp_url
    }

    /// kyc-auth's members for `challenges`, the factors sealed to IDA's partner certificate
    /// (key binding sends the same members). Failures are `failed`.
    pub(crate) fn sealed_auth_body(
        &self,
        id: &str,
        individual_id: String,
        transaction_id: String,
        challenges: &[esignet_spi::AuthChallenge],
        claims_metadata_required: bool,
        failed: &'static str,
    ) -> Result<wire::KycAuthBody, PluginError> {
        let auth_request =
            kyc::auth_request(challenges, self.now()).map_err(|_| PluginError::new(failed))?;
        let auth_json = serde_json::to_vec(&auth_request).map_err(|_| PluginError::new(failed))?;
        let sealed =
            envelope::seal_request(&auth_json, &self.config.credentials.ida_partner_certificate)
                .map_err(|error| {
                    tracing::error!(%error, "cannot seal the IDA auth request");
                    PluginError::new(failed)
                })?;
        Ok(wire::KycAuthBody {
            id: id.to_owned(),
            version: wire::VERSION.to_owned(),
            request_time: self.now(),
            domain_uri: self.config.domain_uri.clone(),
            env: self.config.env.clone(),
            individual_id,
            transaction_id,
            consent_obtained: true,
            request: sealed.request,
            request_hmac: sealed.request_hmac,
            request_session_key: sealed.request_session_key,
            thumbprint: sealed.thumbprint,
            claims_metadata_required: claims_metadata_required.then_some(true),
        })
    }
}

impl IdaAuthenticator {
    /// kyc-exchange, or with `verified` IDA's v2 kyc-exchange carrying the consented verified
    /// and unverified claims (the plugin's `doVerifiedKycExchange`).
    async fn exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
        verified: bool,
    ) -> Result<KycExchangeResult, PluginError> {
        let fail = |error| plugin_error(error, codes::DATA_EXCHANGE_FAILED);
        let url = self
            .endpoint(
                &self.auth_url,
                if verified {
                    &["kyc-exchange", "delegated", "v2"]
                } else {
                    &["kyc-exchange", "delegated"]
                },
                relying_party_id,
                client_id,
            )
            .map_err(fail)?;
        let (verified_consented_claims, un_verified_consented_claims) = if verified {
            kyc::split_claim_details(&request.accepted_claim_details)
        } else {
            (None, None)
        };
        let consent = if request.accepted_claims.is_empty() {
            vec!["sub".to_owned()]
        } else {
            request.accepted_claims
        };
        let body = wire::KycExchangeBody {
            id: wire::KYC_EXCHANGE_ID.to_owned(),
            version: wire::VERSION.to_owned(),
            request_time: self.now(),
            transaction_id: request.transaction_id,
            kyc_token: request.kyc_token,
            consent_obtained: consent,
            locales: kyc::iso3_locales(&request.claims_locales),
            resp_type: "JWS".to_owned(),
            individual_id: request.individual_id,
            verified_consented_claims,
            un_verified_consented_claims,
        };
        let answer: wire::KycExchangeResponse =
            self.call("kyc_exchange", url, &body).await.map_err(fail)?;
        let Some(jwt) = answer.encrypted_kyc else {
            return Err(PluginError::new(codes::DATA_EXCHANGE_FAILED));
        };
        // The userinfo reaches relying parties, which verify it with the JWKS we publish: a
        // JWT that IDA's signing key did not sign is refused here rather than handed on.
        kyc::verify_kyc_jwt(&jwt, &self.config.credentials.ida_signing_certificate)?;
        Ok(KycExchangeResult { encrypted_kyc: jwt })
    }
}

pub(crate) fn plugin_error(error: CallError, failed: &'static str) -> PluginError {
    match error {
        CallError::Ida(code) => PluginError::new(code),
        CallError::Failed => PluginError::new(failed),
    }
}

#[async_trait::async_trait]
impl Authenticator for IdaAuthenticator {
    async fn send_otp(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: SendOtpRequest,
    ) -> Result<SendOtpResult, PluginError> {
        let fail = |error| plugin_error(error, codes::SEND_OTP_FAILED);
        let url = self
            .endpoint(&self.otp_url, &["otp"], relying_party_id, client_id)
            .map_err(fail)?;
        let body = wire::SendOtpBody {
            id: wire::SEND_OTP_ID.to_owned(),
            version: wire::VERSION.to_owned(),
            individual_id: request.individual_id,
            transaction_id: request.transaction_id.clone(),
            request_time: self.now(),
            otp_channel: request.otp_channels,
        };
        let answer: wire::SendOtpResponse =
            self.call("send_otp", url, &body).await.map_err(fail)?;
        Ok(SendOtpResult {
            transaction_id: request.transaction_id,
            masked_email: answer.masked_email,
            masked_mobile: answer.masked_mobile,
        })
    }

    fn is_supported_otp_channel(&self, channel: &str) -> bool {
        self.config
            .otp_channels
            .iter()
            .any(|supported| supported.eq_ignore_ascii_case(channel))
    }

    async fn kyc_auth(
        &self,
        relying_party_id: &str,
        client_id: &str,
        claims_metadata_required: bool,
        request: KycAuthRequest,
    ) -> Result<KycAuthResult, PluginError> {
        let fail = |error| plugin_error(error, codes::AUTH_FAILED);
        // Claims metadata comes from IDA's v2 kyc-auth (OpenID Connect for Identity Assurance).
        let segments: &[&str] = if claims_metadata_required {
            &["kyc-auth", "delegated", "v2"]
        } else {
            &["kyc-auth", "delegated"]
        };
        let url = self
            .endpoint(&self.auth_url, segments, relying_party_id, client_id)
            .map_err(fail)?;
        let body = self.sealed_auth_body(
            wire::KYC_AUTH_ID,
            request.individual_id,
            request.transaction_id,
            &request.challenges,
            claims_metadata_required,
            codes::AUTH_FAILED,
        )?;
        let answer: wire::KycAuthResponse =
            self.call("kyc_auth", url, &body).await.map_err(fail)?;
        match (answer.kyc_status, answer.kyc_token, answer.auth_token) {
            (true, Some(kyc_token), Some(psut)) if !kyc_token.is_empty() && !psut.is_empty() => {
                Ok(KycAuthResult {
                    kyc_token,
                    partner_specific_user_token: psut,
                    claims_metadata: if claims_metadata_required {
                        kyc::claims_metadata(answer.verified_claims_metadata.as_deref())
                    } else {
                        Map::new()
                    },
                })
            }
            _ => Err(PluginError::new(codes::AUTH_FAILED)),
        }
    }

    async fn kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        self.exchange(relying_party_id, client_id, request, false)
            .await
    }

    async fn verified_kyc_exchange(
        &self,
        relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        self.exchange(relying_party_id, client_id, request, true)
            .await
    }

    async fn kyc_signing_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        if let Some(source) = &self.certificates {
            return certificates::fetch(&self.http, source, self.now()).await;
        }
        kyc::signing_certificate(&self.config.credentials.ida_signing_certificate).map(|c| vec![c])
    }
}
