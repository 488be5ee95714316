//! Wallet key binding (eSignet `/binding/*`, reference §3.9): a wallet proves who the resident
//! is and has its public key certified and recorded in the public key registry, so it can later
//! log the resident in with WLA tokens signed by that key.
//!
//! Hardening beyond eSignet (documented in docs/compatibility.md): both calls count attempts
//! per resident (`transaction.send_otp_attempts` OTPs and `transaction.authenticate_attempts`
//! bindings within `transaction.rate_limit_window`); too many bindings block the resident like
//! too many logins do, so the binding endpoint cannot be used to guess OTPs or PINs.

use esignet_jose::PublicJwk;
use esignet_spi::{AuditAction, KeyBindingRecord, KeyBindingRequest, StoreError};
use openssl::x509::X509;

use crate::error::{Error, Result};
use crate::service::{Core, individual_id_hash};
use crate::transaction::stage;
use crate::wallet::{WalletSupport, format_datetime, issued_by, not_after};
use crate::wallet_api::{
    BindingOtpRequest, BindingOtpResponse, WalletBindingRequest, WalletBindingResponse,
};
use crate::{challenge, codes};

/// The captcha action of binding OTPs (eSignet's `captcha.required` name).
pub const BINDING_OTP_CAPTCHA_ACTION: &str = "binding-otp";

impl Core {
    /// `POST /binding/binding-otp` and `/binding/v2/binding-otp`: asks the key binder to send
    /// an OTP for a coming [`Core::wallet_binding`]. `request_headers` (lower-case names) are
    /// handed to the binder as eSignet does.
    ///
    /// Errors: `invalid_identifier`, `invalid_otp_channel`, `invalid_captcha` /
    /// `failed_to_validate_captcha` (when `binding-otp` requires a captcha), `no_attempts_left`,
    /// `individual_id_blocked`, `send_otp_failed`, the binder's codes, `not_implemented`.
    pub async fn send_binding_otp(
        &self,
        request: BindingOtpRequest,
        request_headers: &[(String, String)],
    ) -> Result<BindingOtpResponse> {
        let hash = non_blank(request.individual_id.as_deref()).map(individual_id_hash);
        let outcome = self
            .send_binding_otp_inner(request, request_headers, hash.as_deref())
            .await;
        self.audit(
            AuditAction::SendBindingOtp,
            outcome.as_ref().map(|_| ()),
            None,
            None,
            hash.as_deref(),
        );
        outcome
    }

    async fn send_binding_otp_inner(
        &self,
        request: BindingOtpRequest,
        request_headers: &[(String, String)],
        hash: Option<&str>,
    ) -> Result<BindingOtpResponse> {
        let wallet = self.wallet()?;
        let individual_id = non_blank(request.individual_id.as_deref())
            .ok_or(Error::code(codes::INVALID_IDENTIFIER))?;
        let hash = hash.ok_or(Error::code(codes::INVALID_IDENTIFIER))?;
        if request.otp_channels.is_empty()
            || request
                .otp_channels
                .iter()
                .any(|channel| channel.trim().is_empty())
        {
            return Err(Error::code(codes::INVALID_OTP_CHANNEL));
        }
        self.check_binding_captcha(request.captcha_token.as_deref())
            .await?;
        self.ensure_wallet_not_blocked(hash).await?;
        self.count_wallet_attempt(
            &format!("{hash}:binding-otp"),
            self.config.send_otp_attempts,
            None,
        )
        .await?;
        let channels: Vec<String> = request
            .otp_channels
            .iter()
            .map(|channel| channel.trim().to_lowercase())
            .collect();
        let result = wallet
            .binder
            .send_binding_otp(individual_id, &channels, request_headers)
            .await?;
        Ok(BindingOtpResponse {
            masked_email: result.masked_email,
            masked_mobile: result.masked_mobile,
        })
    }

    /// `POST /binding/wallet-binding`: verifies the challenges through the key binder, which
    /// certifies the wallet's key; records the binding (replacing an earlier one of the same
    /// resident and factor) and answers with the binding id, the certificate and its expiry.
    ///
    /// Errors: `invalid_individual_id`, `invalid_no_of_challenges`, `invalid_auth_factor_type`,
    /// `invalid_challenge_format`, `invalid_challenge`, `invalid_public_key`,
    /// `invalid_auth_factor_type_or_challenge_format`, `no_attempts_left`,
    /// `individual_id_blocked`, the binder's codes (`auth_failed`, ...), `key_binding_failed`,
    /// `duplicate_public_key` (the key is bound to someone else), `failed_to_create_jwe`.
    pub async fn wallet_binding(
        &self,
        request: WalletBindingRequest,
        request_headers: &[(String, String)],
    ) -> Result<WalletBindingResponse> {
        let hash = non_blank(request.individual_id.as_deref()).map(individual_id_hash);
        let outcome = self
            .wallet_binding_inner(request, request_headers, hash.as_deref())
            .await;
        self.audit(
            AuditAction::KeyBinding,
            outcome.as_ref().map(|_| ()),
            None,
            None,
            hash.as_deref(),
        );
        outcome
    }

