//! [`IdaConfig`] and [`IdaCredentials`]: where IDA is, who we are to it, and its certificates.

use std::time::Duration;

use esignet_jose::PrivateKey;
use openssl::x509::X509;

/// Our partner key and certificate, and IDA's two certificates.
#[derive(Clone)]
pub struct IdaCredentials {
    /// Our partner private key: signs every request (`signature` header).
    pub partner_key: PrivateKey,
    /// Our partner certificate, sent in the signature's `x5c` (IDA compares it with the one
    /// registered for the partner).
    pub partner_certificate: X509,
    /// IDA's partner certificate (`ida-partner.cer`): the session key is encrypted to it and
    /// the `thumbprint` is its SHA-256.
    pub ida_partner_certificate: X509,
    /// IDA's signing certificate (application `IDA`, reference `SIGN`): verifies every
    /// `response-signature` and the KYC JWT, and is published in our JWKS.
    pub ida_signing_certificate: X509,
}

impl std::fmt::Debug for IdaCredentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key is never shown; certificates are public but long.
        formatter
            .debug_struct("IdaCredentials")
            .finish_non_exhaustive()
    }
}

impl IdaCredentials {
    /// Credentials from PEM texts: an unencrypted private key (PKCS#8 or PKCS#1) and three
    /// X.509 certificates.
    ///
    /// # Errors
    ///
    /// A text that is not the expected PEM, or a partner key that is not the partner
    /// certificate's.
    pub fn from_pem(
        partner_key_pem: &[u8],
        partner_certificate_pem: &[u8],
        ida_partner_certificate_pem: &[u8],
        ida_signing_certificate_pem: &[u8],
    ) -> Result<Self, IdaConfigError> {
        let partner_key = PrivateKey::from_pem(partner_key_pem).map_err(|_| {
            IdaConfigError("the partner private key is not an unencrypted PEM key".to_owned())
        })?;
        let certificate = |name: &str, pem: &[u8]| {
            X509::from_pem(pem)
                .map_err(|_| IdaConfigError(format!("the {name} is not a PEM certificate")))
        };
        let partner_certificate = certificate("partner certificate", partner_certificate_pem)?;
        let credentials = Self {
            partner_key,
            partner_certificate,
            ida_partner_certificate: certificate(
                "IDA partner certificate",
                ida_partner_certificate_pem,
            )?,
            ida_signing_certificate: certificate(
                "IDA signing certificate",
                ida_signing_certificate_pem,
            )?,
        };
        credentials.check()?;
        Ok(credentials)
    }

    /// Checks that the partner key is the partner certificate's and that every certificate
    /// holds an RSA key (IDA's session keys and signatures are RSA).
    pub(crate) fn check(&self) -> Result<(), IdaConfigError> {
        let partner_public = self
            .partner_certificate
            .public_key()
            .map_err(|_| IdaConfigError("the partner certificate has no usable key".to_owned()))?;
        if !self.partner_key.openssl_pkey().public_eq(&partner_public) {
            return Err(IdaConfigError(
                "the partner private key does not match the partner certificate".to_owned(),
            ));
        }
        for (name, certificate) in [
            ("partner certificate", &self.partner_certificate),
            ("IDA partner certificate", &self.ida_partner_certificate),
            ("IDA signing certificate", &self.ida_signing_certificate),
        ] {
            let is_rsa = certificate
                .public_key()
                .map(|key| key.rsa().is_ok())
                .unwrap_or(false);
            if !is_rsa {
                return Err(IdaConfigError(format!(
                    "the {name} does not hold an RSA key"
                )));
            }
        }
        Ok(())
    }
}

/// Settings of [`crate::IdaAuthenticator`].
#[derive(Clone)]
pub struct IdaConfig {
    /// IDA's auth service base, context path included (`http://ida-auth.ida/idauthentication/v1`):
    /// `kyc-auth/delegated/...`, `kyc-exchange/delegated/...` and
    /// `identity-key-binding/delegated/...` are appended.
    pub auth_url: String,
    /// IDA's OTP service base (`http://ida-otp.ida/idauthentication/v1`): `otp/...` is appended.
    pub otp_url: String,
    /// The MISP license key (first path segment). A secret: never logged.
    pub misp_license_key: String,
    /// The partner id (second path segment). `None`: the relying party id of each call, as
    /// eSignet's plugin does (relying parties registered in IDA's partner management).
    pub partner_id: Option<String>,
    /// The third path segment: the OIDC client id for kyc-auth/kyc-exchange, the partner API key
    /// for OTP. `None`: the client id of each call, as the plugin does. A secret: never logged.
    pub api_key: Option<String>,
    /// Keys and certificates.
    pub credentials: IdaCredentials,
    /// OTP channels IDA sends on, lower case.
    pub otp_channels: Vec<String>,
    /// `domainUri` of kyc-auth (eSignet's own public URL).
    pub domain_uri: String,
    /// `env` of kyc-auth (`Staging`, `Production` ...).
    pub env: String,
    /// The longest one call may take, connection included.
    pub timeout: Duration,
    /// The longest establishing a connection may take.
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for IdaConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The license key and API key are secrets: only whether they are set is shown.
        formatter
            .debug_struct("IdaConfig")
            .field("auth_url", &self.auth_url)
            .field("otp_url", &self.otp_url)
            .field("partner_id", &self.partner_id)
            .field("api_key_set", &self.api_key.is_some())
            .field("otp_channels", &self.otp_channels)
            .field("env", &self.env)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why an [`IdaConfig`] or [`IdaCredentials`] is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid IDA settings: {0}")]
pub struct IdaConfigError(pub String);
