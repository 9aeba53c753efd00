//! `make bench`: the figures behind "performance is measured, not asserted". Prints a table and writes
//! `bench-results.json`. Never part of `make test`: timings on a shared 2-core machine are for reading, not gating.
//!
//! - init time of each function binary, exec to first Runtime API `GET /next`, next to a hello-world binary;
//! - the processor on a 100-record batch against a store with 20 ms latency, next to one write and to serial;
//! - the process function's peak RSS on 100-record batches;
//! - zip sizes of the arm64 release builds;
//! - on the local stack: how fast a 10,000-message backlog drains, next to the raw concurrent PutItem ceiling.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use intake::envelope::Envelope;
use intake::instrument::Catalogue;
use intake::item::{ConflictItem, SubmissionItem, SubmissionWrite};
use intake::ports::{Store, StoreError, WriteOutcome};
use intake::process::Processor;
use intake::submit::accept;
use intake::testing::memory::MemoryStore;
use intake_e2e::stubs::{RuntimeApi, accept_all, lambda_environment};
use intake_e2e::{Aws, Error, Stack, Survey};
use serde_json::json;
use time::OffsetDateTime;
use tokio::process::Command;
use tokio::sync::Semaphore;
use tokio::time::Instant;

#[derive(Debug, Parser)]
struct Args {
    /// Runs per binary for the init-time median.
    #[arg(long, default_value_t = 21)]
    init_runs: usize,
    /// Host release builds (`cargo lambda build --release`).
    #[arg(long, default_value = "target/lambda")]
    lambda_dir: PathBuf,
    /// arm64 release zips (`cargo lambda build --release --arm64 --output-format zip --lambda-dir …`).
    #[arg(long, default_value = "target/lambda-arm64")]
    zip_dir: PathBuf,
    /// Messages in the local-stack backlog.
    #[arg(long, default_value_t = 10_000)]
    backlog: usize,
    /// Skip the local-stack throughput figures.
    #[arg(long)]
    no_stack: bool,
    #[arg(long, default_value = "bench-results.json")]
    output: PathBuf,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let mut results = BTreeMap::new();
    let mut table: Vec<(String, String, String)> = Vec::new();

    // ---------------------------------------------------------------- init time
    let mut medians = BTreeMap::new();
    for binary in ["hello-lambda", "submit", "process"] {
        let median = init_median(
            &args.lambda_dir.join(binary).join("bootstrap"),
            binary,
            args.init_runs,
        )
        .await?;
        medians.insert(binary, median);
    }
    let hello = medians["hello-lambda"];
    for binary in ["submit", "process"] {
        let ratio = medians[binary] / hello;
        table.push((
            format!("init {binary} (median of {})", args.init_runs),
            format!(
                "{:.2} ms = {ratio:.2}× hello-world ({hello:.2} ms)",
                medians[binary]
            ),
            "≤ 1.3×".into(),
        ));
        results.insert(
            format!("init_{binary}"),
            json!({ "median_ms": medians[binary], "ratio_to_hello": ratio }),
        );
    }
    results.insert("init_hello_world".into(), json!({ "median_ms": hello }));

    // ---------------------------------------------------------------- processor concurrency
    let (one, batch, serial) = processor_figures().await;
    let ratio = batch / one;
    table.push((
        "100-record batch, 20 ms store".into(),
        format!("{batch:.0} ms = {ratio:.1}× one write ({one:.0} ms); serial {serial:.0} ms"),
        "≤ 3×".into(),
    ));
    results.insert(
        "processor_100_records_20ms".into(),
        json!({ "one_write_ms": one, "batch_ms": batch, "serial_ms": serial, "ratio_to_one_write": ratio,
                "concurrency": intake::process::DEFAULT_MAX_CONCURRENCY }),
    );

