//! eSignet signup's error codes (companions 3.7), used verbatim on the wire.

#![allow(missing_docs)]

pub const CHALLENGE_FAILED: &str = "challenge_failed";
pub const INVALID_CHALLENGE_INFO: &str = "invalid_challenge_info";
pub const INVALID_IDENTIFIER: &str = "invalid_identifier";
pub const INVALID_USERNAME: &str = "invalid_username";
pub const INVALID_PASSWORD: &str = "invalid_password";
pub const INVALID_USERINFO: &str = "invalid_userinfo";
pub const INVALID_CONSENT: &str = "invalid_consent";
pub const INVALID_PURPOSE: &str = "invalid_purpose";
pub const IDENTIFIER_MISMATCH: &str = "identifier_mismatch";
pub const CONSENT_REQUIRED: &str = "consent_required";
pub const INVALID_TRANSACTION: &str = "invalid_transaction";
pub const INVALID_CAPTCHA: &str = "invalid_captcha";
pub const GENERATE_CHALLENGE_FAILED: &str = "generate_challenge_failed";
pub const UNKNOWN_ERROR: &str = "unknown_error";
pub const TOO_MANY_VERIFY_ATTEMPTS: &str = "too_many_verify_attempts";
pub const INVALID_REQUEST: &str = "invalid_request";
pub const INVALID_CHALLENGE: &str = "invalid_challenge";
pub const CHALLENGE_EXPIRED: &str = "challenge_expired";
pub const INVALID_CHALLENGE_FORMAT: &str = "invalid_challenge_format";
pub const INVALID_CHALLENGE_TYPE: &str = "invalid_challenge_type";
pub const UNSUPPORTED_LANGUAGE: &str = "unsupported_language";
pub const RESET_PWD_FAILED: &str = "reset_pwd_failed";
pub const TOO_EARLY_ATTEMPT: &str = "too_early_attempt";
pub const UNSUPPORTED_PURPOSE: &str = "unsupported_purpose";
pub const IDENTIFIER_ALREADY_REGISTERED: &str = "identifier_already_registered";
pub const IDENTIFIER_NOT_FOUND: &str = "identifier_not_found";
pub const INVALID_KBI_CHALLENGE: &str = "invalid_KBI_challenge";
pub const KBI_CHALLENGE_NOT_FOUND: &str = "kbi_challenge_not_found";
pub const CHALLENGE_FORMAT_AND_TYPE_MISMATCH: &str = "challenge_format_and_type_mismatch";
pub const KNOWLEDGEBASE_MISMATCH: &str = "knowledgebase_mismatch";
pub const IDENTIFIER_BLOCKED: &str = "identifier_blocked";
pub const OTP_NOTIFICATION_FAILED: &str = "otp_notification_failed";
pub const SERVER_UNREACHABLE: &str = "server_unreachable";
pub const ADD_IDENTITY_FAILED: &str = "add_identity_failed";
pub const UI_SPEC_NOT_FOUND: &str = "ui_spec_not_found";
