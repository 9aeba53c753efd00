//! An alert as the staff API shows it, and the cursor of a page of alerts.

use serde::Serialize;
use uuid::Uuid;

use crate::alert::Severity;
use crate::item::{AlertItem, AlertStatus};
use crate::ports::Cursor;

/// One alert, as JSON: what a study nurse needs to act, ids to find the rest, never an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    /// The alert.
    pub alert_id: Uuid,
    /// Its trial.
    pub trial_id: String,
    /// The patient (a trial subject id).
    pub patient_id: String,
    /// The submission that met the rule.
    pub submission_id: Uuid,
    /// Its instrument.
    pub instrument: String,
    /// The instrument version it was filled in on.
    pub instrument_version: String,
    /// The rule met, and the version of its rule set.
    pub rule_id: String,
    /// The rule set's version.
    pub rules_version: String,
    /// How fast someone must look.
    pub severity: Severity,
    /// The rule's label.
    pub label: String,
    /// For a worsening rule: the submission compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<Uuid>,
    /// When it was raised.
    pub raised_at: String,
    /// Open or acknowledged.
    pub status: AlertStatus,
    /// When the team was messaged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<String>,
    /// When it was escalated, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<String>,
    /// Who acknowledged it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
}

impl From<AlertItem> for AlertView {
    fn from(alert: AlertItem) -> Self {
        AlertView {
            alert_id: alert.alert_id,
            trial_id: alert.trial_id,
            patient_id: alert.patient_id,
            submission_id: alert.submission_id,
            instrument: alert.survey_id,
            instrument_version: alert.survey_version,
            rule_id: alert.rule_id,
            rules_version: alert.rules_version,
            severity: alert.severity,
            label: alert.label,
            compared_with: alert.compared_with,
            raised_at: alert.raised_at,
            status: alert.status,
            notified_at: alert.notified_at,
            escalated_at: alert.escalated_at,
            acknowledged_by: alert.acknowledged_by,
            acknowledged_at: alert.acknowledged_at,
        }
    }
}

/// A cursor as the API hands it out: opaque (hex), and only ever a position within the trial asked for.
pub fn encode_cursor(cursor: &Cursor) -> String {
    hex::encode(format!("{}|{}", cursor.alert_sort, cursor.alert_id))
}

/// The cursor an API client sent back, if it is one.
pub fn decode_cursor(text: &str) -> Option<Cursor> {
    let bytes = hex::decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (alert_sort, alert_id) = text.rsplit_once('|')?;
    let status_ok = ["open#", "acknowledged#"]
        .iter()
        .any(|prefix| alert_sort.starts_with(prefix));
    status_ok.then_some(())?;
    Some(Cursor {
        alert_sort: alert_sort.to_owned(),
        alert_id: alert_id.parse().ok()?,
    })
}
