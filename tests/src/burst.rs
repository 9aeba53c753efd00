//! A burst: many patients submitting at once, some resending, a few sending garbage. Then a check that every
//! accepted submission is stored exactly once, with the content that was sent.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use intake::item::{content_hash, submission_sort_key};
use intake::submission::Submission;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::{Aws, Error, Stack, Survey, submit};

/// What to send.
#[derive(Debug, Clone)]
pub struct Plan {
    pub patients: usize,
    pub requests: usize,
    /// Share of requests that resend an earlier survey unchanged, as an app retrying would.
    pub resend_share: f64,
    /// Share of requests that break the contract.
    pub invalid_share: f64,
    /// Requests in flight at once.
    pub concurrency: usize,
    pub trial_id: String,
}

/// One request of the burst.
#[derive(Debug, Clone)]
pub enum Request {
    New(Survey),
    Resend(Survey),
    Invalid { patient_id: String, body: Value },
}

impl Plan {
    /// The requests, in send order. Each kind is spread evenly through the burst (the kind furthest behind its
    /// share goes next), so the totals match the shares exactly.
    pub fn requests(&self) -> Vec<Request> {
        let shares = [
            1.0 - self.resend_share - self.invalid_share,
            self.resend_share,
            self.invalid_share,
        ];
        let mut counts = [0usize; 3];
        let mut sent: Vec<Survey> = Vec::new();
        (0..self.requests)
            .map(|i| {
                let deficit = |kind: usize| shares[kind] * (i + 1) as f64 - counts[kind] as f64;
                let kind = (0..3)
                    .max_by(|&a, &b| deficit(a).total_cmp(&deficit(b)))
                    .expect("three kinds");
                counts[kind] += 1;
                let patient_id = format!("P-{:06}", i % self.patients.max(1));
                match kind {
                    1 if !sent.is_empty() => Request::Resend(sent[(i * 7919) % sent.len()].clone()),
                    2 => Request::Invalid {
                        body: invalid_body(&self.trial_id, &patient_id, i),
                        patient_id,
                    },
                    _ => {
                        let survey = Survey::new(&self.trial_id, &patient_id, i as u64);
                        sent.push(survey.clone());
                        Request::New(survey)
                    }
                }
            })
            .collect()
    }
}

/// A few kinds of contract breach, in rotation.
fn invalid_body(trial_id: &str, patient_id: &str, i: usize) -> Value {
    let mut body = Survey::new(trial_id, patient_id, i as u64).body;
    match i % 3 {
        0 => body["answers"]["pain"] = Value::Null,
        1 => body["submissionId"] = json!("not-a-uuid"),
        _ => body["completedAt"] = json!("tomorrow"),
    }
    body
}

/// What happened to one request.
#[derive(Debug, Clone)]
pub struct Sent {
    pub request: Request,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency: Duration,
}

/// Sends every request of the plan with bounded concurrency, calling `progress` after each.
pub async fn send(
    http: &reqwest::Client,
    stack: &Stack,
    plan: &Plan,
    progress: impl Fn() + Send + Sync + 'static,
) -> Vec<Sent> {
    let permits = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let progress = Arc::new(progress);
    let tasks: Vec<_> = plan
        .requests()
        .into_iter()
        .map(|request| {
            let (http, stack, permits, progress) = (
                http.clone(),
                stack.clone(),
                permits.clone(),
                progress.clone(),
            );
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.expect("never closed");
                let body = match &request {
                    Request::New(survey) | Request::Resend(survey) => &survey.body,
                    Request::Invalid { body, .. } => body,
                };
                let started = Instant::now();
                let reply = submit(&http, &stack, body).await;
                progress();
                match reply {
                    Ok(reply) => Sent {
                        status: Some(reply.status),
                        error: reply
                            .body
                            .get("error")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        latency: reply.latency,
                        request,
                    },
                    Err(error) => Sent {
                        status: None,
                        error: Some(error.to_string()),
                        latency: started.elapsed(),
                        request,
                    },
                }
            })
        })
        .collect();
    let mut sent = Vec::with_capacity(tasks.len());
    for task in tasks {
        sent.push(task.await.expect("a send task does not panic"));
    }
    sent
}

