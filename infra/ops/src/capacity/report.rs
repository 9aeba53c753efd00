//! The capacity plan as an operator reads it: each hop under AWS's defaults and under the plan, the quotas to
//! raise, what to pre-warm and when (with the template parameter that does it), the latency target, the cost.

use std::fmt::Write;

use super::cost::{cost, total};
use super::plan::{EventSourceMode, Outcome, Setup, Spike, Workload, recommend, simulate};
use super::rules::PREWARM_LEAD_MINUTES;
use super::{Prices, StackFigures};

/// Everything the plan is made from.
pub struct Inputs<'a> {
    pub spike: &'a Spike,
    pub figures: &'a StackFigures,
    pub stack: &'a str,
    pub measured_on: &'a str,
    /// Durations on AWS as a multiple of the measured ones.
    pub duration_factor: f64,
    pub p99_target_ms: f64,
    pub prices: &'a Prices,
}

/// The plan, and the two outcomes it compares.
pub struct Plan {
    pub defaults: Outcome,
    pub setup: Setup,
    pub planned: Outcome,
    pub workload: Workload,
    pub cost_usd: f64,
    pub provisioned_usd: f64,
}

pub fn plan(inputs: &Inputs) -> Plan {
    let workload = inputs.figures.workload(inputs.duration_factor);
    let defaults = simulate(inputs.spike, &Setup::aws_defaults(), &workload);
    let setup = recommend(inputs.spike, &workload);
    let planned = simulate(inputs.spike, &setup, &workload);
    let cost_usd = total(&cost(
        &inputs.figures.per_submission,
        inputs.prices,
        inputs.spike.submissions(),
    ));
    // Provisioned concurrency held from the lead time before the reminder until as long after the window.
    let held_seconds = 2.0 * PREWARM_LEAD_MINUTES * 60.0 + inputs.spike.window_seconds;
    let gb = inputs.figures.per_submission.submit_memory_mb / 1024.0;
    let provisioned_usd = inputs
        .prices
        .get("lambdaArmProvisionedGbSecond")
        .of(setup.submit_provisioned * gb * held_seconds);
    Plan {
        defaults,
        setup,
        planned,
        workload,
        cost_usd,
        provisioned_usd,
    }
}

