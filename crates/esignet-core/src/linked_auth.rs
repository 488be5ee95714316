//! The QR-code (linked) login, wallet side (eSignet `/linked-authorization/send-otp`,
//! `authenticate`, `consent`, reference §3.8): after `link-transaction` the wallet
//! authenticates the resident (a WLA token signed with its bound key, or any factor the
//! transaction's ACRs allow) and records their consent; the waiting browser is then woken to
//! collect its code ([`crate::linked`]).
//!
//! Beyond eSignet (documented in docs/compatibility.md): linked send-otp and authenticate count
//! attempts per linked transaction like the browser flow does, blocking the resident after too
//! many; a WLA token is accepted once.

use esignet_spi::AuditAction;

use crate::api::{SendOtpRequest, SendOtpResponse};
use crate::error::{Error, Result};
use crate::linked::{LinkedTransaction, consented_channel, non_blank};
use crate::service::{Core, individual_id_hash};
use crate::transaction::{ConsentAction, Transaction, stage};
use crate::wallet::WalletSupport;
use crate::wallet_api::{
    LinkedAuthenticateRequest, LinkedAuthenticateResponse, LinkedConsentRequest,
    LinkedConsentResponse,
};
use crate::{AuthenticateVersion, challenge, codes};

impl Core {
    /// `POST /linked-authorization/send-otp` (CSRF, as in eSignet): an OTP for the wallet's
    /// login; `transactionId` is the linked transaction id. No captcha (eSignet has none here).
    ///
    /// Errors: `invalid_transaction_id`, `invalid_identifier`, `invalid_otp_channel`,
    /// `invalid_transaction`, `no_attempts_left`, `individual_id_blocked`, `send_otp_failed`,
    /// the identity system's codes, `not_implemented`.
    pub async fn linked_send_otp(&self, request: SendOtpRequest) -> Result<SendOtpResponse> {
        let hash = non_blank(request.individual_id.as_deref()).map(individual_id_hash);
        let outcome = self.linked_send_otp_inner(&request).await;
        self.audit(
            AuditAction::LinkSendOtp,
            outcome.as_ref().map(|_| ()),
            request.transaction_id.as_deref(),
            None,
            hash.as_deref(),
        );
        outcome
    }

    async fn linked_send_otp_inner(&self, request: &SendOtpRequest) -> Result<SendOtpResponse> {
        self.wallet()?;
        let linked_id = non_blank(request.transaction_id.as_deref())
            .ok_or(Error::code(codes::INVALID_TRANSACTION_ID))?;
        let individual_id = non_blank(request.individual_id.as_deref())
            .ok_or(Error::code(codes::INVALID_IDENTIFIER))?;
        let channels: Vec<String> = request
            .otp_channels
            .iter()
            .map(|channel| channel.to_lowercase())
            .collect();
        if channels.is_empty()
            || channels
                .iter()
                .any(|channel| !self.authenticator.is_supported_otp_channel(channel))
        {
            return Err(Error::code(codes::INVALID_OTP_CHANNEL));
        }
        let linked: LinkedTransaction = self
            .flow
            .get(stage::LINKED, linked_id)
            .await?
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        let hash = individual_id_hash(individual_id);
        self.ensure_wallet_not_blocked(&hash).await?;
        self.count_wallet_attempt(
            &format!("{linked_id}:send-otp"),
            self.config.send_otp_attempts,
            Some(&hash),
        )
        .await?;
        let transaction = &linked.transaction;
        let result = self
            .authenticator
            .send_otp(
                &transaction.relying_party_id,
                &transaction.client_id,
                esignet_spi::SendOtpRequest {
                    transaction_id: transaction.auth_transaction_id.clone(),
                    individual_id: individual_id.to_owned(),
                    otp_channels: channels,
                },
            )
            .await?;
        if result.transaction_id != transaction.auth_transaction_id {
            return Err(Error::code(codes::SEND_OTP_FAILED));
        }
        Ok(SendOtpResponse {
            transaction_id: linked_id.to_owned(),
            masked_email: result.masked_email,
            masked_mobile: result.masked_mobile,
        })
    }

