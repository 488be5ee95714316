//! DPoP proofs (RFC 9449): validation, server nonces, and the thumbprint binding of codes and
//! tokens.

use esignet_jose::PublicJwk;
use serde_json::Value;

use crate::codes;
use crate::error::{Error, Result};
use crate::service::Core;
use crate::transaction::stage;

/// A validated DPoP proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopProof {
    /// RFC 7638 thumbprint of the proof's public key.
    pub jkt: String,
    /// The `ath` claim (hash of the access token), if present.
    pub ath: Option<String>,
    /// The server nonce the proof carries, if any.
    pub nonce: Option<String>,
}

impl Core {
    /// Validates the `DPoP` header values of a request to `htu` with method `htm`. `None` when
    /// the request carries no DPoP header. More than one header, or any defect, is
    /// `invalid_dpop_proof`; the proof's `jti` is recorded so it cannot be replayed.
    pub async fn validate_dpop_proof(
        &self,
        headers: &[&str],
        htm: &str,
        htu: &str,
    ) -> Result<Option<DpopProof>> {
        let proof = match headers {
            [] => return Ok(None),
            [one] => *one,
            _ => return Err(Error::code(codes::INVALID_DPOP_PROOF)),
        };
        let invalid = || Error::code(codes::INVALID_DPOP_PROOF);
        let jws = esignet_jose::decode_compact(proof).map_err(|_| invalid())?;
        if jws.typ() != Some("dpop+jwt") {
            return Err(invalid());
        }
        let alg = jws.alg().ok_or_else(invalid)?;
        if !self.config.dpop_algs.contains(&alg) {
            return Err(invalid());
        }
        let jwk = jws.header.get("jwk").ok_or_else(invalid)?;
        let key = PublicJwk::from_json(jwk).map_err(|_| invalid())?;
        if !jws.verify(&key) {
            return Err(invalid());
        }
        let claims = jws.claims().map_err(|_| invalid())?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if text("htm") != Some(htm) {
            return Err(invalid());
        }
        // RFC 9449 §4.3 (9): compare without query and fragment. The expected value is our
        // configured public URL of the endpoint, which is what a client behind any proxy sees.
        let claimed_htu = text("htu").ok_or_else(invalid)?;
        let claimed_htu = claimed_htu.split(['?', '#']).next().unwrap_or_default();
        if claimed_htu != htu {
            return Err(invalid());
        }
        let now = self.now_unix();
        let skew = self.config.dpop_clock_skew.as_secs() as i64;
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or_else(invalid)?;
        // RFC 9449 §11.1: limit the proof's lifetime (eSignet 1.7 does not check iat).
        if iat > now + skew || iat < now - self.config.dpop_iat_window.as_secs() as i64 {
            return Err(invalid());
        }
        if let Some(exp) = claims.get("exp").and_then(Value::as_i64)
            && exp + skew < now
        {
            return Err(invalid());
        }
        if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64)
            && nbf - skew > now
        {
            return Err(invalid());
        }
        let jti = text("jti").filter(|j| !j.is_empty()).ok_or_else(invalid)?;
        let jkt = key.thumbprint();
        let replay_key = esignet_jose::sha256_b64url(format!("dpop\0{jkt}\0{jti}").as_bytes());
        if !self
            .flow
            .first_use(stage::JTI, &replay_key, self.config.jti_ttl)
            .await?
        {
            return Err(invalid());
        }
        Ok(Some(DpopProof {
            jkt,
            ath: text("ath").map(str::to_owned),
            nonce: text("nonce").map(str::to_owned),
        }))
    }

    /// Requires the proof to carry a live server nonce issued to its key; otherwise issues one
    /// and fails with [`Error::UseDpopNonce`] (RFC 9449 §8).
    pub(crate) async fn require_dpop_nonce(&self, proof: &DpopProof) -> Result<()> {
        if let Some(nonce) = proof.nonce.as_deref() {
            let issued_to: Option<String> = self.flow.get(stage::DPOP_NONCE, nonce).await?;
            if issued_to.as_deref() == Some(proof.jkt.as_str()) {
                return Ok(());
            }
        }
        Err(Error::UseDpopNonce(
            self.issue_dpop_nonce(&proof.jkt).await?,
        ))
    }

    /// Issues a fresh server nonce for a key (also sent on successful responses so the next
    /// call does not need a nonce round trip).
    pub async fn issue_dpop_nonce(&self, jkt: &str) -> Result<String> {
        let nonce = esignet_jose::random_id();
        self.flow
            .put(stage::DPOP_NONCE, &nonce, &jkt, self.config.dpop_nonce_ttl)
            .await?;
        Ok(nonce)
    }
}
