//! The identity-verification WebSocket, `GET /ws?slotId=<slotId>` (companions 3.5): STOMP 1.2
//! over a WebSocket as the official signup UI speaks it. Frames are parsed and written by the
//! `stomp-parser` crate; this module only decides what they mean.
//!
//! The handshake needs the `IDV_SLOT_ALLOTTED` cookie of the slot, once: the allotted slot
//! becomes a verified slot. The page subscribes to `/topic/<slotId>` and sends frames to
//! `/v1/signup/ws/process-frame`; the verifier's results arrive over the cache's channel for
//! the slot (from this or any instance) and are forwarded as MESSAGE frames. A result with
//! step `END` makes the verification `RESULTS_READY`; a socket that drops before that makes
//! it `FAILED`. Closing the socket frees the slot's seat.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use esignet_spi::AuditAction;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use stomp_parser::client::ClientFrame;
use stomp_parser::headers::{HeartBeatIntervals, StompVersion};
use stomp_parser::server::{
    ConnectedFrameBuilder, ErrorFrameBuilder, MessageFrameBuilder, ReceiptFrameBuilder,
};

use super::IdvService;
use super::transaction::{self as idv_txn, IDV_SLOT_ALLOTTED, IdvTransaction, split_slot_cookie};
use super::verifier::{
    AnalysisResult, FeedbackType, Frame, FrameBatch, InitializeRequest, VerificationStatus,
    is_start_step, result_channel,
};
use crate::codes;
use crate::crypto;
use crate::envelope::{self, SignupError};
use crate::http;

/// Where the page sends its frames.
const PROCESS_FRAME: &str = "/v1/signup/ws/process-frame";
/// Largest message accepted from the page (eSignet: 3 MB).
const MAX_MESSAGE_BYTES: usize = 3 * 1024 * 1024;
const INVALID_SLOT_ID: &str = "invalid_slot_id";
const INVALID_STEP_CODE: &str = "invalid_step_code";
const INVALID_FRAME: &str = "invalid_frame";
const INVALID_ORDER: &str = "invalid_order";
const PLUGIN_NOT_FOUND: &str = "plugin_not_found";

/// `GET /ws?slotId=...`: checks the handshake, then speaks STOMP.
pub(crate) async fn websocket(
    State(idv): State<Arc<IdvService>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    match handshake(&idv, &query, &headers).await {
        Ok(transaction) => {
            idv.base.audit(
                AuditAction::HandshakeSuccess,
                None,
                &Ok((json!({}), Vec::new())),
            );
            upgrade
                .max_message_size(MAX_MESSAGE_BYTES)
                .max_frame_size(MAX_MESSAGE_BYTES)
                .on_upgrade(move |socket| run(idv, transaction, socket))
        }
        Err(error) => {
            idv.base
                .audit(AuditAction::HandshakeFailed, None, &Err(error.clone()));
            (
                StatusCode::FORBIDDEN,
                Json(json!({
                    "responseTime": envelope::format_time(idv.base.now()),
                    "response": null,
                    "errors": [{"errorCode": error.code, "errorMessage": error.message}],
                })),
            )
                .into_response()
        }
    }
}

/// The slot cookie and the query must name the same allotted slot; a page from another
/// origin may not use the resident's cookie (cross-site WebSocket hijacking).
async fn handshake(
    idv: &IdvService,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<IdvTransaction, SignupError> {
    let invalid = || SignupError::new(codes::INVALID_TRANSACTION);
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| invalid())?;
        if !same_origin(origin, &idv.base.config.public_url) {
            return Err(invalid());
        }
    }
    let (transaction_id, cookie_slot) = http::cookie(headers, IDV_SLOT_ALLOTTED)
        .and_then(split_slot_cookie)
        .ok_or_else(invalid)?;
    let slot_id = query.get("slotId").ok_or_else(invalid)?;
    if !crypto::constant_time_eq(cookie_slot, slot_id) {
        return Err(invalid());
    }
    let mut transaction = idv.take(idv_txn::SLOT_ALLOTTED, transaction_id).await?;
    if !crypto::constant_time_eq(&transaction.slot_id, slot_id) {
        return Err(invalid());
    }
    let ttl = idv.verification_ttl(transaction.verifier_id.as_deref());
    transaction.expires_at_ms = idv.base.expiry(ttl);
    idv.store(idv_txn::VERIFIED_SLOT, slot_id, &transaction)
        .await?;
    Ok(transaction)
}

