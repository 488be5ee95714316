//! [`IdaKeyBinder`]: the [`KeyBinder`] seam over IDA's delegated identity key binding, as
//! eSignet's `IdaKeyBinderImpl` does.

use std::sync::Arc;

use esignet_authenticator_http::transport;
use esignet_spi::{
    Clock, KeyBinder, KeyBindingRequest, KeyBindingResult, PluginError, SendOtpResult,
    SigningCertificate,
};
use openssl::x509::X509;
use url::Url;

use crate::client::plugin_error;
use crate::config::{IdaConfig, IdaConfigError};
use crate::{IdaAuthenticator, codes, kyc, wire};

/// The request header naming the partner when none is configured (the plugin's `partner-id`).
pub const PARTNER_ID_HEADER: &str = "partner-id";
/// The request header carrying the partner API key when none is configured (the plugin's
/// `partner-api-key`). A secret: never logged.
pub const PARTNER_API_KEY_HEADER: &str = "partner-api-key";

/// Where IDA's key binding is and which CA signs its certificates.
#[derive(Clone)]
pub struct IdaBindingConfig {
    /// IDA's auth service base for key binding, context path included:
    /// `identity-key-binding/delegated/{license}/{partner}/{api key}` is appended.
    pub binding_url: String,
    /// The certificates of the keys IDA signs binding certificates with, current and previous
    /// (each a PEM chain, CA first, is fine). Published at `/binding/certificates`.
    pub ca_certificates: Vec<Vec<X509>>,
}

impl IdaBindingConfig {
    /// Settings from PEM texts, one chain (CA first) per text.
    ///
    /// # Errors
    ///
    /// A text that holds no PEM certificate.
    pub fn from_pem(binding_url: String, chains: &[String]) -> Result<Self, IdaConfigError> {
        let ca_certificates = chains
            .iter()
            .map(|pem| match X509::stack_from_pem(pem.as_bytes()) {
                Ok(chain) if !chain.is_empty() => Ok(chain),
                _ => Err(IdaConfigError(
                    "a binding CA chain is not PEM certificates".to_owned(),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            binding_url,
            ca_certificates,
        })
    }
}

impl std::fmt::Debug for IdaBindingConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("IdaBindingConfig")
            .field("binding_url", &self.binding_url)
            .field("ca_certificates", &self.ca_certificates.len())
            .finish()
    }
}

/// eSignet's [`KeyBinder`] seam over MOSIP IDA: the binding OTP through IDA's OTP service, the
/// binding through `identity-key-binding/delegated` with kyc-auth's envelope (sealed factors,
/// detached request signature, verified `response-signature`).
pub struct IdaKeyBinder {
    ida: IdaAuthenticator,
    binding_url: Url,
    ca_certificates: Vec<SigningCertificate>,
}

impl std::fmt::Debug for IdaKeyBinder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("IdaKeyBinder")
            .field("ida", &self.ida)
            .field("binding_url", &self.binding_url.as_str())
            .finish_non_exhaustive()
    }
}

/// The challenge formats IDA accepts per factor (the plugin's table).
fn formats(auth_factor_type: &str) -> &'static [&'static str] {
    match auth_factor_type {
        "OTP" => &["alpha-numeric"],
        "PIN" => &["number"],
        "BIO" => &["encoded-json"],
        "WLA" => &["jwt"],
        _ => &[],
    }
}

/// The transaction id of `individual_id`'s binding: IDA ties an OTP to the transaction it was
/// sent for, and eSignet's binding endpoints carry none, so the binding OTP and the binding
/// itself derive the same one from the individual id (10 upper-case hex digits of a SHA-256).
pub fn binding_transaction_id(individual_id: &str) -> String {
    let digest = esignet_jose::sha256(format!("key-binding:{}", individual_id.trim()).as_bytes());
    digest
        .iter()
        .take(5)
        .map(|byte| format!("{byte:02X}"))
        .collect()
}

/// The value of header `name` (names are lower case), if present and not blank.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.trim().is_empty())
}

impl IdaKeyBinder {
    /// A key binder calling the IDA of `config` at `binding`'s URL; `clock` dates the requests.
    ///
    /// # Errors
    ///
    /// What [`IdaAuthenticator::new`] refuses, an unusable binding URL, no CA certificate or
    /// one that cannot be published.
    pub fn new(
        config: IdaConfig,
        binding: IdaBindingConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, IdaConfigError> {
        let binding_url = transport::parse_base_url(binding.binding_url.trim_end_matches('/'))
            .map_err(|error| IdaConfigError(format!("binding_url: {error}")))?;
        if binding.ca_certificates.is_empty() {
            return Err(IdaConfigError(
                "no binding CA certificate is configured".to_owned(),
            ));
        }
        let mut ca_certificates = Vec::with_capacity(binding.ca_certificates.len());
        for chain in &binding.ca_certificates {
            let Some(authority) = chain.first() else {
                return Err(IdaConfigError("an empty binding CA chain".to_owned()));
            };
            let mut published = kyc::published_certificate(authority, codes::KEY_BINDING_FAILED)
                .map_err(|_| {
                    IdaConfigError("a binding CA certificate cannot be published".to_owned())
                })?;
            // The whole chain, CA first, so wallets can link it up to what they trust.
            let mut pem = String::new();
            for certificate in chain {
                let text = certificate
                    .to_pem()
                    .map_err(|_| IdaConfigError("unencodable binding CA chain".to_owned()))?;
                pem.push_str(&String::from_utf8_lossy(&text));
            }
            published.certificate_pem = pem;
            ca_certificates.push(published);
        }
        Ok(Self {
            ida: IdaAuthenticator::new(config, clock)?,
            binding_url,
            ca_certificates,
        })
    }

    /// The partner id and API key of a call: the configured ones, else the request's
    /// `partner-id` / `partner-api-key` headers, as the plugin does.
    fn partner<'a>(
        &'a self,
        headers: &'a [(String, String)],
    ) -> Result<(&'a str, &'a str), PluginError> {
        let config = self.ida.config();
        let partner = config
            .partner_id
            .as_deref()
            .or_else(|| header(headers, PARTNER_ID_HEADER));
        let api_key = config
            .api_key
            .as_deref()
            .or_else(|| header(headers, PARTNER_API_KEY_HEADER));
        match (partner, api_key) {
            (Some(partner), Some(api_key)) => Ok((partner, api_key)),
            _ => Err(PluginError::new(codes::REQUIRED_HEADER_MISSING)),
        }
    }
}

