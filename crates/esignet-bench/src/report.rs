//! The benchmark report: text for the terminal, JSON for records.

use std::time::Duration;

use serde_json::{Value, json};

use crate::flow::Outcome;
use crate::metrics::Calls;
use crate::procstat::ProcSample;
use crate::{BenchConfig, FlowKind};

/// Readings taken around the measured run (before, after).
pub(crate) struct Measured {
    pub server: (Option<ProcSample>, Option<ProcSample>),
    /// The load generator itself: its share of the machine's CPU.
    pub generator: (Option<ProcSample>, Option<ProcSample>),
    /// CPU seconds of each watched process group (Redis, PostgreSQL).
    pub watched_cpu_seconds: Vec<(String, f64)>,
    /// The server's cache and store calls during the run.
    pub dependency_calls: Option<Calls>,
}

/// The result of a run.
#[derive(Debug)]
pub struct Report {
    /// Everything measured, as JSON.
    pub json: Value,
    /// Human-readable text.
    pub text: String,
    /// Failed logins.
    pub failed: u64,
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

impl Report {
    pub(crate) fn new(
        config: &BenchConfig,
        outcome: Outcome,
        elapsed: Duration,
        measured: Measured,
    ) -> Report {
        let seconds = elapsed.as_secs_f64().max(1e-9);
        let failed: u64 = outcome.failed.values().sum();
        let rate = outcome.completed as f64 / seconds;
        let (before, after) = measured.server;
        let cpu = match (before, after) {
            (Some(b), Some(a)) => Some(a.cpu_seconds - b.cpu_seconds),
            _ => None,
        };
        let logins = outcome.completed.max(1) as f64;
        let generator_cpu = match measured.generator {
            (Some(b), Some(a)) => Some(a.cpu_seconds - b.cpu_seconds),
            _ => None,
        };
        let server_io = match (before, after) {
            (Some(b), Some(a)) => a.io_bytes.zip(b.io_bytes).map(|(a, b)| a.saturating_sub(b)),
            _ => None,
        };
        let flow = match config.flow {
            FlowKind::Plain => "plain",
            FlowKind::Fapi => "par+dpop",
        };
        let mut endpoints = serde_json::Map::new();
        let mut text = format!(
            "flow {flow}, userinfo {}, client {}, concurrency {}\n{} logins completed, {failed} failed, in {seconds:.2} s: {rate:.1} logins/s\n",
            if config.jwe { "JWE" } else { "JWS" },
            config.client_alg.as_str(),
            config.concurrency,
            outcome.completed,
        );
        if let Some(cpu) = cpu {
            let per_login = if outcome.completed > 0 {
                cpu * 1000.0 / outcome.completed as f64
            } else {
                0.0
            };
            text.push_str(&format!(
                "server CPU {cpu:.2} s ({per_login:.2} ms per login, {:.0}% of one core)\n",
                cpu / seconds * 100.0
            ));
        }
        if let Some(after) = after {
            text.push_str(&format!(
                "server RSS {:.1} MB now, {:.1} MB peak\n",
                after.rss_bytes as f64 / 1e6,
                after.peak_rss_bytes as f64 / 1e6
            ));
        }
        if let Some(io) = server_io {
            text.push_str(&format!(
                "server socket and file I/O {:.1} KB per login\n",
                io as f64 / logins / 1000.0
            ));
        }
        if let Some(cpu) = generator_cpu {
            text.push_str(&format!(
                "load generator CPU {cpu:.2} s ({:.2} ms per login, {:.0}% of one core)\n",
                cpu * 1000.0 / logins,
                cpu / seconds * 100.0
            ));
        }
        let mut watched = serde_json::Map::new();
        for (name, used) in &measured.watched_cpu_seconds {
            text.push_str(&format!(
                "{name} CPU {used:.2} s ({:.3} ms per login)\n",
                used * 1000.0 / logins
            ));
            watched.insert(
                name.clone(),
                json!({"cpu_seconds": used, "cpu_ms_per_login": used * 1000.0 / logins}),
            );
        }
        let mut calls_json = serde_json::Map::new();
        if let Some(calls) = &measured.dependency_calls {
            let mut totals: std::collections::BTreeMap<&str, u64> = Default::default();
            for ((dependency, operation), count) in calls {
                *totals.entry(dependency).or_default() += count;
                calls_json.insert(
                    format!("{dependency}.{operation}"),
                    json!(*count as f64 / logins),
                );
            }
            for (dependency, total) in totals {
                let per_operation: Vec<String> = calls
                    .iter()
                    .filter(|((d, _), _)| d == dependency)
                    .map(|((_, operation), count)| {
                        format!("{operation} {:.2}", *count as f64 / logins)
                    })
                    .collect();
                text.push_str(&format!(
                    "{dependency} calls {:.2} per login ({})\n",
                    total as f64 / logins,
                    per_operation.join(", ")
                ));
                calls_json.insert(dependency.to_owned(), json!(total as f64 / logins));
            }
        }
        text.push_str(&format!(
            "{:<18} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            "endpoint", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"
        ));
        let mut rows: Vec<(&str, &hdrhistogram::Histogram<u64>)> =
            outcome.latencies.iter().map(|(k, v)| (*k, v)).collect();
        rows.push(("whole login", &outcome.login_latency));
        for (name, histogram) in rows {
            if histogram.is_empty() {
                continue;
            }
            let (p50, p95, p99, max) = (
                histogram.value_at_quantile(0.50),
                histogram.value_at_quantile(0.95),
                histogram.value_at_quantile(0.99),
                histogram.max(),
            );
            text.push_str(&format!(
                "{name:<18} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2}\n",
                histogram.len(),
                ms(p50),
                ms(p95),
                ms(p99),
                ms(max)
            ));
            endpoints.insert(
                name.to_owned(),
                json!({"count": histogram.len(), "p50_ms": ms(p50), "p95_ms": ms(p95), "p99_ms": ms(p99), "max_ms": ms(max)}),
            );
        }
        if failed > 0 {
            text.push_str(&format!("failures by step: {:?}\n", outcome.failed));
            if let Some(error) = &outcome.first_error {
                text.push_str(&format!("first failure: {error}\n"));
            }
        }
        let json = json!({
            "flow": flow,
            "jwe": config.jwe,
            "client_alg": config.client_alg.as_str(),
            "concurrency": config.concurrency,
            "completed": outcome.completed,
            "failed": failed,
            "failures_by_step": outcome.failed,
            "seconds": seconds,
            "logins_per_second": rate,
            "server_cpu_seconds": cpu,
            "server_cpu_ms_per_login": cpu.map(|c| if outcome.completed > 0 { c * 1000.0 / outcome.completed as f64 } else { 0.0 }),
            "server_rss_bytes": after.map(|a| a.rss_bytes),
            "server_peak_rss_bytes": after.map(|a| a.peak_rss_bytes),
            "server_io_bytes_per_login": server_io.map(|io| io as f64 / logins),
            "generator_cpu_ms_per_login": generator_cpu.map(|c| c * 1000.0 / logins),
            "generator_cpu_cores": generator_cpu.map(|c| c / seconds),
            "watched": watched,
            "dependency_calls_per_login": calls_json,
            "endpoints": endpoints,
        });
        Report { json, text, failed }
    }
}
