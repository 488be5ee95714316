//! eSignet signup's wire envelopes: `{"requestTime", "request"}` in, `{"responseTime",
//! "response", "errors"}` out, HTTP 200 on business errors.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::codes;

/// A failure with eSignet signup's error code (and the field-qualified message of validation
/// errors). Never carries personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}")]
pub struct SignupError {
    /// The `errorCode`.
    pub code: String,
    /// The `errorMessage`; the code itself when there is nothing more to say.
    pub message: String,
}

impl SignupError {
    /// An error whose message is its code.
    pub fn new(code: &str) -> Self {
        Self {
            code: code.to_owned(),
            message: code.to_owned(),
        }
    }

    /// A validation error: message `<field>: <code>` as Spring's constraint messages.
    pub fn field(field: &str, code: &str) -> Self {
        Self {
            code: code.to_owned(),
            message: format!("{field}: {code}"),
        }
    }
}

/// eSignet's UTC timestamp with milliseconds (`2024-07-24T08:53:05.142Z`).
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// A success envelope.
pub fn ok(now: OffsetDateTime, response: Value) -> Response {
    Json(json!({"responseTime": format_time(now), "response": response, "errors": []}))
        .into_response()
}

/// An error envelope (HTTP 200, as eSignet signup answers business errors).
pub fn error(now: OffsetDateTime, error: &SignupError) -> Response {
    Json(json!({
        "responseTime": format_time(now),
        "response": null,
        "errors": [{"errorCode": error.code, "errorMessage": error.message}],
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wrapper {
    request_time: Option<String>,
    request: Option<Value>,
}

/// Unwraps a request body: `requestTime` within `leeway` of `now`, a `request` object parsed
/// as `T`. A body that is not the wrapper, a missing or stale time, or a `request` of the wrong
/// shape is `invalid_request` (field errors are reported by the handlers' own checks).
pub fn unwrap<T: DeserializeOwned>(
    body: &[u8],
    now: OffsetDateTime,
    leeway: std::time::Duration,
) -> Result<T, SignupError> {
    let wrapper: Wrapper =
        serde_json::from_slice(body).map_err(|_| SignupError::new(codes::INVALID_REQUEST))?;
    let time = wrapper
        .request_time
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .ok_or_else(|| SignupError::field("requestTime", codes::INVALID_REQUEST))?;
    let leeway = time::Duration::try_from(leeway).unwrap_or(time::Duration::minutes(2));
    if time < now - leeway || time > now + leeway {
        return Err(SignupError::field("requestTime", codes::INVALID_REQUEST));
    }
    let request = wrapper
        .request
        .filter(Value::is_object)
        .ok_or_else(|| SignupError::field("request", codes::INVALID_REQUEST))?;
    serde_json::from_value(request).map_err(|_| SignupError::new(codes::INVALID_REQUEST))
}
