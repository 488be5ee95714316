//! The identity verifiers offered to residents (`signup-identity-verifier-details.json`) and
//! their workflows (`signup-idv_<id>.json`: terms, preview, step, error and message texts),
//! loaded once at start: a missing or malformed file stops the service from starting rather
//! than failing a resident halfway.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use super::mock_verifier::MOCK_VERIFIER_ID;

const BUILT_IN_VERIFIERS: &str = include_str!("../../resources/identity-verifiers.json");
const BUILT_IN_MOCK_WORKFLOW: &str =
    include_str!("../../resources/idv_mock-identity-verifier.json");

/// The verifier list and workflows.
#[derive(Debug, Clone)]
pub struct Catalogue {
    verifiers: Vec<Value>,
    workflows: HashMap<String, Value>,
}

impl Catalogue {
    /// The list from `verifiers_file` (else the built-in one, the mock verifier) and each
    /// listed verifier's workflow from `workflow_dir` (else the built-in mock workflow).
    ///
    /// # Errors
    /// A file that cannot be read or parsed, a verifier without `id`, or an active verifier
    /// without a workflow.
    pub fn load(
        verifiers_file: Option<&Path>,
        workflow_dir: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let list_text = match verifiers_file {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read signup.verifiers_file {}", path.display()))?,
            None => BUILT_IN_VERIFIERS.to_owned(),
        };
        let verifiers: Vec<Value> = serde_json::from_str(&list_text)
            .context("the identity verifier list must be a JSON array of verifiers")?;
        let mut workflows = HashMap::new();
        for verifier in &verifiers {
            let id = verifier
                .get("id")
                .and_then(Value::as_str)
                .filter(|id| is_safe_id(id))
                .context("every identity verifier needs an id of letters, digits, + _ # -")?;
            let text = match workflow_dir {
                Some(dir) => {
                    let path = dir.join(format!("signup-idv_{id}.json"));
                    match std::fs::read_to_string(&path) {
                        Ok(text) => Some(text),
                        Err(_) if !is_active(verifier) => None,
                        Err(error) => {
                            return Err(error).with_context(|| {
                                format!("cannot read the workflow of verifier {id}")
                            });
                        }
                    }
                }
                None if id == MOCK_VERIFIER_ID => Some(BUILT_IN_MOCK_WORKFLOW.to_owned()),
                None if is_active(verifier) => anyhow::bail!(
                    "verifier {id} has no built-in workflow: set signup.verifier_workflow_dir"
                ),
                None => None,
            };
            if let Some(text) = text {
                let workflow: Value = serde_json::from_str(&text)
                    .with_context(|| format!("the workflow of verifier {id} is not JSON"))?;
                workflows.insert(id.to_owned(), workflow);
            }
        }
        Ok(Self {
            verifiers,
            workflows,
        })
    }

    /// Every listed verifier, as the initiate response lists them.
    pub fn verifiers(&self) -> &[Value] {
        &self.verifiers
    }

    /// The listed, active verifier `id`.
    pub fn active(&self, id: &str) -> Option<&Value> {
        self.verifiers
            .iter()
            .find(|v| v.get("id").and_then(Value::as_str) == Some(id))
            .filter(|v| is_active(v))
    }

    /// The workflow of an active verifier.
    pub fn workflow(&self, id: &str) -> Option<&Value> {
        self.active(id).and(self.workflows.get(id))
    }

    /// Seconds the verifier says a verification takes (`processDuration`), if it says.
    pub fn process_duration(&self, id: &str) -> Option<u64> {
        self.active(id)
            .and_then(|v| v.get("processDuration"))
            .and_then(Value::as_u64)
            .filter(|seconds| *seconds > 0)
    }

    /// Ids of the active verifiers.
    pub fn active_ids(&self) -> impl Iterator<Item = &str> {
        self.verifiers
            .iter()
            .filter(|v| is_active(v))
            .filter_map(|v| v.get("id").and_then(Value::as_str))
    }
}

fn is_active(verifier: &Value) -> bool {
    verifier.get("active").and_then(Value::as_bool) == Some(true)
}

/// eSignet sanitises verifier ids to `[a-zA-Z0-9+_#-]` before using them in file names.
pub fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'_' | b'#' | b'-'))
}
