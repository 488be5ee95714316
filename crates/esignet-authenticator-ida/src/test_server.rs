//! An IDA-compatible test server (feature `test-server`): the delegated endpoints (OTP,
//! kyc-auth, kyc-exchange, identity key binding) with IDA's checks and error codes, a few demo
//! identities, and faults to inject.
//!
//! Like IDA it checks, in order: the path credentials (license key `IDA-MPA-007`, partner
//! `IDA-MPA-009`, OIDC client / API key `IDA-MPA-028`), the `signature` header (no `x5c`
//! `IDA-MPA-022`, another certificate than the partner's `IDA-MPA-021`, a signature that does
//! not verify `IDA-MPA-001`), `id`/`version` (`IDA-MLC-006` missing, `IDA-MLC-009` invalid),
//! then for kyc-auth and key binding the thumbprint and the session key (`IDA-MPA-003`) and the HMAC
//! (`IDA-MPA-016`). Residents: unknown id `IDA-MLC-002`, no factor `IDA-MLC-008`, wrong or
//! unsent OTP `IDA-OTA-004`, wrong PIN `IDA-SPA-001`, unsupported factor `IDA-MLC-011`; KYC
//! tokens: unknown `IDA-KYE-001`, spent `IDA-KYE-003`, another transaction `IDA-KYE-005`,
//! another individual `IDA-KYE-007`. Key binding: see the `binding` module; kyc-auth accepts
//! the WLA tokens of keys it bound (unknown `x5t#S256` `IDA-KBT-001`, `iat` out of range
//! `IDA-KBT-002`, bad signature `IDA-KBT-003`). The v2 kyc-auth adds `verifiedClaimsMetadata`,
//! the v2 kyc-exchange releases verified claims in `verified_claims` (see the `verified`
//! module). The kernel side (see the `keymanager` module) issues auth tokens and lists the
//! signing certificate. Every IDA answer (errors too) is HTTP 200 and signed in
//! `response-signature`, as IDA's filters do.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use esignet_jose::{Algorithm, PrivateKey};
use esignet_spi::{Clock, SystemClock};
use openssl::x509::X509;
use serde_json::{Map, Value, json};

use crate::envelope::{self, EnvelopeError, SealedRequest};
use crate::wire;

mod binding;
mod keymanager;
mod verified;

pub use keymanager::{TEST_KERNEL_APP_ID, TEST_KERNEL_CLIENT_ID, TEST_KERNEL_SECRET_KEY};

/// The fixed OTP the test server "sends".
pub const TEST_OTP: &str = "111111";

/// A demo resident.
#[derive(Debug, Clone)]
pub struct TestIdentity {
    /// The UIN.
    pub uin: &'static str,
    /// The static PIN.
    pub pin: &'static str,
    /// The claims released on exchange.
    pub claims: &'static [(&'static str, &'static str)],
    /// The verified claims and the trust framework each was verified under (v2 endpoints).
    pub verified: &'static [(&'static str, &'static str)],
}

/// The demo residents.
pub const IDENTITIES: &[TestIdentity] = &[
    TestIdentity {
        uin: "5860356276",
        pin: "545411",
        claims: &[
            ("name", "Siddharth K Mansour"),
            ("email", "siddharth@example.org"),
            ("phone_number", "+91841987567"),
            ("birthdate", "1987-11-25"),
            ("gender", "Male"),
        ],
        verified: &[("name", "nira"), ("birthdate", "nira")],
    },
    TestIdentity {
        uin: "2154189532",
        pin: "111222",
        claims: &[
            ("name", "Amina Diallo"),
            ("email", "amina@example.org"),
            ("phone_number", "+22177123456"),
            ("birthdate", "1990-02-14"),
            ("gender", "Female"),
        ],
        verified: &[],
    },
];

/// A fault the server injects into every answer until cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// Sign other bytes than the answer.
    TamperSignature,
    /// Answer 500.
    ServerError,
    /// Answer 200 with a body that is not JSON and no signature.
    Garbage,
    /// Never answer.
    Hang,
    /// Answer key binding, signed, with `bindingAuthStatus: false` and no error.
    DenyBinding,
}

