//! The capacity plan as an operator reads it: each hop under AWS's defaults and under the plan, the quotas to
//! raise, what to pre-warm and when (with the template parameter that does it), the latency target, the cost.

use super::cost::{cost, total};
use super::plan::{
    EventSourceMode, Outcome, Setup, Spike, Workload, index_shards_needed, recommend, simulate,
};
use super::rules::{
    DYNAMODB_TABLE_WRITE_QUOTA, HEADROOM, INDEX_WRITE_UNITS_PER_SUBMISSION,
    LAMBDA_ACCOUNT_CONCURRENCY, PREWARM_LEAD_MINUTES,
};
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
    // The cost at the durations the plan assumes, not this machine's.
    let mut scaled = inputs.figures.per_submission.clone();
    scaled.submit_billed_ms *= inputs.duration_factor;
    scaled.process_billed_ms_per_record *= inputs.duration_factor;
    let cost_usd = total(&cost(&scaled, inputs.prices, inputs.spike.submissions()));
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

/// A parameter value as `sam deploy` takes it.
fn raw(value: f64) -> String {
    format!("{:.0}", value.ceil())
}

pub fn render(inputs: &Inputs, plan: &Plan) -> String {
    let (spike, d, p, s) = (inputs.spike, &plan.defaults, &plan.planned, &plan.setup);
    let w = &plan.workload;
    let mut lines = vec![
        format!(
            "Capacity plan: {} submissions ({} patients × {}) within {} s, {:?}, over {} trial(s)",
            n(spike.submissions()),
            n(spike.patients),
            spike.surveys_each,
            spike.window_seconds,
            spike.shape,
            spike.trials
        ),
        format!(
            "  peak {} submissions/s; the {} stack's figures from make bench ({}): submit {:.1} ms, process {:.2} ms a record, {:.2} write units; durations ×{}",
            n(spike.peak_rate()),
            inputs.stack,
            inputs.measured_on,
            w.submit_ms,
            w.process_ms_per_record,
            w.write_units,
            inputs.duration_factor
        ),
        String::new(),
        format!(
            "  {:<16} {:<56} with the plan",
            "hop", "with this template's and AWS's defaults"
        ),
    ];
    type Describe = fn(&Outcome, &Setup) -> String;
    let hops: [(&str, Describe); 6] = [
        ("API Gateway", |o: &Outcome, s: &Setup| {
            format!(
                "{} refused ({} req/s admitted)",
                n(o.api_throttled),
                n(s.api_rate)
            )
        }),
        ("submit", |o: &Outcome, _: &Setup| {
            format!(
                "{} throttled, {} cold starts, {} concurrent",
                n(o.submit_throttled),
                n(o.submit_cold_starts),
                n(o.submit_peak_concurrency)
            )
        }),
        ("queue", |o: &Outcome, _: &Setup| {
            format!(
                "peak {} at {} s, empty at {} s",
                n(o.backlog_peak),
                n(o.backlog_peak_second),
                n(o.drained_second)
            )
        }),
        ("oldest message", |o: &Outcome, _: &Setup| {
            format!("{} s in the queue", n(o.oldest_message_seconds))
        }),
        ("process", |o: &Outcome, _: &Setup| {
            format!(
                "{} busy; bound by {}",
                n(o.process_peak_concurrency),
                o.drain_limited_by
            )
        }),
        ("DynamoDB", |o: &Outcome, s: &Setup| {
            format!(
                "{} WRU/s (takes {} at once)",
                n(o.peak_write_units_per_second),
                n(s.table_writes)
            )
        }),
    ];
    let defaults = Setup::aws_defaults();
    for (hop, describe) in hops {
        lines.push(format!(
            "  {hop:<16} {:<56} {}",
            describe(d, &defaults),
            describe(p, s)
        ));
    }

    lines
        .push("\n  Quotas to raise (Service Quotas, days ahead: increases are not instant)".into());
    lines.push(format!(
        "    API Gateway requests per second, account and Region   10,000 → {}",
        n(s.api_rate)
    ));
    if s.account_concurrency > LAMBDA_ACCOUNT_CONCURRENCY {
        lines.push(format!(
            "    Lambda concurrent executions                           1,000 → {}",
            n(s.account_concurrency)
        ));
    }
    if s.table_writes > DYNAMODB_TABLE_WRITE_QUOTA {
        lines.push(format!(
            "    DynamoDB on-demand write units per second, per table  40,000 → {}",
            n(s.table_writes)
        ));
    }

    let index_writes = (spike.peak_rate() * INDEX_WRITE_UNITS_PER_SUBMISSION * HEADROOM / 1_000.0)
        .ceil()
        * 1_000.0;
    let lead = PREWARM_LEAD_MINUTES;
    lines.push("\n  Template parameters (sam deploy --parameter-overrides …; T = the reminder; each off by default)".into());
    lines.push(format!(
        "    at deploy      ThrottlingRateLimit={} ThrottlingBurstLimit={}",
        raw(s.api_rate),
        raw(s.api_rate / 2.0)
    ));
    lines.push(format!(
        "    days ahead     TableWarmWriteUnitsPerSecond={} IndexWarmWriteUnitsPerSecond={} (warm throughput stays)",
        raw(s.table_writes), raw(index_writes)
    ));
    lines.push(format!("    T − {lead:.0} min     SubmitProvisionedConcurrency={} (back to 0 at T + window + {lead:.0} min)", raw(s.submit_provisioned)));
    if let EventSourceMode::Provisioned {
        minimum_pollers,
        maximum_pollers,
    } = s.event_source
    {
        lines.push(format!(
            "    T − {lead:.0} min     ProcessMinimumPollers={} ProcessMaximumPollers={} (ProcessMinimumPollers back to 0 after)",
            raw(minimum_pollers), raw(maximum_pollers)
        ));
    }
    let needed = index_shards_needed(spike);
    lines.push(format!(
        "    (layout)       the by-trial index has {} shards a trial; this wave needs {}: {}",
        n(s.index_shards),
        n(needed),
        if needed <= s.index_shards {
            "enough"
        } else {
            "NOT enough: spread the wave over trials, or raise BY_TRIAL_SHARDS and re-index"
        }
    ));

    let p99 = inputs.figures.submit_warm_p99_ms * inputs.duration_factor;
    let refused = p.api_throttled + p.submit_throttled;
    let cold_share = 100.0 * p.submit_cold_starts / spike.submissions().max(1.0);
    let met = p99 < inputs.p99_target_ms && cold_share < 1.0 && refused == 0.0;
    lines.push(format!(
        "\n  p99 < {:.0} ms at the API: submit's warm p99 is {p99:.1} ms; with the plan {} refused and {} cold starts ({cold_share:.3} % of requests): {}",
        inputs.p99_target_ms,
        n(refused),
        n(p.submit_cold_starts),
        if met {
            format!("met if API Gateway and the network add under {:.0} ms (not measurable here)", inputs.p99_target_ms - p99)
        } else {
            "NOT met".to_owned()
        }
    ));
    lines.push(format!(
        "  Cost of the wave: ${:.2} for the submissions + ${:.2} of provisioned concurrency = ${:.2} ({} prices entered {}; provisioned pollers and warm throughput are billed too, not in the table)",
        plan.cost_usd, plan.provisioned_usd, plan.cost_usd + plan.provisioned_usd, inputs.prices.region, inputs.prices.entered
    ));
    lines.join("\n") + "\n"
}

