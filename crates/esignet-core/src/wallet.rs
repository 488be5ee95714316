//! Wallet support: what key binding ([`crate::binding`]) and the QR-code (linked) login
//! ([`crate::linked`], [`crate::linked_auth`]) need beyond the browser flow: their settings,
//! the key binder and the public key registry, and the checks of certificates the binder issued.
//!
//! A [`Core`] built without [`Core::with_wallet`] answers every wallet endpoint with
//! `not_implemented`, as eSignet does with its no-op key binder.

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Duration;

use esignet_jose::PublicJwk;
use esignet_spi::{BindingStore, KeyBinder, KeyBindingRecord};
use openssl::asn1::Asn1Time;
use openssl::x509::X509;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::codes;
use crate::error::{Error, Result};
use crate::service::Core;

/// The factor type of wallet-bound keys.
pub const WLA: &str = "WLA";

/// Settings of the wallet flows (eSignet's `link-code-*`, `link-status-deferred-*`, `binding.*`
/// properties, reference §10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletConfig {
    /// How long a link code (the QR code) can be scanned.
    pub link_code_ttl: Duration,
    /// Characters of a link code (`[A-Za-z0-9]`).
    pub link_code_length: usize,
    /// Link codes one transaction may generate in total.
    pub link_code_limit: u64,
    /// Link codes of one transaction usable at the same time; a newer one evicts the oldest.
    pub active_link_codes: u64,
    /// Longest wait of one `link-status` long poll before `response_timeout`.
    pub link_status_timeout: Duration,
    /// Longest wait of one `link-auth-code` long poll before `response_timeout`.
    pub link_auth_code_timeout: Duration,
    /// Lifetime of a linked transaction (and of its linked code) before the wallet
    /// authenticates.
    pub linked_ttl: Duration,
    /// Time the wallet has for consent after authenticating.
    pub linked_auth_ttl: Duration,
    /// Time the browser has to collect the code after the wallet's consent.
    pub consented_ttl: Duration,
    /// Required `aud` of WLA tokens.
    pub binding_audience: String,
    /// How old (by `iat`) a WLA token may be.
    pub wla_max_age: Duration,
    /// Clock skew allowed on a WLA token's `iat` and `exp`.
    pub wla_clock_skew: Duration,
    /// Whether `walletUserId` is encrypted to the wallet's (RSA) key.
    pub encrypt_binding_id: bool,
}

impl Default for WalletConfig {
    /// eSignet's defaults.
    fn default() -> Self {
        Self {
            link_code_ttl: Duration::from_secs(60),
            link_code_length: 15,
            link_code_limit: 10,
            active_link_codes: 2,
            link_status_timeout: Duration::from_secs(25),
            link_auth_code_timeout: Duration::from_secs(25),
            linked_ttl: Duration::from_secs(300),
            linked_auth_ttl: Duration::from_secs(120),
            consented_ttl: Duration::from_secs(300),
            binding_audience: "esignet-binding".to_owned(),
            wla_max_age: Duration::from_secs(120),
            wla_clock_skew: Duration::from_secs(10),
            encrypt_binding_id: true,
        }
    }
}

/// What the wallet flows run on.
#[derive(Clone)]
pub struct WalletSupport {
    /// Settings.
    pub config: WalletConfig,
    /// The identity system's key binder.
    pub binder: Arc<dyn KeyBinder>,
    /// The public key registry.
    pub bindings: Arc<dyn BindingStore>,
}

