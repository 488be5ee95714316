//! `CAPTURE /capture`: the authentication capture.
//!
//! The eSignet UI sends
//! `{"env", "purpose": "Auth", "specVersion", "timeout": <ms>, "captureTime", "domainUri",
//! "transactionId", "bio": [{"type", "count", "bioSubType": null | [..], "requestedScore",
//! "deviceId", "deviceSubId", "previousHash"}], "customOpts"}`.
//!
//! For each `bio` item the device returns `count` entries (default 1), the i-th with the i-th
//! requested `bioSubType` (else `UNKNOWN`; a face has none). Each entry is
//! `{"specVersion", "data": <JWS>, "hash", "sessionKey", "thumbprint", "error"}` where the JWS
//! payload is `{digitalId, deviceCode, deviceServiceVersion, bioType, bioSubType, purpose, env,
//! domainUri, bioValue, transactionId, timestamp, requestedScore, qualityScore}`; `bioValue` is
//! base64url of random bytes standing in for an ISO template; `hash` chains upper-case hex
//! SHA-256: `HEX(SHA-256(previousHash ‖ HEX(SHA-256(template))))`, starting from the request's
//! `previousHash`; `sessionKey` is random (nothing is encrypted) and `thumbprint` is the hash of
//! the device certificate.
//!
//! A request the device refuses gets one entry with empty members and an [`SbiError`] in
//! `error` (HTTP 200, as devices answer).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::device::{MockSbi, Modality, SPEC_VERSION, hex_upper, success};

/// Size of the random stand-in for an ISO biometric template.
const TEMPLATE_BYTES: usize = 256;
/// Capture timeout when the request names none, and the longest one honoured.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_TIMEOUT: Duration = Duration::from_secs(120);

/// A capture the device refuses, with its SBI error code. Codes below 500 are the SBI
/// specification's; 5xx are this device provider's own, as the specification allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbiError {
    /// `102` Technical error during extraction: the device could not sign its output.
    TechnicalError,
    /// `106` Device not found: no device of the requested type, or an unknown `deviceId`.
    DeviceNotFound,
    /// `109` Requested number of biometric (Finger/IRIS) not supported.
    CountNotSupported,
    /// `501` The body is not a capture request (not JSON, or no `bio` item).
    InvalidRequest,
    /// `502` The purpose is not `Auth`: this device only captures for authentication.
    InvalidPurpose,
    /// `503` No `transactionId`: every authentication capture is bound to one.
    MissingTransactionId,
    /// `504` The capture did not finish within the request's `timeout`.
    Timeout,
}

impl SbiError {
    /// The `errorCode`.
    pub fn code(self) -> &'static str {
        match self {
            Self::TechnicalError => "102",
            Self::DeviceNotFound => "106",
            Self::CountNotSupported => "109",
            Self::InvalidRequest => "501",
            Self::InvalidPurpose => "502",
            Self::MissingTransactionId => "503",
            Self::Timeout => "504",
        }
    }

    /// The `errorInfo`.
    pub fn info(self) -> &'static str {
        match self {
            Self::TechnicalError => "Technical error during extraction",
            Self::DeviceNotFound => "Device not found",
            Self::CountNotSupported => "Requested number of biometric (Finger/IRIS) not supported",
            Self::InvalidRequest => "Invalid capture request",
            Self::InvalidPurpose => "Invalid purpose: this device captures for Auth only",
            Self::MissingTransactionId => "Missing transactionId",
            Self::Timeout => "Capture timed out",
        }
    }

    /// The capture response reporting this error.
    pub fn response(self) -> Value {
        json!({"biometrics": [{
            "specVersion": SPEC_VERSION,
            "data": "",
            "hash": "",
            "sessionKey": "",
            "thumbprint": "",
            "error": {"errorCode": self.code(), "errorInfo": self.info()},
        }]})
    }
}

/// The capture request (members the device reads; others are ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct CaptureRequest {
    env: Option<String>,
    purpose: Option<String>,
    spec_version: Option<String>,
    timeout: Option<Value>,
    domain_uri: Option<String>,
    transaction_id: Option<String>,
    bio: Vec<BioRequest>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct BioRequest {
    #[serde(rename = "type")]
    bio_type: Option<String>,
    count: Option<Value>,
    bio_sub_type: Option<Value>,
    requested_score: Option<Value>,
    device_id: Option<String>,
    previous_hash: Option<String>,
}

/// One validated bio item.
struct Planned<'a> {
    modality: Modality,
    device_code: &'a str,
    count: usize,
    sub_types: Vec<String>,
    requested_score: u64,
    previous_hash: String,
}

