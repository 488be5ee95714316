//! `esignet bench`: a load generator that runs complete logins against a running eSignet-rs
//! server, the way a browser and a relying party do them, and reports logins per second,
//! per-endpoint latency percentiles, errors, and the server's CPU time and memory.
//!
//! A login counts as completed only when it ends with a userinfo response whose signature
//! verified (after decryption, for JWE). Everything else is a failed login, counted by the step
//! that failed.
//!
//! Flows: `plain` (CSRF, oauth-details v3 with PKCE, send-otp, authenticate with the OTP,
//! claim-details, auth-code, token with `private_key_jwt` and the PKCE verifier, userinfo with
//! a Bearer token) and `fapi` (PAR with a DPoP proof, par-oauth-details, the same UI calls,
//! DPoP-bound token with the server-nonce round trip, DPoP userinfo). Userinfo can be JWS or
//! JWE, client keys RS256 or ES256.

mod flow;
mod metrics;
mod procstat;
mod report;
mod setup;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

pub use report::Report;

/// Which login flow to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKind {
    /// Authorization code + PKCE, Bearer token.
    Plain,
    /// PAR + DPoP + PKCE.
    Fapi,
}

/// A benchmark run.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// The server's public base URL, e.g. `http://127.0.0.1:8088`.
    pub url: String,
    /// The API base path.
    pub base_path: String,
    /// Static admin token used to register the benchmark's client.
    pub admin_token: String,
    /// Concurrent virtual residents.
    pub concurrency: usize,
    /// Stop after this many completed-or-failed logins (whichever of this and `duration` comes
    /// first).
    pub logins: u64,
    /// Stop after this long.
    pub duration: Duration,
    /// Warm-up logins not counted (per virtual resident, one each by default).
    pub warmup: bool,
    /// The flow.
    pub flow: FlowKind,
    /// Encrypted userinfo.
    pub jwe: bool,
    /// Client key algorithm (`RS256` or `ES256`).
    pub client_alg: esignet_jose::Algorithm,
    /// Individual ids to log in as (round robin).
    pub individuals: Vec<String>,
    /// The development OTP.
    pub otp: String,
    /// PID of the server process, for CPU and memory figures from /proc.
    pub server_pid: Option<u32>,
    /// The server's Prometheus endpoint, for its cache and store calls per login.
    pub metrics_url: Option<String>,
    /// Other processes (name, command name) whose CPU time is reported per login: the shared
    /// Redis and PostgreSQL, for the cost model.
    pub watched: Vec<(String, String)>,
    /// Print progress every this often.
    pub progress_every: Duration,
}

/// Runs the benchmark.
pub async fn run(config: BenchConfig) -> anyhow::Result<Report> {
    let setup = Arc::new(
        setup::prepare(&config)
            .await
            .context("benchmark setup failed")?,
    );
    let clients = flow::resident_clients(config.concurrency, config.url.starts_with("http://"))?;
    if config.warmup {
        let warm = flow::run_logins(
            setup.clone(),
            &clients,
            config.concurrency as u64,
            Duration::from_secs(60),
            None,
        )
        .await;
        if warm.completed == 0 {
            anyhow::bail!(
                "warm-up logins all failed: {}",
                warm.first_error.unwrap_or_default()
            );
        }
    }
    let scrape = metrics::Scraper::new(config.metrics_url.clone());
    let calls_before = scrape.dependency_calls().await?;
    let before = config.server_pid.and_then(procstat::sample);
    let generator_before = procstat::sample(std::process::id());
    let watched_before = procstat::sample_watched(&config.watched);
    let started = Instant::now();
    let progress = Some(config.progress_every);
    let outcome = flow::run_logins(setup, &clients, config.logins, config.duration, progress).await;
    let elapsed = started.elapsed();
    let after = config.server_pid.and_then(procstat::sample);
    let generator_after = procstat::sample(std::process::id());
    let watched_after = procstat::sample_watched(&config.watched);
    let calls_after = scrape.dependency_calls().await?;
    let measured = report::Measured {
        server: (before, after),
        generator: (generator_before, generator_after),
        watched_cpu_seconds: procstat::watched_cpu_delta(&watched_before, &watched_after),
        dependency_calls: calls_before
            .zip(calls_after)
            .map(|(b, a)| metrics::delta(&b, &a)),
    };
    Ok(Report::new(&config, outcome, elapsed, measured))
}
