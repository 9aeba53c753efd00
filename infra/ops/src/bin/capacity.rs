//! `make capacity`: what AWS needs for a known spike (a reminder wave) and what it costs, from the figures
//! `make bench` measured and AWS's documented scaling rules. Reads nothing from AWS.

use std::path::PathBuf;

use clap::Parser;
use intake_ops::Error;
use intake_ops::capacity::report::{Inputs, plan, render};
use intake_ops::capacity::{MEASURED_PATH, Measured, Prices, Shape, Spike};

#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Patients who get the reminder.
    #[arg(long)]
    patients: f64,
    /// Surveys each patient submits in the wave.
    #[arg(long, default_value_t = 1.0)]
    surveys_each: f64,
    /// Seconds within which the submissions arrive.
    #[arg(long)]
    window: f64,
    #[arg(long, value_enum, default_value = "peaked")]
    shape: Shape,
    /// Trials the patients belong to (each trial's index entries share its index partitions).
    #[arg(long, default_value_t = 1.0)]
    trials: f64,
    /// Which stack's measured figures: rust (this intake) or python (the Powertools peer).
    #[arg(long, default_value = "rust", value_parser = ["rust", "python"])]
    stack: String,
    /// Durations on AWS as a multiple of the measured ones (the emulator answers faster than AWS's endpoints).
    #[arg(long, default_value_t = 1.0)]
    duration_factor: f64,
    /// The latency target at the API, ms.
    #[arg(long, default_value_t = 100.0)]
    p99_target_ms: f64,
    /// Figures per submission (written by `make bench`).
    #[arg(long, default_value = MEASURED_PATH)]
    measured: PathBuf,
}

fn main() -> Result<(), Error> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.measured).map_err(|e| {
        format!(
            "cannot read {} ({e}): run make bench",
            args.measured.display()
        )
    })?;
    let measured: Measured = serde_json::from_str(&text)?;
    let figures = if args.stack == "rust" {
        &measured.rust
    } else {
        &measured.python
    };
    let spike = Spike {
        patients: args.patients,
        surveys_each: args.surveys_each,
        window_seconds: args.window,
        shape: args.shape,
        trials: args.trials,
    };
    let prices = Prices::us_east_1();
    let inputs = Inputs {
        spike: &spike,
        figures,
        stack: if args.stack == "rust" {
            "Rust"
        } else {
            "Python/Powertools"
        },
        measured_on: &measured.measured_on,
        duration_factor: args.duration_factor,
        p99_target_ms: args.p99_target_ms,
        prices: &prices,
    };
    print!("{}", render(&inputs, &plan(&inputs)));
    Ok(())
}
