//! Figures from this machine alone, no stack: init time, the processor's concurrency, peak memory.

use std::path::PathBuf;
use std::time::Duration;

use intake::item::{ConflictWrite, EnrolmentItem, SubmissionWrite};
use intake::ports::{Store, StoreError, WriteOutcome};
use intake::process::Processor;
use intake::testing::memory::MemoryStore;
use intake_e2e::Error;
use intake_e2e::stubs::accept_all;
use serde_json::json;
use tokio::time::Instant;

use crate::harness::{self, Runtime};
use crate::workload::{as_records, bodies, sqs_records};

/// Median milliseconds from exec to the first `GET /next` of each binary (named by its function), over `runs` fresh
/// processes each, interleaved.
pub async fn init_medians(binaries: &[(PathBuf, &str)], runs: usize) -> Result<Vec<f64>, Error> {
    if let Some((missing, _)) = binaries.iter().find(|(binary, _)| !binary.exists()) {
        return Err(format!(
            "{} is missing: run `make bench`, which builds it",
            missing.display()
        )
        .into());
    }
    let env = [
        (
            "QUEUE_URL".to_owned(),
            "http://127.0.0.1:9/queue".to_owned(),
        ),
        ("TABLE_NAME".to_owned(), "bench".to_owned()),
    ];
    let runtimes: Vec<Runtime> = binaries
        .iter()
        .map(|(binary, _)| Runtime::Rust(binary.clone()))
        .collect();
    let functions: Vec<harness::Starting> = runtimes
        .iter()
        .zip(binaries)
        .map(|(runtime, (_, function))| harness::Starting {
            runtime,
            function,
            env: &env,
        })
        .collect();
    harness::init_medians(&functions, runs, "init").await
}

/// A store that takes 20 ms per call, as a remote table does.
#[derive(Clone, Default)]
struct SlowStore(MemoryStore);

impl Store for SlowStore {
    async fn write_flags<'a>(
        &self,
        flags: impl Iterator<Item = &'a intake::item::Flag> + Send,
    ) -> Result<(), StoreError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.write_flags(flags).await
    }

    async fn stored_marker_key(
        &self,
        submission_id: uuid::Uuid,
    ) -> Result<Option<intake::item::Key>, StoreError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.stored_marker_key(submission_id).await
    }

    async fn release_timepoint(
        &self,
        marker: &intake::item::TimepointMarker,
        at: &str,
    ) -> Result<(), StoreError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.release_timepoint(marker, at).await
    }

    async fn mark_timepoint(
        &self,
        marker: &intake::item::TimepointMarker,
    ) -> Result<Option<uuid::Uuid>, StoreError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.mark_timepoint(marker).await
    }

    async fn write_submission(&self, write: &SubmissionWrite) -> Result<WriteOutcome, StoreError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.write_submission(write).await
    }
    async fn record_conflict(&self, write: &ConflictWrite) -> Result<bool, StoreError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.record_conflict(write).await
    }
    async fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Option<EnrolmentItem>, StoreError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.enrolment(trial_id, patient_id).await
    }
}

/// Milliseconds for one write, a 100-record batch at the default bound, and the same batch one at a time.
pub async fn processor_figures() -> (f64, f64, f64) {
    let time = |concurrency: usize, records: usize| async move {
        let processor = Processor::new(SlowStore::default(), concurrency);
        let batch = sqs_records(records);
        let started = Instant::now();
        let report = processor.process(batch).await;
        assert_eq!(report.stored, records);
        started.elapsed().as_secs_f64() * 1000.0
    };
    let one = time(1, 1).await;
    let batch = time(intake::process::DEFAULT_MAX_CONCURRENCY, 100).await;
    let serial = time(1, 100).await;
    (one, batch, serial)
}

/// Median milliseconds of a 100-record batch (the demo's mix of instruments) at the default bound against the
/// 20 ms store, with the alert rules evaluated and without: what alert evaluation costs the process function
/// itself (larger transactions; rules comparing reports are the timeline function's, off this path), apart from any
/// emulator.
pub async fn processor_with_and_without_rules(runs: usize) -> (f64, f64) {
    let time = |rules: bool| async move {
        let processor = Processor::new(
            SlowStore::default(),
            intake::process::DEFAULT_MAX_CONCURRENCY,
        );
        let batch = as_records(bodies(100, rules));
        let started = Instant::now();
        let report = processor.process(batch).await;
        assert_eq!(report.stored, 100);
        started.elapsed().as_secs_f64() * 1000.0
    };
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        with.push(time(true).await);
        without.push(time(false).await);
    }
    (median(with), median(without))
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Peak resident set (KiB) of the process function after `batches` invocations of 100 records each.
pub async fn process_peak_rss(binary: &std::path::Path, batches: usize) -> Result<u64, Error> {
    let dynamodb = accept_all().await?;
    let events: Vec<String> = (0..batches)
        .map(|_| json!({ "Records": sqs_records(100) }).to_string())
        .collect();
    let env = [
        ("TABLE_NAME".to_owned(), "bench".to_owned()),
        ("AWS_ENDPOINT_URL".to_owned(), format!("http://{dynamodb}")),
    ];
    let run = harness::run(&Runtime::Rust(binary.to_owned()), "process", &env, events).await?;
    Ok(run.peak_rss_kib)
}
