//! What the benchmarks feed in: generated surveys judged as `submit` judges them, as envelopes or SQS records.

use indicatif::{ProgressBar, ProgressStyle};
use intake::envelope::Envelope;
use intake::instrument::Catalogue;
use intake::submit::accept;
use intake_e2e::Survey;
use time::OffsetDateTime;

pub fn sqs_records(count: usize) -> Vec<aws_lambda_events::event::sqs::SqsMessage> {
    let mut rng = fastrand::Rng::with_seed(1);
    (0..count)
        .map(|i| {
            let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
            record.message_id = Some(format!("m{i}"));
            record.body = Some(envelope(&mut rng, "BENCH", i).encode());
            record
        })
        .collect()
}

/// Survey `i` of a generated mix in `trial`, judged and wrapped as `submit` does.
pub fn envelope(rng: &mut fastrand::Rng, trial: &str, i: usize) -> Envelope {
    let survey = Survey::generate(trial, &format!("P-{i:06}"), "day-7", rng);
    let now = OffsetDateTime::now_utc();
    let (_, _, body) = survey.request();
    let judged = accept(survey.form, body.as_bytes(), Catalogue::embedded())
        .expect("generated surveys are valid");
    Envelope::new(judged, survey.form.name(), format!("bench-{i}"), now)
}

pub fn progress(len: usize, what: &str) -> ProgressBar {
    ProgressBar::new(len as u64).with_style(
        ProgressStyle::with_template(&format!("  {what:<14} [{{bar:30}}] {{pos}}/{{len}}"))
            .expect("valid template")
            .progress_chars("=> "),
    )
}

/// `count` queue message bodies of fresh generated surveys (fresh ids in a fresh trial, so each is a first store,
/// never a repeat of an earlier run's survey). With `rules` off
/// the instrument version is left out, as in envelopes from before instruments: the process function then
/// evaluates no alert rule, which is the pipeline as it was before alerts.
pub fn bodies(count: usize, rules: bool) -> Vec<String> {
    let mut rng = fastrand::Rng::new();
    let trial = intake_e2e::deployed::fresh_trial("BENCH");
    (0..count)
        .map(|i| {
            let mut envelope = envelope(&mut rng, &trial, i);
            if !rules {
                envelope.submission.survey_version = None;
            }
            envelope.encode()
        })
        .collect()
}

/// `bodies` as the SQS records of one batch.
pub fn as_records(bodies: Vec<String>) -> Vec<aws_lambda_events::event::sqs::SqsMessage> {
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
            record.message_id = Some(format!("m{i}"));
            record.body = Some(body);
            record
        })
        .collect()
}