    /// `POST /linked-authorization/authenticate` (v1) and `/v2/authenticate` (wallet, no CSRF).
    /// The challenges must complete one of the transaction's factor sets; WLA tokens are
    /// verified against the public key registry (see [`crate::wla`]), then every challenge goes
    /// to the identity system. v1 moves the transaction to `linkedauth`; v2 also evaluates
    /// consent (a stored consent counts only if its wallet signature still verifies) and, when
    /// none has to be captured, moves it straight to `consented` and wakes the browser.
    ///
    /// Errors: the validation codes of `authenticate`, `invalid_transaction`,
    /// `no_attempts_left`, `individual_id_blocked`, `auth_factor_mismatch`, the WLA codes of
    /// [`crate::wla`], the identity system's codes, `not_implemented`.
    pub async fn linked_authenticate(
        &self,
        version: AuthenticateVersion,
        request: LinkedAuthenticateRequest,
    ) -> Result<LinkedAuthenticateResponse> {
        let hash = non_blank(request.individual_id.as_deref()).map(individual_id_hash);
        let linked_id = request.linked_transaction_id.clone();
        let outcome = self.linked_authenticate_inner(version, request).await;
        self.audit(
            AuditAction::LinkAuthenticate,
            outcome.as_ref().map(|_| ()),
            linked_id.as_deref(),
            None,
            hash.as_deref(),
        );
        outcome
    }

    async fn linked_authenticate_inner(
        &self,
        version: AuthenticateVersion,
        request: LinkedAuthenticateRequest,
    ) -> Result<LinkedAuthenticateResponse> {
        let wallet = self.wallet()?;
        let linked_id = non_blank(request.linked_transaction_id.as_deref())
            .ok_or(Error::code(codes::INVALID_TRANSACTION_ID))?
            .to_owned();
        let individual_id = non_blank(request.individual_id.as_deref())
            .ok_or(Error::code(codes::INVALID_IDENTIFIER))?
            .to_owned();
        challenge::validate(&request.challenge_list)?;
        let mut linked: LinkedTransaction = self
            .flow
            .get(stage::LINKED, &linked_id)
            .await?
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        let hash = individual_id_hash(&individual_id);
        self.ensure_wallet_not_blocked(&hash).await?;
        self.count_wallet_attempt(
            &format!("{linked_id}:authenticate"),
            self.config.authenticate_attempts,
            Some(&hash),
        )
        .await?;
        let presented: Vec<String> = request
            .challenge_list
            .iter()
            .map(|c| c.auth_factor_type.clone())
            .collect();
        self.authenticate_resident(
            &mut linked.transaction,
            &individual_id,
            hash,
            &presented,
            request.challenge_list,
        )
        .await?;
        // Only the caller that removes the linked entry goes on: no double authentication. (A
        // failed authentication above leaves the entry for a retry.)
        let taken: Option<LinkedTransaction> = self.flow.take(stage::LINKED, &linked_id).await?;
        if taken.is_none() {
            return Err(Error::code(codes::INVALID_TRANSACTION));
        }
        let transaction = &mut linked.transaction;
        let consent_action = match version {
            AuthenticateVersion::V1 => None,
            AuthenticateVersion::V2OrV3 => {
                Some(self.evaluate_linked_consent(wallet, transaction).await?)
            }
        };
        transaction.consent_action = consent_action;
        if consent_action == Some(ConsentAction::Nocapture) {
            self.flow
                .put(
                    stage::CONSENTED,
                    &linked_id,
                    &linked,
                    wallet.config.consented_ttl,
                )
                .await?;
            self.notify(&consented_channel(&linked_id), "CONSENTED")
                .await;
        } else {
            self.flow
                .put(
                    stage::LINKED_AUTH,
                    &linked_id,
                    &linked,
                    wallet.config.linked_auth_ttl,
                )
                .await?;
        }
        Ok(LinkedAuthenticateResponse {
            linked_transaction_id: linked_id,
            consent_action,
        })
    }

    /// Consent evaluation of the wallet flow: as the browser's, except that a stored consent
    /// is reused only if it carries a wallet signature that still verifies with the resident's
    /// current binding (eSignet §8.11).
    async fn evaluate_linked_consent(
        &self,
        wallet: &WalletSupport,
        transaction: &mut Transaction,
    ) -> Result<ConsentAction> {
        let action = self.evaluate_consent(transaction).await?;
        let nothing_requested =
            transaction.claims.is_empty() && transaction.authorize_scopes.is_empty();
        if action == ConsentAction::Capture || nothing_requested {
            return Ok(action);
        }
        let psut = transaction.psut.clone().unwrap_or_default();
        let stored = self
            .consents
            .get_consent(&transaction.client_id, &psut)
            .await?;
        let id_hash = transaction.individual_id_hash.clone().unwrap_or_default();
        let verifiable = match stored.as_ref().and_then(|s| s.signature.as_deref()) {
            Some(signature) => self
                .verify_consent_signature(
                    wallet,
                    &id_hash,
                    signature,
                    &transaction.accepted_claims,
                    &transaction.permitted_scopes,
                )
                .await
                .is_ok(),
            None => false,
        };
        if verifiable {
            Ok(ConsentAction::Nocapture)
        } else {
            transaction.accepted_claims.clear();
            transaction.permitted_scopes.clear();
            Ok(ConsentAction::Capture)
        }
    }

