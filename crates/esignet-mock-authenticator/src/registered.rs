//! [`RegisteredIdentities`]: the built-in mock's directory made writable and durable, for the
//! residents who register themselves (signup) and later reset their password or have claims
//! verified.
//!
//! Documents are checked with the mock identity system's signup schema
//! ([`SchemaProfile::Signup`]) and the directory's model rules, so the built-in registry and the
//! HTTP mock accept the same registrations and answer with the same codes
//! (`invalid_<field>`, `unknown_field`, `duplicate_individual_id`, `invalid_individual_id`,
//! `invalid_claim`, `invalid_request`). Every write reaches the [`IdentityRecords`] first and
//! the shared directory only after it was stored, so a failed write changes nothing and a stored
//! one is visible to the next login at once.
//!
//! Deliberate difference from the HTTP mock: passwords are kept as a salted slow hash
//! ([`crate::hash_password_salted`]), not as the Java mock's bare SHA-256.

use std::sync::Arc;

use async_trait::async_trait;
use esignet_spi::StoreError;
use serde_json::{Map, Value};

use crate::codes;
use crate::crypto::hash_password_salted;
use crate::directory::Directory;
use crate::identity::{Identity, VerifiedClaim, claim_for_field};
use crate::schema::{SchemaMode, SchemaProfile, SchemaViolation, validate_for};
use crate::shared_directory::SharedDirectory;

/// Durable storage of registered identities: one JSON document (the [`Identity`] model, with
/// its hashed password and verified claims) per individual id.
#[async_trait]
pub trait IdentityRecords: Send + Sync {
    /// Every stored document.
    async fn load(&self) -> Result<Vec<String>, StoreError>;
    /// Stores a new document; `Conflict` when the individual id is already stored.
    async fn insert(&self, individual_id: &str, document: &str) -> Result<(), StoreError>;
    /// Stores a document, replacing the one of the same individual id if any (a demo persona
    /// is stored on its first change).
    async fn save(&self, individual_id: &str, document: &str) -> Result<(), StoreError>;
}

/// Why a registry operation was refused: the code the HTTP mock answers in the same case, and
/// a message naming fields and rules, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RegistryError {
    /// Stable code (`invalid_email`, `duplicate_individual_id` ...).
    pub code: String,
    /// What is wrong.
    pub message: String,
}

impl RegistryError {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    fn code(code: &str) -> Self {
        Self::new(code, code)
    }
}

impl From<SchemaViolation> for RegistryError {
    fn from(violation: SchemaViolation) -> Self {
        Self {
            code: violation.code,
            message: violation.message,
        }
    }
}

/// The writable, durable side of the built-in mock's directory.
pub struct RegisteredIdentities {
    directory: SharedDirectory,
    records: Arc<dyn IdentityRecords>,
    /// Serializes read-modify-write operations of this process (one process owns the store).
    writes: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for RegisteredIdentities {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RegisteredIdentities")
            .field("identities", &self.directory.len())
            .finish_non_exhaustive()
    }
}

impl RegisteredIdentities {
    /// Loads every stored identity into `directory` (a stored identity replaces a demo persona
    /// of the same individual id: it is that persona after a change) and returns the registry
    /// writing through to `records`.
    ///
    /// # Errors
    ///
    /// The records cannot be read, or a stored document breaks the identity rules (the message
    /// names its position and the field, never a value).
    pub async fn open(
        directory: SharedDirectory,
        records: Arc<dyn IdentityRecords>,
    ) -> anyhow::Result<Self> {
        let documents = records.load().await?;
        for (index, document) in documents.iter().enumerate() {
            let identity: Identity = serde_json::from_str(document).map_err(|_| {
                anyhow::anyhow!("registered identity #{index} is not an identity document")
            })?;
            directory
                .put(identity)
                .map_err(|error| anyhow::anyhow!("registered identity #{index}: {error}"))?;
        }
        if !documents.is_empty() {
            tracing::info!(count = documents.len(), "loaded registered identities");
        }
        Ok(Self {
            directory,
            records,
            writes: tokio::sync::Mutex::new(()),
        })
    }

