//! The resident's part of the login, called by the login UI: send-otp, authenticate,
//! claim-details and auth-code. Every call proves with the `oauth-details-key` /
//! `oauth-details-hash` headers that it belongs to the transaction and saw its exact details.

use std::time::Duration;

use esignet_spi::{AuditAction, KycAuthRequest};

use crate::api::{
    AuthCodeRequest, AuthCodeResponse, AuthenticateRequest, AuthenticateResponse,
    ClaimDetailsResponse, SendOtpRequest, SendOtpResponse,
};
use crate::error::{Error, Result};
use crate::service::{Core, individual_id_hash};
use crate::signup::{self, RequestCookies};
use crate::transaction::{ConsentAction, Transaction, stage};
use crate::{acr, challenge, claims, codes};

/// The UI APIs guarded by the oauth-details headers, with their own attempt counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UiApi {
    SendOtp,
    Authenticate,
    ClaimDetails,
    AuthCode,
}

impl UiApi {
    fn counter_name(self) -> &'static str {
        match self {
            UiApi::SendOtp => "send-otp",
            UiApi::Authenticate => "authenticate",
            UiApi::ClaimDetails => "claim-details",
            UiApi::AuthCode => "auth-code",
        }
    }
}

/// The `oauth-details-key` and `oauth-details-hash` request headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct DetailsHeaders<'a> {
    /// `oauth-details-key`: the transaction id.
    pub key: Option<&'a str>,
    /// `oauth-details-hash`: base64url SHA-256 of the oauth-details response.
    pub hash: Option<&'a str>,
}

/// Which authenticate endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticateVersion {
    /// Deprecated v1: no consent evaluation.
    V1,
    /// v2 and v3 (v3 adds captcha).
    V2OrV3,
}

impl Core {
    /// The header check of eSignet's filter (§5), plus attempt counting: finds the transaction
    /// in `stage`, compares the hash in constant time, and counts the call.
    ///
    /// With `individual` (a send-otp or authenticate request), the individual's block is read
    /// in the same cache round trip as the transaction, and reported after the header and
    /// attempt checks as `individual_id_blocked`; the transaction records who is trying (the
    /// hashed individual id: always for send-otp, when none is recorded yet for authenticate),
    /// stored back in the round trip that counts the attempt, so exhausting attempts blocks
    /// them.
    async fn guarded_transaction(
        &self,
        api: UiApi,
        stage_name: &'static str,
        headers: DetailsHeaders<'_>,
        body_transaction_id: Option<&str>,
        individual: Option<&str>,
    ) -> Result<Transaction> {
        let key = headers
            .key
            .filter(|k| !k.is_empty())
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        let (transaction, blocked) = match individual {
            None => (self.flow.get::<Transaction>(stage_name, key).await?, false),
            Some(hash) => {
                self.flow
                    .get_with_flag(stage_name, key, stage::BLOCKED, hash)
                    .await?
            }
        };
        let mut transaction = transaction.ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        let hash = headers.hash.unwrap_or_default();
        if !esignet_jose::constant_time_eq(
            hash.as_bytes(),
            transaction.oauth_details_hash.as_bytes(),
        ) {
            return Err(Error::code(codes::INVALID_REQUEST));
        }
        // Stricter than eSignet 1.7: the body must name the same transaction as the header.
        if body_transaction_id.is_some_and(|id| id != key) {
            return Err(Error::code(codes::INVALID_TRANSACTION));
        }
        // Blocking on exhaustion applies to whoever was recorded before this call.
        let recorded = transaction.individual_id_hash.clone();
        let update = match individual {
            Some(hash) if api == UiApi::SendOtp || recorded.is_none() => {
                transaction.individual_id_hash = Some(hash.to_owned());
                Some(self.preauth_remaining(&transaction)?)
            }
            _ => None,
        };
        let limit = match api {
            UiApi::SendOtp => self.config.send_otp_attempts,
            UiApi::Authenticate => self.config.authenticate_attempts,
            UiApi::ClaimDetails => 1,
            UiApi::AuthCode => u64::MAX,
        };
        let counter = format!("{key}:{}", api.counter_name());
        let window = self.config.rate_limit_window;
        let count = match (limit != u64::MAX, update) {
            (true, Some(remaining)) => Some(
                self.flow
                    .count_and_put(
                        (stage::RATE_LIMIT, &counter, window),
                        (stage_name, key),
                        &transaction,
                        remaining,
                    )
                    .await?,
            ),
            (true, None) => Some(
                self.flow
                    .raw()
                    .increment(stage::RATE_LIMIT, &counter, window)
                    .await?,
            ),
            (false, Some(remaining)) => {
                self.flow
                    .put(stage_name, key, &transaction, remaining)
                    .await?;
                None
            }
            (false, None) => None,
        };
        if count.is_some_and(|count| count > limit) {
            if matches!(api, UiApi::SendOtp | UiApi::Authenticate)
                && let Some(hash) = recorded.as_deref()
            {
                self.flow
                    .first_use(stage::BLOCKED, hash, self.config.block_ttl)
                    .await?;
            }
            return Err(Error::code(codes::NO_ATTEMPTS_LEFT));
        }
        if blocked {
            return Err(Error::code(codes::INDIVIDUAL_ID_BLOCKED));
        }
        Ok(transaction)
    }

