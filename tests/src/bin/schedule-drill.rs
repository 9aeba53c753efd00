//! The schedule drill behind `make demo`: patients in three time zones enrolled on the burst drill with staggered
//! anchors, their apps driven by the reminders the stack sends (a queue subscribed to the reminder topic, as a push
//! provider is), some answering on time, some late, some never; then an audit independent of the code under test:
//! the windows recomputed from the schedule file, compliance equal to what was sent, every reminder once, every
//! miss told once. Exits 1 unless all of it holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use intake_e2e::drill::{Counted, Due, count, drill_calendar};
use intake_e2e::inbox::AlertInbox;
use intake_e2e::{
    Aws, Error, Stack, Survey, TokenRequest, get_from, http_client, json_to, mint_token, post_to,
};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Semaphore;

/// Enrols patients on the burst drill, answers their reminders as apps do, and audits compliance and reminders.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Simulated patients.
    #[arg(long, default_value_t = 2_000)]
    patients: usize,
    /// Share of surveys answered late (in the minute after the window).
    #[arg(long, default_value_t = 0.1)]
    late_share: f64,
    /// Share of surveys never answered.
    #[arg(long, default_value_t = 0.1)]
    never_share: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seed for the patients' behaviour.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Where to write the report as JSON (and beside it, as HTML).
    #[arg(long, default_value = ".local/schedule-report.json")]
    report: PathBuf,
}

const ZONES: [&str; 3] = ["Europe/Berlin", "America/New_York", "Asia/Tokyo"];
const STAFF_SCOPE: &str = "epro/enrolment.write epro/enrolment.read";

/// What a patient does with one survey due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    OnTime,
    Late,
    Never,
}

#[tokio::main]
async fn main() -> ExitCode {
    match drill(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("schedule drill failed: {error}");
            ExitCode::from(2)
        }
    }
}

