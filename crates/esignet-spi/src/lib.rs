//! The seams of eSignet-rs.
//!
//! Everything that can be swapped lives behind a trait in this crate: the identity system
//! ([`Authenticator`]) and its wallet key binder ([`KeyBinder`]), where audit events go
//! ([`AuditSink`]), durable storage ([`ClientStore`], [`ConsentStore`], [`KeyStore`],
//! [`BindingStore`]), the short-lived flow cache ([`Cache`]), token signing ([`TokenSigner`]),
//! captcha checks ([`CaptchaVerifier`]) and time ([`Clock`]).
//!
//! Why a separate crate: the domain (`esignet-core`) and the HTTP layer (`esignet-web`) are
//! written against these traits only, so a deployment can run on the embedded store and the
//! in-process cache, or on PostgreSQL and Redis, or against a remote identity system, without
//! the protocol code knowing which. Implementations name themselves `<Backend><Trait>`
//! (`SqliteStore`, `MemoryCache`, `MockAuthenticator`).
//!
//! Every trait is object safe (`Arc<dyn Trait>` is how the service holds them) and every
//! fallible method returns the trait's own error type; none of them knows about HTTP.
#![deny(missing_docs)]

mod audit;
mod authenticator;
mod binding;
mod cache;
mod captcha;
mod clock;
mod notification;
mod signer;
mod store;
mod telemetry;

pub use audit::{AuditAction, AuditEvent, AuditMetrics, AuditSink, AuditStatus, NoAuditMetrics};
pub use authenticator::{
    AuthChallenge, Authenticator, KycAuthRequest, KycAuthResult, KycExchangeRequest,
    KycExchangeResult, PluginError, SendOtpRequest, SendOtpResult, SigningCertificate,
    UserinfoResponseType,
};
pub use binding::{BindingStore, KeyBinder, KeyBindingRecord, KeyBindingRequest, KeyBindingResult};
pub use cache::{BatchOutcome, Cache, CacheError, CacheReply, CacheStep, Subscription};
pub use captcha::{CAPTCHA_ACTIONS, CaptchaError, CaptchaVerifier, NoCaptcha};
pub use clock::{Clock, ManualClock, SystemClock};
pub use notification::{
    Notification, NotificationChannel, NotificationError, NotificationTemplate, Notifier,
    mask_recipient,
};
pub use signer::{SignerError, TokenSigner};
pub use store::{
    ClientRecord, ClientStatus, ClientStore, ConsentRecord, ConsentStore, KeyRecord, KeyStore,
    StoreError,
};
pub use telemetry::{LoginMetrics, NoLoginMetrics, current_request_id, with_request_id};
