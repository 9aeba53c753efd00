//! `make demo`: a burst of submissions against a deployed stack, a wait for the queue to drain, and a report.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use intake_e2e::burst::{Plan, Report, check_store, send};
use intake_e2e::{Aws, Error, Stack, http_client};

/// Sends a burst of ePRO submissions like patients at a fixed survey time, then checks the table.
#[derive(Debug, Parser)]
struct Args {
    /// Simulated patients.
    #[arg(long, default_value_t = 100)]
    patients: usize,
    /// Requests to send in all (new surveys, resends and invalid ones).
    #[arg(long, default_value_t = 500)]
    requests: usize,
    /// Share of requests that resend an earlier survey unchanged.
    #[arg(long, default_value_t = 0.05)]
    resend_share: f64,
    /// Share of requests that break the contract.
    #[arg(long, default_value_t = 0.02)]
    invalid_share: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Trial id to submit under; each run defaults to a fresh one so reports never mix runs.
    #[arg(long)]
    trial_id: Option<String>,
    /// Give up waiting for the queue to drain after this many seconds.
    #[arg(long, default_value_t = 300)]
    drain_timeout: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("burst failed: {error}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<bool, Error> {
    let stack = Stack::load()?;
    let aws = Aws::load().await;
    let plan = Plan {
        patients: args.patients,
        requests: args.requests,
        resend_share: args.resend_share,
        invalid_share: args.invalid_share,
        concurrency: args.concurrency,
        trial_id: args.trial_id.unwrap_or_else(|| {
            format!("DEMO-{}", time::OffsetDateTime::now_utc().unix_timestamp())
        }),
    };
    eprintln!(
        "Sending {} requests from {} patients to {} ({} in flight, trial {})",
        plan.requests,
        plan.patients,
        stack.submissions_url(),
        plan.concurrency,
        plan.trial_id
    );

    let bar = ProgressBar::new(plan.requests as u64).with_style(
        ProgressStyle::with_template("  sending  [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let sent = send(&http_client(), &stack, &plan, {
        let bar = bar.clone();
        move || bar.inc(1)
    })
    .await;
    let send_time = started.elapsed();
    bar.finish();

    let spinner = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("  draining {spinner} {msg}").expect("valid template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    let drain_time = aws
        .wait_until_drained(
            &stack.queue_url,
            Duration::from_secs(args.drain_timeout),
            |depth| spinner.set_message(format!("{depth} messages queued or in flight")),
        )
        .await?;
    spinner.finish_with_message("queue empty");

    let dlq_depth = aws.queue_depth(&stack.dead_letter_queue_url).await?;
    let store = check_store(&aws, &stack, &plan.trial_id, &sent).await?;
    let report = Report::new(&sent, send_time, drain_time, dlq_depth, store);
    println!("\n{}", report.render());
    Ok(report.store.exactly_once())
}
