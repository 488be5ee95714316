//! [`HttpKeyBinder`]: eSignet's [`KeyBinder`] seam over the mock identity service's binding API
//! (`esignet-mock-identity`'s `binding/*` endpoints, documented there). A child module of
//! [`super`], so it shares the [`HttpAuthenticator`]'s connection pool, envelope handling and
//! error mapping.
//!
//! | Seam method | Call |
//! |---|---|
//! | `send_binding_otp` | `POST binding/send-otp` `{individualId, otpChannels}` |
//! | `do_key_binding` | `POST binding/key-binding` `{individualId, challengeList, publicKey, authFactorType}` |
//! | `binding_ca_certificates` | `GET binding/keys.json`, cached for [`CERTIFICATE_CACHE_TTL`] |
//! | `supported_challenge_formats` | no call: the formats the mock binds with (below) |
//!
//! The wallet's HTTP headers are not forwarded: the mock has no use for them, and they could
//! carry the wallet's own credentials. Calls with side effects are not retried (see the crate
//! documentation); the certificate fetch is.

use std::sync::{Arc, Mutex, PoisonError};

use esignet_mock_authenticator::codes as mock_codes;
use esignet_spi::{
    AuthChallenge, KeyBinder, KeyBindingRequest, KeyBindingResult, PluginError, SendOtpResult,
    SigningCertificate,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    CERTIFICATE_CACHE_TTL, CachedCertificates, CallError, HttpAuthenticator, RETRY_BACKOFF,
};
use crate::wire::{KeysResponse, SendOtpResponse, parse_timestamp};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BindingOtpBody<'a> {
    individual_id: &'a str,
    otp_channels: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyBindingBody<'a> {
    individual_id: &'a str,
    challenge_list: &'a [AuthChallenge],
    public_key: &'a Value,
    auth_factor_type: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyBindingResponse {
    certificate: Option<String>,
    partner_specific_user_token: Option<String>,
}

/// The [`KeyBinder`] of an identity service reached over HTTP (see the module documentation).
pub struct HttpKeyBinder {
    client: Arc<HttpAuthenticator>,
    certificates: Mutex<Option<CachedCertificates>>,
}

impl std::fmt::Debug for HttpKeyBinder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpKeyBinder")
            .field("base_url", &self.client.base_url())
            .finish_non_exhaustive()
    }
}

impl HttpKeyBinder {
    /// A binder calling the same identity service (and sharing the connection pool) as
    /// `client`.
    pub fn new(client: Arc<HttpAuthenticator>) -> Self {
        Self {
            client,
            certificates: Mutex::new(None),
        }
    }

    /// `GET binding/keys.json`, retried on timeouts and unavailability (it is idempotent).
    async fn fetch_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        let client = &self.client;
        let url = client.url(&["binding", "keys.json"])?;
        let mut attempt: u32 = 0;
        let response = loop {
            match client
                .call(
                    "binding-keys",
                    client.http.get(url.clone()),
                    mock_codes::UNKNOWN_ERROR,
                )
                .await
            {
                Ok(response) => break response,
                Err(error) if error.is_transient() && attempt < client.retries => {
                    attempt += 1;
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
                    tracing::warn!("binding keys.json has an unreadable certificate date");
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
}

#[async_trait::async_trait]
impl KeyBinder for HttpKeyBinder {
    /// `POST binding/send-otp`. Not retried: a real system would message the resident again.
    async fn send_binding_otp(
        &self,
        individual_id: &str,
        otp_channels: &[String],
        _request_headers: &[(String, String)],
    ) -> Result<SendOtpResult, PluginError> {
        let response: SendOtpResponse = self
            .client
            .post(
                "binding-send-otp",
                &["binding", "send-otp"],
                &BindingOtpBody {
                    individual_id,
                    otp_channels,
                },
                mock_codes::SEND_OTP_FAILED,
            )
            .await?;
        Ok(SendOtpResult {
            transaction_id: response.transaction_id.unwrap_or_default(),
            masked_email: response.masked_email,
            masked_mobile: response.masked_mobile,
        })
    }

    /// `POST binding/key-binding`. Not retried: it spends the OTP. An answer without a
    /// certificate or subject is `key_binding_failed`.
    async fn do_key_binding(
        &self,
        request: KeyBindingRequest,
    ) -> Result<KeyBindingResult, PluginError> {
        let response: KeyBindingResponse = self
            .client
            .post(
                "key-binding",
                &["binding", "key-binding"],
                &KeyBindingBody {
                    individual_id: &request.individual_id,
                    challenge_list: &request.challenges,
                    public_key: &request.public_key,
                    auth_factor_type: &request.auth_factor_type,
                },
                mock_codes::KEY_BINDING_FAILED,
            )
            .await?;
        match (response.certificate, response.partner_specific_user_token) {
            (Some(certificate), Some(psut)) if !certificate.is_empty() && !psut.is_empty() => {
                Ok(KeyBindingResult {
                    certificate,
                    partner_specific_user_token: psut,
                })
            }
            _ => Err(PluginError::new(mock_codes::KEY_BINDING_FAILED)),
        }
    }

    /// The mock's binding formats: `OTP`/`PWD` `alpha-numeric`, `PIN` `number`, `KBI`
    /// `base64url-encoded-json` as challenges, and `WLA` `jwt` as the bound factor.
    fn supported_challenge_formats(&self, auth_factor_type: &str) -> Vec<String> {
        let format = match auth_factor_type {
            "OTP" | "PWD" => "alpha-numeric",
            "PIN" => "number",
            "KBI" => "base64url-encoded-json",
            "WLA" => "jwt",
            _ => return Vec::new(),
        };
        vec![format.to_owned()]
    }

    /// `GET binding/keys.json`, cached for [`CERTIFICATE_CACHE_TTL`]: every WLA login checks
    /// its certificate against these.
    async fn binding_ca_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        let now = self.client.clock.now();
        {
            let cached = self
                .certificates
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(cached) = cached.as_ref()
                && now >= cached.fetched_at
                && (now - cached.fetched_at) < CERTIFICATE_CACHE_TTL
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
