//! Where a deployed stack is: the outputs `make local-up` writes (or an operator writes by hand for AWS).

use std::path::PathBuf;

use serde::Deserialize;

use crate::Error;

/// The stack outputs the tools need.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stack {
    /// Base URL of the API.
    pub api_url: String,
    /// The submission queue.
    pub queue_url: String,
    /// The submission queue's dead-letter queue.
    pub dead_letter_queue_url: String,
    /// The submission table.
    pub table_name: String,
    /// Where tokens for simulated patients come from: the local OIDC issuer's `/token` (written by `make local-up`).
    /// A stack on AWS trusts the trial's identity provider instead, which has no such endpoint.
    pub token_endpoint: Option<String>,
    /// The submit function's log group.
    pub submit_log_group_name: String,
    /// The process function's log group.
    pub process_log_group_name: String,
    /// The fault proxy's control URL, on a stack deployed by `make faults`.
    pub fault_proxy: Option<String>,
}

impl Stack {
    /// Reads `$STACK_OUTPUTS`, by default `.local/stack-outputs.json` at the repository root.
    pub fn load() -> Result<Self, Error> {
        let path = std::env::var_os("STACK_OUTPUTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../.local/stack-outputs.json"
                ))
            });
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {} ({e}); deploy first with `make local-up`",
                path.display()
            )
        })?;
        Ok(serde_json::from_str(&text)?)
    }

    /// Where apps post submissions.
    pub fn submissions_url(&self) -> String {
        format!("{}/v1/submissions", self.api_url.trim_end_matches('/'))
    }
}
