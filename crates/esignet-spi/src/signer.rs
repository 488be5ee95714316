//! Signing with the service's (or a plugin's) current key.

use crate::authenticator::SigningCertificate;

/// Why a signature could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// No usable key exists (none generated yet, or all expired).
    #[error("no active signing key")]
    NoActiveKey,
    /// The crypto backend failed.
    #[error("signing failed: {0}")]
    Crypto(String),
}

/// Signs compact JWS with the current key of one key application (for example the service's
/// `OIDC_SERVICE` key, or the mock identity system's KYC key).
///
/// Signing is CPU work of well under a millisecond; callers on the async runtime batch it inside
/// `spawn_blocking` when they sign several tokens at once.
pub trait TokenSigner: Send + Sync {
    /// Signs `payload` (the UTF-8 JSON claims) with the current key. The protected header carries
    /// `alg`, `kid` and, when given, `typ`.
    fn sign_jws(&self, typ: Option<&str>, payload: &[u8]) -> Result<String, SignerError>;

    /// The JWS algorithm of the current key (`RS256`, `PS256` or `ES256`).
    fn algorithm(&self) -> &'static str;

    /// The certificates of every key that may still have signatures in circulation (current and
    /// previous, not yet expired), newest first.
    fn certificates(&self) -> Vec<SigningCertificate>;

    /// Public JWKs (with `kid`, `x5c`, `x5t#S256`, `exp`) of the same keys as
    /// [`TokenSigner::certificates`], for the JWKS document.
    fn public_jwks(&self) -> Vec<serde_json::Value>;

    /// Verifies a compact JWS signed by one of this signer's keys (current or previous), returning
    /// the payload bytes. `None` if the signature does not verify or the `kid` is unknown.
    fn verify_jws(&self, compact: &str) -> Option<Vec<u8>>;
}
