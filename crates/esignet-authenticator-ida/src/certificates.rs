//! The KYC signing certificates read from MOSIP's key manager (`getAllCertificates`), as the
//! plugin's `getAllKycSigningCertificates` does: a kernel auth token first
//! (`authenticate/clientidsecretkey`, the token in the answer's `authorization` header), then
//! the certificates of application `IDA`, reference `SIGN`, with that token as the
//! `Authorization` cookie.

use esignet_authenticator_http::transport;
use esignet_spi::{PluginError, SigningCertificate};
use openssl::x509::X509;
use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::config::IdaConfigError;
use crate::{codes, kyc, wire};

/// Largest key manager answer read.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Where the KYC signing certificates are read from, and the kernel credentials to read them.
#[derive(Clone)]
pub struct IdaCertificateSource {
    /// The kernel auth manager's `authenticate/clientidsecretkey` URL.
    pub auth_token_url: String,
    /// The key manager's `getAllCertificates` URL.
    pub certificates_url: String,
    /// The kernel client id.
    pub client_id: String,
    /// The kernel secret key. A secret: never logged.
    pub secret_key: String,
    /// The kernel application id of the client.
    pub app_id: String,
    /// The key manager application id of the certificates (`IDA`).
    pub application_id: String,
    /// The key manager reference id of the certificates (`SIGN`).
    pub reference_id: String,
}

impl std::fmt::Debug for IdaCertificateSource {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("IdaCertificateSource")
            .field("auth_token_url", &self.auth_token_url)
            .field("certificates_url", &self.certificates_url)
            .field("client_id", &self.client_id)
            .field("app_id", &self.app_id)
            .field("application_id", &self.application_id)
            .field("reference_id", &self.reference_id)
            .finish_non_exhaustive()
    }
}

/// A checked [`IdaCertificateSource`].
pub(crate) struct CertificateSource {
    auth_token_url: Url,
    certificates_url: Url,
    source: IdaCertificateSource,
}

impl CertificateSource {
    pub(crate) fn new(source: IdaCertificateSource) -> Result<Self, IdaConfigError> {
        let url = |name: &str, text: &str| {
            transport::parse_base_url(text)
                .map_err(|error| IdaConfigError(format!("{name}: {error}")))
        };
        if source.client_id.trim().is_empty() || source.secret_key.is_empty() {
            return Err(IdaConfigError(
                "the key manager client id and secret key must be set".to_owned(),
            ));
        }
        Ok(Self {
            auth_token_url: url("auth_token_url", &source.auth_token_url)?,
            certificates_url: url("certificates_url", &source.certificates_url)?,
            source,
        })
    }
}

/// One certificate of the key manager (the plugin's `KycSigningCertificateData`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CertificateData {
    #[serde(default)]
    certificate_data: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllCertificates {
    #[serde(default)]
    all_certificates: Option<Vec<CertificateData>>,
}

fn failed() -> PluginError {
    PluginError::new(codes::KYC_SIGNING_CERTIFICATE_FAILED)
}

/// Reads a whole answer body, refusing one over [`MAX_ANSWER_BYTES`].
async fn body(mut response: reqwest::Response) -> Result<Vec<u8>, PluginError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| {
        transport::classify("kyc_signing_certificates", &error.without_url());
        failed()
    })? {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(failed());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The current KYC signing certificates; key ids are their `x5t#S256`, as for the configured
/// certificate. The key manager's first error code passes through; any other failure (the
/// auth token refused, a transport error, no parsable certificate) is
/// `kyc_signing_certificate_failed`. Idempotent, so a failure is simply retried at the next
/// JWKS refresh.
pub(crate) async fn fetch(
    http: &reqwest::Client,
    source: &CertificateSource,
    request_time: String,
) -> Result<Vec<SigningCertificate>, PluginError> {
    let operation = "kyc_signing_certificates";
    let request = json!({
        "id": "string",
        "version": "string",
        "requesttime": request_time,
        "metadata": {},
        "request": {
            "clientId": source.source.client_id,
            "secretKey": source.source.secret_key,
            "appId": source.source.app_id,
        },
    });
    let answer = http
        .post(source.auth_token_url.clone())
        .json(&request)
        .send()
        .await
        .map_err(|error| {
            transport::classify(operation, &error.without_url());
            failed()
        })?;
    let token = answer
        .headers()
        .get(reqwest::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .filter(|token| !token.is_empty())
        .map(str::to_owned);
    let Some(token) = token.filter(|_| answer.status().is_success()) else {
        tracing::warn!(
            operation,
            status = answer.status().as_u16(),
            "the key manager auth token was refused"
        );
        return Err(failed());
    };
    let mut url = source.certificates_url.clone();
    url.query_pairs_mut()
        .append_pair("applicationId", &source.source.application_id)
        .append_pair("referenceId", &source.source.reference_id);
    let answer = http
        .get(url)
        .header(reqwest::header::AUTHORIZATION, "Authorization")
        .header(reqwest::header::COOKIE, format!("Authorization={token}"))
        .send()
        .await
        .map_err(|error| {
            transport::classify(operation, &error.without_url());
            failed()
        })?;
    if !answer.status().is_success() {
        tracing::warn!(
            operation,
            status = answer.status().as_u16(),
            "the key manager answered with an error status"
        );
        return Err(failed());
    }
    let wrapper: wire::ResponseWrapper<AllCertificates> =
        serde_json::from_slice(&body(answer).await?).map_err(|_| {
            tracing::warn!(
                operation,
                "the key manager answer is not the API's envelope"
            );
            failed()
        })?;
    if let Some(error) = wrapper.errors.as_ref().and_then(|errors| errors.first()) {
        return Err(
            crate::client::ida_code(&error.error_code).map_or_else(failed, PluginError::new)
        );
    }
    let certificates: Vec<SigningCertificate> = wrapper
        .response
        .and_then(|response| response.all_certificates)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|data| {
            let parsed = X509::from_pem(data.certificate_data?.as_bytes()).ok();
            if parsed.is_none() {
                tracing::warn!(operation, "a key manager certificate is not PEM");
            }
            kyc::signing_certificate(&parsed?).ok()
        })
        .collect();
    if certificates.is_empty() {
        tracing::warn!(operation, "the key manager returned no usable certificate");
        return Err(failed());
    }
    Ok(certificates)
}