    async fn wallet_binding_inner(
        &self,
        request: WalletBindingRequest,
        request_headers: &[(String, String)],
        hash: Option<&str>,
    ) -> Result<WalletBindingResponse> {
        let wallet = self.wallet()?;
        let individual_id = non_blank(request.individual_id.as_deref())
            .ok_or(Error::code(codes::INVALID_INDIVIDUAL_ID))?;
        let hash = hash.ok_or(Error::code(codes::INVALID_INDIVIDUAL_ID))?;
        if request.challenge_list.is_empty() || request.challenge_list.len() > 5 {
            return Err(Error::code(codes::INVALID_NO_OF_CHALLENGES));
        }
        let factor = non_blank(request.auth_factor_type.as_deref())
            .ok_or(Error::code(codes::INVALID_AUTH_FACTOR_TYPE))?;
        let format = non_blank(request.format.as_deref())
            .ok_or(Error::code(codes::INVALID_CHALLENGE_FORMAT))?;
        let public_key = request
            .public_key
            .as_ref()
            .filter(|key| key.is_object())
            .ok_or(Error::code(codes::INVALID_PUBLIC_KEY))?;
        challenge::validate(&request.challenge_list)?;
        let supported = |factor: &str, format: &str| {
            wallet
                .binder
                .supported_challenge_formats(factor)
                .iter()
                .any(|supported| supported == format)
        };
        if !supported(factor, format)
            || request
                .challenge_list
                .iter()
                .any(|c| !supported(&c.auth_factor_type, &c.format))
        {
            return Err(Error::code(
                codes::INVALID_AUTH_FACTOR_TYPE_OR_CHALLENGE_FORMAT,
            ));
        }
        let public =
            PublicJwk::from_json(public_key).map_err(|_| Error::code(codes::INVALID_PUBLIC_KEY))?;
        self.ensure_wallet_not_blocked(hash).await?;
        self.count_wallet_attempt(
            &format!("{hash}:wallet-binding"),
            self.config.authenticate_attempts,
            Some(hash),
        )
        .await?;
        let result = wallet
            .binder
            .do_key_binding(KeyBindingRequest {
                individual_id: individual_id.to_owned(),
                challenges: request.challenge_list,
                public_key: public.to_json(),
                auth_factor_type: factor.to_owned(),
                request_headers: request_headers.to_vec(),
            })
            .await?;
        if result.partner_specific_user_token.is_empty() {
            return Err(Error::code(codes::KEY_BINDING_FAILED));
        }
        let certificate = checked_certificate(wallet, &result.certificate, &public).await?;
        let record = self
            .binding_record(
                wallet,
                hash,
                factor,
                &public,
                certificate,
                result.partner_specific_user_token,
            )
            .await?;
        let expires_at = record.expires_at;
        let certificate_pem = record.certificate.clone();
        let binding_id = record.wallet_binding_id.clone();
        wallet
            .bindings
            .save_binding(&record)
            .await
            .map_err(|error| match error {
                StoreError::Conflict(_) => Error::code(codes::DUPLICATE_PUBLIC_KEY),
                other => Error::from(other),
            })?;
        Ok(WalletBindingResponse {
            wallet_user_id: self.wallet_user_id(wallet, &public, &binding_id)?,
            certificate: certificate_pem,
            expire_date_time: format_datetime(expires_at),
        })
    }

    /// The registry record of a new binding; the wallet binding id of an earlier binding of the
    /// same subject and factor is kept (eSignet §7.3), otherwise a fresh one is derived.
    async fn binding_record(
        &self,
        wallet: &WalletSupport,
        id_hash: &str,
        factor: &str,
        public: &PublicJwk,
        certificate: CheckedCertificate,
        psut: String,
    ) -> Result<KeyBindingRecord> {
        let previous = wallet.bindings.get_binding(id_hash, factor).await?;
        let wallet_binding_id = match previous {
            Some(previous) if previous.psu_token == psut => previous.wallet_binding_id,
            _ => {
                let mut seed = psut.as_bytes().to_vec();
                seed.extend_from_slice(&esignet_jose::random_bytes(16));
                esignet_jose::sha3_256_b64url(&seed)
            }
        };
        Ok(KeyBindingRecord {
            id_hash: id_hash.to_owned(),
            auth_factor: factor.to_owned(),
            psu_token: psut,
            public_key: public.to_json().to_string(),
            // The RFC 7638 thumbprint is the key's canonical form, so the same key supplied
            // with another `kid` or member order is still recognised as a duplicate.
            public_key_hash: esignet_jose::sha3_256_b64url(public.thumbprint().as_bytes()),
            certificate: certificate.pem,
            thumbprint: certificate.thumbprint,
            wallet_binding_id,
            expires_at: certificate.not_after,
            created_at: self.clock.now(),
        })
    }

