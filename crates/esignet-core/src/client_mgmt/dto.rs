//! Bodies of the client-management API: the `request` member of eSignet's wrapper, one type per
//! endpoint and version, and the common `{clientId, status}` response.
//!
//! Every request field is an `Option`: a missing or `null` field is then reported with eSignet's
//! validation code for that field (as Java bean validation does, e.g. `invalid_redirect_uri` for
//! a missing `redirectUris`) instead of as a parse error. Unknown fields and values of the wrong
//! JSON type are parse errors, which the web layer reports as `unknown_error` like eSignet's
//! Jackson mapper (`deny_unknown_fields`).

use esignet_spi::ClientStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `POST /client-mgmt/oidc-client` (deprecated v1): a single display name, no additional
/// configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateClientV1Request {
    /// The OAuth `client_id` to register.
    pub client_id: Option<String>,
    /// The display name (stored as `{"@none": name}`).
    pub client_name: Option<String>,
    /// The public JWK (RSA or EC P-256) that verifies the client's `private_key_jwt` assertions.
    pub public_key: Option<Value>,
    /// The relying party id handed to the identity system.
    pub relying_party_id: Option<String>,
    /// Claims the client may request.
    pub user_claims: Option<Vec<String>>,
    /// ACR values the client may request (an entry may hold several, space-separated).
    pub auth_context_refs: Option<Vec<String>>,
    /// Logo shown on the login page.
    pub logo_uri: Option<String>,
    /// Redirect URI patterns (`*`, `**` and `?` wildcards allowed).
    pub redirect_uris: Option<Vec<String>>,
    /// Allowed grant types (`authorization_code`).
    pub grant_types: Option<Vec<String>>,
    /// Allowed client authentication methods (`private_key_jwt`).
    pub client_auth_methods: Option<Vec<String>>,
}

/// `POST /client-mgmt/oauth-client` (deprecated v2): v1 plus display names per language.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateClientV2Request {
    /// See [`CreateClientV1Request::client_id`].
    pub client_id: Option<String>,
    /// The default display name (stored under `@none`).
    pub client_name: Option<String>,
    /// Display names by ISO 639-3 language code (`{"fra": "...", "ara": "..."}`); required and
    /// non-empty.
    pub client_name_lang_map: Option<Map<String, Value>>,
    /// See [`CreateClientV1Request::public_key`].
    pub public_key: Option<Value>,
    /// See [`CreateClientV1Request::relying_party_id`].
    pub relying_party_id: Option<String>,
    /// See [`CreateClientV1Request::user_claims`].
    pub user_claims: Option<Vec<String>>,
    /// See [`CreateClientV1Request::auth_context_refs`].
    pub auth_context_refs: Option<Vec<String>>,
    /// See [`CreateClientV1Request::logo_uri`].
    pub logo_uri: Option<String>,
    /// See [`CreateClientV1Request::redirect_uris`].
    pub redirect_uris: Option<Vec<String>>,
    /// See [`CreateClientV1Request::grant_types`].
    pub grant_types: Option<Vec<String>>,
    /// See [`CreateClientV1Request::client_auth_methods`].
    pub client_auth_methods: Option<Vec<String>>,
}

/// `POST /client-mgmt/client` (current): v2 plus `additionalConfig`, and the eSignet 1.8
/// optional `encPublicKey`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateClientV3Request {
    /// See [`CreateClientV1Request::client_id`].
    pub client_id: Option<String>,
    /// See [`CreateClientV2Request::client_name`].
    pub client_name: Option<String>,
    /// See [`CreateClientV2Request::client_name_lang_map`].
    pub client_name_lang_map: Option<Map<String, Value>>,
    /// See [`CreateClientV1Request::public_key`].
    pub public_key: Option<Value>,
    /// See [`CreateClientV1Request::relying_party_id`].
    pub relying_party_id: Option<String>,
    /// See [`CreateClientV1Request::user_claims`].
    pub user_claims: Option<Vec<String>>,
    /// See [`CreateClientV1Request::auth_context_refs`].
    pub auth_context_refs: Option<Vec<String>>,
    /// See [`CreateClientV1Request::logo_uri`].
    pub logo_uri: Option<String>,
    /// See [`CreateClientV1Request::redirect_uris`].
    pub redirect_uris: Option<Vec<String>>,
    /// See [`CreateClientV1Request::grant_types`].
    pub grant_types: Option<Vec<String>>,
    /// See [`CreateClientV1Request::client_auth_methods`].
    pub client_auth_methods: Option<Vec<String>>,
    /// The client's flags (eSignet's `additional_config` schema); required.
    pub additional_config: Option<Value>,
    /// Optional RSA JWK to encrypt userinfo to (eSignet 1.8); without it the `publicKey` is used.
    pub enc_public_key: Option<Value>,
}

