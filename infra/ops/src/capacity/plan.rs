//! A spike, second by second, through each hop: the API's throttle, submit's execution environments, the queue,
//! the SQS event source's pollers, process, and the table and its by-trial index. Its outcome says what each hop
//! needed, where requests would be refused, how deep the queue gets and when it is empty again.

use serde::Serialize;

use super::rules::*;

/// How arrivals spread over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Shape {
    /// The same rate throughout.
    Uniform,
    /// Rising to twice the mean in the middle of the window and falling back (a reminder's wave).
    Peaked,
}

/// A known spike: who submits, how much, over what window.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spike {
    pub patients: f64,
    pub surveys_each: f64,
    pub window_seconds: f64,
    pub shape: Shape,
    /// Trials the patients are spread over (the by-trial index takes each trial's writes on its own partitions).
    pub trials: f64,
}

impl Spike {
    pub fn submissions(&self) -> f64 {
        self.patients * self.surveys_each
    }

    /// Arrivals in second `t` (0-based) of the window.
    pub fn arrivals(&self, t: f64) -> f64 {
        if t >= self.window_seconds {
            return 0.0;
        }
        let mean = self.submissions() / self.window_seconds;
        match self.shape {
            Shape::Uniform => mean,
            Shape::Peaked => {
                let half = self.window_seconds / 2.0;
                let middle = t + 0.5;
                2.0 * mean * (1.0 - (middle - half).abs() / half)
            }
        }
    }

    pub fn peak_rate(&self) -> f64 {
        let mean = self.submissions() / self.window_seconds;
        match self.shape {
            Shape::Uniform => mean,
            Shape::Peaked => 2.0 * mean,
        }
    }
}

/// How the SQS event source polls.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EventSourceMode {
    /// AWS's default: it ramps from five batches, at most `maximum_concurrency` (the template's knob).
    Standard { maximum_concurrency: f64 },
    /// Provisioned pollers: `minimum_pollers` held ready, up to `maximum_pollers`.
    Provisioned {
        minimum_pollers: f64,
        maximum_pollers: f64,
    },
}

/// The knobs: quotas and the template's parameters.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Setup {
    /// Requests a second the API takes (account quota or stage throttle, whichever is lower).
    pub api_rate: f64,
    /// Concurrent executions of the account.
    pub account_concurrency: f64,
    /// Provisioned concurrency of submit.
    pub submit_provisioned: f64,
    pub event_source: EventSourceMode,
    /// Write units a second the table takes at once (its warm throughput; a new on-demand table: 4,000).
    pub table_writes: f64,
    /// Partitions the by-trial index spreads one trial's entries over (the layout's [`intake::item::BY_TRIAL_SHARDS`]).
    pub index_shards: f64,
}

impl Setup {
    /// A fresh account and this repository's template as deployed by default.
    pub fn aws_defaults() -> Self {
        Setup {
            api_rate: API_ACCOUNT_RATE.min(TEMPLATE_STAGE_RATE),
            account_concurrency: LAMBDA_ACCOUNT_CONCURRENCY,
            submit_provisioned: 0.0,
            event_source: EventSourceMode::Standard {
                maximum_concurrency: TEMPLATE_PROCESS_CONCURRENCY,
            },
            table_writes: DYNAMODB_NEW_TABLE_WRITES,
            index_shards: f64::from(intake::item::BY_TRIAL_SHARDS),
        }
    }
}

/// The per-submission figures the model runs on (measured by `make bench`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    /// Time one submit invocation holds an execution environment, ms.
    pub submit_ms: f64,
    /// Time process spends per record of a batch, ms.
    pub process_ms_per_record: f64,
    /// Write units per submission on the table and its indexes.
    pub write_units: f64,
}

