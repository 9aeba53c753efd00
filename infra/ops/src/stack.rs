//! Where a deployed stack is: a CloudFormation stack named by the operator (its outputs read with the standard AWS
//! environment), or the local stack, whose outputs `make local-up` writes to a file.

use std::path::PathBuf;

use aws_sdk_cloudformation::error::DisplayErrorContext;
use serde::Deserialize;

use crate::{Aws, Error};

/// Which stack a tool works on.
#[derive(Debug, Clone, clap::Args)]
pub struct StackChoice {
    /// A deployed CloudFormation stack, found with the standard AWS environment (AWS_PROFILE, AWS_REGION,
    /// AWS_ENDPOINT_URL…). Without it: the local stack of `make local-up` (its outputs file, $STACK_OUTPUTS).
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
}

impl StackChoice {
    /// The chosen stack's outputs.
    pub async fn resolve(&self, aws: &Aws) -> Result<Stack, Error> {
        match &self.stack {
            Some(name) => Stack::from_cloudformation(&aws.cloudformation, name).await,
            None => Stack::load(),
        }
    }
}

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
    /// The topic new alerts go to.
    pub alert_topic_arn: Option<String>,
    /// The topic escalations go to.
    pub escalation_topic_arn: Option<String>,
    /// The topic reminders go to when a survey window opens.
    pub reminder_topic_arn: Option<String>,
    /// The topic missed-survey notices go to.
    pub missed_survey_topic_arn: Option<String>,
    /// Where undeliverable alert batches are parked.
    pub alert_delivery_failure_queue_url: Option<String>,
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
        Self::from_file(&path)
    }

    /// Reads an outputs file that `infra/local_stack.py up` wrote.
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read {} ({e}); deploy first with `make local-up`",
                path.display()
            )
        })?;
        Ok(serde_json::from_str(&text)?)
    }

    /// The outputs of the CloudFormation stack `name`, found with the SDK's standard configuration (`AWS_PROFILE`,
    /// `AWS_REGION`, `AWS_ENDPOINT_URL`…).
    pub async fn from_cloudformation(
        cloudformation: &aws_sdk_cloudformation::Client,
        name: &str,
    ) -> Result<Self, Error> {
        let described = cloudformation
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| format!("cannot describe stack {name}: {}", DisplayErrorContext(e)))?;
        let stack = described
            .stacks()
            .first()
            .ok_or_else(|| format!("no stack named {name}"))?;
        let outputs: serde_json::Map<String, serde_json::Value> = stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.into())))
            .collect();
        serde_json::from_value(outputs.into())
            .map_err(|e| format!("stack {name} lacks an output the tools need: {e}").into())
    }

    /// Where apps post submissions.
    pub fn submissions_url(&self) -> String {
        format!("{}/v1/submissions", self.api_url.trim_end_matches('/'))
    }
}
