//! The `[ida]` section: MOSIP ID Authentication (IDA) behind `authenticator.kind = "ida"`.
//!
//! The key and certificate files are read (and checked to belong together) only when the kind
//! is `ida`, so the defaults cost nothing to other deployments.

use std::time::Duration;

use openssl::pkey::PKey;
use openssl::x509::X509;
use serde::{Deserialize, Serialize};

use crate::catalogue::{KeyDoc, SectionDoc, ValueKind};
use crate::error::Problems;
use crate::raw::section;
use crate::secret::SecretString;
use crate::validate::{http_url, secs};

section! {
    /// MOSIP ID Authentication (IDA), for `authenticator.kind = "ida"`: residents authenticate
    /// with an OTP or a PIN through IDA's delegated kyc-auth, and their claims come from IDA's
    /// kyc-exchange, and wallets bind keys through IDA's identity key binding, as eSignet's
    /// mosip-identity-plugin does (IDA 1.2.0.x API, see docs/identity-systems.md).
    IdaRaw = "ida" {
        /// IDA's auth service base URL, context path included; `kyc-auth/delegated/...` and `kyc-exchange/delegated/...` are appended.
        auth_url: String = "http://ida-auth.ida/idauthentication/v1".to_owned(), ValueKind::Str;
        /// IDA's OTP service base URL, context path included; `otp/...` is appended.
        otp_url: String = "http://ida-otp.ida/idauthentication/v1".to_owned(), ValueKind::Str;
        /// The MISP license key, the first path segment of every call. Prefer `ESIGNET_IDA__MISP_LICENSE_KEY`.
        misp_license_key: Option<SecretString> = None, ValueKind::Secret, example = "\"<MISP license key>\"";
        /// The partner id, the second path segment. Unset: the relying party id of each call, as eSignet's plugin does.
        partner_id: Option<String> = None, ValueKind::OptStr, default_doc = "the relying party id", example = "\"mpartner-default-esignet\"";
        /// The third path segment: the partner API key (OTP) and OIDC client id (kyc-auth, kyc-exchange). Unset: the client id of each call, as the plugin does. Prefer `ESIGNET_IDA__API_KEY`.
        api_key: Option<SecretString> = None, ValueKind::Secret, default_doc = "the client id", example = "\"<partner API key>\"";
        /// PEM file of our partner private key (unencrypted PKCS#8 or PKCS#1 RSA); it signs every request.
        partner_private_key_file: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"/etc/esignet/ida/partner-key.pem\"";
        /// PEM file of our partner certificate (the one registered in IDA's partner management), sent in each signature's `x5c`.
        partner_certificate_file: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"/etc/esignet/ida/partner.pem\"";
        /// PEM file of IDA's partner certificate (`ida-partner.cer`): request session keys are encrypted to it; its SHA-256 is the `thumbprint`.
        ida_partner_certificate_file: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"/etc/esignet/ida/ida-partner.pem\"";
        /// PEM file of IDA's signing certificate (application `IDA`, reference `SIGN`): it verifies every `response-signature` and the KYC JWT, and is published in the JWKS.
        ida_signing_certificate_file: String = String::new(), ValueKind::Str, default_doc = "unset", example = "\"/etc/esignet/ida/ida-sign.pem\"";
        /// OTP channels IDA sends on.
        otp_channels: Vec<String> = vec!["email".to_owned(), "phone".to_owned()], ValueKind::StrList;
        /// The `env` member of kyc-auth.
        env: String = "Staging".to_owned(), ValueKind::Str;
        /// The `domainUri` member of kyc-auth. Unset: the issuer.
        domain_uri: Option<String> = None, ValueKind::OptStr, default_doc = "the issuer", example = "\"https://esignet.example.org\"";
        /// IDA's auth service base URL for wallet key binding, context path included; `identity-key-binding/delegated/...` is appended. Unset: `ida.auth_url`.
        binding_url: Option<String> = None, ValueKind::OptStr, default_doc = "ida.auth_url", example = "\"http://ida-auth.ida/idauthentication/v1\"";
        /// PEM files of the CA certificates IDA signs wallet binding certificates with, current first then previous ones (each file a chain, CA first). Published at `/binding/certificates`; wallet certificates must be issued by one of them. Empty: no wallet key binding (the wallet endpoints answer `not_implemented`).
        binding_ca_certificate_files: Vec<String> = Vec::new(), ValueKind::StrList, default_doc = "none (no key binding)", example = "[\"/etc/esignet/ida/binding-ca.pem\"]";
        /// The key manager's `getAllCertificates` URL: the KYC signing certificates published in the JWKS are read from it (application `IDA`, reference `SIGN`). Unset: `ida.ida_signing_certificate_file` is published. Needs `ida.auth_token_url`, `ida.auth_client_id` and `ida.auth_secret_key`.
        certificates_url: Option<String> = None, ValueKind::OptStr, default_doc = "unset", example = "\"http://keymanager.keymanager/v1/keymanager/getAllCertificates\"";
        /// The kernel auth manager's `authenticate/clientidsecretkey` URL, for the token `ida.certificates_url` needs.
        auth_token_url: Option<String> = None, ValueKind::OptStr, default_doc = "unset", example = "\"http://authmanager.kernel/v1/authmanager/authenticate/clientidsecretkey\"";
        /// The kernel client id for `ida.auth_token_url`.
        auth_client_id: Option<String> = None, ValueKind::OptStr, default_doc = "unset", example = "\"mosip-ida-client\"";
        /// The kernel secret key for `ida.auth_token_url`. Prefer `ESIGNET_IDA__AUTH_SECRET_KEY`.
        auth_secret_key: Option<SecretString> = None, ValueKind::Secret, default_doc = "unset", example = "\"<kernel secret key>\"";
        /// The kernel application id for `ida.auth_token_url`.
        auth_app_id: String = "ida".to_owned(), ValueKind::Str;
        /// Total time allowed for one IDA call, in seconds.
        timeout_secs: u64 = 10, ValueKind::Int;
        /// Time allowed to connect to IDA, in seconds.
        connect_timeout_secs: u64 = 2, ValueKind::Int;
    }
}

