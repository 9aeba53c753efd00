//! The load generator: patients submitting around one fixed time, like the apps do.
//!
//! Arrivals peak in the middle of a window (a triangular spread: most patients open the survey near the reminder,
//! some early, some late). Each request has a client timeout and is retried with the same body, so the same
//! `submissionId`, on a timeout, a connection error, a 429 or a 5xx. A share of requests are deliberate resends of
//! an earlier survey (some in the other form, some with the same instant written with an offset), double taps and
//! repeats under a new id, answers edited and resent under their id, ids reused by another patient's app, phones
//! that were offline for days syncing their pain diary out of order in one go, and a share break the contract.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use futures::{StreamExt, TryStreamExt};

use intake::submit::Form;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Error, Stack, Survey, TokenRequest, mint_token, post_to};

/// What to send, and how a client behaves.
#[derive(Debug, Clone)]
pub struct Plan {
    pub trial_id: String,
    pub timepoint: String,
    pub patients: usize,
    /// Requests in all: new surveys, resends and invalid ones.
    pub requests: usize,
    /// Share of requests that resend an earlier survey unchanged.
    pub resend_share: f64,
    /// Share of requests that repeat an earlier survey under a new id (a double tap before the id was saved):
    /// stored, and flagged as a repeat.
    pub repeat_share: f64,
    /// Share of requests that reuse an earlier survey's id for another patient's survey (an app bug): stored
    /// once, the other copy recorded as a conflict.
    pub collision_share: f64,
    /// Share of requests that resend an earlier survey under its id with answers edited (the patient went back and
    /// changed one): the original stays, the edit is recorded as a conflict and judged by the rules.
    pub edit_share: f64,
    /// Share of requests that are pain reports of phones offline for three days, each patient's three days sent at
    /// once in shuffled order (completion order is not arrival order; often one batch).
    pub offline_share: f64,
    /// Share of requests that break the contract or their instrument.
    pub invalid_share: f64,
    /// Share of new surveys sent as FHIR `QuestionnaireResponse`s; half the resends switch form (none at 0).
    pub fhir_share: f64,
    /// Share of resends that write the same instant with an offset (`+02:00`), as another client library would: the
    /// same content to the intake. (The Python peer compares the text, so its comparison burst sends none.)
    pub offset_resend_share: f64,
    /// All arrivals fall within this window.
    pub window: Duration,
    /// Requests in flight at once (the clients' connection budget).
    pub concurrency: usize,
    /// Client timeout for one attempt.
    pub timeout: Duration,
    /// Further attempts after a timeout, connection error, 429 or 5xx.
    pub retries: u32,
    /// Seeds payloads and arrival times, so a run can be repeated.
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    New,
    Resend,
    Repeat,
    Collision,
    Edit,
    Offline,
    Invalid,
}

/// One request of the burst and when it is due, from the start of the window.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub at: Duration,
    pub kind: Kind,
    pub survey: Survey,
}

/// How many requests of each kind a plan sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mix {
    pub new: usize,
    pub resends: usize,
    pub repeats: usize,
    pub collisions: usize,
    pub edits: usize,
    /// Offline reports: three per offline patient.
    pub offline: usize,
    pub invalid: usize,
}

impl Plan {
    /// The requests of each kind. Every kind but new needs an original, so one survey at least is new.
    pub fn counts(&self) -> Mix {
        let share = |s: f64| ((self.requests as f64) * s).round() as usize;
        let mut left = self.requests;
        let mut take = |wanted: usize, keep: usize| {
            let taken = wanted.min(left.saturating_sub(keep));
            left -= taken;
            taken
        };
        let invalid = take(share(self.invalid_share), 0);
        let resends = take(share(self.resend_share), 1);
        let repeats = take(share(self.repeat_share), 1);
        let collisions = take(share(self.collision_share), 1);
        let edits = take(share(self.edit_share), 1);
        let offline = take(share(self.offline_share) / 3 * 3, 1);
        Mix {
            new: left,
            resends,
            repeats,
            collisions,
            edits,
            offline,
            invalid,
        }
    }