    /// `walletUserId`: the binding id as a compact JWE (`RSA-OAEP-256`, `A256GCM`, `cty: JWT`,
    /// the JWK's `kid`) to the wallet's RSA key, or in clear when encryption is off or the key
    /// is EC (JWE here is RSA only; eSignet fails EC bindings with `failed_to_create_jwe`).
    fn wallet_user_id(
        &self,
        wallet: &WalletSupport,
        public: &PublicJwk,
        binding_id: &str,
    ) -> Result<String> {
        if !wallet.config.encrypt_binding_id || public.kty() != "RSA" {
            return Ok(binding_id.to_owned());
        }
        // A signing key's `alg` and `use` describe signatures; encrypt to the same key anyway,
        // as eSignet does.
        let mut recipient = public.to_json();
        if let Some(members) = recipient.as_object_mut() {
            members.remove("alg");
            members.remove("use");
        }
        PublicJwk::from_json(&recipient)
            .and_then(|key| esignet_jose::encrypt_compact(binding_id.as_bytes(), &key, Some("JWT")))
            .map_err(|_| Error::code(codes::FAILED_TO_CREATE_JWE))
    }

    async fn check_binding_captcha(&self, token: Option<&str>) -> Result<()> {
        if !self.captcha.is_required(BINDING_OTP_CAPTCHA_ACTION) {
            return Ok(());
        }
        let token = non_blank(token).ok_or(Error::code(codes::INVALID_CAPTCHA))?;
        match self
            .captcha
            .verifier()
            .verify(token, BINDING_OTP_CAPTCHA_ACTION)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::code(codes::INVALID_CAPTCHA)),
            Err(error) => {
                tracing::warn!(%error, "binding captcha verification failed");
                Err(Error::code(codes::FAILED_TO_VALIDATE_CAPTCHA))
            }
        }
    }

    /// `individual_id_blocked` if the resident is blocked (by any flow).
    pub(crate) async fn ensure_wallet_not_blocked(&self, id_hash: &str) -> Result<()> {
        let blocked: Option<serde_json::Value> = self.flow.get(stage::BLOCKED, id_hash).await?;
        match blocked {
            Some(_) => Err(Error::code(codes::INDIVIDUAL_ID_BLOCKED)),
            None => Ok(()),
        }
    }

    /// Counts one attempt under `counter`; past `limit` fails with `no_attempts_left` and, when
    /// `block` names a resident, blocks them for `transaction.block_ttl`.
    pub(crate) async fn count_wallet_attempt(
        &self,
        counter: &str,
        limit: u64,
        block: Option<&str>,
    ) -> Result<()> {
        let count = self
            .flow
            .raw()
            .increment(stage::RATE_LIMIT, counter, self.config.rate_limit_window)
            .await?;
        if count <= limit {
            return Ok(());
        }
        if let Some(id_hash) = block {
            self.flow
                .first_use(stage::BLOCKED, id_hash, self.config.block_ttl)
                .await?;
        }
        Err(Error::code(codes::NO_ATTEMPTS_LEFT))
    }
}

/// A binder-issued certificate that passed [`checked_certificate`].
struct CheckedCertificate {
    pem: String,
    thumbprint: String,
    not_after: time::OffsetDateTime,
}

/// The binder's certificate must parse, be for the submitted key and be issued by one of the
/// binder's CA keys (so a later WLA login can verify it); anything else is `key_binding_failed`.
async fn checked_certificate(
    wallet: &WalletSupport,
    pem: &str,
    public: &PublicJwk,
) -> Result<CheckedCertificate> {
    let failed = |reason: &'static str| {
        tracing::warn!(reason, "key binder returned an unusable certificate");
        Error::code(codes::KEY_BINDING_FAILED)
    };
    let certificate = X509::from_pem(pem.as_bytes()).map_err(|_| failed("unreadable"))?;
    let for_the_key = certificate
        .public_key()
        .is_ok_and(|key| key.public_eq(public.openssl_pkey()));
    if !for_the_key {
        return Err(failed("certifies another key"));
    }
    let authorities = wallet.binder.binding_ca_certificates().await?;
    let issued_by_binder = authorities.iter().any(|authority| {
        X509::from_pem(authority.certificate_pem.as_bytes())
            .is_ok_and(|authority| issued_by(&certificate, &authority))
    });
    if !issued_by_binder {
        return Err(failed("not issued by a binding CA"));
    }
    let der = certificate.to_der().map_err(|_| failed("unencodable"))?;
    let not_after = not_after(&certificate).ok_or_else(|| failed("unreadable notAfter"))?;
    let pem = certificate
        .to_pem()
        .ok()
        .and_then(|pem| String::from_utf8(pem).ok())
        .ok_or_else(|| failed("unencodable"))?;
    Ok(CheckedCertificate {
        pem,
        thumbprint: esignet_jose::sha256_b64url(&der),
        not_after,
    })
}

fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}
