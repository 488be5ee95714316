//! Test support: the database under test, fresh schemas, and a TCP proxy that can "take the
//! database down" without touching the real server.
//!
//! The tests need a running PostgreSQL server and fail (they do not skip) without one: the URL
//! comes from `ESIGNET_TEST_POSTGRES_URL`, by default `postgres://postgres@127.0.0.1:5432/test`.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use esignet_store_postgres::{PgStoreOptions, PostgresStore};
use futures::FutureExt;
use sqlx::{Connection, Executor, PgConnection};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The database the tests run against.
pub fn postgres_url() -> String {
    std::env::var("ESIGNET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Options for a store in `schema`, with short timeouts so failure tests stay fast.
pub fn options(schema: &str) -> PgStoreOptions {
    PgStoreOptions {
        max_connections: 8,
        acquire_timeout: Duration::from_secs(2),
        statement_timeout: Duration::from_secs(5),
        schema: Some(schema.to_owned()),
    }
}

/// A connected, migrated store in `schema`.
pub async fn open_store(schema: &str) -> PostgresStore {
    let store = PostgresStore::connect(&postgres_url(), options(schema))
        .await
        .unwrap_or_else(|error| {
            panic!(
                "PostgreSQL must be running for these tests (ESIGNET_TEST_POSTGRES_URL): {error}"
            )
        });
    store.migrate().await.expect("migrate");
    store
}

/// A direct connection for test set-up and inspection, with `search_path` = `schema`.
pub async fn raw_connection(schema: &str) -> PgConnection {
    let mut connection = PgConnection::connect(&postgres_url())
        .await
        .expect("PostgreSQL must be running for these tests");
    connection
        .execute(format!("SET search_path TO \"{schema}\"").as_str())
        .await
        .expect("set search_path");
    connection
}

/// Runs `body` with the name of a schema no other test uses, then drops the schema, whether
/// `body` passed or panicked (the panic is passed on afterwards).
pub async fn with_fresh_schema<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let schema = esignet_testkit::unique_id("esignet_test").replace('-', "_");
    assert!(schema.len() <= 63, "schema name too long: {schema}");
    let outcome = AssertUnwindSafe(body(schema.clone())).catch_unwind().await;
    let mut connection = PgConnection::connect(&postgres_url())
        .await
        .expect("PostgreSQL must be running for these tests");
    connection
        .execute(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE").as_str())
        .await
        .expect("drop the test schema");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The database URL with its host and port replaced.
pub fn url_via(host: &str, port: u16) -> String {
    let mut url = url::Url::parse(&postgres_url()).expect("the test URL parses");
    url.set_host(Some(host)).expect("host");
    url.set_port(Some(port)).expect("port");
    url.to_string()
}

/// A port on which nothing listens (bound, then released).
pub async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address").port()
}

/// A TCP proxy on a fixed local port in front of the real database. [`Proxy::stop`] closes the
/// listener and cuts every forwarded connection, which looks to the store like the database
/// going away; [`Proxy::start`] on the same port brings it back.
pub struct Proxy {
    port: u16,
    upstream: String,
    accept: Mutex<Option<JoinHandle<()>>>,
    forwards: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// A stopped proxy on a free port, forwarding to the test database.
    pub async fn new() -> Self {
        let url = url::Url::parse(&postgres_url()).expect("the test URL parses");
        let upstream = format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(5432)
        );
        Self {
            port: free_port().await,
            upstream,
            accept: Mutex::new(None),
            forwards: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The database URL through this proxy.
    pub fn url(&self) -> String {
        url_via("127.0.0.1", self.port)
    }

    /// Starts listening and forwarding.
    pub async fn start(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the proxy port");
        let upstream = self.upstream.clone();
        let forwards = Arc::clone(&self.forwards);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                forwards
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(forward);
            }
        });
        *self.accept.lock().unwrap_or_else(PoisonError::into_inner) = Some(accept);
    }

    /// Stops listening and cuts every forwarded connection.
    pub async fn stop(&self) {
        // The listener first, so no connection is forwarded after the cut.
        let accept = self
            .accept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(accept) = accept {
            accept.abort();
            let _ = accept.await;
        }
        let forwards: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.forwards.lock().unwrap_or_else(PoisonError::into_inner));
        for task in forwards {
            task.abort();
            let _ = task.await;
        }
    }
}
