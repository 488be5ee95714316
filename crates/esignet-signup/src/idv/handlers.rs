//! `POST /identity-verification/initiate`, `GET /identity-verification/identity-verifier/{id}`,
//! `POST /identity-verification/slot` and `GET /identity-verification/status`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use esignet_spi::AuditAction;
use serde::Deserialize;
use serde_json::{Value, json};

use super::IdvService;
use super::catalogue::is_safe_id;
use super::transaction::{
    self as idv_txn, IDV_SLOT_ALLOTTED, IDV_TRANSACTION_ID, IdvTransaction, SLOT_SEPARATOR,
    split_slot_cookie,
};
use super::verifier::VerificationStatus;
use crate::codes;
use crate::crypto::{self, sha3_b64u};
use crate::envelope::SignupError;
use crate::http;
use crate::profile::{Profile, ProfileStatus};
use crate::registration::{CookieChange, Outcome, unavailable};

const INVALID_AUTHORIZATION_CODE: &str = "invalid_authorization_code";
const INVALID_STATE: &str = "invalid_state";
const INVALID_IDENTITY_VERIFIER_ID: &str = "invalid_identity_verifier_id";
const INVALID_DISABILITY_TYPE: &str = "invalid_disability_type";
const SLOT_NOT_AVAILABLE: &str = "slot_not_available";
const IDENTITY_VERIFICATION_FAILED: &str = "identity_verification_failed";
const DISABILITY_TYPES: [&str; 4] = ["VISION", "AUDITORY", "MOBILITY", "NEUROLOGICAL"];

type Shared = State<Arc<IdvService>>;

