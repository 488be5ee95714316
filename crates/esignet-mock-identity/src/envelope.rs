//! Request and response envelopes, as the Java mock identity system speaks them.
//!
//! * Wrapped requests: `{"requestTime": "<yyyy-MM-ddTHH:mm:ss.SSSZ>", "request": {...}}`, the
//!   time within [`REQUEST_TIME_LEEWAY`] of the server's clock.
//! * Responses: `{"responseTime", "response", "errors": [{"errorCode", "message"}]}` with HTTP
//!   200 even for business errors; `errors` is always present (empty on success). The error
//!   member is `message`, not eSignet's `errorMessage`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use esignet_spi::PluginError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::codes;

/// How far a wrapped request's `requestTime` may be from the server's clock, either way (the
/// Java mock's `allowed-request-time-variation-seconds` default).
pub const REQUEST_TIME_LEEWAY: time::Duration = time::Duration::seconds(120);

/// The "UTC ms format" of every MOSIP timestamp: `2024-07-24T08:53:05.142Z`.
const UTC_MS: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// `at` in the UTC millisecond format.
pub(crate) fn format_utc_ms(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(UTC_MS)
        .unwrap_or_default()
}

/// Parses the UTC millisecond format exactly (three fraction digits and a `Z`).
pub(crate) fn parse_utc_ms(text: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(text, UTC_MS)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// One entry of the `errors` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ApiError {
    /// Stable code, e.g. `invalid_email`.
    #[serde(rename = "errorCode")]
    pub code: String,
    /// For service errors the code again (as the Java mock does); for validation errors
    /// `<field>: <rule>`. Never contains submitted values.
    pub message: String,
}

impl ApiError {
    /// An error with its own message.
    pub(crate) fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    /// A service error: the message is the code.
    pub(crate) fn code(code: &str) -> Self {
        Self::new(code, code)
    }

    /// `invalid_request` naming what is wrong with the envelope or body.
    pub(crate) fn invalid_request(problem: &str) -> Self {
        Self::new(codes::INVALID_REQUEST, problem)
    }
}

/// The errors of a failed request (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiErrors(pub Vec<ApiError>);

impl From<ApiError> for ApiErrors {
    fn from(error: ApiError) -> Self {
        Self(vec![error])
    }
}

impl From<PluginError> for ApiErrors {
    fn from(error: PluginError) -> Self {
        ApiError::code(&error.code).into()
    }
}

/// What a handler produces: the `response` member, or the errors.
pub(crate) type ApiResult = Result<Value, ApiErrors>;

/// The standard envelope, HTTP 200 either way.
pub(crate) fn envelope(now: OffsetDateTime, result: ApiResult) -> Response {
    let (response, errors) = split(result);
    Json(json!({
        "responseTime": format_utc_ms(now),
        "response": response,
        "errors": errors,
    }))
    .into_response()
}

/// The envelope without `responseTime`, as the Java mock returns `keys.json` and the schema.
pub(crate) fn envelope_without_time(result: ApiResult) -> Response {
    let (response, errors) = split(result);
    Json(json!({"response": response, "errors": errors})).into_response()
}

fn split(result: ApiResult) -> (Value, Vec<ApiError>) {
    match result {
        Ok(response) => (response, Vec::new()),
        Err(ApiErrors(errors)) => (Value::Null, errors),
    }
}

/// Reads a wrapped request: checks `requestTime` against `now` and returns `request`.
pub(crate) fn unwrap_request(body: &[u8], now: OffsetDateTime) -> Result<Value, ApiError> {
    let Ok(Value::Object(mut wrapper)) = serde_json::from_slice::<Value>(body) else {
        return Err(ApiError::invalid_request("body: must be a JSON object"));
    };
    let request_time = wrapper
        .get("requestTime")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_request("requestTime: is required"))?;
    let request_time = parse_utc_ms(request_time).ok_or_else(|| {
        ApiError::invalid_request("requestTime: must be yyyy-MM-ddTHH:mm:ss.SSSZ (UTC)")
    })?;
    if (now - request_time).abs() > REQUEST_TIME_LEEWAY {
        return Err(ApiError::invalid_request(
            "requestTime: must be within 120 seconds of the server time",
        ));
    }
    match wrapper.remove("request") {
        None | Some(Value::Null) => Err(ApiError::invalid_request("request: is required")),
        Some(request) => Ok(request),
    }
}

/// Reads an unwrapped request body. Members the type does not know are ignored; a body that is
/// not JSON or has a member of the wrong type is `invalid_request` (the serde message is left
/// out: it can quote values).
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|_| {
        ApiError::invalid_request(&format!("body: must be a JSON {what} request object"))
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn utc_ms_round_trips() {
        let at = datetime!(2024-07-24 08:53:05.142 UTC);
        assert_eq!(format_utc_ms(at), "2024-07-24T08:53:05.142Z");
        assert_eq!(parse_utc_ms("2024-07-24T08:53:05.142Z"), Some(at));
        assert_eq!(parse_utc_ms("2024-07-24T08:53:05Z"), None);
        assert_eq!(parse_utc_ms("2024-07-24T08:53:05.142+00:00"), None);
    }

    #[test]
    fn wrapped_requests_need_a_recent_request_time() {
        let now = datetime!(2024-07-24 08:53:05.142 UTC);
        let body = |time: &str| {
            serde_json::to_vec(&json!({"requestTime": time, "request": {"a": 1}})).unwrap()
        };
        assert_eq!(
            unwrap_request(&body("2024-07-24T08:55:05.142Z"), now),
            Ok(json!({"a": 1}))
        );
        for stale in [
            "2024-07-24T08:55:05.143Z",
            "2024-07-24T08:51:05.141Z",
            "yesterday",
        ] {
            let error = unwrap_request(&body(stale), now).unwrap_err();
            assert_eq!(error.code, "invalid_request");
            assert!(error.message.starts_with("requestTime:"));
        }
        let missing = serde_json::to_vec(&json!({"requestTime": "2024-07-24T08:53:05.142Z"}));
        assert_eq!(
            unwrap_request(&missing.unwrap(), now).unwrap_err().message,
            "request: is required"
        );
        assert_eq!(
            unwrap_request(b"[]", now).unwrap_err().code,
            "invalid_request"
        );
    }
}
