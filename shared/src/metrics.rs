//! What the functions count, as CloudWatch embedded metric format (EMF): one JSON document per invocation in the
//! function's log stream, which CloudWatch turns into metrics with no API call on the request path.
//!
//! One dimension, the function's name, and on `Refused` the reason too. The trial is deliberately not a dimension:
//! metrics are counted per dimension value, and a trial's id has no business in a metric anyone can graph. The
//! template's dashboard and alarms read these names; a test keeps them in step.

use metrics::Unit;
use metrics_cloudwatch_embedded::{Builder, Collector};

/// The CloudWatch namespace of every metric here.
pub const NAMESPACE: &str = "EproIntake";

/// The one dimension every metric carries: the function's name (Lambda's `AWS_LAMBDA_FUNCTION_NAME`).
pub const FUNCTION: &str = "function";

/// The extra dimension of [`Metric::Refused`]: the refusal's code (`invalid`, `forbidden`, …).
pub const REASON: &str = "reason";

/// The most values of one metric an EMF document may hold: histograms beyond it are sampled.
pub const MAX_VALUES: usize = 100;

/// Everything the functions count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Submissions acknowledged with 202 (submit).
    Accepted,
    /// Submissions refused, by reason (submit).
    Refused,
    /// Records written for the first time (process).
    Stored,
    /// Records already stored with the same content (process).
    Duplicates,
    /// Records whose id was stored with other content (process).
    Conflicts,
    /// Records handed back to SQS for redelivery (process).
    FailedRecords,
    /// DynamoDB attempts the SDK made again after a throttle, an error or a timeout (process): a brown-out shows
    /// here while retries still carry it, before any record fails.
    StoreRetries,
    /// Milliseconds from a message's arrival on the queue to its record being stored (process); at most
    /// [`MAX_VALUES`] records of an invocation, evenly spread, when its batch is larger.
    QueueToStoreLatency,
    /// Clinical alerts raised (process).
    AlertsRaised,
    /// Alert messages published to the alert topic (notify).
    AlertsDelivered,
    /// Urgent alerts escalated (escalate).
    AlertsEscalated,
    /// Alerts the stream did not deliver, delivered by the sweep (escalate): the notify path is failing.
    AlertsDeliveredBySweep,
    /// Reminders sent when a survey's window opened (reminders).
    RemindersSent,
    /// Surveys whose window closed without a submission, recorded missed (reminders).
    SurveysMissed,
    /// Missed-survey notices sent to the site topic (reminders).
    MissedNoticesSent,
    /// Steps of the schedule sweep that failed and wait for the next sweep (reminders).
    SweepFailures,
    /// Sweeps that ran to their end (escalate, reminders): the heartbeat. None for five minutes pages, because a
    /// sweep that stopped running (a disabled schedule, a broken deploy) fails without an error of its own.
    SweepsCompleted,
    /// Containers started (every function), counted once at start.
    ColdStart,
}

impl Metric {
    /// Every metric, for the tests that hold the dashboard and alarms to these names.
    pub const ALL: [Metric; 18] = [
        Metric::Accepted,
        Metric::Refused,
        Metric::Stored,
        Metric::Duplicates,
        Metric::Conflicts,
        Metric::FailedRecords,
        Metric::StoreRetries,
        Metric::QueueToStoreLatency,
        Metric::AlertsRaised,
        Metric::AlertsDelivered,
        Metric::AlertsEscalated,
        Metric::AlertsDeliveredBySweep,
        Metric::RemindersSent,
        Metric::SurveysMissed,
        Metric::MissedNoticesSent,
        Metric::SweepFailures,
        Metric::SweepsCompleted,
        Metric::ColdStart,
    ];

    /// The metric's name in CloudWatch.
    pub const fn name(self) -> &'static str {
        match self {
            Metric::Accepted => "Accepted",
            Metric::Refused => "Refused",
            Metric::Stored => "Stored",
            Metric::Duplicates => "Duplicates",
            Metric::Conflicts => "Conflicts",
            Metric::FailedRecords => "FailedRecords",
            Metric::StoreRetries => "StoreRetries",
            Metric::QueueToStoreLatency => "QueueToStoreLatency",
            Metric::AlertsRaised => "AlertsRaised",
            Metric::AlertsDelivered => "AlertsDelivered",
            Metric::AlertsEscalated => "AlertsEscalated",
            Metric::AlertsDeliveredBySweep => "AlertsDeliveredBySweep",
            Metric::RemindersSent => "RemindersSent",
            Metric::SurveysMissed => "SurveysMissed",
            Metric::MissedNoticesSent => "MissedNoticesSent",
            Metric::SweepFailures => "SweepFailures",
            Metric::SweepsCompleted => "SweepsCompleted",
            Metric::ColdStart => "ColdStart",
        }
    }
}