/// `[ida]`, validated. The PEM texts are read from the configured files when
/// `authenticator.kind = "ida"` (empty otherwise).
#[derive(Clone, Debug)]
pub struct IdaSettings {
    /// Auth service base URL, without trailing slash.
    pub auth_url: String,
    /// OTP service base URL, without trailing slash.
    pub otp_url: String,
    /// The MISP license key.
    pub misp_license_key: SecretString,
    /// The configured partner id, if any.
    pub partner_id: Option<String>,
    /// The configured API key / client id, if any.
    pub api_key: Option<SecretString>,
    /// Our partner private key, PEM.
    pub partner_private_key_pem: SecretString,
    /// Our partner certificate, PEM.
    pub partner_certificate_pem: String,
    /// IDA's partner certificate, PEM.
    pub ida_partner_certificate_pem: String,
    /// IDA's signing certificate, PEM.
    pub ida_signing_certificate_pem: String,
    /// OTP channels, lower case.
    pub otp_channels: Vec<String>,
    /// The `env` member.
    pub env: String,
    /// The `domainUri` member, if configured.
    pub domain_uri: Option<String>,
    /// Key binding base URL, without trailing slash (`auth_url` unless configured).
    pub binding_url: String,
    /// The binding CA chains, PEM, one per configured file; empty: no key binding.
    pub binding_ca_certificate_pems: Vec<String>,
    /// The key manager source of the KYC signing certificates, if configured.
    pub certificate_source: Option<IdaCertificateSettings>,
    /// Time allowed for one call.
    pub timeout: Duration,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
}

/// Where the KYC signing certificates are read from (`ida.certificates_url` and the kernel
/// credentials), all set and checked.
#[derive(Clone, Debug)]
pub struct IdaCertificateSettings {
    /// The key manager's `getAllCertificates` URL.
    pub certificates_url: String,
    /// The kernel auth manager's token URL.
    pub auth_token_url: String,
    /// The kernel client id.
    pub client_id: String,
    /// The kernel secret key.
    pub secret_key: SecretString,
    /// The kernel application id.
    pub app_id: String,
}

/// Reads a PEM file, reporting an unset or unreadable one under `key`. Never repeats the
/// content (a private key) in a problem.
fn read_pem(problems: &mut Problems, key: &str, path: &str) -> Option<Vec<u8>> {
    if path.trim().is_empty() {
        problems.push(
            key,
            "must name a PEM file when authenticator.kind = \"ida\"",
        );
        return None;
    }
    match std::fs::read(path.trim()) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            problems.push(key, format!("cannot read \"{path}\": {error}"));
            None
        }
    }
}

fn certificate(problems: &mut Problems, key: &str, path: &str) -> Option<(String, X509)> {
    let bytes = read_pem(problems, key, path)?;
    match X509::from_pem(&bytes) {
        Ok(certificate) if certificate.public_key().is_ok_and(|key| key.rsa().is_ok()) => {
            Some((String::from_utf8_lossy(&bytes).into_owned(), certificate))
        }
        Ok(_) => {
            problems.push(key, format!("\"{path}\" does not hold an RSA certificate"));
            None
        }
        Err(_) => {
            problems.push(key, format!("\"{path}\" is not a PEM certificate"));
            None
        }
    }
}

