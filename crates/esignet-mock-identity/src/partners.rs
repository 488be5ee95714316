//! `POST /partner` (relying parties' encryption keys), `GET /keys.json` (the KYC signing
//! certificates) and `GET /actuator/health`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use esignet_jose::PublicJwk;
use esignet_spi::TokenSigner as _;
use serde_json::{Value, json};

use crate::codes;
use crate::envelope::{ApiError, ApiResult, envelope_without_time, format_utc_ms, unwrap_request};
use crate::state::{SharedState, store_failure};
use crate::store::PartnerKey;

/// `POST /partner`: wrapped `{"partnerId", "clientId", "key", "status"}`. `partnerId` is the
/// relying party id eSignet passes in the KYC paths; `key` is the RSA public JWK to encrypt
/// `v3/kyc-exchange` JWE responses to, as a JSON string (the Java mock's form) or an object;
/// `status` defaults to `ACTIVE` (any other status keeps the key unused). Registering again
/// replaces the key.
pub(crate) async fn register(State(state): State<SharedState>, body: Bytes) -> Response {
    let result = register_partner(&state, &body).await;
    state.respond(result)
}

async fn register_partner(state: &SharedState, body: &[u8]) -> ApiResult {
    let Value::Object(request) = unwrap_request(body, state.now())? else {
        return Err(ApiError::invalid_request("request: must be an object").into());
    };
    let non_blank = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.trim().is_empty())
    };
    let partner_id = non_blank("partnerId")
        .ok_or_else(|| ApiError::new(codes::INVALID_PARTNER_ID, "partnerId: is required"))?;
    let client_id = non_blank("clientId")
        .ok_or_else(|| ApiError::new(codes::INVALID_CLIENT_ID, "clientId: is required"))?;
    let key = match request.get("key") {
        Some(Value::String(text)) => serde_json::from_str::<Value>(text).ok(),
        Some(object @ Value::Object(_)) => Some(object.clone()),
        _ => None,
    }
    .filter(is_encryption_key)
    .ok_or_else(|| {
        ApiError::new(
            codes::INVALID_PARTNER_KEY,
            "key: must be an RSA public JWK usable for RSA-OAEP-256",
        )
    })?;
    let status = match request.get("status") {
        None | Some(Value::Null) => "ACTIVE".to_owned(),
        Some(Value::String(status)) if !status.trim().is_empty() => status.clone(),
        Some(_) => {
            return Err(
                ApiError::new(codes::INVALID_STATUS, "status: must be a non-blank string").into(),
            );
        }
    };
    state
        .store
        .upsert_partner(
            partner_id,
            client_id,
            &PartnerKey {
                public_key: key.to_string(),
                status,
            },
            state.now(),
        )
        .await
        .map_err(|error| store_failure("register partner", &error))?;
    Ok(Value::from("Partner data created/updated successfully"))
}

/// An RSA public JWK that `esignet_jose::encrypt_compact` accepts (no `use` other than `enc`,
/// no `alg` other than `RSA-OAEP-256`).
fn is_encryption_key(key: &Value) -> bool {
    PublicJwk::from_json(key).is_ok_and(|jwk| {
        jwk.kty() == "RSA"
            && jwk.key_use().is_none_or(|key_use| key_use == "enc")
            && jwk.alg().is_none_or(|alg| alg == "RSA-OAEP-256")
    })
}

/// `GET /keys.json`: `{"allCertificates": [{"certificateData", "issuedAt", "expiryAt",
/// "keyId"}]}` for every KYC signing key not yet expired, newest first (the envelope without
/// `responseTime`). `keyId` is the `kid` in KYC headers.
pub(crate) async fn keys(State(state): State<SharedState>) -> Response {
    let certificates: Vec<Value> = state
        .signer
        .certificates()
        .into_iter()
        .map(|certificate| {
            json!({
                "certificateData": certificate.certificate_pem,
                "issuedAt": format_utc_ms(certificate.issued_at),
                "expiryAt": format_utc_ms(certificate.expires_at),
                "keyId": certificate.key_id,
            })
        })
        .collect();
    envelope_without_time(Ok(json!({"allCertificates": certificates})))
}

/// `GET /actuator/health`: `{"status": "UP"}` (HTTP 200) when the database answers and a
/// signing key is current, otherwise `DOWN` with HTTP 503, per component.
pub(crate) async fn health(State(state): State<SharedState>) -> Response {
    let database = state.store.ping().await;
    let signing_key = state.signer.current_key().is_some();
    let label = |up: bool| if up { "UP" } else { "DOWN" };
    let status = if database && signing_key {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": label(database && signing_key),
        "components": {
            "db": {"status": label(database)},
            "signingKey": {"status": label(signing_key)},
        },
    });
    (status, Json(body)).into_response()
}