fn spinner(label: &str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template(&format!("  {label:<9}{{spinner}} {{msg}}"))
            .expect("valid template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}

fn text(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("a UTC time formats")
}

async fn drill(args: Args) -> Result<bool, Error> {
    let stack = Stack::load()?;
    let aws = Aws::load().await;
    let http = http_client();
    let trial = format!("DRILL-{}", OffsetDateTime::now_utc().unix_timestamp());
    let topics = [
        stack
            .reminder_topic_arn
            .clone()
            .ok_or("the stack names no ReminderTopicArn")?,
        stack
            .missed_survey_topic_arn
            .clone()
            .ok_or("the stack names no MissedSurveyTopicArn")?,
    ];
    let mut push = AlertInbox::subscribe(&aws, &[&topics[0], &topics[1]]).await?;
    let started = OffsetDateTime::now_utc();
    // Anchors a minute and a quarter ahead (time to enrol everyone), staggered by zone: three waves half a minute
    // apart, each opening a window a minute after its anchor.
    let first_anchor = started + time::Duration::seconds(75);
    let patients: Vec<(String, &str, OffsetDateTime)> = (0..args.patients)
        .map(|n| {
            let zone = n % ZONES.len();
            (
                format!("P-{n:05}"),
                ZONES[zone],
                first_anchor + time::Duration::seconds(30 * zone as i64),
            )
        })
        .collect();
    eprintln!(
        "Schedule drill: {} patients on burst-drill in {} zones, anchors {} + 0/30/60 s\n  trial {trial}; late {:.0} %, never {:.0} %",
        args.patients,
        ZONES.len(),
        text(first_anchor),
        args.late_share * 100.0,
        args.never_share * 100.0
    );

    let staff = mint_token(
        &http,
        &stack,
        &TokenRequest::staff("drill-nurse", &[&trial], STAFF_SCOPE),
    )
    .await?;
    let bar = ProgressBar::new(args.patients as u64).with_style(
        ProgressStyle::with_template("  enrolling [{bar:40}] {pos}/{len} {per_sec:>10}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let path = format!("/v1/trials/{trial}/enrolments");
    futures::stream::iter(&patients)
        .map(|(patient, zone, anchor)| {
            let (http, stack, staff, path, bar) = (&http, &stack, &staff, &path, &bar);
            async move {
                let body = json!({
                    "patientId": patient, "scheduleId": "burst-drill", "timeZone": zone,
                    "anchors": { "enrolment": text(*anchor) }, "reason": "schedule drill"
                });
                let reply =
                    json_to(http, stack, (Method::POST, path), Some(staff), None, &body).await?;
                bar.inc(1);
                match reply.status {
                    201 => Ok(()),
                    status => Err(Error::from(format!(
                        "enrolling {patient}: {status} {}",
                        reply.body
                    ))),
                }
            }
        })
        .buffer_unordered(args.concurrency)
        .try_collect::<()>()
        .await?;
    bar.finish();
    let tokens: BTreeMap<String, String> = futures::stream::iter(&patients)
        .map(|(patient, _, _)| {
            let (http, stack, trial) = (&http, &stack, &trial);
            async move {
                Ok::<_, Error>((
                    patient.clone(),
                    mint_token(http, stack, &TokenRequest::patient(patient, trial)).await?,
                ))
            }
        })
        .buffer_unordered(args.concurrency)
        .try_collect()
        .await?;
    let tokens = Arc::new(tokens);

    // The auditor's calendars, from the schedule file; each survey's fate drawn up front.
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let mut calendars: BTreeMap<String, Vec<Due>> = BTreeMap::new();
    let mut fates: BTreeMap<(String, String), Fate> = BTreeMap::new();
    for (patient, _, anchor) in &patients {
        let calendar = drill_calendar(*anchor)?;
        for due in &calendar {
            let roll = rng.f64();
            let fate = if roll < args.never_share {
                Fate::Never
            } else if roll < args.never_share + args.late_share {
                Fate::Late
            } else {
                Fate::OnTime
            };
            fates.insert((patient.clone(), due.timepoint.clone()), fate);
        }
        calendars.insert(patient.clone(), calendar);
    }
    let last_grace = calendars
        .values()
        .flatten()
        .map(|d| d.grace_ends)
        .max()
        .ok_or("no survey due")?;

    // The apps: each reminder is answered (or not) as its patient's fate says.
    let sending = Arc::new(Semaphore::new(args.concurrency));
    let mut answered: BTreeSet<(String, String)> = BTreeSet::new();
    let mut tasks = Vec::new();
    let mut reminder_times = Vec::new();
    let mut seen = 0;
    let waiting = spinner("surveys");
    // Until every grace has ended and the sweep after it has run (it runs every minute).
    let until = last_grace + time::Duration::seconds(75);
    while OffsetDateTime::now_utc() < until {
        push.collect(Duration::from_secs(1)).await?;
        let fresh: Vec<Value> = push.messages().skip(seen).cloned().collect();
        seen += fresh.len();
        for message in fresh
            .iter()
            .filter(|m| m["trialId"] == trial.as_str() && m["kind"] == "due")
        {
            let now = OffsetDateTime::now_utc();
            reminder_times.push((now - started).as_seconds_f64());
            let patient = message["patientId"].as_str().unwrap_or_default().to_owned();
            let timepoint = message["timepoint"].as_str().unwrap_or_default().to_owned();
            let key = (patient.clone(), timepoint.clone());
            let Some(due) = calendars
                .get(&patient)
                .and_then(|c| c.iter().find(|d| d.timepoint == timepoint))
            else {
                continue;
            };
            if !answered.insert(key.clone()) {
                continue; // a second reminder: the auditor counts it; the app answers once
            }
            let at = match fates.get(&key) {
                Some(Fate::OnTime) => {
                    // Inside the window, clear of its edges.
                    let room = ((due.closes - now).whole_seconds() - 8).max(1);
                    now + time::Duration::seconds(rng.i64(1..=room.max(1)))
                }
                Some(Fate::Late) => due.closes + time::Duration::seconds(rng.i64(8..=45)),
                _ => continue,
            };
            let (http, stack, trial, tokens, sending) = (
                http.clone(),
                stack.clone(),
                trial.clone(),
                tokens.clone(),
                sending.clone(),
            );
            let instrument = due.instrument.clone();
            tasks.push(tokio::spawn(async move {
                let wait = at - OffsetDateTime::now_utc();
                if wait.is_positive() {
                    tokio::time::sleep(wait.unsigned_abs()).await;
                }
                let _permit = sending.acquire().await;
                let mut survey = Survey::of(
                    &instrument,
                    &trial,
                    &patient,
                    &timepoint,
                    &mut fastrand::Rng::new(),
                );
                let completed = OffsetDateTime::now_utc();
                survey.body["completedAt"] = json!(text(completed));
                let (path, content_type, body) = survey.request();
                let reply = post_to(
                    &http,
                    &stack,
                    path,
                    tokens.get(&patient).map(String::as_str),
                    content_type,
                    body,
                )
                .await;
                let accepted = matches!(&reply, Ok(r) if r.status == 202);
                (patient, timepoint, completed, accepted)
            }));
        }
        waiting.set_message(format!(
            "{} reminders answered or waiting, {} surveys scheduled; until {}",
            answered.len(),
            tasks.len(),
            text(until)
        ));
    }
    let mut sent: BTreeMap<(String, String), OffsetDateTime> = BTreeMap::new();
    let mut sent_times = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (patient, timepoint, completed, accepted) = task.await.map_err(|e| e.to_string())?;
        if accepted {
            sent_times.push((completed - started).as_seconds_f64());
            sent.insert((patient, timepoint), completed);
        } else {
            refused += 1;
        }
    }
    waiting.finish_with_message(format!(
        "{} surveys sent ({refused} not accepted)",
        sent.len()
    ));
    let drained = spinner("draining");
    aws.wait_until_drained(&stack.queue_url, Duration::from_secs(300), |depth| {
        drained.set_message(format!("{depth} messages queued or in flight"))
    })
    .await?;
    drained.finish_with_message("queue empty");
    push.collect(Duration::from_secs(5)).await?;

    // The audit.
    let (auditor, by_timepoint) = count(&calendars, &sent);
    let staff = mint_token(
        &http,
        &stack,
        &TokenRequest::staff("drill-auditor", &[&trial], STAFF_SCOPE),
    )
    .await?;
    let compliance = get_from(
        &http,
        &stack,
        &format!("/v1/trials/{trial}/compliance"),
        Some(&staff),
    )
    .await?;
    if compliance.status != 200 {
        return Err(format!("compliance: {} {}", compliance.status, compliance.body).into());
    }
    let reported = Counted::of_api(&compliance.body["overall"]);
    let reported_rows: BTreeMap<String, Counted> = compliance.body["byTimepoint"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            (
                row["key"].as_str().unwrap_or_default().to_owned(),
                Counted::of_api(row),
            )
        })
        .collect();
    let per = |kind: &str| -> BTreeMap<(String, String), usize> {
        let mut counts = BTreeMap::new();
        for m in push
            .messages()
            .filter(|m| m["trialId"] == trial.as_str() && m["kind"] == kind)
        {
            let key = (
                m["patientId"].as_str().unwrap_or_default().to_owned(),
                m["timepoint"].as_str().unwrap_or_default().to_owned(),
            );
            *counts.entry(key).or_insert(0) += 1;
        }
        counts
    };
    let (reminders, notices) = (per("due"), per("missed"));
    let every_due: Vec<(String, String)> = calendars
        .iter()
        .flat_map(|(p, c)| c.iter().map(move |d| (p.clone(), d.timepoint.clone())))
        .collect();
    let reminders_missing = every_due
        .iter()
        .filter(|k| !reminders.contains_key(*k))
        .count();
    let reminders_doubled = reminders.values().filter(|n| **n > 1).count();
    let never: Vec<&(String, String)> = every_due
        .iter()
        .filter(|k| !sent.contains_key(*k))
        .collect();
    let notices_missing = never.iter().filter(|k| !notices.contains_key(**k)).count();
    let notices_doubled = notices.values().filter(|n| **n > 1).count();
    let notices_wrong = notices
        .keys()
        .filter(|k| {
            sent.get(*k).is_some_and(|at| {
                calendars[&k.0]
                    .iter()
                    .any(|d| d.timepoint == k.1 && *at < d.closes)
            })
        })
        .count();
    let rows_match = by_timepoint
        .iter()
        .all(|(tp, counted)| reported_rows.get(tp) == Some(counted));
    let passed = reported == auditor
        && rows_match
        && reminders_missing == 0
        && reminders_doubled == 0
        && notices_missing == 0
        && notices_doubled == 0
        && notices_wrong == 0
        && refused == 0;

    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |label: &str, value: String| rows.push((label.to_owned(), value));
    row(
        "patients enrolled",
        format!("{} in {}", args.patients, ZONES.join(", ")),
    );
    row("surveys due", every_due.len().to_string());
    row(
        "reminders received",
        format!(
            "{} ({} missing, {} doubled)",
            reminders.values().sum::<usize>(),
            reminders_missing,
            reminders_doubled
        ),
    );
    row(
        "surveys sent",
        format!("{} ({refused} not accepted)", sent.len()),
    );
    row(
        "compliance (API)",
        format!(
            "expected {}, on time {}, late {}, missed {}",
            reported.expected, reported.on_time, reported.late, reported.missed
        ),
    );
    row(
        "compliance (auditor)",
        format!(
            "expected {}, on time {}, late {}, missed {}",
            auditor.expected, auditor.on_time, auditor.late, auditor.missed
        ),
    );
    row(
        "by timepoint",
        if rows_match {
            "equal".into()
        } else {
            format!("DIFFERENT: API {reported_rows:?}")
        },
    );
    row(
        "missed-survey notices",
        format!(
            "{} ({} missing, {} doubled, {} for surveys answered in time)",
            notices.values().sum::<usize>(),
            notices_missing,
            notices_doubled,
            notices_wrong
        ),
    );
    row(
        "verdict",
        if passed {
            "PASSED".into()
        } else {
            "FAILED".into()
        },
    );
    println!("\nSchedule drill\n{}", "─".repeat(56));
    for (label, value) in &rows {
        println!("  {label:<28} {value}");
    }
    if let Some(parent) = args.report.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let report = json!({
        "trialId": trial, "patients": args.patients, "seed": args.seed,
        "auditor": auditor, "api": compliance.body, "byTimepoint": by_timepoint,
        "reminders": { "received": reminders.values().sum::<usize>(), "missing": reminders_missing, "doubled": reminders_doubled },
        "notices": { "received": notices.values().sum::<usize>(), "missing": notices_missing, "doubled": notices_doubled, "wrong": notices_wrong },
        "passed": passed,
    });
    std::fs::write(&args.report, serde_json::to_string_pretty(&report)? + "\n")?;
    let rows_by_timepoint: Vec<(String, Counted)> = by_timepoint.into_iter().collect();
    let page = intake_e2e::schedule_report::html(
        &format!("Schedule drill — trial {trial}"),
        &rows,
        (&reminder_times, &sent_times),
        &rows_by_timepoint,
    )?;
    let html = args.report.with_extension("html");
    std::fs::write(&html, page)?;
    println!(
        "Full report: {}\nAs a picture: {}",
        args.report.display(),
        html.display()
    );
    push.close().await?;
    Ok(passed)
}
