//! A minimal OpenID provider for the portal's tests: discovery, JWKS, PAR, token and userinfo
//! over real HTTP, signing with `esignet_jose`. It checks what the portal sends (client
//! assertions, PKCE, DPoP proofs) and refuses anything wrong, so a portal bug fails the login.
//! The browser part of the provider (login UI, consent) is replaced by [`FakeOp::authorize`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use esignet_jose::{
    Algorithm, PrivateKey, PublicJwk, decode_compact, encrypt_compact, half_sha256_b64url,
    random_id, sha256_b64url, sign_compact,
};
use esignet_spi::{Clock, SystemClock};
use serde_json::{Map, Value, json};

pub const SUBJECT: &str = "pairwise-subject-4711";
const SIGNING_KID: &str = "op-signing-1";
const KYC_KID: &str = "kyc-1";

/// What the fake provider does differently in a test.
#[derive(Clone, Default)]
pub struct Behaviour {
    pub userinfo_jwe: bool,
    pub forge_id_token: bool,
    pub nonce_at_token: bool,
    pub nonce_at_userinfo: bool,
    pub token_error: Option<&'static str>,
}

/// What the fake provider saw.
#[derive(Clone, Default, Debug)]
pub struct Log {
    pub par_calls: u32,
    pub par_dpop_jkt: Option<String>,
    pub token_calls: u32,
    pub userinfo_calls: u32,
    pub nonce_challenges: u32,
    pub token_type: Option<String>,
    /// Why requests were refused (a passing test usually expects this to stay empty).
    pub refusals: Vec<String>,
}

/// A pushed request: its parameters and the DPoP key thumbprint it was bound to.
type Pushed = (HashMap<String, String>, Option<String>);

struct Grant {
    nonce: String,
    challenge: String,
    redirect_uri: String,
    jkt: Option<String>,
}

pub struct Op {
    pub base: String,
    pub client_id: String,
    client_key: PublicJwk,
    signing: PrivateKey,
    kyc: PrivateKey,
    forger: PrivateKey,
    pub behaviour: Mutex<Behaviour>,
    pub log: Mutex<Log>,
    par: Mutex<HashMap<String, Pushed>>,
    codes: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, Option<String>>>,
    jtis: Mutex<HashSet<String>>,
    nonces: Mutex<HashSet<String>>,
}

/// A running fake provider.
pub struct FakeOp {
    pub op: Arc<Op>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The result of [`FakeOp::authorize`]: the request the provider received and the code issued.
pub struct Authorized {
    pub params: HashMap<String, String>,
    pub code: String,
    pub state: String,
}

impl FakeOp {
    /// Starts the provider on a free loopback port for `client_id` with `client_key`.
    pub async fn start(client_id: &str, client_key: PublicJwk) -> FakeOp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let op = Arc::new(Op {
            base,
            client_id: client_id.to_owned(),
            client_key,
            signing: PrivateKey::generate_rsa(2048).unwrap(),
            kyc: PrivateKey::generate_rsa(2048).unwrap(),
            forger: PrivateKey::generate_rsa(2048).unwrap(),
            behaviour: Mutex::new(Behaviour::default()),
            log: Mutex::new(Log::default()),
            par: Mutex::default(),
            codes: Mutex::default(),
            tokens: Mutex::default(),
            jtis: Mutex::default(),
            nonces: Mutex::default(),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/.well-known/jwks.json", get(jwks))
            .route("/v1/esignet/oauth/par", post(par))
            .route("/v1/esignet/oauth/v2/token", post(token))
            .route("/v1/esignet/oidc/userinfo", get(userinfo))
            .with_state(op.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        FakeOp { op, task }
    }

    pub fn issuer(&self) -> &str {
        &self.op.base
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.op.behaviour.lock().unwrap() = behaviour;
    }

    pub fn log(&self) -> Log {
        self.op.log.lock().unwrap().clone()
    }

    /// Plays the login UI: reads the authorize URL the portal redirected to (directly, or
    /// through a pushed request), checks it, and issues a code as after a successful login.
    pub fn authorize(&self, location: &str) -> Authorized {
        let url = url::Url::parse(location).unwrap();
        assert_eq!(
            format!("{}{}", url.origin().ascii_serialization(), url.path()),
            format!("{}/authorize", self.op.base)
        );
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(query["client_id"], self.op.client_id);
        let (params, jkt) = match query.get("request_uri") {
            Some(uri) => self
                .op
                .par
                .lock()
                .unwrap()
                .remove(uri)
                .expect("a pushed request"),
            None => (query, None),
        };
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["code_challenge_method"], "S256");
        let code = random_id();
        self.op.codes.lock().unwrap().insert(
            code.clone(),
            Grant {
                nonce: params["nonce"].clone(),
                challenge: params["code_challenge"].clone(),
                redirect_uri: params["redirect_uri"].clone(),
                jkt,
            },
        );
        Authorized {
            state: params["state"].clone(),
            params,
            code,
        }
    }
}

impl Op {
    fn url(&self, path: &str) -> String {
        format!("{}/v1/esignet{path}", self.base)
    }

