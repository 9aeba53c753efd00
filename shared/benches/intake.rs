//! What the submit function spends per request on our own code: parse + validate + envelope encode, for a typical
//! survey and for the largest one the contract allows. `make bench` runs it; the figures are printed, not asserted.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use intake::envelope::Envelope;
use intake::submission::{MAX_ANSWERS, MAX_BODY_BYTES, MAX_TEXT_CHARS, Submission};
use intake::testing::example;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

fn body(answers: Map<String, Value>) -> Vec<u8> {
    example().answers(Value::Object(answers)).bytes()
}

/// About 0.5 KB: 20 scored items, two yes/no, a symptom list and a sentence of free text.
fn typical() -> Vec<u8> {
    let mut answers: Map<String, Value> = (1..=20)
        .map(|i| (format!("q{i:02}"), json!(i % 11)))
        .collect();
    answers.insert("nausea".into(), json!(false));
    answers.insert("fever".into(), json!(true));
    answers.insert("symptoms".into(), json!(["cough", "headache"]));
    answers.insert(
        "comment".into(),
        json!("Slept badly, wound dressing changed, walked a little after lunch."),
    );
    body(answers)
}

/// The largest valid body: answers of the longest text or a full multiple choice, until the next would not fit
/// in 256 KiB.
fn maximal() -> Vec<u8> {
    let long = "é".repeat(MAX_TEXT_CHARS / 2) + &"x".repeat(MAX_TEXT_CHARS / 2);
    let mut answers = Map::new();
    for i in 0..MAX_ANSWERS {
        let value = if i % 2 == 0 {
            json!(long)
        } else {
            json!(vec!["choice-".repeat(4); 50])
        };
        answers.insert(format!("question.{i:03}"), value);
        if body(answers.clone()).len() > MAX_BODY_BYTES {
            answers.remove(&format!("question.{i:03}"));
            break;
        }
    }
    body(answers)
}

fn accept(body: &[u8], now: OffsetDateTime) -> String {
    let submission = Submission::parse(body, now).expect("valid");
    Envelope::new(submission, "request-id".into(), now).encode()
}

fn bench(c: &mut Criterion) {
    let now = OffsetDateTime::now_utc();
    let mut group = c.benchmark_group("parse+validate+envelope");
    for (name, body) in [("typical", typical()), ("maximal", maximal())] {
        assert!(body.len() <= MAX_BODY_BYTES);
        accept(&body, now); // panics here, not mid-measurement, if the fixture were invalid
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{name} ({} bytes)", body.len()), |b| {
            b.iter(|| accept(black_box(&body), now))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
