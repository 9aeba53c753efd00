use super::*;
use crate::envelope::Envelope;
use crate::item::{ConflictWrite, EnrolmentItem, FlagKind, SubmissionWrite, TimepointMarker};
use crate::ports::{StoreError, WriteOutcome};
use crate::testing::example;
use crate::testing::memory::MemoryStore;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The example with another id and pain score, at a timepoint of its own (so distinct ids are not repeats).
fn envelope(id: &str, pain: i32) -> Envelope {
    let timepoint = format!("visit-{}", &id[id.len() - 4..]);
    example()
        .id(id)
        .set("timepoint", json!(timepoint))
        .answer("pain", json!(pain))
        .envelope()
}

fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn record(message_id: &str, body: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(message_id.into());
    record.body = Some(body.into());
    record
}

fn good(message_id: &str, n: u32) -> SqsMessage {
    record(message_id, &envelope(&id(n), 3).encode())
}

fn failed_ids(report: &BatchReport) -> Vec<&str> {
    let mut ids: Vec<&str> = report
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    ids.sort_unstable();
    ids
}

/// A store that delegates to a `MemoryStore` but fails, panics or waits for chosen submissions.
#[derive(Default)]
struct FaultyStore {
    inner: MemoryStore,
    fail_for: Option<String>,
    panic_for: Option<String>,
    hang_for: Option<String>,
    latency: Duration,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

impl Store for FaultyStore {
    async fn write_flags<'a>(
        &self,
        flags: impl Iterator<Item = &'a crate::item::Flag> + Send,
    ) -> Result<(), StoreError> {
        self.inner.write_flags(flags).await
    }

    async fn stored_marker_key(
        &self,
        submission_id: uuid::Uuid,
    ) -> Result<Option<crate::item::Key>, StoreError> {
        self.inner.stored_marker_key(submission_id).await
    }

    async fn release_timepoint(
        &self,
        marker: &TimepointMarker,
        at: &str,
    ) -> Result<(), StoreError> {
        self.inner.release_timepoint(marker, at).await
    }

    async fn mark_timepoint(
        &self,
        marker: &TimepointMarker,
    ) -> Result<Option<uuid::Uuid>, StoreError> {
        self.inner.mark_timepoint(marker).await
    }

    async fn write_submission(&self, write: &SubmissionWrite) -> Result<WriteOutcome, StoreError> {
        let id = write.item.submission.submission_id.to_string();
        if self.panic_for.as_deref() == Some(id.as_str()) {
            panic!("injected panic");
        }
        if self.fail_for.as_deref() == Some(id.as_str()) {
            return Err(StoreError("ProvisionedThroughputExceededException".into()));
        }
        if self.hang_for.as_deref() == Some(id.as_str()) {
            std::future::pending::<()>().await;
        }
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.latency).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.inner.write_submission(write).await
    }

    async fn record_conflict(&self, write: &ConflictWrite) -> Result<bool, StoreError> {
        self.inner.record_conflict(write).await
    }

    async fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Option<EnrolmentItem>, StoreError> {
        self.inner.enrolment(trial_id, patient_id).await
    }
}

#[tokio::test]
async fn stores_each_record_once() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 4);
    let report = processor
        .process((1..=10).map(|n| good(&format!("m{n}"), n)).collect())
        .await;
    assert_eq!((report.stored, report.failed), (10, 0));
    assert!(report.response.batch_item_failures.is_empty());
    assert_eq!(store.submissions().len(), 10);
}

#[tokio::test]
async fn a_redelivered_or_resent_submission_is_a_duplicate_and_acknowledged() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 4);
    processor.process(vec![good("m1", 1)]).await;
    let first = store.submissions();
    // Same content, new request id and receive time: still the same submission.
    let mut resend = envelope(&id(1), 3);
    resend.request_id = "req-2".into();
    resend.received_at = "2026-11-22T09:00:00.000Z".into();
    resend.received_as = "fhir".into();
    let report = processor
        .process(vec![good("m2", 1), record("m3", &resend.encode())])
        .await;
    assert_eq!((report.stored, report.duplicates, report.failed), (0, 2, 0));
    assert!(report.response.batch_item_failures.is_empty());
    assert_eq!(
        store.submissions(),
        first,
        "the stored item must not change"
    );
}

