//! What a spike needs on AWS and what it costs, from the intake's measured figures per submission (`make bench`),
//! AWS's documented scaling rules and a dated price table:
//!
//! - [`prices`]: the us-east-1 list prices, each with its source page;
//! - [`cost`]: the cost of a million submissions, line by line;
//! - [`rules`]: the scaling rules and default quotas of each hop, each with its source;
//! - [`plan`]: a second-by-second model of a spike through API, submit, queue, process and table, and the plan it
//!   leads to: quotas to raise, what to pre-warm and when, and the cost of the spike.
//! - [`report`]: the plan as an operator reads it;
//! - [`forecast`]: the waves a trial's schedule will cause (from enrolments or a deployed trial's calendar).

pub mod cost;
pub mod forecast;
pub mod plan;
pub mod prices;
pub mod report;
pub mod rules;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use cost::{LineItem, PerSubmission, per_million};
pub use plan::{
    EventSourceMode, Outcome, Setup, Shape, Spike, Workload, recommend, simulate, simulate_arrivals,
};
pub use prices::Prices;

/// The figures per submission `make bench` measured for both stacks (`infra/ops/capacity/measured.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Measured {
    /// When and where: `make bench` on this date, on this machine.
    pub measured_on: String,
    pub machine: String,
    pub rust: StackFigures,
    pub python: StackFigures,
}

/// One stack's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackFigures {
    #[serde(flatten)]
    pub per_submission: PerSubmission,
    /// p99 of a warm submit invocation, ms.
    pub submit_warm_p99_ms: f64,
}

impl StackFigures {
    /// The figures the spike model runs on, durations scaled by `factor` (AWS's service latencies are not this
    /// machine's).
    pub fn workload(&self, factor: f64) -> Workload {
        let figures = &self.per_submission;
        Workload {
            submit_ms: figures.submit_billed_ms * factor,
            process_ms_per_record: figures.process_billed_ms_per_record * factor,
            write_units: figures.write_units,
        }
    }
}

/// The measured figures shipped with the tools, as `make bench` last wrote them.
pub const MEASURED_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/capacity/measured.json");