pub(crate) fn ida(raw: IdaRaw, enabled: bool, problems: &mut Problems) -> IdaSettings {
    let mut url = |key: &str, text: String| match http_url(&text) {
        Ok(url) => url.as_str().trim_end_matches('/').to_owned(),
        Err(message) => {
            problems.push(key, message);
            text
        }
    };
    let auth_url = url("ida.auth_url", raw.auth_url);
    let otp_url = url("ida.otp_url", raw.otp_url);
    let certificates_url = raw
        .certificates_url
        .filter(|text| !text.trim().is_empty())
        .map(|text| url("ida.certificates_url", text));
    let auth_token_url = raw
        .auth_token_url
        .filter(|text| !text.trim().is_empty())
        .map(|text| url("ida.auth_token_url", text));
    let binding_url = match raw.binding_url.filter(|text| !text.trim().is_empty()) {
        Some(text) => url("ida.binding_url", text),
        None => auth_url.clone(),
    };
    let otp_channels: Vec<String> = raw
        .otp_channels
        .iter()
        .map(|channel| channel.trim().to_ascii_lowercase())
        .collect();
    if otp_channels.iter().any(String::is_empty) {
        problems.push("ida.otp_channels", "must not contain an empty channel");
    }
    let mut settings = IdaSettings {
        auth_url,
        otp_url,
        misp_license_key: raw
            .misp_license_key
            .unwrap_or_else(|| SecretString::new(String::new())),
        partner_id: raw.partner_id.filter(|id| !id.trim().is_empty()),
        api_key: raw.api_key.filter(|key| !key.expose().is_empty()),
        partner_private_key_pem: SecretString::new(String::new()),
        partner_certificate_pem: String::new(),
        ida_partner_certificate_pem: String::new(),
        ida_signing_certificate_pem: String::new(),
        otp_channels,
        env: raw.env,
        domain_uri: raw.domain_uri.filter(|uri| !uri.trim().is_empty()),
        binding_url,
        binding_ca_certificate_pems: Vec::new(),
        certificate_source: None,
        timeout: secs(problems, "ida.timeout_secs", raw.timeout_secs, 1),
        connect_timeout: secs(
            problems,
            "ida.connect_timeout_secs",
            raw.connect_timeout_secs,
            1,
        ),
    };
    if !enabled {
        return settings;
    }
    if settings.misp_license_key.expose().trim().is_empty() {
        problems.push(
            "ida.misp_license_key",
            "must be set when authenticator.kind = \"ida\"",
        );
    }
    let key = read_pem(
        problems,
        "ida.partner_private_key_file",
        &raw.partner_private_key_file,
    )
    .and_then(|bytes| match PKey::private_key_from_pem(&bytes) {
        Ok(key) if key.rsa().is_ok() => Some((bytes, key)),
        _ => {
            problems.push(
                "ida.partner_private_key_file",
                format!(
                    "\"{}\" is not an unencrypted PEM RSA private key",
                    raw.partner_private_key_file
                ),
            );
            None
        }
    });
    let partner = certificate(
        problems,
        "ida.partner_certificate_file",
        &raw.partner_certificate_file,
    );
    if let (Some((key_pem, key)), Some((certificate_pem, certificate))) = (key, partner) {
        let matches = certificate
            .public_key()
            .is_ok_and(|public| key.public_eq(&public));
        if !matches {
            problems.push(
                "ida.partner_private_key_file",
                "the private key does not belong to ida.partner_certificate_file",
            );
        }
        settings.partner_private_key_pem =
            SecretString::new(String::from_utf8_lossy(&key_pem).into_owned());
        settings.partner_certificate_pem = certificate_pem;
    }
    if let Some((pem, _)) = certificate(
        problems,
        "ida.ida_partner_certificate_file",
        &raw.ida_partner_certificate_file,
    ) {
        settings.ida_partner_certificate_pem = pem;
    }
    if let Some((pem, _)) = certificate(
        problems,
        "ida.ida_signing_certificate_file",
        &raw.ida_signing_certificate_file,
    ) {
        settings.ida_signing_certificate_pem = pem;
    }
    settings.binding_ca_certificate_pems =
        binding_ca_chains(problems, &raw.binding_ca_certificate_files);
    if let Some(certificates_url) = certificates_url {
        let needed = "must be set with ida.certificates_url";
        let client_id = raw.auth_client_id.filter(|id| !id.trim().is_empty());
        let secret_key = raw.auth_secret_key.filter(|key| !key.expose().is_empty());
        if auth_token_url.is_none() {
            problems.push("ida.auth_token_url", needed);
        }
        if client_id.is_none() {
            problems.push("ida.auth_client_id", needed);
        }
        if secret_key.is_none() {
            problems.push("ida.auth_secret_key", needed);
        }
        if let (Some(auth_token_url), Some(client_id), Some(secret_key)) =
            (auth_token_url, client_id, secret_key)
        {
            settings.certificate_source = Some(IdaCertificateSettings {
                certificates_url,
                auth_token_url,
                client_id,
                secret_key,
                app_id: raw.auth_app_id,
            });
        }
    }
    settings
}

/// Reads the binding CA files: each must hold at least one PEM certificate (the CA first).
fn binding_ca_chains(problems: &mut Problems, files: &[String]) -> Vec<String> {
    const KEY: &str = "ida.binding_ca_certificate_files";
    let mut chains = Vec::with_capacity(files.len());
    for path in files {
        let Some(bytes) = read_pem(problems, KEY, path) else {
            continue;
        };
        match X509::stack_from_pem(&bytes) {
            Ok(chain) if !chain.is_empty() => {
                chains.push(String::from_utf8_lossy(&bytes).into_owned());
            }
            _ => problems.push(KEY, format!("\"{path}\" is not a PEM certificate chain")),
        }
    }
    chains
}
