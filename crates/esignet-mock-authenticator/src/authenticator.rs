//! [`MockAuthenticator`]: the [`Authenticator`] seam over a [`Directory`], a cache and a signer.
//!
//! The identity logic lives in pure functions elsewhere in this crate; this module only keeps
//! the per-transaction state (pending OTPs, KYC tokens) in the injected [`Cache`] and signs.

use std::sync::Arc;

use esignet_spi::{
    AuthChallenge, Authenticator, Cache, Clock, KycAuthRequest, KycAuthResult, KycExchangeRequest,
    KycExchangeResult, PluginError, SendOtpRequest, SendOtpResult, SigningCertificate, TokenSigner,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codes;
use crate::crypto::{random_id, secrets_match, sha3_256_b64u};
use crate::directory::Directory;
use crate::factors::{
    AuthFactor, verify_biometrics_for_transaction, verify_kbi, verify_password, verify_pin,
};
use crate::identity::Identity;
use crate::kyc::{ClaimsRequest, build_kyc_claims, claims_metadata};
use crate::otp::otp_destinations;
use crate::settings::{MockSettings, PsutMode};
use crate::shared_directory::SharedDirectory;

/// Cache namespace of pending OTPs, keyed by SHA3-256-B64U(transactionId + individualId).
pub const OTP_NAMESPACE: &str = "mock_otp";
/// Cache namespace of issued KYC tokens, keyed by SHA3-256-B64U(kycToken).
pub const KYC_NAMESPACE: &str = "mock_kyc";

/// The partner-specific user token (`sub`) of `individual_id` at `relying_party_id`.
///
/// Pairwise: base64url SHA3-256 of the plain concatenation `individualId + relyingPartyId` (the
/// Java mock's formula, so subjects stay stable across the two implementations).
pub fn partner_specific_user_token(
    mode: PsutMode,
    individual_id: &str,
    relying_party_id: &str,
) -> Result<String, PluginError> {
    match mode {
        PsutMode::Pairwise => sha3_256_b64u(&format!("{individual_id}{relying_party_id}"))
            .map_err(|_| internal(codes::UNKNOWN_ERROR, "psut hashing failed")),
        PsutMode::IndividualId => Ok(individual_id.to_owned()),
    }
}

/// What `send_otp` leaves for `kyc_auth`: the hash of the OTP that was "sent".
#[derive(Serialize, Deserialize)]
struct PendingOtp {
    otp_hash: String,
}

/// What `kyc_auth` leaves for the exchange. The individual id is kept only as a hash: the
/// exchange request carries it again and only equality is needed.
#[derive(Serialize, Deserialize)]
struct IssuedKycToken {
    transaction_id: String,
    individual_id_hash: String,
    psut: String,
    /// Unix seconds.
    auth_time: i64,
}

/// The built-in mock identity system behind eSignet's [`Authenticator`] seam.
///
/// Every factor of a `kyc_auth` request must pass. OTPs are the fixed development OTP, valid
/// once, only after `send_otp` for the same transaction and individual, for `otp_ttl`. KYC tokens
/// are single use and valid `kyc_token_ttl`. `WLA` tokens are checked for shape and subject only
/// (the service verifies them against its key registry first); `IDT` challenges are refused with
/// `invalid_auth_factor_type` until the sign-up flow arrives. Biometrics are
/// checked for shape only, never matched. Nothing personal is logged.
pub struct MockAuthenticator {
    directory: SharedDirectory,
    signer: Arc<dyn TokenSigner>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    settings: MockSettings,
}

impl std::fmt::Debug for MockAuthenticator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MockAuthenticator")
            .field("identities", &self.directory.len())
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

impl MockAuthenticator {
    /// A mock over `directory` that keeps OTPs and KYC tokens in `cache`, signs KYC with
    /// `signer` and reads time from `clock`.
    pub fn new(
        directory: Directory,
        signer: Arc<dyn TokenSigner>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
        settings: MockSettings,
    ) -> Self {
        Self::over(
            SharedDirectory::new(directory),
            signer,
            cache,
            clock,
            settings,
        )
    }

    /// A mock over a directory that others may change while it runs (the built-in registry
    /// adds the residents who sign up): every login reads the identity as it is then.
    pub fn over(
        directory: SharedDirectory,
        signer: Arc<dyn TokenSigner>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
        settings: MockSettings,
    ) -> Self {
        Self {
            directory,
            signer,
            cache,
            clock,
            settings,
        }
    }

    /// The identities this mock authenticates.
    pub fn directory(&self) -> &SharedDirectory {
        &self.directory
    }

    /// The settings in force.
    pub fn settings(&self) -> &MockSettings {
        &self.settings
    }

    fn identity(&self, individual_id: &str) -> Result<Identity, PluginError> {
        self.directory
            .get(individual_id)
            .ok_or_else(|| PluginError::new(codes::INVALID_INDIVIDUAL_ID))
    }

    fn otp_key(transaction_id: &str, individual_id: &str) -> Result<String, PluginError> {
        sha3_256_b64u(&format!("{transaction_id}{individual_id}"))
            .map_err(|_| internal(codes::UNKNOWN_ERROR, "otp key hashing failed"))
    }

    fn otp_hash(otp: &str) -> Result<String, PluginError> {
        sha3_256_b64u(otp).map_err(|_| internal(codes::UNKNOWN_ERROR, "otp hashing failed"))
    }

    /// Checks every challenge of `request` for its individual (as `kyc_auth` does, without
    /// issuing a KYC token); used by the key binder.
    pub(crate) async fn check_challenges(
        &self,
        request: &KycAuthRequest,
    ) -> Result<(), PluginError> {
        let identity = self.identity(&request.individual_id)?;
        self.authenticate(&identity, request).await
    }

    /// Checks every challenge; on success the pending OTP (if any) has been consumed.
    async fn authenticate(
        &self,
        identity: &Identity,
        request: &KycAuthRequest,
    ) -> Result<(), PluginError> {
        if request.challenges.is_empty() {
            return Err(rejected(codes::AUTH_FAILED, "no challenge"));
        }
        // Refuse malformed requests before checking anything, so no factor is half-evaluated.
        let mut factors = Vec::with_capacity(request.challenges.len());
        for challenge in &request.challenges {
            let factor = AuthFactor::from_type(&challenge.auth_factor_type)
                .filter(|factor| factor.is_supported())
                .ok_or_else(|| rejected(codes::INVALID_AUTH_FACTOR_TYPE, "factor type"))?;
            if challenge.format != factor.expected_format() {
                return Err(rejected(
                    codes::INVALID_CHALLENGE_FORMAT,
                    "challenge format",
                ));
            }
            factors.push((factor, challenge));
        }

        let mut otp_key = None;
        for (factor, challenge) in factors {
            if factor == AuthFactor::Otp {
                otp_key = Some(self.check_otp(request, challenge).await?);
                continue;
            }
            let passed = match factor {
                AuthFactor::Pin => verify_pin(identity, &challenge.challenge),
                AuthFactor::Password => verify_password(identity, &challenge.challenge),
                AuthFactor::Kbi => verify_kbi(
                    identity,
                    &challenge.challenge,
                    &self.settings.kbi_fields,
                    &self.settings.default_language,
                ),
                AuthFactor::Biometrics => {
                    verify_biometrics_for_transaction(&challenge.challenge, &request.transaction_id)
                }
                AuthFactor::Wallet => {
                    crate::binder::verify_wallet_token(&challenge.challenge, &request.individual_id)
                }
                AuthFactor::Otp | AuthFactor::IdToken => false,
            };
            if !passed {
                tracing::info!(factor = ?factor, "mock kyc-auth challenge failed");
                return Err(PluginError::new(codes::AUTH_FAILED));
            }
        }

        // Consume the OTP last, so that a failing PIN or password does not burn it. `take` is
        // atomic: of two concurrent logins with the same OTP only one gets the entry.
        if let Some(key) = otp_key {
            let taken = self
                .cache
                .take(OTP_NAMESPACE, &key)
                .await
                .map_err(|_| internal(codes::UNKNOWN_ERROR, "cache unavailable"))?;
            if taken.is_none() {
                return Err(rejected(codes::INVALID_TRANSACTION, "otp already used"));
            }
        }
        Ok(())
    }

    /// Checks an OTP challenge against the pending OTP without consuming it; returns its key.
    async fn check_otp(
        &self,
        request: &KycAuthRequest,
        challenge: &AuthChallenge,
    ) -> Result<String, PluginError> {
        if request.transaction_id.trim().is_empty() {
            return Err(rejected(
                codes::INVALID_TRANSACTION_ID,
                "blank transaction id",
            ));
        }
        let key = Self::otp_key(&request.transaction_id, &request.individual_id)?;
        let pending = self
            .cache
            .get(OTP_NAMESPACE, &key)
            .await
            .map_err(|_| internal(codes::UNKNOWN_ERROR, "cache unavailable"))?
            .ok_or_else(|| rejected(codes::INVALID_TRANSACTION, "no pending otp"))?;
        let pending: PendingOtp = serde_json::from_slice(&pending)
            .map_err(|_| internal(codes::UNKNOWN_ERROR, "unreadable pending otp"))?;
        let supplied = Self::otp_hash(&challenge.challenge)?;
        if !secrets_match(supplied.as_bytes(), pending.otp_hash.as_bytes()) {
            return Err(rejected(codes::AUTH_FAILED, "wrong otp"));
        }
        Ok(key)
    }

    /// The shared exchange: both the plain and the verified exchange read `verified_claims` from
    /// the accepted claim details when present.
    async fn exchange(
        &self,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        let invalid_token = || PluginError::new(codes::INVALID_KYC_TOKEN);
        if request.kyc_token.is_empty() {
            return Err(invalid_token());
        }
        let token_key = sha3_256_b64u(&request.kyc_token)
            .map_err(|_| internal(codes::DATA_EXCHANGE_FAILED, "kyc token hashing failed"))?;
        // Taken before any check: a token is spent by its first use, whatever the outcome.
        let issued = self
            .cache
            .take(KYC_NAMESPACE, &token_key)
            .await
            .map_err(|_| internal(codes::DATA_EXCHANGE_FAILED, "cache unavailable"))?
            .ok_or_else(invalid_token)?;
        let issued: IssuedKycToken = serde_json::from_slice(&issued)
            .map_err(|_| internal(codes::DATA_EXCHANGE_FAILED, "unreadable kyc token record"))?;
        let individual_id_hash = sha3_256_b64u(&request.individual_id)
            .map_err(|_| internal(codes::DATA_EXCHANGE_FAILED, "hashing failed"))?;
        let now = self.clock.now();
        // The cache's TTL already expires the record; checking the recorded time as well keeps
        // the guarantee with a cache that evicts lazily or coarsely.
        let age = now.unix_timestamp().saturating_sub(issued.auth_time);
        let ttl = i64::try_from(self.settings.kyc_token_ttl.as_secs()).unwrap_or(i64::MAX);
        if issued.transaction_id != request.transaction_id
            || !secrets_match(
                individual_id_hash.as_bytes(),
                issued.individual_id_hash.as_bytes(),
            )
            || !(0..=ttl).contains(&age)
        {
            tracing::info!("mock kyc-exchange refused a token");
            return Err(invalid_token());
        }
        let identity = self.identity(&request.individual_id)?;

        let mut payload = Map::new();
        payload.insert("sub".to_owned(), Value::from(issued.psut));
        payload.insert("iss".to_owned(), Value::from(self.settings.issuer.as_str()));
        payload.insert("aud".to_owned(), Value::from(client_id));
        payload.insert("iat".to_owned(), Value::from(now.unix_timestamp()));
        let claims = build_kyc_claims(
            &identity,
            &ClaimsRequest {
                accepted_claims: &request.accepted_claims,
                claims_locales: &request.claims_locales,
                verified_claims: request.accepted_claim_details.get("verified_claims"),
                default_language: &self.settings.default_language,
            },
        );
        payload.extend(claims);
        let payload = serde_json::to_vec(&Value::Object(payload))
            .map_err(|_| internal(codes::DATA_EXCHANGE_FAILED, "kyc serialization failed"))?;
        // RSA signing is CPU work of a few hundred microseconds: keep it off the async workers.
        let signer = Arc::clone(&self.signer);
        let encrypted_kyc = tokio::task::spawn_blocking(move || signer.sign_jws(None, &payload))
            .await
            .map_err(|_| internal(codes::DATA_EXCHANGE_FAILED, "kyc signing task failed"))?
            .map_err(|error| {
                tracing::error!(%error, "mock kyc signing failed");
                PluginError::new(codes::DATA_EXCHANGE_FAILED)
            })?;
        Ok(KycExchangeResult { encrypted_kyc })
    }
}

/// A refusal, logged by reason (never with request data).
fn rejected(code: &'static str, reason: &'static str) -> PluginError {
    tracing::info!(code, reason, "mock identity system refused a request");
    PluginError::new(code)
}

/// An infrastructure failure, logged as a warning.
fn internal(code: &'static str, reason: &'static str) -> PluginError {
    tracing::warn!(code, reason, "mock identity system failed");
    PluginError::new(code)
}

#[async_trait::async_trait]
impl Authenticator for MockAuthenticator {
    /// Records a pending OTP (the fixed development OTP; nothing is sent) for
    /// `(transaction_id, individual_id)`, valid `otp_ttl`, and returns the masked destinations.
    /// Errors: `invalid_transaction_id` (blank), `invalid_individual_id`, `invalid_otp_channel`,
    /// `no_email_mobile_found`, `send_otp_failed` (cache down).
    async fn send_otp(
        &self,
        _relying_party_id: &str,
        _client_id: &str,
        request: SendOtpRequest,
    ) -> Result<SendOtpResult, PluginError> {
        if request.transaction_id.trim().is_empty() {
            return Err(rejected(
                codes::INVALID_TRANSACTION_ID,
                "blank transaction id",
            ));
        }
        let identity = self.identity(&request.individual_id)?;
        let destinations = otp_destinations(
            &identity,
            &request.otp_channels,
            &self.settings.otp_channels,
        )?;
        let key = Self::otp_key(&request.transaction_id, &request.individual_id)?;
        let pending = PendingOtp {
            otp_hash: Self::otp_hash(&self.settings.otp)?,
        };
        let pending = serde_json::to_vec(&pending)
            .map_err(|_| internal(codes::SEND_OTP_FAILED, "pending otp serialization failed"))?;
        self.cache
            .put(OTP_NAMESPACE, &key, pending, self.settings.otp_ttl)
            .await
            .map_err(|_| internal(codes::SEND_OTP_FAILED, "cache unavailable"))?;
        Ok(SendOtpResult {
            transaction_id: request.transaction_id,
            masked_email: destinations.masked_email,
            masked_mobile: destinations.masked_mobile,
        })
    }

    fn is_supported_otp_channel(&self, channel: &str) -> bool {
        self.settings
            .otp_channels
            .iter()
            .any(|supported| supported.eq_ignore_ascii_case(channel))
    }

    /// Checks every challenge (all must pass) and issues a single-use KYC token valid
    /// `kyc_token_ttl`. Errors: `invalid_individual_id`, `invalid_auth_factor_type` (unknown,
    /// `WLA`, `IDT`), `invalid_challenge_format`, `invalid_transaction_id`,
    /// `invalid_transaction` (no pending OTP), `auth_failed`, `unknown_error` (cache down).
    async fn kyc_auth(
        &self,
        relying_party_id: &str,
        _client_id: &str,
        claims_metadata_required: bool,
        request: KycAuthRequest,
    ) -> Result<KycAuthResult, PluginError> {
        let identity = self.identity(&request.individual_id)?;
        self.authenticate(&identity, &request).await?;

        let psut = partner_specific_user_token(
            self.settings.psut_mode,
            &request.individual_id,
            relying_party_id,
        )?;
        let kyc_token =
            random_id().map_err(|_| internal(codes::UNKNOWN_ERROR, "randomness failed"))?;
        let token_key = sha3_256_b64u(&kyc_token)
            .map_err(|_| internal(codes::UNKNOWN_ERROR, "kyc token hashing failed"))?;
        let issued = IssuedKycToken {
            transaction_id: request.transaction_id.clone(),
            individual_id_hash: sha3_256_b64u(&request.individual_id)
                .map_err(|_| internal(codes::UNKNOWN_ERROR, "hashing failed"))?,
            psut: psut.clone(),
            auth_time: self.clock.now().unix_timestamp(),
        };
        let issued = serde_json::to_vec(&issued)
            .map_err(|_| internal(codes::UNKNOWN_ERROR, "kyc token serialization failed"))?;
        self.cache
            .put(
                KYC_NAMESPACE,
                &token_key,
                issued,
                self.settings.kyc_token_ttl,
            )
            .await
            .map_err(|_| internal(codes::UNKNOWN_ERROR, "cache unavailable"))?;

        Ok(KycAuthResult {
            kyc_token,
            partner_specific_user_token: psut,
            claims_metadata: if claims_metadata_required {
                claims_metadata(&identity)
            } else {
                Map::new()
            },
        })
    }

    /// The identity's current verification metadata (all its claims, as at authentication).
    async fn claims_metadata(
        &self,
        _relying_party_id: &str,
        _client_id: &str,
        individual_id: &str,
        _claims: &[String],
    ) -> Result<Option<Map<String, Value>>, PluginError> {
        Ok(Some(claims_metadata(&self.identity(individual_id)?)))
    }

    /// Spends the KYC token (it must belong to this transaction and individual, and be younger
    /// than `kyc_token_ttl`, else `invalid_kyc_token`) and returns the signed KYC: a JWS with
    /// `sub` (PSUT), `iss`, `aud` (client id), `iat` and the accepted claims. Always a JWS; the
    /// service encrypts for JWE clients. `data_exchange_failed` if signing fails.
    async fn kyc_exchange(
        &self,
        _relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        self.exchange(client_id, request).await
    }

    /// As [`Authenticator::kyc_exchange`], releasing requested `verified_claims` (see
    /// [`crate::build_kyc_claims`]).
    async fn verified_kyc_exchange(
        &self,
        _relying_party_id: &str,
        client_id: &str,
        request: KycExchangeRequest,
    ) -> Result<KycExchangeResult, PluginError> {
        self.exchange(client_id, request).await
    }

    async fn kyc_signing_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        Ok(self.signer.certificates())
    }
}
