//! The load generator and auditor behind `make demo`: a burst of patients submitting around one fixed time, a wait
//! for the queue to drain, then an audit of the table. Exits 1 unless nothing was lost, doubled or corrupted.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use intake_e2e::alert_audit::{AlertAudit, audit_alerts};
use intake_e2e::audit::{Audit, audit};
use intake_e2e::flow::{DepthSampler, stored_and_raised};
use intake_e2e::inbox::AlertInbox;
use intake_e2e::load::{LoadStats, Plan, Tokens, run};
use intake_e2e::report::{self, Timeline};
use intake_e2e::{Aws, Error, Stack, http_client};
use serde_json::json;

/// Sends a burst of ePRO submissions like patients at a fixed survey time, then audits what was stored.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Simulated patients.
    #[arg(long, default_value_t = 2_000)]
    patients: usize,
    /// Requests in all: new surveys, resends and invalid ones.
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Seconds within which all arrivals fall (peaking mid-window).
    #[arg(long, default_value_t = 30.0)]
    window: f64,
    /// Share of requests that resend an earlier survey unchanged.
    #[arg(long, default_value_t = 0.05)]
    resend_share: f64,
    /// Share of requests that repeat an earlier survey's instrument and timepoint under a new id (flagged).
    #[arg(long, default_value_t = 0.002)]
    repeat_share: f64,
    /// Share of requests that reuse an earlier survey's id for another patient (stored once, plus a conflict).
    #[arg(long, default_value_t = 0.002)]
    collision_share: f64,
    /// Share of requests that resend an earlier survey under its id with edited answers (recorded as a conflict).
    #[arg(long, default_value_t = 0.002)]
    edit_share: f64,
    /// Share of requests that are pain diaries of phones offline for three days, synced at once out of order.
    #[arg(long, default_value_t = 0.009)]
    offline_share: f64,
    /// Share of requests that break the contract or their instrument.
    #[arg(long, default_value_t = 0.01)]
    invalid_share: f64,
    /// Share of new surveys sent as FHIR QuestionnaireResponses (half the resends switch form).
    #[arg(long, default_value_t = 0.3)]
    fhir_share: f64,
    /// Share of resends that write the same instant with an offset (the same content to the intake).
    #[arg(long, default_value_t = 0.25)]
    offset_resend_share: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 128)]
    concurrency: usize,
    /// Client timeout of one attempt, in seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Retries after a timeout, connection error, 429 or 5xx (same submissionId).
    #[arg(long, default_value_t = 3)]
    retries: u32,
    /// Trial id to submit under; defaults to a fresh one so audits never mix runs.
    #[arg(long)]
    trial_id: Option<String>,
    /// Seed for payloads and arrival times.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Give up waiting for the queue to drain after this many seconds.
    #[arg(long, default_value_t = 600)]
    drain_timeout: u64,
    /// Where to write the full report as JSON.
    #[arg(long, default_value = ".local/burst-report.json")]
    report: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    match burst(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("burst failed: {error}");
            ExitCode::from(2)
        }
    }
}

