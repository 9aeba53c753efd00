//! `make capacity`: what AWS needs for a known spike (a reminder wave) and what it costs, from the figures
//! `make bench` measured and AWS's documented scaling rules; or, given enrolments (`--enrolments FILE`) or a
//! deployed trial (`--trial ID`), every wave its schedule will cause, each with when to pre-warm and what to set.

use std::path::PathBuf;

use clap::Parser;
use intake::ports::Enrolments;
use intake::schedule::Schedules;
use intake_ops::capacity::forecast::{self, Cohort, Wave};
use intake_ops::capacity::report::{Inputs, plan, render, render_wave};
use intake_ops::capacity::{MEASURED_PATH, Measured, Prices, Shape, Spike};
use intake_ops::{Aws, Error, StackChoice};

#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Patients who get the reminder.
    #[arg(long, required_unless_present_any = ["enrolments", "trial"])]
    patients: Option<f64>,
    /// Surveys each patient submits in the wave.
    #[arg(long, default_value_t = 1.0)]
    surveys_each: f64,
    /// Seconds within which the submissions arrive (for a forecast: after each reminder).
    #[arg(long, default_value_t = 600.0)]
    window: f64,
    #[arg(long, value_enum, default_value = "peaked")]
    shape: Shape,
    /// Trials the patients belong to (each trial's index entries share its index partitions).
    #[arg(long, default_value_t = 1.0)]
    trials: f64,
    /// Forecast the waves of these enrolments: a JSON array of cohorts ({scheduleId, anchors, timeZone, patients}).
    #[arg(long, conflicts_with = "trial")]
    enrolments: Option<PathBuf>,
    /// Forecast the waves of this deployed trial's stored calendar.
    #[arg(long)]
    trial: Option<String>,
    /// With --trial: the deployed CloudFormation stack holding it (default: the local stack's outputs file).
    #[arg(long, value_name = "NAME")]
    deployed: Option<String>,
    /// In a forecast, plan the this many largest waves (shown in time order); the rest are summed up.
    #[arg(long, default_value_t = 12)]
    show: usize,
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

#[tokio::main]
async fn main() -> Result<(), Error> {
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
    let prices = Prices::us_east_1();
    let stack_name = if args.stack == "rust" {
        "Rust"
    } else {
        "Python/Powertools"
    };
    let planned = |spike: &Spike| -> String {
        let inputs = Inputs {
            spike,
            figures,
            stack: stack_name,
            measured_on: &measured.measured_on,
            duration_factor: args.duration_factor,
            p99_target_ms: args.p99_target_ms,
            prices: &prices,
        };
        render(&inputs, &plan(&inputs))
    };
    let now = jiff::Timestamp::now();
    let waves: Vec<Wave> = match (&args.enrolments, &args.trial) {
        (Some(file), _) => {
            let cohorts: Vec<Cohort> = serde_json::from_str(
                &std::fs::read_to_string(file)
                    .map_err(|e| format!("cannot read {} ({e})", file.display()))?,
            )?;
            forecast::from_cohorts(&cohorts, Schedules::embedded()?, now)?
        }
        (None, Some(trial)) => {
            let aws = Aws::load().await;
            let choice = StackChoice {
                stack: args.deployed.clone(),
            };
            let stack = choice.resolve(&aws).await?;
            let store =
                intake::aws::DynamoStore::new(aws.dynamodb.clone(), stack.table_name.clone());
            let calendar = store.calendar(trial).await.map_err(|e| e.to_string())?;
            forecast::from_calendar(&calendar, now)
        }
        (None, None) => {
            let spike = Spike {
                patients: args.patients.unwrap_or_default(),
                surveys_each: args.surveys_each,
                window_seconds: args.window,
                shape: args.shape,
                trials: args.trials,
            };
            print!("{}", planned(&spike));
            return Ok(());
        }
    };
    let total: u64 = waves.iter().map(|w| w.surveys).sum();
    println!(
        "Forecast: {} surveys due from now in {} waves (a wave: the windows opening in one minute, each a reminder); \
         surveys answered within {:.0} s of their reminder, {:?}",
        total,
        waves.len(),
        args.window,
        args.shape
    );
    // The largest waves, in time order.
    let mut largest: Vec<(usize, &Wave)> = waves.iter().enumerate().collect();
    largest.sort_by_key(|(_, w)| std::cmp::Reverse(w.surveys));
    largest.truncate(args.show);
    largest.sort_by_key(|(n, _)| *n);
    for (n, wave) in &largest {
        let spike = Spike {
            patients: wave.surveys as f64,
            surveys_each: 1.0,
            window_seconds: args.window,
            shape: args.shape,
            trials: args.trials,
        };
        let inputs = Inputs {
            spike: &spike,
            figures,
            stack: stack_name,
            measured_on: &measured.measured_on,
            duration_factor: args.duration_factor,
            p99_target_ms: args.p99_target_ms,
            prices: &prices,
        };
        print!("{}", render_wave(n + 1, wave, &inputs, &plan(&inputs)));
    }
    if waves.len() > largest.len() {
        let smallest_shown = largest.iter().map(|(_, w)| w.surveys).min().unwrap_or(0);
        println!(
            "\n  … and {} smaller waves (at most {smallest_shown} surveys each; --show N to plan more)",
            waves.len() - largest.len()
        );
    }
    Ok(())
}
