//! The authorization transaction: everything a login needs between the authorization request
//! and the token call, held in the flow cache under one stage at a time (eSignet §6).
//!
//! Invariant: a transaction lives in exactly one stage; moving it evicts the source entry, so a
//! step can never be replayed against an earlier stage. Personal data is kept only in the form
//! the next step needs: the individual id encrypted (AES-256-GCM) and hashed, never in clear.

use std::time::Duration;

use esignet_spi::{BatchOutcome, Cache, CacheReply, CacheStep, UserinfoResponseType};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::acr::AuthFactor;
use crate::claims::ResolvedClaims;
use crate::error::{Error, Result};

/// The cache namespaces (stages and purpose caches).
pub mod stage {
    /// After oauth-details, waiting for authentication (key: transaction id).
    pub const PREAUTH: &str = "preauth";
    /// After authentication, waiting for consent / auth-code (key: transaction id).
    pub const AUTHENTICATED: &str = "authenticated";
    /// Code issued, waiting for the token call (key: SHA3 of the code).
    pub const AUTH_CODE: &str = "authcodegenerated";
    /// Tokens issued, serving userinfo (key: hash of the access token).
    pub const USERINFO: &str = "userinfo";
    /// Pushed authorization requests (key: request_uri id).
    pub const PAR: &str = "par";
    /// Nonces already used in an authorization request.
    pub const NONCE: &str = "nonce";
    /// `jti` of client assertions and DPoP proofs already seen.
    pub const JTI: &str = "jti";
    /// Per-transaction, per-API attempt counters.
    pub const RATE_LIMIT: &str = "apiratelimit";
    /// Individuals blocked after too many attempts (key: SHA3 of the individual id).
    pub const BLOCKED: &str = "blocked";
    /// DPoP server nonces (key: the nonce; value: the key thumbprint it was issued to).
    pub const DPOP_NONCE: &str = "dpopnonce";
    /// Authenticated transactions parked while the resident is at the signup service
    /// (key: transaction id); complete-signup-redirect moves them back to `authenticated`.
    pub const HALTED: &str = "halted";

    // The QR-code (linked) login, eSignet §6. A `preauth` transaction moves to `linked` when a
    // wallet scans its link code, then `linkedauth` after the wallet's authentication, then
    // `consented` (directly when stored consent covers the request), then `authcodegenerated`
    // when the browser collects its code.
    /// Link codes shown as QR codes, not yet scanned (key: SHA3 of the link code).
    pub const LINK_CODE_GENERATED: &str = "linkcodegenerated";
    /// The active link-code slots of a transaction (key: `<transaction id>:<slot>`).
    pub const LINK_CODE_SLOT: &str = "linkcodeslot";
    /// Scanned link codes, for the browser's polls (key: SHA3 of the link code).
    pub const LINKED_CODE: &str = "linkedcode";
    /// Linked transactions waiting for the wallet's authentication (key: linked transaction id).
    pub const LINKED: &str = "linked";
    /// Wallet-authenticated transactions waiting for consent (key: linked transaction id).
    pub const LINKED_AUTH: &str = "linkedauth";
    /// Consented transactions waiting for the browser (key: linked transaction id).
    pub const CONSENTED: &str = "consented";
    /// `jti` of WLA tokens already used.
    pub const WLA_JTI: &str = "wlajti";
}

/// Whether consent must be captured or can be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsentAction {
    /// Show the consent page.
    Capture,
    /// A valid stored consent covers this request.
    Nocapture,
}

