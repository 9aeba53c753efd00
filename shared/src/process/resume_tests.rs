//! A delivery that stopped part-way (the function timed out, its container died) leaves records its redelivery must
//! complete, never mistake for a finished submission.

use aws_lambda_events::event::sqs::SqsMessage;
use serde_json::json;

use super::Processor;
use crate::envelope::Envelope;
use crate::item::{FlagKind, SubmissionItem, SubmissionWrite};
use crate::testing::example;
use crate::testing::memory::MemoryStore;

fn record(envelope: &Envelope) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some("m1".into());
    record.body = Some(envelope.encode());
    record
}

/// The records a delivery of `envelope` writes, as it would have built them.
fn records_of(envelope: &Envelope) -> SubmissionWrite {
    let at = "2026-11-22T08:00:05.000Z";
    SubmissionWrite::new(SubmissionItem::new(envelope.clone(), at.into()), at)
}

#[tokio::test]
async fn a_delivery_stopped_after_claiming_its_id_and_timepoint_is_stored_by_the_next() {
    let store = MemoryStore::default();
    let envelope = example().envelope();
    let begun = records_of(&envelope);
    store.insert(&begun.claim);
    store.insert(
        begun
            .timepoint
            .as_ref()
            .expect("a first submission marks its timepoint"),
    );

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
        "its own claim and marker are not another submission's"
    );
    assert_eq!(store.submissions().len(), 1);
    assert_eq!((store.claims().len(), store.markers().len()), (1, 1));
    assert!(store.flags().is_empty(), "not a repeat of itself");
}

#[tokio::test]
async fn a_delivery_stopped_after_storing_its_submission_gets_its_flags_from_the_next() {
    let store = MemoryStore::default();
    let ahead = example()
        .set("completedAt", json!("2026-11-22T09:00:00.5Z"))
        .envelope();
    let begun = records_of(&ahead);
    store.insert(&begun.claim);
    store.insert(
        begun
            .timepoint
            .as_ref()
            .expect("a first submission marks its timepoint"),
    );
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