    /// What is left of the pre-authentication window: updates never extend a transaction.
    fn preauth_remaining(&self, transaction: &Transaction) -> Result<Duration> {
        let deadline = transaction.created_at + self.config.preauth_ttl.as_secs() as i64;
        let remaining = deadline - self.now_unix();
        if remaining <= 0 {
            return Err(Error::code(codes::INVALID_TRANSACTION));
        }
        Ok(Duration::from_secs(remaining as u64))
    }

    /// `POST /authorization/send-otp`.
    pub async fn send_otp(
        &self,
        headers: DetailsHeaders<'_>,
        request: SendOtpRequest,
    ) -> Result<SendOtpResponse> {
        let outcome = self.send_otp_inner(headers, &request).await;
        let hash = request.individual_id.as_deref().map(individual_id_hash);
        self.audit(
            AuditAction::SendOtp,
            outcome.as_ref().map(|_| ()),
            headers.key,
            None,
            hash.as_deref(),
        );
        outcome
    }

    async fn send_otp_inner(
        &self,
        headers: DetailsHeaders<'_>,
        request: &SendOtpRequest,
    ) -> Result<SendOtpResponse> {
        let transaction_id = non_blank(
            request.transaction_id.as_deref(),
            codes::INVALID_TRANSACTION_ID,
        )?;
        let individual_id = non_blank(request.individual_id.as_deref(), codes::INVALID_IDENTIFIER)?;
        if request.otp_channels.is_empty()
            || request.otp_channels.iter().any(|channel| {
                !self
                    .authenticator
                    .is_supported_otp_channel(&channel.to_lowercase())
            })
        {
            return Err(Error::code(codes::INVALID_OTP_CHANNEL));
        }
        self.check_send_otp_captcha(request.captcha_token.as_deref())
            .await?;
        let hash = individual_id_hash(individual_id);
        let transaction = self
            .guarded_transaction(
                UiApi::SendOtp,
                stage::PREAUTH,
                headers,
                Some(transaction_id),
                Some(&hash),
            )
            .await?;
        let result = self
            .authenticator
            .send_otp(
                &transaction.relying_party_id,
                &transaction.client_id,
                esignet_spi::SendOtpRequest {
                    transaction_id: transaction.auth_transaction_id.clone(),
                    individual_id: individual_id.to_owned(),
                    otp_channels: request
                        .otp_channels
                        .iter()
                        .map(|c| c.to_lowercase())
                        .collect(),
                },
            )
            .await?;
        if result.transaction_id != transaction.auth_transaction_id {
            return Err(Error::code(codes::SEND_OTP_FAILED));
        }
        Ok(SendOtpResponse {
            transaction_id: transaction_id.to_owned(),
            masked_email: result.masked_email,
            masked_mobile: result.masked_mobile,
        })
    }

    /// `POST /authorization/{,v2/,v3/}authenticate`.
    pub async fn authenticate(
        &self,
        version: AuthenticateVersion,
        headers: DetailsHeaders<'_>,
        request: AuthenticateRequest,
    ) -> Result<AuthenticateResponse> {
        self.authenticate_with_cookies(version, headers, request, &RequestCookies::default())
            .await
    }

    /// authenticate with the browser's cookies, which the ID-token factor (`IDT`) needs.
    pub async fn authenticate_with_cookies(
        &self,
        version: AuthenticateVersion,
        headers: DetailsHeaders<'_>,
        request: AuthenticateRequest,
        cookies: &RequestCookies,
    ) -> Result<AuthenticateResponse> {
        let hash = request.individual_id.as_deref().map(individual_id_hash);
        let factors = factor_label(&request);
        let outcome = self
            .authenticate_inner(version, headers, request, cookies)
            .await;
        self.metrics.authentication(
            &factors,
            outcome
                .as_ref()
                .map(|_| ())
                .map_err(|error| error.error_code()),
        );
        self.audit(
            AuditAction::Authenticate,
            outcome.as_ref().map(|_| ()),
            headers.key,
            None,
            hash.as_deref(),
        );
        outcome
    }

