//! The alert audit: after a burst, does every content the API acknowledged have exactly the alerts the rules demand,
//! each stored once and delivered once to the team's subscription?
//!
//! The demand is computed here, from what is stored, independently of the functions' own ordering: every stored
//! submission and every conflicting resend is a report; its own answers meet the rules they meet; and a rule
//! comparing reports compares it with the patient's stored submission of the instrument completed just before it
//! (by instant, then id; never one of the same id), whatever order they arrived in.
//! - lost: demanded but not stored, or stored but never delivered;
//! - doubled: one clinical event (a patient's instrument at a timepoint, or one conflicting content) and rule with two
//!   alert records, or one alert delivered twice;
//! - spurious: an alert the final order does not demand, unless it is marked no longer due (it was due when raised,
//!   before an earlier-completed report arrived).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use intake::alert::{Alerting, Answered, Origin, Report, met, worsened};
use intake::item::{ConflictItem, SubmissionItem};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::inbox::AlertInbox;
use crate::{Aws, Error, Stack};

/// What the alert audit found.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertAudit {
    /// Alerts the rules demand of the acknowledged reports.
    pub demanded: usize,
    /// Alert records in the trial.
    pub stored: usize,
    /// Stored alerts by severity.
    pub by_severity: BTreeMap<String, usize>,
    /// Stored alerts by rule.
    pub by_rule: BTreeMap<String, usize>,
    /// Stored alerts raised on a conflicting resend's content.
    pub from_conflicting_resends: usize,
    /// Stored alerts raised when an earlier-completed report arrived later.
    pub raised_late: usize,
    /// Stored alerts kept and marked no longer due (a report completed in between arrived later).
    pub no_longer_due: usize,
    /// Messages on the alert topic naming the trial's alerts.
    pub delivered: usize,
    /// Demanded but not stored.
    pub not_stored: Vec<Uuid>,
    /// Stored but never delivered.
    pub not_delivered: Vec<Uuid>,
    /// (event, rule) with more than one alert record.
    pub doubled: Vec<String>,
    /// Delivered more than once.
    pub delivered_twice: Vec<Uuid>,
    /// Stored without the rule being met in completion order, and not marked no longer due.
    pub spurious: Vec<Uuid>,
}

impl AlertAudit {
    /// Lost: demanded and not stored, or stored and not delivered.
    pub fn lost(&self) -> usize {
        self.not_stored.len() + self.not_delivered.len()
    }

    /// Doubled: stored twice or delivered twice.
    pub fn doubled(&self) -> usize {
        self.doubled.len() + self.delivered_twice.len()
    }

    /// Whether every alert is accounted for.
    pub fn passed(&self) -> bool {
        self.lost() == 0 && self.doubled() == 0 && self.spurious.is_empty()
    }

    /// The one line a reader looks for.
    pub fn verdict(&self) -> String {
        format!("alerts lost: {}, doubled: {}", self.lost(), self.doubled())
    }
}

/// A report as the audit reads it: its content and where it stands in its patient's timeline.
#[derive(Debug, Clone)]
pub struct Audited {
    /// The content.
    pub report: Report,
    /// Its patient's timeline: trial, patient, instrument.
    pub timeline: (String, String, String),
    /// Its place: the completion instant, then the submission id.
    pub position: (OffsetDateTime, Uuid),
    /// The clinical event one page stands for: the patient's instrument at its timepoint, or this conflicting
    /// content.
    pub event: String,
}

impl Audited {
    /// A stored submission.
    pub fn stored(item: &SubmissionItem) -> Option<Self> {
        Self::of(Report::stored(item))
    }

    /// A conflicting resend.
    pub fn conflicting(conflict: &ConflictItem) -> Option<Self> {
        Self::of(Report::conflicting(conflict))
    }

