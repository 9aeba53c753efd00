//! Moving dead letters back to the source queue once their cause is fixed.
//!
//! Each message is sent to the source queue first and deleted from the dead-letter queue only after SQS
//! acknowledged that send, so a crash or error in between leaves a copy in both queues: a duplicate, which the
//! process function absorbs (same id, same content), never a loss. SQS's own `StartMessageMoveTask` does the same
//! on AWS; this works on any SQS, local emulators included.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use intake::envelope::Envelope;
use serde::Serialize;

use crate::{Aws, Error};

/// What a redrive found and did.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Redrive {
    /// Messages found in the dead-letter queue.
    pub found: usize,
    /// Found messages by kind: valid submission envelopes, or why one is not (still poison after a redrive).
    pub by_kind: BTreeMap<String, usize>,
    /// Sent to the source queue and deleted from the dead-letter queue.
    pub moved: usize,
    /// Left in the dead-letter queue because the send was refused; run again.
    pub left: usize,
}

fn kind(body: &str) -> String {
    match Envelope::decode(body) {
        Ok(_) => "submission".to_owned(),
        Err(error) => format!("undecodable: {}", error_kind(&error)),
    }
}

fn error_kind(error: &intake::envelope::EnvelopeError) -> &'static str {
    use intake::envelope::EnvelopeError as E;
    match error {
        E::NotJson(_) => "not JSON",
        E::Shape(_) => "not an envelope",
        E::UnsupportedVersion(_) => "unsupported schema version",
        E::ReceivedAt => "bad receivedAt",
    }
}

/// Counts the dead letters without moving any (`dry_run`), or moves them all from `from` to `to`.
pub async fn redrive(aws: &Aws, from: &str, to: &str, dry_run: bool) -> Result<Redrive, Error> {
    let mut report = Redrive::default();
    if dry_run {
        for body in aws.peek_all(from).await? {
            report.found += 1;
            *report.by_kind.entry(kind(&body)).or_default() += 1;
        }
        return Ok(report);
    }
    loop {
        let received = aws
            .sqs
            .receive_message()
            .queue_url(from)
            .max_number_of_messages(10)
            // Long enough to send and delete; a message not deleted by then reappears, and is not lost.
            .visibility_timeout(60)
            .wait_time_seconds(1)
            .send()
            .await?;
        let messages = received.messages();
        if messages.is_empty() {
            return Ok(report);
        }
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, message)| {
                let body = message.body().unwrap_or_default();
                report.found += 1;
                *report.by_kind.entry(kind(body)).or_default() += 1;
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sent = aws
            .sqs
            .send_message_batch()
            .queue_url(to)
            .set_entries(Some(entries))
            .send()
            .await?;
        report.left += sent.failed().len();
        for success in sent.successful() {
            let index: usize = success.id().parse()?;
            if let Some(handle) = messages[index].receipt_handle() {
                aws.sqs
                    .delete_message()
                    .queue_url(from)
                    .receipt_handle(handle)
                    .send()
                    .await?;
                report.moved += 1;
            }
        }
        if !sent.failed().is_empty() {
            // The refused ones stay in the dead-letter queue; looping would only receive them again.
            return Ok(report);
        }
    }
}
