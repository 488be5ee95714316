//! Starting a login: oauth-details (v1/v2/v3), pushed authorization requests (RFC 9126) and
//! par-oauth-details. Each creates a transaction in the `preauth` stage and answers with the
//! details the login UI needs, hashed so later UI calls can prove they saw exactly this answer.

use esignet_spi::{AuditAction, ClientRecord, UserinfoResponseType};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::{
    OAuthDetailsRequest, OAuthDetailsResponse, ParForm, ParOAuthDetailsRequest, ParResponse,
};
use crate::codes;
use crate::error::{Error, Result};
use crate::service::Core;
use crate::signup::RequestCookies;
use crate::transaction::{Transaction, auth_transaction_id, stage};
use crate::{acr, claims, pkce, redirect, scopes};

/// The `request_uri` prefix of RFC 9126.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
const DISPLAY_VALUES: [&str; 4] = ["page", "popup", "touch", "wap"];
const PROMPT_VALUES: [&str; 4] = ["none", "login", "consent", "select_account"];

/// Which oauth-details endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailsVersion {
    /// Deprecated v1: no PKCE, `clientName` as a string.
    V1,
    /// Deprecated v2: PKCE.
    V2,
    /// Current v3: PKCE and `idTokenHint`.
    V3,
}

/// The outcome of oauth-details: the exact response bytes (to embed verbatim in the wrapper)
/// and the transaction id.
#[derive(Debug, Clone)]
pub struct OAuthDetailsOutcome {
    /// The transaction id.
    pub transaction_id: String,
    /// The compact JSON of the `response` object; its SHA-256 is the `oauth-details-hash`.
    pub response_json: String,
}

/// What `/oauth/par` stores until `par-oauth-details` picks it up.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PushedRequest {
    client_id: String,
    request: OAuthDetailsRequest,
}

impl Core {
    /// `POST /authorization/{,v2/,v3/}oauth-details`.
    pub async fn oauth_details(
        &self,
        version: DetailsVersion,
        request: OAuthDetailsRequest,
    ) -> Result<OAuthDetailsOutcome> {
        self.oauth_details_with_cookies(version, request, &RequestCookies::default())
            .await
    }

    /// oauth-details with the browser's cookies, which an `id_token_hint` needs (the signup
    /// detour, see [`crate::signup`]).
    pub async fn oauth_details_with_cookies(
        &self,
        version: DetailsVersion,
        request: OAuthDetailsRequest,
        cookies: &RequestCookies,
    ) -> Result<OAuthDetailsOutcome> {
        let client_id = request.client_id.clone().unwrap_or_default();
        let outcome = self.oauth_details_inner(version, request, cookies).await;
        self.audit(
            AuditAction::GetOauthDetails,
            outcome.as_ref().map(|_| ()),
            outcome.as_ref().ok().map(|o| o.transaction_id.as_str()),
            Some(&client_id),
            None,
        );
        if let Ok(started) = &outcome {
            // As eSignet: the transaction now exists in the cache.
            self.audit(
                AuditAction::TransactionStarted,
                Ok(()),
                Some(&started.transaction_id),
                Some(&client_id),
                None,
            );
        }
        outcome
    }

    async fn oauth_details_inner(
        &self,
        version: DetailsVersion,
        request: OAuthDetailsRequest,
        cookies: &RequestCookies,
    ) -> Result<OAuthDetailsOutcome> {
        if version == DetailsVersion::V1
            && (request.code_challenge.is_some() || request.code_challenge_method.is_some())
        {
            return Err(Error::code(codes::UNKNOWN_ERROR));
        }
        if version != DetailsVersion::V3 && request.id_token_hint.is_some() {
            return Err(Error::code(codes::UNKNOWN_ERROR));
        }
        validate_fields(&request)?;
        if version != DetailsVersion::V1 {
            pkce::validate_challenge(
                request.code_challenge.as_deref(),
                request.code_challenge_method.as_deref(),
                false,
            )?;
        }
        let request = self.apply_id_token_hint(request, cookies)?;
        let client_id = request.client_id.as_deref().unwrap_or_default();
        let client = self
            .active_client(client_id, codes::INVALID_CLIENT_ID)
            .await?;
        if self.requires_par(&client) {
            return Err(Error::code(codes::INVALID_REQUEST));
        }
        let redirect_uri = request.redirect_uri.as_deref().unwrap_or_default();
        if !redirect::matches_any(&client.redirect_uris, redirect_uri) {
            return Err(Error::code(codes::INVALID_REDIRECT_URI));
        }
        self.check_nonce_unused(request.nonce.as_deref()).await?;
        self.start_transaction(version, &client, request).await
    }

