//! The crate's error type.

/// Why a JOSE operation failed.
///
/// Messages name the rule that was broken (a member, a size, an algorithm) and never include
/// key material, signatures, plaintexts or token contents, so they are safe to log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JoseError {
    /// A value was not valid unpadded base64url.
    #[error("invalid base64url encoding")]
    InvalidBase64,
    /// A JSON document (header, claims, JWK) could not be parsed or had the wrong shape.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// A JWK broke a rule; the string names the rule.
    #[error("invalid JWK: {0}")]
    InvalidJwk(&'static str),
    /// A compact JWS or JWE was malformed; the string names what was wrong.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The token exceeds the size we are willing to parse.
    #[error("token too large")]
    TooLarge,
    /// The algorithm (or `enc`) is not one this crate implements.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The key cannot be used with the requested algorithm or operation.
    #[error("key does not support {0}")]
    KeyMismatch(&'static str),
    /// The key type, curve or size is not supported.
    #[error("unsupported key: {0}")]
    UnsupportedKey(&'static str),
    /// Decryption or authentication of ciphertext failed (wrong key or tampered data).
    #[error("decryption failed")]
    DecryptionFailed,
    /// The crypto backend reported an error.
    #[error("crypto backend error: {0}")]
    Crypto(String),
}

impl From<openssl::error::ErrorStack> for JoseError {
    // OpenSSL error stacks name the library, function and reason, never the operands.
    fn from(error: openssl::error::ErrorStack) -> Self {
        JoseError::Crypto(error.to_string())
    }
}

impl From<serde_json::Error> for JoseError {
    // serde_json reports line/column and the expected shape, not the input text.
    fn from(error: serde_json::Error) -> Self {
        JoseError::InvalidJson(error.to_string())
    }
}
