//! Moving dead letters back to the source queue once their cause is fixed.
//!
//! On AWS, SQS's own `StartMessageMoveTask` moves them ([`move_task`]). Where the service lacks it (local
//! emulators), we receive, send and delete ourselves ([`copy`]): each message is sent to the source queue first
//! and deleted from the dead-letter queue only after SQS acknowledged that send, so a crash in between leaves a
//! copy in both queues, a duplicate the process function absorbs (same id, same content), never a loss.

mod batches;
mod copy;
mod move_task;
mod peek;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use intake::envelope::Envelope;
use serde::Serialize;

pub use peek::peek_all;

use crate::Error;

/// How to move the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// SQS's `StartMessageMoveTask`, or receive, send and delete where the service lacks it.
    Auto,
    /// SQS's `StartMessageMoveTask` only.
    MoveTask,
    /// Receive, send and delete, in batches that fit SQS's limits.
    Copy,
}

/// What to do with the dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Count and classify them; move nothing.
    Count,
    /// Move them all.
    Move(Method),
}

/// What a redrive found and did.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Redrive {
    /// Messages found in the dead-letter queue.
    pub found: usize,
    /// Found messages by kind: valid submission envelopes, or why one is not (still poison after a redrive).
    /// Only a count or the copy method reads the messages; a move task does not.
    pub by_kind: BTreeMap<String, usize>,
    /// Moved to the source queue (and gone from the dead-letter queue).
    pub moved: usize,
    /// Left in the dead-letter queue because the send was refused; run again.
    pub left: usize,
    /// How they were moved, when they were.
    pub method: Option<&'static str>,
}

impl Redrive {
    fn classify(&mut self, body: &str) {
        self.found += 1;
        *self.by_kind.entry(kind(body)).or_default() += 1;
    }
}

fn kind(body: &str) -> String {
    use intake::envelope::EnvelopeError as E;
    match Envelope::decode(body) {
        Ok(_) => "submission".to_owned(),
        Err(error) => format!(
            "undecodable: {}",
            match error {
                E::NotJson(_) => "not JSON",
                E::Shape(_) => "not an envelope",
                E::UnsupportedVersion(_) => "unsupported schema version",
                E::ReceivedAt => "bad receivedAt",
            }
        ),
    }
}

/// Counts and classifies the dead letters in `from`, each once, leaving them in place; `progress` is told how
/// many were read so far.
pub async fn count(
    sqs: &aws_sdk_sqs::Client,
    from: &str,
    progress: impl FnMut(usize),
) -> Result<Redrive, Error> {
    let mut report = Redrive::default();
    for body in peek_all(sqs, from, progress).await? {
        report.classify(&body);
    }
    Ok(report)
}

/// Counts the dead letters in `from` exactly ([`Action::Count`], leaving them in place), or moves them all to `to`.
pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    from: &str,
    to: &str,
    action: Action,
) -> Result<Redrive, Error> {
    match action {
        Action::Count => count(sqs, from, |_| {}).await,
        Action::Move(Method::Copy) => copy::copy(sqs, from, to).await,
        Action::Move(Method::MoveTask) => {
            move_task::move_all(sqs, from, to).await?.ok_or_else(|| {
                "this SQS does not offer StartMessageMoveTask; use --method copy".into()
            })
        }
        Action::Move(Method::Auto) => match move_task::move_all(sqs, from, to).await? {
            Some(report) => Ok(report),
            None => copy::copy(sqs, from, to).await,
        },
    }
}
