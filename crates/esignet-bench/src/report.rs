//! The benchmark report: text for the terminal, JSON for records.

use std::time::Duration;

use serde_json::{Value, json};

use crate::flow::Outcome;
use crate::procstat::ProcSample;
use crate::{BenchConfig, FlowKind};

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
        before: Option<ProcSample>,
        after: Option<ProcSample>,
    ) -> Report {
        let seconds = elapsed.as_secs_f64().max(1e-9);
        let failed: u64 = outcome.failed.values().sum();
        let rate = outcome.completed as f64 / seconds;
        let cpu = match (before, after) {
            (Some(b), Some(a)) => Some(a.cpu_seconds - b.cpu_seconds),
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
            "endpoints": endpoints,
        });
        Report { json, text, failed }
    }
}
