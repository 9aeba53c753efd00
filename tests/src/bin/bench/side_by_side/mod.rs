//! The Rust intake and its Python/Powertools peer (`tests/python-peer`), measured the same way in the same run:
//! each function on this machine under a local Runtime API (init, warm duration, CPU, memory, logs, DynamoDB
//! writes), then each deployed stack on the local AWS (backlog drain, a burst through the API, audited).
//!
//! - [`measure`]: one stack, every figure; [`events`]: what its functions are handed; [`burst`]: through its API.

mod burst;
mod events;
mod measure;
mod parity;

use std::path::{Path, PathBuf};

use intake_e2e::{Aws, Error, Stack};
use intake_ops::capacity::Prices;
use serde::Serialize;
use serde_json::Value;

use crate::harness::Runtime;
pub use measure::Figures;
use measure::{Sizes, measure};

/// One of the two stacks: how to run its functions here, and where it is deployed.
pub struct Contender {
    pub name: &'static str,
    pub submit: Runtime,
    pub process: Runtime,
    /// Zipped packages, as deployed (bytes).
    pub package_bytes: [u64; 2],
    pub stack: Stack,
    /// The environment `process` needs besides the table (the idempotency table of the peer).
    pub process_env: Vec<(String, String)>,
}

/// The peer's packages zipped as `sam build` + `sam deploy` would upload them (bytes).
pub fn zipped_size(python: &Path, folder: &Path) -> Result<u64, Error> {
    let out = std::env::temp_dir().join(format!(
        "peer-{}",
        folder.file_name().and_then(|n| n.to_str()).unwrap_or("fn")
    ));
    let status = std::process::Command::new(python)
        .args([
            "-c",
            "import shutil, sys; shutil.make_archive(sys.argv[1], 'zip', sys.argv[2])",
        ])
        .arg(&out)
        .arg(folder)
        .status()?;
    if !status.success() {
        return Err(format!("could not zip {}", folder.display()).into());
    }
    let zip = PathBuf::from(format!("{}.zip", out.display()));
    let size = std::fs::metadata(&zip)?.len();
    std::fs::remove_file(zip)?;
    Ok(size)
}

/// Both stacks' figures, what a million submissions cost on each, and the capacity model's check.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub rust: Figures,
    pub python: Figures,
    pub cost_per_million: crate::costs::Bills,
    pub model_check: [crate::costs::ModelCheck; 2],
    pub contract_parity: parity::Parity,
}

/// Measures the Rust intake, then its peer, on this machine and the local AWS.
pub async fn compare(args: &crate::Args, peer_outputs: &Path) -> Result<Comparison, Error> {
    let aws = Aws::load().await;
    let sizes = Sizes {
        init_runs: args.init_runs,
        submissions: args.submissions,
        backlog: args.backlog,
        burst_requests: args.burst_requests,
    };
    let zip = |function: &str| {
        std::fs::metadata(args.zip_dir.join(function).join("bootstrap.zip")).map(|m| m.len())
    };
    let rust = Contender {
        name: "Rust",
        submit: Runtime::Rust(args.lambda_dir.join("submit").join("bootstrap")),
        process: Runtime::Rust(args.lambda_dir.join("process").join("bootstrap")),
        package_bytes: [zip("submit")?, zip("process")?],
        stack: Stack::load()?,
        process_env: Vec::new(),
    };
    let outputs: Value = serde_json::from_str(&std::fs::read_to_string(peer_outputs)?)?;
    let idempotency_table = outputs["IdempotencyTableName"]
        .as_str()
        .ok_or("the peer's outputs name no IdempotencyTableName")?;
    // Absolute: the handler runs in its code folder, where relative paths would no longer resolve.
    let (interpreter, build) = (
        std::path::absolute(&args.peer_python)?,
        std::path::absolute(&args.peer_build)?,
    );
    let python = |function: &str| Runtime::Python {
        python: interpreter.clone(),
        code: build.join(function),
    };
    let peer = Contender {
        name: "Python",
        submit: python("submit"),
        process: python("process"),
        package_bytes: [
            zipped_size(&args.peer_python, &args.peer_build.join("submit"))?,
            zipped_size(&args.peer_python, &args.peer_build.join("process"))?,
        ],
        stack: Stack::from_file(peer_outputs)?,
        process_env: vec![("IDEMPOTENCY_TABLE_NAME".into(), idempotency_table.into())],
    };
    eprintln!("Side by side: the Rust intake, then the Python/Powertools peer");
    let contract_parity = parity::contract_parity(&rust.stack, &peer.stack).await?;
    let rust = measure(&aws, &rust, &sizes).await?;
    let python = measure(&aws, &peer, &sizes).await?;
    let model_check = [
        crate::costs::model_check(&rust),
        crate::costs::model_check(&python),
    ];
    let mut comparison = Comparison {
        rust,
        python,
        cost_per_million: crate::costs::Bills::default(),
        model_check,
        contract_parity,
    };
    let measured = crate::costs::measured(&comparison);
    comparison.cost_per_million = crate::costs::bills(&measured, &Prices::us_east_1());
    std::fs::write(
        &args.measured_output,
        serde_json::to_string_pretty(&measured)? + "\n",
    )?;
    Ok(comparison)
}

