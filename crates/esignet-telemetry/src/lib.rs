//! Prometheus metrics of one provider instance.
//!
//! [`Metrics`] owns a registry (no global state: each instance, and each test, has its own) and
//! the families below; `esignet-web` records every HTTP request into it and serves
//! [`Metrics::render`] at `/metrics` on a separate listener; the core reports logins through the
//! [`LoginMetrics`] seam; [`MeteredAuthenticator`] and [`MeteredCache`] wrap the identity system
//! and the flow cache.
//!
//! No label carries personal data or anything a client can choose freely: routes are the
//! router's path *templates*, factors and error codes come from bounded sets (anything else is
//! counted as `other`).

mod decorators;
mod store;

use std::sync::Arc;
use std::time::Duration;

use esignet_spi::{AuditAction, AuditMetrics, LoginMetrics};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub use decorators::{MeteredAuthenticator, MeteredCache};
pub use store::MeteredStore;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuthenticationLabels {
    factors: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    stage: String,
    error_code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DependencyLabels {
    dependency: &'static str,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabels {
    sink: &'static str,
}

/// Latency buckets from 0.25 ms to about 4 s (doubling): our handlers answer in well under a
/// millisecond to tens of milliseconds; identity systems in milliseconds to seconds.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// The longest error code used as a label; longer or odd-looking codes count as `other`.
const MAX_CODE_LEN: usize = 48;

/// `code` if it looks like an error code (`auth_failed`, `IDA-MLC-009`), else `other`:
/// plugin codes are surfaced verbatim, and a label must never become a free-form string.
fn bounded_code(code: &str) -> String {
    let plausible = !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if plausible {
        code.to_owned()
    } else {
        "other".to_owned()
    }
}

/// The metrics of one instance.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    http_in_flight: Gauge,
    logins_started: Counter,
    logins_completed: Counter,
    authentications: Family<AuthenticationLabels, Counter>,
    login_failures: Family<FailureLabels, Counter>,
    identity_system_duration: Family<OperationLabels, Histogram, fn() -> Histogram>,
    dependency_calls: Family<DependencyLabels, Counter>,
    dependency_errors: Family<DependencyLabels, Counter>,
    audit_written: Family<SinkLabels, Counter>,
    audit_dropped: Family<SinkLabels, Counter>,
    audit_failed: Family<SinkLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every family registered (all at zero).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("esignet");
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            http_requests.clone(),
        );
        let http_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            http_duration.clone(),
        );
        let http_in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being served now",
            http_in_flight.clone(),
        );
        let logins_started = Counter::default();
        registry.register(
            "logins_started",
            "Authorization transactions started (oauth-details, par-oauth-details)",
            logins_started.clone(),
        );
        let logins_completed = Counter::default();
        registry.register(
            "logins_completed",
            "Logins completed: authorization codes redeemed for tokens",
            logins_completed.clone(),
        );
        let authentications = Family::<AuthenticationLabels, Counter>::default();
        registry.register(
            "authentications",
            "Authentication attempts by factor types and outcome (success or the error code)",
            authentications.clone(),
        );
        let login_failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "login_failures",
            "Failed login steps, by audited action and error code",
            login_failures.clone(),
        );
        let identity_system_duration =
            Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "identity_system_duration_seconds",
            "Time the identity system took, by operation and outcome",
            identity_system_duration.clone(),
        );
        let dependency_calls = Family::<DependencyLabels, Counter>::default();
        registry.register(
            "dependency_calls",
            "Calls to the flow cache and the store, by operation (each one round trip on Redis \
             or PostgreSQL)",
            dependency_calls.clone(),
        );
        let dependency_errors = Family::<DependencyLabels, Counter>::default();
        registry.register(
            "dependency_errors",
            "Failed calls to the flow cache and the store, by operation",
            dependency_errors.clone(),
        );
        let audit_written = Family::<SinkLabels, Counter>::default();
        registry.register(
            "audit_events_written",
            "Audit events delivered, by sink (log, postgres, http)",
            audit_written.clone(),
        );
        let audit_dropped = Family::<SinkLabels, Counter>::default();
        registry.register(
            "audit_events_dropped",
            "Audit events lost for good (queue full or every retry failed), by sink",
            audit_dropped.clone(),
        );
        let audit_failed = Family::<SinkLabels, Counter>::default();
        registry.register(
            "audit_events_failed",
            "Audit events in failed delivery attempts (a retry may still deliver them), by sink",
            audit_failed.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            http_in_flight,
            logins_started,
            logins_completed,
            authentications,
            login_failures,
            identity_system_duration,
            dependency_calls,
            dependency_errors,
            audit_written,
            audit_dropped,
            audit_failed,
        }
    }

    /// Shared, for the places that record.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::new())
    }

    /// The OpenMetrics text exposition of every family.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// A request started (paired with [`Metrics::request_finished`]).
    pub fn request_started(&self) {
        self.http_in_flight.inc();
    }

    /// A request to `route` (the matched path template, or `unmatched`) was answered.
    pub fn request_finished(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.http_in_flight.dec();
        self.http_requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method: method.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// An identity-system call ended.
    pub fn identity_system_call(&self, operation: &'static str, ok: bool, elapsed: Duration) {
        self.identity_system_duration
            .get_or_create(&OperationLabels {
                operation,
                outcome: if ok { "success" } else { "error" },
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a call in `esignet_dependency_calls_total` (round trips per login, for the cost
    /// model) and, when it failed, in `esignet_dependency_errors_total`; hands `result` back.
    pub fn count_call<T, E>(
        &self,
        dependency: &'static str,
        operation: &'static str,
        result: Result<T, E>,
    ) -> Result<T, E> {
        let labels = DependencyLabels {
            dependency,
            operation,
        };
        self.dependency_calls.get_or_create(&labels).inc();
        if result.is_err() {
            self.dependency_errors.get_or_create(&labels).inc();
        }
        result
    }
}

impl LoginMetrics for Metrics {
    fn login_started(&self) {
        self.logins_started.inc();
    }

    fn authentication(&self, factors: &str, outcome: Result<(), &str>) {
        let outcome = match outcome {
            Ok(()) => "success".to_owned(),
            Err(code) => bounded_code(code),
        };
        self.authentications
            .get_or_create(&AuthenticationLabels {
                factors: factors.to_owned(),
                outcome,
            })
            .inc();
    }

    fn login_completed(&self) {
        self.logins_completed.inc();
    }

    fn login_failed(&self, stage: AuditAction, error_code: &str) {
        let stage = match serde_json::to_value(stage) {
            Ok(serde_json::Value::String(name)) => name,
            _ => "other".to_owned(),
        };
        self.login_failures
            .get_or_create(&FailureLabels {
                stage,
                error_code: bounded_code(error_code),
            })
            .inc();
    }
}

impl AuditMetrics for Metrics {
    fn audit_written(&self, sink: &'static str, count: u64) {
        self.audit_written
            .get_or_create(&SinkLabels { sink })
            .inc_by(count);
    }

    fn audit_dropped(&self, sink: &'static str, count: u64) {
        self.audit_dropped
            .get_or_create(&SinkLabels { sink })
            .inc_by(count);
    }

    fn audit_failed(&self, sink: &'static str, count: u64) {
        self.audit_failed
            .get_or_create(&SinkLabels { sink })
            .inc_by(count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_counters_are_exposed_at_zero_from_the_start() {
        // Labelled families appear with their first sample; plain counters and the gauge are
        // there from the start, so a dashboard sees 0 rather than "no data".
        let text = Metrics::new().render();
        for line in [
            "esignet_logins_started_total 0",
            "esignet_logins_completed_total 0",
            "esignet_http_requests_in_flight 0",
        ] {
            assert!(text.contains(line), "{line} missing:\n{text}");
        }
    }

    #[test]
    fn login_events_are_counted_with_bounded_labels() {
        let metrics = Metrics::new();
        metrics.login_started();
        metrics.authentication("OTP", Ok(()));
        metrics.authentication("OTP", Err("auth_failed"));
        metrics.authentication("PIN", Err("a code with spaces and 8267411571"));
        metrics.login_completed();
        metrics.login_failed(AuditAction::GenerateToken, "invalid_grant");
        let text = metrics.render();
        assert!(text.contains("esignet_logins_started_total 1"), "{text}");
        assert!(text.contains("esignet_logins_completed_total 1"), "{text}");
        assert!(
            text.contains(r#"esignet_authentications_total{factors="OTP",outcome="success"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"esignet_authentications_total{factors="OTP",outcome="auth_failed"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"esignet_authentications_total{factors="PIN",outcome="other"} 1"#),
            "{text}"
        );
        assert!(
            !text.contains("8267411571"),
            "a free-form code never becomes a label"
        );
        assert!(text.contains(r#"esignet_login_failures_total{stage="GENERATE_TOKEN",error_code="invalid_grant"} 1"#), "{text}");
    }

    #[test]
    fn audit_deliveries_are_counted_per_sink() {
        let metrics = Metrics::new();
        metrics.audit_written("postgres", 3);
        metrics.audit_failed("http", 2);
        metrics.audit_dropped("http", 1);
        metrics.audit_dropped("http", 1);
        let text = metrics.render();
        assert!(
            text.contains(r#"esignet_audit_events_written_total{sink="postgres"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"esignet_audit_events_failed_total{sink="http"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"esignet_audit_events_dropped_total{sink="http"} 2"#),
            "{text}"
        );
    }

    #[test]
    fn requests_are_counted_per_route_template() {
        let metrics = Metrics::new();
        metrics.request_started();
        metrics.request_finished(
            "/v1/esignet/oauth/v2/token",
            "POST",
            200,
            Duration::from_millis(3),
        );
        let text = metrics.render();
        assert!(text.contains(r#"esignet_http_requests_total{route="/v1/esignet/oauth/v2/token",method="POST",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"esignet_http_request_duration_seconds_count{route="/v1/esignet/oauth/v2/token",method="POST"} 1"#), "{text}");
        assert!(text.contains("esignet_http_requests_in_flight 0"), "{text}");
    }
}
