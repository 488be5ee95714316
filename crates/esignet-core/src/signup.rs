//! The signup detour (eSignet §3.7.7, §3.7.8, §8.13): a resident who lacks verified claims an
//! RP asked for leaves the login for the signup service's identity verification and comes
//! back to consent.
//!
//! 1. prepare-signup-redirect moves the `authenticated` transaction to `halted` and hands the
//!    browser an ID token (`sub` = the transaction id, `aud` = the signup client, `nonce` = a
//!    fresh server nonce) plus a cookie `<transaction id>=<server nonce>~###~<path fragment>`.
//! 2. The signup service starts its own login with that token as `id_token_hint`; only the
//!    signup client may do so ([`Core::accept_signup_hint`]), and its only factor is `IDT`
//!    ([`Core::authenticate_with_id_token`]): the token, the cookie, the halted transaction and
//!    the new transaction must all agree on the server nonce. Its userinfo is internal: a JWS
//!    of `{"sub": <the resident's individual id>}`.
//! 3. The signup service reports the verification outcome through
//!    [`Core::record_signup_verification`] (the halted entry keeps its expiry).
//! 4. complete-signup-redirect moves a COMPLETED transaction back to `authenticated` with
//!    claims metadata refreshed from the identity system; any other outcome ends it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use esignet_spi::{AuditAction, TokenSigner};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::authenticate::DetailsHeaders;
use crate::codes;
use crate::error::{Error, Result};
use crate::service::Core;
use crate::transaction::{Transaction, stage};

/// The separator eSignet puts between the server nonce and the path fragment in the cookie.
pub const COOKIE_SEPARATOR: &str = "~###~";
/// The challenge type of the ID-token factor.
pub const IDT: &str = "IDT";
/// The verification status that lets complete-signup-redirect resume the login.
pub const VERIFICATION_COMPLETED: &str = "COMPLETED";
/// The statuses the signup service reports (its `VerificationStatus`).
pub const VERIFICATION_STATUSES: [&str; 5] = [
    "STARTED",
    "RESULTS_READY",
    "UPDATE_PENDING",
    VERIFICATION_COMPLETED,
    "FAILED",
];
const INVALID_PATH_FRAGMENT: &str = "invalid_path_fragment";
const INVALID_ID_TOKEN_HINT: &str = "invalid_id_token_hint";
const VERIFICATION_INCOMPLETE: &str = "verification_incomplete";
/// Namespace of ID tokens already used for an IDT authentication (single use).
const IDT_USED: &str = "idtused";

/// How the signup detour is configured (the `[signup_redirect]` settings).
#[derive(Debug, Clone)]
pub struct SignupRedirectConfig {
    /// The signup service's client id, which is also the audience of the ID tokens it is given.
    pub client_id: String,
    /// Lifetime of the ID token (and of the cookie).
    pub id_token_lifetime: Duration,
    /// How long a halted transaction waits for the resident to come back.
    pub halted_ttl: Duration,
}

/// A transaction parked while the resident is at the signup service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HaltedTransaction {
    /// The transaction as it was when authenticated.
    pub transaction: Transaction,
    /// The nonce in the ID token and the cookie.
    pub server_nonce: String,
    /// The UI's resume key (whitespace removed).
    pub path_fragment: String,
    /// Unix time the halted entry expires; updates keep it.
    pub halted_until: i64,
    /// The status last reported by the signup service.
    pub verification_status: Option<String>,
    /// The error code reported with a failed verification.
    pub verification_error_code: Option<String>,
}

/// `POST /authorization/prepare-signup-redirect` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrepareSignupRedirectRequest {
    pub transaction_id: Option<String>,
    pub path_fragment: Option<String>,
}

/// `POST /authorization/prepare-signup-redirect` response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepareSignupRedirectResponse {
    pub transaction_id: String,
    pub id_token: String,
}

/// The cookie prepare-signup-redirect sets (the web layer adds `Secure; HttpOnly; Path=/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignupCookie {
    /// The transaction id.
    pub name: String,
    /// `<server nonce>~###~<path fragment>`.
    pub value: String,
    /// Max-Age: the ID token's lifetime.
    pub max_age: Duration,
}

/// The outcome of prepare-signup-redirect.
#[derive(Debug, Clone)]
pub struct PrepareSignupRedirectOutcome {
    /// The wrapped response.
    pub response: PrepareSignupRedirectResponse,
    /// The cookie to set.
    pub cookie: SignupCookie,
}

/// `POST /authorization/complete-signup-redirect` request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompleteSignupRedirectRequest {
    pub transaction_id: Option<String>,
}