/// How the table compares with what was acknowledged.
#[derive(Debug, Default)]
pub struct StoreCheck {
    /// Distinct submission ids the API acknowledged with 202.
    pub accepted: usize,
    /// Of those, stored with exactly the content sent.
    pub stored: usize,
    /// Acknowledged but not stored.
    pub lost: Vec<Uuid>,
    /// Stored with content other than what was sent.
    pub corrupted: Vec<Uuid>,
    /// Stored submissions of these patients that were never sent in this burst.
    pub unexpected: Vec<String>,
    /// Submission items in the touched partitions, in all.
    pub items: usize,
}

impl StoreCheck {
    pub fn exactly_once(&self) -> bool {
        self.lost.is_empty()
            && self.corrupted.is_empty()
            && self.unexpected.is_empty()
            && self.stored == self.accepted
    }
}

/// Reads every touched patient partition and checks each acknowledged submission against it.
pub async fn check_store(
    aws: &Aws,
    stack: &Stack,
    trial_id: &str,
    sent: &[Sent],
) -> Result<StoreCheck, Error> {
    let mut expected: HashMap<Uuid, (String, String)> = HashMap::new();
    let mut sent_ids: HashSet<Uuid> = HashSet::new();
    for s in sent {
        if let Request::New(survey) | Request::Resend(survey) = &s.request {
            sent_ids.insert(survey.submission_id);
            if s.status == Some(202) {
                let submission = Submission::from_value(&survey.body, OffsetDateTime::now_utc())
                    .map_err(|p| format!("the burst sent an invalid survey: {p:?}"))?;
                expected.insert(
                    survey.submission_id,
                    (survey.patient_id.clone(), content_hash(&submission)),
                );
            }
        }
    }
    let patients: HashSet<&str> = sent
        .iter()
        .map(|s| match &s.request {
            Request::New(survey) | Request::Resend(survey) => survey.patient_id.as_str(),
            Request::Invalid { patient_id, .. } => patient_id.as_str(),
        })
        .collect();
    let mut stored_hashes: HashMap<String, String> = HashMap::new();
    for patient in patients {
        for (sk, item) in aws.patient_items(stack, trial_id, patient).await? {
            if let Some(hash) = sk.strip_prefix("SUBMISSION#").and(item.get("contentHash")) {
                stored_hashes.insert(
                    sk,
                    hash.as_s()
                        .map_err(|_| "contentHash is not a string")?
                        .clone(),
                );
            }
        }
    }
    let mut check = StoreCheck {
        accepted: expected.len(),
        items: stored_hashes.len(),
        ..StoreCheck::default()
    };
    for (id, (_, hash)) in &expected {
        match stored_hashes.get(&submission_sort_key(id)) {
            None => check.lost.push(*id),
            Some(stored) if stored != hash => check.corrupted.push(*id),
            Some(_) => check.stored += 1,
        }
    }
    let sent_keys: HashSet<String> = sent_ids.iter().map(submission_sort_key).collect();
    check.unexpected = stored_hashes
        .into_keys()
        .filter(|sk| !sent_keys.contains(sk))
        .collect();
    Ok(check)
}

/// The burst's figures, ready to print.
#[derive(Debug)]
pub struct Report {
    pub sent: usize,
    pub accepted: usize,
    pub rejected: BTreeMap<String, usize>,
    pub duplicates_absorbed: usize,
    pub latency_ms: Histogram<u64>,
    pub send_time: Duration,
    pub drain_time: Duration,
    pub dlq_depth: u64,
    pub store: StoreCheck,
}

