//! Fault runs: a burst under each fault, then the auditor's verdict, which must be `lost: 0, doubled: 0`.
//! Needs the fault stack (`make faults` deploys it, runs these one at a time, and stops it): the functions reach
//! DynamoDB and SQS through `tests/faults/proxy.py`, whose faults each scenario sets.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use intake_e2e::audit::{Audit, audit};
use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_e2e::faults::{Faults, Rates};
use intake_e2e::load::{LoadStats, Outcome, Plan, Tokens, run};
use intake_e2e::{Survey, submit};
use intake_ops::redrive::{Action, Method, redrive};
use serde_json::{Value, json};
use uuid::Uuid;

struct FaultStack(Deployed);

impl std::ops::Deref for FaultStack {
    type Target = Deployed;

    fn deref(&self) -> &Deployed {
        &self.0
    }
}

impl FaultStack {
    async fn new() -> Self {
        let deployed = Deployed::load().await;
        assert!(
            deployed.stack.fault_proxy.is_some(),
            "not a fault stack: run these through `make faults`"
        );
        FaultStack(deployed)
    }

    /// Sets the proxy's faults.
    async fn inject(&self, faults: Faults) {
        let control = self.stack.fault_proxy.as_deref().unwrap();
        self.http
            .post(control)
            .json(&faults)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("the fault proxy answers");
    }

    /// How many faults of each kind the proxy has injected since it started.
    async fn injected(&self) -> Value {
        let control = self.stack.fault_proxy.as_deref().unwrap();
        let state: Value = self
            .http
            .get(control)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        state["injected"].clone()
    }

    /// A burst like `make demo`'s, smaller, then the drain and the audit.
    async fn burst(&self, name: &str, requests: usize) -> (LoadStats, Audit) {
        let (_, _, load, audit) = self.burst_with_outcomes(name, requests).await;
        (load, audit)
    }

    /// As [`Self::burst`], also giving the trial and every request's outcome, to audit again later.
    async fn burst_with_outcomes(
        &self,
        name: &str,
        requests: usize,
    ) -> (String, Vec<Outcome>, LoadStats, Audit) {
        let plan = Plan {
            trial_id: fresh_trial(&format!("FAULT-{name}")),
            timepoint: "day-30".into(),
            patients: requests / 5,
            requests,
            resend_share: 0.05,
            repeat_share: 0.005,
            collision_share: 0.005,
            edit_share: 0.005,
            offline_share: 0.0,
            invalid_share: 0.01,
            fhir_share: 0.3,
            offset_resend_share: 0.25,
            window: Duration::from_secs(10),
            concurrency: 16,
            timeout: Duration::from_secs(10),
            // Patient apps keep trying through an outage; the audit counts only what was acknowledged.
            retries: 6,
            seed: 7,
        };
        let schedule = plan.schedule();
        let tokens = Arc::new(
            Tokens::mint(&self.http, &self.stack, &schedule, 16)
                .await
                .unwrap(),
        );
        let started = tokio::time::Instant::now();
        let outcomes = run(&self.http, &self.stack, &plan, tokens, schedule, |_| {}).await;
        let load = LoadStats::new(&outcomes, started.elapsed());
        self.aws
            .wait_until_drained(&self.stack.queue_url, Duration::from_secs(600), |_| {})
            .await
            .expect("the queue drains");
        let audit = audit(&self.aws, &self.stack, &plan.trial_id, &outcomes)
            .await
            .unwrap();
        (plan.trial_id, outcomes, load, audit)
    }

    /// Prints the scenario's figures; `before` is [`Self::injected`] at its start.
    async fn report(&self, name: &str, before: &Value, load: &LoadStats, audit: &Audit) {
        let after = self.injected().await;
        let injected: serde_json::Map<String, Value> = after
            .as_object()
            .into_iter()
            .flatten()
            .map(|(fault, count)| {
                let earlier = before[fault.as_str()].as_u64().unwrap_or(0);
                (fault.clone(), json!(count.as_u64().unwrap_or(0) - earlier))
            })
            .filter(|(_, count)| count != &json!(0))
            .collect();
        eprintln!(
            "\n[{name}] {} — {} acknowledged, {} stored, {} stored without an acknowledgement\n  statuses {:?}, {} attempts for {} requests\n  injected {}",
            audit.verdict(),
            audit.acknowledged,
            audit.stored,
            audit.stored_without_ack,
            load.by_status,
            load.attempts,
            load.requests,
            Value::Object(injected),
        );
    }
}

/// Every `SendMessage` of the submit function refused with a 503.
fn sqs_down() -> Faults {
    Faults {
        sqs: Some(Rates {
            unavailable: 1.0,
            ..Rates::default()
        }),
        ..Faults::none()
    }
}