/// `PUT /client-mgmt/oidc-client/{client_id}` (deprecated v1). Every field is required; the
/// client id, relying party id and public key cannot be changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateClientV1Request {
    /// The new display name. Replaces the whole stored name, language variants included.
    pub client_name: Option<String>,
    /// See [`CreateClientV1Request::logo_uri`].
    pub logo_uri: Option<String>,
    /// See [`CreateClientV1Request::redirect_uris`].
    pub redirect_uris: Option<Vec<String>>,
    /// Claims the client may request (1 to 30 on update).
    pub user_claims: Option<Vec<String>>,
    /// See [`CreateClientV1Request::auth_context_refs`].
    pub auth_context_refs: Option<Vec<String>>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: Option<String>,
    /// See [`CreateClientV1Request::grant_types`].
    pub grant_types: Option<Vec<String>>,
    /// See [`CreateClientV1Request::client_auth_methods`].
    pub client_auth_methods: Option<Vec<String>>,
}

/// `PUT /client-mgmt/oauth-client/{client_id}` (deprecated v2): v1 plus display names per
/// language.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateClientV2Request {
    /// The new default display name (`@none`).
    pub client_name: Option<String>,
    /// The new display names by language; they replace every stored language variant.
    pub client_name_lang_map: Option<Map<String, Value>>,
    /// See [`CreateClientV1Request::logo_uri`].
    pub logo_uri: Option<String>,
    /// See [`CreateClientV1Request::redirect_uris`].
    pub redirect_uris: Option<Vec<String>>,
    /// See [`UpdateClientV1Request::user_claims`].
    pub user_claims: Option<Vec<String>>,
    /// See [`CreateClientV1Request::auth_context_refs`].
    pub auth_context_refs: Option<Vec<String>>,
    /// See [`UpdateClientV1Request::status`].
    pub status: Option<String>,
    /// See [`CreateClientV1Request::grant_types`].
    pub grant_types: Option<Vec<String>>,
    /// See [`CreateClientV1Request::client_auth_methods`].
    pub client_auth_methods: Option<Vec<String>>,
}

/// `PUT /client-mgmt/client/{client_id}` (current): v2 plus `additionalConfig` (required; it
/// replaces the stored one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateClientV3Request {
    /// See [`UpdateClientV2Request::client_name`].
    pub client_name: Option<String>,
    /// See [`UpdateClientV2Request::client_name_lang_map`].
    pub client_name_lang_map: Option<Map<String, Value>>,
    /// See [`CreateClientV1Request::logo_uri`].
    pub logo_uri: Option<String>,
    /// See [`CreateClientV1Request::redirect_uris`].
    pub redirect_uris: Option<Vec<String>>,
    /// See [`UpdateClientV1Request::user_claims`].
    pub user_claims: Option<Vec<String>>,
    /// See [`CreateClientV1Request::auth_context_refs`].
    pub auth_context_refs: Option<Vec<String>>,
    /// See [`UpdateClientV1Request::status`].
    pub status: Option<String>,
    /// See [`CreateClientV1Request::grant_types`].
    pub grant_types: Option<Vec<String>>,
    /// See [`CreateClientV1Request::client_auth_methods`].
    pub client_auth_methods: Option<Vec<String>>,
    /// See [`CreateClientV3Request::additional_config`].
    pub additional_config: Option<Value>,
}

/// `PATCH /client-mgmt/client/{client_id}` (eSignet 1.8): every field optional; an absent or
/// `null` field keeps the stored value, a present one is validated as on `PUT` and replaces it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchClientRequest {
    /// Replaces the default display name (`@none`); language variants are kept.
    pub client_name: Option<String>,
    /// Replaces every language variant of the name (an empty map removes them); `@none` is
    /// kept.
    pub client_name_lang_map: Option<Map<String, Value>>,
    /// See [`CreateClientV1Request::logo_uri`].
    pub logo_uri: Option<String>,
    /// See [`CreateClientV1Request::redirect_uris`].
    pub redirect_uris: Option<Vec<String>>,
    /// See [`UpdateClientV1Request::user_claims`].
    pub user_claims: Option<Vec<String>>,
    /// See [`CreateClientV1Request::auth_context_refs`].
    pub auth_context_refs: Option<Vec<String>>,
    /// See [`UpdateClientV1Request::status`].
    pub status: Option<String>,
    /// See [`CreateClientV1Request::grant_types`].
    pub grant_types: Option<Vec<String>>,
    /// See [`CreateClientV1Request::client_auth_methods`].
    pub client_auth_methods: Option<Vec<String>>,
    /// Replaces the whole stored `additional_config`.
    pub additional_config: Option<Value>,
    /// See [`CreateClientV3Request::enc_public_key`].
    pub enc_public_key: Option<Value>,
}

/// The answer of every client-management call: `{"clientId": ..., "status": "ACTIVE"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientResponse {
    /// The client's id.
    pub client_id: String,
    /// Its status after the call.
    pub status: ClientStatus,
}