    async fn authenticate_inner(
        &self,
        version: AuthenticateVersion,
        headers: DetailsHeaders<'_>,
        request: AuthenticateRequest,
        cookies: &RequestCookies,
    ) -> Result<AuthenticateResponse> {
        let transaction_id = non_blank(
            request.transaction_id.as_deref(),
            codes::INVALID_TRANSACTION_ID,
        )?;
        let individual_id = non_blank(request.individual_id.as_deref(), codes::INVALID_IDENTIFIER)?;
        challenge::validate(&request.challenge_list)?;
        self.check_authenticate_captcha(&request.challenge_list, request.captcha_token.as_deref())
            .await?;
        let hash = individual_id_hash(individual_id);
        let mut transaction = self
            .guarded_transaction(
                UiApi::Authenticate,
                stage::PREAUTH,
                headers,
                Some(transaction_id),
                Some(&hash),
            )
            .await?;
        let presented: Vec<String> = request
            .challenge_list
            .iter()
            .map(|c| c.auth_factor_type.clone())
            .collect();
        match request.challenge_list.as_slice() {
            // The ID-token factor is checked here, never by the identity system (§8.13).
            [only] if only.auth_factor_type == signup::IDT => {
                acr::check_factors(&transaction.auth_factors, &presented)?;
                self.authenticate_with_id_token(
                    &mut transaction,
                    individual_id,
                    &only.challenge,
                    cookies,
                )
                .await?;
            }
            _ => {
                self.authenticate_resident(
                    &mut transaction,
                    individual_id,
                    hash,
                    &presented,
                    request.challenge_list,
                )
                .await?;
            }
        }
        let consent_action = match version {
            AuthenticateVersion::V1 => None,
            AuthenticateVersion::V2OrV3 => Some(self.evaluate_consent(&mut transaction).await?),
        };
        transaction.consent_action = consent_action;
        // Single use: only the caller that removes the pre-authentication entry moves it on.
        let moved = self
            .flow
            .move_entry(
                (stage::PREAUTH, transaction_id),
                (stage::AUTHENTICATED, transaction_id),
                &transaction,
                self.config.authenticated_ttl,
            )
            .await?;
        if !moved {
            return Err(Error::code(codes::INVALID_TRANSACTION));
        }
        Ok(AuthenticateResponse {
            transaction_id: transaction_id.to_owned(),
            consent_action,
        })
    }

    /// `GET /authorization/claim-details` (once per transaction).
    pub async fn claim_details(&self, headers: DetailsHeaders<'_>) -> Result<ClaimDetailsResponse> {
        let transaction = self
            .guarded_transaction(
                UiApi::ClaimDetails,
                stage::AUTHENTICATED,
                headers,
                None,
                None,
            )
            .await;
        let outcome = transaction.map(|transaction| {
            let (claim_status, profile_update_required) =
                claims::claim_statuses(&transaction.claims, &transaction.claims_metadata);
            ClaimDetailsResponse {
                transaction_id: transaction.transaction_id,
                consent_action: transaction.consent_action,
                profile_update_required,
                claim_status,
            }
        });
        self.audit(
            AuditAction::ClaimDetails,
            outcome.as_ref().map(|_| ()),
            headers.key,
            None,
            None,
        );
        outcome
    }

    /// `POST /authorization/auth-code`: records the consent and issues the authorization code.
    pub async fn auth_code(
        &self,
        headers: DetailsHeaders<'_>,
        request: AuthCodeRequest,
    ) -> Result<AuthCodeResponse> {
        let outcome = self.auth_code_inner(headers, request).await;
        self.audit(
            AuditAction::GetAuthCode,
            outcome.as_ref().map(|_| ()),
            headers.key,
            None,
            None,
        );
        outcome
    }

