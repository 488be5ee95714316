//! The mock identity verifier (eSignet's `MockIdentityVerifierPluginImpl`): replays a user
//! story of scenes keyed by step code and frame number, and ends with the story's verdict.
//! Frames are never inspected; it exists so a deployment without a real eKYC vendor can run
//! the whole flow.

use async_trait::async_trait;
use serde::Deserialize;

use super::verifier::{
    AnalysisResult, Feedback, FrameBatch, IdentityVerifier, InitializeRequest, ResultPublisher,
    Step, VerificationResult, is_start_step,
};
use crate::envelope::SignupError;

/// The built-in user story (`mock-idv-user-story.json`).
pub const BUILT_IN_STORY: &str = include_str!("../../resources/mock-idv-user-story.json");

/// The mock verifier's id in the built-in verifier list.
pub const MOCK_VERIFIER_ID: &str = "mock-identity-verifier";

/// One scene: what to publish when the frame numbered `frame_number` of step `step_code`
/// arrives (frame 0 of `START` when the live steps begin).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Scene {
    frame_number: u64,
    step_code: String,
    step: Option<Step>,
    feedback: Option<Feedback>,
}

/// A user story: the scenes and the verdict.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Story {
    scenes: Vec<Scene>,
    verification_result: VerificationResult,
}

/// The mock verifier.
pub struct MockIdentityVerifier {
    id: String,
    story: Story,
}

impl MockIdentityVerifier {
    /// A verifier `id` replaying `story` (the user-story JSON).
    ///
    /// # Errors
    /// When the story is not valid JSON of the expected shape or has no scene for `START`.
    pub fn new(id: impl Into<String>, story: &str) -> anyhow::Result<Self> {
        let story: Story = serde_json::from_str(story)
            .map_err(|error| anyhow::anyhow!("the mock identity verifier's story: {error}"))?;
        if !story
            .scenes
            .iter()
            .any(|scene| is_start_step(&scene.step_code))
        {
            anyhow::bail!("the mock identity verifier's story has no START scene");
        }
        Ok(Self {
            id: id.into(),
            story,
        })
    }

    fn result_of(&self, slot_id: &str, scene: &Scene) -> AnalysisResult {
        AnalysisResult {
            id: slot_id.to_owned(),
            verifier_id: self.id.clone(),
            step: scene.step.clone(),
            feedback: scene.feedback.clone(),
        }
    }

    async fn publish_scenes(
        &self,
        slot_id: &str,
        publisher: &ResultPublisher,
        matches: impl Fn(&Scene) -> bool,
    ) -> Result<(), SignupError> {
        for scene in self.story.scenes.iter().filter(|scene| matches(scene)) {
            publisher.publish(&self.result_of(slot_id, scene)).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl IdentityVerifier for MockIdentityVerifier {
    fn id(&self) -> &str {
        &self.id
    }

    async fn initialize(
        &self,
        _slot_id: &str,
        _request: &InitializeRequest,
        _publisher: &ResultPublisher,
    ) -> Result<(), SignupError> {
        Ok(())
    }

    async fn verify(
        &self,
        slot_id: &str,
        batch: &FrameBatch,
        publisher: &ResultPublisher,
    ) -> Result<(), SignupError> {
        if is_start_step(&batch.step_code) {
            return self
                .publish_scenes(slot_id, publisher, |scene| {
                    is_start_step(&scene.step_code) && scene.frame_number == 0
                })
                .await;
        }
        for frame in &batch.frames {
            self.publish_scenes(slot_id, publisher, |scene| {
                scene.step_code == batch.step_code && scene.frame_number == frame.order
            })
            .await?;
        }
        Ok(())
    }

    async fn result(&self, _slot_id: &str) -> Result<VerificationResult, SignupError> {
        Ok(self.story.verification_result.clone())
    }
}
