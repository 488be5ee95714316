//! A mock SBI 2.0 biometric device service, so biometric logins run without hardware.
//!
//! MOSIP's Secure Biometric Interface is an HTTP service on the resident's own machine
//! (`127.0.0.1`, a port in 4501–4600) that the login page calls from the browser with custom
//! HTTP methods. This crate answers the three the eSignet UI uses:
//!
//! * `MOSIPDISC /device` (body `{"type": "Biometric Device"}`, or a modality name): one
//!   descriptor per device: `deviceId`, `deviceStatus` `Ready`, `certification` `L1`,
//!   `serviceVersion`, `deviceSubId`, `callbackId`, signed `digitalId`, `deviceCode`,
//!   `specVersion` `["0.9.5"]`, `purpose` `Auth`, `error` `{"errorCode": "0", "errorInfo":
//!   "Success"}`.
//! * `MOSIPDINFO /info`: `[{"deviceInfo": <JWS>, "error": {...}}]`, the JWS payload holding the
//!   same descriptor plus `env` and `firmware`.
//! * `CAPTURE /capture` (the eSignet UI's body, see [`capture`]): `{"biometrics": [...]}`, one
//!   entry per requested count, each with a `data` JWS whose payload carries `bioType`,
//!   `bioSubType`, random `bioValue` bytes standing in for an ISO template, the request's
//!   `transactionId` and `domainUri`, and the scores.
//!
//! Every JWS is ES256, signed by a device key generated at start, with the key's self-signed
//! certificate in `x5c`. Nothing is encrypted: a real L1 device encrypts `bioValue` for the
//! identity system, which the built-in mock identity system does not need. CORS is answered for
//! any origin (a real device serves any page the resident opens), including Chrome's
//! private-network preflight.
//!
//! Run it with `esignet mock-sbi` (the binary calls [`serve`]); tests use [`serve_on`] with a
//! listener on port 0, or [`router`] directly.

pub mod capture;
mod device;
mod http;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use esignet_spi::Clock;
use tokio::net::TcpListener;

pub use device::{MockSbi, Modality, SPEC_VERSION};
pub use http::router;

/// The SBI port range the eSignet UI scans; the default port is its first.
pub const DEFAULT_PORT: u16 = 4501;

/// Settings of the mock device service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockSbiConfig {
    /// Where to listen. Keep it on loopback: SBI is a local service and this one has no
    /// authentication. Default `127.0.0.1:4501`.
    pub bind: SocketAddr,
    /// One device per modality, in this order. Default: face, finger, iris.
    pub modalities: Vec<Modality>,
    /// The `qualityScore` every capture reports (0 to 100). Default 80, above the UI's default
    /// requested score of 70.
    pub quality_score: u8,
    /// How long a capture takes. A capture whose request `timeout` is shorter fails with the
    /// timeout error, which is how tests exercise it. Default zero.
    pub capture_delay: Duration,
}

impl Default for MockSbiConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            modalities: vec![Modality::Face, Modality::Finger, Modality::Iris],
            quality_score: 80,
            capture_delay: Duration::ZERO,
        }
    }
}

/// Why the device service could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockSbiError {
    /// The listener could not be bound (port taken, no permission).
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The device key or certificate could not be made.
    #[error("cannot create the device key: {0}")]
    Key(String),
    /// The configuration is unusable (no modality, a duplicate, a score above 100).
    #[error("invalid mock SBI configuration: {0}")]
    Config(&'static str),
    /// The server failed while running.
    #[error("mock SBI server failed: {0}")]
    Serve(std::io::Error),
}

/// Binds `config.bind` and serves until `shutdown` completes.
///
/// # Errors
/// [`MockSbiError`] if the port cannot be bound, the configuration or key is unusable, or the
/// server fails.
pub async fn serve(
    config: MockSbiConfig,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), MockSbiError> {
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| MockSbiError::Bind {
            address: config.bind,
            source,
        })?;
    serve_on(listener, config, clock, shutdown).await
}

/// Serves on an already bound `listener` (its address, not `config.bind`, is what devices
/// report as `callbackId`) until `shutdown` completes.
///
/// # Errors
/// As [`serve`], except binding.
pub async fn serve_on(
    listener: TcpListener,
    config: MockSbiConfig,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), MockSbiError> {
    let address = listener.local_addr().map_err(MockSbiError::Serve)?;
    let sbi = Arc::new(MockSbi::new(config, clock, address)?);
    tracing::info!(%address, devices = ?sbi.modalities(), "mock SBI device service is ready");
    axum::serve(listener, router(sbi).into_make_service())
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(MockSbiError::Serve)
}
