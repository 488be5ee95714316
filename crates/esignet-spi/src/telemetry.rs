//! The telemetry seam: what the domain reports about logins (counted by the metrics endpoint),
//! and the request id of the HTTP request being served (sent on to identity systems so one
//! login can be followed across services).
//!
//! Nothing here carries personal data: factors are factor *types* (`OTP`, `PIN`), outcomes are
//! error *codes*.

use std::future::Future;

use crate::AuditAction;

/// Receives login events. Implementations count; they must be cheap and never block.
pub trait LoginMetrics: Send + Sync {
    /// An authorization transaction started (oauth-details or par-oauth-details succeeded).
    fn login_started(&self);
    /// An authentication attempt with the given factor types (sorted, `+`-joined, e.g.
    /// `OTP+PIN`) ended: `Ok` or the eSignet error code.
    fn authentication(&self, factors: &str, outcome: Result<(), &str>);
    /// A login completed: the relying party redeemed the code for tokens.
    fn login_completed(&self);
    /// A step of a login (the audited action `stage`) failed with `error_code`.
    fn login_failed(&self, stage: AuditAction, error_code: &str);
}

/// Counts nothing (deployments without a metrics listener, and tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLoginMetrics;

impl LoginMetrics for NoLoginMetrics {
    fn login_started(&self) {}
    fn authentication(&self, _factors: &str, _outcome: Result<(), &str>) {}
    fn login_completed(&self) {}
    fn login_failed(&self, _stage: AuditAction, _error_code: &str) {}
}

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `future` with `request_id` as the current request id (the HTTP layer wraps each
/// request's handler in this).
pub async fn with_request_id<F: Future>(request_id: String, future: F) -> F::Output {
    REQUEST_ID.scope(request_id, future).await
}

/// The id of the HTTP request being served, if any (outbound clients send it as
/// `X-Request-ID`).
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_request_id_is_visible_inside_its_scope_only() {
        assert_eq!(current_request_id(), None);
        let seen = with_request_id("req-1".to_owned(), async { current_request_id() }).await;
        assert_eq!(seen.as_deref(), Some("req-1"));
        assert_eq!(current_request_id(), None);
    }
}
