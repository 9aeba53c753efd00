//! The alert audit: after a burst, does every stored submission have exactly the alerts the rules demand, each
//! stored once and delivered once to the team's subscription?
//!
//! The demand is computed here from what is stored, with the rule book and catalogue, the way the process function
//! evaluates them: a worsening rule compares with the patient's previous submission stored before this one.
//! - lost: demanded but not stored, or stored but never delivered;
//! - doubled: one submission and rule with two alert records, or one alert delivered twice;
//! - spurious: an alert whose rule the stored answers do not meet.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use intake::alert::{Alerting, Prior, alert_id, evaluate};
use intake::item::SubmissionItem;
use serde::Serialize;
use uuid::Uuid;

use crate::inbox::AlertInbox;
use crate::{Aws, Error, Stack};

/// What the alert audit found.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertAudit {
    /// Alerts the rules demand of the stored submissions.
    pub demanded: usize,
    /// Alert records in the trial.
    pub stored: usize,
    /// Stored alerts by severity.
    pub by_severity: BTreeMap<String, usize>,
    /// Stored alerts by rule.
    pub by_rule: BTreeMap<String, usize>,
    /// Messages on the alert topic naming the trial's alerts.
    pub delivered: usize,
    /// Demanded but not stored.
    pub not_stored: Vec<Uuid>,
    /// Stored but never delivered.
    pub not_delivered: Vec<Uuid>,
    /// (submission, rule) with more than one alert record.
    pub doubled: Vec<String>,
    /// Delivered more than once.
    pub delivered_twice: Vec<Uuid>,
    /// Stored without the rule being met.
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

/// Audits the alerts of `trial_id` against its stored submissions and what `inbox` (subscribed to the alert topic
/// before the burst) received, waiting up to `delivery` for messages still on their way.
pub async fn audit_alerts(
    aws: &Aws,
    stack: &Stack,
    trial_id: &str,
    inbox: &mut AlertInbox,
    delivery: Duration,
) -> Result<AlertAudit, Error> {
    let alerting = Alerting::embedded()?;
    let keys = aws.trial_submission_keys(stack, trial_id).await?;
    let items: Vec<SubmissionItem> = aws
        .get_items(stack, &keys)
        .await?
        .into_values()
        .map(serde_dynamo::from_item)
        .collect::<Result<_, _>>()?;

    // Demanded: each submission's rules, a worsening one against the same patient's previous submission of the
    // instrument stored before it.
    let mut demanded: BTreeMap<Uuid, String> = BTreeMap::new();
    for item in &items {
        let submission = &item.submission;
        let Some((set, instrument)) = submission
            .survey_version
            .as_deref()
            .and_then(|version| alerting.rules_for(&submission.survey_id, version))
        else {
            continue;
        };
        let earlier = items.iter().filter(|other| {
            other.pk == item.pk
                && other.submission.survey_id == submission.survey_id
                && other.stored_at < item.stored_at
        });
        let prior = Prior::latest_before(
            &submission.completed_at,
            submission.submission_id,
            earlier.map(|other| {
                let prior = Prior {
                    submission_id: other.submission.submission_id,
                    answers: other.submission.answers.clone(),
                    scores: other.scores.clone(),
                };
                (other.submission.completed_at.clone(), prior)
            }),
        );
        for rule in evaluate(
            set,
            instrument,
            &submission.answers,
            &item.scores,
            prior.as_ref(),
        ) {
            demanded.insert(
                alert_id(&submission.submission_id, &rule.id),
                rule.id.clone(),
            );
        }
    }

    let mut audit = AlertAudit {
        demanded: demanded.len(),
        ..AlertAudit::default()
    };
    let stored = aws.trial_alerts(stack, trial_id).await?;
    let text = |item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let mut per_rule: HashMap<(String, String), usize> = HashMap::new();
    let mut stored_ids = Vec::new();
    for item in &stored {
        let id: Uuid = text(item, "alertId").parse()?;
        stored_ids.push(id);
        *per_rule
            .entry((text(item, "submissionId"), text(item, "ruleId")))
            .or_default() += 1;
        *audit.by_severity.entry(text(item, "severity")).or_default() += 1;
        *audit.by_rule.entry(text(item, "ruleId")).or_default() += 1;
        if !demanded.contains_key(&id) {
            audit.spurious.push(id);
        }
    }
    audit.stored = stored.len();
    audit.doubled = per_rule
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((submission, rule), _)| format!("{submission} {rule}"))
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
