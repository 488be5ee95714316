//! The two halves of a sign-in: starting it (front-channel request or PAR) and finishing it
//! at the callback (state, issuer, code exchange, ID token, userinfo).

use axum::http::StatusCode;
use esignet_jose::{DecodedJws, PrivateKey, decode_compact, decrypt_compact, random_id};
use serde_json::{Map, Value};

use crate::App;
use crate::client::pkce_pair;
use crate::error::LoginError;
use crate::provider::{Discovery, Dpop};
use crate::session::{LoginMode, PendingLogin, Profile};
use crate::verify::{IdTokenExpectations, check_id_token, check_userinfo, compact_parts};

/// A started login: the session that holds it and where to send the browser.
pub(crate) struct Started {
    /// The session id for the cookie (new when the browser had none).
    pub session_id: String,
    /// The provider's authorize URL with the request.
    pub location: String,
}

/// Starts a login: fresh `state`, `nonce` and PKCE pair, and for [`LoginMode::ParDpop`] a fresh
/// DPoP key and a pushed request. The pending login is stored in the browser's session.
pub(crate) async fn start(
    app: &App,
    session_id: Option<&str>,
    mode: LoginMode,
) -> Result<Started, LoginError> {
    let discovery = app.provider.discovery().await?;
    let state = random_id();
    let nonce = random_id();
    let (verifier, challenge) = pkce_pair();
    let claims = match mode {
        LoginMode::VerifiedClaims => app.settings.verified_claims.as_ref(),
        LoginMode::Plain | LoginMode::ParDpop => app.settings.claims.as_ref(),
    };
    let params = authorization_params(app, claims, &state, &nonce, &challenge);
    let mut location = url::Url::parse(&app.settings.authorize_url)
        .map_err(|_| LoginError::unreachable("The configured authorize URL is not a valid URL."))?;
    let dpop_key = match mode {
        LoginMode::Plain | LoginMode::VerifiedClaims => {
            let mut query = location.query_pairs_mut();
            query.append_pair("client_id", app.client.client_id());
            for (name, value) in &params {
                query.append_pair(name, value);
            }
            None
        }
        LoginMode::ParDpop => {
            let endpoint = discovery
                .pushed_authorization_request_endpoint
                .as_deref()
                .ok_or_else(|| {
                    LoginError::local(
                        StatusCode::BAD_GATEWAY,
                        "The identity provider does not accept pushed authorization requests.",
                        "par_not_supported",
                        "Its discovery document has no pushed_authorization_request_endpoint.",
                    )
                })?;
            let key = PrivateKey::generate_ec_p256().map_err(|_| {
                LoginError::local(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The portal could not create a DPoP key.",
                    "dpop_key_error",
                    "Generating a P-256 key failed.",
                )
            })?;
            let dpop = Dpop {
                key: &key,
                nonce: None,
            };
            let request_uri = app
                .provider
                .push_authorization_request(endpoint, &app.client, params, dpop, app.sessions.now())
                .await?;
            let mut query = location.query_pairs_mut();
            query.append_pair("client_id", app.client.client_id());
            query.append_pair("request_uri", &request_uri);
            // The login UI reads its language from the URL, not from the pushed request.
            if let Some(ui_locales) = &app.settings.ui_locales {
                query.append_pair("ui_locales", ui_locales);
            }
            drop(query);
            Some(key)
        }
    };
    let pending = PendingLogin::new(nonce, verifier, dpop_key, mode, app.sessions.now());
    let session_id = app.sessions.add_pending(session_id, state, pending);
    Ok(Started {
        session_id,
        location: location.into(),
    })
}