fn n(value: f64) -> String {
    let digits = format!("{:.0}", value.round());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 && c != '-' {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn render(inputs: &Inputs, plan: &Plan) -> String {
    let (spike, d, p, s) = (inputs.spike, &plan.defaults, &plan.planned, &plan.setup);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Capacity plan: {} submissions ({} patients × {}) within {} s, {:?}, over {} trial(s)",
        n(spike.submissions()),
        n(spike.patients),
        spike.surveys_each,
        spike.window_seconds,
        spike.shape,
        spike.trials
    );
    let _ = writeln!(
        o,
        "  peak {} submissions/s; {} intake figures measured {} by make bench (submit {:.1} ms, process {:.2} ms a record, {:.2} write units), durations ×{}",
        n(spike.peak_rate()),
        inputs.stack,
        inputs.measured_on,
        plan.workload.submit_ms,
        plan.workload.process_ms_per_record,
        plan.workload.write_units,
        inputs.duration_factor
    );
    let _ = writeln!(
        o,
        "\n  {:<18} {:<52} with the plan",
        "hop", "with AWS's defaults"
    );
    let row = |o: &mut String, hop: &str, before: String, after: String| {
        let _ = writeln!(o, "  {hop:<18} {before:<52} {after}");
    };
    row(
        &mut o,
        "API Gateway",
        format!("{} refused (quota 10,000 req/s)", n(d.api_throttled)),
        format!(
            "{} refused (quota {} req/s)",
            n(p.api_throttled),
            n(s.api_rate)
        ),
    );
    row(
        &mut o,
        "submit",
        format!(
            "{} throttled, {} cold starts",
            n(d.submit_throttled),
            n(d.submit_cold_starts)
        ),
        format!(
            "{} throttled, {} cold starts (peak {} concurrent)",
            n(p.submit_throttled),
            n(p.submit_cold_starts),
            n(p.submit_peak_concurrency)
        ),
    );
    row(
        &mut o,
        "queue",
        format!(
            "peak {} at {} s, empty at {} s",
            n(d.backlog_peak),
            n(d.backlog_peak_second),
            n(d.drained_second)
        ),
        format!(
            "peak {} at {} s, empty at {} s",
            n(p.backlog_peak),
            n(p.backlog_peak_second),
            n(p.drained_second)
        ),
    );
    row(
        &mut o,
        "oldest message",
        format!("{} s", n(d.oldest_message_seconds)),
        format!("{} s", n(p.oldest_message_seconds)),
    );
    row(
        &mut o,
        "process",
        format!(
            "peak {} concurrent; bound by {}",
            n(d.process_peak_concurrency),
            d.drain_limited_by
        ),
        format!(
            "peak {} concurrent; bound by {}",
            n(p.process_peak_concurrency),
            p.drain_limited_by
        ),
    );
    row(
        &mut o,
        "DynamoDB",
        format!(
            "peak {} WRU/s (new table: 4,000 at once)",
            n(d.peak_write_units_per_second)
        ),
        format!(
            "peak {} WRU/s (warm throughput {})",
            n(p.peak_write_units_per_second),
            n(s.table_writes)
        ),
    );

    let _ = writeln!(
        o,
        "\n  Quotas to raise (Service Quotas, days ahead; increases are not instant):"
    );
    let _ = writeln!(
        o,
        "    API Gateway throttle per account and Region        10,000 → {} req/s",
        n(s.api_rate)
    );
    let _ = writeln!(
        o,
        "    Lambda concurrent executions                        1,000 → {}",
        n(s.account_concurrency)
    );
    if s.table_writes > super::rules::DYNAMODB_TABLE_WRITE_QUOTA {
        let _ = writeln!(
            o,
            "    DynamoDB on-demand write throughput per table      40,000 → {} WRU/s",
            n(s.table_writes)
        );
    }
    let _ = writeln!(
        o,
        "\n  Pre-warm (T = the reminder; template parameters, all off by default):"
    );
    let _ = writeln!(
        o,
        "    days ahead       TableWarmWriteUnitsPerSecond={}  (warm throughput stays; set once per wave size)",
        n(s.table_writes)
    );
    let _ = writeln!(
        o,
        "    at deploy        ByTrialIndexShards={}  (one trial's entries over that many index partitions)",
        n(s.index_shards)
    );
    let _ = writeln!(
        o,
        "    T−{PREWARM_LEAD_MINUTES:.0} min        SubmitProvisionedConcurrency={}  (release it {PREWARM_LEAD_MINUTES:.0} min after the window)",
        n(s.submit_provisioned)
    );
    if let EventSourceMode::Provisioned {
        minimum_pollers,
        maximum_pollers,
    } = s.event_source
    {
        let _ = writeln!(
            o,
            "    T−{PREWARM_LEAD_MINUTES:.0} min        ProcessMinimumPollers={} ProcessMaximumPollers={}  (provisioned mode; back to 0 after)",
            n(minimum_pollers),
            n(maximum_pollers)
        );
    }

    let p99 = inputs.figures.submit_warm_p99_ms * inputs.duration_factor;
    let cold_share = 100.0 * p.submit_cold_starts / spike.submissions().max(1.0);
    let _ = writeln!(
        o,
        "\n  p99 < {:.0} ms at the API: submit's warm p99 {p99:.1} ms; with the plan {} refusals and {} cold starts ({cold_share:.3} % of requests), so the p99 is a warm one — {}",
        inputs.p99_target_ms,
        n(p.api_throttled + p.submit_throttled),
        n(p.submit_cold_starts),
        if p99 < inputs.p99_target_ms
            && cold_share < 1.0
            && p.api_throttled + p.submit_throttled == 0.0
        {
            format!(
                "met if API Gateway and the network add less than {:.0} ms (not measurable here)",
                inputs.p99_target_ms - p99
            )
        } else {
            "NOT met".to_owned()
        }
    );
    let _ = writeln!(
        o,
        "  Cost of the spike: ${:.2} for the submissions + ${:.2} of provisioned concurrency = ${:.2} (prices {} as entered {}; provisioned pollers and the warm-throughput change are billed too and are not in the table)",
        plan.cost_usd,
        plan.provisioned_usd,
        plan.cost_usd + plan.provisioned_usd,
        inputs.prices.region,
        inputs.prices.entered
    );
    o
}