    /// `POST /oauth/par`: validates and stores a pushed request. `dpop_jkt` is the thumbprint
    /// of a valid DPoP proof sent with the request, if any.
    pub async fn pushed_authorization_request(
        &self,
        form: ParForm,
        dpop_jkt: Option<String>,
    ) -> Result<ParResponse> {
        let client_id = form.client_id.clone().unwrap_or_default();
        let outcome = self.par_inner(form, dpop_jkt).await;
        self.audit(
            AuditAction::ParRequest,
            outcome.as_ref().map(|_| ()),
            None,
            Some(&client_id),
            None,
        );
        outcome
    }

    async fn par_inner(&self, form: ParForm, proof_jkt: Option<String>) -> Result<ParResponse> {
        if form.request_uri.is_some() {
            return Err(Error::code(codes::INVALID_REQUEST));
        }
        let claims = match form.claims.as_deref().filter(|c| !c.is_empty()) {
            Some(text) => Some(
                serde_json::from_str::<Value>(text)
                    .map_err(|_| Error::code(codes::INVALID_CLAIM))?,
            ),
            None => None,
        };
        let max_age = match form.max_age.as_deref().filter(|m| !m.is_empty()) {
            Some(text) => Some(
                text.parse::<u64>()
                    .map_err(|_| Error::code(codes::INVALID_REQUEST))?,
            ),
            None => None,
        };
        let request = OAuthDetailsRequest {
            client_id: form.client_id.clone(),
            scope: form.scope,
            response_type: form.response_type,
            redirect_uri: form.redirect_uri,
            display: form.display,
            prompt: form.prompt,
            nonce: form.nonce,
            state: form.state,
            acr_values: form.acr_values,
            max_age,
            claims,
            claims_locales: form.claims_locales,
            ui_locales: form.ui_locales,
            code_challenge: form.code_challenge,
            code_challenge_method: form.code_challenge_method,
            id_token_hint: form.id_token_hint,
            dpop_jkt: None,
        };
        let client_id = request
            .client_id
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or(Error::code(codes::INVALID_CLIENT_ID))?;
        validate_fields(&request)?;
        pkce::validate_challenge(
            request.code_challenge.as_deref(),
            request.code_challenge_method.as_deref(),
            false,
        )?;
        self.check_id_token_hint(request.id_token_hint.as_deref())?;
        let client = self
            .active_client(&client_id, codes::INVALID_CLIENT_ID)
            .await?;
        // RFC 9449 §10: a DPoP proof at PAR binds the code to its key; an explicit dpop_jkt
        // must then agree with it.
        let bound_jkt = match (proof_jkt, form.dpop_jkt.filter(|j| !j.is_empty())) {
            (Some(proof), Some(explicit)) if proof != explicit => {
                return Err(Error::code(codes::INVALID_DPOP_PROOF));
            }
            (Some(proof), _) => Some(proof),
            (None, explicit) => explicit,
        };
        let redirect_uri = request.redirect_uri.as_deref().unwrap_or_default();
        if !redirect::matches_any(&client.redirect_uris, redirect_uri) {
            return Err(Error::code(codes::INVALID_REDIRECT_URI));
        }
        let audiences = [
            self.config.par_endpoint.as_str(),
            self.config.token_endpoint.as_str(),
            self.config.issuer.as_str(),
        ];
        self.authenticate_client(
            form.client_assertion_type.as_deref(),
            form.client_assertion.as_deref(),
            &client,
            &audiences,
        )
        .await?;
        self.resolve_request(&client, &request)?;
        self.check_nonce_unused(request.nonce.as_deref()).await?;
        let id = esignet_jose::random_id();
        let pushed = PushedRequest {
            client_id,
            request: OAuthDetailsRequest {
                dpop_jkt: bound_jkt,
                ..request
            },
        };
        self.flow
            .put(stage::PAR, &id, &pushed, self.config.par_ttl)
            .await?;
        Ok(ParResponse {
            request_uri: format!("{REQUEST_URI_PREFIX}{id}"),
            expires_in: self.config.par_ttl.as_secs(),
        })
    }