/// `POST /authorization/complete-signup-redirect` response.
#[derive(Debug, Clone, Serialize)]
pub struct CompleteSignupRedirectResponse {
    pub status: &'static str,
}

/// The request's cookies, by name (the web layer parses the `Cookie` headers).
#[derive(Debug, Clone, Default)]
pub struct RequestCookies(HashMap<String, String>);

impl RequestCookies {
    /// Cookies from `(name, value)` pairs; the first of a repeated name wins.
    pub fn new<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        let mut map = HashMap::new();
        for (name, value) in pairs {
            map.entry(name).or_insert(value);
        }
        Self(map)
    }

    /// The value of the cookie `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The signup cookie of transaction `name`, split into (server nonce, path fragment).
    fn signup(&self, name: &str) -> Option<(&str, &str)> {
        self.get(name)?.split_once(COOKIE_SEPARATOR)
    }
}

/// A verified ID token of ours addressed to the signup client.
struct SignupIdToken {
    sub: String,
    nonce: String,
    exp: i64,
}

impl Core {
    /// Turns the signup detour on (off by default: both endpoints answer `invalid_request`
    /// and any `id_token_hint` is rejected).
    pub fn with_signup_redirect(mut self, config: SignupRedirectConfig) -> Self {
        self.signup = Some(config);
        self
    }

    /// The signup detour settings, if enabled.
    pub fn signup_redirect(&self) -> Option<&SignupRedirectConfig> {
        self.signup.as_ref()
    }

    fn signup_config(&self) -> Result<&SignupRedirectConfig> {
        self.signup
            .as_ref()
            .ok_or(Error::code(codes::INVALID_REQUEST))
    }

    /// `POST /authorization/prepare-signup-redirect`.
    pub async fn prepare_signup_redirect(
        &self,
        headers: DetailsHeaders<'_>,
        request: PrepareSignupRedirectRequest,
    ) -> Result<PrepareSignupRedirectOutcome> {
        let outcome = self.prepare_signup_redirect_inner(headers, request).await;
        self.audit(
            AuditAction::PrepareSignupRedirect,
            outcome.as_ref().map(|_| ()),
            headers.key,
            None,
            None,
        );
        outcome
    }

    async fn prepare_signup_redirect_inner(
        &self,
        headers: DetailsHeaders<'_>,
        request: PrepareSignupRedirectRequest,
    ) -> Result<PrepareSignupRedirectOutcome> {
        let transaction_id = request
            .transaction_id
            .filter(|id| !id.trim().is_empty())
            .ok_or(Error::code(codes::INVALID_TRANSACTION_ID))?;
        let path_fragment: String = request
            .path_fragment
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        // The fragment travels in a cookie value: only RFC 6265 cookie-octets fit there.
        if path_fragment.is_empty()
            || !path_fragment.bytes().all(is_cookie_octet)
            || path_fragment.contains(COOKIE_SEPARATOR)
        {
            return Err(Error::code(INVALID_PATH_FRAGMENT));
        }
        let config = self.signup_config()?.clone();
        let transaction: Transaction = self
            .details_guarded(stage::AUTHENTICATED, headers, &transaction_id)
            .await?;
        let server_nonce = esignet_jose::random_id();
        let now = self.now_unix();
        let lifetime = config.id_token_lifetime.as_secs().max(1) as i64;
        let claims = json!({
            "iss": self.config.issuer,
            "sub": transaction.transaction_id,
            "aud": config.client_id,
            "iat": now,
            "exp": now + lifetime,
            "auth_time": transaction.auth_time.unwrap_or(now),
            "nonce": server_nonce,
        });
        let id_token = sign_off_runtime(&self.signer, claims).await?;
        // Single move: only the caller that removes the authenticated entry halts it.
        let taken: Option<Transaction> = self
            .flow
            .take(stage::AUTHENTICATED, &transaction_id)
            .await?;
        let Some(transaction) = taken else {
            return Err(Error::code(codes::INVALID_TRANSACTION));
        };
        let halted = HaltedTransaction {
            transaction,
            server_nonce: server_nonce.clone(),
            path_fragment: path_fragment.clone(),
            halted_until: now + config.halted_ttl.as_secs() as i64,
            verification_status: None,
            verification_error_code: None,
        };
        self.flow
            .put(stage::HALTED, &transaction_id, &halted, config.halted_ttl)
            .await?;
        Ok(PrepareSignupRedirectOutcome {
            cookie: SignupCookie {
                name: transaction_id.clone(),
                value: format!("{server_nonce}{COOKIE_SEPARATOR}{path_fragment}"),
                max_age: Duration::from_secs(lifetime as u64),
            },
            response: PrepareSignupRedirectResponse {
                transaction_id,
                id_token,
            },
        })
    }

