//! `/identity` endpoints: create, update, read, add a verified claim, and the schema.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use esignet_mock_authenticator::{
    SchemaMode, SchemaViolation, claim_for_field, hash_password, schema_document, signup_ui_spec,
    validate_for,
};
use esignet_spi::StoreError;
use serde_json::{Map, Value, json};

use crate::codes;
use crate::envelope::{ApiError, ApiErrors, ApiResult, envelope_without_time, unwrap_request};
use crate::state::{SharedState, claim_row, identity_from_document, store_failure};

/// `POST /identity`: a wrapped identity document, validated against the full schema.
pub(crate) async fn create(State(state): State<SharedState>, body: Bytes) -> Response {
    let result = create_identity(&state, &body).await;
    state.respond(result)
}

async fn create_identity(state: &SharedState, body: &[u8]) -> ApiResult {
    let document = identity_request(state, body)?;
    check_schema(&document, SchemaMode::Create, state)?;
    let document = prepare(document)?;
    identity_from_document(&document)?;
    let individual_id = individual_id_of(&document)?;
    match state
        .store
        .insert_identity(
            &individual_id,
            &Value::Object(document).to_string(),
            state.now(),
        )
        .await
    {
        Ok(()) => Ok(json!({"status": "mock identity data created successfully"})),
        Err(StoreError::Conflict(_)) => Err(ApiError::code(codes::DUPLICATE_INDIVIDUAL_ID).into()),
        Err(error) => Err(store_failure("insert identity", &error).into()),
    }
}

/// `PUT /identity`: a wrapped partial document with `individualId`. Every non-null member
/// replaces the stored one (a shallow merge); `null` members are ignored.
pub(crate) async fn update(State(state): State<SharedState>, body: Bytes) -> Response {
    let result = update_identity(&state, &body).await;
    state.respond(result)
}

async fn update_identity(state: &SharedState, body: &[u8]) -> ApiResult {
    let patch = identity_request(state, body)?;
    check_schema(&patch, SchemaMode::Update, state)?;
    let patch = prepare(patch)?;
    let individual_id = individual_id_of(&patch)?;
    let _writing = state.writes.lock().await;
    let mut merged = state
        .identity_document(&individual_id)
        .await?
        .ok_or_else(|| ApiError::code(codes::INVALID_INDIVIDUAL_ID))?;
    merged.extend(patch);
    identity_from_document(&merged)?;
    match state
        .store
        .replace_identity(
            &individual_id,
            &Value::Object(merged).to_string(),
            state.now(),
        )
        .await
    {
        Ok(()) => Ok(json!({"status": "mock Identity data updated successfully"})),
        Err(StoreError::NotFound) => Err(ApiError::code(codes::INVALID_INDIVIDUAL_ID).into()),
        Err(error) => Err(store_failure("update identity", &error).into()),
    }
}

/// `GET /identity/{individualId}`: the stored document as is (with the PIN and the hashed
/// password, as the Java mock returns it; this is a test system's administration API).
pub(crate) async fn get(
    State(state): State<SharedState>,
    Path(individual_id): Path<String>,
) -> Response {
    let result = match state.identity_document(&individual_id).await {
        Ok(Some(document)) => Ok(Value::Object(document)),
        Ok(None) => Err(ApiError::code(codes::INVALID_INDIVIDUAL_ID).into()),
        Err(error) => Err(error.into()),
    };
    state.respond(result)
}

/// `GET /identity/identity-schema`: the JSON Schema that `POST /identity` enforces.
pub(crate) async fn schema(State(state): State<SharedState>) -> Response {
    envelope_without_time(Ok(schema_document(state.schema)))
}

/// `GET /identity/ui-spec`: the account form of the signup pages, for the members a signup
/// identity has (only with the signup schema: the full schema needs a photo and a PIN the
/// pages do not collect).
pub(crate) async fn ui_spec(State(state): State<SharedState>) -> Response {
    let result = match state.schema {
        crate::SchemaProfile::Signup => Ok(signup_ui_spec()),
        crate::SchemaProfile::Full => Err(ApiError::code(codes::UI_SPEC_NOT_FOUND).into()),
    };
    state.respond(result)
}

