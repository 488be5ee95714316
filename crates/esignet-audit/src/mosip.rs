//! The `http` sink: MOSIP's audit manager (`POST /v1/auditmanager/audits`), one
//! `AuditRequestDto` per event inside MOSIP's request wrapper.
//!
//! The mapping is the one eSignet's MOSIP audit plugin uses: `eventId` and `eventName` are the
//! action's name (`SEND_OTP`), `eventType` the status (`SUCCESS` / `ERROR`), `moduleId` and
//! `moduleName` the eSignet controller that serves the action, and `id` / `idType` the
//! transaction id (`transaction`), or the client id (`clientId`) for client-centred actions. The
//! session user is always `no-user`: the audit manager never learns who logged in. The
//! `description` is a small JSON object of the event's other fields (client id, error code,
//! individual id hash), never request data.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use esignet_spi::{AuditAction, AuditEvent, AuditMetrics, AuditSink, AuditStatus, Clock};
use reqwest::header::{AUTHORIZATION, COOKIE, HeaderValue};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;
use tokio::task::JoinHandle;
use url::Url;

use crate::queue::{self, BatchWriter, Queue, QueueOptions};

/// The sink's name in metrics and configuration.
const SINK: &str = "http";

/// `applicationId` and `applicationName` of every record.
pub const APPLICATION: &str = "esignet";

/// `createdBy` of every record: the component that wrote it.
const CREATED_BY: &str = "esignet-rs";

/// The session user of every record (eSignet's plugin's value when there is no user).
const NO_USER: &str = "no-user";

/// MOSIP's `LocalDateTime` form, as the audit manager reads `actionTimeStamp` (UTC, no zone).
const LOCAL_DATE_TIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]");