    fn of(report: Report) -> Option<Self> {
        let submission = &report.submission;
        let instant = OffsetDateTime::parse(&submission.completed_at, &Rfc3339).ok()?;
        let event = match report.origin {
            Origin::ConflictingResend => {
                format!("{}#{}", submission.submission_id, report.content_hash)
            }
            _ => format!(
                "{}/{}/{}/{}",
                submission.trial_id,
                submission.patient_id,
                submission.survey_id,
                submission.timepoint
            ),
        };
        Some(Audited {
            timeline: (
                submission.trial_id.clone(),
                submission.patient_id.clone(),
                submission.survey_id.clone(),
            ),
            position: (instant, submission.submission_id),
            event,
            report,
        })
    }
}

/// The alerts the rules demand of `reports`, by alert id, with the event each belongs to.
pub fn demanded(alerting: &Alerting, reports: &[Audited]) -> BTreeMap<Uuid, String> {
    let mut stored: HashMap<&(String, String, String), Vec<&Audited>> = HashMap::new();
    for audited in reports {
        if audited.report.origin != Origin::ConflictingResend {
            stored.entry(&audited.timeline).or_default().push(audited);
        }
    }
    let mut demanded = BTreeMap::new();
    for audited in reports {
        let report = &audited.report;
        let Some((set, answered)) = alerting.judging(report) else {
            continue;
        };
        let mut rules = met(set, answered);
        let before = stored
            .get(&audited.timeline)
            .into_iter()
            .flatten()
            .filter(|other| {
                other.position < audited.position
                    && other.report.submission.submission_id != report.submission.submission_id
            })
            .max_by_key(|other| other.position);
        if let Some(before) = before.and_then(|b| answered_of(alerting, &b.report)) {
            rules.extend(worsened(set, answered, before));
        }
        for rule in rules {
            demanded.insert(report.alert_id(&rule.id), audited.event.clone());
        }
    }
    demanded
}

fn answered_of<'a>(alerting: &Alerting, report: &'a Report) -> Option<Answered<'a>> {
    let submission = &report.submission;
    let instrument = alerting
        .catalogue
        .get(&submission.survey_id, submission.survey_version.as_deref())
        .ok()?;
    Some(Answered {
        instrument,
        answers: &submission.answers,
        scores: &report.scores,
    })
}

/// Every report of `trial_id`: its stored submissions (through the by-trial index) and its conflicting resends
/// (through the flags index), read whole.
pub async fn reports(aws: &Aws, stack: &Stack, trial_id: &str) -> Result<Vec<Audited>, Error> {
    let mut keys = aws.trial_submission_keys(stack, trial_id).await?;
    keys.extend(aws.trial_conflict_keys(stack, trial_id).await?);
    let mut audited = Vec::new();
    for item in aws.get_items(stack, &keys).await?.into_values() {
        let conflict = item
            .get("recordType")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
            == Some("conflict");
        let read = if conflict {
            Audited::conflicting(&serde_dynamo::from_item(item)?)
        } else {
            Audited::stored(&serde_dynamo::from_item(item)?)
        };
        audited.extend(read);
    }
    Ok(audited)
}