    /// The directory the registry writes to (the one the mock authenticator reads).
    pub fn directory(&self) -> &SharedDirectory {
        &self.directory
    }

    /// Creates an identity from a document in the HTTP mock's `POST /identity` form (clear-text
    /// `password`, `individualId` included), all or nothing. The first schema violation is the
    /// error; an existing individual id is `duplicate_individual_id`.
    pub async fn create(&self, document: Map<String, Value>) -> Result<(), RegistryError> {
        if let Some(violation) = validate_for(&document, SchemaMode::Create, SchemaProfile::Signup)
            .into_iter()
            .next()
        {
            return Err(violation.into());
        }
        let identity = model(prepare(document)?)?;
        let _writing = self.writes.lock().await;
        if self.directory.contains(&identity.individual_id) {
            return Err(RegistryError::code(codes::DUPLICATE_INDIVIDUAL_ID));
        }
        match self
            .records
            .insert(&identity.individual_id, &serialize(&identity)?)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(RegistryError::code(codes::DUPLICATE_INDIVIDUAL_ID));
            }
            Err(error) => return Err(store_failure("insert identity", &error)),
        }
        self.publish(identity)
    }

    /// Changes members of an existing identity (`PUT /identity`'s shallow merge; `null`
    /// members are ignored; a clear-text `password` is hashed). Unknown individual:
    /// `invalid_individual_id`.
    pub async fn update(
        &self,
        individual_id: &str,
        mut patch: Map<String, Value>,
    ) -> Result<(), RegistryError> {
        patch.insert("individualId".into(), Value::from(individual_id));
        if let Some(violation) = validate_for(&patch, SchemaMode::Update, SchemaProfile::Signup)
            .into_iter()
            .next()
        {
            return Err(violation.into());
        }
        let patch = prepare(patch)?;
        let _writing = self.writes.lock().await;
        let current = self
            .directory
            .get(individual_id)
            .ok_or_else(|| RegistryError::code(codes::INVALID_INDIVIDUAL_ID))?;
        let mut merged = match serde_json::to_value(&current) {
            Ok(Value::Object(document)) => document,
            _ => return Err(RegistryError::code(codes::UNKNOWN_ERROR)),
        };
        merged.extend(patch);
        let identity = model(merged)?;
        self.save(identity).await
    }

    /// Records that the fields named in `details` (field → OpenID Identity Assurance
    /// `verification` with a non-blank `trust_framework`) were verified, as the HTTP mock's
    /// `add-verified-claim`: a field verified again under the same trust framework replaces
    /// its earlier verification.
    pub async fn add_verified_claims(
        &self,
        individual_id: &str,
        details: &Map<String, Value>,
        active: bool,
    ) -> Result<(), RegistryError> {
        if details.is_empty() {
            return Err(RegistryError::new(
                codes::INVALID_REQUEST,
                "verificationDetail: must be a non-empty object of identity field to metadata",
            ));
        }
        let _writing = self.writes.lock().await;
        let mut identity = self
            .directory
            .get(individual_id)
            .ok_or_else(|| RegistryError::code(codes::INVALID_INDIVIDUAL_ID))?;
        for (field, detail) in details {
            if claim_for_field(field).is_none() {
                return Err(RegistryError::new(
                    codes::INVALID_CLAIM,
                    format!("verificationDetail.{field}: is not a claim field"),
                ));
            }
            if identity.field(field).is_none() {
                return Err(RegistryError::new(
                    codes::INVALID_CLAIM,
                    format!("verificationDetail.{field}: the identity has no value for it"),
                ));
            }
            let Value::Object(verification) = detail else {
                return Err(RegistryError::new(
                    codes::INVALID_REQUEST,
                    format!("verificationDetail.{field}: must be an object"),
                ));
            };
            let Some(framework) = verification
                .get("trust_framework")
                .and_then(Value::as_str)
                .filter(|framework| !framework.trim().is_empty())
            else {
                return Err(RegistryError::new(
                    codes::INVALID_REQUEST,
                    format!(
                        "verificationDetail.{field}.trust_framework: is required and must not be blank"
                    ),
                ));
            };
            record_verification(&mut identity, field, framework, verification, active);
        }
        self.save(identity).await
    }

    /// The identity document (without its PIN, password hash and verifications), if any.
    pub fn document(&self, individual_id: &str) -> Option<Map<String, Value>> {
        let identity = self.directory.get(individual_id)?;
        let Ok(Value::Object(mut document)) = serde_json::to_value(&identity) else {
            return None;
        };
        for secret in ["pin", "password", "verifiedClaims"] {
            document.remove(secret);
        }
        // Absent members serialize as null; the HTTP mock's documents leave them out.
        document.retain(|_, value| !value.is_null() && value != &Value::Array(Vec::new()));
        Some(document)
    }

    async fn save(&self, identity: Identity) -> Result<(), RegistryError> {
        self.records
            .save(&identity.individual_id, &serialize(&identity)?)
            .await
            .map_err(|error| store_failure("save identity", &error))?;
        self.publish(identity)
    }

    /// Makes a stored identity visible to logins. It passed the same checks before it was
    /// stored, so this fails only on a broken invariant.
    fn publish(&self, identity: Identity) -> Result<(), RegistryError> {
        self.directory.put(identity).map(|_| ()).map_err(|error| {
            tracing::error!(%error, "a stored identity was refused by the directory");
            RegistryError::code(codes::UNKNOWN_ERROR)
        })
    }
}

