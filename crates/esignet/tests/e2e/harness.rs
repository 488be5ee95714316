//! Runs the real `esignet` binary on a free loopback port with its own data directory, and
//! drives it over HTTP as an RP and a browser would. Client-side crypto uses independent JOSE
//! libraries (`josekit` to sign, `jsonwebtoken` to verify) so our own JOSE code is not checked
//! against itself.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789-abcdefghijklmnop";
pub const OTP: &str = "111111";

/// A running server.
pub struct Server {
    child: Child,
    pub base: String,
    pub data: tempfile::TempDir,
    pub http: reqwest::Client,
}

impl Server {
    /// Stops the process and hands back its data directory.
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let placeholder = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.data, placeholder)
    }
}

/// Runs an `esignet` command (not `serve`) against a data directory; returns status, stdout,
/// stderr.
pub fn run_cli(
    args: &[&str],
    data: &std::path::Path,
    extra_env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_esignet"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ESIGNET_DATA__DIR", data)
        .env("ESIGNET_LOG", "warn");
    for (key, value) in extra_env {
        command.env(key, value);
    }
    let output = command.output().expect("the esignet binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts the binary with extra `ESIGNET_*` variables.
    pub async fn start(extra_env: &[(&str, &str)]) -> Server {
        Server::start_in(tempfile::tempdir().unwrap(), extra_env).await
    }

    /// Starts the binary on an existing data directory (to test restarts).
    pub async fn start_in(data: tempfile::TempDir, extra_env: &[(&str, &str)]) -> Server {
        Server::launch(&["serve"], data, extra_env).await
    }

    /// Starts `esignet <args>` (a command that runs the provider, such as `serve` or `demo`).
    pub async fn launch(
        args: &[&str],
        data: tempfile::TempDir,
        extra_env: &[(&str, &str)],
    ) -> Server {
        Server::launch_logging_to(args, data, extra_env, None).await
    }

    /// [`Server::launch`] with the process's standard output and error written to `log`
    /// (tests that read what the instance logged).
    pub async fn launch_logging_to(
        args: &[&str],
        data: tempfile::TempDir,
        extra_env: &[(&str, &str)],
        log: Option<std::fs::File>,
    ) -> Server {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_esignet"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ESIGNET_SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("ESIGNET_SERVER__PUBLIC_URL", &base)
            .env("ESIGNET_DATA__DIR", data.path())
            .env("ESIGNET_ADMIN__STATIC_TOKEN", ADMIN_TOKEN)
            .env("ESIGNET_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(log) = log {
            command
                .stdout(log.try_clone().expect("the log file"))
                .stderr(log);
        }
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let child = command.spawn().expect("the esignet binary starts");
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let server = Server {
            child,
            base,
            data,
            http,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        for _ in 0..300 {
            if let Ok(response) = self.http.get(self.url("/actuator/health")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not become ready");
    }

    /// A URL under the API base path.
    pub fn url(&self, path: &str) -> String {
        format!("{}/v1/esignet{path}", self.base)
    }

    pub fn token_endpoint(&self) -> String {
        self.url("/oauth/v2/token")
    }

    pub fn par_endpoint(&self) -> String {
        self.url("/oauth/par")
    }

    pub fn userinfo_endpoint(&self) -> String {
        self.url("/oidc/userinfo")
    }

    /// The private JWK of the seeded demo client.
    pub fn demo_client_key(&self) -> Jwk {
        let path: PathBuf = self.data.path().join("demo-client-key.json");
        let text = std::fs::read_to_string(path).expect("demo client key written");
        Jwk::from_bytes(text.as_bytes()).unwrap()
    }

    /// Posts a wrapped request.
    pub async fn post_wrapped(
        &self,
        path: &str,
        request: Value,
        headers: HeaderMap,
    ) -> (u16, Value) {
        self.post_wrapped_raw(
            path,
            json!({"requestTime": now_timestamp(), "request": request}),
            headers,
        )
        .await
    }

    /// Posts a raw JSON body.
    pub async fn post_wrapped_raw(
        &self,
        path: &str,
        body: Value,
        headers: HeaderMap,
    ) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .headers(headers)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers a client through the admin API; returns its private key.
    pub async fn register_client(
        &self,
        client_id: &str,
        additional_config: Value,
        key: &Jwk,
    ) -> Value {
        let public = public_jwk(key);
        let request = json!({
            "clientId": client_id,
            "clientName": format!("Test client {client_id}"),
            "clientNameLangMap": {"eng": "Test client", "fra": "Client de test"},
            "publicKey": public,
            "relyingPartyId": format!("{client_id}-rp"),
            "userClaims": ["name", "given_name", "family_name", "email", "phone_number", "birthdate", "address", "gender", "picture"],
            "authContextRefs": ["mosip:idp:acr:generated-code", "mosip:idp:acr:static-code", "mosip:idp:acr:password", "mosip:idp:acr:knowledge", "mosip:idp:acr:biometrics"],
            "logoUri": "https://rp.example/logo.png",
            "redirectUris": ["https://rp.example/callback", "https://rp.example/wild/*"],
            "grantTypes": ["authorization_code"],
            "clientAuthMethods": ["private_key_jwt"],
            "additionalConfig": additional_config,
        });
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            format!("Bearer {ADMIN_TOKEN}").parse().unwrap(),
        );
        let (status, body) = self
            .post_wrapped("/client-mgmt/client", request, headers)
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["errors"], json!([]), "{body}");
        body
    }
}

/// eSignet's requestTime format, now.
pub fn now_timestamp() -> String {
    timestamp_at(0)
}

/// eSignet's requestTime format, `offset_secs` from now.
pub fn timestamp_at(offset_secs: i64) -> String {
    let now = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(format).unwrap()
}

pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A fresh RSA client key pair (josekit).
pub fn new_rsa_key() -> Jwk {
    let pair = RS256.generate_key_pair(2048).unwrap();
    let mut jwk = pair.to_jwk_key_pair();
    jwk.set_key_id(format!("k{}", unix_now()));
    jwk
}

/// A fresh EC P-256 key pair (josekit), for DPoP.
pub fn new_ec_key() -> Jwk {
    ES256.generate_key_pair().unwrap().to_jwk_key_pair()
}

/// The public part of a JWK as JSON.
pub fn public_jwk(key: &Jwk) -> Value {
    let mut public = serde_json::to_value(key.as_ref()).unwrap();
    let object = public.as_object_mut().unwrap();
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        object.remove(private);
    }
    public
}