/// One forecast wave in a few lines: when, how many, from which zones; whether the defaults carry it, and if not,
/// when to pre-warm and what to set.
pub fn render_wave(
    number: usize,
    wave: &super::forecast::Wave,
    inputs: &Inputs,
    plan: &Plan,
) -> String {
    let (d, s) = (&plan.defaults, &plan.setup);
    let zones: Vec<String> = wave
        .by_zone
        .iter()
        .map(|(zone, k)| format!("{zone} {}", n(*k as f64)))
        .collect();
    let timepoints: Vec<String> = wave
        .timepoints
        .iter()
        .map(|(t, k)| format!("{t} {}", n(*k as f64)))
        .collect();
    let mut lines = vec![format!(
        "\n  Wave {number} · {} · {} surveys ({}) · {}",
        wave.opens.strftime("%Y-%m-%d %H:%M UTC"),
        n(wave.surveys as f64),
        zones.join(", "),
        timepoints.join(", ")
    )];
    let carried = d.api_throttled + d.submit_throttled == 0.0 && d.oldest_message_seconds <= 60.0;
    if carried {
        lines.push(format!(
            "    the defaults carry it: peak {}/s, nothing refused, no message older than {} s",
            n(inputs.spike.peak_rate()),
            n(d.oldest_message_seconds)
        ));
    } else {
        let lead = PREWARM_LEAD_MINUTES;
        let prewarm = wave.opens - jiff::SignedDuration::from_mins(lead as i64);
        lines.push(format!(
            "    with the defaults: {} refused, {} cold starts, oldest message {} s",
            n(d.api_throttled + d.submit_throttled),
            n(d.submit_cold_starts),
            n(d.oldest_message_seconds)
        ));
        let pollers = match s.event_source {
            EventSourceMode::Provisioned {
                minimum_pollers, ..
            } => format!(" ProcessMinimumPollers={}", raw(minimum_pollers)),
            EventSourceMode::Standard { .. } => String::new(),
        };
        lines.push(format!(
            "    pre-warm at {} (T − {lead:.0} min): SubmitProvisionedConcurrency={}{pollers}; days ahead: \
             TableWarmWriteUnitsPerSecond={}, ThrottlingRateLimit={}; cost ${:.2}",
            prewarm.strftime("%Y-%m-%d %H:%M UTC"),
            raw(s.submit_provisioned),
            raw(s.table_writes),
            raw(s.api_rate),
            plan.cost_usd + plan.provisioned_usd
        ));
    }
    lines.join("\n") + "\n"
}
