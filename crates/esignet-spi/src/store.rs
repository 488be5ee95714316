//! Durable storage, split by aggregate: clients, consent, keys.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule was violated. The string names the rule: `client_id`,
    /// `public_key` (another client already has this key) or `kid`.
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The record to update does not exist.
    #[error("not found")]
    NotFound,
    /// The database is down, timed out or failed. Nothing was written.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored row could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

/// Whether a client may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClientStatus {
    /// Usable.
    Active,
    /// Registered but refused everywhere.
    Inactive,
}

impl ClientStatus {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Active => "ACTIVE",
            ClientStatus::Inactive => "INACTIVE",
        }
    }

    /// The status spelled `text` ([`ClientStatus::as_str`]), or `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ACTIVE" => Some(ClientStatus::Active),
            "INACTIVE" => Some(ClientStatus::Inactive),
            _ => None,
        }
    }
}

/// A registered relying-party client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// The OAuth `client_id`.
    pub client_id: String,
    /// Display names by language: `{"@none": "Health portal", "fra": "..."}`.
    pub name: Map<String, Value>,
    /// The relying party id given to the identity system (drives the pairwise subject).
    pub relying_party_id: String,
    /// Logo URL shown on the login page.
    pub logo_uri: String,
    /// Registered redirect URI patterns (wildcards allowed).
    pub redirect_uris: Vec<String>,
    /// Claims the client may ask for.
    pub claims: Vec<String>,
    /// ACR values the client may use.
    pub acr_values: Vec<String>,
    /// The public JWK used to verify `private_key_jwt` assertions.
    pub public_key: Value,
    /// base64url(SHA-256) over the key's identifying fields (RSA `n`, EC `x`+`y`); unique.
    pub public_key_hash: String,
    /// Optional public JWK to encrypt userinfo to (eSignet 1.8 `encPublicKey`).
    pub enc_public_key: Option<Value>,
    /// Allowed grant types (`authorization_code`).
    pub grant_types: Vec<String>,
    /// Allowed client authentication methods (`private_key_jwt`).
    pub auth_methods: Vec<String>,
    /// ACTIVE or INACTIVE.
    pub status: ClientStatus,
    /// The validated `additional_config` object, if any.
    pub additional_config: Option<Value>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last update time.
    pub updated_at: Option<OffsetDateTime>,
}

/// Registered clients.
#[async_trait::async_trait]
pub trait ClientStore: Send + Sync {
    /// The client with this id, whatever its status.
    async fn get_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError>;
    /// Inserts a new client. `Conflict("client_id")` if the id exists, `Conflict("public_key")`
    /// if another client has the same `public_key_hash`.
    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError>;
    /// Replaces an existing client (matched by id). `NotFound` if it does not exist;
    /// `Conflict("public_key")` as for insert.
    async fn update_client(&self, client: &ClientRecord) -> Result<(), StoreError>;
}

/// A resident's consent for one client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// Unique id of this consent record.
    pub id: String,
    /// The client consented to.
    pub client_id: String,
    /// The resident's pairwise subject for that client.
    pub psu_token: String,
    /// The requested claims object (`{"userinfo": {...}, "id_token": {...}}`) consented to.
    pub claims: Value,
    /// The requested authorize scopes, as `{scope: false}`.
    pub authorization_scopes: Value,
    /// When consent was given.
    pub created_at: OffsetDateTime,
    /// When it lapses (`None`: never).
    pub expires_at: Option<OffsetDateTime>,
    /// Detached signature from a wallet consent, if any.
    pub signature: Option<String>,
    /// Hash of the request (claims + scopes) this consent answers; a different request needs
    /// new consent.
    pub hash: String,
    /// Claims the resident accepted.
    pub accepted_claims: Vec<String>,
    /// Authorize scopes the resident permitted.
    pub permitted_scopes: Vec<String>,
}

/// Current consent per (client, subject) plus an append-only history.
#[async_trait::async_trait]
pub trait ConsentStore: Send + Sync {
    /// The current consent of `psu_token` for `client_id`, expired or not.
    async fn get_consent(
        &self,
        client_id: &str,
        psu_token: &str,
    ) -> Result<Option<ConsentRecord>, StoreError>;
    /// Makes `consent` the current one for its (client, subject), replacing any previous one,
    /// and appends it to the history, atomically.
    async fn save_consent(&self, consent: &ConsentRecord) -> Result<(), StoreError>;
    /// Removes the current consent for (client, subject); history is kept.
    async fn delete_consent(&self, client_id: &str, psu_token: &str) -> Result<(), StoreError>;
    /// Every consent ever saved for (client, subject), oldest first.
    async fn consent_history(
        &self,
        client_id: &str,
        psu_token: &str,
    ) -> Result<Vec<ConsentRecord>, StoreError>;
}

/// A stored key: private part encrypted at rest, certificate in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The key id published as `kid`.
    pub kid: String,
    /// The key's purpose (`ROOT`, `OIDC_SERVICE`, `MOCK_AUTHENTICATION_SERVICE`, ...).
    pub application: String,
    /// `RS256` (RSA 2048) or `ES256` (EC P-256); `ROOT` keys use the same names.
    pub algorithm: String,
    /// The PKCS#8 private key, encrypted with the key-encryption key (AES-256-GCM).
    pub encrypted_private_key: Vec<u8>,
    /// PEM certificate chain, leaf first.
    pub certificate_pem: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity; the key is unpublished after this.
    pub not_after: OffsetDateTime,
    /// When the key was generated.
    pub created_at: OffsetDateTime,
}

/// Key material of every application.
#[async_trait::async_trait]
pub trait KeyStore: Send + Sync {
    /// Every key of `application`, newest first, expired ones included.
    async fn list_keys(&self, application: &str) -> Result<Vec<KeyRecord>, StoreError>;
    /// Inserts a key. `Conflict("kid")` if the kid exists.
    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError>;
}