fn same_origin(origin: &str, public_url: &str) -> bool {
    let public = public_url.trim_end_matches('/');
    let public_origin = match public.find("://") {
        Some(scheme_end) => {
            let rest = &public[scheme_end + 3..];
            &public[..scheme_end + 3 + rest.find('/').unwrap_or(rest.len())]
        }
        None => public,
    };
    origin.eq_ignore_ascii_case(public_origin)
}

/// One STOMP session.
struct Session {
    idv: Arc<IdvService>,
    slot_id: String,
    verifier_id: Option<String>,
    subscription: Option<String>,
    connected: bool,
    pending: String,
    sent: u64,
    ended: bool,
    disconnected: bool,
}

async fn run(idv: Arc<IdvService>, transaction: IdvTransaction, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let slot_id = transaction.slot_id.clone();
    let seat = transaction.seat;
    // Subscribe before anything can be published for the slot.
    let results = idv
        .base
        .deps
        .cache
        .subscribe(&result_channel(&slot_id))
        .await;
    let mut session = Session {
        idv: idv.clone(),
        slot_id: slot_id.clone(),
        verifier_id: transaction.verifier_id.clone(),
        subscription: None,
        connected: false,
        pending: String::new(),
        sent: 0,
        ended: false,
        disconnected: false,
    };
    let lifetime = Duration::from_millis(
        u64::try_from(transaction.expires_at_ms.saturating_sub(idv.base.now_ms())).unwrap_or(0),
    );
    let deadline = tokio::time::sleep(lifetime);
    tokio::pin!(deadline);
    let mut clean = false;
    match results {
        Err(error) => {
            tracing::warn!(%error, "cannot subscribe to identity verification results");
        }
        Ok(mut results) => loop {
            tokio::select! {
                incoming = stream.next() => {
                    let text = match incoming {
                        Some(Ok(Message::Text(text))) => text.to_string(),
                        Some(Ok(Message::Binary(bytes))) => match String::from_utf8(bytes.to_vec()) {
                            Ok(text) => text,
                            Err(_) => break,
                        },
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(frame))) => {
                            clean = session.disconnected
                                || frame.is_some_and(|f| f.code == axum::extract::ws::close_code::NORMAL);
                            break;
                        }
                        Some(Err(_)) | None => break,
                    };
                    let replies = session.receive(&text).await;
                    let mut failed = false;
                    for reply in replies {
                        if sink.send(text_message(reply)).await.is_err() {
                            failed = true;
                            break;
                        }
                    }
                    if failed {
                        break;
                    }
                    if session.disconnected {
                        clean = true;
                        break;
                    }
                }
                published = results.next() => {
                    let Some(message) = published else { break };
                    if let Some(reply) = session.forward(&message).await
                        && sink.send(text_message(reply)).await.is_err()
                    {
                        break;
                    }
                }
                () = &mut deadline => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code: axum::extract::ws::close_code::AWAY,
                            reason: "verification time is over".into(),
                        })))
                        .await;
                    break;
                }
            }
        },
    }
    if !session.ended && !clean {
        session
            .set_status(VerificationStatus::Failed, Some("web_socket_fail"))
            .await;
    }
    if let Some(seat) = seat {
        idv.release_seat(seat, &slot_id).await;
    }
    idv.base.audit(
        AuditAction::OnDisconnected,
        None,
        &Ok((json!({}), Vec::new())),
    );
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessFrameRequest {
    slot_id: Option<String>,
    step_code: Option<String>,
    #[serde(default)]
    frames: Vec<FrameRequest>,
}