/// What happened, second by second, summed up.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub submissions: f64,
    pub peak_arrivals_per_second: f64,
    /// Refused by the API's throttle (429; apps retry later).
    pub api_throttled: f64,
    pub submit_peak_concurrency: f64,
    /// New execution environments started during the spike (each one request's cold start).
    pub submit_cold_starts: f64,
    /// Refused for want of an execution environment (throttled invocations).
    pub submit_throttled: f64,
    pub process_peak_concurrency: f64,
    /// Most messages in the queue during a second, waiting or being processed (SQS's depth).
    pub backlog_peak: f64,
    pub backlog_peak_second: f64,
    /// Seconds from the first arrival until the queue is empty.
    pub drained_second: f64,
    /// The longest any message waited in the queue, seconds.
    pub oldest_message_seconds: f64,
    pub peak_write_units_per_second: f64,
    /// What bounded the drain most often while the queue was not empty.
    pub drain_limited_by: &'static str,
}

/// Runs `spike` through `setup` with `workload`'s per-submission figures.
pub fn simulate(spike: &Spike, setup: &Setup, workload: &Workload) -> Outcome {
    let seconds = spike.window_seconds.ceil() as usize;
    let arrivals: Vec<f64> = (0..seconds).map(|t| spike.arrivals(t as f64)).collect();
    simulate_arrivals(&arrivals, spike.trials, setup, workload)
}

/// Runs arrivals given second by second (`arrivals[t]` in second `t`) over `trials` trials.
pub fn simulate_arrivals(
    arrivals: &[f64],
    trials: f64,
    setup: &Setup,
    workload: &Workload,
) -> Outcome {
    let mut out = Outcome {
        submissions: arrivals.iter().sum(),
        peak_arrivals_per_second: arrivals.iter().copied().fold(0.0, f64::max),
        ..Outcome::default()
    };
    let submit_seconds = workload.submit_ms / 1000.0;
    let per_invocation_rate = 1000.0 / workload.process_ms_per_record.max(f64::EPSILON);
    let mut environments = setup.submit_provisioned;
    let (mut pollers_concurrency, mut backlog) = (0.0_f64, 0.0_f64);
    // Cumulative messages in and out, to tell how long the oldest waiting message has waited (FIFO enough).
    let (mut queued_total, mut stored_total, mut queued_by_second) = (0.0, 0.0, Vec::new());
    let mut limits: std::collections::BTreeMap<&'static str, u32> = Default::default();
    let mut t = 0.0;
    while (t as usize) < arrivals.len() || backlog > 0.5 {
        // API Gateway: its steady rate (its burst bucket is smaller than one second at that rate).
        let arrivals = arrivals.get(t as usize).copied().unwrap_or_default();
        let admitted = arrivals.min(setup.api_rate);
        out.api_throttled += arrivals - admitted;

        // submit: environments in use = rate × duration; new ones at 1,000 per 10 s, within the account's pool.
        let on_demand_cap = LAMBDA_SCALE_STEP * (1.0 + (t / LAMBDA_SCALE_PERIOD_SECONDS).floor());
        let needed = admitted * submit_seconds;
        let pool = setup.account_concurrency - pollers_concurrency;
        let available = (setup.submit_provisioned + on_demand_cap).min(pool.max(0.0));
        let running = needed.min(available);
        if running > environments {
            out.submit_cold_starts += (running - environments).ceil();
            environments = running;
        }
        out.submit_peak_concurrency = out.submit_peak_concurrency.max(needed);
        let served = if running >= needed {
            admitted
        } else {
            admitted * running / needed
        };
        out.submit_throttled += admitted - served;

        // The queue and its event source.
        backlog += served;
        queued_total += served;
        queued_by_second.push(queued_total);
        let ceiling = match setup.event_source {
            EventSourceMode::Standard {
                maximum_concurrency,
            } => {
                if backlog > 0.0 && pollers_concurrency == 0.0 {
                    pollers_concurrency = SQS_STANDARD_START;
                } else if backlog > 0.0 {
                    pollers_concurrency += SQS_STANDARD_RAMP_PER_MINUTE / 60.0;
                }
                maximum_concurrency.min(SQS_STANDARD_MAX)
            }
            EventSourceMode::Provisioned {
                minimum_pollers,
                maximum_pollers,
            } => {
                let floor = minimum_pollers * SQS_INVOCATIONS_PER_POLLER;
                pollers_concurrency = pollers_concurrency.max(floor);
                if backlog > 0.0 {
                    pollers_concurrency += SQS_PROVISIONED_RAMP_PER_MINUTE / 60.0;
                }
                maximum_pollers * SQS_INVOCATIONS_PER_POLLER
            }
        };
        pollers_concurrency = pollers_concurrency.min(ceiling);
        let by_process = pollers_concurrency * per_invocation_rate;
        let by_table = setup.table_writes / workload.write_units;
        let by_index = trials * setup.index_shards * DYNAMODB_PARTITION_WRITES
            / INDEX_WRITE_UNITS_PER_SUBMISSION;
        let stored = backlog.min(by_process).min(by_table).min(by_index);
        // The queue's depth during this second, as SQS counts it: waiting and being processed.
        if backlog > out.backlog_peak {
            out.backlog_peak = backlog;
            out.backlog_peak_second = t;
        }
        if backlog > stored {
            let limit = [
                (by_process, "process concurrency (event source)"),
                (by_table, "table write throughput"),
                (by_index, "by-trial index partition"),
            ]
            .into_iter()
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, name)| name)
            .unwrap_or_default();
            *limits.entry(limit).or_default() += 1;
        }
        backlog -= stored;
        stored_total += stored;
        out.process_peak_concurrency = out
            .process_peak_concurrency
            .max((stored / per_invocation_rate).min(pollers_concurrency));
        out.peak_write_units_per_second = out
            .peak_write_units_per_second
            .max(stored * workload.write_units);
        // The oldest message still queued arrived in the first second whose cumulative arrivals exceed what left.
        if backlog > 0.5 {
            let arrived = queued_by_second.partition_point(|&total| total <= stored_total);
            out.oldest_message_seconds = out.oldest_message_seconds.max(t - arrived as f64);
        }
        t += 1.0;
        if t > 86_400.0 {
            break; // a day: the plan reports it as never draining
        }
    }
    out.drained_second = t;
    out.drain_limited_by = limits
        .into_iter()
        .max_by_key(|(_, seconds)| *seconds)
        .map_or("nothing: the queue kept up", |(name, _)| name);
    out
}