/// MOSIP's `requesttime` form (UTC, with `Z`).
const REQUEST_TIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// How the audit manager authenticates us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MosipAuth {
    /// No credentials (a gateway in front adds them, or a test server).
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Cookie: Authorization=<token>`, as MOSIP's own services send their auth token.
    Cookie(String),
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct MosipAuditConfig {
    /// The full URL of the audits endpoint (`…/v1/auditmanager/audits`).
    pub url: Url,
    /// Credentials.
    pub auth: MosipAuth,
    /// Deadline of one request, connecting included.
    pub timeout: Duration,
    /// `hostName` of every record: this instance.
    pub instance: String,
}

/// Audit events posted to MOSIP's audit manager.
pub struct MosipAuditSink {
    queue: Queue,
}

impl MosipAuditSink {
    /// Starts the writer; returns the sink and its task (which ends after the sink is dropped
    /// and the queue drained). Every event is one request, so `options.batch_size` is ignored.
    ///
    /// # Errors
    ///
    /// The token cannot be sent as a header value, or the HTTP client cannot be built.
    pub fn spawn(
        config: MosipAuditConfig,
        options: &QueueOptions,
        clock: Arc<dyn Clock>,
        metrics: Arc<dyn AuditMetrics>,
    ) -> Result<(Self, JoinHandle<()>), String> {
        let auth = match &config.auth {
            MosipAuth::None => None,
            MosipAuth::Bearer(token) => Some((AUTHORIZATION, format!("Bearer {token}"))),
            MosipAuth::Cookie(token) => Some((COOKIE, format!("Authorization={token}"))),
        }
        .map(|(name, value)| {
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| "the audit token is not a valid header value".to_owned())?;
            value.set_sensitive(true);
            Ok::<_, String>((name, value))
        })
        .transpose()?;
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|error| format!("cannot build the audit HTTP client: {error}"))?;
        let writer = HttpWriter {
            client,
            url: config.url,
            auth,
            instance: config.instance,
            clock,
        };
        let mut options = options.clone();
        // One DTO per request: a batch of one is retried alone, never re-sending its neighbours.
        options.batch_size = 1;
        let (queue, task) = queue::spawn(SINK, writer, &options, metrics);
        Ok((Self { queue }, task))
    }
}

impl AuditSink for MosipAuditSink {
    fn record(&self, event: AuditEvent) {
        self.queue.push(event);
    }
}

struct HttpWriter {
    client: reqwest::Client,
    url: Url,
    auth: Option<(reqwest::header::HeaderName, HeaderValue)>,
    instance: String,
    clock: Arc<dyn Clock>,
}

#[async_trait]
impl BatchWriter for HttpWriter {
    async fn write(&mut self, batch: &[AuditEvent]) -> Result<(), String> {
        for event in batch {
            let body = mosip_request(event, &self.instance, self.clock.now());
            let mut request = self.client.post(self.url.clone()).json(&body);
            if let Some((name, value)) = &self.auth {
                request = request.header(name, value.clone());
            }
            // Errors and bodies are not echoed: the URL is ours, the answer is the server's.
            let response = request.send().await.map_err(|error| {
                if error.is_timeout() {
                    "audit manager timed out".to_owned()
                } else {
                    "audit manager unreachable".to_owned()
                }
            })?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("audit manager answered {}", status.as_u16()));
            }
            // MOSIP answers 200 with an `errors` list when it refuses the record.
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            if answer["errors"]
                .as_array()
                .is_some_and(|errors| !errors.is_empty())
            {
                let code = answer["errors"][0]["errorCode"]
                    .as_str()
                    .unwrap_or("unknown");
                return Err(format!("audit manager refused the record: {code}"));
            }
        }
        Ok(())
    }
}

/// The eSignet controller that serves `action` (`moduleId` / `moduleName`), as eSignet's MOSIP
/// audit plugin names them; signup actions name the signup service's controllers.
pub fn module_of(action: AuditAction) -> &'static str {
    use AuditAction::*;
    match action {
        OidcClientCreate | OidcClientUpdate | OauthClientCreate | OauthClientUpdate => {
            "ClientManagementController"
        }
        GetOauthDetails
        | GetParOauthDetails
        | TransactionStarted
        | ParRequest
        | SendOtp
        | Authenticate
        | ClaimDetails
        | GetAuthCode
        | DoKycAuth
        | DoKycExchange
        | PrepareSignupRedirect
        | CompleteSignupRedirect => "AuthorizationController",
        GenerateToken | TokenIntrospect | TokenRevoke => "OAuthController",
        GetUserinfo | EndSession => "OpenIdConnectController",
        LinkCode | LinkStatus | LinkTransaction | LinkSendOtp | LinkAuthenticate | LinkAuthCode
        | SaveConsent => "LinkedAuthorizationController",
        GetCertificate | UploadCertificate => "SystemInfoController",
        SendBindingOtp | KeyBinding => "KeyBindingController",
        GenerateChallenge | VerifyChallenge | Register | RegisterStatusCheck | ResetPassword => {
            "RegistrationController"
        }
        InitiateIdentityVerification
        | IdentityVerificationSlot
        | IdentityVerifier
        | IdentityVerificationStatus
        | ProcessFrames
        | ConsumeStepResult
        | OnConnected
        | OnDisconnected
        | HandshakeSuccess
        | HandshakeFailed => "IdentityVerificationController",
        DeleteUserConsent | KeyRotated | GetUserConsent | UpdateUserConsent => "EsignetService",
    }
}

/// `id` and `idType` of `event`: client-centred actions (and failed token requests, which may
/// have no transaction) are filed under the client id, the rest under the transaction id.
fn reference(event: &AuditEvent) -> (Option<&str>, &'static str) {
    use AuditAction::*;
    let by_client = matches!(
        event.action,
        OidcClientCreate
            | OidcClientUpdate
            | OauthClientCreate
            | OauthClientUpdate
            | GetOauthDetails
            | GetUserConsent
    ) || (event.action == GenerateToken && event.status == AuditStatus::Error);
    if by_client {
        (event.client_id.as_deref(), "clientId")
    } else {
        (event.transaction_id.as_deref(), "transaction")
    }
}

/// The request body posted for `event` by `instance` at `now`: MOSIP's request wrapper around
/// one `AuditRequestDto`.
pub fn mosip_request(event: &AuditEvent, instance: &str, now: OffsetDateTime) -> Value {
    let (id, id_type) = reference(event);
    let description = json!({
        "clientId": event.client_id,
        "transactionId": event.transaction_id,
        "individualIdHash": event.individual_id_hash,
        "errorCode": event.error_code,
    });
    let action = event.action.name();
    let module = module_of(event.action);
    json!({
        "id": "mosip.audit",
        "version": "1.0",
        "requesttime": utc(now, REQUEST_TIME),
        "metadata": {},
        "request": {
            "eventId": action,
            "eventName": action,
            "eventType": event.status.name(),
            "actionTimeStamp": utc(event.at, LOCAL_DATE_TIME),
            "hostName": instance,
            "hostIp": "localhost",
            "applicationId": APPLICATION,
            "applicationName": APPLICATION,
            "sessionUserId": NO_USER,
            "sessionUserName": NO_USER,
            "id": id.unwrap_or(""),
            "idType": id_type,
            "createdBy": CREATED_BY,
            "moduleName": module,
            "moduleId": module,
            "description": description.to_string(),
        }
    })
}

fn utc(at: OffsetDateTime, format: &[FormatItem<'static>]) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::queue::tests::event;

    #[test]
    fn the_wrapper_and_dto_follow_mosip() {
        let mut failed = event(AuditAction::GenerateToken);
        failed.status = AuditStatus::Error;
        failed.error_code = Some("invalid_grant".into());
        failed.individual_id_hash = Some("aGFzaA".into());
        let body = mosip_request(&failed, "node-1", datetime!(2026-03-01 10:00:01.5 UTC));
        let description = json!({"clientId": "client-1", "transactionId": "txn-1",
            "individualIdHash": "aGFzaA", "errorCode": "invalid_grant"})
        .to_string();
        assert_eq!(
            body,
            json!({
                "id": "mosip.audit",
                "version": "1.0",
                "requesttime": "2026-03-01T10:00:01.500Z",
                "metadata": {},
                "request": {
                    "eventId": "GENERATE_TOKEN",
                    "eventName": "GENERATE_TOKEN",
                    "eventType": "ERROR",
                    "actionTimeStamp": "2026-03-01T10:00:00.123",
                    "hostName": "node-1",
                    "hostIp": "localhost",
                    "applicationId": "esignet",
                    "applicationName": "esignet",
                    "sessionUserId": "no-user",
                    "sessionUserName": "no-user",
                    "id": "client-1",
                    "idType": "clientId",
                    "createdBy": "esignet-rs",
                    "moduleName": "OAuthController",
                    "moduleId": "OAuthController",
                    "description": description,
                }
            })
        );
        let body = mosip_request(&event(AuditAction::SendOtp), "node-1", failed.at);
        assert_eq!(body["request"]["id"], "txn-1");
        assert_eq!(body["request"]["idType"], "transaction");
        assert_eq!(body["request"]["moduleId"], "AuthorizationController");
        let mut no_ids = event(AuditAction::GenerateChallenge);
        no_ids.transaction_id = None;
        let body = mosip_request(&no_ids, "node-1", failed.at);
        assert_eq!(body["request"]["id"], "");
        assert_eq!(body["request"]["moduleId"], "RegistrationController");
    }

    #[test]
    fn a_token_that_cannot_be_a_header_is_refused() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        let config = MosipAuditConfig {
            url: Url::parse("http://127.0.0.1:1/v1/auditmanager/audits").unwrap(),
            auth: MosipAuth::Bearer("line\nbreak".into()),
            timeout: Duration::from_secs(1),
            instance: "node-1".into(),
        };
        let result = MosipAuditSink::spawn(
            config,
            &QueueOptions::default(),
            Arc::new(esignet_spi::SystemClock),
            Arc::new(esignet_spi::NoAuditMetrics),
        );
        assert!(result.is_err());
    }
}