impl Report {
    pub fn new(
        sent: &[Sent],
        send_time: Duration,
        drain_time: Duration,
        dlq_depth: u64,
        store: StoreCheck,
    ) -> Self {
        let mut latency_ms = Histogram::<u64>::new(3).expect("3 significant digits is valid");
        let mut rejected = BTreeMap::new();
        let mut accepted = 0;
        for s in sent {
            latency_ms.saturating_record(s.latency.as_millis() as u64);
            match (s.status, &s.error) {
                (Some(202), _) => accepted += 1,
                (Some(status), error) => {
                    let reason =
                        format!("{status} {}", error.as_deref().unwrap_or("(no error code)"));
                    *rejected.entry(reason).or_default() += 1;
                }
                (None, _) => *rejected.entry("no response".to_owned()).or_default() += 1,
            }
        }
        Report {
            sent: sent.len(),
            accepted,
            rejected,
            duplicates_absorbed: accepted.saturating_sub(store.accepted),
            latency_ms,
            send_time,
            drain_time,
            dlq_depth,
            store,
        }
    }

    pub fn render(&self) -> String {
        let mut lines = vec![
            "Burst report".to_owned(),
            "────────────────────────────────────────────".to_owned(),
        ];
        let mut row = |label: &str, value: String| lines.push(format!("  {label:<32} {value}"));
        row(
            "sent",
            format!(
                "{} requests in {:.1} s",
                self.sent,
                self.send_time.as_secs_f64()
            ),
        );
        row("accepted (202)", self.accepted.to_string());
        for (reason, count) in &self.rejected {
            row(&format!("rejected: {reason}"), count.to_string());
        }
        row(
            "distinct submissions accepted",
            self.store.accepted.to_string(),
        );
        row("items stored", self.store.items.to_string());
        row("duplicates absorbed", self.duplicates_absorbed.to_string());
        row("dead-letter queue depth", self.dlq_depth.to_string());
        row(
            "submit latency p50 / p99",
            format!(
                "{} ms / {} ms (max {} ms)",
                self.latency_ms.value_at_quantile(0.5),
                self.latency_ms.value_at_quantile(0.99),
                self.latency_ms.max()
            ),
        );
        row(
            "time to drain",
            format!("{:.1} s after the last send", self.drain_time.as_secs_f64()),
        );
        row(
            "lost / corrupted / unexpected",
            format!(
                "{} / {} / {}",
                self.store.lost.len(),
                self.store.corrupted.len(),
                self.store.unexpected.len()
            ),
        );
        lines.push("────────────────────────────────────────────".to_owned());
        lines.push(if self.store.exactly_once() {
            format!(
                "OK: all {} accepted submissions stored exactly once.",
                self.store.accepted
            )
        } else {
            "FAILED: the table does not match what was accepted.".to_owned()
        });
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(requests: usize) -> Plan {
        Plan {
            patients: 10,
            requests,
            resend_share: 0.05,
            invalid_share: 0.02,
            concurrency: 4,
            trial_id: "T-1".into(),
        }
    }

    #[test]
    fn a_plan_mixes_new_resent_and_invalid_requests_in_the_asked_shares() {
        let requests = plan(500).requests();
        assert_eq!(requests.len(), 500);
        let count = |f: fn(&Request) -> bool| requests.iter().filter(|r| f(r)).count();
        assert_eq!(count(|r| matches!(r, Request::Invalid { .. })), 10);
        assert_eq!(count(|r| matches!(r, Request::Resend(_))), 25);
        assert_eq!(count(|r| matches!(r, Request::New(_))), 465);
    }

    #[test]
    fn invalid_requests_really_break_the_contract_and_new_ones_do_not() {
        for request in plan(200).requests() {
            let (body, valid) = match &request {
                Request::New(s) | Request::Resend(s) => (&s.body, true),
                Request::Invalid { body, .. } => (body, false),
            };
            assert_eq!(
                Submission::from_value(body, OffsetDateTime::now_utc()).is_ok(),
                valid,
                "{body}"
            );
        }
    }

    #[test]
    fn resends_repeat_an_earlier_survey_exactly() {
        let requests = plan(100).requests();
        let new: HashMap<Uuid, &Value> = requests
            .iter()
            .filter_map(|r| {
                if let Request::New(s) = r {
                    Some((s.submission_id, &s.body))
                } else {
                    None
                }
            })
            .collect();
        for request in &requests {
            if let Request::Resend(s) = request {
                assert_eq!(new[&s.submission_id], &s.body);
            }
        }
    }
}
