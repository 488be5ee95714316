//! Wallet key binding: the identity-system side ([`KeyBinder`]) and the public key registry
//! ([`BindingStore`]).
//!
//! A wallet app proves who the resident is once (an OTP, a PIN, ...) and asks for its own public
//! key to be bound to that resident for one authentication factor type (`WLA`). The
//! [`KeyBinder`] checks the challenges and issues an X.509 certificate for the key; the service
//! records the binding in the [`BindingStore`]. Later the wallet logs the resident in by signing
//! a short JWT (a *WLA token*) with the bound key, and the service finds the binding again by the
//! certificate's SHA-256 thumbprint (eSignet §3.9, §7.3, §9).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::authenticator::{AuthChallenge, PluginError, SendOtpResult, SigningCertificate};
use crate::store::StoreError;

/// Input to [`KeyBinder::do_key_binding`].
#[derive(Debug, Clone)]
pub struct KeyBindingRequest {
    /// The resident's identifier. Personal data: never log it.
    pub individual_id: String,
    /// The challenges proving the resident's identity; every one must pass.
    pub challenges: Vec<AuthChallenge>,
    /// The wallet's public JWK (RSA or EC P-256), already validated by the service.
    pub public_key: Value,
    /// The factor type the key is bound for (`WLA`).
    pub auth_factor_type: String,
    /// The HTTP headers of the wallet's request, names lower-case (eSignet hands every header to
    /// its key binder, which some identity systems use for partner credentials). Never log them.
    pub request_headers: Vec<(String, String)>,
}

/// Output of a successful [`KeyBinder::do_key_binding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBindingResult {
    /// The PEM X.509 certificate issued for the wallet's key, signed by one of the keys of
    /// [`KeyBinder::binding_ca_certificates`]. Its `notAfter` ends the binding.
    pub certificate: String,
    /// The resident's partner-specific user token for the binding service.
    pub partner_specific_user_token: String,
}

/// The identity system's wallet-binding plugin (eSignet's `KeyBinder`).
///
/// Contract:
/// * [`KeyBinder::send_binding_otp`] sends an OTP that a later [`KeyBinder::do_key_binding`]
///   for the same individual accepts, and answers with masked destinations.
/// * [`KeyBinder::do_key_binding`] verifies every challenge (all must pass, an OTP at most once)
///   and certifies the public key for `auth_factor_type`. Failures are [`PluginError`]s whose
///   codes reach the wallet verbatim (`auth_failed`, `key_binding_failed`, ...).
/// * [`KeyBinder::supported_challenge_formats`] lists the challenge formats accepted for a
///   factor type, both as a challenge (`OTP` → `alpha-numeric`) and as the factor a key is bound
///   for (`WLA` → `jwt`); an empty list means "not supported".
/// * [`KeyBinder::binding_ca_certificates`] lists the certificates of every key that may have
///   signed a binding certificate still in use. The service accepts a wallet's certificate only
///   if one of them issued it.
/// * Implementations never log individual ids, challenges, keys or headers.
#[async_trait::async_trait]
pub trait KeyBinder: Send + Sync {
    /// Sends an OTP for a coming key binding. `otp_channels` are lower-case (`email`, `phone`).
    async fn send_binding_otp(
        &self,
        individual_id: &str,
        otp_channels: &[String],
        request_headers: &[(String, String)],
    ) -> Result<SendOtpResult, PluginError>;

    /// Verifies the challenges and certifies the wallet's key (see the trait contract).
    async fn do_key_binding(
        &self,
        request: KeyBindingRequest,
    ) -> Result<KeyBindingResult, PluginError>;

    /// The formats accepted for `auth_factor_type` (upper case, e.g. `OTP`).
    fn supported_challenge_formats(&self, auth_factor_type: &str) -> Vec<String>;

    /// Certificates of the keys that sign binding certificates, current and previous.
    async fn binding_ca_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError>;
}

/// One row of the public key registry (eSignet `public_key_registry`, §7.3): a wallet key
/// bound to a resident for one factor type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyBindingRecord {
    /// base64url(SHA3-256(individual id)): the resident, never in clear.
    pub id_hash: String,
    /// The factor type the key is bound for (`WLA`). With `id_hash`, the record's identity.
    pub auth_factor: String,
    /// The binding service's partner-specific user token of the resident.
    pub psu_token: String,
    /// The wallet's public JWK as JSON text.
    pub public_key: String,
    /// base64url(SHA3-256) of the key's canonical members: the same key always hashes equally.
    pub public_key_hash: String,
    /// The PEM certificate issued for the key.
    pub certificate: String,
    /// The certificate's `x5t#S256` thumbprint (base64url SHA-256 of its DER).
    pub thumbprint: String,
    /// The wallet binding id handed to the wallet (`walletUserId`, possibly encrypted there).
    pub wallet_binding_id: String,
    /// The certificate's `notAfter`: the binding is void after it.
    pub expires_at: OffsetDateTime,
    /// When the binding was made.
    pub created_at: OffsetDateTime,
}

/// The public key registry.
///
/// Contract (every implementation, every method atomic):
/// * [`BindingStore::save_binding`] makes `binding` the current record for its
///   (`id_hash`, `auth_factor`), replacing any previous one (re-binding), unless another record
///   with the same `public_key_hash` belongs to a **different** `psu_token`: then nothing is
///   written and the error is `StoreError::Conflict("public_key")`. The check and the write
///   happen in one transaction, so two residents can never end up sharing a key.
/// * [`BindingStore::get_binding`] returns the current record of (`id_hash`, `auth_factor`),
///   expired or not.
/// * [`BindingStore::find_binding_by_thumbprint`] returns the record of `id_hash` whose
///   certificate thumbprint is `thumbprint`, expired or not (the caller checks expiry).
/// * Errors: `Unavailable` (nothing written), `Corrupt` (a row cannot be decoded).
#[async_trait::async_trait]
pub trait BindingStore: Send + Sync {
    /// Inserts or replaces the binding of (`id_hash`, `auth_factor`); see the trait contract.
    async fn save_binding(&self, binding: &KeyBindingRecord) -> Result<(), StoreError>;

    /// The binding of (`id_hash`, `auth_factor`), if any.
    async fn get_binding(
        &self,
        id_hash: &str,
        auth_factor: &str,
    ) -> Result<Option<KeyBindingRecord>, StoreError>;

    /// The binding of `id_hash` whose certificate has the `thumbprint`, if any.
    async fn find_binding_by_thumbprint(
        &self,
        id_hash: &str,
        thumbprint: &str,
    ) -> Result<Option<KeyBindingRecord>, StoreError>;
}