/// What the server knows of its partner, and its own keys.
pub struct TestIdaSettings {
    /// The accepted MISP license key.
    pub license_key: String,
    /// The registered partner.
    pub partner_id: String,
    /// The accepted third path segments (OIDC client ids / API keys).
    pub api_keys: Vec<String>,
    /// The partner's registered certificate.
    pub partner_certificate: X509,
    /// IDA's partner (encryption) key and certificate.
    pub ida_partner: (PrivateKey, X509),
    /// IDA's signing key and certificate.
    pub ida_signing: (PrivateKey, X509),
    /// The CA key and certificate that sign binding certificates.
    pub binding_ca: (PrivateKey, X509),
}

struct Token {
    uin: String,
    transaction_id: String,
    psut: String,
    spent: bool,
}

struct ServerState {
    settings: TestIdaSettings,
    fault: Mutex<Fault>,
    /// (uin, transaction id) of OTPs sent and not yet used.
    otps: Mutex<Vec<(String, String)>>,
    tokens: Mutex<HashMap<String, Token>>,
    /// The wallet keys bound so far.
    bindings: Mutex<Vec<binding::BoundKey>>,
    /// Kernel auth tokens issued (key manager access).
    kernel_tokens: Mutex<Vec<String>>,
    calls: AtomicUsize,
}