/// One login in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// The 43-character transaction id shown to the UI.
    pub transaction_id: String,
    /// The derived short id given to the identity system (eSignet §8.14).
    pub auth_transaction_id: String,
    /// The client.
    pub client_id: String,
    /// The client's relying party id (for the identity system).
    pub relying_party_id: String,
    /// The exact redirect URI of the request (the token call must repeat it).
    pub redirect_uri: String,
    /// The RP's `state`, echoed back.
    pub state: Option<String>,
    /// The RP's `nonce`, put in the ID token.
    pub nonce: Option<String>,
    /// Requested OpenID scopes.
    pub openid_scopes: Vec<String>,
    /// Requested authorize scopes.
    pub authorize_scopes: Vec<String>,
    /// Resolved requested claims.
    pub claims: ResolvedClaims,
    /// Requested claim locales, most preferred first.
    pub claims_locales: Vec<String>,
    /// Resolved ACRs.
    pub acr_values: Vec<String>,
    /// Factor sets the resident can complete (one per AMR of the ACRs).
    pub auth_factors: Vec<Vec<AuthFactor>>,
    /// Requested prompt values.
    pub prompt: Vec<String>,
    /// Requested `max_age` in seconds.
    pub max_age: Option<u64>,
    /// PKCE S256 challenge, if any.
    pub code_challenge: Option<String>,
    /// The DPoP key thumbprint the code is bound to, if any.
    pub dpop_jkt: Option<String>,
    /// Whether the client demands DPoP-bound tokens.
    pub dpop_required: bool,
    /// SHA-256 (base64url) of the exact oauth-details response bytes.
    pub oauth_details_hash: String,
    /// Consent lifetime for this client, minutes.
    pub consent_expire_minutes: Option<u64>,
    /// JWS or JWE userinfo.
    pub userinfo_response_type: UserinfoResponseType,
    /// Unix time the transaction started.
    pub created_at: i64,
    /// Encrypted individual id (set by send-otp / authenticate).
    pub individual_id_sealed: Option<String>,
    /// base64url(SHA3-256(individual id)): for blocking, and to check the same person is used.
    pub individual_id_hash: Option<String>,
    /// From the identity system after authentication.
    pub kyc_token: Option<String>,
    /// The pairwise subject.
    pub psut: Option<String>,
    /// Unix time of authentication.
    pub auth_time: Option<i64>,
    /// ACRs the presented factors satisfied.
    pub satisfied_acrs: Vec<String>,
    /// Verification metadata per claim from the identity system.
    pub claims_metadata: Map<String, Value>,
    /// Consent decision after authentication.
    pub consent_action: Option<ConsentAction>,
    /// Whether claim-details was already served.
    pub claim_details_served: bool,
    /// Claims the resident accepted.
    pub accepted_claims: Vec<String>,
    /// Authorize scopes the resident permitted.
    pub permitted_scopes: Vec<String>,
    /// Authenticated with the ID-token factor: the token call builds the userinfo itself
    /// instead of asking the identity system (eSignet §8.13 step 4).
    #[serde(default)]
    pub internal_kyc: bool,
}

/// What the userinfo stage keeps: the consented KYC, sealed with a key derived from the access
/// token so the cache alone cannot reveal it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserinfoEntry {
    /// The client the token was issued to.
    pub client_id: String,
    /// The pairwise subject.
    pub psut: String,
    /// DPoP key thumbprint when the token is DPoP-bound.
    pub jkt: Option<String>,
    /// Unix expiry of the access token.
    pub expires_at: i64,
    /// AES-256-GCM sealed userinfo body (base64url).
    pub sealed_userinfo: String,
}

/// Typed access to the flow cache.
#[derive(Clone)]
pub struct FlowCache {
    cache: std::sync::Arc<dyn Cache>,
}

impl FlowCache {
    /// Wraps a cache.
    pub fn new(cache: std::sync::Arc<dyn Cache>) -> Self {
        Self { cache }
    }

    /// The raw cache (for counters, nonces and replay caches).
    pub fn raw(&self) -> &dyn Cache {
        self.cache.as_ref()
    }

