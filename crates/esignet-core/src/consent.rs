//! The consent registry (eSignet §8.11): when consent must be asked again, and what is stored.

use esignet_spi::{AuditAction, ConsentRecord};
use serde_json::{Map, Value};

use crate::error::Result;
use crate::service::Core;
use crate::transaction::{ConsentAction, Transaction};

/// The hash identifying a consent request: base64url(SHA3-256) of the canonical JSON (keys
/// sorted, string lists sorted) of the requested claims and authorize scopes. A stored consent
/// with a different hash does not cover the request.
pub fn request_hash(transaction: &Transaction) -> String {
    let document = request_document(transaction);
    let canonical = canonical_json(&document);
    esignet_jose::sha3_256_b64url(canonical.as_bytes())
}

fn request_document(transaction: &Transaction) -> Value {
    let scopes: Map<String, Value> = transaction
        .authorize_scopes
        .iter()
        .map(|scope| (scope.clone(), Value::Bool(false)))
        .collect();
    serde_json::json!({
        "claims": {
            "userinfo": Value::Object(transaction.claims.userinfo.clone()),
            "id_token": Value::Object(transaction.claims.id_token.clone()),
        },
        "authorizeScopes": Value::Object(scopes),
    })
}

/// Serializes with object keys sorted and arrays of strings sorted, recursively.
fn canonical_json(value: &Value) -> String {
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by_key(|k| k.to_lowercase());
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), canonical(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => {
                let mut items: Vec<Value> = items.iter().map(canonical).collect();
                if items.iter().all(Value::is_string) {
                    items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                }
                Value::Array(items)
            }
            other => other.clone(),
        }
    }
    canonical(value).to_string()
}

impl Core {
    /// Decides whether consent must be captured for an authenticated transaction, filling the
    /// accepted lists from a stored consent when it can be reused.
    pub(crate) async fn evaluate_consent(
        &self,
        transaction: &mut Transaction,
    ) -> Result<ConsentAction> {
        if transaction.claims.is_empty() && transaction.authorize_scopes.is_empty() {
            transaction.accepted_claims.clear();
            transaction.permitted_scopes.clear();
            return Ok(ConsentAction::Nocapture);
        }
        if transaction.prompt.iter().any(|p| p == "consent") {
            return Ok(ConsentAction::Capture);
        }
        let psut = transaction.psut.clone().unwrap_or_default();
        let looked_up = self
            .consents
            .get_consent(&transaction.client_id, &psut)
            .await
            .map_err(crate::error::Error::from);
        self.audit(
            AuditAction::GetUserConsent,
            looked_up.as_ref().map(|_| ()),
            Some(&transaction.transaction_id),
            Some(&transaction.client_id),
            transaction.individual_id_hash.as_deref(),
        );
        let Some(stored) = looked_up? else {
            return Ok(ConsentAction::Capture);
        };
        if stored
            .expires_at
            .is_some_and(|expiry| expiry <= self.clock.now())
        {
            return Ok(ConsentAction::Capture);
        }
        if stored.hash != request_hash(transaction) {
            return Ok(ConsentAction::Capture);
        }
        transaction.accepted_claims = stored.accepted_claims;
        transaction.permitted_scopes = stored.permitted_scopes;
        Ok(ConsentAction::Nocapture)
    }

    /// Persists the consent just captured (replacing the previous one and appending to the
    /// history), or removes a stale one when nothing was requested.
    pub(crate) async fn save_consent(&self, transaction: &Transaction) -> Result<()> {
        self.save_signed_consent(transaction, None).await
    }

    /// [`Core::save_consent`] with the wallet's detached signature over the consent (linked
    /// consent v2), stored with the record.
    pub(crate) async fn save_signed_consent(
        &self,
        transaction: &Transaction,
        signature: Option<String>,
    ) -> Result<()> {
        let psut = transaction.psut.clone().unwrap_or_default();
        if transaction.claims.is_empty() && transaction.authorize_scopes.is_empty() {
            let deleted = self
                .consents
                .delete_consent(&transaction.client_id, &psut)
                .await
                .map_err(crate::error::Error::from);
            self.audit(
                AuditAction::DeleteUserConsent,
                deleted.as_ref().map(|_| ()),
                Some(&transaction.transaction_id),
                Some(&transaction.client_id),
                transaction.individual_id_hash.as_deref(),
            );
            return deleted;
        }
        let now = self
            .clock
            .now()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| self.clock.now());
        let expires_at = transaction
            .consent_expire_minutes
            .map(|minutes| now + time::Duration::minutes(minutes as i64));
        let document = request_document(transaction);
        let record = ConsentRecord {
            id: uuid::Uuid::new_v4().to_string(),
            client_id: transaction.client_id.clone(),
            psu_token: psut,
            claims: document["claims"].clone(),
            authorization_scopes: document["authorizeScopes"].clone(),
            created_at: now,
            expires_at,
            signature,
            hash: request_hash(transaction),
            accepted_claims: transaction.accepted_claims.clone(),
            permitted_scopes: transaction.permitted_scopes.clone(),
        };
        let outcome = self.consents.save_consent(&record).await;
        let result = outcome.map_err(crate::error::Error::from);
        self.audit(
            AuditAction::SaveConsent,
            result.as_ref().map(|_| ()),
            Some(&transaction.transaction_id),
            Some(&transaction.client_id),
            transaction.individual_id_hash.as_deref(),
        );
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_is_order_independent() {
        let a = serde_json::json!({"b": ["y", "x"], "A": {"d": 1, "c": null}});
        let b = serde_json::json!({"A": {"c": null, "d": 1}, "b": ["x", "y"]});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_ne!(
            canonical_json(&a),
            canonical_json(&serde_json::json!({"b": ["x"]}))
        );
    }
}
