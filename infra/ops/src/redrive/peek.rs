//! Reading every message of a queue without consuming it, counted exactly however large the queue.
//!
//! A receive hides a message for its visibility timeout; once that lapses the message comes back and a naive count
//! sees it twice, or never ends. So every message received is held hidden until the whole queue has been read:
//! its visibility is extended while the count goes on, each is counted once by its message id (SQS may deliver a
//! message twice), and at the end all are made visible again at once, as they were.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry;

use crate::Error;

/// How long a received message stays hidden: long enough that extending a large queue's worth of messages (ten
/// to a call) finishes well before it lapses; extended every third of it.
const HIDDEN_FOR: Duration = Duration::from_secs(900);
/// Empty long-poll receives in a row that mean nothing visible is left.
const EMPTY_RECEIVES_TO_END: usize = 2;

/// A message read and held hidden.
struct Held {
    body: String,
    receipt_handle: String,
}

/// Every message's body in `queue_url`, each once, leaving the queue as it was. `progress` is told the count so far.
pub async fn peek_all(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    mut progress: impl FnMut(usize),
) -> Result<Vec<String>, Error> {
    let mut held: HashMap<String, Held> = HashMap::new();
    let mut extended_at = Instant::now();
    let mut empty = 0;
    let read = async {
        while empty < EMPTY_RECEIVES_TO_END {
            if extended_at.elapsed() > HIDDEN_FOR / 3 {
                set_visibility(sqs, queue_url, held.values(), HIDDEN_FOR).await?;
                extended_at = Instant::now();
            }
            let received = sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(HIDDEN_FOR.as_secs() as i32)
                .wait_time_seconds(1)
                .send()
                .await?;
            empty = if received.messages().is_empty() {
                empty + 1
            } else {
                0
            };
            for message in received.messages() {
                let (Some(id), Some(handle)) = (message.message_id(), message.receipt_handle())
                else {
                    continue;
                };
                // A second delivery of a message already held: the newer handle is the one that works.
                held.insert(
                    id.to_owned(),
                    Held {
                        body: message.body().unwrap_or_default().to_owned(),
                        receipt_handle: handle.to_owned(),
                    },
                );
            }
            progress(held.len());
        }
        Ok::<_, Error>(())
    }
    .await;
    // Whatever happened, what was hidden becomes visible again.
    let released = set_visibility(sqs, queue_url, held.values(), Duration::ZERO).await;
    read?;
    released?;
    Ok(held.into_values().map(|held| held.body).collect())
}

/// Sets the visibility of every held message, ten to a call.
async fn set_visibility<'a>(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    held: impl Iterator<Item = &'a Held>,
    visibility: Duration,
) -> Result<(), Error> {
    let held: Vec<&Held> = held.collect();
    let (mut unchanged, mut cause) = (0, None);
    for batch in held.chunks(10) {
        let entries = batch
            .iter()
            .enumerate()
            .map(|(i, held)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&held.receipt_handle)
                    .visibility_timeout(visibility.as_secs() as i32)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Every batch is tried, even after one failed: a release must free all it can.
        match sqs
            .change_message_visibility_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(changed) => unchanged += changed.failed().len(),
            Err(error) => {
                unchanged += batch.len();
                cause = Some(error.to_string());
            }
        }
    }
    if unchanged > 0 {
        return Err(format!(
            "{unchanged} message(s) kept their visibility ({}): they reappear within {} s",
            cause.unwrap_or_else(|| "refused".into()),
            HIDDEN_FOR.as_secs()
        )
        .into());
    }
    Ok(())
}
