//! `make bench`: the figures behind "performance is measured, not asserted". Prints a table and writes
//! `bench-results.json`. Never part of `make test`: timings on a shared 2-core machine are for reading, not gating.
//!
//! - init time of each function binary, exec to first Runtime API `GET /next`, next to a hello-world binary;
//! - the processor on a 100-record batch against a store with 20 ms latency, next to one write and to serial;
//! - the process function's peak RSS on 100-record batches;
//! - zip sizes of the arm64 release builds;
//! - on the local stack: how fast a 10,000-message backlog drains, next to the raw concurrent PutItem ceiling,
//!   with alert rules evaluated and without;
//! - alerts: from a dangerous answer's `202` to its message on the alert topic, and the DynamoDB capacity alert
//!   evaluation adds per submission;
//! - side by side with the Python/Powertools peer (`tests/python-peer`), each measured the same way: init, warm
//!   duration, CPU, memory, package, DynamoDB writes, backlog drain and an audited burst through the API; and what
//!   a million submissions cost on each, from those figures and the dated price table.

mod alerts;
mod costs;
mod harness;
mod machine;
mod meter;
mod side_by_side;
mod stack;
mod timeline;
mod workload;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Parser;
use intake_e2e::{Aws, Error, Stack};
use serde_json::json;

use machine::{
    init_medians, process_peak_rss, processor_figures, processor_with_and_without_rules,
};
use stack::{backlog_drain_rate, put_item_ceiling};