#[tokio::test]
async fn duplicates_within_one_batch_store_one_item() {
    let store = MemoryStore::default();
    let report = Processor::new(store.clone(), 8)
        .process((0..5).map(|i| good(&format!("m{i}"), 7)).collect())
        .await;
    assert_eq!((report.stored, report.duplicates), (1, 4));
    assert_eq!(store.submissions().len(), 1);
}

#[tokio::test]
async fn a_conflicting_resend_keeps_the_original_and_records_the_conflict() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 4);
    processor.process(vec![good("m1", 1)]).await;
    let original = store.submissions();
    let changed = envelope(&id(1), 9);

    let report = processor
        .process(vec![record("m2", &changed.encode())])
        .await;
    assert_eq!((report.conflicts, report.failed), (1, 0));
    assert!(
        report.response.batch_item_failures.is_empty(),
        "a conflict is acknowledged"
    );
    assert_eq!(store.submissions(), original);

    let conflicts = store.conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].original_content_hash, original[0].content_hash);
    let resend = crate::item::SubmissionItem::new(changed.clone(), String::new());
    assert_eq!(conflicts[0].content_hash, resend.content_hash);
    assert_eq!(conflicts[0].conflicting_submission, changed.submission);

    // The same conflicting message delivered again is recorded once.
    processor
        .process(vec![record("m3", &changed.encode())])
        .await;
    assert_eq!(store.conflicts().len(), 1);
}

/// Three records, the second of which meets `store`'s fault: only that one may come back.
async fn only_the_faulty_record_fails(store: FaultyStore) {
    let report = Processor::new(store, 4)
        .process(vec![good("m1", 1), good("m2", 2), good("m3", 3)])
        .await;
    assert_eq!(failed_ids(&report), ["m2"]);
    assert_eq!((report.stored, report.failed), (2, 1));
}