#[tokio::test]
#[ignore = "needs the fault stack: run `make faults`"]
async fn dynamodb_throttling_errors_and_timeouts_lose_and_double_nothing() {
    let faults = FaultStack::new().await;
    let before = faults.injected().await;
    // A third of all DynamoDB calls fail, for the whole burst: far worse than a throttling spike.
    faults
        .inject(Faults {
            dynamodb: Some(Rates {
                throttle: 0.15,
                error: 0.10,
                timeout: 0.03,
                lost_response: 0.05,
                ..Rates::default()
            }),
            ..Faults::none()
        })
        .await;
    let (trial, outcomes, load, first) = faults.burst_with_outcomes("dynamodb", 1_500).await;
    faults.inject(Faults::none()).await;
    faults
        .report("dynamodb faults", &before, &load, &first)
        .await;
    eprintln!("  dead letters: {:?}", first.dead_letters);
    assert!(
        first.doubled.is_empty() && first.corrupted.is_empty(),
        "{}",
        first.verdict()
    );
    assert!(first.acknowledged > 1_000);
    // Retries absorb nearly all of it. A record whose every receive met a fault is in the dead-letter queue,
    // explained and unstored, never silently dropped: the operator's redrive after the incident stores it.
    // Compared id by id, not by count: one lost id and one unrelated dead letter must not cancel out.
    let lost: BTreeSet<Uuid> = first.lost.iter().copied().collect();
    let parked: BTreeSet<Uuid> = first.unstored_dead_letters.iter().copied().collect();
    assert_eq!(
        lost, parked,
        "every submission not stored is waiting in the dead-letter queue: {:?}",
        first.dead_letters
    );
    let (aws, stack) = (&faults.aws, &faults.stack);
    let moved = redrive(
        &aws.sqs,
        &stack.dead_letter_queue_url,
        &stack.queue_url,
        Action::Move(Method::Auto),
    )
    .await
    .unwrap();
    aws.wait_until_drained(&stack.queue_url, Duration::from_secs(120), |_| {})
        .await
        .unwrap();
    let after = audit(aws, stack, &trial, &outcomes).await.unwrap();
    eprintln!(
        "  after the redrive of {} dead letter(s): {}",
        moved.moved,
        after.verdict()
    );
    assert!(after.passed(), "{}", after.verdict());
    assert!(after.dead_letters.is_empty(), "{:?}", after.dead_letters);
}

#[tokio::test]
#[ignore = "needs the fault stack: run `make faults`"]
async fn an_sqs_outage_answers_503_and_half_does_nothing() {
    let faults = FaultStack::new().await;
    let before = faults.injected().await;
    // SQS refuses every send for the first 6 s of the burst, then recovers.
    faults.inject(sqs_down()).await;
    let recover = {
        let http = faults.http.clone();
        let control = faults.stack.fault_proxy.clone().unwrap();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(6)).await;
            http.post(control)
                .json(&Faults::none())
                .send()
                .await
                .unwrap();
        })
    };
    let (load, audit) = faults.burst("sqs-outage", 1_000).await;
    recover.await.unwrap();
    faults.report("SQS outage", &before, &load, &audit).await;
    assert!(
        load.by_status.keys().any(|status| status == "202"),
        "{:?}",
        load.by_status
    );
    assert!(audit.passed(), "{}", audit.verdict());
    assert_eq!(
        audit.stored_without_ack, 0,
        "a request answered 503 must not be stored: nothing is half-done"
    );
}

#[tokio::test]
#[ignore = "needs the fault stack: run `make faults`"]
async fn a_503_from_the_queue_carries_retry_after() {
    let faults = FaultStack::new().await;
    faults.inject(sqs_down()).await;
    let survey = Survey::new(&fresh_trial("FAULT-503"), "P-000503", 1);
    let reply = submit(&faults.http, &faults.stack, &survey.body)
        .await
        .unwrap();
    faults.inject(Faults::none()).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.retry_after.as_deref(), Some("5"));
    assert_eq!(reply.body["error"], "unavailable");
    let items = faults
        .aws
        .patient_items(&faults.stack, &survey.trial_id, &survey.patient_id)
        .await
        .unwrap();
    assert!(items.is_empty());
    // The same submission, once SQS is back, is accepted and stored once.
    assert_eq!(
        submit(&faults.http, &faults.stack, &survey.body)
            .await
            .unwrap()
            .status,
        202
    );
}