    /// Every request with its arrival time, in arrival order. Each patient fills distinct instruments at the
    /// timepoint, as a reminder asks them to.
    pub fn schedule(&self) -> Vec<Scheduled> {
        let mut rng = fastrand::Rng::with_seed(self.seed);
        let window = self.window.as_secs_f64();
        // Triangular: the mean of two uniforms peaks mid-window.
        let arrival = |rng: &mut fastrand::Rng| {
            Duration::from_secs_f64(window * (rng.f64() + rng.f64()) / 2.0)
        };
        let mix = self.counts();
        let patients = self.patients.max(1);
        let orders: Vec<Vec<&str>> = (0..patients)
            .map(|_| Survey::instrument_order(&mut rng))
            .collect();
        let mut schedule: Vec<Scheduled> = (0..mix.new)
            .map(|i| {
                let (p, round) = (i % patients, i / patients);
                let order = &orders[p];
                // Past one of each instrument, a later timepoint: never a repeat by accident.
                let timepoint = match round / order.len() {
                    0 => self.timepoint.clone(),
                    later => format!("{}-{later}", self.timepoint),
                };
                let survey = Survey::of(
                    order[round % order.len()],
                    &self.trial_id,
                    &patient(p),
                    &timepoint,
                    &mut rng,
                );
                Scheduled {
                    at: arrival(&mut rng),
                    kind: Kind::New,
                    survey: if rng.f64() < self.fhir_share {
                        survey.as_fhir()
                    } else {
                        survey
                    },
                }
            })
            .collect();
        let later = |rng: &mut fastrand::Rng, original: &Scheduled| {
            (original.at + Duration::from_secs_f64(rng.f64() * 5.0)).min(self.window)
        };
        for _ in 0..mix.resends {
            let original = &schedule[rng.usize(..mix.new)];
            // The app sends the same survey again a little later (a double tap, a restart, a lost response);
            // half the time in the other form (when the plan sends FHIR at all), which must be absorbed as the same
            // submission.
            let at = later(&mut rng, original);
            let mut survey = original.survey.clone();
            if self.fhir_share > 0.0 && rng.bool() {
                survey.form = match survey.form {
                    Form::Json => Form::Fhir,
                    Form::Fhir => Form::Json,
                };
            }
            // Another client library writes the same instant with an offset: the same content, never a conflict.
            if rng.f64() < self.offset_resend_share {
                survey.body["completedAt"] =
                    json!(same_instant_with_offset(&survey.body, &mut rng));
            }
            schedule.push(Scheduled {
                at,
                kind: Kind::Resend,
                survey,
            });
        }
        for i in 0..mix.repeats {
            let original = &schedule[rng.usize(..mix.new)];
            let at = later(&mut rng, original);
            let (survey_id, timepoint) = (
                original.survey.body["surveyId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                original.survey.body["timepoint"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
            let mut survey = Survey::of(
                &survey_id,
                &self.trial_id,
                &original.survey.patient_id,
                &timepoint,
                &mut rng,
            );
            // Half are double taps (the same answers, sent again before the app saved the id); half a second go at
            // the timepoint with other answers.
            if i % 2 == 0 {
                survey.body["answers"] = original.survey.body["answers"].clone();
                survey.body["completedAt"] = original.survey.body["completedAt"].clone();
            }
            schedule.push(Scheduled {
                at,
                kind: Kind::Repeat,
                survey,
            });
        }
        for _ in 0..mix.edits {
            let original = &schedule[rng.usize(..mix.new)];
            // The patient went back and changed their answers; the app kept the id. Arrives well after the original.
            let at =
                (original.at + Duration::from_secs_f64(3.0 + rng.f64() * 5.0)).min(self.window);
            let mut survey = original.survey.clone();
            let id = survey.body["surveyId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let edited = Survey::of(&id, &self.trial_id, &survey.patient_id, "edit", &mut rng);
            survey.body["answers"] = edited.body["answers"].clone();
            if id == "phq-9" {
                // Item 9 changed to "nearly every day": the edit must reach the team.
                survey.body["answers"]["44260-8"] = json!("LA6571-9");
            }
            schedule.push(Scheduled {
                at,
                kind: Kind::Edit,
                survey,
            });
        }
        for p in 0..mix.offline / 3 {
            // Three days of a pain diary, kept on a phone without a network, sent at once in shuffled order.
            let patient = format!("P-OFF-{p:05}");
            let at = arrival(&mut rng);
            let mut days: Vec<u32> = vec![1, 2, 3];
            rng.shuffle(&mut days);
            for (n, day) in days.into_iter().enumerate() {
                let mut survey = Survey::of(
                    "pain-nrs",
                    &self.trial_id,
                    &patient,
                    &format!("offline-day-{day}"),
                    &mut rng,
                );
                let completed =
                    OffsetDateTime::now_utc() - time::Duration::days(i64::from(4 - day));
                survey.body["completedAt"] = json!(completed.format(&Rfc3339).expect("formats"));
                schedule.push(Scheduled {
                    at: (at + Duration::from_millis(20 * n as u64)).min(self.window),
                    kind: Kind::Offline,
                    survey,
                });
            }
        }
        for _ in 0..mix.collisions {
            let original = &schedule[rng.usize(..mix.new)];
            let at = later(&mut rng, original);
            let mut other = patient(rng.usize(..patients));
            while other == original.survey.patient_id && patients > 1 {
                other = patient(rng.usize(..patients));
            }
            let mut survey = Survey::generate(
                &self.trial_id,
                &other,
                &format!("{}-c", self.timepoint),
                &mut rng,
            );
            survey.submission_id = original.survey.submission_id;
            survey.body["submissionId"] = serde_json::json!(original.survey.submission_id);
            schedule.push(Scheduled {
                at,
                kind: Kind::Collision,
                survey,
            });
        }
        for i in 0..mix.invalid {
            let mut survey = Survey::generate(
                &self.trial_id,
                &patient(rng.usize(..patients)),
                &self.timepoint,
                &mut rng,
            );
            break_a_rule(&mut survey.body, i);
            schedule.push(Scheduled {
                at: arrival(&mut rng),
                kind: Kind::Invalid,
                survey,
            });
        }
        schedule.sort_by_key(|s| s.at);
        schedule
    }
}

pub fn patient(n: usize) -> String {
    format!("P-{n:06}")
}

/// `body`'s `completedAt`, the same instant written with another offset (`+00:00`, `+02:00`, `-05:00`).
fn same_instant_with_offset(body: &Value, rng: &mut fastrand::Rng) -> String {
    let text = body["completedAt"].as_str().unwrap_or_default();
    let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) else {
        return text.to_owned();
    };
    let hours = [0, 2, -5][rng.usize(..3)];
    let offset = time::UtcOffset::from_hms(hours, 0, 0).expect("a whole-hour offset");
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9][offset_hour sign:mandatory]:[offset_minute]"
    );
    at.to_offset(offset)
        .format(&format)
        .expect("an offset time formats")
}