/// Drops `null` members (absent and null mean the same) and replaces a clear-text password
/// with its salted hash.
fn prepare(document: Map<String, Value>) -> Result<Map<String, Value>, RegistryError> {
    let mut prepared = Map::with_capacity(document.len());
    for (name, value) in document {
        match (name.as_str(), value) {
            (_, Value::Null) => {}
            ("password", Value::String(password)) => {
                let hashed = hash_password_salted(&password).map_err(|_| {
                    tracing::error!("password hashing failed");
                    RegistryError::code(codes::UNKNOWN_ERROR)
                })?;
                prepared.insert(name, Value::String(hashed));
            }
            (_, value) => {
                prepared.insert(name, value);
            }
        }
    }
    Ok(prepared)
}

/// The document as the identity model, with the directory's rules checked (as the HTTP mock
/// checks what it stores): `invalid_request` naming the field otherwise.
fn model(document: Map<String, Value>) -> Result<Identity, RegistryError> {
    let identity: Identity = serde_json::from_value(Value::Object(document)).map_err(|_| {
        RegistryError::new(
            codes::INVALID_REQUEST,
            "request: is not an identity document",
        )
    })?;
    Directory::from_identities([identity.clone()])
        .map_err(|error| RegistryError::new(codes::INVALID_REQUEST, error.to_string()))?;
    Ok(identity)
}

fn serialize(identity: &Identity) -> Result<String, RegistryError> {
    serde_json::to_string(identity).map_err(|_| RegistryError::code(codes::UNKNOWN_ERROR))
}

fn store_failure(operation: &'static str, error: &StoreError) -> RegistryError {
    tracing::warn!(operation, %error, "registered identity store failure");
    RegistryError::code(codes::UNKNOWN_ERROR)
}

/// Adds the verification of `field`, replacing an earlier one under the same trust framework
/// (case-insensitively, as the HTTP mock's row ids); fields verified by one identical
/// verification share one entry.
fn record_verification(
    identity: &mut Identity,
    field: &str,
    framework: &str,
    verification: &Map<String, Value>,
    active: bool,
) {
    for claim in &mut identity.verified_claims {
        if claim
            .trust_framework()
            .is_some_and(|existing| existing.eq_ignore_ascii_case(framework))
        {
            claim.fields.retain(|covered| covered != field);
        }
    }
    identity
        .verified_claims
        .retain(|claim| !claim.fields.is_empty());
    match identity
        .verified_claims
        .iter_mut()
        .find(|claim| claim.active == active && &claim.verification == verification)
    {
        Some(claim) => claim.fields.push(field.to_owned()),
        None => identity.verified_claims.push(VerifiedClaim {
            fields: vec![field.to_owned()],
            active,
            verification: verification.clone(),
        }),
    }
}

#[cfg(test)]
#[path = "registered_tests.rs"]
mod tests;
