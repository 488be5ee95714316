//! Error codes of the mock identity service (the `errorCode` of an error in the envelope).
//!
//! The authentication and exchange codes are those of the built-in mock
//! ([`esignet_mock_authenticator::codes`]: `auth_failed`, `invalid_transaction`,
//! `invalid_kyc_token`, ...), passed through unchanged. Schema violations on `/identity` use
//! `invalid_<lower-case field>` (e.g. `invalid_email`, `invalid_fullname`) and [`UNKNOWN_FIELD`].

/// The envelope is malformed: not JSON, `requestTime` missing, not in the UTC millisecond format
/// or more than 120 s away from the server's time, `request` missing, or a body of the wrong
/// shape.
pub const INVALID_REQUEST: &str = esignet_mock_authenticator::codes::INVALID_REQUEST;
/// A member the identity schema does not know.
pub const UNKNOWN_FIELD: &str = esignet_mock_authenticator::codes::UNKNOWN_FIELD;
/// `POST /identity` for an individual id that already exists.
pub const DUPLICATE_INDIVIDUAL_ID: &str =
    esignet_mock_authenticator::codes::DUPLICATE_INDIVIDUAL_ID;
/// The individual id is missing, or no identity has it.
pub const INVALID_INDIVIDUAL_ID: &str = "invalid_individual_id";
/// `add-verified-claim` names a field that is not a claim field, or that the identity has no
/// value for.
pub const INVALID_CLAIM: &str = esignet_mock_authenticator::codes::INVALID_CLAIM;
/// `POST /partner` without a partner (relying party) id.
pub const INVALID_PARTNER_ID: &str = "invalid_partner_id";
/// `POST /partner` without a client id.
pub const INVALID_CLIENT_ID: &str = "invalid_client_id";
/// `POST /partner` with a key that is not an RSA public JWK usable for `RSA-OAEP-256`.
pub const INVALID_PARTNER_KEY: &str = "invalid_partner_key";
/// `POST /partner` with a non-string status.
pub const INVALID_STATUS: &str = "invalid_status";
/// `send-otp` without any channel.
pub const INVALID_OTP_CHANNEL: &str = "invalid_otp_channel";
/// `v3/kyc-exchange` with a `respType` other than `JWS` or `JWE`.
pub const INVALID_RESP_TYPE: &str = "invalid_resp_type";
/// The KYC could not be produced: signing failed, or a JWE was asked for and no active partner
/// key is registered for (relying party, client). The Java mock says `mock-ida-008` here.
pub const DATA_EXCHANGE_FAILED: &str = "data_exchange_failed";
/// An infrastructure failure (database, key store).
pub const UNKNOWN_ERROR: &str = "unknown_error";
/// A key-binding request without a usable public JWK.
pub const INVALID_PUBLIC_KEY: &str = "invalid_public_key";
/// `GET /identity/ui-spec` with the full schema: no account form is served (signup's code).
pub const UI_SPEC_NOT_FOUND: &str = "ui_spec_not_found";
/// `send-otp` could not deliver the OTP through the configured notifier (eSignet's code).
pub const SEND_OTP_FAILED: &str = "send_otp_failed";
