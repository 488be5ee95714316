//! The error-code strings eSignet emits, as constants so a typo cannot invent a new code.
//!
//! These are wire values: relying parties, wallets and the official UI match on them.

#![allow(missing_docs)]

pub const INVALID_REQUEST: &str = "invalid_request";
pub const INVALID_CLIENT: &str = "invalid_client";
pub const INVALID_CLIENT_ID: &str = "invalid_client_id";
pub const INVALID_CLIENT_NAME: &str = "invalid_client_name";
pub const INVALID_LANGUAGE_CODE: &str = "invalid_language_code";
pub const INVALID_CLIENT_NAME_VALUE: &str = "invalid_client_name_value";
pub const INVALID_CLIENT_NAME_LENGTH: &str = "invalid_client_name_length";
pub const INVALID_URI: &str = "invalid_uri";
pub const INVALID_RP_ID: &str = "invalid_rp_id";
pub const INVALID_RESPONSE_TYPE: &str = "invalid_response_type";
pub const INVALID_GRANT: &str = "invalid_grant";
pub const UNSUPPORTED_GRANT_TYPE: &str = "unsupported_grant_type";
pub const INVALID_SCOPE: &str = "invalid_scope";
pub const INVALID_REDIRECT_URI: &str = "invalid_redirect_uri";
pub const INVALID_DISPLAY: &str = "invalid_display";
pub const INVALID_PROMPT: &str = "invalid_prompt";
pub const INVALID_CLIENT_AUTH: &str = "invalid_client_auth";
pub const INVALID_TRANSACTION: &str = "invalid_transaction";
pub const INVALID_ACR: &str = "invalid_acr";
pub const INVALID_TOKEN: &str = "invalid_token";
/// Revocation (RFC 7009 §2.1) of a token issued to another client.
pub const TOKEN_NOT_ISSUED_TO_CLIENT: &str = "token_not_issued_to_client";
/// RP-initiated logout: `post_logout_redirect_uri` not registered for the client, or given
/// without a way to identify the client.
pub const INVALID_POST_LOGOUT_REDIRECT_URI: &str = "invalid_post_logout_redirect_uri";
/// An `id_token_hint` that is not an ID token we issued (or not for the named client).
pub const INVALID_ID_TOKEN_HINT: &str = "invalid_id_token_hint";
pub const ACR_AMR_MAPPING_NOT_FOUND: &str = "acr_amr_mapping_not_found";
pub const NO_ACR_REGISTERED: &str = "no_acr_registered";
pub const UNKNOWN_ERROR: &str = "unknown_error";
pub const DUPLICATE_CLIENT_ID: &str = "duplicate_client_id";
pub const INVALID_CLAIM: &str = "invalid_claim";
pub const INVALID_PUBLIC_KEY: &str = "invalid_public_key";
pub const MISSING_HEADER: &str = "missing_header";
pub const INVALID_IDENTIFIER: &str = "invalid_identifier";
pub const INVALID_OTP_CHANNEL: &str = "invalid_otp_channel";
pub const INVALID_NO_OF_CHALLENGES: &str = "invalid_no_of_challenges";
pub const INVALID_PERMITTED_SCOPE: &str = "invalid_permitted_scope";
pub const INVALID_ACCEPTED_CLAIM: &str = "invalid_accepted_claim";
pub const INVALID_TRANSACTION_ID: &str = "invalid_transaction_id";
pub const INVALID_AUTH_FACTOR_TYPE: &str = "invalid_auth_factor_type";
pub const INVALID_CHALLENGE: &str = "invalid_challenge";
pub const INVALID_CHALLENGE_FORMAT: &str = "invalid_challenge_format";
pub const INVALID_STATUS: &str = "invalid_status";
pub const AUTH_FACTOR_MISMATCH: &str = "auth_factor_mismatch";
pub const DUPLICATE_PUBLIC_KEY: &str = "duplicate_public_key";
pub const INVALID_PKCE_CHALLENGE: &str = "invalid_pkce_challenge";
pub const UNSUPPORTED_PKCE_CHALLENGE_METHOD: &str = "unsupported_pkce_challenge_method";
pub const INVALID_PKCE_CODE_VERIFIER: &str = "invalid_pkce_code_verifier";
pub const PKCE_FAILED: &str = "pkce_failed";
pub const NO_ATTEMPTS_LEFT: &str = "no_attempts_left";
pub const INDIVIDUAL_ID_BLOCKED: &str = "individual_id_blocked";
pub const INVALID_VERIFICATION: &str = "invalid_verification";
pub const INVALID_VERIFIED_CLAIMS: &str = "invalid_verified_claims";
pub const INVALID_PURPOSE: &str = "invalid_purpose";
pub const INVALID_ADDITIONAL_CONFIG: &str = "invalid_additional_config";
pub const INVALID_DPOP_PROOF: &str = "invalid_dpop_proof";
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";
pub const AUTH_FAILED: &str = "auth_failed";
pub const SEND_OTP_FAILED: &str = "send_otp_failed";
pub const DATA_EXCHANGE_FAILED: &str = "data_exchange_failed";
pub const FAILED_TO_CREATE_JWE: &str = "failed_to_create_jwe";
pub const INVALID_CAPTCHA: &str = "invalid_captcha";
pub const FAILED_TO_VALIDATE_CAPTCHA: &str = "failed_to_validate_captcha";
pub const LOGIN_REQUIRED: &str = "login_required";
pub const SERVICE_UNAVAILABLE: &str = "service_unavailable";

// Wallet key binding and the QR-code (linked) login (reference §3.8, §3.9, §9).
pub const NOT_IMPLEMENTED: &str = "not_implemented";
pub const INVALID_LINK_CODE: &str = "invalid_link_code";
pub const LINK_CODE_LIMIT_REACHED: &str = "link_code_limit_reached";
pub const RESPONSE_TIMEOUT: &str = "response_timeout";
pub const INVALID_INDIVIDUAL_ID: &str = "invalid_individual_id";
pub const INVALID_WLA_TOKEN: &str = "invalid_wla_token";
pub const KEY_BINDING_FAILED: &str = "key_binding_failed";
pub const BINDING_NOT_FOUND: &str = "binding_not_found";
/// A WLA token or consent signature names a certificate that is not the resident's current
/// binding (for example one replaced by a re-binding).
pub const BINDING_AUTH_FAILED: &str = "binding_auth_failed";
pub const UNBOUND_AUTH_FACTOR: &str = "unbound_auth_factor";
pub const SHA256_THUMBPRINT_HEADER_MISSING: &str = "sha256_thumbprint_header_missing";
pub const INVALID_CERTIFICATE: &str = "invalid_certificate";
pub const INVALID_SIGNATURE_FORMAT: &str = "invalid_signature_format";
pub const INVALID_AUTH_FACTOR_TYPE_OR_CHALLENGE_FORMAT: &str =
    "invalid_auth_factor_type_or_challenge_format";