    /// `POST /authorization/par-oauth-details`: consumes a pushed request (single use).
    pub async fn par_oauth_details(
        &self,
        request: ParOAuthDetailsRequest,
    ) -> Result<OAuthDetailsOutcome> {
        self.par_oauth_details_with_cookies(request, &RequestCookies::default())
            .await
    }

    /// par-oauth-details with the browser's cookies, which an `id_token_hint` needs.
    pub async fn par_oauth_details_with_cookies(
        &self,
        request: ParOAuthDetailsRequest,
        cookies: &RequestCookies,
    ) -> Result<OAuthDetailsOutcome> {
        let client_id = request.client_id.clone().unwrap_or_default();
        let outcome = self.par_oauth_details_inner(request, cookies).await;
        self.audit(
            AuditAction::GetParOauthDetails,
            outcome.as_ref().map(|_| ()),
            outcome.as_ref().ok().map(|o| o.transaction_id.as_str()),
            Some(&client_id),
            None,
        );
        if let Ok(started) = &outcome {
            // As eSignet: the transaction now exists in the cache.
            self.audit(
                AuditAction::TransactionStarted,
                Ok(()),
                Some(&started.transaction_id),
                Some(&client_id),
                None,
            );
        }
        outcome
    }

    async fn par_oauth_details_inner(
        &self,
        request: ParOAuthDetailsRequest,
        cookies: &RequestCookies,
    ) -> Result<OAuthDetailsOutcome> {
        let client_id = request
            .client_id
            .filter(|c| !c.trim().is_empty())
            .ok_or(Error::code(codes::INVALID_CLIENT_ID))?;
        let id = request
            .request_uri
            .as_deref()
            .and_then(|uri| uri.strip_prefix(REQUEST_URI_PREFIX))
            .filter(|id| !id.is_empty())
            .ok_or(Error::code(codes::INVALID_REQUEST))?;
        let pushed: PushedRequest = self
            .flow
            .take(stage::PAR, id)
            .await?
            .ok_or(Error::code(codes::INVALID_REQUEST))?;
        if pushed.client_id != client_id {
            return Err(Error::code(codes::INVALID_REQUEST));
        }
        let client = self
            .active_client(&client_id, codes::INVALID_CLIENT_ID)
            .await?;
        let pushed_request = self.apply_id_token_hint(pushed.request, cookies)?;
        self.start_transaction(DetailsVersion::V3, &client, pushed_request)
            .await
    }

    /// Scopes, claims, ACRs and their factor sets of `request` for `client`: what oauth-details
    /// resolves, and what PAR checks before it accepts a request (`invalid_scope`,
    /// `invalid_claim`, `invalid_acr`, ...), so a pushed request fails where it is pushed.
    fn resolve_request(
        &self,
        client: &ClientRecord,
        request: &OAuthDetailsRequest,
    ) -> Result<ResolvedRequest> {
        let scope_set = scopes::parse(
            request.scope.as_deref().unwrap_or_default(),
            &self.config.openid_scopes,
            &self.config.authorize_scopes,
        )?;
        let resolved = claims::resolve(
            request.claims.as_ref(),
            &scope_set.openid,
            &client.claims,
            &self.config.verified_claims_supported,
        )?;
        let acrs = acr::resolve(
            Some(&resolved.id_token),
            request.acr_values.as_deref(),
            &client.acr_values,
        )?;
        let auth_factors = self.config.acr.factor_sets(&acrs)?;
        Ok(ResolvedRequest {
            scope_set,
            resolved,
            acrs,
            auth_factors,
        })
    }

