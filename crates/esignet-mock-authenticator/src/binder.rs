//! [`MockKeyBinder`]: wallet key binding for the mock identity system, behind eSignet's
//! [`KeyBinder`] seam (the Java mock plugin's `MockKeyBindingWrapperService`).
//!
//! The resident proves who they are with the same checks as a login ([`MockAuthenticator`]:
//! the development OTP after a binding OTP, or PIN, password, KBI); the wallet's key is then
//! certified by the binding CA key (a [`KeyManager`] whose policy issues certificates, the
//! `MOCK_BINDING_SERVICE` application in the default wiring).
//!
//! Deliberate choices:
//! * Biometrics cannot bind a key: the mock never matches biometrics, so they would let anyone
//!   bind a key to anyone. WLA and IDT cannot either (they presuppose a binding or a login).
//! * The binding OTP belongs to the fixed transaction id [`BINDING_TRANSACTION_ID`], so it works
//!   only for a binding, never for a login, and needs no per-binding state.
//! * The certificate's subject is `CN=<RFC 7638 thumbprint of the key>`: nothing personal.

use std::sync::Arc;

use esignet_jose::PublicJwk;
use esignet_keys::KeyManager;
use esignet_spi::{
    Authenticator, KeyBinder, KeyBindingRequest, KeyBindingResult, KycAuthRequest, PluginError,
    SendOtpRequest, SendOtpResult, SigningCertificate, TokenSigner,
};
use serde_json::Value;

use crate::authenticator::{MockAuthenticator, partner_specific_user_token};
use crate::codes;
use crate::crypto::secrets_match;

/// The auth transaction id binding OTPs are sent and checked under.
pub const BINDING_TRANSACTION_ID: &str = "WALLETBINDING";

/// The relying-party id the binding subject (PSUT) is derived for.
pub const BINDING_PARTNER: &str = "mock-binding-service";

/// eSignet's default validity of binding certificates (`binding.key-expire-days`).
pub const DEFAULT_CERTIFICATE_VALIDITY: time::Duration = time::Duration::days(10);

/// The factor types whose challenges can prove identity for a binding.
const BINDING_CHALLENGES: &[&str] = &["OTP", "PIN", "PWD", "KBI"];

/// The mock identity system's key binder.
pub struct MockKeyBinder {
    authenticator: Arc<MockAuthenticator>,
    issuer: Arc<KeyManager>,
    certificate_validity: time::Duration,
}

impl std::fmt::Debug for MockKeyBinder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MockKeyBinder")
            .field("issuer", &self.issuer.application())
            .field("certificate_validity", &self.certificate_validity)
            .finish_non_exhaustive()
    }
}

impl MockKeyBinder {
    /// A binder checking challenges with `authenticator` and certifying keys with `issuer`
    /// (whose policy must issue certificates) for `certificate_validity`.
    pub fn new(
        authenticator: Arc<MockAuthenticator>,
        issuer: Arc<KeyManager>,
        certificate_validity: time::Duration,
    ) -> Self {
        Self {
            authenticator,
            issuer,
            certificate_validity,
        }
    }
}

#[async_trait::async_trait]
impl KeyBinder for MockKeyBinder {
    /// Records the development OTP for the binding of `individual_id` (nothing is sent) and
    /// returns the masked destinations. Errors as [`MockAuthenticator`]'s `send_otp`.
    async fn send_binding_otp(
        &self,
        individual_id: &str,
        otp_channels: &[String],
        _request_headers: &[(String, String)],
    ) -> Result<SendOtpResult, PluginError> {
        self.authenticator
            .send_otp(
                BINDING_PARTNER,
                BINDING_PARTNER,
                SendOtpRequest {
                    transaction_id: BINDING_TRANSACTION_ID.to_owned(),
                    individual_id: individual_id.to_owned(),
                    otp_channels: otp_channels.to_vec(),
                },
            )
            .await
    }

    /// Checks every challenge (all must pass; an OTP is spent) and certifies the key for
    /// `WLA`. Errors: `invalid_auth_factor_type` (binding for another factor, or a challenge
    /// that cannot prove identity here), `invalid_individual_id`, the login checks' codes,
    /// `key_binding_failed` (unusable key, issuing failed).
    async fn do_key_binding(
        &self,
        request: KeyBindingRequest,
    ) -> Result<KeyBindingResult, PluginError> {
        if request.auth_factor_type != "WLA"
            || request
                .challenges
                .iter()
                .any(|c| !BINDING_CHALLENGES.contains(&c.auth_factor_type.as_str()))
        {
            return Err(PluginError::new(codes::INVALID_AUTH_FACTOR_TYPE));
        }
        let public = PublicJwk::from_json(&request.public_key)
            .map_err(|_| PluginError::new(codes::KEY_BINDING_FAILED))?;
        self.authenticator
            .check_challenges(&KycAuthRequest {
                transaction_id: BINDING_TRANSACTION_ID.to_owned(),
                individual_id: request.individual_id.clone(),
                challenges: request.challenges,
            })
            .await?;
        let psut = partner_specific_user_token(
            self.authenticator.settings().psut_mode,
            &request.individual_id,
            BINDING_PARTNER,
        )?;
        let issuer = Arc::clone(&self.issuer);
        let validity = self.certificate_validity;
        // One RSA signature: off the async workers.
        let issued = tokio::task::spawn_blocking(move || {
            issuer.issue_certificate(&public, &public.thumbprint(), validity)
        })
        .await
        .map_err(|_| PluginError::new(codes::KEY_BINDING_FAILED))?
        .map_err(|error| {
            tracing::error!(%error, "mock binding certificate not issued");
            PluginError::new(codes::KEY_BINDING_FAILED)
        })?;
        Ok(KeyBindingResult {
            certificate: issued.pem,
            partner_specific_user_token: psut,
        })
    }

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

    async fn binding_ca_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        Ok(self.issuer.certificates())
    }
}

/// The mock's check of a `WLA` login challenge: a compact JWS whose `sub` is the individual id.
///
/// The signature is **not** checked here: the mock has no public key registry. eSignet-rs
/// verifies every WLA token (binding, certificate, signature, audience, freshness, single use)
/// before any identity system sees it, as IDA does for eSignet; the Java mock accepts any
/// non-empty token.
pub(crate) fn verify_wallet_token(token: &str, individual_id: &str) -> bool {
    let Ok(decoded) = esignet_jose::decode_compact(token) else {
        return false;
    };
    decoded
        .claims()
        .ok()
        .and_then(|claims| claims.get("sub").and_then(Value::as_str).map(str::to_owned))
        .is_some_and(|subject| secrets_match(subject.as_bytes(), individual_id.as_bytes()))
}