impl std::fmt::Debug for WalletSupport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WalletSupport")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// Enables key binding and the QR-code login (see the module documentation).
    pub fn with_wallet(mut self, wallet: WalletSupport) -> Self {
        self.wallet = Some(wallet);
        self
    }

    /// The wallet settings and seams, or `not_implemented` when the wallet is not enabled.
    pub(crate) fn wallet(&self) -> Result<&WalletSupport> {
        self.wallet
            .as_ref()
            .ok_or(Error::code(codes::NOT_IMPLEMENTED))
    }

    /// The public key of the binding of `id_hash` that `thumbprint` names, after checking that
    /// the binding exists and has not expired (`binding_not_found`; `binding_auth_failed` when
    /// the resident has a current binding but `thumbprint` names another certificate, such as
    /// one a re-binding replaced), was made for `factor`
    /// when given (`unbound_auth_factor`), and that its certificate is the one named, valid now
    /// and issued by one of the binder's CA keys (`invalid_certificate`).
    pub(crate) async fn bound_key(
        &self,
        wallet: &WalletSupport,
        id_hash: &str,
        thumbprint: &str,
        factor: Option<&str>,
    ) -> Result<PublicJwk> {
        let now = self.clock.now();
        let found = wallet
            .bindings
            .find_binding_by_thumbprint(id_hash, thumbprint)
            .await?;
        let binding: KeyBindingRecord = match found {
            Some(binding) if binding.expires_at > now => binding,
            Some(_) => return Err(Error::code(codes::BINDING_NOT_FOUND)),
            None => {
                // Re-binding replaces the record, so a token of the old key finds nothing; it
                // is still a failed binding authentication of a bound resident, not a missing
                // binding (eSignet's `binding_auth_failed`).
                let current = wallet
                    .bindings
                    .get_binding(id_hash, factor.unwrap_or(crate::wallet::WLA))
                    .await?;
                return Err(Error::code(match current {
                    Some(current) if current.expires_at > now => codes::BINDING_AUTH_FAILED,
                    _ => codes::BINDING_NOT_FOUND,
                }));
            }
        };
        if factor.is_some_and(|factor| factor != binding.auth_factor) {
            return Err(Error::code(codes::UNBOUND_AUTH_FACTOR));
        }
        let certificate = X509::from_pem(binding.certificate.as_bytes())
            .map_err(|_| invalid_certificate("unreadable bound certificate"))?;
        let der = certificate
            .to_der()
            .map_err(|_| invalid_certificate("unencodable bound certificate"))?;
        if !esignet_jose::constant_time_eq(
            esignet_jose::sha256_b64url(&der).as_bytes(),
            thumbprint.as_bytes(),
        ) {
            return Err(invalid_certificate("thumbprint does not match"));
        }
        if !valid_at(&certificate, now) {
            return Err(invalid_certificate("outside its validity"));
        }
        let authorities = wallet.binder.binding_ca_certificates().await?;
        let issued_by_us = authorities.iter().any(|authority| {
            X509::from_pem(authority.certificate_pem.as_bytes())
                .is_ok_and(|authority| issued_by(&certificate, &authority))
        });
        if !issued_by_us {
            return Err(invalid_certificate("not issued by a binding CA"));
        }
        certificate
            .public_key()
            .ok()
            .and_then(|key| PublicJwk::from_openssl(&key).ok())
            .ok_or_else(|| invalid_certificate("unusable public key"))
    }
}

/// Whether `certificate` names `authority` as issuer and carries its valid signature.
pub(crate) fn issued_by(certificate: &X509, authority: &X509) -> bool {
    let names_match = certificate
        .issuer_name()
        .try_cmp(authority.subject_name())
        .is_ok_and(|ordering| ordering == Ordering::Equal);
    names_match
        && authority
            .public_key()
            .ok()
            .and_then(|key| certificate.verify(&key).ok())
            .unwrap_or(false)
}

/// Whether `now` lies within the certificate's validity.
pub(crate) fn valid_at(certificate: &X509, now: OffsetDateTime) -> bool {
    let Ok(now) = Asn1Time::from_unix(now.unix_timestamp()) else {
        return false;
    };
    let started = certificate
        .not_before()
        .compare(&now)
        .is_ok_and(|ordering| ordering != Ordering::Greater);
    let running = certificate
        .not_after()
        .compare(&now)
        .is_ok_and(|ordering| ordering == Ordering::Greater);
    started && running
}

/// The certificate's `notAfter` as a UTC instant.
pub(crate) fn not_after(certificate: &X509) -> Option<OffsetDateTime> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(certificate.not_after()).ok()?;
    let seconds = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

fn invalid_certificate(reason: &'static str) -> Error {
    tracing::info!(reason, "wallet certificate refused");
    Error::code(codes::INVALID_CERTIFICATE)
}

/// eSignet's date-time format (`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, UTC).
pub(crate) fn format_datetime(instant: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    instant
        .to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_default()
}

/// `now + ttl` as Unix seconds, saturating.
pub(crate) fn unix_after(now: OffsetDateTime, ttl: Duration) -> i64 {
    now.unix_timestamp()
        .saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_use_the_esignet_format() {
        let instant = time::macros::datetime!(2026-03-04 05:06:07.891 UTC);
        assert_eq!(format_datetime(instant), "2026-03-04T05:06:07.891Z");
    }
}