    /// Resolves claims, ACRs and PKCE, stores the transaction in `preauth` and renders the
    /// response.
    async fn start_transaction(
        &self,
        version: DetailsVersion,
        client: &ClientRecord,
        request: OAuthDetailsRequest,
    ) -> Result<OAuthDetailsOutcome> {
        let ResolvedRequest {
            scope_set,
            resolved,
            acrs,
            auth_factors,
        } = self.resolve_request(client, &request)?;
        let code_challenge = if version == DetailsVersion::V1 {
            None
        } else {
            pkce::validate_challenge(
                request.code_challenge.as_deref(),
                request.code_challenge_method.as_deref(),
                self.requires_pkce(client),
            )?
        };
        let transaction_id = esignet_jose::random_id();
        let name_map = client.name.clone();
        let client_name = if version == DetailsVersion::V1 {
            name_map.get("@none").cloned().unwrap_or(Value::Null)
        } else {
            Value::Object(name_map)
        };
        let mut configs = self.config.ui_configs.clone();
        configs.insert(
            "clientAdditionalConfig".to_owned(),
            client.additional_config.clone().unwrap_or(Value::Null),
        );
        let response = OAuthDetailsResponse {
            transaction_id: transaction_id.clone(),
            logo_url: client.logo_uri.clone(),
            auth_factors: auth_factors.clone(),
            authorize_scopes: scope_set.authorize.clone(),
            essential_claims: resolved.essential(),
            voluntary_claims: resolved.voluntary(),
            configs,
            redirect_uri: request.redirect_uri.clone().unwrap_or_default(),
            client_name,
            credential_scopes: (version != DetailsVersion::V1).then(Vec::new),
        };
        let response_json =
            serde_json::to_string(&response).map_err(|_| Error::code(codes::UNKNOWN_ERROR))?;
        let userinfo_response_type = match client
            .additional_config
            .as_ref()
            .and_then(|c| c.get("userinfo_response_type"))
            .and_then(Value::as_str)
        {
            Some("JWE") => UserinfoResponseType::Jwe,
            _ => UserinfoResponseType::Jws,
        };
        let transaction = Transaction {
            auth_transaction_id: auth_transaction_id(
                &transaction_id,
                self.config.auth_txn_id_length,
            ),
            transaction_id: transaction_id.clone(),
            client_id: client.client_id.clone(),
            relying_party_id: client.relying_party_id.clone(),
            redirect_uri: response.redirect_uri.clone(),
            state: request.state,
            nonce: request.nonce,
            openid_scopes: scope_set.openid,
            authorize_scopes: scope_set.authorize,
            claims: resolved,
            claims_locales: split_spaces(request.claims_locales.as_deref()),
            acr_values: acrs,
            auth_factors,
            prompt: split_spaces(request.prompt.as_deref()),
            max_age: request.max_age,
            code_challenge,
            dpop_jkt: request.dpop_jkt,
            dpop_required: self.requires_dpop(client),
            oauth_details_hash: esignet_jose::sha256_b64url(response_json.as_bytes()),
            consent_expire_minutes: client
                .additional_config
                .as_ref()
                .and_then(|c| c.get("consent_expire_in_mins"))
                .and_then(Value::as_u64)
                .filter(|m| *m > 0),
            userinfo_response_type,
            created_at: self.now_unix(),
            individual_id_sealed: None,
            individual_id_hash: None,
            kyc_token: None,
            psut: None,
            auth_time: None,
            satisfied_acrs: Vec::new(),
            claims_metadata: Map::new(),
            consent_action: None,
            claim_details_served: false,
            accepted_claims: Vec::new(),
            permitted_scopes: Vec::new(),
            internal_kyc: false,
        };
        self.flow
            .put(
                stage::PREAUTH,
                &transaction_id,
                &transaction,
                self.config.preauth_ttl,
            )
            .await?;
        Ok(OAuthDetailsOutcome {
            transaction_id,
            response_json,
        })
    }