    fn refuse(&self, why: String) -> String {
        self.log.lock().unwrap().refusals.push(why.clone());
        why
    }

    /// Checks a `private_key_jwt` client assertion, addressed (as FAPI 2.0 requires) to the
    /// issuer identifier.
    fn check_assertion(&self, form: &HashMap<String, String>) -> Result<(), String> {
        if form.get("client_assertion_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return Err(self.refuse("client_assertion_type".into()));
        }
        if form.get("client_id") != Some(&self.client_id) {
            return Err(self.refuse("client_id".into()));
        }
        let assertion = form
            .get("client_assertion")
            .ok_or_else(|| self.refuse("no assertion".into()))?;
        let jws = decode_compact(assertion).map_err(|_| self.refuse("assertion syntax".into()))?;
        if jws.alg() != Some(Algorithm::RS256) || !jws.verify(&self.client_key) {
            return Err(self.refuse("assertion signature".into()));
        }
        let claims = Value::Object(jws.claims().unwrap());
        let now = SystemClock.now().unix_timestamp();
        let ok = claims["iss"] == json!(self.client_id)
            && claims["sub"] == json!(self.client_id)
            && claims["aud"] == json!(self.base)
            && claims["exp"].as_i64().is_some_and(|exp| exp > now)
            && claims["iat"].as_i64().is_some_and(|iat| iat <= now + 5);
        if !ok {
            return Err(self.refuse(format!("assertion claims {claims:?}")));
        }
        let jti = claims["jti"].as_str().unwrap_or_default().to_owned();
        if jti.is_empty() || !self.jtis.lock().unwrap().insert(jti) {
            return Err(self.refuse("assertion jti replayed".into()));
        }
        Ok(())
    }

    /// Checks a DPoP proof; returns the key's thumbprint. `Err(None)` asks for a nonce.
    fn check_dpop(
        &self,
        headers: &HeaderMap,
        htm: &str,
        htu: &str,
        access_token: Option<&str>,
        require_nonce: bool,
    ) -> Result<String, Option<String>> {
        let proof = headers
            .get("DPoP")
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| Some(self.refuse("no DPoP proof".into())))?;
        let jws = decode_compact(proof).map_err(|_| Some(self.refuse("proof syntax".into())))?;
        let key = PublicJwk::from_json(&jws.header["jwk"])
            .map_err(|_| Some(self.refuse("proof jwk".into())))?;
        if jws.typ() != Some("dpop+jwt") || !jws.verify(&key) {
            return Err(Some(self.refuse("proof signature".into())));
        }
        let claims = Value::Object(jws.claims().unwrap());
        let now = SystemClock.now().unix_timestamp();
        let ok = claims["htm"] == htm
            && claims["htu"] == htu
            && claims["iat"]
                .as_i64()
                .is_some_and(|iat| (now - iat).abs() < 60)
            && access_token
                .is_none_or(|token| claims["ath"] == json!(sha256_b64url(token.as_bytes())));
        if !ok {
            return Err(Some(self.refuse(format!("proof claims {claims:?}"))));
        }
        let jti = claims["jti"].as_str().unwrap_or_default().to_owned();
        if jti.is_empty() || !self.jtis.lock().unwrap().insert(jti) {
            return Err(Some(self.refuse("proof jti replayed".into())));
        }
        if require_nonce {
            let known = claims["nonce"]
                .as_str()
                .is_some_and(|nonce| self.nonces.lock().unwrap().remove(nonce));
            if !known {
                return Err(None);
            }
        }
        Ok(key.thumbprint())
    }

    fn fresh_nonce(&self) -> String {
        let nonce = random_id();
        self.nonces.lock().unwrap().insert(nonce.clone());
        self.log.lock().unwrap().nonce_challenges += 1;
        nonce
    }