    // ---------------------------------------------------------------- peak RSS
    let rss_kib = process_peak_rss(&args.lambda_dir.join("process").join("bootstrap"), 20).await?;
    table.push((
        "process peak RSS, 20 × 100 records".into(),
        format!("{:.1} MB", rss_kib as f64 / 1024.0),
        "≤ 40 MB".into(),
    ));
    results.insert("process_peak_rss_mb".into(), json!(rss_kib as f64 / 1024.0));

    // ---------------------------------------------------------------- zip sizes
    for binary in ["submit", "process"] {
        let zip = args.zip_dir.join(binary).join("bootstrap.zip");
        match std::fs::metadata(&zip) {
            Ok(meta) => {
                let mb = meta.len() as f64 / 1e6;
                table.push((
                    format!("{binary} zip (arm64)"),
                    format!("{mb:.2} MB"),
                    "≤ 6 MB".into(),
                ));
                results.insert(format!("zip_{binary}_arm64_mb"), json!(mb));
            }
            Err(_) => table.push((
                format!("{binary} zip (arm64)"),
                format!("not built ({})", zip.display()),
                String::new(),
            )),
        }
    }

    // ---------------------------------------------------------------- local stack throughput
    if !args.no_stack {
        let stack = Stack::load()?;
        let aws = Aws::load().await;
        let ceiling = put_item_ceiling(&aws, &stack, 3_000, 16).await?;
        let drain = backlog_drain_rate(&aws, &stack, args.backlog).await?;
        table.push((
            format!("local drain of a {}-message backlog", args.backlog),
            format!(
                "{drain:.0} msg/s = {:.0}% of raw PutItem ceiling ({ceiling:.0}/s, 16 concurrent)",
                100.0 * drain / ceiling
            ),
            "≥ 90%".into(),
        ));
        results.insert(
            "local_throughput".into(),
            json!({ "drain_per_second": drain, "put_item_ceiling_per_second": ceiling, "ratio": drain / ceiling }),
        );
    }

    println!("\nBenchmarks");
    println!("{}", "─".repeat(110));
    for (what, figure, target) in &table {
        println!("  {what:<42} {figure:<55} {target}");
    }
    println!("{}", "─".repeat(110));
    std::fs::write(&args.output, serde_json::to_string_pretty(&results)? + "\n")?;
    println!("Written to {}", args.output.display());
    Ok(())
}

/// Median milliseconds from exec to the first `GET /next`, over `runs` fresh processes.
async fn init_median(binary: &std::path::Path, name: &str, runs: usize) -> Result<f64, Error> {
    if !binary.exists() {
        return Err(format!(
            "{} is missing: run `make bench`, which builds it",
            binary.display()
        )
        .into());
    }
    let bar = progress(runs, &format!("init {name}"));
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let api = RuntimeApi::start(Vec::new()).await?;
        let started = Instant::now();
        let mut child = Command::new(binary)
            .envs(lambda_environment(api.address, name))
            .env("QUEUE_URL", "http://127.0.0.1:9/queue")
            .env("TABLE_NAME", "bench")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let first = api
            .first_next(Duration::from_secs(10))
            .await
            .ok_or("no GET /next within 10 s")?;
        samples.push((first - started).as_secs_f64() * 1000.0);
        child.kill().await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

/// A store that takes 20 ms per call, as a remote table does.
#[derive(Clone, Default)]
struct SlowStore(MemoryStore);

impl Store for SlowStore {
    async fn write_submission(&self, write: &SubmissionWrite) -> Result<WriteOutcome, StoreError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.write_submission(write).await
    }
    async fn previous_submission(
        &self,
        item: &intake::item::SubmissionItem,
    ) -> Result<Option<intake::alert::Prior>, StoreError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.previous_submission(item).await
    }
    async fn record_conflict(&self, conflict: &ConflictItem) -> Result<(), StoreError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.record_conflict(conflict).await
    }
}

fn sqs_records(count: usize) -> Vec<aws_lambda_events::event::sqs::SqsMessage> {
    let mut rng = fastrand::Rng::with_seed(1);
    (0..count)
        .map(|i| {
            let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
            record.message_id = Some(format!("m{i}"));
            record.body = Some(envelope(&mut rng, i).encode());
            record
        })
        .collect()
}

