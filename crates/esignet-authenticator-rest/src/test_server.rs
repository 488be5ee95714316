//! A small REST identity system for tests, on a loopback port:
//!
//! * `POST /otp` `{"id", "channels": [..]}` → `{"status": "sent", "masked": {"email", "mobile"}}`
//!   (404 for an unknown id); only then is the person's OTP accepted.
//! * `POST /authenticate` `{"id", "type", "secret"}` → `{"result": {"authenticated": bool,
//!   "personId"?}}` (200 either way, as many systems answer).
//! * `GET /people/{id}` → the person's attributes, nested (`/contact/email`) and per-language
//!   (`[{language, value}]`); 404 for an unknown id.
//!
//! Every call must carry `X-API-Key: <key>` (else 401). Faults can be switched on to test the
//! adapter's error paths, and the last `authenticate` body is kept for inspection.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// How the identity system misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Answers correctly.
    #[default]
    None,
    /// Accepts the request and never answers.
    Hang,
    /// Answers 500.
    ServerError,
    /// Answers 200 with a body that is not JSON.
    Garbage,
}

/// One person of the test identity system.
#[derive(Debug, Clone)]
pub struct Person {
    /// The individual id residents log in with.
    pub id: String,
    /// The OTP accepted after one was sent.
    pub otp: String,
    /// The PIN.
    pub pin: String,
    /// The password.
    pub password: String,
    /// What `GET /people/{id}` answers.
    pub attributes: Value,
}

#[derive(Default)]
struct Mutable {
    fault: Fault,
    otp_sent: HashSet<String>,
    last_authenticate: Option<Value>,
}

struct Inner {
    people: Vec<Person>,
    api_key: String,
    state: Mutex<Mutable>,
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, Mutable> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|person| person.id == id)
    }
}

/// A running test identity system; stops when dropped.
pub struct TestIdentitySystem {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestIdentitySystem {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Two people: `UIN4711A` (OTP `123456`, PIN `4321`, password `pa"ss{x}`, full attributes) and
/// `UIN4712B` (OTP `654321`, no email).
pub fn demo_people() -> Vec<Person> {
    vec![
        Person {
            id: "UIN4711A".into(),
            otp: "123456".into(),
            pin: "4321".into(),
            password: "pa\"ss{x}".into(),
            attributes: json!({
                "personId": "P-0001",
                "fullName": "Asha Rao",
                "birthDate": "1990-01-02",
                "contact": {"email": "asha@example.org", "phone": "+911234567890"},
                "gender": [{"language": "eng", "value": "Female"}, {"language": "fra", "value": "Femme"}],
                "address": {"city": "Pune"},
            }),
        },
        Person {
            id: "UIN4712B".into(),
            otp: "654321".into(),
            pin: "1111".into(),
            password: "secret".into(),
            attributes: json!({"personId": "P-0002", "fullName": "Ravi K", "contact": {"phone": "+919999999999"}}),
        },
    ]
}

impl TestIdentitySystem {
    /// Serves `people` on a free loopback port, requiring `X-API-Key: <api_key>`.
    ///
    /// # Errors
    ///
    /// The port cannot be bound.
    pub async fn start(people: Vec<Person>, api_key: &str) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            people,
            api_key: api_key.to_owned(),
            state: Mutex::new(Mutable::default()),
        });
        let app = Router::new()
            .route("/otp", post(send_otp))
            .route("/authenticate", post(authenticate))
            .route("/people/{id}", get(person))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // The server ends only when the task is aborted (on drop).
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, inner, task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches the fault mode for every following call.
    pub fn set_fault(&self, fault: Fault) {
        self.inner.state().fault = fault;
    }

    /// The body of the last `POST /authenticate`.
    pub fn last_authenticate(&self) -> Option<Value> {
        self.inner.state().last_authenticate.clone()
    }
}

/// The error response, if the key is wrong or a fault is on.
async fn refuse(inner: &Inner, headers: &HeaderMap) -> Option<Response> {
    if headers
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        != Some(inner.api_key.as_str())
    {
        return Some(StatusCode::UNAUTHORIZED.into_response());
    }
    let fault = inner.state().fault;
    match fault {
        Fault::None => None,
        Fault::Hang => {
            std::future::pending::<()>().await;
            None
        }
        Fault::ServerError => Some((StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()),
        Fault::Garbage => Some((StatusCode::OK, "<html>not json").into_response()),
    }
}

async fn send_otp(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(response) = refuse(&inner, &headers).await {
        return response;
    }
    let id = body.get("id").and_then(Value::as_str).unwrap_or_default();
    if inner.person(id).is_none() || !body.get("channels").is_some_and(Value::is_array) {
        return StatusCode::NOT_FOUND.into_response();
    }
    inner.state().otp_sent.insert(id.to_owned());
    Json(json!({"status": "sent", "masked": {"email": "a***@example.org", "mobile": "******7890"}}))
        .into_response()
}

async fn authenticate(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(response) = refuse(&inner, &headers).await {
        return response;
    }
    inner.state().last_authenticate = Some(body.clone());
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    let ok = inner.person(text("id")).is_some_and(|person| {
        let secret = text("secret");
        match text("type") {
            "OTP" => inner.state().otp_sent.contains(&person.id) && secret == person.otp,
            "PIN" => secret == person.pin,
            "PWD" => secret == person.password,
            _ => false,
        }
    });
    let person_id = inner
        .person(text("id"))
        .and_then(|person| person.attributes.get("personId").cloned());
    if ok {
        Json(json!({"result": {"authenticated": true, "personId": person_id}})).into_response()
    } else {
        Json(json!({"result": {"authenticated": false}})).into_response()
    }
}

async fn person(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = refuse(&inner, &headers).await {
        return response;
    }
    match inner.person(&id) {
        Some(person) => Json(person.attributes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
