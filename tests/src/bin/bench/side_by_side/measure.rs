//! One stack measured: its functions on this machine under a local Runtime API, then the deployed stack.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use intake_e2e::stubs::RecordingProxy;
use intake_e2e::{Aws, Error};
use serde::Serialize;
use serde_json::Value;

use super::Contender;
use super::burst::{BurstFigures, burst};
use super::events::{BATCH, api_events, sqs_events};
use crate::harness;
use crate::meter::{self, IndexKeys, Writes};
use crate::stack::backlog_drain_rate;
use crate::workload::{bodies, progress};

/// What `measure` found for one contender.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub init_submit_ms: f64,
    pub init_process_ms: f64,
    pub submit_warm_p50_ms: f64,
    pub submit_warm_p99_ms: f64,
    pub submit_billed_ms_mean: f64,
    pub process_batch_ms_mean: f64,
    pub process_batch_size: usize,
    pub submit_cpu_ms_per_1000: f64,
    pub process_cpu_ms_per_1000: f64,
    pub submit_peak_rss_mb: f64,
    pub process_peak_rss_mb: f64,
    pub submit_package_mb: f64,
    pub process_package_mb: f64,
    pub log_bytes_per_submission: f64,
    pub message_bytes_mean: f64,
    pub dynamodb: Writes,
    pub write_requests_per_submission: f64,
    pub write_units_per_submission: f64,
    pub read_units_per_submission: f64,
    pub drain_per_second: f64,
    pub burst: BurstFigures,
}

/// How much each measurement takes.
pub struct Sizes {
    pub init_runs: usize,
    pub submissions: usize,
    pub backlog: usize,
    pub burst_requests: usize,
}