/// Breaches of the contract and of the instrument, in rotation.
fn break_a_rule(body: &mut Value, i: usize) {
    match i % 8 {
        0 => body["answers"]["extra"] = Value::Null,
        1 => body["submissionId"] = json!("not-a-uuid"),
        2 => body["completedAt"] = json!("tomorrow"),
        3 => body["deviceModel"] = json!("unknown field"),
        4 => body["answers"]["not-an-item"] = json!(1),
        5 => body["surveyVersion"] = json!("99"),
        6 => body["surveyId"] = json!("sf-36"),
        // No item of the catalogue takes -1: below every range, not a choice, not text.
        _ => {
            let answers = body["answers"].as_object_mut().expect("answers");
            let first = answers.keys().next().cloned().expect("an answer");
            answers.insert(first, json!(-1));
        }
    }
}

/// What became of one scheduled request, after its retries.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub scheduled: Scheduled,
    /// The last attempt's status, or `None` when no attempt got a response.
    pub status: Option<u16>,
    /// The API's `error` code, or the client error.
    pub error: Option<String>,
    pub attempts: u32,
    /// Latency of each attempt that got a response.
    pub latencies: Vec<Duration>,
    /// When its first attempt started, and when its last one ended, since the run started.
    pub sent_at: Duration,
    pub answered_at: Duration,
}

impl Outcome {
    pub fn accepted(&self) -> bool {
        self.status == Some(202)
    }

    /// How the request ended, for the status breakdown: `202`, `400 invalid_submission`, `timeout`, …
    pub fn label(&self) -> String {
        match (self.status, &self.error) {
            (Some(202), _) => "202".to_owned(),
            (Some(status), Some(code)) if status < 500 => format!("{status} {code}"),
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => error.clone(),
            (None, None) => "no response".to_owned(),
        }
    }
}

fn retryable(status: u16) -> bool {
    status == 429 || status >= 500
}

/// Bearer tokens of the simulated patients, one each, minted before the burst as an app holds its login.
#[derive(Debug, Default)]
pub struct Tokens(HashMap<String, String>);

