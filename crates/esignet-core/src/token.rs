//! The token endpoint (`/oauth/v2/token` and the deprecated `/oauth/token`): exchanges a code for
//! an ID token and an RFC 9068 JWT access token, fetching the consented KYC from the identity
//! system on the way.

use std::sync::Arc;

use esignet_jose::PublicJwk;
use esignet_spi::{
    AuditAction, ClientRecord, KycExchangeRequest, TokenSigner, UserinfoResponseType,
};
use serde_json::{Value, json};

use crate::api::{TokenForm, TokenResponse};
use crate::claims;
use crate::codes;
use crate::dpop::DpopProof;
use crate::error::{Error, Result};
use crate::service::Core;
use crate::transaction::{Transaction, UserinfoEntry, stage};

/// Which token endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    /// Deprecated `/oauth/token`: no PKCE verifier, no DPoP.
    V1,
    /// `/oauth/v2/token`.
    V2,
}

/// A successful token response plus what the HTTP layer needs for headers.
#[derive(Debug, Clone)]
pub struct TokenOutcome {
    /// The JSON body.
    pub response: TokenResponse,
    /// A fresh DPoP nonce for the client's next (userinfo) call, when DPoP-bound.
    pub dpop_nonce: Option<String>,
}

impl Core {
    /// Handles a token request. `proof` is the validated DPoP proof of the request, if any.
    pub async fn token(
        &self,
        version: TokenVersion,
        form: TokenForm,
        proof: Option<DpopProof>,
    ) -> Result<TokenOutcome> {
        let outcome = self.token_inner(version, form, proof).await;
        self.audit(
            AuditAction::GenerateToken,
            outcome.as_ref().map(|_| ()),
            None,
            None,
            None,
        );
        outcome
    }

    async fn token_inner(
        &self,
        version: TokenVersion,
        form: TokenForm,
        proof: Option<DpopProof>,
    ) -> Result<TokenOutcome> {
        let code = form
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or(Error::code(codes::INVALID_GRANT))?;
        if form.grant_type.as_deref() != Some("authorization_code") {
            return Err(Error::code(codes::UNSUPPORTED_GRANT_TYPE));
        }
        if form.client_assertion_type.as_deref() != Some(crate::client_auth::JWT_BEARER)
            || form.client_assertion.as_deref().is_none_or(str::is_empty)
        {
            return Err(Error::code(codes::INVALID_CLIENT));
        }
        let redirect_uri = form.redirect_uri.as_deref().unwrap_or_default();
        if !crate::redirect::is_valid_uri(redirect_uri) {
            return Err(Error::code(codes::INVALID_REDIRECT_URI));
        }
        // A client we do not know fails client authentication (RFC 6749 §5.2: invalid_client)
        // before anything is said about the code.
        let claimed_client = form.client_id.as_deref().filter(|id| !id.is_empty());
        if let Some(claimed) = claimed_client {
            self.active_client(claimed, codes::INVALID_CLIENT_ID)
                .await?;
        }
        let code_key = esignet_jose::sha256_b64url(code.as_bytes());
        // Read, not take: a failed call (wrong verifier, DPoP nonce challenge) may be retried
        // until the code expires; only success consumes it.
        let transaction: Transaction = self
            .flow
            .get(stage::AUTH_CODE, &code_key)
            .await?
            .ok_or(Error::code(codes::INVALID_GRANT))?;
        // Another client's code: the caller must still prove it is the client it names
        // (invalid_client otherwise); an authenticated client with someone else's code is a
        // bad grant.
        if let Some(claimed) = claimed_client.filter(|claimed| *claimed != transaction.client_id) {
            let claimed = self
                .active_client(claimed, codes::INVALID_CLIENT_ID)
                .await?;
            let audiences = self.token_audiences(version);
            let audience_refs: Vec<&str> = audiences.iter().map(String::as_str).collect();
            self.authenticate_client(
                form.client_assertion_type.as_deref(),
                form.client_assertion.as_deref(),
                &claimed,
                &audience_refs,
            )
            .await?;
            return Err(Error::invalid_grant(codes::INVALID_CLIENT_ID));
        }
        if redirect_uri != transaction.redirect_uri {
            return Err(Error::invalid_grant(codes::INVALID_REDIRECT_URI));
        }
        match version {
            TokenVersion::V2 => crate::pkce::verify(
                transaction.code_challenge.as_deref(),
                form.code_verifier.as_deref(),
            )?,
            TokenVersion::V1 if transaction.code_challenge.is_some() => {
                return Err(Error::invalid_grant(codes::INVALID_PKCE_CODE_VERIFIER));
            }
            TokenVersion::V1 => {}
        }
        let client = self
            .active_client(&transaction.client_id, codes::INVALID_CLIENT)
            .await?;
        let proof = if version == TokenVersion::V1 {
            None
        } else {
            proof
        };
        if proof.is_none() && (transaction.dpop_required || transaction.dpop_jkt.is_some()) {
            return Err(Error::code(codes::INVALID_DPOP_PROOF));
        }
        if let Some(proof) = &proof {
            if transaction
                .dpop_jkt
                .as_deref()
                .is_some_and(|bound| bound != proof.jkt)
            {
                return Err(Error::code(codes::INVALID_DPOP_PROOF));
            }
            self.require_dpop_nonce(proof).await?;
        }
        let audiences = self.token_audiences(version);
        let audience_refs: Vec<&str> = audiences.iter().map(String::as_str).collect();
        self.authenticate_client(
            form.client_assertion_type.as_deref(),
            form.client_assertion.as_deref(),
            &client,
            &audience_refs,
        )
        .await?;
        let taken: Option<Transaction> = self.flow.take(stage::AUTH_CODE, &code_key).await?;
        if taken.is_none() {
            return Err(Error::code(codes::INVALID_GRANT));
        }
        let userinfo = if transaction.internal_kyc {
            self.internal_kyc(&transaction).await?
        } else {
            self.exchange_kyc(&transaction, &client).await?
        };
        let jkt = proof.as_ref().map(|p| p.jkt.clone());
        let minted = self.mint_tokens(&transaction, jkt.clone()).await?;
        let token_hash = esignet_jose::sha256_b64url(minted.access_token.as_bytes());
        let sealing_key = userinfo_sealing_key(&minted.access_token);
        let sealed =
            esignet_jose::aead::seal(&sealing_key, userinfo.as_bytes(), token_hash.as_bytes())
                .map_err(|_| Error::code(codes::UNKNOWN_ERROR))?;
        let entry = UserinfoEntry {
            client_id: transaction.client_id.clone(),
            psut: transaction.psut.clone().unwrap_or_default(),
            jkt: jkt.clone(),
            expires_at: minted.access_token_exp,
            sealed_userinfo: esignet_jose::b64url_encode(&sealed),
        };
        let lifetime = std::time::Duration::from_secs(minted.access_token_lifetime.max(1) as u64);
        self.flow
            .put(stage::USERINFO, &token_hash, &entry, lifetime)
            .await?;
        let dpop_nonce = match &jkt {
            Some(jkt) => Some(self.issue_dpop_nonce(jkt).await?),
            None => None,
        };
        Ok(TokenOutcome {
            response: TokenResponse {
                id_token: minted.id_token,
                token_type: if jkt.is_some() { "DPoP" } else { "Bearer" },
                access_token: minted.access_token,
                expires_in: minted.access_token_lifetime,
            },
            dpop_nonce,
        })
    }

