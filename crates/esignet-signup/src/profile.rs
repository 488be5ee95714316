//! The identity-registry seam (eSignet signup's `ProfileRegistryPlugin`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::envelope::SignupError;

/// `CREATE` (registration) or `UPDATE` (password reset, verified claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileAction {
    /// A new identity.
    Create,
    /// A change to an existing identity.
    Update,
}

/// eSignet signup's `ProfileDto`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The individual id at the registry.
    pub individual_id: String,
    /// `AGREE` on registration; `None` otherwise.
    pub consent: Option<String>,
    /// The identity document (`null` for an unknown individual).
    pub identity: Option<Value>,
    /// Whether the identity exists and is active.
    pub active: bool,
}

/// `ProfileCreateUpdateStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProfileStatus {
    /// Still being processed.
    Pending,
    /// Done.
    Completed,
    /// Failed.
    Failed,
}

/// Where residents are registered and updated. Errors carry the registry's code
/// (`invalid_<field>`, `add_identity_failed`, `server_unreachable` ...) shown to the resident.
/// `request_id` is the transaction's application id: status is asked by it.
#[async_trait]
pub trait ProfileRegistry: Send + Sync {
    /// Checks a profile before it is created or updated (the controller has copied the
    /// password into `identity.password`). `UPDATE` checks only the members present.
    async fn validate(&self, action: ProfileAction, profile: &Profile) -> Result<(), SignupError>;

    /// Creates the identity, all or nothing.
    async fn create(
        &self,
        request_id: &str,
        profile: &Profile,
    ) -> Result<ProfileStatus, SignupError>;

    /// Updates the identity (the password, or `identity.verified_claims`).
    async fn update(
        &self,
        request_id: &str,
        profile: &Profile,
    ) -> Result<ProfileStatus, SignupError>;

    /// Status of an earlier create or update.
    async fn status(&self, request_id: &str) -> Result<ProfileStatus, SignupError>;

    /// The identity of `individual_id`; an unknown individual is `active: false, identity:
    /// None` (not an error).
    async fn get(&self, individual_id: &str) -> Result<Profile, SignupError>;

    /// Whether every member of the KBI `challenge` matches `identity` (password reset).
    fn is_match(&self, identity: &Value, challenge: &Value) -> bool {
        kbi_matches(identity, challenge)
    }

    /// The form of the registration page (`ui_spec_not_found` when the registry has none).
    async fn ui_spec(&self) -> Result<Value, SignupError>;
}

/// eSignet's mock `isMatch`: every challenge member must exist in the identity and equal it;
/// for a language list the challenge's first `{language, value}` must equal one of the
/// identity's entries exactly. An empty challenge matches nothing.
pub fn kbi_matches(identity: &Value, challenge: &Value) -> bool {
    let (Some(identity), Some(challenge)) = (identity.as_object(), challenge.as_object()) else {
        return false;
    };
    if challenge.is_empty() {
        return false;
    }
    challenge.iter().all(|(field, expected)| {
        let Some(actual) = identity.get(field) else {
            return false;
        };
        match (expected, actual) {
            (Value::Array(wanted), Value::Array(held)) => wanted
                .first()
                .is_some_and(|first| held.iter().any(|entry| entry == first)),
            (expected, actual) => expected == actual,
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::kbi_matches;

    #[test]
    fn kbi_matches_fields_and_language_lists() {
        let identity = json!({"fullName": [{"language": "eng", "value": "Ann"}, {"language": "khm", "value": "អាន"}], "phone": "+91123"});
        assert!(kbi_matches(
            &identity,
            &json!({"fullName": [{"language": "khm", "value": "អាន"}]})
        ));
        assert!(!kbi_matches(
            &identity,
            &json!({"fullName": [{"language": "khm", "value": "Ann"}]})
        ));
        assert!(kbi_matches(&identity, &json!({"phone": "+91123"})));
        assert!(!kbi_matches(&identity, &json!({"email": "a@b.c"})));
        assert!(!kbi_matches(&identity, &json!({})));
    }
}