    /// A nonce may start one transaction only (eSignet §8.5: replay → `invalid_request`).
    async fn check_nonce_unused(&self, nonce: Option<&str>) -> Result<()> {
        let Some(nonce) = nonce.filter(|n| !n.is_empty()) else {
            return Ok(());
        };
        let key = esignet_jose::sha256_b64url(nonce.as_bytes());
        if self
            .flow
            .first_use(stage::NONCE, &key, self.config.nonce_ttl)
            .await?
        {
            Ok(())
        } else {
            Err(Error::code(codes::INVALID_REQUEST))
        }
    }

    /// `id_token_hint`, when given, must be an ID token we signed; at PAR time the browser's
    /// cookies are not there yet, so only the signature is checked and par-oauth-details
    /// applies the full rule.
    fn check_id_token_hint(&self, hint: Option<&str>) -> Result<()> {
        match hint.filter(|h| !h.is_empty()) {
            Some(token) if self.signer.verify_jws(token).is_none() => {
                Err(Error::code("invalid_id_token_hint"))
            }
            _ => Ok(()),
        }
    }

    /// The signup detour's `id_token_hint` rule (eSignet §8.13 step 2, [`crate::signup`]):
    /// accepted only from the signup client; its nonce replaces the request's and the path
    /// fragment of the signup cookie replaces the state.
    fn apply_id_token_hint(
        &self,
        mut request: OAuthDetailsRequest,
        cookies: &RequestCookies,
    ) -> Result<OAuthDetailsRequest> {
        let Some(hint) = request.id_token_hint.as_deref().filter(|h| !h.is_empty()) else {
            return Ok(request);
        };
        let client_id = request.client_id.as_deref().unwrap_or_default();
        let (nonce, state) = self.accept_signup_hint(client_id, hint, cookies)?;
        request.nonce = Some(nonce);
        request.state = Some(state);
        Ok(request)
    }
}

fn split_spaces(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Field validation shared by oauth-details and PAR (eSignet's bean validation codes).
fn validate_fields(request: &OAuthDetailsRequest) -> Result<()> {
    if request
        .client_id
        .as_deref()
        .is_none_or(|c| c.trim().is_empty())
    {
        return Err(Error::code(codes::INVALID_CLIENT_ID));
    }
    if request.scope.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(Error::code(codes::INVALID_SCOPE));
    }
    if request.response_type.as_deref() != Some("code") {
        return Err(Error::code(codes::INVALID_RESPONSE_TYPE));
    }
    if !request
        .redirect_uri
        .as_deref()
        .is_some_and(redirect::is_valid_uri)
    {
        return Err(Error::code(codes::INVALID_REDIRECT_URI));
    }
    if let Some(display) = request.display.as_deref().filter(|d| !d.is_empty())
        && !DISPLAY_VALUES.contains(&display)
    {
        return Err(Error::code(codes::INVALID_DISPLAY));
    }
    let prompts = split_spaces(request.prompt.as_deref());
    if prompts.iter().any(|p| !PROMPT_VALUES.contains(&p.as_str()))
        || (prompts.iter().any(|p| p == "none") && prompts.len() > 1)
    {
        return Err(Error::code(codes::INVALID_PROMPT));
    }
    claims::validate_request(request.claims.as_ref())?;
    // OIDC Core §3.1.2.1: prompt=none must fail when the user is not already logged in, and
    // eSignet keeps no login session, so it always fails (eSignet 1.7 ignores it).
    if prompts.iter().any(|p| p == "none") {
        return Err(Error::code(codes::LOGIN_REQUIRED));
    }
    Ok(())
}

/// What a request resolves to for its client (see `Core::resolve_request`).
struct ResolvedRequest {
    scope_set: scopes::ScopeSet,
    resolved: claims::ResolvedClaims,
    acrs: Vec<String>,
    auth_factors: Vec<Vec<acr::AuthFactor>>,
}
