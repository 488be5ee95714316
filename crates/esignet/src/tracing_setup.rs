//! Logs to stderr (text or JSON) and, when `telemetry.otlp_endpoint` is set, traces exported
//! over OTLP/HTTP to an OpenTelemetry collector through `tracing-opentelemetry`.
//!
//! The spans are the same ones the logs carry: the HTTP span has the method, the path and the
//! request id, never bodies, query strings or personal data.

use esignet_config::Settings;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Keeps the trace pipeline alive; dropping it flushes the spans not yet exported.
pub struct TracingGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TracingGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Flushes what the batch processor still holds; an unreachable collector must
            // not keep the process from exiting, and there is no one left to tell.
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber. A trace exporter that cannot be built is reported and the
/// service runs with logs only (observability must not take the login service down).
pub fn init(settings: &Settings) -> TracingGuard {
    let filter = std::env::var("ESIGNET_LOG").unwrap_or_else(|_| settings.logging.level.clone());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    // The log filter applies to the log output only: traces keep the info-level spans (one per
    // request) whatever the log verbosity.
    let fmt = if settings.logging.format.as_str() == "json" {
        fmt.json().with_filter(filter).boxed()
    } else {
        fmt.with_filter(filter).boxed()
    };
    let (provider, problem) = match &settings.telemetry.otlp_endpoint {
        Some(endpoint) => match trace_provider(endpoint.as_str(), &settings.telemetry.service_name)
        {
            Ok(provider) => (Some(provider), None),
            Err(error) => (None, Some(error.to_string())),
        },
        None => (None, None),
    };
    let otel = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("esignet"))
            .with_filter(LevelFilter::INFO)
    });
    tracing_subscriber::registry().with(fmt).with(otel).init();
    if let Some(problem) = problem {
        tracing::error!(%problem, "cannot export traces; continuing with logs only");
    }
    TracingGuard { provider }
}

fn trace_provider(endpoint: &str, service_name: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(endpoint)
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_owned())
                .build(),
        )
        .build())
}