/// Signs claims with an RSA JWK (RS256) using josekit.
pub fn sign_rs256(key: &Jwk, claims: Value, typ: Option<&str>) -> String {
    let mut header = JwsHeader::new();
    if let Some(typ) = typ {
        header.set_token_type(typ);
    }
    if let Some(kid) = key.key_id() {
        header.set_key_id(kid);
    }
    let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let signer = RS256.signer_from_jwk(key).unwrap();
    jwt::encode_with_signer(&payload, &header, &signer).unwrap()
}

/// A client assertion for `client_id` and audience `aud`.
pub fn client_assertion(key: &Jwk, client_id: &str, aud: &str) -> String {
    let now = unix_now();
    sign_rs256(
        key,
        json!({"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 60, "jti": uuid()}),
        None,
    )
}

/// A DPoP proof (ES256, josekit).
pub fn dpop_proof(
    key: &Jwk,
    htm: &str,
    htu: &str,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("dpop+jwt");
    let public = Jwk::from_map(public_jwk(key).as_object().unwrap().clone()).unwrap();
    header.set_jwk(public);
    let mut claims = json!({"htm": htm, "htu": htu, "iat": unix_now(), "jti": uuid()});
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    if let Some(token) = access_token {
        claims["ath"] = json!(b64url(&sha256(token.as_bytes())));
    }
    let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let signer = ES256.signer_from_jwk(key).unwrap();
    jwt::encode_with_signer(&payload, &header, &signer).unwrap()
}

/// RFC 7638 thumbprint, computed independently.
pub fn thumbprint(key: &Jwk) -> String {
    let public = public_jwk(key);
    let canonical = match public["kty"].as_str().unwrap() {
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            public["crv"].as_str().unwrap(),
            public["x"].as_str().unwrap(),
            public["y"].as_str().unwrap()
        ),
        _ => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            public["e"].as_str().unwrap(),
            public["n"].as_str().unwrap()
        ),
    };
    b64url(&sha256(canonical.as_bytes()))
}

pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 from an independent implementation (RustCrypto), not our OpenSSL path.
pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}
