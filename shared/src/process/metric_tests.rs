//! What a batch adds to the process function's metrics.

use super::*;
use crate::metrics::recorded;
use crate::testing::example;
use crate::testing::memory::MemoryStore;

fn record(message_id: &str, body: &str, sent_ms_ago: Option<u64>) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(message_id.into());
    record.body = Some(body.into());
    if let Some(ago) = sent_ms_ago {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        record
            .attributes
            .insert("SentTimestamp".into(), (now - ago).to_string());
    }
    record
}

#[test]
fn a_batch_counts_what_was_stored_repeated_and_failed_and_how_long_the_stored_one_waited() {
    let body = example::example().envelope().encode();
    let batch = vec![
        record("first", &body, Some(2_000)),
        record("again", &body, Some(1_000)),
        record("poison", "not an envelope", None),
    ];
    let (report, counted) = recorded::run(async {
        Processor::new(MemoryStore::default(), 1)
            .process(batch)
            .await
    });
    assert_eq!((report.stored, report.duplicates, report.failed), (1, 1, 1));
    assert_eq!(counted.counter("Stored"), 1);
    assert_eq!(counted.counter("Duplicates"), 1);
    assert_eq!(counted.counter("Conflicts"), 0);
    assert_eq!(counted.counter("FailedRecords"), 1);
    assert_eq!(counted.counter("AlertsRaised"), 0);
    let waited = &counted.histograms["QueueToStoreLatency"];
    assert_eq!(waited.len(), 1, "only the record stored is timed");
    assert!((2_000.0..60_000.0).contains(&waited[0]), "{waited:?}");
}

#[test]
fn an_alert_raised_is_counted() {
    let body = example::example()
        .survey("phq-9", example::phq9_answers("LA6569-3"))
        .envelope()
        .encode();
    let (report, counted) = recorded::run(async {
        Processor::new(MemoryStore::default(), 1)
            .process(vec![record("urgent", &body, None)])
            .await
    });
    assert_eq!(report.alerts, 1);
    assert_eq!(counted.counter("AlertsRaised"), 1);
    assert!(
        !counted.histograms.contains_key("QueueToStoreLatency"),
        "no SentTimestamp, no figure"
    );
}

#[test]
fn a_batch_larger_than_an_emf_document_holds_is_timed_on_an_even_sample() {
    let records: Vec<_> = (0..250)
        .map(|n| {
            let body = example::example()
                .id(format!("00000000-0000-4000-8000-{n:012}"))
                .set("timepoint", serde_json::json!(format!("visit-{n}")))
                .envelope()
                .encode();
            record(&format!("m{n}"), &body, Some(1_000))
        })
        .collect();
    let (report, counted) = recorded::run(async {
        Processor::new(MemoryStore::default(), 16)
            .process(records)
            .await
    });
    assert_eq!(report.stored, 250);
    assert_eq!(counted.counter("Stored"), 250);
    assert_eq!(
        counted.histograms["QueueToStoreLatency"].len(),
        84,
        "every third of 250"
    );
}
