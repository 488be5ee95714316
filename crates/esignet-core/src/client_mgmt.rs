//! Relying-party registration: eSignet's client-management API (§3.10, 1.8 PATCH of §12).
//!
//! [`ClientManager`] validates a request with eSignet's field rules and error codes, turns it
//! into a [`ClientRecord`] and writes it through the [`ClientStore`] seam. Three API versions
//! share one implementation: v1 (`oidc-client`) has a single display name, v2 (`oauth-client`)
//! adds names per language, v3 (`client`) adds `additionalConfig`; the 1.8 PATCH changes only
//! the fields it is given and can set the userinfo encryption key.
//!
//! Errors: a request is checked field by field in the order of eSignet's DTOs and the **first**
//! failing field's code is returned. eSignet's bean validation reports one entry per failed
//! field, in no defined order; clients match on the code of an entry, and a single, stable entry
//! is both simpler to act on and deterministic to test. Fields are checked before the store is
//! read, so an invalid request for an unknown client is reported as invalid, as in eSignet.
//!
//! Every create and update attempt, successful or not, is audited (client id and error code
//! only; a registration holds no personal data).

mod dto;
mod validate;

use std::collections::HashSet;
use std::sync::Arc;

use esignet_spi::{
    AuditAction, AuditEvent, AuditSink, AuditStatus, ClientRecord, ClientStatus, ClientStore,
    Clock, StoreError,
};
use serde_json::{Map, Value};

use crate::codes;
use crate::error::{Error, Result};
use validate::required;

pub use dto::{
    ClientResponse, CreateClientV1Request, CreateClientV2Request, CreateClientV3Request,
    PatchClientRequest, UpdateClientV1Request, UpdateClientV2Request, UpdateClientV3Request,
};

/// Registers and updates relying-party clients.
pub struct ClientManager {
    store: Arc<dyn ClientStore>,
    clock: Arc<dyn Clock>,
    audit: Arc<dyn AuditSink>,
    claims_supported: HashSet<String>,
    known_acrs: HashSet<String>,
}

/// The API generation a request came through: decides the required fields and the audit action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    /// `oidc-client`: one display name.
    V1,
    /// `oauth-client`: names per language.
    V2,
    /// `client`: names per language and `additionalConfig`.
    V3,
}

impl Version {
    fn create_action(self) -> AuditAction {
        match self {
            Version::V1 => AuditAction::OidcClientCreate,
            Version::V2 | Version::V3 => AuditAction::OauthClientCreate,
        }
    }

    fn update_action(self) -> AuditAction {
        match self {
            Version::V1 => AuditAction::OidcClientUpdate,
            Version::V2 | Version::V3 => AuditAction::OauthClientUpdate,
        }
    }
}

/// A create request of any version, with the fields its version lacks set to `None`.
struct CreateFields {
    version: Version,
    client_id: Option<String>,
    client_name: Option<String>,
    client_name_lang_map: Option<Map<String, Value>>,
    public_key: Option<Value>,
    relying_party_id: Option<String>,
    user_claims: Option<Vec<String>>,
    auth_context_refs: Option<Vec<String>>,
    logo_uri: Option<String>,
    redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    client_auth_methods: Option<Vec<String>>,
    additional_config: Option<Value>,
    enc_public_key: Option<Value>,
}

/// A PUT or PATCH request of any version, with the fields its version lacks set to `None`.
struct UpdateFields {
    client_name: Option<String>,
    client_name_lang_map: Option<Map<String, Value>>,
    logo_uri: Option<String>,
    redirect_uris: Option<Vec<String>>,
    user_claims: Option<Vec<String>>,
    auth_context_refs: Option<Vec<String>>,
    status: Option<String>,
    grant_types: Option<Vec<String>>,
    client_auth_methods: Option<Vec<String>>,
    additional_config: Option<Value>,
    enc_public_key: Option<Value>,
}

/// Validated changes to a stored client; `None` keeps the stored value.
#[derive(Default)]
struct Changes {
    default_name: Option<String>,
    /// Replaces every language variant of the name.
    languages: Option<Map<String, Value>>,
    logo_uri: Option<String>,
    redirect_uris: Option<Vec<String>>,
    claims: Option<Vec<String>>,
    acr_values: Option<Vec<String>>,
    status: Option<ClientStatus>,
    grant_types: Option<Vec<String>>,
    auth_methods: Option<Vec<String>>,
    additional_config: Option<Value>,
    enc_public_key: Option<Value>,
}