/// `POST /identity/add-verified-claim`: `{"individualId", "verificationDetail": {<field>:
/// <verification metadata with trust_framework>}, "active": bool}` (`active` defaults to true).
pub(crate) async fn add_verified_claim(State(state): State<SharedState>, body: Bytes) -> Response {
    let result = add_claims(&state, &body).await;
    state.respond(result)
}

async fn add_claims(state: &SharedState, body: &[u8]) -> ApiResult {
    let Value::Object(request) = unwrap_request(body, state.now())? else {
        return Err(ApiError::invalid_request("request: must be an object").into());
    };
    let individual_id = request
        .get("individualId")
        .and_then(Value::as_str)
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| ApiError::code(codes::INVALID_INDIVIDUAL_ID))?;
    let details = match request.get("verificationDetail") {
        Some(Value::Object(details)) if !details.is_empty() => details,
        _ => {
            return Err(ApiError::invalid_request(
                "verificationDetail: must be a non-empty object of identity field to metadata",
            )
            .into());
        }
    };
    let active = match request.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(active)) => *active,
        Some(_) => return Err(ApiError::invalid_request("active: must be a boolean").into()),
    };

    let _writing = state.writes.lock().await;
    let identity = state
        .identity(individual_id, false)
        .await?
        .ok_or_else(|| ApiError::code(codes::INVALID_INDIVIDUAL_ID))?;
    let mut rows = Vec::with_capacity(details.len());
    for (field, detail) in details {
        if claim_for_field(field).is_none() {
            return Err(ApiError::new(
                codes::INVALID_CLAIM,
                format!("verificationDetail.{field}: is not a claim field"),
            )
            .into());
        }
        if identity.field(field).is_none() {
            return Err(ApiError::new(
                codes::INVALID_CLAIM,
                format!("verificationDetail.{field}: the identity has no value for it"),
            )
            .into());
        }
        let Value::Object(verification) = detail else {
            return Err(ApiError::invalid_request(&format!(
                "verificationDetail.{field}: must be an object"
            ))
            .into());
        };
        let trust_framework = verification
            .get("trust_framework")
            .and_then(Value::as_str)
            .filter(|framework| !framework.trim().is_empty())
            .ok_or_else(|| {
                ApiError::invalid_request(&format!(
                    "verificationDetail.{field}.trust_framework: is required and must not be blank"
                ))
            })?;
        rows.extend(claim_row(
            individual_id,
            field,
            trust_framework,
            verification,
            active,
        ));
    }
    state
        .store
        .upsert_verified_claims(individual_id, &rows, state.now())
        .await
        .map_err(|error| store_failure("add verified claim", &error))?;
    Ok(json!({"status": "Verified Claim added successfully"}))
}

/// Every schema violation of `document`, one error each.
fn check_schema(
    document: &Map<String, Value>,
    mode: SchemaMode,
    state: &SharedState,
) -> Result<(), ApiErrors> {
    let errors: Vec<ApiError> = validate_for(document, mode, state.schema)
        .into_iter()
        .map(|SchemaViolation { code, message }| ApiError::new(code, message))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiErrors(errors))
    }
}

/// The wrapped request of `/identity`, which must be an object.
fn identity_request(state: &SharedState, body: &[u8]) -> Result<Map<String, Value>, ApiErrors> {
    match unwrap_request(body, state.now())? {
        Value::Object(document) => Ok(document),
        _ => Err(ApiError::invalid_request("request: must be an identity object").into()),
    }
}

/// Drops `null` members (absent and null mean the same) and replaces a clear-text password
/// with its upper-case hex SHA-256, as the Java mock stores it.
fn prepare(document: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let mut prepared = Map::with_capacity(document.len());
    for (name, value) in document {
        match (name.as_str(), value) {
            (_, Value::Null) => {}
            ("password", Value::String(password)) => {
                let hashed = hash_password(&password).map_err(|_| {
                    tracing::error!("password hashing failed");
                    ApiError::code(codes::UNKNOWN_ERROR)
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

/// The document's `individualId`; `invalid_individual_id` when missing or blank.
fn individual_id_of(document: &Map<String, Value>) -> Result<String, ApiError> {
    document
        .get("individualId")
        .and_then(Value::as_str)
        .filter(|id| !id.trim().is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ApiError::code(codes::INVALID_INDIVIDUAL_ID))
}