    fn userinfo_claims(&self) -> Value {
        json!({
            "sub": SUBJECT,
            "aud": self.client_id,
            "iss": "https://identity-system.example",
            "name#en": "Siddharth <script>alert(1)</script> Mansour",
            "name#fr": "Siddharth Mansour",
            "name#ar": "سيدهارث منصور",
            "given_name#en": "Siddharth",
            "email": "sid&dharth@example.com",
            "phone_number": "+919427357934",
            "gender#en": "Male",
            "birthdate": "1987/11/25",
            "picture": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
            "address#en": {"street_address": "12 Palm Street", "locality": "Chennai", "postal_code": "600001", "country": "India"},
            "verified_claims": [{
                "verification": {
                    "trust_framework": "eidas",
                    "assurance_level": "substantial",
                    "time": "2023-05-01T10:00:00Z",
                    "evidence": [{"type": "document", "method": "pipp", "document_details": {"type": "idcard"}}]
                },
                "claims": {"birthdate": "1987-11-25"}
            }]
        })
    }
}

fn form(body: &Bytes) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn oauth_error(code: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

async fn discovery(State(op): State<Arc<Op>>) -> Response {
    axum::Json(json!({
        "issuer": op.base,
        "authorization_endpoint": format!("{}/authorize", op.base),
        "token_endpoint": op.url("/oauth/v2/token"),
        "userinfo_endpoint": op.url("/oidc/userinfo"),
        "pushed_authorization_request_endpoint": op.url("/oauth/par"),
        "jwks_uri": format!("{}/.well-known/jwks.json", op.base),
        "authorization_response_iss_parameter_supported": true,
        "dpop_signing_alg_values_supported": ["ES256", "RS256"],
    }))
    .into_response()
}

async fn jwks(State(op): State<Arc<Op>>) -> Response {
    let entry = |key: &PrivateKey, kid: &str| {
        let mut jwk = key.public_jwk().with_kid(kid).to_json();
        jwk["use"] = json!("sig");
        jwk["alg"] = json!("RS256");
        jwk["x5c"] = json!(["MIIB-not-parsed-by-the-portal"]);
        jwk
    };
    axum::Json(json!({"keys": [
        entry(&op.signing, SIGNING_KID),
        entry(&op.kyc, KYC_KID),
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "unsupported"},
    ]}))
    .into_response()
}

async fn par(State(op): State<Arc<Op>>, headers: HeaderMap, body: Bytes) -> Response {
    op.log.lock().unwrap().par_calls += 1;
    let mut params = form(&body);
    if op.check_assertion(&params).is_err() {
        return oauth_error("invalid_client", "client authentication failed");
    }
    let jkt = match headers.contains_key("DPoP") {
        true => match op.check_dpop(&headers, "POST", &op.url("/oauth/par"), None, false) {
            Ok(jkt) => Some(jkt),
            Err(_) => return oauth_error("invalid_dpop_proof", "bad proof"),
        },
        false => None,
    };
    op.log.lock().unwrap().par_dpop_jkt = jkt.clone();
    for member in ["client_assertion", "client_assertion_type"] {
        params.remove(member);
    }
    let request_uri = format!("urn:ietf:params:oauth:request_uri:{}", random_id());
    op.par
        .lock()
        .unwrap()
        .insert(request_uri.clone(), (params, jkt));
    (
        StatusCode::CREATED,
        axum::Json(json!({"request_uri": request_uri, "expires_in": 60})),
    )
        .into_response()
}

async fn token(State(op): State<Arc<Op>>, headers: HeaderMap, body: Bytes) -> Response {
    op.log.lock().unwrap().token_calls += 1;
    let params = form(&body);
    let endpoint = op.url("/oauth/v2/token");
    if op.check_assertion(&params).is_err() {
        return oauth_error("invalid_client", "client authentication failed");
    }
    let behaviour = op.behaviour.lock().unwrap().clone();
    if let Some(code) = behaviour.token_error {
        return oauth_error(code, "pkce_failed <as the provider says>");
    }
    if params.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error("unsupported_grant_type", "");
    }
    let code = params.get("code").cloned().unwrap_or_default();
    let (nonce, jkt_bound) = {
        let codes = op.codes.lock().unwrap();
        let Some(grant) = codes.get(&code) else {
            return oauth_error("invalid_grant", "unknown code");
        };
        let verifier = params.get("code_verifier").cloned().unwrap_or_default();
        if params.get("redirect_uri") != Some(&grant.redirect_uri)
            || sha256_b64url(verifier.as_bytes()) != grant.challenge
        {
            op.refuse("redirect_uri or PKCE".into());
            return oauth_error("invalid_grant", "pkce_failed");
        }
        (grant.nonce.clone(), grant.jkt.clone())
    };
    let jkt = if headers.contains_key("DPoP") || jkt_bound.is_some() {
        match op.check_dpop(&headers, "POST", &endpoint, None, behaviour.nonce_at_token) {
            Ok(jkt) if jkt_bound.as_ref().is_none_or(|bound| *bound == jkt) => Some(jkt),
            Err(None) => {
                let nonce = op.fresh_nonce();
                let mut response = oauth_error(
                    "use_dpop_nonce",
                    "Authorization server requires nonce in DPoP proof",
                );
                response
                    .headers_mut()
                    .insert("DPoP-Nonce", nonce.parse().unwrap());
                return response;
            }
            _ => return oauth_error("invalid_dpop_proof", "bad proof"),
        }
    } else {
        None
    };
    op.codes.lock().unwrap().remove(&code);
    let access_token = random_id();
    op.tokens
        .lock()
        .unwrap()
        .insert(access_token.clone(), jkt.clone());
    let now = SystemClock.now().unix_timestamp();
    let claims = json!({
        "iss": op.base, "sub": SUBJECT, "aud": op.client_id, "iat": now, "exp": now + 300,
        "nonce": nonce, "at_hash": half_sha256_b64url(access_token.as_bytes()),
        "acr": "mosip:idp:acr:generated-code",
    });
    let key = if behaviour.forge_id_token {
        &op.forger
    } else {
        &op.signing
    };
    let id_token = sign(key, SIGNING_KID, &claims);
    let token_type = if jkt.is_some() { "DPoP" } else { "Bearer" };
    op.log.lock().unwrap().token_type = Some(token_type.to_owned());
    axum::Json(json!({
        "access_token": access_token, "token_type": token_type, "id_token": id_token, "expires_in": 300
    }))
    .into_response()
}