#[tokio::test]
async fn a_store_error_fails_only_that_record() {
    only_the_faulty_record_fails(FaultyStore {
        fail_for: Some(id(2)),
        ..FaultyStore::default()
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_record_unfinished_at_the_deadline_fails_alone_and_the_batch_still_answers() {
    let store = FaultyStore {
        hang_for: Some(id(2)),
        ..FaultyStore::default()
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(4);
    let report = Processor::new(store, 4)
        .process_until(vec![good("m1", 1), good("m2", 2), good("m3", 3)], deadline)
        .await;
    assert_eq!(failed_ids(&report), ["m2"]);
    assert_eq!((report.stored, report.failed), (2, 1));
    assert_eq!(
        Instant::now(),
        deadline,
        "answered at the deadline, not after"
    );
}

#[tokio::test]
async fn unparseable_records_fail_so_they_reach_the_dlq() {
    let store = MemoryStore::default();
    let mut no_body = SqsMessage::default();
    no_body.message_id = Some("m4".into());
    let mut future_version: serde_json::Value =
        serde_json::from_str(&envelope(&id(5), 1).encode()).unwrap();
    future_version["schemaVersion"] = json!(99);
    let records = vec![
        good("m1", 1),
        record("m2", "{not json"),
        record("m3", r#"{"schemaVersion": 1, "hello": "world"}"#),
        no_body,
        record("m5", &future_version.to_string()),
    ];
    let report = Processor::new(store.clone(), 4).process(records).await;
    assert_eq!(failed_ids(&report), ["m2", "m3", "m4", "m5"]);
    assert_eq!(report.stored, 1);
    assert_eq!(store.submissions().len(), 1);
}

#[tokio::test]
async fn a_panic_in_one_record_fails_only_that_record() {
    only_the_faulty_record_fails(FaultyStore {
        panic_for: Some(id(2)),
        ..FaultyStore::default()
    })
    .await;
}

#[tokio::test]
async fn the_batch_response_has_the_shape_lambda_expects() {
    let report = Processor::new(MemoryStore::default(), 4)
        .process(vec![good("m1", 1), record("m2", "junk")])
        .await;
    let wire = serde_json::to_value(&report.response).unwrap();
    assert_eq!(
        wire,
        json!({ "batchItemFailures": [{ "itemIdentifier": "m2" }] })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_concurrently_up_to_the_bound() {
    writes_up_to_eight_at_once().await;
}

/// The functions run tokio's current-thread scheduler: records still wait on the store together.
#[tokio::test(flavor = "current_thread")]
async fn writes_concurrently_up_to_the_bound_on_the_one_thread_a_function_runs() {
    writes_up_to_eight_at_once().await;
}

async fn writes_up_to_eight_at_once() {
    let store = Arc::new(FaultyStore {
        latency: Duration::from_millis(20),
        ..FaultyStore::default()
    });
    let processor = Processor {
        store: Arc::clone(&store),
        permits: Arc::new(Semaphore::new(8)),
    };
    let report = processor
        .process((1..=40).map(|n| good(&format!("m{n}"), n)).collect())
        .await;
    assert_eq!(report.stored, 40);
    let most = store.most_in_flight.load(Ordering::SeqCst);
    assert!(
        (2..=8).contains(&most),
        "{most} writes were in flight at once"
    );
}

#[tokio::test]
async fn a_marker_a_conflicting_resend_never_gave_back_makes_no_one_a_repeat_of_it() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 4);
    processor.process(vec![good("m1", 1)]).await;
    // Another patient's app resent that id; its delivery marked this timepoint in their partition, then stopped
    // before it found the id stored and gave the marker back.
    let resend = example().id(id(1)).patient("P-000999").envelope();
    let at = "2026-11-22T08:00:05.000Z";
    let left = SubmissionWrite::new(crate::item::SubmissionItem::new(resend, at.into()), at);
    store.insert(left.timepoint.as_ref().unwrap());

    let own_first = example().id(id(2)).patient("P-000999").envelope();
    let report = processor
        .process(vec![record("m2", &own_first.encode())])
        .await;

    assert_eq!(
        (report.stored, report.repeats, report.failed),
        (1, 0, 0),
        "no repeat of an id stored for another patient"
    );
    let marker = store
        .markers()
        .into_iter()
        .find(|m| m.pk == "TRIAL#ONC-2026-01#PATIENT#P-000999")
        .unwrap();
    assert_eq!(
        (marker.submission_id.to_string(), marker.released_at),
        (id(2), None),
        "the patient's own first submission holds it"
    );
}

#[tokio::test]
async fn one_submission_id_is_one_record_whatever_trial_or_patient_resends_it() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 4);
    processor.process(vec![good("m1", 1)]).await;
    // The same id from another trial, and from another patient: not a second original anywhere.
    let elsewhere = example().id(id(1)).trial("OTHER-TRIAL").envelope();
    let someone_else = example().id(id(1)).patient("P-000999").envelope();
    let report = processor
        .process(vec![
            record("m2", &elsewhere.encode()),
            record("m3", &someone_else.encode()),
        ])
        .await;
    assert_eq!((report.stored, report.conflicts, report.failed), (0, 2, 0));
    assert_eq!(store.submissions().len(), 1, "one id, one record");
    // Each resend marked its timepoint in its own partition before its put found the id stored, and gave the
    // marker back: a later first submission there is no repeat of an id stored elsewhere.
    let released: Vec<(String, bool)> = store
        .markers()
        .into_iter()
        .map(|m| (m.pk, m.released_at.is_some()))
        .collect();
    assert_eq!(
        released,
        [
            ("TRIAL#ONC-2026-01#PATIENT#P-000123".to_owned(), false),
            ("TRIAL#ONC-2026-01#PATIENT#P-000999".to_owned(), true),
            ("TRIAL#OTHER-TRIAL#PATIENT#P-000123".to_owned(), true),
        ]
    );
    let own_first = example().id(id(2)).patient("P-000999").envelope();
    let report = processor
        .process(vec![record("m4", &own_first.encode())])
        .await;
    assert_eq!(
        (report.stored, report.repeats),
        (1, 0),
        "the other patient's own first submission at that timepoint is no repeat"
    );
    let conflicts = store.conflicts();
    assert_eq!(conflicts.len(), 2);
    // Each conflict stays in its sender's partition: nothing is written into another trial's records.
    assert!(
        conflicts
            .iter()
            .any(|c| c.pk.starts_with("TRIAL#OTHER-TRIAL#"))
    );
    assert!(
        conflicts
            .iter()
            .any(|c| c.pk.ends_with("#PATIENT#P-000999"))
    );
    assert!(
        conflicts
            .iter()
            .all(|c| c.flag_trial_id == c.conflicting_submission.trial_id)
    );
}

#[tokio::test]
async fn a_second_submission_of_a_timepoint_under_a_new_id_is_stored_and_flagged_as_a_repeat() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 4);
    let first = example().id(id(1)).envelope();
    let again = example().id(id(2)).answer("pain", json!(5)).envelope();
    processor.process(vec![record("m1", &first.encode())]).await;
    let report = processor.process(vec![record("m2", &again.encode())]).await;
    assert_eq!((report.stored, report.repeats, report.failed), (1, 1, 0));
    let stored = store.submissions();
    assert_eq!(stored.len(), 2, "a repeat is stored, not refused");
    let repeat = stored
        .iter()
        .find(|s| s.submission.submission_id.to_string() == id(2))
        .unwrap();
    assert_eq!(repeat.repeat_of.map(|first| first.to_string()), Some(id(1)));
    let flags = store.flags();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].kind, FlagKind::Repeat);
    assert!(flags[0].detail.contains(&id(1)));
    // Redelivered, the repeat is a duplicate: no second flag.
    processor.process(vec![record("m3", &again.encode())]).await;
    assert_eq!(store.flags().len(), 1);
}