/// Adds `count` to a counter.
pub fn add(metric: Metric, count: usize) {
    metrics::counter!(metric.name()).increment(count as u64);
}

/// Counts one refusal, with its reason as a dimension.
pub fn refused(reason: &'static str) {
    metrics::counter!(Metric::Refused.name(), REASON => reason).increment(1);
}

/// Records a duration in milliseconds.
pub fn milliseconds(metric: Metric, value: f64) {
    metrics::histogram!(metric.name()).record(value);
}

/// A function's metrics: installed once at start, flushed to standard output at the end of each invocation.
pub struct Metrics(&'static Collector);

impl Metrics {
    /// Installs the collector for `function` (its Lambda name) and counts the cold start.
    pub fn install(function: &str) -> Result<Self, String> {
        let collector = Builder::new()
            .cloudwatch_namespace(NAMESPACE)
            .with_dimension(FUNCTION, function.to_owned())
            .init()
            .map_err(|e| format!("metrics: {e}"))?;
        metrics::describe_histogram!(
            Metric::QueueToStoreLatency.name(),
            Unit::Milliseconds,
            "queue arrival to stored"
        );
        add(Metric::ColdStart, 1);
        Ok(Metrics(collector))
    }

    /// Installs the collector for this Lambda function (`AWS_LAMBDA_FUNCTION_NAME`, `local` outside Lambda).
    pub fn for_this_function() -> Result<Self, String> {
        let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
        Self::install(&name)
    }

    /// Writes what was counted since the last flush, as EMF documents carrying the invocation's request id and
    /// trace id as properties, so a metric leads to its log lines.
    pub fn flush(&self, request_id: &str, trace_id: Option<&str>) {
        self.0.set_property("requestId", request_id.to_owned());
        match trace_id {
            Some(trace) => self.0.set_property("traceId", trace.to_owned()),
            None => self.0.remove_property("traceId"),
        };
        if let Err(error) = self.0.flush(std::io::stdout().lock()) {
            tracing::warn!(%error, "metrics not written");
        }
    }
}

/// Running code with a recorder of its own, for tests: what it counted, by metric name and labels.
#[cfg(test)]
pub(crate) mod recorded {
    use std::collections::BTreeMap;
    use std::future::Future;

    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    /// What a run counted: counters by "Name" or "Name{label=value}", and each histogram's values.
    #[derive(Debug, Default)]
    pub struct Recorded {
        pub counters: BTreeMap<String, u64>,
        pub histograms: BTreeMap<String, Vec<f64>>,
    }

    impl Recorded {
        pub fn counter(&self, name: &str) -> u64 {
            self.counters.get(name).copied().unwrap_or(0)
        }
    }

    /// Runs `work` to completion on a single thread (so its spawned tasks see the same recorder) and returns
    /// what it counted.
    pub fn run<F: Future>(work: F) -> (F::Output, Recorded) {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let output = metrics::with_local_recorder(&recorder, || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a test runtime")
                .block_on(work)
        });
        let mut recorded = Recorded::default();
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let key = key.key();
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let name = if labels.is_empty() {
                key.name().to_owned()
            } else {
                format!("{}{{{}}}", key.name(), labels.join(","))
            };
            match value {
                DebugValue::Counter(count) => {
                    recorded.counters.insert(name, count);
                }
                DebugValue::Histogram(values) => {
                    recorded
                        .histograms
                        .insert(name, values.into_iter().map(|v| v.into_inner()).collect());
                }
                DebugValue::Gauge(_) => {}
            }
        }
        (output, recorded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_has_its_own_name() {
        let mut names: Vec<_> = Metric::ALL.iter().map(|m| m.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Metric::ALL.len());
    }
}