impl Tokens {
    pub async fn mint(
        http: &reqwest::Client,
        stack: &Stack,
        schedule: &[Scheduled],
        concurrency: usize,
    ) -> Result<Self, Error> {
        let patients: BTreeSet<(&str, &str)> = schedule
            .iter()
            .map(|s| (s.survey.patient_id.as_str(), s.survey.trial_id.as_str()))
            .collect();
        let tokens = futures::stream::iter(patients)
            .map(|(patient, trial)| async move {
                let token = mint_token(http, stack, &TokenRequest::patient(patient, trial)).await?;
                Ok::<_, Error>((patient.to_owned(), token))
            })
            .buffer_unordered(concurrency.max(1))
            .try_collect()
            .await?;
        Ok(Tokens(tokens))
    }

    fn get(&self, patient_id: &str) -> Option<&str> {
        self.0.get(patient_id).map(String::as_str)
    }
}

/// Sends one request, retrying with the same body as a well-behaved app does.
async fn send_one(
    http: &reqwest::Client,
    stack: &Stack,
    plan: &Plan,
    token: Option<&str>,
    scheduled: Scheduled,
) -> Outcome {
    let (path, content_type, body) = scheduled.survey.request();
    let mut outcome = Outcome {
        scheduled,
        status: None,
        error: None,
        attempts: 0,
        latencies: Vec::new(),
        sent_at: Duration::ZERO,
        answered_at: Duration::ZERO,
    };
    loop {
        outcome.attempts += 1;
        let attempt = post_to(http, stack, path, token, content_type, body.clone());
        let done = match tokio::time::timeout(plan.timeout, attempt).await {
            Ok(Ok(reply)) => {
                outcome.latencies.push(reply.latency);
                outcome.status = Some(reply.status);
                outcome.error = reply
                    .body
                    .get("error")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                !retryable(reply.status)
            }
            Ok(Err(_)) => {
                outcome.status = None;
                outcome.error = Some("connection error".to_owned());
                false
            }
            Err(_) => {
                outcome.status = None;
                outcome.error = Some("timeout".to_owned());
                false
            }
        };
        if done || outcome.attempts > plan.retries {
            return outcome;
        }
        // Exponential backoff with full jitter: retries of a burst must not arrive as a second burst.
        let ceiling = 250u64 << (outcome.attempts - 1).min(5);
        tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=ceiling))).await;
    }
}