/// Index partitions one trial's share of `spike` needs, with [`HEADROOM`].
pub fn index_shards_needed(spike: &Spike) -> f64 {
    (spike.peak_rate() / spike.trials * INDEX_WRITE_UNITS_PER_SUBMISSION
        / DYNAMODB_PARTITION_WRITES
        * HEADROOM)
        .ceil()
        .max(1.0)
}

/// The setup that carries `spike` without refusals or a lasting backlog: every need with [`HEADROOM`]. The by-trial
/// index keeps the layout's shards (changing them means re-indexing); [`index_shards_needed`] says if they suffice.
pub fn recommend(spike: &Spike, workload: &Workload) -> Setup {
    let peak = spike.peak_rate();
    let ceil_to = |value: f64, step: f64| (value / step).ceil() * step;
    let submit = (peak * workload.submit_ms / 1000.0 * HEADROOM).ceil();
    let process = (peak * workload.process_ms_per_record / 1000.0 * HEADROOM).ceil();
    let pollers = (process / SQS_INVOCATIONS_PER_POLLER).ceil().max(2.0);
    Setup {
        api_rate: ceil_to(peak * HEADROOM, 1_000.0),
        account_concurrency: ceil_to(
            ((submit + process) * HEADROOM).max(LAMBDA_ACCOUNT_CONCURRENCY),
            1_000.0,
        ),
        submit_provisioned: submit,
        event_source: EventSourceMode::Provisioned {
            minimum_pollers: pollers,
            maximum_pollers: (pollers * 2.0).max(10.0),
        },
        table_writes: ceil_to(peak * workload.write_units * HEADROOM, 1_000.0)
            .max(DYNAMODB_NEW_TABLE_WRITES),
        index_shards: f64::from(intake::item::BY_TRIAL_SHARDS),
    }
}