impl IdvService {
    pub(crate) async fn load(
        &self,
        namespace: &str,
        key: &str,
    ) -> Result<IdvTransaction, SignupError> {
        let bytes = self
            .base
            .deps
            .cache
            .get(namespace, key)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| SignupError::new(codes::INVALID_TRANSACTION))?;
        serde_json::from_slice(&bytes).map_err(|_| SignupError::new(codes::INVALID_TRANSACTION))
    }

    pub(crate) async fn take(
        &self,
        namespace: &str,
        key: &str,
    ) -> Result<IdvTransaction, SignupError> {
        let bytes = self
            .base
            .deps
            .cache
            .take(namespace, key)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| SignupError::new(codes::INVALID_TRANSACTION))?;
        serde_json::from_slice(&bytes).map_err(|_| SignupError::new(codes::INVALID_TRANSACTION))
    }

    /// Stores `transaction` under `namespace/key` until its `expires_at_ms`.
    pub(crate) async fn store(
        &self,
        namespace: &str,
        key: &str,
        transaction: &IdvTransaction,
    ) -> Result<(), SignupError> {
        let remaining = transaction.expires_at_ms.saturating_sub(self.base.now_ms());
        let remaining = u64::try_from(remaining)
            .ok()
            .filter(|ms| *ms > 0)
            .ok_or_else(|| SignupError::new(codes::INVALID_TRANSACTION))?;
        let bytes =
            serde_json::to_vec(transaction).map_err(|_| SignupError::new(codes::UNKNOWN_ERROR))?;
        self.base
            .deps
            .cache
            .put(namespace, key, bytes, Duration::from_millis(remaining))
            .await
            .map_err(unavailable)
    }

    /// Frees a seat held by `slot_id` (a no-op when it was already freed or taken over).
    pub(crate) async fn release_seat(&self, seat: u64, slot_id: &str) {
        let key = seat.to_string();
        let cache = &self.base.deps.cache;
        match cache.get(idv_txn::SEATS, &key).await {
            Ok(Some(holder)) if holder == slot_id.as_bytes() => {
                if let Err(error) = cache.delete(idv_txn::SEATS, &key).await {
                    tracing::warn!(%error, "cannot free an identity verification seat");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot free an identity verification seat"),
        }
    }

    /// Takes a free seat for `slot_id`, trying each seat once from a random start (so
    /// parallel requests rarely contend for the same one). `None` when all are taken.
    async fn take_seat(&self, slot_id: &str) -> Result<Option<u64>, SignupError> {
        let count = self.settings().slot_max_count.max(1);
        let start = crypto::random_bytes(8)?
            .iter()
            .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte))
            % count;
        let ttl = idv_txn::seat_ttl(
            self.settings().slot_allotted_ttl,
            self.settings().verified_slot_ttl,
        );
        for step in 0..count {
            let seat = (start + step) % count;
            let taken = self
                .base
                .deps
                .cache
                .put_if_absent(
                    idv_txn::SEATS,
                    &seat.to_string(),
                    slot_id.as_bytes().to_vec(),
                    ttl,
                )
                .await
                .map_err(unavailable)?;
            if taken {
                return Ok(Some(seat));
            }
        }
        Ok(None)
    }

    /// Reports the verification's state to the provider's halted login; a failure is logged
    /// (the resident's next status poll reports again).
    pub(crate) async fn report(&self, transaction: &IdvTransaction) {
        if let Err(error) = self
            .reporter
            .report(
                &transaction.halted_transaction_id,
                transaction.status,
                transaction.error_code.as_deref(),
            )
            .await
        {
            tracing::info!(code = %error.code, "the halted login did not take the verification status");
        }
    }

    fn audited(
        &self,
        action: AuditAction,
        transaction_id: Option<&str>,
        result: Outcome,
    ) -> Response {
        self.base.audit(action, transaction_id, &result);
        self.base.respond(result)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitiateRequest {
    authorization_code: Option<String>,
    state: Option<String>,
}

/// `POST /identity-verification/initiate`.
pub(crate) async fn initiate(State(idv): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if !http::csrf_ok(&headers) {
        return crate::registration::forbidden();
    }
    let result = async {
        let request: InitiateRequest = idv.base.unwrap(&body)?;
        let code = request
            .authorization_code
            .filter(|code| !code.trim().is_empty())
            .ok_or_else(|| SignupError::field("authorizationCode", INVALID_AUTHORIZATION_CODE))?;
        request
            .state
            .filter(|state| !state.trim().is_empty())
            .ok_or_else(|| SignupError::field("state", INVALID_STATE))?;
        let grant = idv.grant.exchange(&code).await?;
        let transaction_id =
            crypto::transaction_id(idv.base.now().unix_timestamp_nanos() / 1_000_000)?;
        let ttl = idv.settings().idv_txn_ttl;
        let transaction = IdvTransaction {
            slot_id: sha3_b64u(transaction_id.as_bytes())?,
            transaction_id: transaction_id.clone(),
            sealed_individual_id: crypto::seal(
                &idv.base.deps.transaction_key,
                &grant.individual_id,
            )?,
            halted_transaction_id: grant.halted_transaction_id,
            application_id: uuid::Uuid::new_v4().to_string(),
            verifier_id: None,
            disability_type: None,
            status: VerificationStatus::Started,
            error_code: None,
            seat: None,
            expires_at_ms: idv.base.expiry(ttl),
        };
        idv.store(idv_txn::IDV, &transaction_id, &transaction)
            .await?;
        let body = json!({"identityVerifiers": idv.catalogue.verifiers()});
        Ok((
            body,
            vec![CookieChange::set(IDV_TRANSACTION_ID, transaction_id, ttl)],
        ))
    }
    .await;
    idv.audited(AuditAction::InitiateIdentityVerification, None, result)
}

/// `GET /identity-verification/identity-verifier/{id}`: the verifier's workflow.
pub(crate) async fn verifier_workflow(
    State(idv): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let cookie = http::cookie(&headers, IDV_TRANSACTION_ID).map(str::to_owned);
    let result = async {
        let transaction_id = cookie.ok_or_else(|| SignupError::new(codes::INVALID_TRANSACTION))?;
        idv.load(idv_txn::IDV, &transaction_id).await?;
        let workflow = Some(id.as_str())
            .filter(|id| is_safe_id(id))
            .and_then(|id| idv.catalogue.workflow(id))
            .ok_or_else(|| SignupError::new(INVALID_IDENTITY_VERIFIER_ID))?;
        Ok((workflow.clone(), Vec::new()))
    }
    .await;
    idv.audited(AuditAction::IdentityVerifier, None, result)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SlotRequest {
    verifier_id: Option<String>,
    consent: Option<String>,
    disability_type: Option<String>,
}

/// `POST /identity-verification/slot`.
pub(crate) async fn slot(State(idv): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if !http::csrf_ok(&headers) {
        return crate::registration::forbidden();
    }
    let cookie = http::cookie(&headers, IDV_TRANSACTION_ID).map(str::to_owned);
    let result = async {
        let request: SlotRequest = idv.base.unwrap(&body)?;
        let verifier_id = request
            .verifier_id
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| SignupError::field("verifierId", INVALID_IDENTITY_VERIFIER_ID))?;
        if request.consent.as_deref() != Some("AGREE") {
            return Err(SignupError::field("consent", codes::CONSENT_REQUIRED));
        }
        if let Some(disability) = request.disability_type.as_deref()
            && !DISABILITY_TYPES.contains(&disability)
        {
            return Err(SignupError::field(
                "disabilityType",
                INVALID_DISABILITY_TYPE,
            ));
        }
        let transaction_id = cookie.ok_or_else(|| SignupError::new(codes::INVALID_TRANSACTION))?;
        let pending = idv.load(idv_txn::IDV, &transaction_id).await?;
        if idv.catalogue.active(&verifier_id).is_none() || !idv.verifiers.contains_key(&verifier_id)
        {
            return Err(SignupError::new(INVALID_IDENTITY_VERIFIER_ID));
        }
        let Some(seat) = idv.take_seat(&pending.slot_id).await? else {
            // The transaction stays: the page asks again after `slot.request.delay`.
            return Err(SignupError::new(SLOT_NOT_AVAILABLE));
        };
        // Single use: of two parallel requests with the same cookie, one gets the slot.
        let mut transaction = match idv.take(idv_txn::IDV, &transaction_id).await {
            Ok(transaction) => transaction,
            Err(error) => {
                idv.release_seat(seat, &pending.slot_id).await;
                return Err(error);
            }
        };
        let allotted_ttl = idv.settings().slot_allotted_ttl;
        transaction.verifier_id = Some(verifier_id.clone());
        transaction.disability_type = request.disability_type;
        transaction.status = VerificationStatus::Started;
        transaction.seat = Some(seat);
        transaction.expires_at_ms = idv.base.expiry(allotted_ttl);
        if let Err(error) = idv
            .store(idv_txn::SLOT_ALLOTTED, &transaction_id, &transaction)
            .await
        {
            idv.release_seat(seat, &transaction.slot_id).await;
            return Err(error);
        }
        let cookie_ttl = allotted_ttl.saturating_add(idv.verification_ttl(Some(&verifier_id)));
        Ok((
            json!({"slotId": transaction.slot_id}),
            vec![
                CookieChange::clear(IDV_TRANSACTION_ID),
                CookieChange::set(
                    IDV_SLOT_ALLOTTED,
                    format!("{transaction_id}{SLOT_SEPARATOR}{}", transaction.slot_id),
                    cookie_ttl,
                ),
            ],
        ))
    }
    .await;
    idv.audited(AuditAction::IdentityVerificationSlot, None, result)
}

/// `GET /identity-verification/status`: advances `RESULTS_READY` (fetch the verdict, write the
/// verified claims) and `UPDATE_PENDING` (registry status), then reports to the halted login.
pub(crate) async fn status(State(idv): Shared, headers: HeaderMap) -> Response {
    let cookie = http::cookie(&headers, IDV_SLOT_ALLOTTED).map(str::to_owned);
    let result = async {
        let (_, slot_id) = cookie
            .as_deref()
            .and_then(split_slot_cookie)
            .ok_or_else(|| SignupError::new(codes::INVALID_TRANSACTION))?;
        let mut transaction = idv.load(idv_txn::VERIFIED_SLOT, slot_id).await?;
        let before = (transaction.status, transaction.error_code.clone());
        advance(&idv, &mut transaction).await;
        if (transaction.status, transaction.error_code.clone()) != before {
            idv.store(idv_txn::VERIFIED_SLOT, slot_id, &transaction)
                .await?;
        }
        idv.report(&transaction).await;
        Ok((json!({"status": transaction.status.as_str()}), Vec::new()))
    }
    .await;
    idv.audited(AuditAction::IdentityVerificationStatus, None, result)
}

async fn advance(idv: &IdvService, transaction: &mut IdvTransaction) {
    match transaction.status {
        VerificationStatus::ResultsReady => {
            let verdict = match transaction
                .verifier_id
                .as_deref()
                .and_then(|id| idv.verifiers.get(id))
            {
                Some(verifier) => verifier.result(&transaction.slot_id).await,
                None => Err(SignupError::new("plugin_not_found")),
            };
            match verdict {
                Ok(verdict) if verdict.status == VerificationStatus::Completed => {
                    if verdict.verified_claims.is_empty() {
                        transaction.status = VerificationStatus::Completed;
                    } else {
                        write_claims(idv, transaction, verdict.verified_claims).await;
                    }
                }
                Ok(verdict) => fail(
                    transaction,
                    verdict
                        .error_code
                        .as_deref()
                        .unwrap_or(IDENTITY_VERIFICATION_FAILED),
                ),
                Err(error) => fail(transaction, &error.code),
            }
        }
        VerificationStatus::UpdatePending => {
            match idv
                .base
                .deps
                .registry
                .status(&transaction.application_id)
                .await
            {
                Ok(ProfileStatus::Pending) => {}
                Ok(ProfileStatus::Completed) => transaction.status = VerificationStatus::Completed,
                Ok(ProfileStatus::Failed) => fail(transaction, IDENTITY_VERIFICATION_FAILED),
                Err(error) => fail(transaction, &error.code),
            }
        }
        VerificationStatus::Started
        | VerificationStatus::Completed
        | VerificationStatus::Failed => {}
    }
}

/// Writes the verified claims to the registry. A registry that completes at once makes the
/// verification `COMPLETED` now (eSignet always passes through `UPDATE_PENDING` first).
async fn write_claims(
    idv: &IdvService,
    transaction: &mut IdvTransaction,
    claims: serde_json::Map<String, Value>,
) {
    let individual_id = match crypto::open(
        &idv.base.deps.transaction_key,
        &transaction.sealed_individual_id,
    ) {
        Ok(id) => id,
        Err(error) => return fail(transaction, &error.code),
    };
    let profile = Profile {
        individual_id,
        consent: None,
        identity: Some(json!({"verified_claims": claims})),
        active: true,
    };
    match idv
        .base
        .deps
        .registry
        .update(&transaction.application_id, &profile)
        .await
    {
        Ok(ProfileStatus::Completed) => transaction.status = VerificationStatus::Completed,
        Ok(ProfileStatus::Pending) => transaction.status = VerificationStatus::UpdatePending,
        Ok(ProfileStatus::Failed) => fail(transaction, IDENTITY_VERIFICATION_FAILED),
        Err(error) => fail(transaction, &error.code),
    }
}

fn fail(transaction: &mut IdvTransaction, code: &str) {
    transaction.status = VerificationStatus::Failed;
    transaction.error_code = Some(code.to_owned());
}
