//! An alert: a rule met by a stored submission, followed until someone acknowledges it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{RecordType, SubmissionItem};
use crate::alert::{Rule, RuleSet, Severity, alert_id};

/// Whether someone has taken an alert in hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AlertStatus {
    /// Raised, and nobody has acknowledged it yet.
    Open,
    /// A member of the study team has acknowledged it.
    Acknowledged,
}

impl AlertStatus {
    /// The name used in records and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
        }
    }
}

/// The value of [`AlertItem::escalation`] while an urgent alert waits for acknowledgement: the key of the
/// `PendingEscalations` index.
pub const ESCALATION_PENDING: &str = "pending";

/// One alert. Ids, the rule and times only: never an answer, so the record, the staff API and the messages built
/// from it can carry no patient-reported content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertItem {
    /// `ALERT#<alertId>`.
    pub pk: String,
    /// Always `ALERT`.
    pub sk: String,
    /// Always [`RecordType::Alert`].
    pub record_type: RecordType,
    /// The same for the same submission and rule, every time ([`alert_id`]).
    pub alert_id: Uuid,
    /// The trial: the hash key of the `AlertsByTrial` index.
    pub trial_id: String,
    /// The patient (a trial subject id).
    pub patient_id: String,
    /// The submission that met the rule.
    pub submission_id: Uuid,
    /// Its instrument.
    pub survey_id: String,
    /// The instrument version it was filled in on.
    pub survey_version: String,
    /// The rule met.
    pub rule_id: String,
    /// The version of the rule set the rule belongs to.
    pub rules_version: String,
    /// How fast someone must look.
    pub severity: Severity,
    /// The rule's label.
    pub label: String,
    /// For a worsening rule: the previous submission it was compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<Uuid>,
    /// When it was raised (when the submission was stored).
    pub raised_at: String,
    /// Open or acknowledged.
    pub status: AlertStatus,
    /// `<status>#<raisedAt>`: the range key of the `AlertsByTrial` index, so a trial's open alerts are one query.
    pub alert_sort: String,
    /// [`ESCALATION_PENDING`] while an urgent alert is open and not escalated; absent otherwise (sparse index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
    /// When the alert topic accepted its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<String>,
    /// When it was escalated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<String>,
    /// Who acknowledged it: the staff member's id from their token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
}

/// The sort key of the `AlertsByTrial` index.
pub fn alert_sort(status: AlertStatus, raised_at: &str) -> String {
    format!("{}#{raised_at}", status.as_str())
}

/// The partition key of an alert.
pub fn alert_key(alert_id: &Uuid) -> String {
    format!("ALERT#{alert_id}")
}

impl AlertItem {
    /// The alert `rule` (of `set`) raises on `item`, at `at`; `compared_with` for a worsening rule.
    pub fn raise(
        item: &SubmissionItem,
        set: &RuleSet,
        rule: &Rule,
        compared_with: Option<Uuid>,
        at: &str,
    ) -> Self {
        let submission = &item.submission;
        let alert_id = alert_id(&submission.submission_id, &rule.id);
        AlertItem {
            pk: alert_key(&alert_id),
            sk: "ALERT".into(),
            record_type: RecordType::Alert,
            alert_id,
            trial_id: submission.trial_id.clone(),
            patient_id: submission.patient_id.clone(),
            submission_id: submission.submission_id,
            survey_id: submission.survey_id.clone(),
            survey_version: submission.survey_version.clone().unwrap_or_default(),
            rule_id: rule.id.clone(),
            rules_version: set.version.clone(),
            severity: rule.severity,
            label: rule.label.clone(),
            compared_with,
            raised_at: at.to_owned(),
            status: AlertStatus::Open,
            alert_sort: alert_sort(AlertStatus::Open, at),
            escalation: (rule.severity == Severity::Urgent).then(|| ESCALATION_PENDING.to_owned()),
            notified_at: None,
            escalated_at: None,
            acknowledged_by: None,
            acknowledged_at: None,
        }
    }
}
