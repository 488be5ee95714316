//! A login driven exactly as the eSignet UI and a relying party do it, step by step, so tests
//! can stop at any step and poke at it.

use josekit::jwk::Jwk;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::harness::{Server, b64url, client_assertion, dpop_proof, now_timestamp, sha256};

/// A PKCE verifier and its S256 challenge (computed independently).
pub fn pkce_pair() -> (String, String) {
    let verifier = format!("{}{}", crate::harness::uuid(), crate::harness::uuid()).replace('-', "");
    let challenge = b64url(&sha256(verifier.as_bytes()));
    (verifier, challenge)
}

/// The browser side of one login.
pub struct Browser<'a> {
    pub server: &'a Server,
    pub csrf: String,
    pub transaction_id: String,
    pub hash: String,
    pub details: Value,
}

/// Fetches a CSRF token (sets the cookie in the shared cookie jar).
pub async fn csrf_token(server: &Server) -> String {
    let body: Value = server
        .http
        .get(server.url("/csrf/token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_owned()
}

pub fn csrf_headers(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("X-XSRF-TOKEN", token.parse().unwrap());
    headers
}

/// The oauth-details-hash as the UI computes it: SHA-256 over JSON.stringify(response).
pub fn details_hash(response: &Value) -> String {
    b64url(&sha256(serde_json::to_string(response).unwrap().as_bytes()))
}

impl<'a> Browser<'a> {
    /// Starts with `/authorization/<path>` (v3/oauth-details or par-oauth-details).
    pub async fn start(
        server: &'a Server,
        path: &str,
        request: Value,
    ) -> Result<Browser<'a>, Value> {
        let csrf = csrf_token(server).await;
        let (status, body) = server
            .post_wrapped(path, request, csrf_headers(&csrf))
            .await;
        assert_eq!(status, 200);
        if body["errors"] != json!([]) {
            return Err(body);
        }
        let details = body["response"].clone();
        Ok(Browser {
            server,
            hash: details_hash(&details),
            transaction_id: details["transactionId"].as_str().unwrap().to_owned(),
            details,
            csrf,
        })
    }

    pub fn headers(&self) -> HeaderMap {
        let mut headers = csrf_headers(&self.csrf);
        headers.insert("oauth-details-key", self.transaction_id.parse().unwrap());
        headers.insert("oauth-details-hash", self.hash.parse().unwrap());
        headers
    }

    pub async fn call(&self, path: &str, request: Value) -> Value {
        let (status, body) = self
            .server
            .post_wrapped(path, request, self.headers())
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn send_otp(&self, individual_id: &str) -> Value {
        self.call(
            "/authorization/send-otp",
            json!({"transactionId": self.transaction_id, "individualId": individual_id, "otpChannels": ["email", "phone"]}),
        )
        .await
    }

    pub async fn authenticate(
        &self,
        individual_id: &str,
        factor: &str,
        challenge: &str,
        format: &str,
    ) -> Value {
        self.call(
            "/authorization/v3/authenticate",
            json!({"transactionId": self.transaction_id, "individualId": individual_id,
                   "challengeList": [{"authFactorType": factor, "challenge": challenge, "format": format}]}),
        )
        .await
    }

    pub async fn otp_login(&self, individual_id: &str) -> Value {
        let sent = self.send_otp(individual_id).await;
        assert_eq!(sent["errors"], json!([]), "{sent}");
        self.authenticate(individual_id, "OTP", crate::harness::OTP, "alpha-numeric")
            .await
    }

    pub async fn claim_details(&self) -> Value {
        let mut headers = self.headers();
        headers.remove("X-XSRF-TOKEN");
        self.server
            .http
            .get(self.server.url("/authorization/claim-details"))
            .headers(headers)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn auth_code(&self, accepted: &[&str], permitted: &[&str]) -> Value {
        self.call(
            "/authorization/auth-code",
            json!({"transactionId": self.transaction_id, "acceptedClaims": accepted, "permittedAuthorizeScopes": permitted}),
        )
        .await
    }
}

/// The RP back end.
pub struct Rp<'a> {
    pub server: &'a Server,
    pub client_id: String,
    pub key: Jwk,
    pub redirect_uri: String,
}

impl<'a> Rp<'a> {
    /// The seeded demo client (`health-services-demo`, its key from the data directory).
    pub fn demo(server: &'a Server) -> Self {
        Rp {
            server,
            client_id: "health-services-demo".into(),
            key: server.demo_client_key(),
            redirect_uri: "http://127.0.0.1:8090/callback".into(),
        }
    }
}

impl Rp<'_> {
    /// POSTs the token request; returns status, headers and body.
    pub async fn token(
        &self,
        code: &str,
        verifier: Option<&str>,
        dpop: Option<String>,
    ) -> (u16, HeaderMap, Value) {
        let assertion = client_assertion(&self.key, &self.client_id, &self.server.token_endpoint());
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("client_id", self.client_id.clone()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion", assertion),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier.to_owned()));
        }
        self.post_form(&self.server.token_endpoint(), &form, dpop)
            .await
    }

    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, String)],
        dpop: Option<String>,
    ) -> (u16, HeaderMap, Value) {
        let mut request = self.server.http.post(url).form(form);
        if let Some(proof) = dpop {
            request = request.header("DPoP", proof);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (
            status,
            headers,
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// GETs userinfo.
    pub async fn userinfo(
        &self,
        authorization: &str,
        dpop: Option<String>,
    ) -> (u16, HeaderMap, String) {
        let mut request = self
            .server
            .http
            .get(self.server.userinfo_endpoint())
            .header("Authorization", authorization);
        if let Some(proof) = dpop {
            request = request.header("DPoP", proof);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }

    /// Pushes an authorization request; returns status, headers and body.
    pub async fn par(
        &self,
        params: &[(&str, String)],
        dpop_key: Option<&Jwk>,
    ) -> (u16, HeaderMap, Value) {
        let mut form: Vec<(&str, String)> = params.to_vec();
        form.push(("client_id", self.client_id.clone()));
        form.push((
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
        ));
        form.push((
            "client_assertion",
            client_assertion(&self.key, &self.client_id, &self.server.par_endpoint()),
        ));
        let proof =
            dpop_key.map(|key| dpop_proof(key, "POST", &self.server.par_endpoint(), None, None));
        self.post_form(&self.server.par_endpoint(), &form, proof)
            .await
    }
}

/// A v3 oauth-details request body.
pub fn authorize_request(
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    challenge: Option<&str>,
) -> Value {
    let mut request = json!({
        "clientId": client_id,
        "scope": scope,
        "responseType": "code",
        "redirectUri": redirect_uri,
        "display": "popup",
        "prompt": "login",
        "acrValues": "mosip:idp:acr:generated-code mosip:idp:acr:static-code",
        "nonce": crate::harness::uuid(),
        "state": "state-123",
        "claimsLocales": "en",
        "uiLocales": "en",
    });
    if let Some(challenge) = challenge {
        request["codeChallenge"] = json!(challenge);
        request["codeChallengeMethod"] = json!("S256");
    }
    request
}

#[allow(dead_code)]
pub fn timestamp() -> String {
    now_timestamp()
}
