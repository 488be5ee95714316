//! [`ProfileRegistry`] over the mock identity system's HTTP API (eSignet's
//! `MockProfileRegistryPluginImpl`): `POST /identity`, `PUT /identity`,
//! `POST /identity/add-verified-claim`, `GET /identity/{id}`, `GET /identity/ui-spec`.
//!
//! `validate` checks what the signup service itself requires (the identifier member equals the
//! username); the registry's schema is enforced by `POST /identity` itself, all or nothing, and
//! its `invalid_<field>` codes reach the resident unchanged. Status is always `COMPLETED` once
//! the call returned, as in eSignet's mock plugin.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use esignet_spi::Clock;
use serde_json::{Value, json};

use crate::codes;
use crate::envelope::{SignupError, format_time};
use crate::profile::{Profile, ProfileAction, ProfileRegistry, ProfileStatus};

/// The mock identity system's code for an unknown individual.
const UNKNOWN_INDIVIDUAL: &str = "invalid_individual_id";

/// The HTTP registry.
pub struct MockIdentityRegistry {
    base_url: String,
    identifier_field: String,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl MockIdentityRegistry {
    /// A registry at `base_url` (`http://host:8082/v1/mock-identity-system`); `identifier_field`
    /// is the identity member holding the username (`phone`, eSignet's
    /// `mosip.signup.identifier.name`).
    pub fn new(
        base_url: impl Into<String>,
        identifier_field: impl Into<String>,
        timeout: Duration,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            identifier_field: identifier_field.into(),
            http: reqwest::Client::builder().timeout(timeout).build()?,
            clock,
        })
    }

    fn wrap(&self, request: Value) -> Value {
        json!({"requestTime": format_time(self.clock.now()), "request": request})
    }

    /// Sends a request and returns `response`, or the first error code of the envelope.
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        failure: &str,
    ) -> Result<Value, SignupError> {
        let response = request.send().await.map_err(|error| {
            tracing::warn!(%error, "identity registry unreachable");
            SignupError::new(codes::SERVER_UNREACHABLE)
        })?;
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), "identity registry answered an HTTP error");
            return Err(SignupError::new(failure));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|_| SignupError::new(failure))?;
        if let Some(code) = body
            .get("errors")
            .and_then(Value::as_array)
            .and_then(|errors| errors.first())
            .and_then(|error| error.get("errorCode"))
            .and_then(Value::as_str)
        {
            return Err(SignupError::new(code));
        }
        Ok(body.get("response").cloned().unwrap_or(Value::Null))
    }
}

#[async_trait]
impl ProfileRegistry for MockIdentityRegistry {
    async fn validate(&self, action: ProfileAction, profile: &Profile) -> Result<(), SignupError> {
        let Some(identity) = profile.identity.as_ref().and_then(Value::as_object) else {
            return Err(SignupError::new(codes::INVALID_USERINFO));
        };
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
        let mut identity = profile
            .identity
            .clone()
            .and_then(|v| v.as_object().cloned())
            .ok_or_else(|| SignupError::new(codes::INVALID_USERINFO))?;
        identity.insert("individualId".into(), json!(profile.individual_id));
        // The signup page sends a photo as {"value": <base64>}; the mock keeps a data URL.
        if let Some(Value::Object(photo)) = identity.get("encodedPhoto")
            && let Some(data) = photo.get("value").and_then(Value::as_str)
        {
            let url = format!("data:image/jpeg;base64,{data}");
            identity.insert("encodedPhoto".into(), json!(url));
        }
        let url = format!("{}/identity", self.base_url);
        self.call(
            self.http
                .post(url)
                .json(&self.wrap(Value::Object(identity))),
            codes::ADD_IDENTITY_FAILED,
        )
        .await?;
        Ok(ProfileStatus::Completed)
    }

    async fn update(
        &self,
        _request_id: &str,
        profile: &Profile,
    ) -> Result<ProfileStatus, SignupError> {
        let identity = profile
            .identity
            .as_ref()
            .and_then(Value::as_object)
            .ok_or_else(|| SignupError::new(codes::INVALID_USERINFO))?;
        if let Some(claims) = identity.get("verified_claims") {
            let url = format!("{}/identity/add-verified-claim", self.base_url);
            let request = json!({
                "individualId": profile.individual_id,
                "verificationDetail": claims,
                "active": true,
            });
            self.call(
                self.http.post(url).json(&self.wrap(request)),
                codes::UNKNOWN_ERROR,
            )
            .await?;
        } else {
            let mut patch = identity.clone();
            patch.insert("individualId".into(), json!(profile.individual_id));
            let url = format!("{}/identity", self.base_url);
            self.call(
                self.http.put(url).json(&self.wrap(Value::Object(patch))),
                codes::RESET_PWD_FAILED,
            )
            .await?;
        }
        Ok(ProfileStatus::Completed)
    }

    async fn status(&self, _request_id: &str) -> Result<ProfileStatus, SignupError> {
        Ok(ProfileStatus::Completed)
    }

    async fn get(&self, individual_id: &str) -> Result<Profile, SignupError> {
        let mut url = reqwest::Url::parse(&format!("{}/identity/", self.base_url))
            .map_err(|_| SignupError::new(codes::SERVER_UNREACHABLE))?;
        url.path_segments_mut()
            .map_err(|_| SignupError::new(codes::SERVER_UNREACHABLE))?
            .pop_if_empty()
            .push(individual_id);
        match self.call(self.http.get(url), codes::UNKNOWN_ERROR).await {
            Ok(identity) => Ok(Profile {
                individual_id: individual_id.to_owned(),
                consent: None,
                identity: Some(identity),
                active: true,
            }),
            Err(error) if error.code == UNKNOWN_INDIVIDUAL => Ok(Profile {
                individual_id: individual_id.to_owned(),
                consent: None,
                identity: None,
                active: false,
            }),
            Err(error) => Err(error),
        }
    }

    async fn ui_spec(&self) -> Result<Value, SignupError> {
        let url = format!("{}/identity/ui-spec", self.base_url);
        self.call(self.http.get(url), codes::UI_SPEC_NOT_FOUND)
            .await
            .map_err(|error| {
                if error.code == codes::SERVER_UNREACHABLE {
                    error
                } else {
                    SignupError::new(codes::UI_SPEC_NOT_FOUND)
                }
            })
    }
}
