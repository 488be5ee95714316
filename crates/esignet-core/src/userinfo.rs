//! The userinfo endpoint: returns the consented claims (the identity system's signed JWT, or
//! its JWE) to the holder of a valid access token.

use esignet_spi::AuditAction;

use crate::codes;
use crate::dpop::DpopProof;
use crate::error::{Error, Result};
use crate::service::Core;
use crate::token::userinfo_sealing_key;
use crate::transaction::{UserinfoEntry, stage};

/// How the access token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScheme {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: DPoP <token>` with a `DPoP` proof header.
    Dpop,
}

impl Core {
    /// Serves userinfo. Errors: `invalid_token` (unknown, expired, forged, wrong scheme),
    /// `invalid_dpop_proof` (missing or mismatched proof for a DPoP-bound token),
    /// [`Error::UseDpopNonce`].
    pub async fn userinfo(
        &self,
        scheme: TokenScheme,
        access_token: &str,
        proof: Option<DpopProof>,
    ) -> Result<String> {
        let outcome = self.userinfo_inner(scheme, access_token, proof).await;
        self.audit(
            AuditAction::GetUserinfo,
            outcome.as_ref().map(|_| ()),
            None,
            None,
            None,
        );
        outcome
    }

    async fn userinfo_inner(
        &self,
        scheme: TokenScheme,
        access_token: &str,
        proof: Option<DpopProof>,
    ) -> Result<String> {
        let invalid_token = || Error::code(codes::INVALID_TOKEN);
        if access_token.is_empty() {
            return Err(invalid_token());
        }
        let token_hash = esignet_jose::sha256_b64url(access_token.as_bytes());
        // The entry is keyed by SHA-256 of the exact token we issued: finding it proves the
        // token is ours and unmodified, so its signature and claims need no re-verification
        // (which also keeps userinfo working on an instance that has not yet loaded a key
        // another instance just activated). What the token says is what the entry records.
        let entry: UserinfoEntry = self
            .flow
            .get(stage::USERINFO, &token_hash)
            .await?
            .ok_or_else(invalid_token)?;
        if entry.expires_at <= self.now_unix() {
            return Err(invalid_token());
        }
        let bound_jkt = entry.jkt.as_deref();
        match (bound_jkt, scheme) {
            (None, TokenScheme::Bearer) => {}
            (None, TokenScheme::Dpop) | (Some(_), TokenScheme::Bearer) => {
                return Err(invalid_token());
            }
            (Some(jkt), TokenScheme::Dpop) => {
                let proof = proof.ok_or(Error::code(codes::INVALID_DPOP_PROOF))?;
                let expected_ath = esignet_jose::sha256_b64url(access_token.as_bytes());
                match proof.ath.as_deref() {
                    None => return Err(Error::code(codes::INVALID_DPOP_PROOF)),
                    Some(ath) if ath != expected_ath => return Err(invalid_token()),
                    Some(_) => {}
                }
                if proof.jkt != jkt {
                    return Err(Error::code(codes::INVALID_DPOP_PROOF));
                }
                self.require_dpop_nonce(&proof).await?;
            }
        }
        let sealed =
            esignet_jose::b64url_decode(&entry.sealed_userinfo).map_err(|_| invalid_token())?;
        let body = esignet_jose::aead::open(
            &userinfo_sealing_key(access_token),
            &sealed,
            token_hash.as_bytes(),
        )
        .map_err(|_| invalid_token())?;
        String::from_utf8(body).map_err(|_| invalid_token())
    }
}
