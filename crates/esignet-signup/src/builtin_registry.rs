//! [`BuiltInRegistry`]: [`ProfileRegistry`] over the built-in mock identity system's own
//! directory ([`RegisteredIdentities`]), so that signup works with the embedded defaults
//! (`authenticator.kind = "mock"`): a resident who registers logs in through the same process
//! at once, and the identity is kept in the embedded store.
//!
//! It answers as [`MockIdentityRegistry`](crate::MockIdentityRegistry) does over HTTP: the
//! same documents (the registry's `individualId` added, a photo as a data URL), the same schema
//! (the mock identity system's signup schema) and the same error codes reaching the resident
//! (`invalid_<field>`, `duplicate_individual_id`, `invalid_individual_id` ...). Everything is
//! done once the call returns, so status is always `COMPLETED`.

use std::sync::Arc;

use async_trait::async_trait;
use esignet_mock_authenticator::{RegisteredIdentities, signup_ui_spec};
use serde_json::{Map, Value, json};

use crate::codes;
use crate::envelope::SignupError;
use crate::profile::{Profile, ProfileAction, ProfileRegistry, ProfileStatus};

/// The in-process registry.
pub struct BuiltInRegistry {
    identities: Arc<RegisteredIdentities>,
    identifier_field: String,
}

impl BuiltInRegistry {
    /// A registry writing to `identities`; `identifier_field` is the identity member holding
    /// the username (`phone`, eSignet's `mosip.signup.identifier.name`).
    pub fn new(identities: Arc<RegisteredIdentities>, identifier_field: impl Into<String>) -> Self {
        Self {
            identities,
            identifier_field: identifier_field.into(),
        }
    }
}

/// The identity object of a profile, or `invalid_userinfo`.
fn identity_of(profile: &Profile) -> Result<&Map<String, Value>, SignupError> {
    profile
        .identity
        .as_ref()
        .and_then(Value::as_object)
        .ok_or_else(|| SignupError::new(codes::INVALID_USERINFO))
}

fn refused(error: esignet_mock_authenticator::RegistryError) -> SignupError {
    SignupError::new(&error.code)
}

#[async_trait]
impl ProfileRegistry for BuiltInRegistry {
    async fn validate(&self, action: ProfileAction, profile: &Profile) -> Result<(), SignupError> {
        let identity = identity_of(profile)?;
        if action == ProfileAction::Create
            && identity.get(&self.identifier_field).and_then(Value::as_str)
                != Some(profile.individual_id.as_str())
        {
            return Err(SignupError::new(codes::IDENTIFIER_MISMATCH));
        }
        Ok(())
    }

    async fn create(
        &self,
        _request_id: &str,
        profile: &Profile,
    ) -> Result<ProfileStatus, SignupError> {
        let mut identity = identity_of(profile)?.clone();
        identity.insert("individualId".into(), json!(profile.individual_id));
        // The signup page sends a photo as {"value": <base64>}; the mock keeps a data URL.
        if let Some(Value::Object(photo)) = identity.get("encodedPhoto")
            && let Some(data) = photo.get("value").and_then(Value::as_str)
        {
            let url = format!("data:image/jpeg;base64,{data}");
            identity.insert("encodedPhoto".into(), json!(url));
        }
        self.identities.create(identity).await.map_err(refused)?;
        Ok(ProfileStatus::Completed)
    }

    async fn update(
        &self,
        _request_id: &str,
        profile: &Profile,
    ) -> Result<ProfileStatus, SignupError> {
        let identity = identity_of(profile)?;
        match identity.get("verified_claims") {
            Some(Value::Object(claims)) => self
                .identities
                .add_verified_claims(&profile.individual_id, claims, true)
                .await
                .map_err(refused)?,
            // The HTTP mock refuses a verification detail that is not an object.
            Some(_) => return Err(SignupError::new(codes::INVALID_REQUEST)),
            None => self
                .identities
                .update(&profile.individual_id, identity.clone())
                .await
                .map_err(refused)?,
        }
        Ok(ProfileStatus::Completed)
    }

    async fn status(&self, _request_id: &str) -> Result<ProfileStatus, SignupError> {
        Ok(ProfileStatus::Completed)
    }

    async fn get(&self, individual_id: &str) -> Result<Profile, SignupError> {
        let document = self.identities.document(individual_id);
        Ok(Profile {
            individual_id: individual_id.to_owned(),
            consent: None,
            active: document.is_some(),
            identity: document.map(Value::Object),
        })
    }

    async fn ui_spec(&self) -> Result<Value, SignupError> {
        Ok(signup_ui_spec())
    }
}

#[cfg(test)]
#[path = "builtin_registry_tests.rs"]
mod tests;