#[derive(Deserialize)]
struct FrameRequest {
    frame: Option<String>,
    order: Option<serde_json::Value>,
}

impl Session {
    /// Handles the text of one WebSocket message (any number of STOMP frames, possibly the
    /// rest of an earlier partial one); returns the frames to send back.
    async fn receive(&mut self, text: &str) -> Vec<Vec<u8>> {
        self.pending.push_str(text);
        if self.pending.len() > MAX_MESSAGE_BYTES {
            self.disconnected = true;
            return vec![error_frame("frame too large")];
        }
        let mut replies = Vec::new();
        while let Some(end) = self.pending.find('\0') {
            let raw: String = self.pending.drain(..=end).collect();
            // Heart-beats are bare end-of-lines between frames.
            let raw = raw.trim_start_matches(['\r', '\n']);
            if raw == "\0" {
                continue;
            }
            replies.extend(self.frame(raw).await);
            if self.disconnected {
                break;
            }
        }
        replies
    }

    async fn frame(&mut self, raw: &str) -> Vec<Vec<u8>> {
        let command = raw.split(['\n', '\r']).next().unwrap_or_default();
        match command {
            "CONNECT" | "STOMP" => self.connect(raw),
            // DISCONNECT needs no parsing beyond its optional receipt.
            "DISCONNECT" => {
                self.disconnected = true;
                let receipt = raw
                    .lines()
                    .find_map(|line| line.strip_prefix("receipt:"))
                    .map(|id| ReceiptFrameBuilder::new(id.to_owned()).build().into());
                receipt.into_iter().collect()
            }
            _ if !self.connected => {
                self.disconnected = true;
                vec![error_frame("not connected")]
            }
            _ => match ClientFrame::try_from(raw.as_bytes().to_vec()) {
                Ok(ClientFrame::Subscribe(frame)) => {
                    if frame.destination().value() == format!("/topic/{}", self.slot_id) {
                        self.subscription = Some(frame.id().value().to_owned());
                        Vec::new()
                    } else {
                        self.disconnected = true;
                        vec![error_frame(INVALID_SLOT_ID)]
                    }
                }
                Ok(ClientFrame::Unsubscribe(_)) => {
                    self.subscription = None;
                    Vec::new()
                }
                Ok(ClientFrame::Send(frame)) => {
                    if frame.destination().value() != PROCESS_FRAME {
                        return self.feedback_error(codes::INVALID_REQUEST);
                    }
                    let body = frame.body().unwrap_or_default().to_vec();
                    match self.process(&body).await {
                        Ok(()) => Vec::new(),
                        Err(error) => self.feedback_error(&error.code),
                    }
                }
                Ok(_) => Vec::new(),
                Err(_) => {
                    self.disconnected = true;
                    vec![error_frame("malformed frame")]
                }
            },
        }
    }

    /// CONNECT / STOMP. Only `accept-version` and `heart-beat` matter here, so the frame is
    /// handed to the parser with just those and a placeholder `host` (see [`connect_headers`]).
    fn connect(&mut self, raw: &str) -> Vec<Vec<u8>> {
        let text = connect_headers(raw);
        match ClientFrame::try_from(text.into_bytes()) {
            Ok(ClientFrame::Connect(frame)) => {
                let versions = &frame.accept_version().value().0;
                if !versions.is_empty() && !versions.contains(&StompVersion::V1_2) {
                    self.disconnected = true;
                    return vec![error_frame("only STOMP 1.2 is supported")];
                }
                self.connected = true;
                // eSignet signup's ON_CONNECTED: the STOMP session is up.
                self.idv
                    .base
                    .audit(AuditAction::OnConnected, None, &Ok((json!({}), Vec::new())));
                vec![
                    ConnectedFrameBuilder::new(StompVersion::V1_2)
                        .heartbeat(HeartBeatIntervals::new(0, 0))
                        .build()
                        .into(),
                ]
            }
            _ => {
                self.disconnected = true;
                vec![error_frame("malformed CONNECT frame")]
            }
        }
    }