    /// `POST /authorization/complete-signup-redirect`: resumes a verified transaction at
    /// consent, or ends it with the verification's error.
    pub async fn complete_signup_redirect(
        &self,
        headers: DetailsHeaders<'_>,
        request: CompleteSignupRedirectRequest,
    ) -> Result<CompleteSignupRedirectResponse> {
        let outcome = self.complete_signup_redirect_inner(headers, request).await;
        self.audit(
            AuditAction::CompleteSignupRedirect,
            outcome.as_ref().map(|_| ()),
            headers.key,
            None,
            None,
        );
        outcome
    }

    async fn complete_signup_redirect_inner(
        &self,
        headers: DetailsHeaders<'_>,
        request: CompleteSignupRedirectRequest,
    ) -> Result<CompleteSignupRedirectResponse> {
        let transaction_id = request
            .transaction_id
            .filter(|id| !id.trim().is_empty())
            .ok_or(Error::code(codes::INVALID_TRANSACTION_ID))?;
        self.signup_config()?;
        let _: HaltedTransaction = self
            .details_guarded(stage::HALTED, headers, &transaction_id)
            .await?;
        let halted: HaltedTransaction = self
            .flow
            .take(stage::HALTED, &transaction_id)
            .await?
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        if halted.verification_status.as_deref() != Some(VERIFICATION_COMPLETED) {
            return Err(match halted.verification_error_code {
                Some(code) if !code.is_empty() => Error::Code(code.into()),
                _ => Error::code(VERIFICATION_INCOMPLETE),
            });
        }
        let mut transaction = halted.transaction;
        self.refresh_claims_metadata(&mut transaction).await?;
        // The resident is back for consent: a fresh consent window, and claim-details may be
        // read again to show the newly verified claims.
        transaction.claim_details_served = false;
        transaction.auth_time = Some(self.now_unix());
        let counter = format!("{transaction_id}:claim-details");
        self.flow.delete(stage::RATE_LIMIT, &counter).await?;
        self.flow
            .put(
                stage::AUTHENTICATED,
                &transaction_id,
                &transaction,
                self.config.authenticated_ttl,
            )
            .await?;
        Ok(CompleteSignupRedirectResponse {
            status: VERIFICATION_COMPLETED,
        })
    }

    /// Re-reads what the identity system now holds about the requested claims, so
    /// claim-details and consent show the claims the signup service just verified.
    async fn refresh_claims_metadata(&self, transaction: &mut Transaction) -> Result<()> {
        let Some(sealed) = transaction.individual_id_sealed.as_deref() else {
            return Ok(());
        };
        let individual_id = self.open_individual_id(sealed, &transaction.transaction_id)?;
        let claims: Vec<String> = transaction.claims.userinfo.keys().cloned().collect();
        if let Some(metadata) = self
            .authenticator
            .claims_metadata(
                &transaction.relying_party_id,
                &transaction.client_id,
                &individual_id,
                &claims,
            )
            .await?
        {
            transaction.claims_metadata = metadata;
        }
        Ok(())
    }

    /// The signup service's report on a halted transaction (the back channel of the signup
    /// contract): records `status` and `error_code` in the halted entry, keeping its expiry.
    /// Works across instances because the entry lives in the shared cache.
    ///
    /// # Errors
    /// `invalid_transaction` when no such halted transaction exists (expired, completed or
    /// never halted), `invalid_status` for a status the signup service does not define.
    pub async fn record_signup_verification(
        &self,
        halted_transaction_id: &str,
        status: &str,
        error_code: Option<&str>,
    ) -> Result<()> {
        if !VERIFICATION_STATUSES.contains(&status) {
            return Err(Error::code(codes::INVALID_STATUS));
        }
        let mut halted: HaltedTransaction = self
            .flow
            .get(stage::HALTED, halted_transaction_id)
            .await?
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        let remaining = halted.halted_until - self.now_unix();
        if remaining <= 0 {
            return Err(Error::code(codes::INVALID_TRANSACTION));
        }
        halted.verification_status = Some(status.to_owned());
        halted.verification_error_code = error_code.filter(|c| !c.is_empty()).map(str::to_owned);
        self.flow
            .put(
                stage::HALTED,
                halted_transaction_id,
                &halted,
                Duration::from_secs(remaining as u64),
            )
            .await
    }