/// Runs the schedule against the stack, calling `progress` as each request ends.
pub async fn run(
    http: &reqwest::Client,
    stack: &Stack,
    plan: &Plan,
    tokens: Arc<Tokens>,
    schedule: Vec<Scheduled>,
    progress: impl Fn(&Outcome) + Send + Sync + 'static,
) -> Vec<Outcome> {
    let stack = Arc::new(stack.clone());
    let permits = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let progress = Arc::new(progress);
    let start = Instant::now();
    let tasks: Vec<_> = schedule
        .into_iter()
        .map(|scheduled| {
            let (http, stack, plan, tokens) =
                (http.clone(), stack.clone(), plan.clone(), tokens.clone());
            let (permits, progress) = (permits.clone(), progress.clone());
            tokio::spawn(async move {
                tokio::time::sleep_until(start + scheduled.at).await;
                let _permit = permits.acquire_owned().await.expect("never closed");
                let token = tokens.get(&scheduled.survey.patient_id);
                let sent_at = start.elapsed();
                let mut outcome = send_one(&http, &stack, &plan, token, scheduled).await;
                (outcome.sent_at, outcome.answered_at) = (sent_at, start.elapsed());
                progress(&outcome);
                outcome
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.expect("a send task does not panic"));
    }
    outcomes
}

/// Latency and status figures of a run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadStats {
    pub requests: usize,
    pub attempts: u64,
    pub retried_requests: usize,
    pub by_kind: BTreeMap<String, usize>,
    /// Requests by form (`json`, `fhir`) and by instrument.
    pub by_form: BTreeMap<String, usize>,
    pub by_instrument: BTreeMap<String, usize>,
    pub by_status: BTreeMap<String, usize>,
    pub seconds: f64,
    pub throughput_per_second: f64,
    pub latency_ms: LatencyFigures,
}

#[derive(Debug, Serialize)]
pub struct LatencyFigures {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl LoadStats {
    pub fn new(outcomes: &[Outcome], elapsed: Duration) -> Self {
        // Microseconds, from 1 µs to an hour, 3 significant digits.
        let mut histogram =
            Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds");
        let mut by_status = BTreeMap::new();
        let mut by_kind = BTreeMap::new();
        let mut by_form = BTreeMap::new();
        let mut by_instrument = BTreeMap::new();
        for outcome in outcomes {
            for latency in &outcome.latencies {
                histogram.saturating_record(latency.as_micros() as u64);
            }
            *by_status.entry(outcome.label()).or_default() += 1;
            *by_kind
                .entry(format!("{:?}", outcome.scheduled.kind).to_lowercase())
                .or_default() += 1;
            let survey = &outcome.scheduled.survey;
            *by_form.entry(survey.form.name().to_owned()).or_default() += 1;
            let instrument = survey.body["surveyId"].as_str().unwrap_or("?").to_owned();
            *by_instrument.entry(instrument).or_default() += 1;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        LoadStats {
            requests: outcomes.len(),
            attempts: outcomes.iter().map(|o| u64::from(o.attempts)).sum(),
            retried_requests: outcomes.iter().filter(|o| o.attempts > 1).count(),
            by_kind,
            by_form,
            by_instrument,
            by_status,
            seconds: elapsed.as_secs_f64(),
            throughput_per_second: outcomes.len() as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
            latency_ms: LatencyFigures {
                p50: ms(histogram.value_at_quantile(0.5)),
                p90: ms(histogram.value_at_quantile(0.9)),
                p99: ms(histogram.value_at_quantile(0.99)),
                max: ms(histogram.max()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn plan(requests: usize) -> Plan {
        Plan {
            trial_id: "T-1".into(),
            timepoint: "day-7".into(),
            patients: 100,
            requests,
            resend_share: 0.05,
            repeat_share: 0.002,
            collision_share: 0.002,
            edit_share: 0.002,
            offline_share: 0.009,
            invalid_share: 0.01,
            fhir_share: 0.3,
            offset_resend_share: 0.25,
            window: Duration::from_secs(30),
            concurrency: 8,
            timeout: Duration::from_secs(5),
            retries: 2,
            seed: 7,
        }
    }

    #[test]
    fn the_schedule_has_the_asked_mix_in_arrival_order_within_the_window() {
        let schedule = plan(10_000).schedule();
        assert_eq!(schedule.len(), 10_000);
        let count = |kind| schedule.iter().filter(|s| s.kind == kind).count();
        assert_eq!(
            (
                count(Kind::New),
                count(Kind::Resend),
                count(Kind::Repeat),
                count(Kind::Collision),
                count(Kind::Edit),
                count(Kind::Offline),
                count(Kind::Invalid)
            ),
            (9_250, 500, 20, 20, 20, 90, 100)
        );
        assert!(schedule.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(schedule.iter().all(|s| s.at <= Duration::from_secs(30)));
        // The spike: the middle third of the window holds more arrivals than either outer third.
        let third = |n: u64| schedule.iter().filter(|s| s.at.as_secs() / 10 == n).count();
        assert!(third(1) > third(0) && third(1) > third(2));
    }

    #[test]
    fn every_patient_submits_and_resends_repeat_an_original_exactly() {
        let schedule = plan(1_000).schedule();
        let originals: HashMap<_, _> = schedule
            .iter()
            .filter(|s| s.kind == Kind::New)
            .map(|s| (s.survey.submission_id, &s.survey.body))
            .collect();
        assert_eq!(
            originals.len(),
            plan(1_000).counts().new,
            "new surveys have distinct ids"
        );
        let instant = |body: &Value| {
            OffsetDateTime::parse(body["completedAt"].as_str().unwrap(), &Rfc3339).unwrap()
        };
        let mut offsets = 0;
        for resend in schedule.iter().filter(|s| s.kind == Kind::Resend) {
            let original = originals[&resend.survey.submission_id];
            let mut same = resend.survey.body.clone();
            same["completedAt"] = original["completedAt"].clone();
            assert_eq!(original, &same);
            assert_eq!(instant(original), instant(&resend.survey.body));
            offsets += usize::from(original["completedAt"] != resend.survey.body["completedAt"]);
        }
        assert!(offsets > 0, "some resends write the instant with an offset");
        let patients: std::collections::HashSet<_> = schedule
            .iter()
            .filter(|s| s.kind != Kind::Offline)
            .map(|s| &s.survey.patient_id)
            .collect();
        assert_eq!(patients.len(), 100);
    }

    #[test]
    fn edits_keep_their_original_id_and_patient_and_offline_phones_sync_three_days_out_of_order() {
        let schedule = plan(5_000).schedule();
        let new: HashMap<_, _> = schedule
            .iter()
            .filter(|s| s.kind == Kind::New)
            .map(|s| (s.survey.submission_id, s))
            .collect();
        for edit in schedule.iter().filter(|s| s.kind == Kind::Edit) {
            let original = new[&edit.survey.submission_id];
            assert_eq!(original.survey.patient_id, edit.survey.patient_id);
            assert!(edit.at > original.at, "an edit follows its original");
        }
        let offline: Vec<&Scheduled> = schedule
            .iter()
            .filter(|s| s.kind == Kind::Offline)
            .collect();
        assert_eq!(offline.len(), 45);
        let mut out_of_order = 0;
        for patient in offline.chunk_by(|a, b| a.survey.patient_id == b.survey.patient_id) {
            let completed: Vec<OffsetDateTime> = patient
                .iter()
                .map(|s| {
                    OffsetDateTime::parse(s.survey.body["completedAt"].as_str().unwrap(), &Rfc3339)
                        .unwrap()
                })
                .collect();
            out_of_order += usize::from(!completed.is_sorted());
        }
        assert!(out_of_order > 0, "some phones sync out of order");
    }

    #[test]
    fn new_surveys_are_accepted_in_their_form_and_invalid_ones_are_refused() {
        let catalogue = intake::instrument::Catalogue::embedded();
        for scheduled in plan(800).schedule() {
            let (_, _, body) = scheduled.survey.request();
            let accepted =
                intake::submit::accept(scheduled.survey.form, body.as_bytes(), catalogue).is_ok();
            assert_eq!(
                accepted,
                scheduled.kind != Kind::Invalid,
                "{}",
                scheduled.survey.body
            );
        }
    }

    #[test]
    fn a_share_of_surveys_is_sent_as_fhir_and_resends_may_switch_form() {
        let schedule = plan(2_000).schedule();
        let new: Vec<_> = schedule.iter().filter(|s| s.kind == Kind::New).collect();
        let fhir = new.iter().filter(|s| s.survey.form == Form::Fhir).count();
        assert!(
            (450..=700).contains(&fhir),
            "{fhir} of {} new surveys as FHIR",
            new.len()
        );
        let switched = schedule
            .iter()
            .filter(|s| s.kind == Kind::Resend)
            .filter(|resend| {
                new.iter().any(|n| {
                    n.survey.submission_id == resend.survey.submission_id
                        && n.survey.form != resend.survey.form
                })
            })
            .count();
        assert!(switched > 10, "{switched} resends switched form");
    }

    #[test]
    fn only_repeats_share_a_patients_instrument_and_timepoint_and_only_collisions_share_an_id_across_patients()
     {
        let schedule = plan(5_000).schedule();
        let slot = |s: &Scheduled| {
            (
                s.survey.patient_id.clone(),
                s.survey.body["surveyId"].to_string(),
                s.survey.body["timepoint"].to_string(),
            )
        };
        let new: Vec<&Scheduled> = schedule.iter().filter(|s| s.kind == Kind::New).collect();
        let slots: std::collections::HashSet<_> = new.iter().map(|s| slot(s)).collect();
        assert_eq!(
            slots.len(),
            new.len(),
            "no new survey repeats another by accident"
        );
        for repeat in schedule.iter().filter(|s| s.kind == Kind::Repeat) {
            assert!(slots.contains(&slot(repeat)));
            assert!(
                new.iter()
                    .all(|n| n.survey.submission_id != repeat.survey.submission_id)
            );
        }
        for collision in schedule.iter().filter(|s| s.kind == Kind::Collision) {
            let original = new
                .iter()
                .find(|n| n.survey.submission_id == collision.survey.submission_id)
                .unwrap();
            assert_ne!(original.survey.patient_id, collision.survey.patient_id);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_arrivals() {
        let times = |p: &Plan| p.schedule().iter().map(|s| s.at).collect::<Vec<_>>();
        assert_eq!(times(&plan(300)), times(&plan(300)));
    }

    #[test]
    fn only_throttling_and_server_errors_are_retried() {
        assert!(retryable(429) && retryable(500) && retryable(503));
        assert!(!retryable(202) && !retryable(400) && !retryable(413) && !retryable(415));
    }
}