/// The drain with alert rules as a share of the drain without, at ccd88c6 (2026-11-30), when the process function
/// read the previous report before its write: in process against a 20 ms store, and through the emulator.
const BEFORE_TIMELINE_IN_PROCESS: u32 = 63;
const BEFORE_TIMELINE_EMULATOR: u32 = 48;

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
    /// Drains of the backlog with alert rules and without, alternating; the best of each is reported.
    #[arg(long, default_value_t = 2)]
    drain_runs: usize,
    /// Urgent answers sent through the API for the alert delivery time.
    #[arg(long, default_value_t = 200)]
    alerts: usize,
    /// Skip the local-stack figures.
    #[arg(long)]
    no_stack: bool,
    /// Init times only, printed and not written (seconds, no stack): for trying a start-up change.
    #[arg(long)]
    init_only: bool,
    /// The Python/Powertools peer's stack outputs (`infra/local_stack.py up --stack python-peer`); without it, no
    /// side-by-side comparison.
    #[arg(long)]
    peer_outputs: Option<PathBuf>,
    /// The peer's built function folders (`submit/`, `process/`).
    #[arg(long, default_value = ".local/python-peer")]
    peer_build: PathBuf,
    /// A Python with the peer's harness requirements (`awslambdaric`, boto3).
    #[arg(long, default_value = ".local/peer/bin/python")]
    peer_python: PathBuf,
    /// Valid submissions each function of each stack handles on this machine (submit one per invocation, process
    /// ten per batch).
    #[arg(long, default_value_t = 1_000)]
    submissions: usize,
    /// Requests of the audited burst through each stack's API.
    #[arg(long, default_value_t = 3_000)]
    burst_requests: usize,
    #[arg(long, default_value = "bench-results.json")]
    output: PathBuf,
    /// Where the side-by-side figures per submission go for `make capacity`.
    #[arg(long, default_value = "infra/ops/capacity/measured.json")]
    measured_output: PathBuf,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let mut results = BTreeMap::new();
    let mut table: Vec<(String, String, String)> = Vec::new();
    let mut side_tables = Vec::new();

    // ---------------------------------------------------------------- init time
    // Two baselines: the plain hello world (the target's), and the same on the current-thread scheduler our
    // functions run, which shows what our code adds over the runtime once that choice is taken out.
    let binaries = [
        "hello-lambda",
        "hello-lambda-current-thread",
        "submit",
        "process",
    ];
    let paths: Vec<_> = binaries
        .iter()
        .map(|binary| (args.lambda_dir.join(binary).join("bootstrap"), *binary))
        .collect();
    let medians: BTreeMap<&str, f64> = binaries
        .into_iter()
        .zip(init_medians(&paths, args.init_runs).await?)
        .collect();
    let hello = medians["hello-lambda"];
    let one_thread = medians["hello-lambda-current-thread"];
    for binary in ["submit", "process"] {
        let ratio = medians[binary] / hello;
        let ratio_one_thread = medians[binary] / one_thread;
        table.push((
            format!("init {binary} (median of {})", args.init_runs),
            format!(
                "{:.2} ms = {ratio:.2}× hello-world ({hello:.2} ms)",
                medians[binary]
            ),
            "≤ 1.3×".into(),
        ));
        table.push((
            "  against hello-world on one thread".into(),
            format!("{ratio_one_thread:.2}× ({one_thread:.2} ms)"),
            "—".into(),
        ));
        results.insert(
            format!("init_{binary}"),
            json!({ "median_ms": medians[binary], "ratio_to_hello": ratio,
                    "ratio_to_hello_current_thread": ratio_one_thread }),
        );
    }
    results.insert("init_hello_world".into(), json!({ "median_ms": hello }));
    results.insert(
        "init_hello_world_current_thread".into(),
        json!({ "median_ms": one_thread }),
    );
    if args.init_only {
        print_table(&table);
        return Ok(());
    }

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

    let (with_rules, without_rules) = processor_with_and_without_rules(9).await;
    table.push((
        "  the same, alert rules evaluated or not".into(),
        format!(
            "{with_rules:.0} ms with, {without_rules:.0} ms without = {:.0}% of the rate (ccd88c6: {BEFORE_TIMELINE_IN_PROCESS}%)",
            100.0 * without_rules / with_rules
        ),
        "≥ 90%".into(),
    ));
    results.insert(
        "processor_100_records_alert_rules".into(),
        json!({ "with_ms": with_rules, "without_ms": without_rules, "rate_ratio": without_rules / with_rules }),
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
        // With and without alert rules, alternating, best of each: the emulator's workers warm up on the first
        // run, and anything else on the machine slows one run, not the comparison.
        let (mut drain, mut without) = (0f64, 0f64);
        for _ in 0..args.drain_runs {
            let with_rules = workload::bodies(args.backlog, true);
            drain = drain.max(backlog_drain_rate(&aws, &stack, with_rules).await?);
            let no_rules = workload::bodies(args.backlog, false);
            without = without.max(backlog_drain_rate(&aws, &stack, no_rules).await?);
        }
        table.push((
            format!(
                "local drain of a {}-message backlog (best of {})",
                args.backlog, args.drain_runs
            ),
            format!(
                "{drain:.0} msg/s = {:.0}% of raw PutItem ceiling ({ceiling:.0}/s, 16 concurrent)",
                100.0 * drain / ceiling
            ),
            "≥ 90%".into(),
        ));
        table.push((
            "  the same, no alert rules evaluated".into(),
            format!(
                "{without:.0} msg/s: with alerts = {:.0}% of without (ccd88c6: {BEFORE_TIMELINE_EMULATOR}%)",
                100.0 * drain / without
            ),
            "≥ 90%".into(),
        ));
        results.insert(
            "local_throughput".into(),
            json!({ "drain_per_second": drain, "drain_without_alert_rules_per_second": without,
                    "put_item_ceiling_per_second": ceiling, "ratio": drain / ceiling,
                    "ratio_with_to_without_alert_rules": drain / without }),
        );

        let latency = alerts::delivery_latency(&aws, &stack, args.alerts).await?;
        let ms = |q: f64| latency.value_at_quantile(q);
        table.push((
            format!("alert delivery, 202 → topic ({} urgent)", latency.len()),
            format!(
                "p50 {} ms, p99 {} ms, max {} ms",
                ms(0.5),
                ms(0.99),
                latency.max()
            ),
            "p99 ≤ 5 s".into(),
        ));
        results.insert(
            "alert_delivery_ms".into(),
            json!({ "count": latency.len(), "p50": ms(0.5), "p99": ms(0.99), "max": latency.max() }),
        );
        let cost = alerts::alert_cost(&aws, &stack, 2_000).await?;
        table.push((
            "DynamoDB capacity per submission".into(),
            format!(
                "{:.2} WRU + {:.2} WRU for alerts ({:.1}% alert)",
                cost.write_units_without_alerts,
                cost.write_units_for_alerts,
                100.0 * cost.alerting_share,
            ),
            String::new(),
        ));
        table.push((
            "  stream: notify invocations".into(),
            format!(
                "{:.0} per 1,000 submissions (alert inserts only)",
                cost.notify_invocations_per_1000
            ),
            String::new(),
        ));
        results.insert("alert_capacity_per_submission".into(), json!(cost));
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .map_err(|_| "AWS_ENDPOINT_URL names the local AWS (make bench sets it)")?;
        let reads = timeline::read_units(&aws, &stack, &endpoint, &[1, 300]).await?;
        let (short, long) = (&reads[0], &reads[1]);
        table.push((
            "worsening: read units to place a report".into(),
            format!(
                "{:.1} with 1 earlier report, {:.1} with 300 ({} and {} reads): {:+.0}%",
                short.read_units,
                long.read_units,
                short.reads,
                long.reads,
                100.0 * (long.read_units / short.read_units - 1.0)
            ),
            "equal within 10%".into(),
        ));
        table.push((
            "  before the timeline (ccd88c6): the partition".into(),
            format!(
                "{:.1} with 1 earlier report, {:.1} with 300: the process function read them all",
                short.partition_read_units, long.partition_read_units
            ),
            String::new(),
        ));
        results.insert("timeline_reads".into(), json!(reads));
    }

    if let (Some(peer_outputs), false) = (&args.peer_outputs, args.no_stack) {
        let comparison = side_by_side::compare(&args, peer_outputs).await?;
        results.insert("side_by_side".into(), json!(comparison));
        side_tables.push(comparison);
    }

    print_table(&table);
    for comparison in &side_tables {
        comparison.print();
    }
    std::fs::write(&args.output, serde_json::to_string_pretty(&results)? + "\n")?;
    println!("Written to {}", args.output.display());
    Ok(())
}

fn print_table(table: &[(String, String, String)]) {
    println!("\nBenchmarks");
    println!("{}", "─".repeat(110));
    for (what, figure, target) in table {
        println!("  {what:<42} {figure:<55} {target}");
    }
    println!("{}", "─".repeat(110));
}
