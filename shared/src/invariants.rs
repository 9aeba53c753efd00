//! Properties that must hold for any input at all, however hostile. The fuzz targets (`shared/fuzz`) check them
//! on generated input, and `cargo test` replays the saved corpus through them, so a crash found once stays fixed.
//!
//! Each function panics when a property breaks; for ordinary rejected input it simply returns.

use serde_dynamo::Item;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::envelope::Envelope;
use crate::fhir::render;
use crate::instrument::Catalogue;
use crate::item::{SubmissionItem, content_hash};
use crate::submit::{Form, SubmitError, accept};

/// A fixed receive time, so a replayed input is judged exactly as when it was found.
pub const RECEIVED_AT: OffsetDateTime = datetime!(2026-11-22 12:00:00 UTC);

/// A JSON request body: refused with at least one reason, or accepted and then carried unchanged through the queue
/// envelope and into a storable item with a stable content hash.
pub fn request_body(body: &[u8]) {
    accepted_then_carried(Form::Json, body);
}

/// A FHIR request body: refused with at least one reason, or accepted, carried like a JSON one, and rendered back
/// as a `QuestionnaireResponse` that is accepted as the very same submission.
pub fn fhir_body(body: &[u8]) {
    let Some(envelope) = accepted_then_carried(Form::Fhir, body) else {
        return;
    };
    let catalogue = catalogue();
    let rendered = render::questionnaire_response(catalogue, &envelope.submission)
        .expect("an accepted submission's version is in the catalogue");
    let again = accept(Form::Fhir, rendered.to_string().as_bytes(), catalogue)
        .expect("a rendered response is accepted");
    assert_eq!(
        again.submission, envelope.submission,
        "FHIR out, FHIR in: the same submission"
    );
}

fn catalogue() -> &'static Catalogue {
    Catalogue::embedded()
}

/// The envelope of an accepted body, after checking it survives the queue and the table; `None` when refused.
fn accepted_then_carried(form: Form, body: &[u8]) -> Option<Envelope> {
    let judged = match accept(form, body, catalogue()) {
        Ok(judged) => judged,
        Err(refusal) => {
            let reasons = match &refusal {
                SubmitError::Malformed(detail) => usize::from(!detail.is_empty()),
                SubmitError::Invalid(problems) => problems.len(),
                SubmitError::Unstructured(issues) | SubmitError::Unprocessable(issues) => {
                    issues.len()
                }
                other => panic!("a body alone cannot cause {other:?}"),
            };
            assert!(reasons > 0, "a refusal gives a reason");
            return None;
        }
    };
    let submission = judged.submission.clone();
    let envelope = Envelope::new(judged, form.name(), "fuzz".into(), RECEIVED_AT);
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
    Some(envelope)
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
    fn the_saved_fhir_body_corpus_replays_cleanly() {
        replay("fhir_body", fhir_body, 5);
    }

    #[test]
    fn a_valid_body_passes_every_property_in_both_forms() {
        let example = example()
            .set("completedAt", json!("2026-11-22T11:58:03+01:00"))
            .answer("pain", json!(3.0));
        let body = &example.bytes();
        let envelope = accepted_then_carried(Form::Json, body).expect("the example is accepted");
        queue_message(envelope.encode().as_bytes());
        let response = render::questionnaire_response(catalogue(), &envelope.submission).unwrap();
        let fhir =
            accepted_then_carried(Form::Fhir, response.to_string().as_bytes()).expect("accepted");
        assert_eq!(fhir.submission, envelope.submission);
        fhir_body(response.to_string().as_bytes());
    }
}