    /// The accepted audiences of a token request's client assertion.
    fn token_audiences(&self, version: TokenVersion) -> Vec<String> {
        let endpoint = match version {
            TokenVersion::V2 => &self.config.token_endpoint,
            TokenVersion::V1 => &self.config.token_endpoint_v1,
        };
        vec![endpoint.clone(), self.config.issuer.clone()]
    }

    /// Fetches the consented claims from the identity system and encrypts them for JWE clients.
    async fn exchange_kyc(
        &self,
        transaction: &Transaction,
        client: &ClientRecord,
    ) -> Result<String> {
        let individual_id = match transaction.individual_id_sealed.as_deref() {
            Some(sealed) => self.open_individual_id(sealed, &transaction.transaction_id)?,
            None => return Err(Error::code(codes::INVALID_GRANT)),
        };
        let details =
            claims::accepted_claim_details(&transaction.claims, &transaction.accepted_claims);
        let request = KycExchangeRequest {
            transaction_id: transaction.auth_transaction_id.clone(),
            kyc_token: transaction.kyc_token.clone().unwrap_or_default(),
            individual_id,
            accepted_claims: transaction.accepted_claims.clone(),
            claims_locales: transaction.claims_locales.clone(),
            userinfo_response_type: transaction.userinfo_response_type,
            accepted_claim_details: details,
        };
        let verified = !request.accepted_claim_details.is_empty();
        let result = if verified {
            self.authenticator
                .verified_kyc_exchange(
                    &transaction.relying_party_id,
                    &transaction.client_id,
                    request,
                )
                .await
        } else {
            self.authenticator
                .kyc_exchange(
                    &transaction.relying_party_id,
                    &transaction.client_id,
                    request,
                )
                .await
        };
        let audited: Result<()> = result
            .as_ref()
            .map(|_| ())
            .map_err(|e| Error::from(e.clone()));
        self.audit(
            AuditAction::DoKycExchange,
            audited.as_ref().map(|_| ()),
            Some(&transaction.transaction_id),
            Some(&transaction.client_id),
            transaction.individual_id_hash.as_deref(),
        );
        let kyc = result?.encrypted_kyc;
        if kyc.is_empty() {
            return Err(Error::code(codes::DATA_EXCHANGE_FAILED));
        }
        let is_jws = kyc.split('.').count() == 3;
        if transaction.userinfo_response_type == UserinfoResponseType::Jwe && is_jws {
            let key_json = match &client.enc_public_key {
                Some(key) => key.clone(),
                // eSignet 1.7 encrypts to the registered signing key when no encryption key was
                // given; its `alg`/`use` describe signing, so they are dropped for this use.
                None => {
                    let mut key = client.public_key.clone();
                    if let Some(object) = key.as_object_mut() {
                        object.remove("alg");
                        object.remove("use");
                    }
                    key
                }
            };
            let key = PublicJwk::from_json(&key_json)
                .map_err(|_| Error::code(codes::FAILED_TO_CREATE_JWE))?;
            return esignet_jose::encrypt_compact(kyc.as_bytes(), &key, Some("JWT"))
                .map_err(|_| Error::code(codes::FAILED_TO_CREATE_JWE));
        }
        Ok(kyc)
    }

