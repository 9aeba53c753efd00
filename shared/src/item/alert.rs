//! An alert: a rule met by a stored submission, followed until someone acknowledges it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::RecordType;
use crate::alert::{Origin, Report, Rule, RuleSet, Severity};

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

/// The value of [`AlertItem::delivery`] and [`AlertItem::escalation`] while the duty waits for a worker: the key of
/// the `PendingDeliveries` and `PendingEscalations` indexes.
pub const PENDING: &str = "pending";
/// Their value while one worker holds the duty ([`crate::ports::Claim`]).
pub const CLAIMED: &str = "claimed";

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
    /// Where the content that met the rule stands: a stored submission, a repeat, or a conflicting resend.
    #[serde(default)]
    pub origin: Origin,
    /// The content hash of what met the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// For a conflicting resend: the content hash of the stored original, so the team looks at both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_content_hash: Option<String>,
    /// For a worsening rule: the report it was compared with (the one completed just before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<Uuid>,
    /// For a worsening rule raised late: the earlier-completed report whose late arrival made it due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_arrival: Option<Uuid>,
    /// For a worsening rule raised on a report after a corrected one: the corrected report, whose correction made
    /// it due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_correction_of: Option<Uuid>,
    /// For a worsening rule, once a report completed in between arrived later: whether it is still met against
    /// that one. The alert itself is never withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub still_due: Option<bool>,
    /// The report it was last compared with, when that is no longer `compared_with`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reassessed_against: Option<Uuid>,
    /// When it was last compared again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reassessed_at: Option<String>,
    /// When it was raised.
    pub raised_at: String,
    /// Open or acknowledged.
    pub status: AlertStatus,
    /// `<status>#<raisedAt>`: the range key of the `AlertsByTrial` index, so a trial's open alerts are one query.
    pub alert_sort: String,
    /// [`PENDING`] until its message is on the alert topic, [`CLAIMED`] while a worker sends it; then absent (the
    /// sparse `PendingDeliveries` index the sweep reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    /// The worker holding the delivery, and since when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_claim: Option<String>,
    /// When it was claimed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_claimed_at: Option<String>,
    /// For an urgent alert: [`PENDING`] while it is open and not escalated, [`CLAIMED`] while a sweep escalates it;
    /// absent otherwise (the sparse `PendingEscalations` index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
    /// The sweep holding the escalation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_claim: Option<String>,
    /// When it was claimed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_claimed_at: Option<String>,
    /// When the alert topic accepted its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<String>,
    /// When it was escalated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<String>,
    /// The claim that recorded its delivery: a worker's record sent again after its answer was lost is its own,
    /// another worker's is not, even at the same instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_by: Option<String>,
    /// The claim that recorded its escalation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_by: Option<String>,
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

/// For a rule comparing reports: the report compared with, and what prompted the comparison when it was not the
/// report's own arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    /// The report completed just before.
    pub with: Uuid,
    /// Another report's arrival or correction, when that made the alert due.
    pub prompt: Option<Prompt>,
}

/// Why a report was compared again after its own arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// This earlier-completed report arrived after it.
    LateArrival(Uuid),
    /// The report before it was corrected.
    Correction(Uuid),
}

impl AlertItem {
    /// The alert `rule` (of `set`) raises on `report`, at `at`; `compared` for a rule comparing reports.
    pub fn raise(
        report: &Report,
        set: &RuleSet,
        rule: &Rule,
        compared: Option<Comparison>,
        at: &str,
    ) -> Self {
        let submission = &report.submission;
        let alert_id = report.alert_id(&rule.id);
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
            origin: report.origin,
            content_hash: Some(report.content_hash.clone()),
            original_content_hash: report.original_content_hash.clone(),
            compared_with: compared.map(|c| c.with),
            late_arrival: match compared.and_then(|c| c.prompt) {
                Some(Prompt::LateArrival(report)) => Some(report),
                _ => None,
            },
            after_correction_of: match compared.and_then(|c| c.prompt) {
                Some(Prompt::Correction(report)) => Some(report),
                _ => None,
            },
            still_due: None,
            reassessed_against: None,
            reassessed_at: None,
            raised_at: at.to_owned(),
            status: AlertStatus::Open,
            alert_sort: alert_sort(AlertStatus::Open, at),
            delivery: Some(PENDING.to_owned()),
            delivery_claim: None,
            delivery_claimed_at: None,
            escalation: (rule.severity == Severity::Urgent).then(|| PENDING.to_owned()),
            escalation_claim: None,
            escalation_claimed_at: None,
            notified_at: None,
            escalated_at: None,
            notified_by: None,
            escalated_by: None,
            acknowledged_by: None,
            acknowledged_at: None,
        }
    }
}
