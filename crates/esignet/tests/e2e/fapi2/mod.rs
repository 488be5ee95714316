//! The OpenID Foundation's FAPI 2.0 Security Profile (Final) authorization-server test plan
//! (`fapi2-security-profile-final-test-plan`, variant private_key_jwt + DPoP, unsigned
//! requests, plain responses, OpenID Connect) reproduced as our own tests: one test per test
//! module, named after it (`fapi2-security-profile-final-<module>` → `<module>` in snake case).
//! The modules that cannot apply to this provider are listed in docs/compatibility.md (D23)
//! with the reason.
//!
//! Every test runs against the real binary over HTTP: a client registered with
//! `require_pushed_authorization_requests`, `dpop_bound_access_tokens` and `require_pkce`, the
//! resident signing in through the login API (as the login pages do), and the client's back end
//! doing PAR, token and userinfo with DPoP proofs.

mod authorization;
mod dpop;
mod par;
mod token;

use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::{self, JwtPayload};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::harness::{
    Server, b64url, new_ec_key, new_rsa_key, public_jwk, sha256, sign_rs256, unix_now, uuid,
};
use crate::login::{Browser, pkce_pair};

pub(crate) const CLIENT: &str = "fapi2-client";
pub(crate) const SECOND_CLIENT: &str = "fapi2-second-client";
pub(crate) const REDIRECT: &str = "https://rp.example/callback";
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const RESIDENT: &str = "3519847260";

/// A form body.
pub(crate) type Form = Vec<(&'static str, String)>;

/// A server with two FAPI 2.0 clients.
pub(crate) struct Fapi {
    pub server: Server,
    pub key: Jwk,
    pub second_key: Jwk,
    pub dpop_key: Jwk,
}

/// Status, headers and JSON body of an answer.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// (`error`, `error_description`).
    pub fn error(&self) -> (&str, &str) {
        (
            self.body["error"].as_str().unwrap_or_default(),
            self.body["error_description"].as_str().unwrap_or_default(),
        )
    }
}

/// A login pushed and authenticated up to its code.
pub(crate) struct Code {
    pub code: String,
    pub verifier: String,
    pub nonce: String,
}

impl Fapi {
    /// Starts the server (with `env`) and registers both clients.
    pub async fn start(env: &[(&str, &str)]) -> Fapi {
        Self::start_with_key_alg(env, None).await
    }

    /// [`Fapi::start`] with the first client's key registered for `alg` (its JWK `alg`).
    pub async fn start_with_key_alg(env: &[(&str, &str)], alg: Option<&str>) -> Fapi {
        let server = Server::start(env).await;
        let config = json!({"require_pushed_authorization_requests": true,
            "dpop_bound_access_tokens": true, "require_pkce": true});
        let mut key = new_rsa_key();
        if let Some(alg) = alg {
            key.set_algorithm(alg);
        }
        server.register_client(CLIENT, config.clone(), &key).await;
        let second_key = new_rsa_key();
        server
            .register_client(SECOND_CLIENT, config, &second_key)
            .await;
        Fapi {
            server,
            key,
            second_key,
            dpop_key: new_ec_key(),
        }
    }

    pub fn issuer(&self) -> String {
        self.server.base.clone()
    }

    /// A client assertion of `client` (signed with `key`) with FAPI 2.0's audience, the issuer.
    pub fn assertion(&self, key: &Jwk, client: &str) -> String {
        assertion_with(key, |claims| {
            claims["iss"] = json!(client);
            claims["sub"] = json!(client);
            claims["aud"] = json!(self.issuer());
        })
    }

    /// The pushed authorization parameters of a normal request with `challenge`.
    pub fn params(&self, challenge: &str, nonce: &str) -> Form {
        vec![
            ("response_type", "code".into()),
            ("scope", "openid email".into()),
            ("redirect_uri", REDIRECT.into()),
            ("state", "fapi-state".into()),
            ("nonce", nonce.into()),
            ("acr_values", "mosip:idp:acr:generated-code".into()),
            (
                "claims",
                json!({"userinfo": {"email": {"essential": true}}}).to_string(),
            ),
            ("code_challenge", challenge.into()),
            ("code_challenge_method", "S256".into()),
        ]
    }

