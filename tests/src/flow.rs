//! When things happened in a burst, read back from the stack for the report's charts: each submission's
//! `storedAt` and each alert's `raisedAt`, and the queue's depth sampled while the burst ran and drained.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use intake_ops::export::load;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::{Aws, Error, Stack};

/// Seconds from `start` to an RFC 3339 time (negative if before it, NaN if unreadable).
fn seconds_since(start: OffsetDateTime, at: &str) -> f64 {
    OffsetDateTime::parse(at, &Rfc3339).map_or(f64::NAN, |at| (at - start).as_seconds_f64())
}

/// When each of the trial's submissions was stored and each of its alerts raised, in seconds since `start`.
pub async fn stored_and_raised(
    aws: &Aws,
    stack: &Stack,
    trial_id: &str,
    start: OffsetDateTime,
) -> Result<(Vec<f64>, Vec<f64>), Error> {
    let items = load(aws, stack, trial_id, |_| {}, |_, _| {}).await?;
    let stored = items
        .iter()
        .map(|item| seconds_since(start, &item.stored_at))
        .collect();
    let raised = aws
        .trial_alerts(stack, trial_id)
        .await?
        .iter()
        .filter_map(|alert| alert.get("raisedAt")?.as_s().ok().cloned())
        .map(|at| seconds_since(start, &at))
        .collect();
    Ok((stored, raised))
}

/// Samples the submission queue's depth once a second until stopped.
pub struct DepthSampler {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Vec<(f64, u64)>>,
}

impl DepthSampler {
    /// Starts sampling now; times are seconds since `start`.
    pub fn start(aws: &Aws, stack: &Stack, start: Instant) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (aws, url, flag) = (aws.clone(), stack.queue_url.clone(), stop.clone());
        let task = tokio::spawn(async move {
            while !flag.load(Ordering::Relaxed) {
                if let Ok(depth) = aws.queue_depth(&url).await {
                    samples
                        .lock()
                        .await
                        .push((start.elapsed().as_secs_f64(), depth));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            std::mem::take(&mut *samples.lock().await)
        });
        DepthSampler { stop, task }
    }

    /// Stops and returns the samples.
    pub async fn finish(self) -> Vec<(f64, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}
