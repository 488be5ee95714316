//! OpenID Connect RP-Initiated Logout 1.0: the `end_session_endpoint`.
//!
//! eSignet keeps no login session at the provider (every login authenticates afresh), so there
//! is no provider session to end: the endpoint's job is to validate the relying party's request
//! and send the resident back to a post-logout URI the client registered, or to our own
//! "signed out" page. What it must never do is become an open redirector, so a
//! `post_logout_redirect_uri` is followed only when the client is identified (by a valid
//! `id_token_hint` or `client_id`) and the URI is one of that client's registered
//! `post_logout_redirect_uris`, compared exactly (§3.1; no patterns).

use esignet_spi::AuditAction;
use serde_json::Value;

use crate::api::EndSessionRequest;
use crate::codes;
use crate::error::{Error, Result};
use crate::service::Core;

/// Where the resident goes after a valid logout request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndSessionOutcome {
    /// The registered post-logout URI, with `state` added when the client sent one.
    Redirect(String),
    /// No redirect was asked for: our signed-out page.
    SignedOut,
}

/// The `additional_config` member listing a client's post-logout redirect URIs.
pub const POST_LOGOUT_REDIRECT_URIS: &str = "post_logout_redirect_uris";

impl Core {
    /// Validates an RP-initiated logout request. Errors: `invalid_id_token_hint` (not an ID
    /// token we signed, or for another client than `client_id`), `invalid_client_id` (unknown
    /// or inactive client), `invalid_post_logout_redirect_uri` (not registered, or no client to
    /// check it against).
    pub async fn end_session(&self, request: EndSessionRequest) -> Result<EndSessionOutcome> {
        let outcome = self.end_session_inner(&request).await;
        self.audit(
            AuditAction::EndSession,
            outcome.as_ref().map(|(_, _)| ()),
            None,
            outcome
                .as_ref()
                .ok()
                .and_then(|(client, _)| client.as_deref()),
            None,
        );
        outcome.map(|(_, outcome)| outcome)
    }

    async fn end_session_inner(
        &self,
        request: &EndSessionRequest,
    ) -> Result<(Option<String>, EndSessionOutcome)> {
        let hinted_client = match request.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
            Some(hint) => Some(self.id_token_audience(hint)?),
            None => None,
        };
        let named_client = request.client_id.as_deref().filter(|c| !c.is_empty());
        // §2: with both, the client id must be the one the ID token was issued to.
        if let (Some(hinted), Some(named)) = (&hinted_client, named_client)
            && hinted != named
        {
            return Err(Error::code(codes::INVALID_ID_TOKEN_HINT));
        }
        let client_id = hinted_client.or_else(|| named_client.map(str::to_owned));
        let client = match &client_id {
            Some(id) => Some(self.active_client(id, codes::INVALID_CLIENT_ID).await?),
            None => None,
        };
        let Some(target) = request
            .post_logout_redirect_uri
            .as_deref()
            .filter(|u| !u.is_empty())
        else {
            return Ok((client_id, EndSessionOutcome::SignedOut));
        };
        let registered = client.as_ref().is_some_and(|client| {
            client
                .additional_config
                .as_ref()
                .and_then(|config| config.get(POST_LOGOUT_REDIRECT_URIS))
                .and_then(Value::as_array)
                .is_some_and(|uris| uris.iter().any(|uri| uri.as_str() == Some(target)))
        });
        if !registered {
            return Err(Error::code(codes::INVALID_POST_LOGOUT_REDIRECT_URI));
        }
        let mut url = url::Url::parse(target)
            .map_err(|_| Error::code(codes::INVALID_POST_LOGOUT_REDIRECT_URI))?;
        if let Some(state) = request.state.as_deref().filter(|s| !s.is_empty()) {
            url.query_pairs_mut().append_pair("state", state);
        }
        Ok((client_id, EndSessionOutcome::Redirect(url.into())))
    }

    /// The client an `id_token_hint` was issued to. The hint must be an ID token signed by one of
    /// our keys (current or previous) with our issuer; it may have expired (§2: a logout often
    /// comes long after the login). Access tokens (`typ` `at+jwt`) are refused.
    fn id_token_audience(&self, hint: &str) -> Result<String> {
        let invalid = || Error::code(codes::INVALID_ID_TOKEN_HINT);
        let typ_is_access_token = esignet_jose::decode_compact(hint)
            .map_err(|_| invalid())?
            .typ()
            .is_some_and(|typ| typ.eq_ignore_ascii_case("at+jwt"));
        if typ_is_access_token {
            return Err(invalid());
        }
        let payload = self.signer.verify_jws(hint).ok_or_else(invalid)?;
        let claims: Value = serde_json::from_slice(&payload).map_err(|_| invalid())?;
        if claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(invalid());
        }
        match claims.get("aud") {
            Some(Value::String(aud)) => Ok(aud.clone()),
            Some(Value::Array(auds)) if auds.len() == 1 => {
                auds[0].as_str().map(str::to_owned).ok_or_else(invalid)
            }
            _ => Err(invalid()),
        }
    }
}