    /// Signs the ID token and access token off the async runtime (RSA signing is CPU work).
    async fn mint_tokens(
        &self,
        transaction: &Transaction,
        jkt: Option<String>,
    ) -> Result<MintedTokens> {
        let now = self.now_unix();
        let cap = transaction.consent_expire_minutes.map(|m| (m * 60) as i64);
        let lifetime = |configured: std::time::Duration| {
            let configured = configured.as_secs() as i64;
            cap.map_or(configured, |cap| configured.min(cap)).max(1)
        };
        let access_lifetime = lifetime(self.config.access_token_lifetime);
        let id_lifetime = lifetime(self.config.id_token_lifetime);
        let psut = transaction.psut.clone().unwrap_or_default();
        let mut access_claims = json!({
            "iss": self.config.issuer,
            "sub": psut,
            "aud": transaction.client_id,
            "iat": now,
            "exp": now + access_lifetime,
            "auth_time": transaction.auth_time.unwrap_or(now),
            "azp": transaction.client_id,
            "client_id": transaction.client_id,
            "jti": esignet_jose::random_id(),
        });
        if !transaction.permitted_scopes.is_empty() {
            access_claims["scope"] = Value::String(transaction.permitted_scopes.join(" "));
        }
        if let Some(jkt) = &jkt {
            access_claims["cnf"] = json!({ "jkt": jkt });
        }
        let id_claims_base = json!({
            "iss": self.config.issuer,
            "sub": psut,
            "aud": transaction.client_id,
            "iat": now,
            "exp": now + id_lifetime,
            "auth_time": transaction.auth_time.unwrap_or(now),
            "nonce": transaction.nonce,
            "acr": transaction.satisfied_acrs.join(" "),
        });
        let signer: Arc<dyn TokenSigner> = Arc::clone(&self.signer);
        let signed = tokio::task::spawn_blocking(move || -> Result<(String, String)> {
            let sign_error = |_| Error::code(codes::UNKNOWN_ERROR);
            let access_token = signer
                .sign_jws(Some("at+jwt"), access_claims.to_string().as_bytes())
                .map_err(sign_error)?;
            let mut id_claims = id_claims_base;
            id_claims["at_hash"] =
                Value::String(esignet_jose::half_sha256_b64url(access_token.as_bytes()));
            let id_token = signer
                .sign_jws(Some("JWT"), id_claims.to_string().as_bytes())
                .map_err(sign_error)?;
            Ok((access_token, id_token))
        })
        .await
        .map_err(|_| Error::code(codes::UNKNOWN_ERROR))??;
        Ok(MintedTokens {
            access_token: signed.0,
            id_token: signed.1,
            access_token_exp: now + access_lifetime,
            access_token_lifetime: access_lifetime,
        })
    }
}

struct MintedTokens {
    access_token: String,
    id_token: String,
    access_token_exp: i64,
    access_token_lifetime: i64,
}

/// The key sealing a userinfo body in the cache, derived from the access token: whoever can
/// read the cache still cannot read the KYC without the token.
pub(crate) fn userinfo_sealing_key(access_token: &str) -> [u8; 32] {
    esignet_jose::sha256(format!("esignet-userinfo\0{access_token}").as_bytes())
}
