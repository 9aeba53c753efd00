//! Receive, send, delete: the redrive for an SQS without `StartMessageMoveTask`.

use aws_sdk_sqs::error::SdkError;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, SendMessageBatchRequestEntry};

use super::Redrive;
use super::batches::pack;
use crate::Error;

/// The method's name in reports.
pub const NAME: &str = "receive, send, delete";

/// Moves every message of `from` to `to`, sending before deleting.
pub async fn copy(sqs: &aws_sdk_sqs::Client, from: &str, to: &str) -> Result<Redrive, Error> {
    let mut report = Redrive {
        method: Some(NAME),
        ..Redrive::default()
    };
    loop {
        let received = sqs
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
        messages
            .iter()
            .for_each(|m| report.classify(m.body().unwrap_or_default()));
        let sent = send_all(sqs, to, messages).await?;
        delete(sqs, from, messages, &sent).await?;
        report.moved += sent.len();
        let refused = messages.len() - sent.len();
        report.left += refused;
        if refused > 0 {
            // The refused ones stay in the dead-letter queue; looping would only receive them again.
            return Ok(report);
        }
    }
}

/// Sends `messages` in batches SQS accepts; returns the indices it acknowledged.
async fn send_all(
    sqs: &aws_sdk_sqs::Client,
    to: &str,
    messages: &[Message],
) -> Result<Vec<usize>, Error> {
    let sizes: Vec<usize> = messages
        .iter()
        .map(|m| m.body().unwrap_or_default().len())
        .collect();
    let mut pending = pack(&sizes);
    let mut sent = Vec::new();
    while let Some(batch) = pending.pop() {
        let entries = batch
            .clone()
            .map(|i| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(messages[i].body().unwrap_or_default())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        match sqs
            .send_message_batch()
            .queue_url(to)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(output) => {
                for success in output.successful() {
                    sent.push(success.id().parse()?);
                }
            }
            // SQS counts a batch's size its own way: halve it rather than give up. One message too large alone
            // stays in the dead-letter queue, reported as left.
            Err(error) if too_long(&error) => {
                if batch.len() > 1 {
                    let middle = batch.start + batch.len() / 2;
                    pending.push(batch.start..middle);
                    pending.push(middle..batch.end);
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    sent.sort_unstable();
    Ok(sent)
}

fn too_long<R>(error: &SdkError<SendMessageBatchError, R>) -> bool {
    matches!(
        error.as_service_error(),
        Some(SendMessageBatchError::BatchRequestTooLong(_))
    )
}

/// Deletes the acknowledged messages from the dead-letter queue.
async fn delete(
    sqs: &aws_sdk_sqs::Client,
    from: &str,
    messages: &[Message],
    sent: &[usize],
) -> Result<(), Error> {
    if sent.is_empty() {
        return Ok(());
    }
    let entries = sent
        .iter()
        .map(|&i| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(messages[i].receipt_handle().unwrap_or_default())
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = sqs
        .delete_message_batch()
        .queue_url(from)
        .set_entries(Some(entries))
        .send()
        .await?;
    if let Some(failed) = deleted.failed().first() {
        // Sent but not deleted: it will be redriven again, a duplicate the process function absorbs.
        return Err(format!(
            "{} message(s) were sent but not deleted from the dead-letter queue ({}); run again",
            deleted.failed().len(),
            failed.code
        )
        .into());
    }
    Ok(())
}