    /// A `process-frame` request: validated, then handed to the verifier.
    async fn process(&mut self, body: &[u8]) -> Result<(), SignupError> {
        let request: ProcessFrameRequest =
            serde_json::from_slice(body).map_err(|_| SignupError::new(codes::INVALID_REQUEST))?;
        if !request
            .slot_id
            .as_deref()
            .is_some_and(|slot| crypto::constant_time_eq(slot, &self.slot_id))
        {
            return Err(SignupError::new(INVALID_SLOT_ID));
        }
        let step_code = request
            .step_code
            .filter(|code| !code.trim().is_empty())
            .ok_or_else(|| SignupError::new(INVALID_STEP_CODE))?;
        let start = is_start_step(&step_code);
        if !start && request.frames.is_empty() {
            return Err(SignupError::new(INVALID_FRAME));
        }
        let mut frames = Vec::with_capacity(request.frames.len());
        for frame in request.frames {
            let image = frame
                .frame
                .filter(|image| is_base64(image))
                .ok_or_else(|| SignupError::new(INVALID_FRAME))?;
            let order = frame
                .order
                .as_ref()
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| SignupError::new(INVALID_ORDER))?;
            frames.push(Frame {
                frame: image,
                order,
            });
        }
        let idv = self.idv.clone();
        let transaction = idv.load(idv_txn::VERIFIED_SLOT, &self.slot_id).await?;
        let verifier = self
            .verifier_id
            .as_deref()
            .and_then(|id| idv.verifiers.get(id))
            .ok_or_else(|| SignupError::new(PLUGIN_NOT_FOUND))?;
        let batch = FrameBatch { step_code, frames };
        if start {
            let individual_id = crypto::open(
                &idv.base.deps.transaction_key,
                &transaction.sealed_individual_id,
            )?;
            let request = InitializeRequest {
                individual_id,
                disability_type: transaction.disability_type.clone(),
            };
            verifier
                .initialize(&self.slot_id, &request, &idv.publisher)
                .await?;
        }
        let result = verifier.verify(&self.slot_id, &batch, &idv.publisher).await;
        idv.base.audit(
            AuditAction::ProcessFrames,
            None,
            &result.clone().map(|()| (json!({}), Vec::new())),
        );
        result
    }

    /// A verifier's result published for the slot: marks the end, and becomes a MESSAGE for
    /// the page's subscription.
    async fn forward(&mut self, message: &str) -> Option<Vec<u8>> {
        let result: AnalysisResult = serde_json::from_str(message).ok()?;
        if result.id != self.slot_id {
            return None;
        }
        // eSignet signup's CONSUME_STEP_RESULT: a verifier's result for this slot arrived.
        self.idv.base.audit(
            AuditAction::ConsumeStepResult,
            None,
            &Ok((json!({}), Vec::new())),
        );
        if result.is_end() && !self.ended {
            self.ended = true;
            self.set_status(VerificationStatus::ResultsReady, None)
                .await;
        }
        if result
            .feedback
            .as_ref()
            .is_some_and(|f| f.kind == FeedbackType::Error)
        {
            tracing::debug!("identity verifier reported an error feedback");
        }
        self.message(message.as_bytes().to_vec())
    }

    fn message(&mut self, body: Vec<u8>) -> Option<Vec<u8>> {
        let subscription = self.subscription.clone()?;
        self.sent += 1;
        Some(
            MessageFrameBuilder::new(
                format!(
                    "{}-{}",
                    &self.slot_id[..self.slot_id.len().min(8)],
                    self.sent
                ),
                format!("/topic/{}", self.slot_id),
                subscription,
            )
            .content_type("application/json".to_owned())
            .body(body)
            .build()
            .into(),
        )
    }

    /// The service's own error feedback (only `feedback`, as eSignet sends it).
    fn feedback_error(&mut self, code: &str) -> Vec<Vec<u8>> {
        let body = json!({"feedback": {"type": "ERROR", "code": code}}).to_string();
        match self.message(body.into_bytes()) {
            Some(frame) => vec![frame],
            None => {
                self.disconnected = true;
                vec![error_frame(code)]
            }
        }
    }

    async fn set_status(&self, status: VerificationStatus, error_code: Option<&str>) {
        let idv = &self.idv;
        let Ok(mut transaction) = idv.load(idv_txn::VERIFIED_SLOT, &self.slot_id).await else {
            return;
        };
        if matches!(
            transaction.status,
            VerificationStatus::Completed | VerificationStatus::Failed
        ) {
            return;
        }
        transaction.status = status;
        transaction.error_code = error_code.map(str::to_owned);
        if let Err(error) = idv
            .store(idv_txn::VERIFIED_SLOT, &self.slot_id, &transaction)
            .await
        {
            tracing::warn!(code = %error.code, "cannot record the verification status");
        }
        idv.report(&transaction).await;
    }
}