fn envelope(rng: &mut fastrand::Rng, i: usize) -> Envelope {
    let survey = Survey::generate("BENCH", &format!("P-{i:06}"), "day-7", rng);
    let now = OffsetDateTime::now_utc();
    let (_, _, body) = survey.request();
    let judged = accept(
        survey.form,
        body.as_bytes(),
        Catalogue::embedded().expect("catalogue"),
    )
    .expect("generated surveys are valid");
    Envelope::new(judged, survey.form.name(), format!("bench-{i}"), now)
}

/// Milliseconds for one write, a 100-record batch at the default bound, and the same batch one at a time.
async fn processor_figures() -> (f64, f64, f64) {
    let time = |concurrency: usize, records: usize| async move {
        let processor = Processor::new(SlowStore::default(), concurrency);
        let batch = sqs_records(records);
        let started = Instant::now();
        let report = processor.process(batch).await;
        assert_eq!(report.stored, records);
        started.elapsed().as_secs_f64() * 1000.0
    };
    let one = time(1, 1).await;
    let batch = time(intake::process::DEFAULT_MAX_CONCURRENCY, 100).await;
    let serial = time(1, 100).await;
    (one, batch, serial)
}

/// Peak resident set (KiB) of the process function after `batches` invocations of 100 records each.
async fn process_peak_rss(binary: &std::path::Path, batches: usize) -> Result<u64, Error> {
    let dynamodb = accept_all().await?;
    let events: Vec<String> = (0..batches)
        .map(|_| json!({ "Records": sqs_records(100) }).to_string())
        .collect();
    let api = RuntimeApi::start(events).await?;
    let mut child = Command::new(binary)
        .envs(lambda_environment(api.address, "process"))
        .env("TABLE_NAME", "bench")
        .env("AWS_ENDPOINT_URL", format!("http://{dynamodb}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let errors = api
        .wait_for_responses(batches, Duration::from_secs(60))
        .await
        .ok_or("batches not answered in 60 s")?;
    if errors > 0 {
        return Err(format!("{errors} invocations failed").into());
    }
    let pid = child.id().ok_or("process exited early")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    child.kill().await?;
    let peak = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or("no VmHWM in /proc/<pid>/status")?;
    Ok(peak)
}

/// Conditional PutItems per second straight from here, `concurrency` at a time: what the emulator can take.
async fn put_item_ceiling(
    aws: &Aws,
    stack: &Stack,
    writes: usize,
    concurrency: usize,
) -> Result<f64, Error> {
    let bar = progress(writes, "raw PutItem");
    let mut rng = fastrand::Rng::new(); // fresh ids every run: these are conditional writes
    let items: Vec<_> = (0..writes)
        .map(|i| {
            let item =
                SubmissionItem::new(envelope(&mut rng, i), "2026-01-01T00:00:00.000Z".into());
            serde_dynamo::to_item::<_, std::collections::HashMap<String, AttributeValue>>(item)
                .expect("maps")
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

/// Fills the queue with `count` envelopes as fast as SendMessageBatch allows, then times how fast the deployed
/// process function empties what is left: messages per second from the end of the fill to an empty queue.
async fn backlog_drain_rate(aws: &Aws, stack: &Stack, count: usize) -> Result<f64, Error> {
    let bar = progress(count, "filling queue");
    let mut rng = fastrand::Rng::new(); // fresh ids, so every message is a real store, not a duplicate
    let bodies: Vec<String> = (0..count).map(|i| envelope(&mut rng, i).encode()).collect();
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

fn progress(len: usize, what: &str) -> ProgressBar {
    ProgressBar::new(len as u64).with_style(
        ProgressStyle::with_template(&format!("  {what:<14} [{{bar:30}}] {{pos}}/{{len}}"))
            .expect("valid template")
            .progress_chars("=> "),
    )
}