    /// `POST /linked-authorization/consent` (v1) and `/v2/consent` (wallet, no CSRF): the
    /// resident's choice, checked as `auth-code` checks it, moves the transaction to
    /// `consented` and wakes the browser. v2 requires the wallet's detached signature over the
    /// canonical consent ([`crate::wla::consent_payload`]), verified with the bound key, and
    /// persists the consent with it; v1 persists nothing (as eSignet).
    ///
    /// Errors: `invalid_transaction_id`, `invalid_accepted_claim`, `invalid_permitted_scope`,
    /// `invalid_signature_format`, `invalid_transaction` (not authenticated, or v2 for a
    /// transaction whose consent was not to be captured), `invalid_token` and the binding codes
    /// (signature), `not_implemented`.
    pub async fn linked_consent(
        &self,
        version: AuthenticateVersion,
        request: LinkedConsentRequest,
    ) -> Result<LinkedConsentResponse> {
        let linked_id = request.linked_transaction_id.clone();
        let outcome = self.linked_consent_inner(version, request).await;
        self.audit(
            AuditAction::SaveConsent,
            outcome.as_ref().map(|_| ()),
            linked_id.as_deref(),
            None,
            None,
        );
        outcome
    }

    async fn linked_consent_inner(
        &self,
        version: AuthenticateVersion,
        request: LinkedConsentRequest,
    ) -> Result<LinkedConsentResponse> {
        let wallet = self.wallet()?;
        let linked_id = non_blank(request.linked_transaction_id.as_deref())
            .ok_or(Error::code(codes::INVALID_TRANSACTION_ID))?
            .to_owned();
        if request.accepted_claims.iter().any(|c| c.trim().is_empty()) {
            return Err(Error::code(codes::INVALID_ACCEPTED_CLAIM));
        }
        if request
            .permitted_authorize_scopes
            .iter()
            .any(|s| s.trim().is_empty())
        {
            return Err(Error::code(codes::INVALID_PERMITTED_SCOPE));
        }
        let signature = match version {
            AuthenticateVersion::V1 => None,
            AuthenticateVersion::V2OrV3 => Some(
                request
                    .signature
                    .clone()
                    .filter(|s| s.split('.').count() == 2 && !s.split('.').any(str::is_empty))
                    .ok_or(Error::code(codes::INVALID_SIGNATURE_FORMAT))?,
            ),
        };
        let mut linked: LinkedTransaction = self
            .flow
            .get(stage::LINKED_AUTH, &linked_id)
            .await?
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        let transaction = &mut linked.transaction;
        if signature.is_some() && transaction.consent_action == Some(ConsentAction::Nocapture) {
            return Err(Error::code(codes::INVALID_TRANSACTION));
        }
        check_choice(
            transaction,
            &request.accepted_claims,
            &request.permitted_authorize_scopes,
        )?;
        if let Some(signature) = &signature {
            let id_hash = transaction.individual_id_hash.clone().unwrap_or_default();
            self.verify_consent_signature(
                wallet,
                &id_hash,
                signature,
                &request.accepted_claims,
                &request.permitted_authorize_scopes,
            )
            .await?;
        }
        let taken: Option<LinkedTransaction> =
            self.flow.take(stage::LINKED_AUTH, &linked_id).await?;
        if taken.is_none() {
            return Err(Error::code(codes::INVALID_TRANSACTION));
        }
        transaction.accepted_claims = dedup(request.accepted_claims);
        transaction.permitted_scopes = dedup(request.permitted_authorize_scopes);
        if signature.is_some() {
            self.save_signed_consent(transaction, signature).await?;
        }
        self.flow
            .put(
                stage::CONSENTED,
                &linked_id,
                &linked,
                wallet.config.consented_ttl,
            )
            .await?;
        self.notify(&consented_channel(&linked_id), "CONSENTED")
            .await;
        Ok(LinkedConsentResponse {
            linked_transaction_id: linked_id,
        })
    }
}

/// The rules of `auth-code`: every essential claim accepted, only requested claims accepted,
/// only requested authorize scopes permitted.
fn check_choice(
    transaction: &Transaction,
    accepted: &[String],
    permitted: &[String],
) -> Result<()> {
    let requested: Vec<&String> = transaction.claims.userinfo.keys().collect();
    let essential = transaction.claims.essential();
    if essential.iter().any(|claim| !accepted.contains(claim))
        || accepted.iter().any(|claim| !requested.contains(&claim))
    {
        return Err(Error::code(codes::INVALID_ACCEPTED_CLAIM));
    }
    if permitted
        .iter()
        .any(|scope| !transaction.authorize_scopes.contains(scope))
    {
        return Err(Error::code(codes::INVALID_PERMITTED_SCOPE));
    }
    Ok(())
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(items.len());
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}