/// STOMP over WebSocket travels in text messages (the pages' client ignores binary ones).
fn text_message(frame: Vec<u8>) -> Message {
    Message::Text(String::from_utf8_lossy(&frame).into_owned().into())
}

fn error_frame(message: &str) -> Vec<u8> {
    ErrorFrameBuilder::new()
        .message(message.to_owned())
        .build()
        .into()
}

/// Standard base64 (what a canvas data URL holds after its prefix).
fn is_base64(text: &str) -> bool {
    !text.is_empty()
        && text.len().is_multiple_of(4)
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// The CONNECT frame `raw` with only the headers this endpoint reads (`accept-version`,
/// `heart-beat`) and `host:-`. STOMP 1.2 does not escape CONNECT headers, so a `host` such as
/// `127.0.0.1:8088` (what browsers' clients send) holds a colon, which `stomp-parser` refuses;
/// the official UI's client sends no `host` at all, which the parser also refuses. Virtual
/// hosts, `login` and `passcode` are not used here.
fn connect_headers(raw: &str) -> String {
    let mut lines = raw.split('\n');
    let command = lines.next().unwrap_or_default().trim_end_matches('\r');
    let mut text = format!("{command}\nhost:-\n");
    for line in lines.by_ref() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if line.starts_with("accept-version:") || line.starts_with("heart-beat:") {
            text.push_str(line);
            text.push('\n');
        }
    }
    text.push('\n');
    text.push_str(&lines.collect::<Vec<_>>().join("\n"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(raw: &str) -> bool {
        matches!(
            ClientFrame::try_from(connect_headers(raw).into_bytes()),
            Ok(ClientFrame::Connect(_))
        )
    }

    #[test]
    fn connect_frames_of_every_client_are_read() {
        // A browser client: the host with its port, unescaped as STOMP 1.2 says for CONNECT.
        assert!(parses(
            "CONNECT\naccept-version:1.2\nhost:127.0.0.1:8088\nheart-beat:0,0\n\n\0"
        ));
        // stompjs (the official UI): no host.
        assert!(parses(
            "CONNECT\naccept-version:1.1,1.2\nheart-beat:10000,10000\n\n\0"
        ));
        // CRLF line ends and credentials with colons.
        assert!(parses(
            "STOMP\r\naccept-version:1.2\r\nlogin:a:b\r\npasscode:c:d\r\n\r\n\0"
        ));
        assert_eq!(
            connect_headers("CONNECT\naccept-version:1.2\nhost:h:1\n\n\0"),
            "CONNECT\nhost:-\naccept-version:1.2\n\n\0"
        );
    }
}