async fn burst(args: Args) -> Result<bool, Error> {
    let stack = Stack::load()?;
    let aws = Aws::load().await;
    let trial_id = args
        .trial_id
        .unwrap_or_else(|| format!("BURST-{}", time::OffsetDateTime::now_utc().unix_timestamp()));
    let plan = Plan {
        trial_id: trial_id.clone(),
        timepoint: "day-7".into(),
        patients: args.patients,
        requests: args.requests,
        resend_share: args.resend_share,
        repeat_share: args.repeat_share,
        collision_share: args.collision_share,
        edit_share: args.edit_share,
        offline_share: args.offline_share,
        invalid_share: args.invalid_share,
        fhir_share: args.fhir_share,
        offset_resend_share: args.offset_resend_share,
        window: Duration::from_secs_f64(args.window),
        concurrency: args.concurrency,
        timeout: Duration::from_secs_f64(args.timeout),
        retries: args.retries,
        seed: args.seed,
    };
    let schedule = plan.schedule();
    let mix = plan.counts();
    eprintln!(
        "Burst: {} requests ({} surveys, {} resends, {} repeats, {} colliding ids, {} edited answers, {} offline reports, {} invalid) from {} patients within {:.0} s\n  to {}\n  trial {trial_id}, up to {} in flight",
        plan.requests,
        mix.new,
        mix.resends,
        mix.repeats,
        mix.collisions,
        mix.edits,
        mix.offline,
        mix.invalid,
        plan.patients,
        args.window,
        stack.submissions_url(),
        plan.concurrency,
    );

    // The study team's subscription, in place before the first alert can be raised.
    let mut inbox = match &stack.alert_topic_arn {
        Some(topic) => Some(AlertInbox::subscribe(&aws, &[topic]).await?),
        None => None,
    };

    let http = http_client();
    let spinner = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("  tokens   {spinner} {msg}").expect("valid template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner.set_message("signing in the patients");
    let tokens = Arc::new(Tokens::mint(&http, &stack, &schedule, plan.concurrency).await?);
    spinner.finish_with_message("one token per patient");

    let bar = ProgressBar::new(plan.requests as u64).with_style(
        ProgressStyle::with_template("  sending  [{bar:40}] {pos}/{len} {per_sec:>10} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let started = tokio::time::Instant::now();
    let wall_start = time::OffsetDateTime::now_utc();
    let sampler = DepthSampler::start(&aws, &stack, started);
    let outcomes = run(&http, &stack, &plan, tokens, schedule, {
        let bar = bar.clone();
        move |outcome| {
            bar.inc(1);
            if !outcome.accepted() && outcome.scheduled.kind != intake_e2e::load::Kind::Invalid {
                bar.set_message(format!("last non-202: {}", outcome.label()));
            }
        }
    })
    .await;
    let load = LoadStats::new(&outcomes, started.elapsed());
    bar.finish_with_message("done");

    let spinner = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("  draining {spinner} {msg}").expect("valid template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    let drain = aws
        .wait_until_drained(
            &stack.queue_url,
            Duration::from_secs(args.drain_timeout),
            |depth| spinner.set_message(format!("{depth} messages queued or in flight")),
        )
        .await?;
    spinner.finish_with_message(format!(
        "queue empty {:.1} s after the last response",
        drain.as_secs_f64()
    ));
    let queue_depth = sampler.finish().await;

    let spinner = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("  auditing {spinner} {msg}").expect("valid template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner.set_message("reading the table and the dead-letter queue");
    let audit = audit(&aws, &stack, &trial_id, &outcomes).await?;
    spinner.set_message("alerts: what the rules demand, what is stored, what the team received");
    let alerts = match inbox.as_mut() {
        Some(inbox) => {
            Some(audit_alerts(&aws, &stack, &trial_id, inbox, Duration::from_secs(120)).await?)
        }
        None => None,
    };
    spinner.finish_with_message("done");
    if let Some(inbox) = inbox {
        inbox.close().await?;
    }
    let passed = audit.passed() && alerts.as_ref().is_none_or(AlertAudit::passed);

    let (text, rows) = render(&load, drain, &audit, alerts.as_ref());
    println!("\n{text}");
    if let Some(parent) = args.report.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let report = json!({
        "trialId": trial_id,
        "target": stack.submissions_url(),
        "plan": { "patients": plan.patients, "requests": plan.requests, "windowSeconds": args.window,
                  "resendShare": plan.resend_share, "repeatShare": plan.repeat_share, "collisionShare": plan.collision_share,
                  "editShare": plan.edit_share, "offlineShare": plan.offline_share,
                  "invalidShare": plan.invalid_share, "fhirShare": plan.fhir_share,
                  "concurrency": plan.concurrency, "timeoutSeconds": args.timeout, "retries": plan.retries, "seed": plan.seed },
        "load": load,
        "drainSeconds": drain.as_secs_f64(),
        "audit": audit,
        "alerts": alerts,
        "passed": passed,
    });
    std::fs::write(&args.report, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("Full report: {}", args.report.display());

    let (stored, alerts_raised) = stored_and_raised(&aws, &stack, &trial_id, wall_start).await?;
    let secs = |d: Duration| d.as_secs_f64();
    let timeline = Timeline {
        sent: outcomes.iter().map(|o| secs(o.sent_at)).collect(),
        acknowledged: outcomes
            .iter()
            .filter(|o| o.accepted())
            .map(|o| secs(o.answered_at))
            .collect(),
        stored,
        alerts: alerts_raised,
        queue_depth,
        latencies_ms: outcomes
            .iter()
            .flat_map(|o| o.latencies.iter().map(|l| l.as_secs_f64() * 1000.0))
            .collect(),
    };
    let page = report::html(
        &format!("Burst report — trial {trial_id}"),
        &rows,
        &timeline,
    )?;
    let html_path = args.report.with_extension("html");
    std::fs::write(&html_path, page)?;
    println!("As a picture:  {}", html_path.display());
    Ok(passed)
}

/// The report as text, and its rows (label, value) for the HTML page, verdicts last.
fn render(
    load: &LoadStats,
    drain: Duration,
    audit: &Audit,
    alerts: Option<&AlertAudit>,
) -> (String, Vec<(String, String)>) {
    let mut out = vec!["Burst report".to_owned(), "─".repeat(56)];
    let mut rows = Vec::new();
    let mut row = |label: &str, value: String| {
        out.push(format!("  {label:<34} {value}"));
        rows.push((label.trim().to_owned(), value));
    };
    row(
        "sent",
        format!(
            "{} requests, {} attempts ({} retried)",
            load.requests, load.attempts, load.retried_requests
        ),
    );
    for (kind, count) in &load.by_kind {
        row(&format!("  {kind}"), count.to_string());
    }
    let forms: Vec<String> = load
        .by_form
        .iter()
        .map(|(form, n)| format!("{n} {form}"))
        .collect();
    row("  forms", forms.join(", "));
    let instruments: Vec<String> = load
        .by_instrument
        .iter()
        .map(|(id, n)| format!("{id} {n}"))
        .collect();
    row("  instruments", instruments.join(", "));
    row(
        "throughput",
        format!(
            "{:.0} requests/s over {:.1} s",
            load.throughput_per_second, load.seconds
        ),
    );
    row(
        "latency p50 / p90 / p99 / max",
        format!(
            "{:.0} / {:.0} / {:.0} / {:.0} ms",
            load.latency_ms.p50, load.latency_ms.p90, load.latency_ms.p99, load.latency_ms.max
        ),
    );
    for (status, count) in &load.by_status {
        row(&format!("status {status}"), count.to_string());
    }
    row(
        "time to drain",
        format!("{:.1} s after the last response", drain.as_secs_f64()),
    );
    row(
        "distinct submissions acknowledged",
        audit.acknowledged.to_string(),
    );
    row("submission items stored", audit.stored.to_string());
    row(
        "duplicates absorbed",
        load.by_status
            .get("202")
            .map_or(0, |accepted| accepted.saturating_sub(audit.acknowledged))
            .to_string(),
    );
    row(
        "stored, never acknowledged",
        audit.stored_without_ack.to_string(),
    );
    row(
        "repeats under a new id, flagged",
        format!("{} of {}", audit.repeats_flagged, audit.repeats),
    );
    row(
        "ids reused by another patient",
        format!(
            "{} stored once, {} conflicts recorded",
            audit.collisions, audit.collisions_recorded
        ),
    );
    row(
        "answers edited and resent",
        format!(
            "{} originals kept, {} conflicts recorded",
            audit.edits, audit.edits_recorded
        ),
    );
    row("stored but never sent", audit.unexpected.len().to_string());
    let dead = audit.dead_letters.values().sum::<usize>();
    row("dead-letter queue", dead.to_string());
    for (why, count) in &audit.dead_letters {
        row(&format!("  {why}"), count.to_string());
    }
    if let Some(alerts) = alerts {
        let by = |counts: &std::collections::BTreeMap<String, usize>| {
            counts
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        row(
            "alerts raised",
            format!(
                "{} ({}), {} demanded by the rules",
                alerts.stored,
                by(&alerts.by_severity),
                alerts.demanded
            ),
        );
        row("  by rule", by(&alerts.by_rule));
        row(
            "  from conflicting resends",
            alerts.from_conflicting_resends.to_string(),
        );
        row(
            "  worsening raised late",
            format!(
                "{} (an earlier-completed report arrived after), {} kept but no longer due",
                alerts.raised_late, alerts.no_longer_due
            ),
        );
        row("alert messages delivered", alerts.delivered.to_string());
    }
    out.push("─".repeat(56));
    rows.push(("submissions".to_owned(), audit.verdict()));
    if let Some(alerts) = alerts {
        rows.push(("alerts".to_owned(), alerts.verdict()));
    }
    out.push(format!(
        "{} {}",
        audit.verdict(),
        if audit.passed() {
            "— every acknowledged submission stored exactly once"
        } else {
            "— FAILED"
        }
    ));
    if let Some(alerts) = alerts {
        out.push(format!(
            "{} {}",
            alerts.verdict(),
            if alerts.passed() {
                "— every alert the rules demand raised once and delivered once"
            } else {
                "— FAILED"
            }
        ));
    }
    (out.join("\n"), rows)
}
