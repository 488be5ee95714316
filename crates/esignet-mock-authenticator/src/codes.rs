//! Error codes the mock returns in [`esignet_spi::PluginError`]. They reach relying parties and the
//! login UI verbatim, so they are the eSignet / mock identity system codes the UI translates.

/// No identity has the given individual id.
pub const INVALID_INDIVIDUAL_ID: &str = "invalid_individual_id";
/// A requested OTP channel is not one the mock sends on.
pub const INVALID_OTP_CHANNEL: &str = "invalid_otp_channel";
/// None of the requested OTP channels has a destination on the identity.
pub const NO_EMAIL_MOBILE_FOUND: &str = "no_email_mobile_found";
/// The OTP could not be recorded (cache unavailable).
pub const SEND_OTP_FAILED: &str = "send_otp_failed";
/// A challenge did not match (wrong OTP, PIN, password, KBI answer, unusable biometrics), or no
/// challenge was given.
pub const AUTH_FAILED: &str = "auth_failed";
/// No pending OTP for this transaction and individual: `send_otp` was not called, or the OTP
/// expired or was already used.
pub const INVALID_TRANSACTION: &str = "invalid_transaction";
/// An OTP challenge came without a transaction id.
pub const INVALID_TRANSACTION_ID: &str = "invalid_transaction_id";
/// The factor type is unknown, or one the mock does not support (`IDT`; for key binding also
/// `BIO` and `WLA`).
pub const INVALID_AUTH_FACTOR_TYPE: &str = "invalid_auth_factor_type";
/// The challenge format does not fit the factor type.
pub const INVALID_CHALLENGE_FORMAT: &str = "invalid_challenge_format";
/// The KYC token is unknown, expired, already used, or belongs to another transaction or
/// individual.
pub const INVALID_KYC_TOKEN: &str = "invalid_kyc_token";
/// The KYC could not be built or signed.
pub const DATA_EXCHANGE_FAILED: &str = "data_exchange_failed";
/// An infrastructure failure (cache, randomness) outside send-OTP and the exchange.
pub const UNKNOWN_ERROR: &str = "unknown_error";
/// The wallet's key could not be certified (unusable key, issuing failed).
pub const KEY_BINDING_FAILED: &str = "key_binding_failed";
/// A registration names a member the identity schema does not know.
pub const UNKNOWN_FIELD: &str = "unknown_field";
/// A registration for an individual id that already exists.
pub const DUPLICATE_INDIVIDUAL_ID: &str = "duplicate_individual_id";
/// A verified claim names a field that is not a claim field, or that the identity has no value
/// for.
pub const INVALID_CLAIM: &str = "invalid_claim";
/// A registry request of the wrong shape (not an identity document, a verification without a
/// trust framework ...).
pub const INVALID_REQUEST: &str = "invalid_request";
