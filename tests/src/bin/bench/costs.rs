//! From the side-by-side figures to what AWS would bill a million submissions on each stack, to the figures the
//! capacity plan runs on (`infra/ops/capacity/measured.json`), and the check of the plan's queue model against the
//! local stack's own queue during the burst.

use intake_ops::capacity::cost::{per_million, total};
use intake_ops::capacity::plan::{EventSourceMode, Setup, Workload, simulate_arrivals};
use intake_ops::capacity::{LineItem, Measured, PerSubmission, Prices, StackFigures};
use serde::Serialize;

use crate::side_by_side::{Comparison, Figures};

/// Both templates give each function 256 MB (their `Globals`).
const MEMORY_MB: f64 = 256.0;
/// The intake traces every function with X-Ray; under the default sampling rule (one a second, then 5 %) a burst
/// records about one request in twenty. The peer, as Powertools' examples deploy it, does not trace.
const RUST_TRACED_SHARE: f64 = 0.05;

fn stack_figures(figures: &Figures, traced_share: f64) -> StackFigures {
    StackFigures {
        per_submission: PerSubmission {
            submit_billed_ms: figures.submit_billed_ms_mean,
            submit_memory_mb: MEMORY_MB,
            process_billed_ms_per_record: figures.process_batch_ms_mean
                / figures.process_batch_size as f64,
            process_memory_mb: MEMORY_MB,
            batch_size: figures.process_batch_size as f64,
            write_units: figures.write_units_per_submission,
            read_units: figures.read_units_per_submission,
            log_bytes: figures.log_bytes_per_submission,
            message_bytes: figures.message_bytes_mean,
            traced_share,
        },
        submit_warm_p99_ms: figures.submit_warm_p99_ms,
    }
}

/// The figures `make capacity` plans with, dated.
pub fn measured(comparison: &Comparison) -> Measured {
    let today = time::OffsetDateTime::now_utc().date();
    Measured {
        measured_on: today.to_string(),
        machine: machine(),
        rust: stack_figures(&comparison.rust, RUST_TRACED_SHARE),
        python: stack_figures(&comparison.python, 0.0),
    }
}

/// `<cores> cores, <CPU model>`, from /proc/cpuinfo.
fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cores = info.lines().filter(|l| l.starts_with("processor")).count();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    format!("{cores} cores, {model}")
}

/// A million submissions on each stack, line by line.
#[derive(Debug, Default, Serialize)]
pub struct Bills {
    pub prices_entered: String,
    pub rust: Vec<LineItem>,
    pub python: Vec<LineItem>,
}

pub fn bills(measured: &Measured, prices: &Prices) -> Bills {
    Bills {
        prices_entered: prices.entered.clone(),
        rust: per_million(&measured.rust.per_submission, prices),
        python: per_million(&measured.python.per_submission, prices),
    }
}

pub fn print_bills(bills: &Bills, prices: &Prices) {
    println!(
        "\nCost of 1,000,000 submissions on AWS ({}, list prices entered {}: infra/ops/prices/{}.json)",
        prices.region, prices.entered, prices.region
    );
    crate::side_by_side::print_columns();
    for (rust, python) in bills.rust.iter().zip(&bills.python) {
        let ratio = if rust.usd > 0.0 {
            format!("{:.2}×", python.usd / rust.usd)
        } else {
            "—".to_owned()
        };
        println!(
            "  {:<42} {:>14} {:>14}   {ratio}",
            rust.what,
            format!("${:.4}", rust.usd),
            format!("${:.4}", python.usd)
        );
    }
    let (rust, python) = (total(&bills.rust), total(&bills.python));
    println!(
        "  {:<42} {:>14} {:>14}   {:.2}×",
        "total",
        format!("${rust:.2}"),
        format!("${python:.2}"),
        python / rust
    );
    println!("{}", "─".repeat(110));
}

/// The capacity plan's queue model, run with the local stack's own settings, against what its queue did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCheck {
    pub predicted_backlog_peak: f64,
    pub measured_backlog_peak: f64,
    pub predicted_drained_second: f64,
    pub measured_drained_second: f64,
}

/// The burst's messages as they were queued, second by second, drained by the local event source (5 concurrent
/// invocations from the start: the emulator starts its pollers at the maximum rather than ramping) at the rate the
/// backlog test measured on the same stack.
pub fn model_check(figures: &Figures) -> ModelCheck {
    let burst = &figures.burst;
    let local = Setup {
        api_rate: f64::INFINITY,
        account_concurrency: f64::INFINITY,
        submit_provisioned: f64::INFINITY,
        event_source: EventSourceMode::Provisioned {
            minimum_pollers: 0.5,
            maximum_pollers: 0.5,
        },
        table_writes: f64::INFINITY,
        index_shards: f64::INFINITY,
    };
    let workload = Workload {
        submit_ms: figures.submit_billed_ms_mean,
        // Five invocations together store `drain_per_second` records a second.
        process_ms_per_record: 5.0 * 1000.0 / figures.drain_per_second,
        write_units: figures.write_units_per_submission,
    };
    let outcome = simulate_arrivals(&burst.queued_per_second, 1.0, &local, &workload);
    ModelCheck {
        predicted_backlog_peak: outcome.backlog_peak,
        measured_backlog_peak: burst.backlog_peak,
        predicted_drained_second: outcome.drained_second,
        measured_drained_second: burst.drained_second,
    }
}