    /// eSignet's header filter for the two signup endpoints: the transaction must be in
    /// `stage` under the header key, the hash must match (constant time), and the body must
    /// name the same transaction.
    async fn details_guarded<T>(
        &self,
        stage_name: &str,
        headers: DetailsHeaders<'_>,
        body_transaction_id: &str,
    ) -> Result<T>
    where
        T: serde::de::DeserializeOwned + HasDetailsHash,
    {
        let key = headers
            .key
            .filter(|k| !k.is_empty())
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        let entry: T = self
            .flow
            .get(stage_name, key)
            .await?
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        if !esignet_jose::constant_time_eq(
            headers.hash.unwrap_or_default().as_bytes(),
            entry.details_hash().as_bytes(),
        ) {
            return Err(Error::code(codes::INVALID_REQUEST));
        }
        if body_transaction_id != key {
            return Err(Error::code(codes::INVALID_TRANSACTION));
        }
        Ok(entry)
    }

    /// The `id_token_hint` rule of oauth-details v3 and par-oauth-details (eSignet §8.13 step
    /// 2): accepted only from the signup client, for an ID token we signed (unlike eSignet,
    /// which does not verify it) addressed to that client, whose halted transaction's cookie
    /// the browser carries. Returns the hint's nonce and the cookie's path fragment, which
    /// replace the request's `nonce` and `state`.
    pub(crate) fn accept_signup_hint(
        &self,
        client_id: &str,
        hint: &str,
        cookies: &RequestCookies,
    ) -> Result<(String, String)> {
        let rejected = || Error::code(INVALID_ID_TOKEN_HINT);
        let config = self.signup.as_ref().ok_or_else(rejected)?;
        if client_id != config.client_id {
            return Err(rejected());
        }
        let token = self.verify_signup_id_token(hint).ok_or_else(rejected)?;
        let (_, path_fragment) = cookies.signup(&token.sub).ok_or_else(rejected)?;
        Ok((token.nonce, path_fragment.to_owned()))
    }

    /// Verifies one of our ID tokens addressed to the signup client: signature by our keys,
    /// issuer, audience, unexpired, with `sub` and `nonce`.
    fn verify_signup_id_token(&self, token: &str) -> Option<SignupIdToken> {
        let config = self.signup.as_ref()?;
        let payload = self.signer.verify_jws(token)?;
        let claims: serde_json::Map<String, Value> = serde_json::from_slice(&payload).ok()?;
        if claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return None;
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => *aud == config.client_id,
            Some(Value::Array(list)) => list
                .iter()
                .any(|a| a.as_str() == Some(config.client_id.as_str())),
            _ => false,
        };
        let exp = claims.get("exp").and_then(Value::as_i64)?;
        if !audience_ok || exp <= self.now_unix() {
            return None;
        }
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Some(SignupIdToken {
            sub: text("sub")?,
            nonce: text("nonce")?,
            exp,
        })
    }

    /// The IDT factor (eSignet §8.13 step 3): the challenge carries the ID token handed out by
    /// prepare-signup-redirect. The token, the cookie, the halted transaction and this
    /// transaction must agree on the server nonce; the token is single use. On success the
    /// transaction stands for the halted transaction's resident.
    pub(crate) async fn authenticate_with_id_token(
        &self,
        transaction: &mut Transaction,
        individual_id: &str,
        challenge: &str,
        cookies: &RequestCookies,
    ) -> Result<()> {
        let failed = || Error::code(codes::AUTH_FAILED);
        let config = self.signup.as_ref().ok_or_else(failed)?;
        if transaction.client_id != config.client_id {
            return Err(failed());
        }
        let token = decode_idt_challenge(challenge).ok_or(Error::code(codes::INVALID_CHALLENGE))?;
        let verified = self.verify_signup_id_token(&token).ok_or_else(failed)?;
        if individual_id != verified.sub {
            return Err(Error::code(codes::INVALID_INDIVIDUAL_ID));
        }
        let (cookie_nonce, _) = cookies.signup(&verified.sub).ok_or_else(failed)?;
        let halted: HaltedTransaction = self
            .flow
            .get(stage::HALTED, &verified.sub)
            .await?
            .ok_or_else(failed)?;
        let nonce_eq =
            |a: &str, b: &str| esignet_jose::constant_time_eq(a.as_bytes(), b.as_bytes());
        let current_nonce = transaction.nonce.as_deref().unwrap_or_default();
        if !(nonce_eq(&halted.server_nonce, cookie_nonce)
            && nonce_eq(&halted.server_nonce, &verified.nonce)
            && nonce_eq(&halted.server_nonce, current_nonce))
        {
            return Err(failed());
        }
        let remaining = (verified.exp - self.now_unix()).max(1) as u64;
        let token_key = esignet_jose::sha256_b64url(token.as_bytes());
        if !self
            .flow
            .first_use(IDT_USED, &token_key, Duration::from_secs(remaining))
            .await?
        {
            return Err(failed());
        }
        let original = &halted.transaction;
        let resident = match original.individual_id_sealed.as_deref() {
            Some(sealed) => self.open_individual_id(sealed, &original.transaction_id)?,
            None => return Err(failed()),
        };
        transaction.individual_id_sealed =
            Some(self.seal_individual_id(&resident, &transaction.transaction_id)?);
        transaction.individual_id_hash = original.individual_id_hash.clone();
        transaction.kyc_token = Some(verified.sub.clone());
        transaction.psut = Some(verified.sub);
        transaction.auth_time = Some(self.now_unix());
        transaction.claims_metadata = serde_json::Map::new();
        transaction.internal_kyc = true;
        transaction.satisfied_acrs = self
            .config
            .acr
            .satisfied(&transaction.acr_values, &[IDT.to_owned()]);
        Ok(())
    }

    /// The userinfo of an IDT transaction, without the identity system (eSignet §8.13 step
    /// 4): a JWS by our key of `{"sub": <the resident's individual id>}`.
    pub(crate) async fn internal_kyc(&self, transaction: &Transaction) -> Result<String> {
        let sealed = transaction
            .individual_id_sealed
            .as_deref()
            .ok_or(Error::code(codes::INVALID_GRANT))?;
        let individual_id = self.open_individual_id(sealed, &transaction.transaction_id)?;
        sign_off_runtime(&self.signer, json!({ "sub": individual_id })).await
    }
}

