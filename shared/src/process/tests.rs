use super::*;
use crate::envelope::Envelope;
use crate::item::{ConflictItem, SubmissionItem, content_hash};
use crate::ports::{PutOutcome, StoreError};
use crate::testing::example;
use crate::testing::memory::MemoryStore;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use time::macros::datetime;

fn envelope(id: &str, pain: i32) -> Envelope {
    example().id(id).answer("pain", json!(pain)).envelope()
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
    async fn put_if_absent(&self, item: &SubmissionItem) -> Result<PutOutcome, StoreError> {
        let id = item.submission.submission_id.to_string();
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
        self.inner.put_if_absent(item).await
    }

    async fn record_conflict(&self, conflict: &ConflictItem) -> Result<(), StoreError> {
        self.inner.record_conflict(conflict).await
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
    let resend = Envelope::new(
        example().id(id(1)).answer("pain", json!(3)).judged(),
        "fhir",
        "req-2".into(),
        datetime!(2026-11-22 09:00:00 UTC),
    );
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
    assert_eq!(conflicts[0].content_hash, content_hash(&changed.submission));
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