    /// Stores a value under `stage`.
    pub async fn put<T: Serialize>(
        &self,
        stage: &str,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<()> {
        let bytes = encode(value)?;
        self.cache.put(stage, key, bytes, ttl).await?;
        Ok(())
    }

    /// Reads a value from `stage`.
    pub async fn get<T: DeserializeOwned>(&self, stage: &str, key: &str) -> Result<Option<T>> {
        match self.cache.get(stage, key).await? {
            Some(bytes) => Ok(decode(&bytes)),
            None => Ok(None),
        }
    }

    /// Atomically reads and removes a value from `stage`.
    pub async fn take<T: DeserializeOwned>(&self, stage: &str, key: &str) -> Result<Option<T>> {
        match self.cache.take(stage, key).await? {
            Some(bytes) => Ok(decode(&bytes)),
            None => Ok(None),
        }
    }

    /// Removes a key from `stage`.
    pub async fn delete(&self, stage: &str, key: &str) -> Result<()> {
        self.cache.delete(stage, key).await?;
        Ok(())
    }

    /// Reads `stage`/`key` and whether `flag_namespace`/`flag_key` exists, in one cache round
    /// trip.
    pub async fn get_with_flag<T: DeserializeOwned>(
        &self,
        stage: &'static str,
        key: &str,
        flag_namespace: &'static str,
        flag_key: &str,
    ) -> Result<(Option<T>, bool)> {
        let outcome = self
            .cache
            .batch(vec![
                CacheStep::Get {
                    namespace: stage,
                    key: key.to_owned(),
                    required: true,
                },
                CacheStep::Get {
                    namespace: flag_namespace,
                    key: flag_key.to_owned(),
                    required: false,
                },
            ])
            .await?;
        match outcome {
            BatchOutcome::Missing { .. } => Ok((None, false)),
            BatchOutcome::Completed(replies) => match replies.as_slice() {
                [CacheReply::Value(Some(value)), CacheReply::Value(flag)] => {
                    Ok((decode(value), flag.is_some()))
                }
                _ => Err(unexpected_reply()),
            },
        }
    }

    /// Counts an attempt (`counter`: namespace, key, window) and stores `value` under `to`, in
    /// one cache round trip; returns the new count.
    pub async fn count_and_put<T: Serialize>(
        &self,
        counter: (&'static str, &str, Duration),
        to: (&'static str, &str),
        value: &T,
        ttl: Duration,
    ) -> Result<u64> {
        let outcome = self
            .cache
            .batch(vec![
                CacheStep::Increment {
                    namespace: counter.0,
                    key: counter.1.to_owned(),
                    ttl: counter.2,
                },
                put_step(to, value, ttl)?,
            ])
            .await?;
        match outcome {
            BatchOutcome::Completed(replies) => match replies.first() {
                Some(CacheReply::Count(count)) => Ok(*count),
                _ => Err(unexpected_reply()),
            },
            BatchOutcome::Missing { .. } => Err(unexpected_reply()),
        }
    }

    /// Moves a transaction to its next stage in one cache step: removes `from` and, only if it
    /// was there, stores `value` under `to`. `false` when `from` was already gone (another
    /// request moved it first: the step must not be repeated).
    pub async fn move_entry<T: Serialize>(
        &self,
        from: (&'static str, &str),
        to: (&'static str, &str),
        value: &T,
        ttl: Duration,
    ) -> Result<bool> {
        let outcome = self
            .cache
            .batch(vec![
                CacheStep::Take {
                    namespace: from.0,
                    key: from.1.to_owned(),
                    required: true,
                },
                put_step(to, value, ttl)?,
            ])
            .await?;
        Ok(matches!(outcome, BatchOutcome::Completed(_)))
    }

    /// Records `key` as used; `false` if it was already used (replay).
    pub async fn first_use(&self, namespace: &str, key: &str, ttl: Duration) -> Result<bool> {
        Ok(self
            .cache
            .put_if_absent(namespace, key, b"1".to_vec(), ttl)
            .await?)
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Unavailable(e.to_string()))
}

/// The batch step storing `value` (serialized) under `to`.
fn put_step<T: Serialize>(to: (&'static str, &str), value: &T, ttl: Duration) -> Result<CacheStep> {
    Ok(CacheStep::Put {
        namespace: to.0,
        key: to.1.to_owned(),
        value: encode(value)?,
        ttl,
    })
}

/// A batch answered with replies that do not match its steps (a cache bug, not a user error).
fn unexpected_reply() -> Error {
    Error::Unavailable("unexpected cache batch reply".to_owned())
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Some(value),
        Err(error) => {
            // A value written by an incompatible version: treat as absent rather than fail.
            tracing::warn!(%error, "undecodable cache entry ignored");
            None
        }
    }
}

/// Derives the short auth transaction id given to the identity system (eSignet §8.14): drop
/// `-` and `_`, then take characters from the end backwards, wrapping, until `length`.
pub fn auth_transaction_id(transaction_id: &str, length: usize) -> String {
    let chars: Vec<char> = transaction_id
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect();
    if chars.is_empty() {
        return String::new();
    }
    (0..length)
        .map(|i| chars[chars.len() - 1 - (i % chars.len())])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_transaction_id_takes_from_the_end_backwards() {
        assert_eq!(auth_transaction_id("ab-c_def", 4), "fedc");
        assert_eq!(auth_transaction_id("abc", 5), "cbacb");
        assert_eq!(auth_transaction_id("", 5), "");
    }
}
