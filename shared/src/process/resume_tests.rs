//! A delivery that stopped part-way (the function timed out, its container died) leaves records its redelivery must
//! complete, never mistake for a finished submission.

use aws_lambda_events::event::sqs::SqsMessage;
use serde_json::json;

use super::Processor;
use crate::envelope::Envelope;
use crate::item::{FlagKind, IdClaim, SubmissionItem, SubmissionWrite, legacy_submission_key};
use crate::testing::example;
use crate::testing::example::phq9_answers;
use crate::testing::memory::MemoryStore;

fn record(envelope: &Envelope) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some("m1".into());
    record.body = Some(envelope.encode());
    record
}

/// The records a delivery of `envelope` writes, as it would have built them, with the one written ahead of the
/// submission (its timepoint marker) left in `store` as by a delivery that stopped after it.
fn stopped_after_marker(store: &MemoryStore, envelope: &Envelope) -> SubmissionWrite {
    let at = "2026-11-22T08:00:05.000Z";
    let begun = SubmissionWrite::new(SubmissionItem::new(envelope.clone(), at.into()), at);
    store.insert(
        begun
            .timepoint
            .as_ref()
            .expect("a first submission marks its timepoint"),
    );
    begun
}

#[tokio::test]
async fn a_delivery_stopped_after_marking_its_timepoint_is_stored_by_the_next() {
    let store = MemoryStore::default();
    let envelope = example().envelope();
    stopped_after_marker(&store, &envelope);

    let report = Processor::new(store.clone(), 4)
        .process(vec![record(&envelope)])
        .await;

    assert_eq!(
        (
            report.stored,
            report.duplicates,
            report.repeats,
            report.failed
        ),
        (1, 0, 0, 0),
        "its own marker is not another submission's"
    );
    assert_eq!(store.submissions().len(), 1);
    assert_eq!(store.markers().len(), 1);
    assert!(store.flags().is_empty(), "not a repeat of itself");
}

/// A delivery of the layout before 2026-12-06 stopped after its id claim and marker, as that layout wrote them.
fn stopped_after_legacy_claim(store: &MemoryStore, envelope: &Envelope) -> SubmissionWrite {
    let begun = stopped_after_marker(store, envelope);
    store.insert(&IdClaim::of(&begun.item, "2026-11-22T08:00:05.000Z"));
    begun
}

/// `begun`'s item where the layout before 2026-12-06 stored it: in its patient's partition.
fn stored_in_patient_partition(store: &MemoryStore, begun: &SubmissionWrite) -> SubmissionItem {
    let submission = &begun.item.submission;
    let (pk, sk) = legacy_submission_key(
        &submission.trial_id,
        &submission.patient_id,
        &submission.submission_id,
    );
    let legacy = SubmissionItem {
        pk,
        sk,
        ..begun.item.clone()
    };
    store.insert(&legacy);
    legacy
}

#[tokio::test]
async fn a_delivery_the_earlier_layout_stopped_after_its_claim_is_completed_in_that_layout_once() {
    let store = MemoryStore::default();
    let envelope = example().envelope();
    stopped_after_legacy_claim(&store, &envelope);

    let processor = Processor::new(store.clone(), 4);
    let report = processor.process(vec![record(&envelope)]).await;
    let again = processor.process(vec![record(&envelope)]).await;

    assert_eq!((report.stored, report.failed), (1, 0), "its own claim");
    assert_eq!((again.duplicates, again.failed), (1, 0));
    let stored = store.submissions();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].pk.as_str(), stored[0].sk.as_str()),
        (
            "TRIAL#ONC-2026-01#PATIENT#P-000123",
            "SUBMISSION#0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f"
        ),
        "where the earlier layout stores it: a new item, which the table's stream brings on"
    );
    assert_eq!(store.claims().len(), 1, "its claim still guards its id");
}

#[tokio::test]
async fn a_submission_the_earlier_layout_stored_is_a_duplicate_when_resent_and_never_stored_twice()
{
    let store = MemoryStore::default();
    let envelope = example().envelope();
    let begun = stopped_after_legacy_claim(&store, &envelope);
    let legacy = stored_in_patient_partition(&store, &begun);

    let report = Processor::new(store.clone(), 4)
        .process(vec![record(&envelope)])
        .await;

    assert_eq!((report.duplicates, report.stored, report.failed), (1, 0, 0));
    assert_eq!(store.submissions(), vec![legacy], "where it was, once");
    assert_eq!(store.claims().len(), 1, "its claim still guards its id");
}

#[tokio::test]
async fn an_edit_of_a_submission_the_earlier_layout_stored_is_a_conflict_and_keeps_its_marker() {
    let store = MemoryStore::default();
    let envelope = example().envelope();
    let begun = stopped_after_legacy_claim(&store, &envelope);
    let legacy = stored_in_patient_partition(&store, &begun);
    let edited = example().answer("pain", json!(9)).envelope();

    let report = Processor::new(store.clone(), 4)
        .process(vec![record(&edited)])
        .await;

    assert_eq!((report.conflicts, report.stored, report.failed), (1, 0, 0));
    assert_eq!(store.submissions(), vec![legacy]);
    assert_eq!(store.conflicts().len(), 1);
    let markers = store.markers();
    assert_eq!(markers.len(), 1);
    assert_eq!(
        markers[0].released_at, None,
        "the stored one's marker stays"
    );
}

#[tokio::test]
async fn a_delivery_stopped_after_storing_its_submission_gets_its_flags_from_the_next() {
    let store = MemoryStore::default();
    let ahead = example()
        .set("completedAt", json!("2026-11-22T09:00:00.5Z"))
        .envelope();
    let begun = stopped_after_marker(&store, &ahead);
    store.insert(&begun.item);

    let report = Processor::new(store.clone(), 4)
        .process(vec![record(&ahead)])
        .await;

    assert_eq!((report.duplicates, report.failed), (1, 0));
    assert_eq!(
        store.submissions(),
        vec![begun.item],
        "the stored item stays"
    );
    let kinds: Vec<FlagKind> = store.flags().into_iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FlagKind::ClockAhead]);
}

#[tokio::test]
async fn a_first_submission_whose_repeat_was_stored_while_it_waited_is_stored_without_a_second_alert()
 {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 4);
    let tap = |n: u32| {
        example()
            .id(format!("00000000-0000-4000-8000-{n:012}"))
            .survey("phq-9", phq9_answers("LA6570-1"))
            .set("timepoint", json!("day-7"))
            .envelope()
    };
    // The first tap's delivery marked the timepoint, then stopped (throttled, timed out); the second tap, a new
    // id, is stored meanwhile as its repeat and raises the event's alert.
    let (first, second) = (tap(1), tap(2));
    stopped_after_marker(&store, &first);
    let report = processor.process(vec![record(&second)]).await;
    assert_eq!((report.repeats, report.alerts), (1, 1));

    let report = processor.process(vec![record(&first)]).await;

    assert_eq!(
        (report.stored, report.failed, report.alerts),
        (1, 0, 0),
        "stored, its event's alert already raised"
    );
    assert_eq!(store.submissions().len(), 2);
    assert_eq!(store.alerts().len(), 1, "one clinical event, one alert");
}
