//! eSignet's request/response wrapper (`{requestTime, request}` → `{responseTime, response,
//! errors}`), and how wrapped APIs report errors: HTTP 200 with `errors[]`.

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use esignet_core::{Error, codes};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::state::AppState;

const TIMESTAMP: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Formats an instant as eSignet does (`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, UTC).
pub fn format_timestamp(instant: OffsetDateTime) -> String {
    instant
        .to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP)
        .unwrap_or_default()
}

/// Parses a `requestTime` (exactly the eSignet pattern).
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    if text.len() != 24 {
        return None;
    }
    time::PrimitiveDateTime::parse(text, TIMESTAMP)
        .ok()
        .map(|t| t.assume_utc())
}

/// One entry of `errors[]`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEntry {
    /// The code.
    pub error_code: String,
    /// eSignet repeats the code here for service errors, or gives a field path.
    pub error_message: String,
}

/// A failure of a wrapped API, rendered as HTTP 200 with `errors[]` (or 503 when the store or
/// cache is down, so load balancers and clients can tell an outage from a rejection).
#[derive(Debug)]
pub struct WrappedError {
    entry: ErrorEntry,
    unavailable: bool,
    response_time: String,
}

impl WrappedError {
    /// An error whose message is its code (eSignet's behaviour for service errors).
    pub fn code(state: &AppState, code: &str) -> Self {
        Self::with_message(state, code, code)
    }

    /// An error with an explicit message.
    pub fn with_message(state: &AppState, code: &str, message: &str) -> Self {
        Self {
            entry: ErrorEntry {
                error_code: code.to_owned(),
                error_message: message.to_owned(),
            },
            unavailable: false,
            response_time: format_timestamp(state.now()),
        }
    }

    /// Converts a domain error.
    pub fn from_core(state: &AppState, error: Error) -> Self {
        match error {
            Error::Unavailable(detail) => {
                tracing::error!(%detail, "dependency unavailable");
                let mut wrapped = Self::code(state, codes::SERVICE_UNAVAILABLE);
                wrapped.unavailable = true;
                wrapped
            }
            other => Self::code(state, other.error_code()),
        }
    }
}

impl IntoResponse for WrappedError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "responseTime": self.response_time,
            "response": Value::Null,
            "errors": [self.entry],
        });
        let status = if self.unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        };
        json_response(status, body.to_string())
    }
}

/// A JSON response with no-store caching (wrapped responses carry transaction data).
pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A successful wrapped response embedding `response_json` verbatim (so a hash computed over
/// it by the client matches the bytes we hashed).
pub fn wrapped_raw(state: &AppState, response_json: &str) -> Response {
    let body = format!(
        "{{\"responseTime\":\"{}\",\"response\":{},\"errors\":[]}}",
        format_timestamp(state.now()),
        response_json
    );
    json_response(StatusCode::OK, body)
}

/// A successful wrapped response.
pub fn wrapped<T: Serialize>(state: &AppState, response: &T) -> Result<Response, WrappedError> {
    let json = serde_json::to_string(response)
        .map_err(|_| WrappedError::code(state, codes::UNKNOWN_ERROR))?;
    Ok(wrapped_raw(state, &json))
}

/// Parses a wrapped request body: malformed JSON or unknown fields → `unknown_error` (with the
/// parser's message, as eSignet), bad or stale `requestTime` or missing `request` →
/// `invalid_request`.
pub fn parse_wrapped<T: DeserializeOwned>(
    state: &AppState,
    body: &Bytes,
) -> Result<T, WrappedError> {
    let mut envelope: serde_json::Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return Err(WrappedError::with_message(
                state,
                codes::UNKNOWN_ERROR,
                "request body must be a JSON object",
            ));
        }
        Err(error) => {
            return Err(WrappedError::with_message(
                state,
                codes::UNKNOWN_ERROR,
                &error.to_string(),
            ));
        }
    };
    if let Some(unknown) = envelope
        .keys()
        .find(|k| *k != "requestTime" && *k != "request")
    {
        let message = format!("unknown field `{unknown}`, expected `requestTime` or `request`");
        return Err(WrappedError::with_message(
            state,
            codes::UNKNOWN_ERROR,
            &message,
        ));
    }
    let request_time = envelope
        .get("requestTime")
        .and_then(Value::as_str)
        .and_then(parse_timestamp);
    let leeway = state.config().request_time_leeway;
    let now = state.now();
    let fresh = request_time.is_some_and(|t| {
        let skew = (t - now).abs();
        skew <= time::Duration::try_from(leeway).unwrap_or(time::Duration::ZERO)
    });
    if !fresh {
        return Err(WrappedError::with_message(
            state,
            codes::INVALID_REQUEST,
            "requestTime: invalid_request",
        ));
    }
    let request = envelope.remove("request").unwrap_or(Value::Null);
    if request.is_null() {
        return Err(WrappedError::with_message(
            state,
            codes::INVALID_REQUEST,
            "request: invalid_request",
        ));
    }
    serde_json::from_value(request).map_err(|error| {
        WrappedError::with_message(state, codes::UNKNOWN_ERROR, &error.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_round_trip_and_strictness() {
        let parsed = parse_timestamp("2025-01-01T10:20:30.123Z").unwrap();
        assert_eq!(format_timestamp(parsed), "2025-01-01T10:20:30.123Z");
        assert!(parse_timestamp("2025-01-01T10:20:30Z").is_none());
        assert!(parse_timestamp("2025-01-01T10:20:30.1234Z").is_none());
        assert!(parse_timestamp("2025-01-01 10:20:30.123Z").is_none());
        assert!(parse_timestamp("2025-01-01T10:20:30.123+00:00").is_none());
    }
}
