//! The service state shared by the handlers, and the bridge to the identity logic of
//! `esignet-mock-authenticator`.
//!
//! Every authentication request builds a [`MockAuthenticator`] over a one-identity
//! [`Directory`] holding the identity just read from the database. That reuses the built-in
//! mock's whole behaviour (factor checks, atomic single-use OTPs, single-use KYC tokens, pairwise
//! subjects, KYC building and signing) instead of re-implementing it, while identities stay
//! editable: a directory is immutable, so one over every identity would have to be rebuilt on
//! each write. Building one costs a clone of the settings and a map of one entry.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use esignet_cache_memory::MemoryCache;
use esignet_keys::KeyManager;
use esignet_mock_authenticator::{
    Directory, Identity, MockAuthenticator, MockSettings, VerifiedClaim, claim_for_field,
};
use esignet_spi::{Clock, StoreError};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::codes;
use crate::envelope::{ApiError, ApiResult, envelope};
use crate::store::{IdentityStore, VerifiedClaimRow};

/// What every handler sees.
pub(crate) struct MockIdentityState {
    pub store: IdentityStore,
    pub signer: Arc<KeyManager>,
    /// The binding CA keys that certify wallet keys (`MOCK_BINDING_SERVICE`).
    pub binding_keys: Arc<KeyManager>,
    /// Validity of the binding certificates issued.
    pub certificate_validity: time::Duration,
    pub cache: Arc<MemoryCache>,
    pub clock: Arc<dyn Clock>,
    pub settings: MockSettings,
    pub response_delay: Duration,
    /// Which members a create requires.
    pub schema: crate::SchemaProfile,
    /// Delivers login OTPs, when configured.
    pub notifier: Option<Arc<dyn esignet_spi::Notifier>>,
    /// Serializes the read-modify-write operations (identity update, add-verified-claim) of
    /// this process, which is the only writer of its database file.
    pub writes: tokio::sync::Mutex<()>,
}

pub(crate) type SharedState = Arc<MockIdentityState>;

impl MockIdentityState {
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The standard envelope around `result`, stamped with the clock's time.
    pub(crate) fn respond(&self, result: ApiResult) -> Response {
        envelope(self.now(), result)
    }

    /// The artificial latency of the slow-backend model (after send-otp, kyc-auth and
    /// kyc-exchange, whatever their outcome, as the Java mock sleeps).
    pub(crate) async fn delay(&self) {
        if !self.response_delay.is_zero() {
            tokio::time::sleep(self.response_delay).await;
        }
    }

    /// The stored identity document, if any.
    pub(crate) async fn identity_document(
        &self,
        individual_id: &str,
    ) -> Result<Option<Map<String, Value>>, ApiError> {
        let Some(json) = self
            .store
            .identity_json(individual_id)
            .await
            .map_err(|error| store_failure("read identity", &error))?
        else {
            return Ok(None);
        };
        match serde_json::from_str(&json) {
            Ok(Value::Object(document)) => Ok(Some(document)),
            _ => {
                tracing::error!("stored identity document is not a JSON object");
                Err(ApiError::code(codes::UNKNOWN_ERROR))
            }
        }
    }

    /// The identity as the identity logic models it, with its verified claims when
    /// `with_claims`.
    pub(crate) async fn identity(
        &self,
        individual_id: &str,
        with_claims: bool,
    ) -> Result<Option<Identity>, ApiError> {
        let Some(document) = self.identity_document(individual_id).await? else {
            return Ok(None);
        };
        let mut identity = identity_from_document(&document)?;
        if with_claims {
            let rows = self
                .store
                .verified_claims(individual_id)
                .await
                .map_err(|error| store_failure("read verified claims", &error))?;
            identity.verified_claims = verified_claims_of(&rows);
        }
        Ok(Some(identity))
    }

    /// The built-in mock's authenticator over `identity` alone (or over nobody).
    pub(crate) fn authenticator(
        &self,
        identity: Option<Identity>,
    ) -> Result<MockAuthenticator, ApiError> {
        let directory = Directory::from_identities(identity).map_err(|error| {
            // The message names fields, never values.
            tracing::error!(%error, "stored identity breaks the identity rules");
            ApiError::code(codes::UNKNOWN_ERROR)
        })?;
        Ok(MockAuthenticator::new(
            directory,
            self.signer.clone(),
            self.cache.clone(),
            self.clock.clone(),
            self.settings.clone(),
        ))
    }
}

/// Logs a database failure and returns `unknown_error`.
pub(crate) fn store_failure(operation: &'static str, error: &StoreError) -> ApiError {
    tracing::warn!(operation, %error, "mock identity database failure");
    ApiError::code(codes::UNKNOWN_ERROR)
}

