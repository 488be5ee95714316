//! The identity-verifier seam (eSignet signup's `IdentityVerifierPlugin`) and the messages
//! that flow from a verifier to the resident's page.

use std::sync::Arc;

use async_trait::async_trait;
use esignet_spi::Cache;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codes;
use crate::envelope::SignupError;

/// eSignet's `ProcessFeedbackType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeedbackType {
    /// A message to show (`messages.<code>` of the workflow).
    Message,
    /// A colour for the camera frame's border.
    Color,
    /// An error (`errors.<code>`); ends the verification unless the step lists it as retryable.
    Error,
}

/// What the page shows the resident while a step runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// Kind of feedback.
    #[serde(rename = "type")]
    pub kind: FeedbackType,
    /// Message, colour or error code.
    pub code: String,
}

/// One step of a verification (eSignet's `IDVProcessStepDetail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Step code (`liveness_check`, `id_verification`, ..., `END` for the last).
    pub code: String,
    /// Frames the page captures per second.
    #[serde(default)]
    pub frames_per_second: u32,
    /// Seconds the step lasts at most.
    #[serde(default)]
    pub duration_in_seconds: u32,
    /// Seconds the page waits before capturing.
    #[serde(default)]
    pub startup_delay_in_seconds: u32,
    /// Whether the page restarts the step when it times out.
    #[serde(default)]
    pub retry_on_timeout: bool,
    /// Error codes the page shows without ending the verification.
    #[serde(default)]
    pub retryable_error_codes: Vec<String>,
}

/// A message to the page (eSignet's `IdentityVerificationResult`), sent to `/topic/<slotId>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisResult {
    /// The slot id.
    pub id: String,
    /// The verifier that produced it.
    pub verifier_id: String,
    /// The next step, when it changes.
    pub step: Option<Step>,
    /// Feedback to show.
    pub feedback: Option<Feedback>,
}

impl AnalysisResult {
    /// Whether this result ends the live steps (`step.code` is `END`).
    pub fn is_end(&self) -> bool {
        self.step
            .as_ref()
            .is_some_and(|step| is_end_step(&step.code))
    }
}

/// eSignet's `VerificationStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerificationStatus {
    /// Verified and written to the registry.
    Completed,
    /// Not verified.
    Failed,
    /// The live steps are under way.
    Started,
    /// The verifier has reached its last step; its result can be fetched.
    ResultsReady,
    /// The verified claims are being written to the registry.
    UpdatePending,
}

impl VerificationStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Started => "STARTED",
            Self::ResultsReady => "RESULTS_READY",
            Self::UpdatePending => "UPDATE_PENDING",
        }
    }
}

/// A verifier's verdict (eSignet's `VerificationResult`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationResult {
    /// `COMPLETED` when verified; anything else is a failure.
    pub status: VerificationStatus,
    /// Verified identity fields and their verification metadata (`trust_framework`, ...).
    #[serde(default)]
    pub verified_claims: Map<String, Value>,
    /// Why the verification failed.
    #[serde(default)]
    pub error_code: Option<String>,
}

/// What the verifier learns when the live steps start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitializeRequest {
    /// The resident's individual id (from the signup client's userinfo).
    pub individual_id: String,
    /// `VISION`, `AUDITORY`, `MOBILITY`, `NEUROLOGICAL` or none.
    pub disability_type: Option<String>,
}

/// One captured image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Base64 JPEG, without a data-URL prefix.
    pub frame: String,
    /// Position of the frame within its step, from 0.
    pub order: u64,
}

/// Frames of one step sent by the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameBatch {
    /// The step they belong to (`START` for the first message).
    pub step_code: String,
    /// The frames, in capture order.
    pub frames: Vec<Frame>,
}

/// `START`, case-insensitive (eSignet's `isStartStep`).
pub fn is_start_step(code: &str) -> bool {
    code.eq_ignore_ascii_case("START")
}

/// `END`, case-insensitive (eSignet's `isEndStep`).
pub fn is_end_step(code: &str) -> bool {
    code.eq_ignore_ascii_case("END")
}

/// The cache channel carrying a slot's results to whichever instance holds its WebSocket.
pub(crate) fn result_channel(slot_id: &str) -> String {
    format!("signup_idv_result:{slot_id}")
}

/// Hands a verifier's results to the page: published on the cache's channel for the slot, so
/// a verifier may publish from any instance (or from a background task) and the instance
/// holding the resident's WebSocket forwards it (eSignet publishes through Kafka).
#[derive(Clone)]
pub struct ResultPublisher {
    cache: Arc<dyn Cache>,
}

impl ResultPublisher {
    /// A publisher over `cache`.
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        Self { cache }
    }

    /// Publishes `result` to its slot (`result.id`).
    pub async fn publish(&self, result: &AnalysisResult) -> Result<(), SignupError> {
        let message =
            serde_json::to_string(result).map_err(|_| SignupError::new(codes::UNKNOWN_ERROR))?;
        self.cache
            .publish(&result_channel(&result.id), &message)
            .await
            .map_err(|error| {
                tracing::warn!(%error, "cannot publish an identity verification result");
                SignupError::new(codes::UNKNOWN_ERROR)
            })
    }
}

/// An identity verifier (video eKYC). Several coexist, chosen by [`IdentityVerifier::id`];
/// the `slot_id` given to every call is the verification's key (eSignet passes the slot id as
/// the transaction id).
#[async_trait]
pub trait IdentityVerifier: Send + Sync {
    /// The verifier id of the verifier list.
    fn id(&self) -> &str;

    /// The live steps begin (`START`).
    async fn initialize(
        &self,
        slot_id: &str,
        request: &InitializeRequest,
        publisher: &ResultPublisher,
    ) -> Result<(), SignupError>;

    /// Frames of a step to analyse; results go out through `publisher`, now or later.
    async fn verify(
        &self,
        slot_id: &str,
        batch: &FrameBatch,
        publisher: &ResultPublisher,
    ) -> Result<(), SignupError>;

    /// The verdict, once the verifier published its `END` step.
    async fn result(&self, slot_id: &str) -> Result<VerificationResult, SignupError>;
}