#[async_trait::async_trait]
impl KeyBinder for IdaKeyBinder {
    async fn send_binding_otp(
        &self,
        individual_id: &str,
        otp_channels: &[String],
        request_headers: &[(String, String)],
    ) -> Result<SendOtpResult, PluginError> {
        let (partner, api_key) = self.partner(request_headers)?;
        let fail = |error| plugin_error(error, codes::SEND_OTP_FAILED);
        let url = self
            .ida
            .endpoint(self.ida.otp_url(), &["otp"], partner, api_key)
            .map_err(fail)?;
        let transaction_id = binding_transaction_id(individual_id);
        let body = wire::SendOtpBody {
            id: wire::SEND_OTP_ID.to_owned(),
            version: wire::VERSION.to_owned(),
            individual_id: individual_id.to_owned(),
            transaction_id: transaction_id.clone(),
            request_time: self.ida.now(),
            otp_channel: otp_channels.to_vec(),
        };
        let answer: wire::SendOtpResponse = self
            .ida
            .call("send_binding_otp", url, &body)
            .await
            .map_err(fail)?;
        Ok(SendOtpResult {
            transaction_id,
            masked_email: answer.masked_email,
            masked_mobile: answer.masked_mobile,
        })
    }

    async fn do_key_binding(
        &self,
        request: KeyBindingRequest,
    ) -> Result<KeyBindingResult, PluginError> {
        let (partner, api_key) = self.partner(&request.request_headers)?;
        let fail = |error| plugin_error(error, codes::KEY_BINDING_FAILED);
        let url = self
            .ida
            .endpoint(
                &self.binding_url,
                &["identity-key-binding", "delegated"],
                partner,
                api_key,
            )
            .map_err(fail)?;
        let transaction_id = binding_transaction_id(&request.individual_id);
        let auth = self.ida.sealed_auth_body(
            wire::KEY_BINDING_ID,
            request.individual_id,
            transaction_id,
            &request.challenges,
            false,
            codes::KEY_BINDING_FAILED,
        )?;
        let body = wire::KeyBindingBody {
            auth,
            identity_key_binding: wire::IdentityKeyBinding {
                public_key_jwk: request.public_key,
                auth_factor_type: request.auth_factor_type,
            },
        };
        let answer: wire::KeyBindingResponse = self
            .ida
            .call("key_binding", url, &body)
            .await
            .map_err(fail)?;
        if !answer.binding_auth_status {
            tracing::info!("IDA did not authenticate the key binding");
            return Err(PluginError::new(codes::BINDING_AUTH_FAILED));
        }
        match (answer.identity_certificate, answer.auth_token) {
            (Some(certificate), Some(psut)) if !certificate.is_empty() && !psut.is_empty() => {
                Ok(KeyBindingResult {
                    certificate,
                    partner_specific_user_token: psut,
                })
            }
            _ => {
                tracing::warn!("IDA key binding answer lacks the certificate or the token");
                Err(PluginError::new(codes::KEY_BINDING_FAILED))
            }
        }
    }

    fn supported_challenge_formats(&self, auth_factor_type: &str) -> Vec<String> {
        formats(&auth_factor_type.to_ascii_uppercase())
            .iter()
            .map(|format| (*format).to_owned())
            .collect()
    }

    async fn binding_ca_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        Ok(self.ca_certificates.clone())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn transaction_ids_are_stable_per_individual() {
        let id = binding_transaction_id("5860356276");
        assert_eq!(id.len(), 10);
        assert!(id.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_eq!(id, binding_transaction_id(" 5860356276 "));
        assert_ne!(id, binding_transaction_id("2154189532"));
    }

    #[test]
    fn headers_are_found_case_insensitively_and_blank_ones_ignored() {
        let headers = vec![
            ("partner-id".to_owned(), "p".to_owned()),
            ("partner-api-key".to_owned(), "  ".to_owned()),
        ];
        assert_eq!(header(&headers, "Partner-Id"), Some("p"));
        assert_eq!(header(&headers, PARTNER_API_KEY_HEADER), None);
        assert_eq!(header(&headers, "other"), None);
    }

    #[test]
    fn formats_follow_the_plugin() {
        assert_eq!(formats("OTP"), ["alpha-numeric"]);
        assert_eq!(formats("WLA"), ["jwt"]);
        assert!(formats("KBI").is_empty());
    }
}