    /// POSTs `form` to `url` with an optional DPoP proof.
    pub async fn post(&self, url: &str, form: &[(&str, String)], dpop: Option<String>) -> Answer {
        let mut request = self.server.http.post(url).form(form);
        if let Some(proof) = dpop {
            request = request.header("DPoP", proof);
        }
        let response = request.send().await.unwrap();
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.json().await.unwrap_or(Value::Null),
        }
    }

    /// Pushes `params` as `client` with the given assertion and DPoP proof.
    pub async fn push(
        &self,
        client: &str,
        assertion: String,
        params: Form,
        dpop: Option<String>,
    ) -> Answer {
        let mut form = params;
        form.push(("client_id", client.into()));
        form.push(("client_assertion_type", JWT_BEARER.into()));
        form.push(("client_assertion", assertion));
        self.post(&self.server.par_endpoint(), &form, dpop).await
    }

    /// A DPoP proof of the test's key for `htm` `htu`.
    pub fn proof(&self, htm: &str, htu: &str, nonce: Option<&str>, token: Option<&str>) -> String {
        dpop_proof_with(&self.dpop_key, |header, claims| {
            let _ = header;
            claims["htm"] = json!(htm);
            claims["htu"] = json!(htu);
            if let Some(nonce) = nonce {
                claims["nonce"] = json!(nonce);
            }
            if let Some(token) = token {
                claims["ath"] = json!(b64url(&sha256(token.as_bytes())));
            }
        })
    }

    /// The resident signs in on the pushed request `request_uri` of `client`; returns the
    /// code (or the wrapped errors of par-oauth-details).
    pub async fn sign_in(&self, client: &str, request_uri: &str) -> Result<String, Value> {
        let browser = Browser::start(
            &self.server,
            "/authorization/par-oauth-details",
            json!({"clientId": client, "requestUri": request_uri}),
        )
        .await?;
        let authenticated = browser.otp_login(RESIDENT).await;
        assert_eq!(authenticated["errors"], json!([]), "{authenticated}");
        let answer = browser.auth_code(&["email"], &[]).await;
        assert_eq!(answer["errors"], json!([]), "{answer}");
        assert_eq!(answer["response"]["state"], "fapi-state");
        Ok(answer["response"]["code"].as_str().unwrap().to_owned())
    }

    /// A whole pushed, DPoP-bound login of the first client up to its code.
    pub async fn code(&self) -> Code {
        self.code_with(rs256_assertion).await
    }

    /// [`Fapi::code`] with the PAR assertion made by `make`.
    pub async fn code_with(&self, make: AssertionMaker) -> Code {
        let (verifier, challenge) = pkce_pair();
        let nonce = uuid();
        let par = self.server.par_endpoint();
        let pushed = self
            .push(
                CLIENT,
                make(self, CLIENT),
                self.params(&challenge, &nonce),
                Some(self.proof("POST", &par, None, None)),
            )
            .await;
        assert_eq!(pushed.status, 201, "{}", pushed.body);
        let code = self
            .sign_in(CLIENT, pushed.body["request_uri"].as_str().unwrap())
            .await
            .unwrap();
        Code {
            code,
            verifier,
            nonce,
        }
    }

    /// A server nonce for the test's key at the token endpoint (from a use_dpop_nonce
    /// challenge to a request that is otherwise right).
    pub async fn token_nonce(&self, code: &Code) -> String {
        let endpoint = self.server.token_endpoint();
        let answer = self
            .post(
                &endpoint,
                &self.token_form(CLIENT, code, self.assertion(&self.key, CLIENT)),
                Some(self.proof("POST", &endpoint, None, None)),
            )
            .await;
        assert_eq!(answer.body["error"], "use_dpop_nonce", "{}", answer.body);
        answer.headers["dpop-nonce"].to_str().unwrap().to_owned()
    }

    /// The token form of `code` for `client`, with `assertion`.
    pub fn token_form(&self, client: &str, code: &Code, assertion: String) -> Form {
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code.code.clone()),
            ("redirect_uri", REDIRECT.into()),
            ("client_id", client.into()),
            ("code_verifier", code.verifier.clone()),
            ("client_assertion_type", JWT_BEARER.into()),
            ("client_assertion", assertion),
        ]
    }

    /// A token request with a fresh proof of the test's key: answers the nonce challenge once,
    /// as a client would, with a fresh RS256 assertion (an assertion is single use).
    pub async fn token(&self, form: Form) -> Answer {
        self.token_with_assertion(form, rs256_assertion).await
    }

    /// [`Fapi::token`] whose retry assertion is made by `make`.
    pub async fn token_with_assertion(&self, form: Form, make: AssertionMaker) -> Answer {
        let endpoint = self.server.token_endpoint();
        let first = self
            .post(
                &endpoint,
                &form,
                Some(self.proof("POST", &endpoint, None, None)),
            )
            .await;
        if first.status != 400 || first.body["error"] != "use_dpop_nonce" {
            return first;
        }
        let nonce = first.headers["dpop-nonce"].to_str().unwrap().to_owned();
        let mut retry = form;
        if let Some(slot) = retry
            .iter_mut()
            .find(|(name, _)| *name == "client_assertion")
        {
            let client = assertion_issuer(&slot.1);
            slot.1 = make(self, &client);
        }
        self.post(
            &endpoint,
            &retry,
            Some(self.proof("POST", &endpoint, Some(&nonce), None)),
        )
        .await
    }
}

/// Makes a client assertion of the named client.
pub(crate) type AssertionMaker = fn(&Fapi, &str) -> String;

/// An RS256 assertion of `client` with its registered key, the issuer as audience.
pub(crate) fn rs256_assertion(fapi: &Fapi, client: &str) -> String {
    let key = if client == SECOND_CLIENT {
        &fapi.second_key
    } else {
        &fapi.key
    };
    fapi.assertion(key, client)
}

/// The `iss` of a client assertion (unverified).
fn assertion_issuer(assertion: &str) -> String {
    let payload = assertion.split('.').nth(1).unwrap_or_default();
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
        .unwrap_or_default();
    serde_json::from_slice::<Value>(&bytes).unwrap_or_default()["iss"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A client assertion (RS256, fresh `jti`, valid for a minute) edited by `edit`.
pub(crate) fn assertion_with(key: &Jwk, edit: impl FnOnce(&mut Value)) -> String {
    let now = unix_now();
    let mut claims = json!({"iat": now, "exp": now + 60, "jti": uuid()});
    edit(&mut claims);
    sign_rs256(key, claims, None)
}

/// A DPoP proof (ES256, `typ` dpop+jwt, the public key in `jwk`, fresh `iat` and `jti`) whose
/// header and claims `edit` may change.
pub(crate) fn dpop_proof_with(key: &Jwk, edit: impl FnOnce(&mut JwsHeader, &mut Value)) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("dpop+jwt");
    let public = Jwk::from_map(public_jwk(key).as_object().unwrap().clone()).unwrap();
    header.set_jwk(public);
    let mut claims = json!({"iat": unix_now(), "jti": uuid()});
    edit(&mut header, &mut claims);
    let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let signer = ES256.signer_from_jwk(key).unwrap();
    jwt::encode_with_signer(&payload, &header, &signer).unwrap()
}