#[tokio::test]
async fn of_two_new_ids_for_one_timepoint_in_one_batch_exactly_one_is_the_repeat() {
    let store = MemoryStore::default();
    let report = Processor::new(store.clone(), 8)
        .process(vec![
            record("m1", &example().id(id(1)).envelope().encode()),
            record("m2", &example().id(id(2)).envelope().encode()),
        ])
        .await;
    assert_eq!((report.stored, report.repeats), (2, 1));
    assert_eq!(store.markers().len(), 1);
}

#[tokio::test]
async fn a_fast_device_clock_is_stored_with_its_skew_and_flagged() {
    let store = MemoryStore::default();
    let ahead = example()
        .set("completedAt", json!("2026-11-22T09:00:00.5Z"))
        .envelope();
    let report = Processor::new(store.clone(), 4)
        .process(vec![record("m1", &ahead.encode())])
        .await;
    assert_eq!(report.stored, 1);
    assert_eq!(store.submissions()[0].clock_ahead_seconds, Some(3_600));
    assert_eq!(store.flags()[0].kind, FlagKind::ClockAhead);
}

#[tokio::test]
async fn a_records_own_log_line_carries_the_invocations_request_and_trace_ids() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 4);
    processor.process(vec![good("m1", 1)]).await;
    let capture = crate::logging::capture::Capture::default();
    let _logging = tracing::subscriber::set_default(capture.subscriber("INFO"));
    let invocation = tracing::info_span!(
        "Lambda runtime invoke",
        requestId = "req-7",
        xrayTraceId = "Root=1-7"
    );
    // A conflicting resend: its warning is written inside the record's own task.
    processor
        .process(vec![record("m2", &envelope(&id(1), 9).encode())])
        .instrument(invocation)
        .await;
    let lines = capture.lines();
    let conflict = lines
        .iter()
        .find(|line| line["submission_id"] == id(1).as_str())
        .expect("the conflict is logged");
    assert_eq!(conflict["span"]["requestId"], "req-7", "{conflict}");
    assert_eq!(conflict["span"]["xrayTraceId"], "Root=1-7");
}