/// Audits the alerts of `trial_id` against its reports and what `inbox` (subscribed to the alert topic before the
/// burst) received, waiting up to `delivery` for messages still on their way.
pub async fn audit_alerts(
    aws: &Aws,
    stack: &Stack,
    trial_id: &str,
    inbox: &mut AlertInbox,
    delivery: Duration,
) -> Result<AlertAudit, Error> {
    let alerting = Alerting::embedded()?;
    let reports = reports(aws, stack, trial_id).await?;
    let demanded = demanded(&alerting, &reports);
    let events: HashMap<(Uuid, String), &str> = reports
        .iter()
        .map(|a| {
            let key = (
                a.report.submission.submission_id,
                a.report.content_hash.clone(),
            );
            (key, a.event.as_str())
        })
        .collect();

    let mut audit = AlertAudit {
        demanded: demanded.len(),
        ..AlertAudit::default()
    };
    let stored = aws.trial_alerts(stack, trial_id).await?;
    let text = |item: &HashMap<String, AttributeValue>, name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let mut per_event: HashMap<(String, String), usize> = HashMap::new();
    let mut stored_ids = Vec::new();
    for item in &stored {
        let id: Uuid = text(item, "alertId").parse()?;
        stored_ids.push(id);
        let (rule, content) = (text(item, "ruleId"), text(item, "contentHash"));
        let submission: Uuid = text(item, "submissionId").parse()?;
        let event = events.get(&(submission, content)).map_or_else(
            || format!("unknown content of {submission}"),
            |e| (*e).to_owned(),
        );
        *per_event.entry((event, rule.clone())).or_default() += 1;
        *audit.by_severity.entry(text(item, "severity")).or_default() += 1;
        *audit.by_rule.entry(rule).or_default() += 1;
        if text(item, "origin") == Origin::ConflictingResend.as_str() {
            audit.from_conflicting_resends += 1;
        }
        if item.contains_key("lateArrival") {
            audit.raised_late += 1;
        }
        let no_longer_due = item.get("stillDue").and_then(|v| v.as_bool().ok()) == Some(&false);
        if no_longer_due {
            audit.no_longer_due += 1;
        }
        if !demanded.contains_key(&id) && !no_longer_due {
            audit.spurious.push(id);
        }
    }
    audit.stored = stored.len();
    audit.doubled = per_event
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((event, rule), _)| format!("{event} {rule}"))
        .collect();
    audit.not_stored = demanded
        .keys()
        .filter(|id| !stored_ids.contains(id))
        .copied()
        .collect();

    let delivered = inbox
        .wait_for("alert", &stored_ids, delivery, Duration::from_secs(3))
        .await?;
    audit.delivered = delivered.values().sum();
    for (id, count) in delivered {
        match count {
            0 => audit.not_delivered.push(id),
            1 => {}
            _ => audit.delivered_twice.push(id),
        }
    }
    Ok(audit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake::testing::example::example;
    use serde_json::json;

    fn pain(n: u32, day: u32, score: u32, timepoint: &str) -> Audited {
        let envelope = example()
            .id(format!("00000000-0000-4000-8000-{n:012}"))
            .survey("pain-nrs", json!({ "pain": score }))
            .set("timepoint", json!(timepoint))
            .set("completedAt", json!(format!("2026-11-{day:02}T20:00:00Z")))
            .envelope();
        Audited::stored(&SubmissionItem::new(envelope, String::new())).unwrap()
    }

    fn worsening_on(demanded: &BTreeMap<Uuid, String>, reports: &[&Audited]) -> Vec<bool> {
        reports
            .iter()
            .map(|r| demanded.contains_key(&r.report.alert_id("pain-worsening")))
            .collect()
    }

    #[test]
    fn worsening_is_demanded_in_completion_order_whatever_the_order_reports_are_listed_in() {
        let alerting = Alerting::embedded().unwrap();
        let (day1, day2, day3) = (
            pain(1, 1, 5, "day-1"),
            pain(2, 2, 2, "day-2"),
            pain(3, 3, 5, "day-3"),
        );
        for listed in [
            vec![day1.clone(), day2.clone(), day3.clone()],
            vec![day3.clone(), day1.clone(), day2.clone()],
        ] {
            let demanded = demanded(&alerting, &listed);
            assert_eq!(
                worsening_on(&demanded, &[&day1, &day2, &day3]),
                [false, false, true],
                "day 3 is worse than day 2, not than day 1"
            );
        }
    }

    #[test]
    fn a_conflicting_resend_is_compared_but_never_compared_with_and_a_repeat_shares_its_events_alerts()
     {
        let alerting = Alerting::embedded().unwrap();
        let day1 = pain(1, 1, 2, "day-1");
        let day2 = pain(2, 2, 3, "day-2");
        // A double tap of day 2, worse than day 1 by 5: its alert is the first day-2 submission's event.
        let mut tap = pain(3, 2, 7, "day-2");
        tap.report.origin = Origin::Repeat;
        tap.report.repeat_of = Some(day2.report.submission.submission_id);
        let demanded = demanded(&alerting, &[day1.clone(), day2.clone(), tap.clone()]);
        assert_eq!(
            demanded.get(&tap.report.alert_id("pain-worsening")),
            Some(&day2.event),
            "{demanded:?}"
        );
        assert_eq!(
            tap.report.alert_id("pain-worsening"),
            day2.report.alert_id("pain-worsening")
        );
    }
}
