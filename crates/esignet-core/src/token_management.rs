//! Token introspection (RFC 7662) and revocation (RFC 7009) for relying parties and their
//! resource servers.
//!
//! Both rest on the userinfo stage of the flow cache: every access token we issue has an entry
//! there keyed by SHA-256 of the exact token, living as long as the token. An entry that exists
//! and has not expired is an active token; revoking deletes it, which every instance sees at
//! once (the cache is shared on Redis), and userinfo then refuses the token.
//!
//! Only the client a token was issued to may introspect or revoke it: introspection by another
//! client answers `{"active": false}` (RFC 7662 §4: do not tell a caller about tokens it could
//! not use), revocation by another client is refused (RFC 7009 §2.1).

use esignet_spi::AuditAction;
use serde_json::{Map, Value, json};

use crate::api::TokenManagementForm;
use crate::codes;
use crate::error::{Error, Result};
use crate::service::Core;
use crate::transaction::{UserinfoEntry, stage};

/// Which endpoint authenticates the client (its URL is an accepted assertion audience).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Introspection,
    Revocation,
}

impl Core {
    /// RFC 7662 introspection: `{"active": true, ...claims}` for an active access token issued
    /// to the authenticated caller, else `{"active": false}`. Errors only for the caller's own
    /// faults: `invalid_client` / `invalid_client_id` (authentication), `invalid_request`
    /// (no token).
    pub async fn introspect(&self, form: TokenManagementForm) -> Result<Value> {
        let outcome = self.introspect_inner(&form).await;
        self.audit(
            AuditAction::TokenIntrospect,
            outcome.as_ref().map(|(_, _)| ()),
            None,
            outcome.as_ref().ok().map(|(client, _)| client.as_str()),
            None,
        );
        outcome.map(|(_, answer)| answer)
    }

    async fn introspect_inner(&self, form: &TokenManagementForm) -> Result<(String, Value)> {
        let caller = self
            .authenticate_caller(form, Endpoint::Introspection)
            .await?;
        let token = required_token(form)?;
        let inactive = json!({ "active": false });
        let Some((entry, claims)) = self.active_token(token).await? else {
            return Ok((caller, inactive));
        };
        if entry.client_id != caller {
            return Ok((caller, inactive));
        }
        let mut answer = Map::new();
        answer.insert("active".into(), Value::Bool(true));
        for name in [
            "scope",
            "client_id",
            "sub",
            "aud",
            "iss",
            "exp",
            "iat",
            "nbf",
            "jti",
            "auth_time",
            "acr",
        ] {
            if let Some(value) = claims.get(name) {
                answer.insert(name.into(), value.clone());
            }
        }
        let token_type = if entry.jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        };
        answer.insert("token_type".into(), Value::String(token_type.into()));
        if let Some(jkt) = &entry.jkt {
            // RFC 9449 §6.2: the resource server checks the proof's key against cnf.jkt.
            answer.insert("cnf".into(), json!({ "jkt": jkt }));
        }
        Ok((caller, Value::Object(answer)))
    }

    /// RFC 7009 revocation of an access token issued to the authenticated caller. An unknown,
    /// expired or already revoked token succeeds (§2.2: nothing to revoke); a token of another
    /// client is refused with `invalid_request` / `token_not_issued_to_client`. ID tokens are
    /// not revocable (they are assertions about a past login, not credentials).
    pub async fn revoke(&self, form: TokenManagementForm) -> Result<()> {
        let outcome = self.revoke_inner(&form).await;
        self.audit(
            AuditAction::TokenRevoke,
            outcome.as_ref().map(|_| ()),
            None,
            outcome.as_ref().ok().map(String::as_str),
            None,
        );
        outcome.map(|_| ())
    }

    async fn revoke_inner(&self, form: &TokenManagementForm) -> Result<String> {
        let caller = self.authenticate_caller(form, Endpoint::Revocation).await?;
        let token = required_token(form)?;
        let token_hash = esignet_jose::sha256_b64url(token.as_bytes());
        let Some(entry) = self
            .flow
            .get::<UserinfoEntry>(stage::USERINFO, &token_hash)
            .await?
        else {
            return Ok(caller);
        };
        if entry.client_id != caller {
            return Err(Error::code(codes::TOKEN_NOT_ISSUED_TO_CLIENT));
        }
        self.flow.delete(stage::USERINFO, &token_hash).await?;
        Ok(caller)
    }

    /// The entry and claims of an access token that is ours and still active.
    async fn active_token(
        &self,
        token: &str,
    ) -> Result<Option<(UserinfoEntry, Map<String, Value>)>> {
        let token_hash = esignet_jose::sha256_b64url(token.as_bytes());
        let Some(entry) = self
            .flow
            .get::<UserinfoEntry>(stage::USERINFO, &token_hash)
            .await?
        else {
            return Ok(None);
        };
        if entry.expires_at <= self.now_unix() {
            return Ok(None);
        }
        // The entry is keyed by the hash of the exact token we signed, so its payload is ours:
        // reading it needs no signature check (as at userinfo).
        let claims = esignet_jose::decode_compact(token)
            .ok()
            .and_then(|jws| jws.claims().ok())
            .unwrap_or_default();
        Ok(Some((entry, claims)))
    }

    /// Authenticates the calling client by `private_key_jwt`; returns its id. The client is
    /// named by the assertion's `iss` (and `client_id`, when sent, must agree with it).
    async fn authenticate_caller(
        &self,
        form: &TokenManagementForm,
        endpoint: Endpoint,
    ) -> Result<String> {
        let assertion = form
            .client_assertion
            .as_deref()
            .filter(|a| !a.is_empty())
            .ok_or(Error::code(codes::INVALID_CLIENT))?;
        let claimed_issuer = esignet_jose::decode_compact(assertion)
            .ok()
            .and_then(|jws| jws.claims().ok())
            .and_then(|claims| claims.get("iss").and_then(Value::as_str).map(str::to_owned))
            .ok_or(Error::code(codes::INVALID_CLIENT))?;
        if form
            .client_id
            .as_deref()
            .is_some_and(|id| !id.is_empty() && id != claimed_issuer)
        {
            return Err(Error::code(codes::INVALID_CLIENT));
        }
        let client = self
            .active_client(&claimed_issuer, codes::INVALID_CLIENT_ID)
            .await?;
        let endpoint_url = match endpoint {
            Endpoint::Introspection => self.config.introspection_endpoint.as_str(),
            Endpoint::Revocation => self.config.revocation_endpoint.as_str(),
        };
        let audiences = [endpoint_url, self.config.issuer.as_str()];
        self.authenticate_client(
            form.client_assertion_type.as_deref(),
            Some(assertion),
            &client,
            &audiences,
        )
        .await?;
        Ok(client.client_id)
    }
}

/// The `token` parameter (RFC 7662 §2.1, RFC 7009 §2.1: required).
fn required_token(form: &TokenManagementForm) -> Result<&str> {
    form.token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or(Error::code(codes::INVALID_REQUEST))
}
