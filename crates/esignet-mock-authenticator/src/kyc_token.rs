//! Single-use KYC tokens for authenticators that keep their own KYC state in the shared cache
//! (Sunbird RC, the generic REST identity system): `kyc_auth` issues a random token whose record
//! is stored under its SHA-256 (the cache never sees the token itself), and `kyc_exchange` takes
//! it back exactly once, on any instance.

use std::time::Duration;

use esignet_spi::{Cache, PluginError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codes;

/// Stores `record` for `ttl` under a new random token in `namespace`; returns the token.
/// Errors: `unknown_error` (the record cannot be encoded or the cache is down).
pub async fn issue_kyc_token<T: Serialize>(
    cache: &dyn Cache,
    namespace: &str,
    ttl: Duration,
    record: &T,
) -> Result<String, PluginError> {
    let token = esignet_jose::random_id();
    let encoded = serde_json::to_vec(record).map_err(|_| PluginError::new(codes::UNKNOWN_ERROR))?;
    cache
        .put(
            namespace,
            &esignet_jose::sha256_b64url(token.as_bytes()),
            encoded,
            ttl,
        )
        .await
        .map_err(|_| PluginError::new(codes::UNKNOWN_ERROR))?;
    Ok(token)
}

/// Takes the record of `token` out of `namespace` (it cannot be taken twice). Errors:
/// `invalid_kyc_token` (unknown, expired or spent), `data_exchange_failed` (the cache is down or
/// the record unreadable).
pub async fn take_kyc_token<T: DeserializeOwned>(
    cache: &dyn Cache,
    namespace: &str,
    token: &str,
) -> Result<T, PluginError> {
    let failed = || PluginError::new(codes::DATA_EXCHANGE_FAILED);
    let stored = cache
        .take(namespace, &esignet_jose::sha256_b64url(token.as_bytes()))
        .await
        .map_err(|_| failed())?
        .ok_or_else(|| PluginError::new(codes::INVALID_KYC_TOKEN))?;
    serde_json::from_slice(&stored).map_err(|_| failed())
}
