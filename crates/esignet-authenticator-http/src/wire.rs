//! The JSON bodies of the identity system's API, as eSignet's mock plugin sends and reads them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `{"response": ..., "errors": [{"errorCode", "message"}]}`; `responseTime` is not needed.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    #[serde(default)]
    pub response: Value,
    /// Absent or `null` on some Java answers; treated as empty.
    #[serde(default)]
    pub errors: Option<Vec<WireError>>,
}

/// One error. Only the code is used: the message is not for relying parties.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireError {
    #[serde(default)]
    pub error_code: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SendOtpBody<'a> {
    pub transaction_id: &'a str,
    pub individual_id: &'a str,
    pub otp_channels: &'a [String],
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SendOtpResponse {
    pub transaction_id: Option<String>,
    pub masked_email: Option<String>,
    pub masked_mobile: Option<String>,
}

/// The `v2/kyc-auth` body: one member per factor.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KycAuthBody<'a> {
    pub transaction_id: &'a str,
    pub individual_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub biometrics: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kbi: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<&'a str>,
    pub claim_metadata_required: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KycAuthResponse {
    #[serde(default)]
    pub auth_status: bool,
    pub kyc_token: Option<String>,
    pub partner_specific_user_token: Option<String>,
    pub claim_metadata: Option<Map<String, Value>>,
}

/// The `kyc-exchange` body; v2 adds `acceptedClaimDetail`, v3 `respType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KycExchangeBody<'a> {
    pub request_date_time: String,
    pub transaction_id: &'a str,
    pub kyc_token: &'a str,
    pub individual_id: &'a str,
    pub accepted_claims: &'a [String],
    pub claim_locales: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_claim_detail: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_type: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct KycExchangeResponse {
    pub kyc: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeysResponse {
    #[serde(default)]
    pub all_certificates: Vec<WireCertificate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireCertificate {
    pub certificate_data: String,
    pub issued_at: String,
    pub expiry_at: String,
    pub key_id: String,
}

/// `requestDateTime` as the Java mock parses it: a UTC `LocalDateTime`, milliseconds, no zone.
const LOCAL_DATE_TIME: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]");

/// A zone-less date-time with optional fraction (`2024-07-24T08:53:05`, `...05.142`).
const LENIENT_LOCAL: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]");

pub(crate) fn request_date_time(now: OffsetDateTime) -> String {
    now.to_offset(time::UtcOffset::UTC)
        .format(LOCAL_DATE_TIME)
        .unwrap_or_default()
}

/// Parses a `keys.json` timestamp: RFC 3339, or a zone-less date-time taken as UTC (the Java
/// key manager serializes `LocalDateTime`), with or without a trailing `Z`.
pub(crate) fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        PrimitiveDateTime::parse(text.trim_end_matches('Z'), LENIENT_LOCAL)
            .ok()
            .map(PrimitiveDateTime::assume_utc)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn timestamps_in_every_form_the_services_use() {
        let at = datetime!(2024-07-24 08:53:05.142 UTC);
        assert_eq!(parse_timestamp("2024-07-24T08:53:05.142Z"), Some(at));
        assert_eq!(parse_timestamp("2024-07-24T08:53:05.142"), Some(at));
        assert_eq!(parse_timestamp("2024-07-24T10:53:05.142+02:00"), Some(at));
        assert_eq!(
            parse_timestamp("2024-07-24T08:53:05"),
            Some(datetime!(2024-07-24 08:53:05 UTC))
        );
        assert_eq!(parse_timestamp("24 July 2024"), None);
        assert_eq!(request_date_time(at), "2024-07-24T08:53:05.142");
    }

    #[test]
    fn kyc_auth_body_sends_only_the_supplied_factors() {
        let body = KycAuthBody {
            transaction_id: "T1",
            individual_id: "42",
            pin: Some("1234"),
            tokens: vec![],
            claim_metadata_required: true,
            ..KycAuthBody::default()
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"transactionId": "T1", "individualId": "42", "pin": "1234",
                   "claimMetadataRequired": true})
        );
    }
}
