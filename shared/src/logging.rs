//! One logging setup for every function: JSON lines at the level Lambda's logging controls set
//! (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO), for our own code only. Each line carries its own UTC
//! timestamp and the invocation's span (`requestId`, `xrayTraceId`): a line copied out of CloudWatch still says
//! when it was written and leads back to its request.
//!
//! The Lambda runtime logs every raw event at TRACE (answers, and the `Authorization` header), and the HTTP, SDK
//! and signing layers log requests and headers at DEBUG and TRACE. So only our own targets follow the configured
//! level; every other library says no more than INFO, whatever level or directives a deploy sets, and a library
//! added tomorrow is capped before anyone knows it logs. Our own code logs ids and counts only, at every level.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{FilterExt, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// The targets that follow the configured level: this crate, where every function's rules and logs live.
pub const OURS: &str = "intake";

/// Where the Lambda runtime opens each invocation's span.
const INVOCATION_SPAN: &str = "lambda_runtime::layers::trace";

/// The most any other target may say.
pub const LIBRARY_CAP: LevelFilter = LevelFilter::INFO;

/// Starts logging for a function, to standard output.
pub fn init() {
    subscriber(std::io::stdout, &configured_level()).init();
}

/// The level directives from Lambda's logging controls or `RUST_LOG`.
fn configured_level() -> String {
    std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "INFO".to_owned())
}

/// `RUST_LOG`-style directives (`level`, `target=level`, comma-separated) as targets, `INFO` unless one sets the
/// default. `Targets` reads them as `EnvFilter` did, without its regular-expression engine, which was the bulk of
/// what `EnvFilter` added to each function binary (mapped and relocated at every start). Span and field filters
/// (`target[span{field}]=level`) are not read: such a directive is skipped rather than widened to its whole
/// target, as is one that does not parse or an empty one (`info,`), each with a line on stderr naming it.
fn configured_targets(directives: &str) -> Targets {
    let mut targets = Targets::new().with_default(LevelFilter::INFO);
    for directive in directives.to_lowercase().split(',').map(str::trim) {
        let parsed = match directive.parse::<Targets>() {
            Ok(parsed) if !directive.is_empty() && !directive.contains('[') => parsed,
            _ => {
                eprintln!("ignoring log directive {directive:?}: a level or target=level is read");
                continue;
            }
        };
        if let Some(level) = parsed.default_level() {
            targets = targets.with_default(level);
        }
        targets.extend(parsed);
    }
    targets
}

/// JSON lines to `writer`, filtered by `directives` (a level, or `RUST_LOG`-style directives) and the caps.
pub fn subscriber<W>(writer: W, directives: &str) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // The runtime's invocation span (`requestId`, `xrayTraceId`) is opened at INFO: kept at every level, so a WARN
    // or ERROR line still leads back to its request. It holds ids only.
    let configured = configured_targets(directives).with_target(INVOCATION_SPAN, LevelFilter::INFO);
    let caps = Targets::new()
        .with_default(LIBRARY_CAP)
        .with_target(OURS, LevelFilter::TRACE);
    let layer = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_writer(writer)
        .with_filter(configured.and(caps));
    Registry::default().with(layer)
}

/// A subscriber's output kept in memory, for tests that check what is logged.
#[cfg(test)]
pub(crate) mod capture {
    use std::sync::{Arc, Mutex};

    /// The lines written so far, shared with every writer the subscriber makes.
    #[derive(Clone, Default)]
    pub(crate) struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Capture {
        /// The function's subscriber, writing here.
        pub(crate) fn subscriber(
            &self,
            directives: &str,
        ) -> impl tracing::Subscriber + Send + Sync {
            let capture = self.clone();
            super::subscriber(move || capture.clone(), directives)
        }

        /// Everything written.
        pub(crate) fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }

        /// Every line written, parsed.
        pub(crate) fn lines(&self) -> Vec<serde_json::Value> {
            self.text()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect()
        }
    }

    impl std::io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::capture::Capture;

    /// Everything a subscriber with `directives` writes while `log` runs.
    fn captured(directives: &str, log: impl FnOnce()) -> String {
        let capture = Capture::default();
        tracing::subscriber::with_default(capture.subscriber(directives), log);
        capture.text()
    }

    #[test]
    fn at_the_most_verbose_setting_the_runtime_still_never_logs_an_event() {
        for directives in [
            "TRACE",
            "trace",
            "lambda_runtime=trace,aws_smithy_runtime=trace,aws_sigv4=trace,trace",
        ] {
            let lines = captured(directives, || {
                tracing::trace!(target: "lambda_runtime::layers::api_response", body = "{\"answers\": 1}", "raw JSON event received from Lambda");
                tracing::debug!(target: "aws_smithy_runtime::client::http", "request body");
                tracing::trace!(target: "aws_sigv4::http_request::sign", "canonical request");
                tracing::trace!(target: "a_library_added_tomorrow", "its request");
                tracing::info!(target: "lambda_runtime", "runtime started");
                tracing::trace!(target: "intake::process", submission_id = "id-1", "ours");
            });
            for secret in [
                "answers",
                "request body",
                "canonical request",
                "its request",
            ] {
                assert!(!lines.contains(secret), "{directives}: {lines}");
            }
            assert!(
                lines.contains("runtime started"),
                "the runtime's INFO lines stay"
            );
            assert!(
                lines.contains("\"submission_id\":\"id-1\""),
                "our own TRACE lines are written: {lines}"
            );
        }
    }

    #[test]
    fn directives_set_levels_per_target_and_unreadable_empty_or_filtered_ones_are_skipped() {
        let lines = captured("warn,intake::process=debug", || {
            tracing::debug!(target: "intake::process", "process debug");
            tracing::trace!(target: "intake::process", "process trace");
            tracing::info!(target: "intake::submit", "submit info");
            tracing::warn!(target: "intake::submit", "submit warn");
        });
        assert!(lines.contains("process debug"), "{lines}");
        assert!(lines.contains("submit warn"), "{lines}");
        for hidden in ["process trace", "submit info"] {
            assert!(!lines.contains(hidden), "{hidden}: {lines}");
        }
        for skipped in [
            "intake=[",
            "",
            "info,",
            ",",
            "intake[{x}]=trace,intake[span]=trace",
        ] {
            let lines = captured(skipped, || {
                tracing::info!(target: "intake", "at the default");
                tracing::debug!(target: "intake", "below it");
            });
            assert!(lines.contains("at the default"), "{skipped:?}: {lines}");
            assert!(!lines.contains("below it"), "{skipped:?}: {lines}");
        }
    }

    #[test]
    fn the_default_level_is_info_and_every_line_is_json() {
        let lines = captured("INFO", || {
            tracing::debug!(target: "intake", "hidden");
            tracing::info!(target: "intake", outcome = "accepted", "shown");
        });
        assert!(!lines.contains("hidden"));
        let line: serde_json::Value = serde_json::from_str(lines.trim()).unwrap();
        assert_eq!(line["outcome"], "accepted");
        assert_eq!(line["level"], "INFO");
    }

    /// The one line a subscriber at `level` writes for an ERROR event inside an invocation's span.
    fn logged_in_an_invocation(level: &str) -> serde_json::Value {
        let lines = captured(level, || {
            let invocation = tracing::info_span!(
                target: "lambda_runtime::layers::trace",
                "Lambda runtime invoke",
                requestId = "req-1",
                xrayTraceId = "Root=1-trace"
            );
            let _entered = invocation.enter();
            tracing::error!(target: "intake", "inside");
        });
        serde_json::from_str(lines.trim()).unwrap()
    }

    #[test]
    fn every_line_carries_a_utc_timestamp_and_the_invocations_request_and_trace_ids() {
        for level in ["INFO", "WARN", "ERROR"] {
            let line = logged_in_an_invocation(level);
            assert_eq!(line["span"]["requestId"], "req-1", "at {level}: {line}");
            assert_eq!(line["span"]["xrayTraceId"], "Root=1-trace", "at {level}");
            let timestamp = line["timestamp"].as_str().expect("a timestamp");
            assert!(
                timestamp.parse::<jiff::Timestamp>().is_ok() && timestamp.ends_with('Z'),
                "{timestamp}"
            );
        }
    }
}