/// Entries whose `oauth-details-hash` the header filter checks.
trait HasDetailsHash {
    fn details_hash(&self) -> &str;
}

impl HasDetailsHash for Transaction {
    fn details_hash(&self) -> &str {
        &self.oauth_details_hash
    }
}

impl HasDetailsHash for HaltedTransaction {
    fn details_hash(&self) -> &str {
        &self.transaction.oauth_details_hash
    }
}

/// Signs `claims` as a JWT off the async runtime (RSA signing is CPU work).
async fn sign_off_runtime(signer: &Arc<dyn TokenSigner>, claims: Value) -> Result<String> {
    let signer = Arc::clone(signer);
    tokio::task::spawn_blocking(move || signer.sign_jws(Some("JWT"), claims.to_string().as_bytes()))
        .await
        .map_err(|_| Error::code(codes::UNKNOWN_ERROR))?
        .map_err(|_| Error::code(codes::UNKNOWN_ERROR))
}

/// The IDT challenge: base64 (standard or URL-safe, padded or not: eSignet's UI uses `btoa`)
/// of `{"token": <id token>, "code": ...}`.
fn decode_idt_challenge(challenge: &str) -> Option<String> {
    let normalized: String = challenge
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    let bytes = esignet_jose::b64url_decode(&normalized).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// RFC 6265 §4.1.1 cookie-octet.
fn is_cookie_octet(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idt_challenge_accepts_standard_and_url_safe_base64() {
        let json = br#"{"token":"a.b.c","code":"code"}"#;
        let url_safe = esignet_jose::b64url_encode(json);
        let standard = url_safe.replace('-', "+").replace('_', "/") + "==";
        assert_eq!(decode_idt_challenge(&url_safe).as_deref(), Some("a.b.c"));
        assert_eq!(decode_idt_challenge(&standard).as_deref(), Some("a.b.c"));
        assert_eq!(decode_idt_challenge("not base64!"), None);
        assert_eq!(
            decode_idt_challenge(&esignet_jose::b64url_encode(br#"{"code":"x"}"#)),
            None
        );
    }

    #[test]
    fn cookie_octets_exclude_separators_and_spaces() {
        assert!(b"urlInfo1733000000000".iter().all(|b| is_cookie_octet(*b)));
        for bad in [b' ', b';', b',', b'"', b'\\'] {
            assert!(!is_cookie_octet(bad));
        }
    }

    #[test]
    fn signup_cookie_splits_at_the_separator() {
        let cookies = RequestCookies::new([("t1".to_owned(), "n~###~frag".to_owned())]);
        assert_eq!(cookies.signup("t1"), Some(("n", "frag")));
        assert_eq!(cookies.signup("t2"), None);
    }
}