/// A rule, then the heading of a two-stack table's columns.
pub fn print_columns() {
    println!("{}", "─".repeat(110));
    println!(
        "  {:<42} {:>14} {:>14}   Python ÷ Rust",
        "", "Rust", "Python"
    );
}

impl Comparison {
    /// The side-by-side table: each figure for both stacks, and Python's as a multiple of Rust's.
    pub fn print(&self) {
        let (r, p) = (&self.rust, &self.python);
        let rows: Vec<(&str, f64, f64, &str)> = vec![
            (
                "init, submit (median)",
                r.init_submit_ms,
                p.init_submit_ms,
                "ms",
            ),
            (
                "init, process (median)",
                r.init_process_ms,
                p.init_process_ms,
                "ms",
            ),
            (
                "submit warm duration p50",
                r.submit_warm_p50_ms,
                p.submit_warm_p50_ms,
                "ms",
            ),
            (
                "submit warm duration p99",
                r.submit_warm_p99_ms,
                p.submit_warm_p99_ms,
                "ms",
            ),
            (
                "process, batch of 10 (mean)",
                r.process_batch_ms_mean,
                p.process_batch_ms_mean,
                "ms",
            ),
            (
                "CPU per 1,000 submissions, submit",
                r.submit_cpu_ms_per_1000,
                p.submit_cpu_ms_per_1000,
                "ms",
            ),
            (
                "CPU per 1,000 submissions, process",
                r.process_cpu_ms_per_1000,
                p.process_cpu_ms_per_1000,
                "ms",
            ),
            (
                "peak RSS, submit",
                r.submit_peak_rss_mb,
                p.submit_peak_rss_mb,
                "MB",
            ),
            (
                "peak RSS, process",
                r.process_peak_rss_mb,
                p.process_peak_rss_mb,
                "MB",
            ),
            (
                "package (zip), submit",
                r.submit_package_mb,
                p.submit_package_mb,
                "MB",
            ),
            (
                "package (zip), process",
                r.process_package_mb,
                p.process_package_mb,
                "MB",
            ),
            (
                "log output per submission",
                r.log_bytes_per_submission,
                p.log_bytes_per_submission,
                "bytes",
            ),
            (
                "DynamoDB write requests per submission",
                r.write_requests_per_submission,
                p.write_requests_per_submission,
                "",
            ),
            (
                "DynamoDB write units per submission",
                r.write_units_per_submission,
                p.write_units_per_submission,
                "WRU",
            ),
            (
                "local drain, 10,000-message backlog",
                r.drain_per_second,
                p.drain_per_second,
                "msg/s",
            ),
            (
                "burst through the API, throughput",
                r.burst.throughput_per_second,
                p.burst.throughput_per_second,
                "req/s",
            ),
            (
                "burst through the API, p99",
                r.burst.p99_ms,
                p.burst.p99_ms,
                "ms",
            ),
        ];
        println!(
            "\nSide by side: Rust intake vs Python 3 + Powertools, same machine, same emulator, same run"
        );
        crate::side_by_side::print_columns();
        for (what, rust, python, unit) in rows {
            println!(
                "  {what:<42} {:>14} {:>14}   {:.2}×",
                format!("{rust:.2} {unit}"),
                format!("{python:.2} {unit}"),
                python / rust
            );
        }
        println!(
            "  burst audit, Rust:   {} ({:?})",
            r.burst.verdict, r.burst.by_status
        );
        println!(
            "  burst audit, Python: {} ({:?})",
            p.burst.verdict, p.burst.by_status
        );
        println!("{}", "─".repeat(110));
        for (name, burst) in [("Rust", &r.burst), ("Python", &p.burst)] {
            println!(
                "  by-trial index, {name}: busiest of 64 shards holds {:.1} % of the burst's trial; listing it in arrival order: {:.0} ms",
                100.0 * burst.hottest_shard_share,
                burst.listing_ms
            );
        }
        let parity = &self.contract_parity;
        println!(
            "  hostile v1 requests answered with the same status: {} of {}",
            parity.same_status, parity.requests
        );
        for (name, (ours, theirs)) in &parity.differences {
            println!("    {name}: Rust {ours}, Python {theirs}");
        }
        crate::costs::print_bills(&self.cost_per_million, &Prices::us_east_1());
        println!(
            "\nThe capacity plan's queue model against the local stack's own queue during each burst"
        );
        for (name, check) in [
            ("Rust", &self.model_check[0]),
            ("Python", &self.model_check[1]),
        ] {
            println!(
                "  {name:<8} backlog peak {:.0} predicted, {:.0} measured; empty after {:.0} s predicted, {:.0} s measured",
                check.predicted_backlog_peak,
                check.measured_backlog_peak,
                check.predicted_drained_second,
                check.measured_drained_second
            );
        }
    }
}