/// Pids of the process function's worker processes (MiniStack runs each as a local `bootstrap`).
fn process_workers() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .filter(|entry| {
            std::fs::read(entry.path().join("environ")).is_ok_and(|environ| {
                environ.split(|b| *b == 0).any(|var| {
                    var.starts_with(b"AWS_LAMBDA_FUNCTION_NAME=")
                        && String::from_utf8_lossy(var).contains("ProcessFunction")
                })
            })
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
#[ignore = "needs the fault stack: run `make faults`"]
async fn a_process_worker_killed_mid_batch_loses_and_doubles_nothing() {
    let faults = FaultStack::new().await;
    let before = faults.injected().await;
    faults.inject(Faults::none()).await;
    let stop = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (stop, kills) = (stop.clone(), kills.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            while !stop.load(Ordering::Relaxed) {
                // SIGKILL: no cleanup, no partial batch response, exactly a crashed or timed-out worker.
                for pid in process_workers() {
                    let killed = std::process::Command::new("kill")
                        .args(["-KILL", &pid])
                        .status();
                    if killed.is_ok_and(|status| status.success()) {
                        kills.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_secs(3)).await;
                if kills.load(Ordering::Relaxed) >= 8 {
                    break;
                }
            }
        })
    };
    let (load, audit) = faults.burst("worker-kill", 1_500).await;
    stop.store(true, Ordering::Relaxed);
    killer.await.unwrap();
    faults
        .report("process worker killed", &before, &load, &audit)
        .await;
    eprintln!(
        "  workers killed mid-run: {}",
        kills.load(Ordering::Relaxed)
    );
    assert!(
        kills.load(Ordering::Relaxed) > 0,
        "no worker was killed: the scenario tested nothing"
    );
    assert!(audit.passed(), "{}", audit.verdict());
}

#[tokio::test]
#[ignore = "needs the fault stack: run `make faults`"]
async fn dead_letters_from_a_dynamodb_outage_are_redriven_after_the_fix_with_nothing_lost() {
    let faults = FaultStack::new().await;
    let (aws, stack) = (&faults.aws, &faults.stack);
    let dead_before = redrive(
        &aws.sqs,
        &stack.dead_letter_queue_url,
        &stack.queue_url,
        Action::Count,
    )
    .await
    .unwrap();
    assert_eq!(
        dead_before.found, 0,
        "start from an empty dead-letter queue"
    );

    // DynamoDB is down for good: every record fails five receives and is dead-lettered.
    faults
        .inject(Faults {
            dynamodb: Some(Rates {
                error: 1.0,
                ..Rates::default()
            }),
            ..Faults::none()
        })
        .await;
    let trial = fresh_trial("FAULT-redrive");
    let surveys: Vec<Survey> = (0..40)
        .map(|n| Survey::new(&trial, &format!("P-{:06}", 700 + n), n))
        .collect();
    for survey in &surveys {
        assert_eq!(
            submit(&faults.http, stack, &survey.body)
                .await
                .unwrap()
                .status,
            202
        );
    }
    aws.wait_until_drained(&stack.queue_url, Duration::from_secs(600), |_| {})
        .await
        .unwrap();
    let dry_run = redrive(
        &aws.sqs,
        &stack.dead_letter_queue_url,
        &stack.queue_url,
        Action::Count,
    )
    .await
    .unwrap();
    eprintln!("\n[redrive] dry run: {dry_run:?}");
    assert_eq!(
        dry_run.found,
        surveys.len(),
        "every submission was dead-lettered"
    );
    assert_eq!(dry_run.by_kind.get("submission"), Some(&surveys.len()));
    assert_eq!(dry_run.moved, 0);
    let still_there = redrive(
        &aws.sqs,
        &stack.dead_letter_queue_url,
        &stack.queue_url,
        Action::Count,
    )
    .await
    .unwrap();
    assert_eq!(still_there.found, surveys.len(), "a dry run moves nothing");

    // The fix, then the redrive.
    faults.inject(Faults::none()).await;
    let moved = redrive(
        &aws.sqs,
        &stack.dead_letter_queue_url,
        &stack.queue_url,
        Action::Move(Method::Auto),
    )
    .await
    .unwrap();
    eprintln!("[redrive] {moved:?}");
    assert_eq!(
        (moved.found, moved.moved, moved.left),
        (surveys.len(), surveys.len(), 0)
    );
    aws.wait_until_drained(&stack.queue_url, Duration::from_secs(120), |_| {})
        .await
        .unwrap();
    for survey in &surveys {
        let items = aws
            .patient_answer_records(stack, &survey.trial_id, &survey.patient_id)
            .await
            .unwrap();
        assert_eq!(items.len(), 1, "stored exactly once: {:?}", items.keys());
    }
    let after = redrive(
        &aws.sqs,
        &stack.dead_letter_queue_url,
        &stack.queue_url,
        Action::Count,
    )
    .await
    .unwrap();
    assert_eq!(after.found, 0, "the dead-letter queue is empty");
}
