//! An audited burst through a stack's API, with its queue's depth sampled each second.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use intake_e2e::audit::audit;
use intake_e2e::load::{LoadStats, Plan, Tokens, run as send_burst};
use intake_e2e::{Aws, Error, Stack, http_client};
use serde::Serialize;

use crate::workload::progress;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BurstFigures {
    pub requests: usize,
    pub window_seconds: f64,
    /// Requests answered `202` (messages on the queue), by the second they were answered in.
    pub queued_per_second: Vec<f64>,
    /// The queue's depth, sampled each second: its peak, when, and when it was empty again.
    pub backlog_peak: f64,
    pub backlog_peak_second: f64,
    pub drained_second: f64,
    pub throughput_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub by_status: BTreeMap<String, usize>,
    pub verdict: String,
    pub passed: bool,
    /// Listing the trial in arrival order through the sharded by-trial index, ms.
    pub listing_ms: f64,
    /// The share of the trial's submissions its busiest index shard holds (1/64 = 1.6 % would be perfectly even).
    pub hottest_shard_share: f64,
}

/// A burst through the stack's API (the v1 JSON form only: the peer has no FHIR route), then an audit.
pub(super) async fn burst(
    aws: &Aws,
    stack: &Stack,
    requests: usize,
    name: &str,
) -> Result<BurstFigures, Error> {
    let plan = Plan {
        trial_id: format!(
            "BENCH-{}-{}",
            name.to_ascii_uppercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), ""),
            time::OffsetDateTime::now_utc().unix_timestamp()
        ),
        timepoint: "day-7".into(),
        patients: requests / 5,
        requests,
        resend_share: 0.05,
        repeat_share: 0.0,
        collision_share: 0.0,
        edit_share: 0.0,
        offline_share: 0.0,
        invalid_share: 0.01,
        fhir_share: 0.0,
        offset_resend_share: 0.0,
        window: Duration::from_secs(10),
        concurrency: 16,
        timeout: Duration::from_secs(10),
        retries: 3,
        seed: 2026,
    };
    let http = http_client();
    let schedule = plan.schedule();
    let tokens = Arc::new(Tokens::mint(&http, stack, &schedule, plan.concurrency).await?);
    let bar = progress(requests, &format!("{name} burst"));
    let started = tokio::time::Instant::now();
    let sampler = intake_e2e::flow::DepthSampler::start(aws, stack, started);
    let outcomes = send_burst(&http, stack, &plan, tokens, schedule, {
        let bar = bar.clone();
        move |_| bar.inc(1)
    })
    .await;
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    aws.wait_until_drained(&stack.queue_url, Duration::from_secs(600), |_| {})
        .await?;
    let depths = sampler.finish().await;
    let (backlog_peak_second, backlog_peak) = depths
        .iter()
        .copied()
        .max_by_key(|(_, depth)| *depth)
        .unwrap_or_default();
    // Empty again: the first sample after the peak that finds the queue empty.
    let drained_second = depths
        .iter()
        .find(|(at, depth)| *at > backlog_peak_second && *depth == 0)
        .map_or(elapsed.as_secs_f64(), |(at, _)| *at);
    let stats = LoadStats::new(&outcomes, elapsed);
    let audit = audit(aws, stack, &plan.trial_id, &outcomes).await?;
    let (listing_ms, hottest_shard_share) = listing(aws, stack, &plan.trial_id).await?;
    Ok(BurstFigures {
        listing_ms,
        hottest_shard_share,
        requests,
        window_seconds: plan.window.as_secs_f64(),
        queued_per_second: outcomes.iter().filter(|o| o.accepted()).fold(
            Vec::new(),
            |mut seconds, o| {
                let second = o.answered_at.as_secs() as usize;
                if seconds.len() <= second {
                    seconds.resize(second + 1, 0.0);
                }
                seconds[second] += 1.0;
                seconds
            },
        ),
        backlog_peak: backlog_peak as f64,
        backlog_peak_second,
        drained_second,
        throughput_per_second: stats.throughput_per_second,
        p50_ms: stats.latency_ms.p50,
        p99_ms: stats.latency_ms.p99,
        by_status: stats.by_status,
        verdict: audit.verdict(),
        passed: audit.passed(),
    })
}

/// How long listing `trial` in arrival order takes (all its index shards, merged), and how evenly its submissions
/// spread over the shards.
async fn listing(aws: &Aws, stack: &Stack, trial: &str) -> Result<(f64, f64), Error> {
    let started = tokio::time::Instant::now();
    let keys = aws.trial_submission_keys(stack, trial).await?;
    let listing_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut by_shard: BTreeMap<String, usize> = BTreeMap::new();
    for (pk, sk) in &keys {
        if let Some(id) = intake::item::submission_id_of_key(pk, sk) {
            *by_shard
                .entry(intake::item::trial_shard(trial, &id))
                .or_default() += 1;
        }
    }
    let hottest = by_shard.values().copied().max().unwrap_or_default();
    Ok((listing_ms, hottest as f64 / keys.len().max(1) as f64))
}