/// Reads a stored or prepared document into the identity model and checks the model's rules
/// (the same checks the built-in mock applies to its directory), so that whatever is stored can
/// later be authenticated. Violations name the field, never its value.
pub(crate) fn identity_from_document(document: &Map<String, Value>) -> Result<Identity, ApiError> {
    let identity: Identity = serde_json::from_value(Value::Object(document.clone()))
        .map_err(|_| ApiError::invalid_request("request: is not an identity document"))?;
    match Directory::from_identities([identity.clone()]) {
        Ok(_) => Ok(identity),
        Err(error) => Err(ApiError::invalid_request(&error.to_string())),
    }
}

/// Rebuilds the model's verifications from rows: rows with the same metadata and activity form
/// one verification covering all their fields (as they were registered), in first-row order.
pub(crate) fn verified_claims_of(rows: &[VerifiedClaimRow]) -> Vec<VerifiedClaim> {
    let mut claims: Vec<VerifiedClaim> = Vec::new();
    for row in rows {
        let Ok(Value::Object(verification)) = serde_json::from_str::<Value>(&row.detail) else {
            tracing::warn!("skipping a verified-claim row with unreadable metadata");
            continue;
        };
        match claims
            .iter_mut()
            .find(|claim| claim.active == row.active && claim.verification == verification)
        {
            Some(claim) => {
                if !claim.fields.contains(&row.field) {
                    claim.fields.push(row.field.clone());
                }
            }
            None => claims.push(VerifiedClaim {
                fields: vec![row.field.clone()],
                active: row.active,
                verification,
            }),
        }
    }
    claims
}

/// The row recording that `field` of `individual_id` was verified with `verification` (whose
/// `trust_framework` is `trust_framework`). `None` if `field` is not a claim field.
pub(crate) fn claim_row(
    individual_id: &str,
    field: &str,
    trust_framework: &str,
    verification: &Map<String, Value>,
    active: bool,
) -> Option<VerifiedClaimRow> {
    let claim = claim_for_field(field)?;
    let id = esignet_jose::sha3_256_b64url(
        format!(
            "{individual_id}{}{field}",
            trust_framework.to_ascii_lowercase()
        )
        .as_bytes(),
    );
    Some(VerifiedClaimRow {
        id,
        field: field.to_owned(),
        claim: claim.to_owned(),
        trust_framework: trust_framework.to_owned(),
        detail: Value::Object(verification.clone()).to_string(),
        active,
    })
}

/// Inserts each demo persona of the built-in mock that is not stored yet (an identity already
/// present, perhaps edited, is left alone), with its verifications as verified-claim rows.
/// Returns how many were inserted.
pub(crate) async fn seed_demo(store: &IdentityStore, now: OffsetDateTime) -> anyhow::Result<usize> {
    let directory = Directory::demo()?;
    let mut inserted = 0;
    for identity in &directory {
        let mut document = serde_json::to_value(identity)?;
        if let Some(object) = document.as_object_mut() {
            // Verifications live in their own table, as in the Java mock.
            object.remove("verifiedClaims");
        }
        let mut rows = Vec::new();
        for verified in &identity.verified_claims {
            let trust_framework = verified.trust_framework().unwrap_or_default();
            rows.extend(verified.fields.iter().filter_map(|field| {
                claim_row(
                    &identity.individual_id,
                    field,
                    trust_framework,
                    &verified.verification,
                    verified.active,
                )
            }));
        }
        if store
            .seed_identity(&identity.individual_id, &document.to_string(), &rows, now)
            .await?
        {
            inserted += 1;
        }
    }
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn verification(framework: &str) -> Map<String, Value> {
        match json!({"trust_framework": framework, "time": "2024-01-01T00:00:00Z"}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn rows_with_the_same_verification_regroup() {
        let eidas = verification("eidas");
        let rows = vec![
            claim_row("1", "fullName", "eidas", &eidas, true).unwrap(),
            claim_row("1", "dateOfBirth", "eidas", &eidas, true).unwrap(),
            claim_row("1", "phone", "nist", &verification("nist"), true).unwrap(),
            claim_row("1", "email", "eidas", &eidas, false).unwrap(),
        ];
        let claims = verified_claims_of(&rows);
        assert_eq!(claims.len(), 3);
        assert_eq!(claims[0].fields, ["fullName", "dateOfBirth"]);
        assert_eq!(claims[1].fields, ["phone"]);
        assert!(!claims[2].active);
    }

    #[test]
    fn row_ids_follow_the_java_formula_and_address_members_collapse() {
        let row = claim_row("1", "locality", "EIDAS", &verification("EIDAS"), true).unwrap();
        assert_eq!(row.id, esignet_jose::sha3_256_b64url(b"1eidaslocality"));
        assert_eq!(row.claim, "address");
        assert!(claim_row("1", "pin", "eidas", &verification("eidas"), true).is_none());
    }
}
