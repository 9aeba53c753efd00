//! Properties that must hold for any input at all, however hostile. The fuzz targets (`shared/fuzz`) check them
//! on generated input, and `cargo test` replays the saved corpus through them, so a crash found once stays fixed.
//!
//! Each function panics when a property breaks; for ordinary rejected input it simply returns.

use serde_dynamo::Item;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::envelope::Envelope;
use crate::item::{SubmissionItem, content_hash};
use crate::submission::{Rejection, Submission};

/// A fixed receive time, so a replayed input is judged exactly as when it was found.
pub const RECEIVED_AT: OffsetDateTime = datetime!(2026-11-22 12:00:00 UTC);

/// A request body: rejected with at least one reason, or accepted and then carried unchanged through the queue
/// envelope and into a storable item with a stable content hash.
pub fn request_body(body: &[u8]) {
    let submission = match Submission::parse(body, RECEIVED_AT) {
        Ok(submission) => submission,
        Err(Rejection::MalformedJson(detail)) => return assert!(!detail.is_empty()),
        Err(Rejection::Invalid(problems)) => return assert!(!problems.is_empty()),
    };
    let envelope = Envelope::new(submission.clone(), "fuzz".into(), RECEIVED_AT);
    let decoded =
        Envelope::decode(&envelope.encode()).expect("an accepted submission's envelope decodes");
    assert_eq!(
        decoded, envelope,
        "the queue carries the submission unchanged"
    );
    assert_eq!(content_hash(&decoded.submission), content_hash(&submission));
    let item: Item = serde_dynamo::to_item(SubmissionItem::new(
        decoded,
        "2026-11-22T12:00:01.000Z".into(),
    ))
    .expect("an accepted submission maps to a DynamoDB item");
    let back: SubmissionItem = serde_dynamo::from_item(item).expect("and reads back");
    assert_eq!(
        back.submission, submission,
        "the stored item reads back as what was accepted"
    );
}

/// A queue message: rejected, or a valid envelope whose re-encoding decodes to itself (decoding is canonical).
pub fn queue_message(message: &[u8]) {
    let Ok(text) = std::str::from_utf8(message) else {
        return; // SQS bodies are UTF-8 by definition
    };
    if let Ok(envelope) = Envelope::decode(text) {
        let again =
            Envelope::decode(&envelope.encode()).expect("a decoded envelope re-encodes decodably");
        assert_eq!(again, envelope);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::testing::example;

    /// Every input saved under `fuzz/corpus/<target>` and `fuzz/regressions/<target>`.
    fn saved_inputs(target: &str) -> Vec<(String, Vec<u8>)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut inputs = Vec::new();
        for folder in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("readable corpus folder").path();
                inputs.push((
                    path.display().to_string(),
                    std::fs::read(&path).expect("readable input"),
                ));
            }
        }
        inputs
    }

    /// Replays a target's saved inputs through its property check.
    fn replay(target: &str, check: fn(&[u8]), at_least: usize) {
        let inputs = saved_inputs(target);
        assert!(
            inputs.len() >= at_least,
            "the seed corpus is checked in ({} found)",
            inputs.len()
        );
        for (name, input) in inputs {
            let outcome = std::panic::catch_unwind(|| check(&input));
            assert!(outcome.is_ok(), "{name} breaks a property");
        }
    }

    #[test]
    fn the_saved_request_body_corpus_replays_cleanly() {
        replay("request_body", request_body, 20);
    }

    #[test]
    fn the_saved_queue_message_corpus_replays_cleanly() {
        replay("queue_message", queue_message, 10);
    }

    #[test]
    fn a_valid_body_passes_every_property() {
        let body = &example()
            .set("completedAt", json!("2026-11-22T11:58:03+01:00"))
            .answer("pain", json!(3.0))
            .bytes();
        assert!(Submission::parse(body, RECEIVED_AT).is_ok());
        request_body(body);
        let envelope = Envelope::new(
            Submission::parse(body, RECEIVED_AT).unwrap(),
            "r".into(),
            RECEIVED_AT,
        );
        queue_message(envelope.encode().as_bytes());
    }
}