pub async fn measure(aws: &Aws, contender: &Contender, sizes: &Sizes) -> Result<Figures, Error> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| "AWS_ENDPOINT_URL must name the local AWS")?;
    let credentials: Vec<(String, String)> = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), std::env::var(name).ok()?)))
        .collect();
    let name = contender.name;

    // ------------------------------------------------------------ init
    let sink = aws
        .sqs
        .create_queue()
        .queue_name(format!(
            "bench-sink-{}",
            name.to_ascii_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        ))
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::MaximumMessageSize,
            "1048576",
        )
        .send()
        .await?
        .queue_url
        .ok_or("CreateQueue returned no URL")?;
    let mut submit_env = credentials.clone();
    submit_env.extend([
        ("AWS_ENDPOINT_URL".to_owned(), endpoint.clone()),
        ("QUEUE_URL".to_owned(), sink.clone()),
        ("POWERTOOLS_SERVICE_NAME".to_owned(), "submit".to_owned()),
    ]);
    let proxy = RecordingProxy::start(&endpoint).await?;
    let mut process_env = credentials.clone();
    process_env.extend([
        (
            "AWS_ENDPOINT_URL".to_owned(),
            format!("http://{}", proxy.address),
        ),
        ("TABLE_NAME".to_owned(), contender.stack.table_name.clone()),
        ("POWERTOOLS_SERVICE_NAME".to_owned(), "process".to_owned()),
    ]);
    process_env.extend(contender.process_env.iter().cloned());

    let runs = sizes.init_runs;
    let [init_submit, init_process] = harness::init_medians(
        &[
            harness::Starting {
                runtime: &contender.submit,
                function: "submit",
                env: &submit_env,
            },
            harness::Starting {
                runtime: &contender.process,
                function: "process",
                env: &process_env,
            },
        ],
        runs,
        &format!("{name} init"),
    )
    .await?[..] else {
        unreachable!("one median per function")
    };

    // ------------------------------------------------------------ submit, warm
    let bar = progress(1, &format!("{name} submit"));
    let submit = harness::run(
        &contender.submit,
        "submit",
        &submit_env,
        api_events(sizes.submissions),
    )
    .await?;
    bar.finish_and_clear();
    let refused = submit
        .answers
        .iter()
        .filter(|answer| {
            serde_json::from_slice::<Value>(answer).map_or(true, |a| a["statusCode"] != 202)
        })
        .count();
    if refused > 0 {
        return Err(format!(
            "{name} submit refused {refused} of {} valid surveys",
            sizes.submissions
        )
        .into());
    }
    aws.sqs.delete_queue().queue_url(&sink).send().await?;
    // The first invocations open connections and fill caches: warm means after them.
    let warm = &submit.durations[submit.durations.len().min(10)..];
    let submit_hist = histogram(warm);

    // ------------------------------------------------------------ process, warm
    let indexes = table_indexes(aws, &contender.stack.table_name).await?;
    proxy.take();
    let (events, message_bytes) = sqs_events(sizes.submissions);
    let process = harness::run(&contender.process, "process", &process_env, events).await?;
    let failed = process
        .answers
        .iter()
        .filter(|answer| {
            serde_json::from_slice::<Value>(answer).map_or(true, |a| {
                a["batchItemFailures"]
                    .as_array()
                    .is_none_or(|f| !f.is_empty())
            })
        })
        .count();
    if failed > 0 {
        return Err(format!("{name} process failed {failed} batches").into());
    }
    let dynamodb = meter::writes(&proxy.take(), &indexes);

    // ------------------------------------------------------------ on the local stack
    let drain = backlog_drain_rate(aws, &contender.stack, bodies(sizes.backlog, true)).await?;
    let burst = burst(aws, &contender.stack, sizes.burst_requests, name).await?;

    let n = sizes.submissions as f64;
    let per_1000 = |cpu: Duration| cpu.as_secs_f64() * 1000.0 * 1000.0 / n;
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let mean = |ds: &[Duration], f: &dyn Fn(&Duration) -> f64| {
        ds.iter().map(f).sum::<f64>() / ds.len().max(1) as f64
    };
    Ok(Figures {
        init_submit_ms: init_submit,
        init_process_ms: init_process,
        submit_warm_p50_ms: submit_hist.value_at_quantile(0.5) as f64 / 1000.0,
        submit_warm_p99_ms: submit_hist.value_at_quantile(0.99) as f64 / 1000.0,
        // Lambda bills each invocation rounded up to the millisecond.
        submit_billed_ms_mean: mean(&submit.durations, &|d| ms(d).ceil()),
        process_batch_ms_mean: mean(&process.durations, &|d| ms(d).ceil()),
        process_batch_size: BATCH,
        submit_cpu_ms_per_1000: per_1000(submit.cpu),
        process_cpu_ms_per_1000: per_1000(process.cpu),
        submit_peak_rss_mb: submit.peak_rss_kib as f64 / 1024.0,
        process_peak_rss_mb: process.peak_rss_kib as f64 / 1024.0,
        submit_package_mb: contender.package_bytes[0] as f64 / 1e6,
        process_package_mb: contender.package_bytes[1] as f64 / 1e6,
        log_bytes_per_submission: (submit.log_bytes + process.log_bytes) as f64 / n,
        message_bytes_mean: message_bytes,
        write_requests_per_submission: dynamodb.requests as f64 / n,
        write_units_per_submission: dynamodb.write_units / n,
        read_units_per_submission: dynamodb.read_units / n,
        dynamodb,
        drain_per_second: drain,
        burst,
    })
}

fn histogram(durations: &[Duration]) -> Histogram<u64> {
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
    for duration in durations {
        histogram.saturating_record(duration.as_micros() as u64);
    }
    histogram
}

/// The global secondary indexes of `table`, for the write meter.
async fn table_indexes(aws: &Aws, table: &str) -> Result<BTreeMap<String, Vec<IndexKeys>>, Error> {
    Ok(BTreeMap::from([(
        table.to_owned(),
        IndexKeys::of_table(aws, table).await?,
    )]))
}
