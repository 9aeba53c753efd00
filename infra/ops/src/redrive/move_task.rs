//! SQS's `StartMessageMoveTask`: the service moves the messages itself, at its own optimised rate.

use std::time::Duration;

use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::QueueAttributeName;

use super::Redrive;
use crate::Error;

/// The method's name in reports.
pub const NAME: &str = "StartMessageMoveTask";

/// How often the task's progress is read.
const POLL: Duration = Duration::from_secs(2);

/// Error codes meaning "this SQS has no such operation" (emulators), as opposed to a refusal.
fn unsupported(code: Option<&str>) -> bool {
    code.is_some_and(|c| {
        ["InvalidAction", "UnsupportedOperation", "UnknownOperation"]
            .iter()
            .any(|unsupported| c.contains(unsupported))
    })
}

async fn arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, Error> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await?;
    attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| format!("{url} has no QueueArn").into())
}

/// Moves every message of `from` to `to` with a move task and waits for it to finish; `None` where the service
/// does not offer move tasks.
pub async fn move_all(
    sqs: &aws_sdk_sqs::Client,
    from: &str,
    to: &str,
) -> Result<Option<Redrive>, Error> {
    let (source, destination) = (arn(sqs, from).await?, arn(sqs, to).await?);
    let started = sqs
        .start_message_move_task()
        .source_arn(&source)
        .destination_arn(&destination)
        .send()
        .await;
    if let Err(error) = &started
        && unsupported(error.code())
    {
        return Ok(None);
    }
    started?;
    loop {
        let tasks = sqs
            .list_message_move_tasks()
            .source_arn(&source)
            .max_results(10)
            .send()
            .await?;
        // The most recent task first; a finished task no longer shows its handle.
        let task = tasks
            .results()
            .first()
            .ok_or("the move task disappeared from ListMessageMoveTasks")?;
        let moved = task.approximate_number_of_messages_moved() as usize;
        match task.status() {
            Some("RUNNING") | Some("CANCELLING") | None => tokio::time::sleep(POLL).await,
            Some("COMPLETED") => {
                return Ok(Some(Redrive {
                    found: task
                        .approximate_number_of_messages_to_move()
                        .map_or(moved, |n| n as usize),
                    moved,
                    method: Some(NAME),
                    ..Redrive::default()
                }));
            }
            Some(status) => {
                return Err(format!(
                    "the move task ended {status} after moving {moved}: {}",
                    task.failure_reason().unwrap_or("no reason given")
                )
                .into());
            }
        }
    }
}