async fn userinfo(State(op): State<Arc<Op>>, headers: HeaderMap) -> Response {
    op.log.lock().unwrap().userinfo_calls += 1;
    let behaviour = op.behaviour.lock().unwrap().clone();
    let challenge = |scheme: &str, error: &str| {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        let value = format!("{scheme} error=\"{error}\"");
        response
            .headers_mut()
            .insert("WWW-Authenticate", value.parse().unwrap());
        response
    };
    let authorization = headers
        .get("Authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let Some((scheme, token)) = authorization.split_once(' ') else {
        return challenge("Bearer", "invalid_token");
    };
    let Some(jkt) = op.tokens.lock().unwrap().get(token).cloned() else {
        return challenge("Bearer", "invalid_token");
    };
    match jkt {
        Some(jkt) => {
            if scheme != "DPoP" {
                return challenge("DPoP", "invalid_token");
            }
            let url = op.url("/oidc/userinfo");
            match op.check_dpop(
                &headers,
                "GET",
                &url,
                Some(token),
                behaviour.nonce_at_userinfo,
            ) {
                Ok(proof_jkt) if proof_jkt == jkt => {}
                Err(None) => {
                    let nonce = op.fresh_nonce();
                    let mut response = challenge("DPoP", "use_dpop_nonce");
                    response
                        .headers_mut()
                        .insert("DPoP-Nonce", nonce.parse().unwrap());
                    return response;
                }
                _ => return challenge("DPoP", "invalid_dpop_proof"),
            }
        }
        None if scheme != "Bearer" => return challenge("Bearer", "invalid_token"),
        None => {}
    }
    let jws = sign(&op.kyc, KYC_KID, &op.userinfo_claims());
    let body = if behaviour.userinfo_jwe {
        encrypt_compact(jws.as_bytes(), &op.client_key, Some("JWT")).unwrap()
    } else {
        jws
    };
    ([("Content-Type", "application/jwt")], body).into_response()
}

fn sign(key: &PrivateKey, kid: &str, claims: &Value) -> String {
    let mut header = Map::new();
    header.insert("kid".into(), json!(kid));
    header.insert("typ".into(), json!("JWT"));
    sign_compact(
        key,
        Algorithm::RS256,
        &header,
        claims.to_string().as_bytes(),
    )
    .unwrap()
}