/// A number, or a string holding one (the UI sends numbers, the specification strings).
fn number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl MockSbi {
    /// Answers a `CAPTURE` body. Never fails: refusals are SBI error entries.
    pub(crate) async fn capture(&self, body: &[u8]) -> Value {
        match self.try_capture(body).await {
            Ok(response) => response,
            Err(error) => {
                tracing::info!(code = error.code(), "mock SBI capture refused");
                error.response()
            }
        }
    }

    async fn try_capture(&self, body: &[u8]) -> Result<Value, SbiError> {
        let request: CaptureRequest =
            serde_json::from_slice(body).map_err(|_| SbiError::InvalidRequest)?;
        if request.purpose.as_deref() != Some("Auth") {
            return Err(SbiError::InvalidPurpose);
        }
        let transaction_id = request
            .transaction_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or(SbiError::MissingTransactionId)?;
        if request.bio.is_empty() {
            return Err(SbiError::InvalidRequest);
        }
        let plan = request
            .bio
            .iter()
            .map(|bio| self.plan(bio))
            .collect::<Result<Vec<_>, _>>()?;
        let timeout = number(request.timeout.as_ref())
            .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
            .min(MAX_TIMEOUT);
        // The "capture": the configured delay, abandoned at the request's timeout.
        tokio::time::timeout(timeout, tokio::time::sleep(self.config.capture_delay))
            .await
            .map_err(|_| SbiError::Timeout)?;

        let spec_version = request
            .spec_version
            .as_deref()
            .filter(|version| *version == SPEC_VERSION)
            .unwrap_or(SPEC_VERSION);
        let env = request.env.as_deref().unwrap_or("Developer");
        let domain_uri = request.domain_uri.as_deref().unwrap_or_default();
        let mut biometrics = Vec::new();
        for planned in plan {
            let digital_id = self
                .device(planned.modality)
                .map(|device| self.digital_id(device))
                .transpose()
                .map_err(technical)?
                .unwrap_or_default();
            let mut previous_hash = planned.previous_hash.clone();
            for index in 0..planned.count {
                let template = esignet_jose::random_bytes(TEMPLATE_BYTES);
                let sub_type = planned
                    .sub_types
                    .get(index)
                    .map_or(planned.modality.default_sub_type(), String::as_str);
                let payload = json!({
                    "digitalId": digital_id,
                    "deviceCode": planned.device_code,
                    "deviceServiceVersion": "1.0.0",
                    "bioType": planned.modality.as_str(),
                    "bioSubType": sub_type,
                    "purpose": "Auth",
                    "env": env,
                    "domainUri": domain_uri,
                    "bioValue": esignet_jose::b64url_encode(&template),
                    "transactionId": transaction_id,
                    "timestamp": self.timestamp(),
                    "requestedScore": planned.requested_score,
                    "qualityScore": self.config.quality_score,
                });
                let data = self.sign(&payload).map_err(technical)?;
                let template_hash = hex_upper(&esignet_jose::sha256(&template));
                let chained = format!("{previous_hash}{template_hash}");
                let hash = hex_upper(&esignet_jose::sha256(chained.as_bytes()));
                biometrics.push(json!({
                    "specVersion": spec_version,
                    "data": data,
                    "hash": hash,
                    "sessionKey": esignet_jose::b64url_encode(&esignet_jose::random_bytes(32)),
                    "thumbprint": self.thumbprint,
                    "error": success(),
                }));
                previous_hash = hash;
            }
        }
        Ok(json!({ "biometrics": biometrics }))
    }

    /// Checks one bio item against the devices.
    fn plan<'a>(&'a self, bio: &BioRequest) -> Result<Planned<'a>, SbiError> {
        let modality = bio
            .bio_type
            .as_deref()
            .and_then(Modality::parse)
            .ok_or(SbiError::DeviceNotFound)?;
        let device = self.device(modality).ok_or(SbiError::DeviceNotFound)?;
        if let Some(id) = bio.device_id.as_deref().map(str::trim)
            && !id.is_empty()
            && id != device.device_id
        {
            return Err(SbiError::DeviceNotFound);
        }
        let count = match bio.count.as_ref() {
            None | Some(Value::Null) => 1,
            Some(value) => number(Some(value))
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(SbiError::CountNotSupported)?,
        };
        if count == 0 || count > modality.max_count() {
            return Err(SbiError::CountNotSupported);
        }
        let sub_types = match &bio.bio_sub_type {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(SbiError::InvalidRequest)?,
            Some(Value::String(single)) if !single.is_empty() => vec![single.clone()],
            _ => Vec::new(),
        };
        Ok(Planned {
            modality,
            device_code: &device.device_code,
            count,
            sub_types,
            requested_score: number(bio.requested_score.as_ref()).unwrap_or(0),
            previous_hash: bio.previous_hash.clone().unwrap_or_default(),
        })
    }
}

fn technical(error: crate::MockSbiError) -> SbiError {
    tracing::error!(%error, "mock SBI cannot sign its output");
    SbiError::TechnicalError
}