/// A running test server.
pub struct TestIda {
    addr: SocketAddr,
    state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestIda {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestIda {
    /// Starts a server on a loopback port.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start(settings: TestIdaSettings) -> Self {
        let state = Arc::new(ServerState {
            settings,
            fault: Mutex::new(Fault::None),
            otps: Mutex::new(Vec::new()),
            tokens: Mutex::new(HashMap::new()),
            bindings: Mutex::new(Vec::new()),
            kernel_tokens: Mutex::new(Vec::new()),
            calls: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route(
                "/idauthentication/v1/otp/{license}/{partner}/{key}",
                post(send_otp),
            )
            .route(
                "/idauthentication/v1/kyc-auth/delegated/{license}/{partner}/{key}",
                post(kyc_auth),
            )
            .route(
                "/idauthentication/v1/kyc-exchange/delegated/{license}/{partner}/{key}",
                post(kyc_exchange),
            )
            .route(
                "/idauthentication/v1/kyc-auth/delegated/v2/{license}/{partner}/{key}",
                post(kyc_auth_v2),
            )
            .route(
                "/idauthentication/v1/kyc-exchange/delegated/v2/{license}/{partner}/{key}",
                post(kyc_exchange_v2),
            )
            .route(
                "/idauthentication/v1/identity-key-binding/delegated/{license}/{partner}/{key}",
                post(binding::key_binding),
            )
            .route(
                "/v1/authmanager/authenticate/clientidsecretkey",
                post(keymanager::auth_token),
            )
            .route(
                "/v1/keymanager/getAllCertificates",
                axum::routing::get(keymanager::all_certificates),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { addr, state, task }
    }

    /// The base URL of both services, `http://127.0.0.1:<port>/idauthentication/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/idauthentication/v1", self.addr)
    }

    /// The kernel auth manager's `authenticate/clientidsecretkey` URL.
    pub fn auth_token_url(&self) -> String {
        format!(
            "http://{}/v1/authmanager/authenticate/clientidsecretkey",
            self.addr
        )
    }

    /// The key manager's `getAllCertificates` URL.
    pub fn certificates_url(&self) -> String {
        format!("http://{}/v1/keymanager/getAllCertificates", self.addr)
    }

    /// Injects `fault` into every following answer.
    pub fn set_fault(&self, fault: Fault) {
        *self.state.fault.lock().expect("fault lock") = fault;
    }

    /// How many requests reached the server.
    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }
}

type PathCredentials = Path<(String, String, String)>;

/// An IDA error code, its message.
type Refusal = (&'static str, &'static str);

/// The partner-specific user token of `uin` for the partner and client of `credentials`.
fn psut(uin: &str, credentials: &(String, String, String)) -> String {
    esignet_jose::sha256_b64url(format!("{uin}{}{}", credentials.1, credentials.2).as_bytes())
}

fn answer(state: &ServerState, transaction_id: &str, outcome: Result<Value, Refusal>) -> Response {
    let (response, errors) = match outcome {
        Ok(response) => (response, Value::Null),
        Err((code, message)) => (
            Value::Null,
            json!([{ "errorCode": code, "errorMessage": message }]),
        ),
    };
    let body = json!({
        "id": Value::Null,
        "version": wire::VERSION,
        "transactionID": transaction_id,
        "responseTime": wire::request_time(SystemClock.now()),
        "response": response,
        "errors": errors,
    });
    let bytes = serde_json::to_vec(&body).expect("JSON");
    let (key, certificate) = &state.settings.ida_signing;
    let fault = *state.fault.lock().expect("fault lock");
    let signed: &[u8] = if fault == Fault::TamperSignature {
        b"{}"
    } else {
        &bytes
    };
    let signature = envelope::sign_detached(key, certificate, signed).expect("sign");
    (
        StatusCode::OK,
        [
            ("content-type", "application/json"),
            (wire::RESPONSE_SIGNATURE_HEADER, signature.as_str()),
        ],
        bytes,
    )
        .into_response()
}

/// The checks every endpoint makes before reading the request; the parsed body on success.
async fn admit(
    state: &ServerState,
    credentials: &(String, String, String),
    headers: &HeaderMap,
    body: &[u8],
    api_id: &str,
) -> Result<Map<String, Value>, Response> {
    state.calls.fetch_add(1, Ordering::SeqCst);
    let fault = *state.fault.lock().expect("fault lock");
    match fault {
        Fault::Hang => std::future::pending::<()>().await,
        Fault::ServerError => return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        Fault::Garbage => return Err((StatusCode::OK, "<html>gateway</html>").into_response()),
        Fault::None | Fault::TamperSignature | Fault::DenyBinding => {}
    }
    let parsed: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    let transaction_id = parsed
        .as_ref()
        .and_then(|body| body.get("transactionID"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let refuse = |refusal: Refusal| answer(state, &transaction_id, Err(refusal));
    let settings = &state.settings;
    let (license, partner, key) = credentials;
    if *license != settings.license_key {
        return Err(refuse((
            "IDA-MPA-007",
            "License key does not belong to a registered MISP",
        )));
    }
    if *partner != settings.partner_id {
        return Err(refuse(("IDA-MPA-009", "Partner is not registered")));
    }
    if !settings.api_keys.contains(key) {
        return Err(refuse(("IDA-MPA-028", "OIDC Client is not registered")));
    }
    let signature = headers
        .get(wire::SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let not_in_header = (
        "IDA-MPA-022",
        "Partner (Auth) Certificate not found in Request signature header.",
    );
    let Ok(Some(x5c)) = envelope::detached_x5c(signature) else {
        return Err(refuse(not_in_header));
    };
    let registered = settings.partner_certificate.to_der().expect("DER");
    if x5c.to_der().ok() != Some(registered) {
        return Err(refuse((
            "IDA-MPA-021",
            "Partner (Auth) Certificate not matching with signature header certificate.",
        )));
    }
    if envelope::verify_detached(signature, body, &settings.partner_certificate).is_err() {
        return Err(refuse((
            "IDA-MPA-001",
            "Digital signature verification failed",
        )));
    }
    let Some(parsed) = parsed else {
        return Err(refuse(("IDA-MLC-009", "Invalid Input Parameter - request")));
    };
    for member in ["id", "version", "individualId", "transactionID"] {
        if !parsed.get(member).is_some_and(Value::is_string) {
            return Err(refuse(("IDA-MLC-006", "Missing Input Parameter")));
        }
    }
    if parsed["id"] != api_id {
        return Err(refuse(("IDA-MLC-009", "Invalid Input Parameter - id")));
    }
    Ok(parsed)
}

fn text<'a>(body: &'a Map<String, Value>, member: &str) -> &'a str {
    body.get(member).and_then(Value::as_str).unwrap_or_default()
}

fn identity(uin: &str) -> Result<&'static TestIdentity, Refusal> {
    IDENTITIES
        .iter()
        .find(|identity| identity.uin == uin)
        .ok_or(("IDA-MLC-002", "Invalid UIN"))
}

async fn send_otp(
    State(state): State<Arc<ServerState>>,
    Path(credentials): PathCredentials,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match admit(&state, &credentials, &headers, &body, wire::SEND_OTP_ID).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let transaction_id = text(&body, "transactionID").to_owned();
    let outcome = (|| {
        let resident = identity(text(&body, "individualId"))?;
        let channels: Vec<&str> = body
            .get("otpChannel")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if channels.is_empty() {
            return Err(("IDA-OTA-008", "OTP Notification Channel not provided"));
        }
        state
            .otps
            .lock()
            .expect("otp lock")
            .push((resident.uin.to_owned(), transaction_id.clone()));
        let mut response = Map::new();
        if channels
            .iter()
            .any(|channel| channel.eq_ignore_ascii_case("email"))
        {
            response.insert("maskedEmail".to_owned(), json!("s*******h@example.org"));
        }
        if channels
            .iter()
            .any(|channel| channel.eq_ignore_ascii_case("phone"))
        {
            response.insert("maskedMobile".to_owned(), json!("XXXXXXX567"));
        }
        Ok(Value::Object(response))
    })();
    answer(&state, &transaction_id, outcome)
}

/// Opens the sealed factors of a kyc-auth or key-binding `body` and authenticates the resident
/// with them, as IDA does: the thumbprint and session key, the HMAC, the factors (an OTP spent
/// once; wallet-bound tokens only where `tokens_allowed`, checked against the keys bound).
fn authenticate(
    state: &ServerState,
    body: &Map<String, Value>,
    transaction_id: &str,
    tokens_allowed: bool,
) -> Result<&'static TestIdentity, Refusal> {
    let (ida_key, ida_certificate) = &state.settings.ida_partner;
    let thumbprint = envelope::certificate_thumbprint(ida_certificate).expect("thumbprint");
    if text(body, "thumbprint") != thumbprint {
        return Err(("IDA-MPA-003", "Unable to decrypt Request"));
    }
    let sealed = SealedRequest {
        request: text(body, "request").to_owned(),
        request_hmac: text(body, "requestHMAC").to_owned(),
        request_session_key: text(body, "requestSessionKey").to_owned(),
        thumbprint,
    };
    let request = match envelope::open_request(&sealed, ida_key.openssl_pkey()) {
        Ok(request) => request,
        Err(EnvelopeError::HmacMismatch) => {
            return Err(("IDA-MPA-016", "HMAC Validation failed"));
        }
        Err(_) => return Err(("IDA-MPA-003", "Unable to decrypt Request")),
    };
    let request: wire::AuthRequest = serde_json::from_slice(&request)
        .map_err(|_| ("IDA-MLC-009", "Invalid Input Parameter - request"))?;
    let resident = identity(text(body, "individualId"))?;
    if request.biometrics.is_some()
        || request.password.is_some()
        || (request.key_binded_tokens.is_some() && !tokens_allowed)
    {
        return Err(("IDA-MLC-011", "Unsupported Authentication Type"));
    }
    if request.otp.is_none() && request.static_pin.is_none() && request.key_binded_tokens.is_none()
    {
        return Err(("IDA-MLC-008", "No authentication type selected"));
    }
    if let Some(tokens) = &request.key_binded_tokens {
        binding::verify_tokens(state, resident, tokens)?;
    }
    if let Some(pin) = &request.static_pin
        && pin != resident.pin
    {
        return Err(("IDA-SPA-001", "Pin value did not match"));
    }
    if let Some(otp) = &request.otp {
        let mut otps = state.otps.lock().expect("otp lock");
        let sent = otps
            .iter()
            .position(|(uin, txn)| uin == resident.uin && txn == transaction_id);
        match sent {
            Some(index) if otp == TEST_OTP => {
                otps.remove(index);
            }
            _ => return Err(("IDA-OTA-004", "OTP is invalid")),
        }
    }
    Ok(resident)
}

async fn kyc_auth(
    State(state): State<Arc<ServerState>>,
    Path(credentials): PathCredentials,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    kyc_auth_version(&state, &credentials, &headers, &body, false).await
}

async fn kyc_auth_v2(
    State(state): State<Arc<ServerState>>,
    Path(credentials): PathCredentials,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    kyc_auth_version(&state, &credentials, &headers, &body, true).await
}

/// kyc-auth; `v2` adds the resident's `verifiedClaimsMetadata`.
async fn kyc_auth_version(
    state: &ServerState,
    credentials: &(String, String, String),
    headers: &HeaderMap,
    body: &[u8],
    v2: bool,
) -> Response {
    let body = match admit(state, credentials, headers, body, wire::KYC_AUTH_ID).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let transaction_id = text(&body, "transactionID").to_owned();
    let outcome = (|| {
        let resident = authenticate(state, &body, &transaction_id, true)?;
        let kyc_token = esignet_jose::random_id();
        let psut = psut(resident.uin, credentials);
        state.tokens.lock().expect("token lock").insert(
            kyc_token.clone(),
            Token {
                uin: resident.uin.to_owned(),
                transaction_id: transaction_id.clone(),
                psut: psut.clone(),
                spent: false,
            },
        );
        let mut response = json!({ "kycToken": kyc_token, "authToken": psut, "kycStatus": true });
        if v2 {
            response["verifiedClaimsMetadata"] = json!(verified::metadata_text(resident));
        }
        Ok(response)
    })();
    answer(state, &transaction_id, outcome)
}

async fn kyc_exchange(
    State(state): State<Arc<ServerState>>,
    Path(credentials): PathCredentials,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    kyc_exchange_version(&state, &credentials, &headers, &body, false).await
}

async fn kyc_exchange_v2(
    State(state): State<Arc<ServerState>>,
    Path(credentials): PathCredentials,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    kyc_exchange_version(&state, &credentials, &headers, &body, true).await
}

/// kyc-exchange; `v2` releases `unVerifiedConsentedClaims` and, in `verified_claims`, the
/// `verifiedConsentedClaims` the resident has verified.
async fn kyc_exchange_version(
    state: &ServerState,
    credentials: &(String, String, String),
    headers: &HeaderMap,
    body: &[u8],
    v2: bool,
) -> Response {
    let body = match admit(state, credentials, headers, body, wire::KYC_EXCHANGE_ID).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let transaction_id = text(&body, "transactionID").to_owned();
    let outcome = (|| {
        let mut tokens = state.tokens.lock().expect("token lock");
        let token = tokens
            .get_mut(text(&body, "kycToken"))
            .ok_or(("IDA-KYE-001", "KYC Token not found in Store."))?;
        if token.spent {
            return Err(("IDA-KYE-003", "KYC Token already processed."));
        }
        if token.transaction_id != transaction_id {
            return Err((
                "IDA-KYE-005",
                "KYC Auth and KYC Exchange transaction ids are different.",
            ));
        }
        if token.uin != text(&body, "individualId") {
            return Err((
                "IDA-KYE-007",
                "KYC Token does not belong to the input UIN/VID.",
            ));
        }
        token.spent = true;
        let resident = identity(&token.uin)?;
        let mut claims = Map::new();
        claims.insert("sub".to_owned(), json!(token.psut));
        claims.insert("aud".to_owned(), json!(credentials.2));
        claims.insert("iat".to_owned(), json!(SystemClock.now().unix_timestamp()));
        if v2 {
            verified::release(resident, &body, &mut claims)?;
        } else {
            let consented: Vec<&str> = body
                .get("consentObtained")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (name, value) in resident.claims {
                if consented.contains(name) {
                    claims.insert((*name).to_owned(), json!(value));
                }
            }
        }
        let (key, certificate) = &state.settings.ida_signing;
        let mut header = Map::new();
        header.insert(
            "kid".to_owned(),
            json!(envelope::certificate_thumbprint(certificate).expect("thumbprint")),
        );
        header.insert("typ".to_owned(), json!("JWT"));
        let payload = serde_json::to_vec(&Value::Object(claims)).expect("JSON");
        let jwt =
            esignet_jose::sign_compact(key, Algorithm::RS256, &header, &payload).expect("sign");
        Ok(json!({ "encryptedKyc": jwt }))
    })();
    answer(state, &transaction_id, outcome)
}