/// The authorization request parameters, without `client_id`.
fn authorization_params(
    app: &App,
    claims: Option<&String>,
    state: &str,
    nonce: &str,
    challenge: &str,
) -> Vec<(&'static str, String)> {
    let settings = &app.settings;
    let mut params = vec![
        ("response_type", "code".to_owned()),
        ("redirect_uri", settings.redirect_uri.clone()),
        ("scope", settings.scope.clone()),
        ("state", state.to_owned()),
        ("nonce", nonce.to_owned()),
        ("code_challenge", challenge.to_owned()),
        ("code_challenge_method", "S256".to_owned()),
    ];
    for (name, value) in [
        ("acr_values", Some(&settings.acr_values)),
        ("claims", claims),
        ("claims_locales", Some(&settings.claims_locales)),
        ("ui_locales", settings.ui_locales.as_ref()),
    ] {
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            params.push((name, value.clone()));
        }
    }
    params
}

/// The parameters of the authorization response (RFC 6749 §4.1.2, RFC 9207). No `Debug`:
/// it holds the authorization code.
#[derive(Default)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl Callback {
    /// Parses the callback query. A repeated parameter is refused (RFC 6749 §3.1: parameters
    /// must not be included more than once), so a tampered URL cannot smuggle a second value.
    pub fn parse(query: Option<&str>) -> Result<Self, LoginError> {
        let mut callback = Callback::default();
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut callback.code,
                "state" => &mut callback.state,
                "iss" => &mut callback.iss,
                "error" => &mut callback.error,
                "error_description" => &mut callback.error_description,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(LoginError::local(
                    StatusCode::BAD_REQUEST,
                    "The sign-in response is malformed.",
                    "invalid_request",
                    "A parameter appears more than once.",
                ));
            }
        }
        Ok(callback)
    }
}

/// Finishes a login at the callback and returns the new (rotated) session id of the signed-in
/// session.
///
/// Order matters: the state is consumed first (so a response is used once even when it then
/// fails), a provider error is reported as such, and no back-channel call is made before the
/// state and the issuer have been checked.
pub(crate) async fn finish(
    app: &App,
    session_id: Option<&str>,
    callback: Callback,
) -> Result<String, LoginError> {
    let pending = match (session_id, callback.state.as_deref()) {
        (Some(id), Some(state)) => app.sessions.take_pending(id, state),
        _ => None,
    };
    if let Some(error) = &callback.error {
        return Err(LoginError::from_provider(
            StatusCode::BAD_REQUEST,
            "The identity provider did not sign you in.",
            error,
            callback.error_description.as_deref(),
        ));
    }
    let (Some(session_id), Some(pending)) = (session_id, pending) else {
        return Err(LoginError::local(
            StatusCode::BAD_REQUEST,
            "This sign-in response does not match a sign-in started in this browser.",
            "invalid_state",
            "The state is unknown, was already used or has expired, or cookies are blocked. \
             Please start again.",
        ));
    };
    let discovery = app.provider.discovery().await?;
    check_issuer(&discovery, callback.iss.as_deref())?;
    let code = callback
        .code
        .filter(|code| !code.is_empty())
        .ok_or_else(|| {
            LoginError::local(
                StatusCode::BAD_REQUEST,
                "The sign-in response is malformed.",
                "invalid_request",
                "The response has no authorization code.",
            )
        })?;

    let dpop = pending
        .dpop_key
        .as_ref()
        .map(|key| Dpop { key, nonce: None });
    let form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code),
        ("redirect_uri", app.settings.redirect_uri.clone()),
        ("code_verifier", pending.code_verifier.clone()),
    ];
    let (tokens, nonce) = app
        .provider
        .exchange_code(
            &discovery.token_endpoint,
            &app.client,
            form,
            dpop,
            app.sessions.now(),
        )
        .await?;

    let id_token = verified_jws(app, &discovery, &tokens.id_token, "invalid_id_token").await?;
    check_id_token(
        &id_token,
        &IdTokenExpectations {
            issuer: &discovery.issuer,
            client_id: app.client.client_id(),
            nonce: &pending.nonce,
            access_token: &tokens.access_token,
            now: app.sessions.now(),
        },
    )?;
    let subject = id_token.get("sub").and_then(Value::as_str).unwrap_or("");

    let dpop = pending.dpop_key.as_ref().map(|key| Dpop { key, nonce });
    let answer = app
        .provider
        .userinfo(
            &discovery.userinfo_endpoint,
            &tokens,
            dpop,
            app.sessions.now(),
        )
        .await?;
    let signed = match compact_parts(&answer) {
        5 => decrypt(app, answer).await?,
        _ => answer,
    };
    let claims = verified_jws(app, &discovery, &signed, "invalid_userinfo").await?;
    check_userinfo(&claims, app.client.client_id(), subject)?;

    let profile = Profile {
        claims,
        acr: id_token
            .get("acr")
            .and_then(Value::as_str)
            .map(str::to_owned),
        mode: pending.mode,
        token_type: tokens.token_type.clone(),
    };
    Ok(app.sessions.sign_in(session_id, profile))
}

