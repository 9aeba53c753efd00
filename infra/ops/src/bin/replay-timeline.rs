//! `replay-timeline --trial <id>` (`make timeline`): places a trial's reports on their timelines again, after the timeline
//! function could not (a batch parked in its failure queue), and says what that raised.

use std::process::ExitCode;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use intake_ops::timeline::{place, trial_arrivals};
use intake_ops::{Aws, StackChoice};

/// Places a trial's reports on their patients' timelines, in completion order.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    stack: StackChoice,
    /// The trial.
    #[arg(long)]
    trial: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("  {spinner} {msg} [{bar:30}] {pos}/{len}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("reading the trial's reports");
    let result = async {
        let aws = Aws::load().await;
        let stack = args.stack.resolve(&aws).await?;
        let arrivals = trial_arrivals(&aws, &stack, &args.trial).await?;
        bar.set_length(arrivals.len() as u64);
        bar.set_message("placing");
        place(&aws, &stack, &arrivals, || bar.inc(1)).await
    }
    .await;
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            println!(
                "trial {}: {} report(s) placed, {} alert(s) raised, {} compared again",
                args.trial, report.placed, report.raised, report.reassessed
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("timeline: {error}");
            ExitCode::from(2)
        }
    }
}
