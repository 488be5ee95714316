//! A small Sunbird-RC-compatible registry for tests: `POST /api/v1/{entity}/search` with `eq`
//! filters, `offset` and `limit`, and `GET /api/v1/{entity}/{osid}`, over a fixed set of
//! entities, on a loopback port. Faults can be switched on to test the adapter's error paths.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// How the registry misbehaves.
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
    /// Answers 200 with JSON of the wrong shape (an object without `data`).
    WrongShape,
}

struct Inner {
    entity_type: String,
    entities: Vec<Value>,
    fault: Mutex<Fault>,
    paged: bool,
    bearer: Option<String>,
}

/// A running test registry; stops when dropped.
pub struct TestRegistry {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestRegistry {
    /// Serves `entities` (objects, each with an `osid`) as `entity_type` on a free loopback
    /// port. With `paged`, searches answer `{"totalCount", "data"}` instead of a bare array.
    /// With `bearer`, every call must carry `Authorization: Bearer <bearer>` (else 401).
    ///
    /// # Errors
    ///
    /// The port cannot be bound.
    pub async fn start(
        entity_type: &str,
        entities: Vec<Value>,
        paged: bool,
        bearer: Option<String>,
    ) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            entity_type: entity_type.to_owned(),
            entities,
            fault: Mutex::new(Fault::None),
            paged,
            bearer,
        });
        let app = Router::new()
            .route("/api/v1/{entity}/search", post(search))
            .route("/api/v1/{entity}/{osid}", get(read))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // The server ends only when the task is aborted (on drop).
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, inner, task })
    }

    /// `http://127.0.0.1:<port>/api/v1/<entity type>`.
    pub fn entity_url(&self) -> String {
        format!("http://{}/api/v1/{}", self.addr, self.inner.entity_type)
    }

    /// The search endpoint, `entity_url()/search`.
    pub fn search_url(&self) -> String {
        format!("{}/search", self.entity_url())
    }

    /// Switches the fault mode for every following call.
    pub fn set_fault(&self, fault: Fault) {
        *self
            .inner
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = fault;
    }
}

/// The fault response, if a fault is on.
async fn fault(inner: &Inner, headers: &HeaderMap) -> Option<Response> {
    if let Some(bearer) = &inner.bearer {
        let expected = format!("Bearer {bearer}");
        if headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            != Some(&expected)
        {
            return Some(StatusCode::UNAUTHORIZED.into_response());
        }
    }
    let fault = *inner.fault.lock().unwrap_or_else(PoisonError::into_inner);
    match fault {
        Fault::None => None,
        Fault::Hang => {
            std::future::pending::<()>().await;
            None
        }
        Fault::ServerError => Some((StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()),
        Fault::Garbage => Some((StatusCode::OK, "<html>not json").into_response()),
        Fault::WrongShape => Some(Json(json!({"result": "ok"})).into_response()),
    }
}

async fn search(
    State(inner): State<Arc<Inner>>,
    Path(entity): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(response) = fault(&inner, &headers).await {
        return response;
    }
    if entity != inner.entity_type {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(filters) = body.get("filters").and_then(Value::as_object) else {
        return (StatusCode::BAD_REQUEST, "filters required").into_response();
    };
    let offset = body.get("offset").and_then(Value::as_u64).unwrap_or(0);
    let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(100);
    let mut matches = Vec::new();
    for candidate in &inner.entities {
        let mut all = true;
        for (attribute, condition) in filters {
            let Some(expected) = condition.get("eq") else {
                return (StatusCode::BAD_REQUEST, "only eq is supported").into_response();
            };
            all &= candidate.get(attribute) == Some(expected);
        }
        if all {
            matches.push(candidate.clone());
        }
    }
    let total = matches.len();
    let page: Vec<Value> = matches
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    if inner.paged {
        Json(json!({"totalCount": total, "data": page})).into_response()
    } else {
        Json(Value::Array(page)).into_response()
    }
}

async fn read(
    State(inner): State<Arc<Inner>>,
    Path((entity, osid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fault(&inner, &headers).await {
        return response;
    }
    if entity != inner.entity_type {
        return StatusCode::NOT_FOUND.into_response();
    }
    match inner
        .entities
        .iter()
        .find(|candidate| candidate.get("osid").and_then(Value::as_str) == Some(osid.as_str()))
    {
        Some(found) => Json(found.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
