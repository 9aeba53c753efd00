//! Figures from the deployed local stack: what the emulator can take, and how fast the process function drains.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use indicatif::{ProgressBar, ProgressStyle};
use intake::item::SubmissionItem;
use intake_e2e::{Aws, Error, Stack};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::workload::{envelope, progress};

/// Conditional PutItems per second straight from here, `concurrency` at a time: what the emulator can take.
pub async fn put_item_ceiling(
    aws: &Aws,
    stack: &Stack,
    writes: usize,
    concurrency: usize,
) -> Result<f64, Error> {
    let bar = progress(writes, "raw PutItem");
    let mut rng = fastrand::Rng::new(); // fresh ids every run: these are conditional writes
    let trial = intake_e2e::deployed::fresh_trial("BENCH");
    let items: Vec<_> = (0..writes)
        .map(|i| {
            let item = SubmissionItem::new(
                envelope(&mut rng, &trial, i),
                "2026-01-01T00:00:00.000Z".into(),
            );
            serde_dynamo::to_item::<_, HashMap<String, AttributeValue>>(item).expect("maps")
        })
        .collect();
    let permits = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let tasks: Vec<_> = items
        .into_iter()
        .map(|item| {
            let (client, table, permits, bar) = (
                aws.dynamodb.clone(),
                stack.table_name.clone(),
                permits.clone(),
                bar.clone(),
            );
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.expect("never closed");
                let result = client
                    .put_item()
                    .table_name(table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .send()
                    .await;
                bar.inc(1);
                result.map(|_| ())
            })
        })
        .collect();
    for task in tasks {
        task.await?.map_err(|e| format!("PutItem failed: {e}"))?;
    }
    bar.finish_and_clear();
    Ok(writes as f64 / started.elapsed().as_secs_f64())
}

/// Fills the queue with `bodies` as fast as SendMessageBatch allows, then times how fast the deployed process
/// function empties what is left: messages per second from the end of the fill to an empty queue.
pub async fn backlog_drain_rate(
    aws: &Aws,
    stack: &Stack,
    bodies: Vec<String>,
) -> Result<f64, Error> {
    let bar = progress(bodies.len(), "filling queue");
    let permits = Arc::new(Semaphore::new(16));
    let tasks: Vec<_> = bodies
        .chunks(10)
        .map(|chunk| {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                })
                .collect::<Result<_, _>>()
                .expect("id and body are set");
            let (client, url, permits, bar) = (
                aws.sqs.clone(),
                stack.queue_url.clone(),
                permits.clone(),
                bar.clone(),
            );
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.expect("never closed");
                let sent = client
                    .send_message_batch()
                    .queue_url(url)
                    .set_entries(Some(entries))
                    .send()
                    .await;
                bar.inc(10);
                sent.map_err(|e| format!("SendMessageBatch failed: {e}"))
                    .and_then(|out| {
                        if out.failed().is_empty() {
                            Ok(())
                        } else {
                            Err(format!("{} messages refused", out.failed().len()))
                        }
                    })
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    bar.finish_and_clear();
    let backlog = aws.queue_depth(&stack.queue_url).await?;
    let spinner = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template("  draining {spinner} {msg}")?);
    let elapsed = aws
        .wait_until_drained(&stack.queue_url, Duration::from_secs(900), |depth| {
            spinner.set_message(format!("{depth} left of {backlog}"))
        })
        .await?;
    spinner.finish_and_clear();
    // Three empty reads 250 ms apart end the wait: not part of the drain.
    let drain = elapsed.saturating_sub(Duration::from_millis(750));
    Ok(backlog as f64 / drain.as_secs_f64().max(f64::EPSILON))
}
