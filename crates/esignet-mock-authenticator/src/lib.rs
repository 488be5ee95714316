//! The built-in mock identity system, so a whole eSignet login runs with nothing else installed.
//!
//! It reproduces the behaviour of MOSIP's Java `mock-identity-system` behind the
//! [`esignet_spi::Authenticator`] seam: identities in the Java mock's JSON shape, the fixed
//! development OTP, PIN / password / knowledge-based / biometric login, pairwise subjects, and a
//! signed KYC with multi-language claims and OpenID Identity Assurance `verified_claims`.
//!
//! # Layout
//!
//! The identity logic is pure and reusable (a later mock-identity HTTP service is built on it):
//! [`Identity`] and [`Directory`] hold the data, [`otp_destinations`] and the masking functions
//! decide where an OTP goes, the `verify_*` functions check factors, [`build_kyc_claims`] and
//! [`claims_metadata`] build what is released. [`MockAuthenticator`] is the thin adapter that
//! keeps pending OTPs and KYC tokens in the injected cache and signs with the injected signer.
//! [`SharedDirectory`] lets the directory change while the mock runs; [`RegisteredIdentities`]
//! writes residents who register themselves through it to durable [`IdentityRecords`], with the
//! identity schema ([`validate_for`], [`SchemaProfile`]) and the signup account form
//! ([`signup_ui_spec`]) the mock identity HTTP service uses too.
//!
//! # Deliberate differences from the Java mock
//!
//! * Every challenge of a login must pass (the Java mock let the last factor decide).
//! * A KBI challenge with none of the configured fields fails (the Java mock let it pass).
//! * An OTP is consumed only when the whole login succeeds, atomically, so it never works twice.
//! * Biometrics must at least be well-formed SBI capture output. **The mock does not match
//!   biometrics**: any capture of anyone passes.
//! * Wallet (`WLA`) logins: the service verifies the token against its key registry before the
//!   mock sees it; the mock checks that the token's `sub` is the individual (the Java mock takes
//!   any non-empty token). ID-token (`IDT`) logins are refused with `invalid_auth_factor_type`:
//!   the sign-up flow is later work.
//! * Key binding ([`MockKeyBinder`]): the same checks as a login (not biometrics), then the
//!   wallet's key is certified by a binding CA key.
//! * Claims metadata reports `address` as one claim (the Java mock keyed address members
//!   separately and never found their verifications).
//! * A claim whose language matches no requested locale falls back to the default language
//!   instead of an empty string.
//! * The KYC is always a JWS; the service encrypts it for JWE clients.
//!
//! # Demo personas
//!
//! [`Directory::demo`] loads these (also returned by [`demo_credentials`] for the CLI). They are
//! published demo credentials, not secrets. The OTP of every persona is `111111` (after a
//! send-OTP); KBI answers are the persona's phone, e-mail or date of birth (`yyyy-MM-dd`).
//!
//! | Individual id | Name | PIN | Password |
//! |---|---|---|---|
//! | 8267411571 | Siddharth Kumar Mansour | 482916 | `Mansour1987` |
//! | 5860142938 | Chan Sreymom | 739201 | `Sreymom1992` |
//! | 3519847260 | Priya Lakshmi Ramaswamy | 260395 | `Priya1995Chennai` |
//! | 7704215589 | Manjunath Gowda | 905718 | `Gowda1978Mysuru` |
//! | 6102938475 | Alex Martin | 613048 | `AlexMartin2001` |
//!
//! * 8267411571: names in English, French and Arabic; name and birthdate verified under
//!   `eidas`, the address under `eidas` separately, the name also under `de_aml`.
//! * 5860142938: English and Khmer; **no e-mail** (OTP by phone only); name, birthdate, gender
//!   and phone verified under `nist_800_63A`.
//! * 3519847260: English, Hindi and Tamil; nothing verified.
//! * 7704215589: English and Kannada; name and address verified under `uk_tfida`, plus an
//!   inactive birthdate verification that is never released.
//! * 6102938475: English and French; **no phone** and no street address; nothing verified.

mod authenticator;
mod binder;
pub mod codes;
mod crypto;
mod directory;
mod factors;
mod identity;
mod kyc;
mod kyc_token;
mod otp;
mod registered;
mod schema;
mod settings;
mod shared_directory;
mod ui_spec;

pub use authenticator::{
    KYC_NAMESPACE, MockAuthenticator, OTP_NAMESPACE, partner_specific_user_token,
};
pub use binder::{
    BINDING_PARTNER, BINDING_TRANSACTION_ID, DEFAULT_CERTIFICATE_VALIDITY, MockKeyBinder,
};
pub use crypto::{SALTED_PASSWORD_PREFIX, hash_password, hash_password_salted, sha3_256_b64u};
pub use directory::{DemoCredential, Directory, DirectoryError, demo_credentials};
pub use factors::{
    AuthFactor, encode_kbi_challenge, verify_biometrics, verify_kbi, verify_password, verify_pin,
};
pub use identity::{
    FieldValue, IDENTITY_CLAIM_MAPPING, Identity, LangValue, VerifiedClaim, claim_for_field,
};
pub use kyc::{
    ClaimsLocale, ClaimsRequest, build_kyc_claims, claims_metadata, iso639_3, language_entries,
    release_localized, resolve_locales,
};
pub use kyc_token::{issue_kyc_token, take_kyc_token};
pub use otp::{OtpDestinations, mask_email, mask_mobile, otp_destinations};
pub use registered::{IdentityRecords, RegisteredIdentities, RegistryError};
pub use schema::{SchemaMode, SchemaProfile, SchemaViolation, schema_document, validate_for};
pub use settings::{
    DEFAULT_OTP, DatePattern, DatePatternError, KbiField, KbiFieldKind, MockSettings, PsutMode,
};
pub use shared_directory::SharedDirectory;
pub use ui_spec::signup_ui_spec;