impl Changes {
    fn apply(self, client: &mut ClientRecord) {
        if self.default_name.is_some() || self.languages.is_some() {
            let default_name = self.default_name.or_else(|| {
                client
                    .name
                    .get(validate::DEFAULT_NAME_KEY)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            let languages = self
                .languages
                .unwrap_or_else(|| std::mem::take(&mut client.name));
            client.name = validate::name_object(default_name, languages);
        }
        replace(&mut client.logo_uri, self.logo_uri);
        replace(&mut client.redirect_uris, self.redirect_uris);
        replace(&mut client.claims, self.claims);
        replace(&mut client.acr_values, self.acr_values);
        replace(&mut client.status, self.status);
        replace(&mut client.grant_types, self.grant_types);
        replace(&mut client.auth_methods, self.auth_methods);
        if self.additional_config.is_some() {
            client.additional_config = self.additional_config;
        }
        if self.enc_public_key.is_some() {
            client.enc_public_key = self.enc_public_key;
        }
    }
}

fn replace<T>(stored: &mut T, new: Option<T>) {
    if let Some(new) = new {
        *stored = new;
    }
}

/// Maps a failed client write to eSignet's business codes.
fn write_error(error: StoreError) -> Error {
    match error {
        StoreError::Conflict("client_id") => Error::code(codes::DUPLICATE_CLIENT_ID),
        StoreError::Conflict("public_key") => Error::code(codes::DUPLICATE_PUBLIC_KEY),
        // The client disappeared between our read and the write.
        StoreError::NotFound => Error::code(codes::INVALID_CLIENT_ID),
        other => Error::from(other),
    }
}

impl ClientManager {
    /// A manager writing to `store`, stamping records and audit events with `clock`.
    ///
    /// `claims_supported` is the discovery `claims_supported` list (what `userClaims` may
    /// hold); `known_acrs` the ACR values of the ACR → AMR mapping (what `authContextRefs` may
    /// hold).
    pub fn new(
        store: Arc<dyn ClientStore>,
        clock: Arc<dyn Clock>,
        audit: Arc<dyn AuditSink>,
        claims_supported: Vec<String>,
        known_acrs: Vec<String>,
    ) -> Self {
        Self {
            store,
            clock,
            audit,
            claims_supported: claims_supported.into_iter().collect(),
            known_acrs: known_acrs.into_iter().collect(),
        }
    }

    /// `POST /client-mgmt/oidc-client`: registers an ACTIVE client whose name is stored as
    /// `{"@none": clientName}`.
    ///
    /// # Errors
    ///
    /// A field's validation code (see the module docs), `duplicate_client_id`,
    /// `duplicate_public_key`, or [`Error::Unavailable`] when the store is down.
    pub async fn create_v1(&self, request: CreateClientV1Request) -> Result<ClientResponse> {
        self.create(CreateFields {
            version: Version::V1,
            client_id: request.client_id,
            client_name: request.client_name,
            client_name_lang_map: None,
            public_key: request.public_key,
            relying_party_id: request.relying_party_id,
            user_claims: request.user_claims,
            auth_context_refs: request.auth_context_refs,
            logo_uri: request.logo_uri,
            redirect_uris: request.redirect_uris,
            grant_types: request.grant_types,
            client_auth_methods: request.client_auth_methods,
            additional_config: None,
            enc_public_key: None,
        })
        .await
    }

    /// `POST /client-mgmt/oauth-client`: as [`ClientManager::create_v1`], with the name stored
    /// as `{"@none": clientName, <lang>: <name>...}`.
    ///
    /// # Errors
    ///
    /// As [`ClientManager::create_v1`].
    pub async fn create_v2(&self, request: CreateClientV2Request) -> Result<ClientResponse> {
        self.create(CreateFields {
            version: Version::V2,
            client_id: request.client_id,
            client_name: request.client_name,
            client_name_lang_map: request.client_name_lang_map,
            public_key: request.public_key,
            relying_party_id: request.relying_party_id,
            user_claims: request.user_claims,
            auth_context_refs: request.auth_context_refs,
            logo_uri: request.logo_uri,
            redirect_uris: request.redirect_uris,
            grant_types: request.grant_types,
            client_auth_methods: request.client_auth_methods,
            additional_config: None,
            enc_public_key: None,
        })
        .await
    }

    /// `POST /client-mgmt/client`: as [`ClientManager::create_v2`], plus the required
    /// `additionalConfig` and the optional `encPublicKey`.
    ///
    /// # Errors
    ///
    /// As [`ClientManager::create_v1`].
    pub async fn create_v3(&self, request: CreateClientV3Request) -> Result<ClientResponse> {
        self.create(CreateFields {
            version: Version::V3,
            client_id: request.client_id,
            client_name: request.client_name,
            client_name_lang_map: request.client_name_lang_map,
            public_key: request.public_key,
            relying_party_id: request.relying_party_id,
            user_claims: request.user_claims,
            auth_context_refs: request.auth_context_refs,
            logo_uri: request.logo_uri,
            redirect_uris: request.redirect_uris,
            grant_types: request.grant_types,
            client_auth_methods: request.client_auth_methods,
            additional_config: request.additional_config,
            enc_public_key: request.enc_public_key,
        })
        .await
    }

    /// `PUT /client-mgmt/oidc-client/{client_id}`: replaces every updatable field. The name
    /// becomes `{"@none": clientName}`: language variants are dropped because they would still
    /// show the old name. `additional_config`, the keys, the relying party id and the creation
    /// time are kept.
    ///
    /// # Errors
    ///
    /// A field's validation code, `invalid_client_id` when no such client exists, or
    /// [`Error::Unavailable`].
    pub async fn update_v1(
        &self,
        client_id: &str,
        request: UpdateClientV1Request,
    ) -> Result<ClientResponse> {
        let fields = UpdateFields {
            client_name: request.client_name,
            // v1 has no language names: an empty map replaces the stored variants.
            client_name_lang_map: Some(Map::new()),
            logo_uri: request.logo_uri,
            redirect_uris: request.redirect_uris,
            user_claims: request.user_claims,
            auth_context_refs: request.auth_context_refs,
            status: request.status,
            grant_types: request.grant_types,
            client_auth_methods: request.client_auth_methods,
            additional_config: None,
            enc_public_key: None,
        };
        self.update(Version::V1.update_action(), client_id, |manager| {
            manager.full_update(fields, Version::V1)
        })
        .await
    }

    /// `PUT /client-mgmt/oauth-client/{client_id}`: as [`ClientManager::update_v1`], with the
    /// language names replaced by the given (non-empty) map.
    ///
    /// # Errors
    ///
    /// As [`ClientManager::update_v1`].
    pub async fn update_v2(
        &self,
        client_id: &str,
        request: UpdateClientV2Request,
    ) -> Result<ClientResponse> {
        let fields = UpdateFields {
            client_name: request.client_name,
            client_name_lang_map: request.client_name_lang_map,
            logo_uri: request.logo_uri,
            redirect_uris: request.redirect_uris,
            user_claims: request.user_claims,
            auth_context_refs: request.auth_context_refs,
            status: request.status,
            grant_types: request.grant_types,
            client_auth_methods: request.client_auth_methods,
            additional_config: None,
            enc_public_key: None,
        };
        self.update(Version::V2.update_action(), client_id, |manager| {
            manager.full_update(fields, Version::V2)
        })
        .await
    }

    /// `PUT /client-mgmt/client/{client_id}`: as [`ClientManager::update_v2`], with the
    /// required `additionalConfig` replacing the stored one.
    ///
    /// # Errors
    ///
    /// As [`ClientManager::update_v1`].
    pub async fn update_v3(
        &self,
        client_id: &str,
        request: UpdateClientV3Request,
    ) -> Result<ClientResponse> {
        let fields = UpdateFields {
            client_name: request.client_name,
            client_name_lang_map: request.client_name_lang_map,
            logo_uri: request.logo_uri,
            redirect_uris: request.redirect_uris,
            user_claims: request.user_claims,
            auth_context_refs: request.auth_context_refs,
            status: request.status,
            grant_types: request.grant_types,
            client_auth_methods: request.client_auth_methods,
            additional_config: request.additional_config,
            enc_public_key: None,
        };
        self.update(Version::V3.update_action(), client_id, |manager| {
            manager.full_update(fields, Version::V3)
        })
        .await
    }

    /// `PATCH /client-mgmt/client/{client_id}` (eSignet 1.8): changes only the fields present;
    /// each is validated as on PUT. `encPublicKey` sets the userinfo encryption key. A patch
    /// without fields only stamps the update time.
    ///
    /// # Errors
    ///
    /// As [`ClientManager::update_v1`]; an unusable `encPublicKey` is `invalid_public_key`.
    pub async fn patch(
        &self,
        client_id: &str,
        request: PatchClientRequest,
    ) -> Result<ClientResponse> {
        let fields = UpdateFields {
            client_name: request.client_name,
            client_name_lang_map: request.client_name_lang_map,
            logo_uri: request.logo_uri,
            redirect_uris: request.redirect_uris,
            user_claims: request.user_claims,
            auth_context_refs: request.auth_context_refs,
            status: request.status,
            grant_types: request.grant_types,
            client_auth_methods: request.client_auth_methods,
            additional_config: request.additional_config,
            enc_public_key: request.enc_public_key,
        };
        self.update(AuditAction::OauthClientUpdate, client_id, |manager| {
            manager.partial_update(fields)
        })
        .await
    }

    async fn create(&self, fields: CreateFields) -> Result<ClientResponse> {
        let action = fields.version.create_action();
        // Only a well-formed id goes into the audit trail: the field is free text until checked.
        let audited_id = fields
            .client_id
            .clone()
            .filter(|id| validate::is_identifier(id));
        let outcome = self.try_create(fields).await;
        self.record(action, audited_id.as_deref(), &outcome);
        outcome
    }

    async fn try_create(&self, fields: CreateFields) -> Result<ClientResponse> {
        let client = self.new_client(fields)?;
        self.store
            .insert_client(&client)
            .await
            .map_err(write_error)?;
        tracing::info!(client_id = %client.client_id, "client registered");
        Ok(ClientResponse {
            client_id: client.client_id,
            status: client.status,
        })
    }

    /// Validates a create request into the record to insert.
    fn new_client(&self, fields: CreateFields) -> Result<ClientRecord> {
        let version = fields.version;
        let client_id = validate::identifier(
            required(fields.client_id, codes::INVALID_CLIENT_ID)?,
            codes::INVALID_CLIENT_ID,
        )?;
        let default_name =
            validate::client_name(required(fields.client_name, codes::INVALID_CLIENT_NAME)?)?;
        let languages = match version {
            Version::V1 => Map::new(),
            Version::V2 | Version::V3 => validate::language_names(
                required(fields.client_name_lang_map, codes::INVALID_CLIENT_NAME)?,
                false,
            )?,
        };
        let (public_key, public_key_hash) =
            validate::public_key(required(fields.public_key, codes::INVALID_PUBLIC_KEY)?)?;
        let relying_party_id = validate::identifier(
            required(fields.relying_party_id, codes::INVALID_RP_ID)?,
            codes::INVALID_RP_ID,
        )?;
        let claims = validate::claims(
            required(fields.user_claims, codes::INVALID_CLAIM)?,
            0,
            &self.claims_supported,
        )?;
        let acr_values = validate::acrs(
            required(fields.auth_context_refs, codes::INVALID_ACR)?,
            &self.known_acrs,
        )?;
        let logo_uri = validate::logo_uri(required(fields.logo_uri, codes::INVALID_URI)?)?;
        let redirect_uris =
            validate::redirect_uris(required(fields.redirect_uris, codes::INVALID_REDIRECT_URI)?)?;
        let grant_types =
            validate::grant_types(required(fields.grant_types, codes::UNSUPPORTED_GRANT_TYPE)?)?;
        let auth_methods = validate::auth_methods(required(
            fields.client_auth_methods,
            codes::INVALID_CLIENT_AUTH,
        )?)?;
        let additional_config = match version {
            Version::V1 | Version::V2 => None,
            Version::V3 => Some(validate::additional_config(required(
                fields.additional_config,
                codes::INVALID_ADDITIONAL_CONFIG,
            )?)?),
        };
        let enc_public_key = fields
            .enc_public_key
            .map(validate::enc_public_key)
            .transpose()?;
        Ok(ClientRecord {
            client_id,
            name: validate::name_object(Some(default_name), languages),
            relying_party_id,
            logo_uri,
            redirect_uris,
            claims,
            acr_values,
            public_key,
            public_key_hash,
            enc_public_key,
            grant_types,
            auth_methods,
            status: ClientStatus::Active,
            additional_config,
            created_at: self.clock.now(),
            updated_at: None,
        })
    }

    /// Validates a PUT request: every field of its version is required.
    fn full_update(&self, fields: UpdateFields, version: Version) -> Result<Changes> {
        let default_name =
            validate::client_name(required(fields.client_name, codes::INVALID_CLIENT_NAME)?)?;
        let languages = match version {
            // `update_v1` passes an empty map on purpose: it clears the variants.
            Version::V1 => fields.client_name_lang_map.unwrap_or_default(),
            Version::V2 | Version::V3 => validate::language_names(
                required(fields.client_name_lang_map, codes::INVALID_CLIENT_NAME)?,
                false,
            )?,
        };
        let logo_uri = validate::logo_uri(required(fields.logo_uri, codes::INVALID_URI)?)?;
        let redirect_uris =
            validate::redirect_uris(required(fields.redirect_uris, codes::INVALID_REDIRECT_URI)?)?;
        let claims = validate::claims(
            required(fields.user_claims, codes::INVALID_CLAIM)?,
            1,
            &self.claims_supported,
        )?;
        let acr_values = validate::acrs(
            required(fields.auth_context_refs, codes::INVALID_ACR)?,
            &self.known_acrs,
        )?;
        let status = validate::status(required(fields.status, codes::INVALID_STATUS)?)?;
        let grant_types =
            validate::grant_types(required(fields.grant_types, codes::UNSUPPORTED_GRANT_TYPE)?)?;
        let auth_methods = validate::auth_methods(required(
            fields.client_auth_methods,
            codes::INVALID_CLIENT_AUTH,
        )?)?;
        let additional_config = match version {
            Version::V1 | Version::V2 => None,
            Version::V3 => Some(validate::additional_config(required(
                fields.additional_config,
                codes::INVALID_ADDITIONAL_CONFIG,
            )?)?),
        };
        Ok(Changes {
            default_name: Some(default_name),
            languages: Some(languages),
            logo_uri: Some(logo_uri),
            redirect_uris: Some(redirect_uris),
            claims: Some(claims),
            acr_values: Some(acr_values),
            status: Some(status),
            grant_types: Some(grant_types),
            auth_methods: Some(auth_methods),
            additional_config,
            enc_public_key: None,
        })
    }

    /// Validates a PATCH request: only the fields present.
    fn partial_update(&self, fields: UpdateFields) -> Result<Changes> {
        Ok(Changes {
            default_name: fields.client_name.map(validate::client_name).transpose()?,
            languages: fields
                .client_name_lang_map
                .map(|names| validate::language_names(names, true))
                .transpose()?,
            logo_uri: fields.logo_uri.map(validate::logo_uri).transpose()?,
            redirect_uris: fields
                .redirect_uris
                .map(validate::redirect_uris)
                .transpose()?,
            claims: fields
                .user_claims
                .map(|claims| validate::claims(claims, 1, &self.claims_supported))
                .transpose()?,
            acr_values: fields
                .auth_context_refs
                .map(|acrs| validate::acrs(acrs, &self.known_acrs))
                .transpose()?,
            status: fields.status.map(validate::status).transpose()?,
            grant_types: fields.grant_types.map(validate::grant_types).transpose()?,
            auth_methods: fields
                .client_auth_methods
                .map(validate::auth_methods)
                .transpose()?,
            additional_config: fields
                .additional_config
                .map(validate::additional_config)
                .transpose()?,
            enc_public_key: fields
                .enc_public_key
                .map(validate::enc_public_key)
                .transpose()?,
        })
    }

    /// Runs an update: checks the path id and the request, then reads, changes and writes the
    /// stored client, auditing the outcome.
    async fn update(
        &self,
        action: AuditAction,
        client_id: &str,
        validate_request: impl FnOnce(&Self) -> Result<Changes>,
    ) -> Result<ClientResponse> {
        let well_formed = validate::is_identifier(client_id);
        let outcome = async {
            if !well_formed {
                return Err(Error::code(codes::INVALID_CLIENT_ID));
            }
            let changes = validate_request(self)?;
            let mut client = self
                .store
                .get_client(client_id)
                .await?
                .ok_or_else(|| Error::code(codes::INVALID_CLIENT_ID))?;
            changes.apply(&mut client);
            client.updated_at = Some(self.clock.now());
            self.store
                .update_client(&client)
                .await
                .map_err(write_error)?;
            tracing::info!(client_id = %client.client_id, "client updated");
            Ok(ClientResponse {
                client_id: client.client_id,
                status: client.status,
            })
        }
        .await;
        self.record(action, well_formed.then_some(client_id), &outcome);
        outcome
    }

    /// Hands the outcome of one call to the audit sink.
    fn record(
        &self,
        action: AuditAction,
        client_id: Option<&str>,
        outcome: &Result<ClientResponse>,
    ) {
        let (status, error_code) = match outcome {
            Ok(_) => (AuditStatus::Success, None),
            Err(error) => (AuditStatus::Error, Some(error.error_code().to_owned())),
        };
        self.audit.record(AuditEvent {
            at: self.clock.now(),
            action,
            status,
            transaction_id: None,
            client_id: client_id.map(str::to_owned),
            individual_id_hash: None,
            error_code,
        });
    }
}

#[cfg(test)]
mod tests;