/// RFC 9207 §2.4: when the response carries `iss` it must be the issuer; when the provider
/// advertises the parameter, its absence is an error too (a mix-up attack strips it).
fn check_issuer(discovery: &Discovery, iss: Option<&str>) -> Result<(), LoginError> {
    let ok = match iss {
        Some(iss) => iss == discovery.issuer,
        None => !discovery.authorization_response_iss_parameter_supported,
    };
    if ok {
        Ok(())
    } else {
        Err(LoginError::local(
            StatusCode::BAD_REQUEST,
            "This sign-in response does not come from the expected identity provider.",
            "invalid_issuer",
            "The iss parameter is missing or does not match the provider's issuer.",
        ))
    }
}

/// Parses `token` as a compact JWS, verifies it against the provider's JWKS and returns its
/// claims; any failure is `code`.
async fn verified_jws(
    app: &App,
    discovery: &Discovery,
    token: &str,
    code: &str,
) -> Result<Map<String, Value>, LoginError> {
    let invalid = |description: &str| {
        LoginError::local(
            StatusCode::BAD_GATEWAY,
            "The identity provider's answer did not pass the portal's checks.",
            code,
            description,
        )
    };
    let jws: DecodedJws =
        decode_compact(token).map_err(|_| invalid("It is not a well-formed signed JWT."))?;
    if !app.provider.verify_signature(discovery, &jws).await? {
        return Err(invalid(
            "Its signature does not verify with the provider's published keys.",
        ));
    }
    jws.claims()
        .map_err(|_| invalid("Its payload is not a JSON object."))
}

/// Decrypts a JWE userinfo answer with the client's decryption key (on the blocking pool: an
/// RSA decryption costs about a millisecond).
async fn decrypt(app: &App, jwe: String) -> Result<String, LoginError> {
    let key = app.client.decryption_key().clone();
    let failed = || {
        LoginError::local(
            StatusCode::BAD_GATEWAY,
            "The portal could not decrypt the claims.",
            "invalid_userinfo",
            "The encrypted userinfo could not be decrypted with the portal's key.",
        )
    };
    let plaintext = tokio::task::spawn_blocking(move || decrypt_compact(&jwe, &key))
        .await
        .map_err(|_| failed())?
        .map_err(|_| failed())?;
    String::from_utf8(plaintext).map_err(|_| failed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_parameters_are_read_once_each() {
        let callback =
            Callback::parse(Some("code=c&state=s&iss=https%3A%2F%2Fop&extra=1")).unwrap();
        assert_eq!(callback.code.as_deref(), Some("c"));
        assert_eq!(callback.iss.as_deref(), Some("https://op"));
        assert!(Callback::parse(Some("code=a&code=b")).is_err());
        assert!(Callback::parse(None).unwrap().state.is_none());
    }

    #[test]
    fn the_issuer_rule_follows_rfc_9207() {
        let mut discovery: Discovery = serde_json::from_value(serde_json::json!({
            "issuer": "https://op", "token_endpoint": "t", "userinfo_endpoint": "u",
            "jwks_uri": "j", "authorization_response_iss_parameter_supported": true
        }))
        .unwrap();
        assert!(check_issuer(&discovery, Some("https://op")).is_ok());
        assert!(check_issuer(&discovery, Some("https://op/")).is_err());
        assert!(check_issuer(&discovery, None).is_err());
        discovery.authorization_response_iss_parameter_supported = false;
        assert!(check_issuer(&discovery, None).is_ok());
    }
}
