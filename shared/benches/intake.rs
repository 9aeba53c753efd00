//! What the submit function spends per request on our own code: parse + validate (contract and instrument) +
//! envelope encode, for a typical daily survey, a PHQ-9 in both forms, and the largest body the contract allows.
//! `make bench` runs it; the figures are printed, not asserted.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use intake::envelope::Envelope;
use intake::fhir::render;
use intake::instrument::Catalogue;
use intake::submission::MAX_BODY_BYTES;
use intake::submit::{Form, accept};
use intake::testing::example::{self, example};
use serde_json::json;
use time::OffsetDateTime;

fn encode(form: Form, body: &[u8], now: OffsetDateTime, catalogue: &Catalogue) -> String {
    let judged = accept(form, body, catalogue).expect("valid");
    Envelope::new(judged, form.name(), "request-id".into(), now).encode()
}

fn bench(c: &mut Criterion) {
    let now = example::RECEIVED_AT;
    let catalogue = Catalogue::embedded();
    // The daily survey with a sentence of free text: about 0.4 KB.
    let typical = example()
        .answer("sleepHours", json!(6.5))
        .answer("mood", json!(6))
        .answer(
            "comment",
            json!("Slept badly, wound dressing changed, walked a little after lunch."),
        )
        .bytes();
    let phq9 = example().survey("phq-9", example::phq9_answers("LA6569-3"));
    let phq9_fhir = render::questionnaire_response(catalogue, &phq9.judged().submission)
        .expect("rendered")
        .to_string()
        .into_bytes();
    let cases = [
        ("typical daily survey, JSON", Form::Json, typical),
        ("PHQ-9, JSON", Form::Json, phq9.bytes()),
        ("PHQ-9, FHIR QuestionnaireResponse", Form::Fhir, phq9_fhir),
        (
            "largest valid body, JSON",
            Form::Json,
            example::largest(example()).bytes(),
        ),
    ];
    let mut group = c.benchmark_group("parse+validate+envelope");
    for (name, form, body) in cases {
        assert!(body.len() <= MAX_BODY_BYTES);
        encode(form, &body, now, catalogue); // panics here, not mid-measurement, if the fixture were invalid
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{name} ({} bytes)", body.len()), |b| {
            b.iter(|| encode(form, black_box(&body), now, catalogue))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