    async fn auth_code_inner(
        &self,
        headers: DetailsHeaders<'_>,
        request: AuthCodeRequest,
    ) -> Result<AuthCodeResponse> {
        let transaction_id = non_blank(
            request.transaction_id.as_deref(),
            codes::INVALID_TRANSACTION_ID,
        )?;
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
        let mut transaction = self
            .guarded_transaction(
                UiApi::AuthCode,
                stage::AUTHENTICATED,
                headers,
                Some(transaction_id),
                None,
            )
            .await?;
        if transaction.consent_action != Some(ConsentAction::Nocapture) {
            let requested: Vec<&String> = transaction.claims.userinfo.keys().collect();
            let essential = transaction.claims.essential();
            if essential
                .iter()
                .any(|claim| !request.accepted_claims.contains(claim))
                || request
                    .accepted_claims
                    .iter()
                    .any(|claim| !requested.contains(&claim))
            {
                return Err(Error::code(codes::INVALID_ACCEPTED_CLAIM));
            }
            if request
                .permitted_authorize_scopes
                .iter()
                .any(|scope| !transaction.authorize_scopes.contains(scope))
            {
                return Err(Error::code(codes::INVALID_PERMITTED_SCOPE));
            }
            transaction.accepted_claims = dedup(request.accepted_claims);
            transaction.permitted_scopes = dedup(request.permitted_authorize_scopes);
        }
        // Single use: only the caller that removes the authenticated entry gets a code. The
        // move is one cache step; the code is only handed out once the consent is saved.
        let code = esignet_jose::random_id();
        let code_key = esignet_jose::sha256_b64url(code.as_bytes());
        let moved = self
            .flow
            .move_entry(
                (stage::AUTHENTICATED, transaction_id),
                (stage::AUTH_CODE, &code_key),
                &transaction,
                self.config.auth_code_lifetime,
            )
            .await?;
        if !moved {
            return Err(Error::code(codes::INVALID_TRANSACTION));
        }
        if transaction.consent_action == Some(ConsentAction::Capture)
            && let Err(error) = self.save_consent(&transaction).await
        {
            // No code without its consent: the code that was stored is withdrawn.
            let _ = self.flow.delete(stage::AUTH_CODE, &code_key).await;
            return Err(error);
        }
        Ok(AuthCodeResponse {
            nonce: transaction.nonce,
            state: transaction.state,
            code,
            redirect_uri: transaction.redirect_uri,
        })
    }

    /// The authentication step shared by the browser and the wallet flows: the presented
    /// factors must complete one of the transaction's factor sets, WLA tokens are checked against
    /// the wallet key registry before the identity system sees anything, then the identity
    /// system authenticates and the outcome is recorded on the transaction (the individual id
    /// only sealed and hashed).
    pub(crate) async fn authenticate_resident(
        &self,
        transaction: &mut Transaction,
        individual_id: &str,
        individual_id_hash: String,
        presented: &[String],
        challenges: Vec<esignet_spi::AuthChallenge>,
    ) -> Result<()> {
        acr::check_factors(&transaction.auth_factors, presented)?;
        self.verify_wla_challenges(&challenges, individual_id, &individual_id_hash)
            .await?;
        let metadata_required = transaction.claims.userinfo.keys().any(|claim| {
            transaction
                .claims
                .detail(claim)
                .is_some_and(|d| d.verification.is_some())
        });
        let result = self
            .authenticator
            .kyc_auth(
                &transaction.relying_party_id,
                &transaction.client_id,
                metadata_required,
                KycAuthRequest {
                    transaction_id: transaction.auth_transaction_id.clone(),
                    individual_id: individual_id.to_owned(),
                    challenges,
                },
            )
            .await?;
        if result.kyc_token.is_empty() || result.partner_specific_user_token.is_empty() {
            return Err(Error::code(codes::AUTH_FAILED));
        }
        // As eSignet: the identity system's KYC authentication succeeded (its failures are
        // audited as the enclosing AUTHENTICATE error).
        self.audit(
            AuditAction::DoKycAuth,
            Ok(()),
            Some(&transaction.transaction_id),
            Some(&transaction.client_id),
            Some(&individual_id_hash),
        );
        transaction.individual_id_sealed =
            Some(self.seal_individual_id(individual_id, &transaction.transaction_id)?);
        transaction.individual_id_hash = Some(individual_id_hash);
        transaction.kyc_token = Some(result.kyc_token);
        transaction.psut = Some(result.partner_specific_user_token);
        transaction.auth_time = Some(self.now_unix());
        transaction.claims_metadata = result.claims_metadata;
        transaction.satisfied_acrs = self
            .config
            .acr
            .satisfied(&transaction.acr_values, presented);
        Ok(())
    }
}

fn non_blank<'a>(value: Option<&'a str>, code: &'static str) -> Result<&'a str> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or(Error::code(code))
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

/// The metrics label for the factors presented: the known factor types, sorted and
/// `+`-joined (`OTP+PIN`); an unknown type counts as `other` so a client cannot grow the label
/// set; `none` when nothing was presented.
fn factor_label(request: &AuthenticateRequest) -> String {
    const KNOWN: [&str; 7] = ["BIO", "IDT", "KBI", "OTP", "PIN", "PWD", "WLA"];
    let mut factors: Vec<&str> = request
        .challenge_list
        .iter()
        .map(|challenge| {
            KNOWN
                .iter()
                .find(|known| **known == challenge.auth_factor_type)
                .copied()
                .unwrap_or("other")
        })
        .collect();
    if factors.is_empty() {
        return "none".to_owned();
    }
    factors.sort_unstable();
    factors.dedup();
    factors.join("+")
}
