//! Test support: the Redis server under test, fresh key prefixes, and private `redis-server`
//! processes that a test may kill and restart.
//!
//! The tests need a running Redis (7.x here) and the `redis-server` binary, and fail (they do
//! not skip) without them: the URL comes from `ESIGNET_TEST_REDIS_URL`, by default
//! `redis://127.0.0.1:6379`.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use esignet_cache_redis::{RedisCache, RedisOptions};
use futures::FutureExt;

/// The shared server the tests run against.
pub fn redis_url() -> String {
    std::env::var("ESIGNET_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Default options with `prefix`.
pub fn options(prefix: &str) -> RedisOptions {
    RedisOptions {
        prefix: prefix.to_owned(),
        ..RedisOptions::default()
    }
}

/// A cache on `url` with `prefix`, or a panic saying Redis is needed.
pub async fn connect(url: &str, prefix: &str) -> Arc<RedisCache> {
    RedisCache::connect(url, options(prefix))
        .await
        .unwrap_or_else(|error| {
            panic!("Redis must be running for these tests (ESIGNET_TEST_REDIS_URL): {error}")
        })
}

/// Runs `body` with a key prefix no other test uses, then deletes every key under it, whether
/// `body` passed or panicked (the panic is passed on afterwards).
pub async fn with_fresh_prefix<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let prefix = esignet_testkit::unique_id("esignet-test");
    let outcome = AssertUnwindSafe(body(prefix.clone())).catch_unwind().await;
    delete_prefix(&redis_url(), &prefix).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A plain connection to `url`, bypassing the cache, for inspection.
pub async fn raw_connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("the test URL parses")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis must be running for these tests")
}

/// Deletes every key under `prefix` (the prefix has no glob characters).
pub async fn delete_prefix(url: &str, prefix: &str) {
    let mut connection = raw_connection(url).await;
    // KEYS blocks the server while it scans: fine for a test server, never for production.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut connection)
        .await
        .expect("KEYS");
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(&keys)
            .query_async::<()>(&mut connection)
            .await
            .expect("DEL");
    }
}

/// A port on which nothing listens (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A private `redis-server` process on a fixed port, killed when dropped.
pub struct RedisServer {
    port: u16,
    process: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` on `port` without persistence and waits until it answers.
    pub async fn start(port: u16) -> Self {
        Self::start_with(port, &[]).await
    }

    /// As [`RedisServer::start`], with extra configuration arguments.
    pub async fn start_with(port: u16, extra: &[&str]) -> Self {
        let process = Command::new("redis-server")
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the redis-server binary must be installed for these tests");
        let server = Self {
            port,
            process: Some(process),
        };
        server.wait_until_ready().await;
        server
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the process at once (SIGKILL: no goodbye to clients) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    async fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(client) = redis::Client::open(self.url())
                && let Ok(mut connection) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not start",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
