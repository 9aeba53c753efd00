//! An alert and a flag as the staff API shows them, and the cursors of their pages.

use serde::Serialize;
use uuid::Uuid;

use crate::alert::{Origin, Severity};
use crate::item::{AlertItem, AlertStatus, FlagKind};
use crate::ports::{Cursor, FlagCursor, ListedFlag};

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
    /// What met the rule: `submission`, `repeat`, `conflicting-resend` (a stored id resent with other content:
    /// look at both versions), or `correction` (a site investigator's correction of the submission).
    pub origin: Origin,
    /// The content hash of what met the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// For a conflicting resend or a correction: the stored original's content hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_content_hash: Option<String>,
    /// For a worsening rule: the report compared with (completed just before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<Uuid>,
    /// For a worsening rule raised late: the earlier-completed report whose late arrival made it due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_arrival: Option<Uuid>,
    /// For one raised on the report after a corrected one: the corrected report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_correction_of: Option<Uuid>,
    /// For a worsening rule compared again after a report completed in between arrived: whether it is still met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub still_due: Option<bool>,
    /// The report it was compared with again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reassessed_against: Option<Uuid>,
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
            origin: alert.origin,
            content_hash: alert.content_hash,
            original_content_hash: alert.original_content_hash,
            compared_with: alert.compared_with,
            late_arrival: alert.late_arrival,
            after_correction_of: alert.after_correction_of,
            still_due: alert.still_due,
            reassessed_against: alert.reassessed_against,
            raised_at: alert.raised_at,
            status: alert.status,
            notified_at: alert.notified_at,
            escalated_at: alert.escalated_at,
            acknowledged_by: alert.acknowledged_by,
            acknowledged_at: alert.acknowledged_at,
        }
    }
}

/// A cursor as the API hands it out: opaque (hex), naming the list it was issued for (the status, or every status)
/// and the position in it; only ever a position within the trial asked for.
pub fn encode_cursor(cursor: &Cursor, status: Option<AlertStatus>) -> String {
    let list = status.map_or("all", AlertStatus::as_str);
    hex::encode(format!(
        "alerts|{list}|{}|{}",
        cursor.alert_sort, cursor.alert_id
    ))
}

/// The cursor an API client sent back, if it is one this API gave for the list of `status`: a cursor of another
/// list (another status) is not a position in this one.
pub fn decode_cursor(text: &str, status: Option<AlertStatus>) -> Option<Cursor> {
    let text = String::from_utf8(hex::decode(text).ok()?).ok()?;
    let mut parts = text.splitn(4, '|');
    (parts.next()? == "alerts").then_some(())?;
    let list = status.map_or("all", AlertStatus::as_str);
    (parts.next()? == list).then_some(())?;
    let (alert_sort, alert_id) = (parts.next()?, parts.next()?);
    let of_status = |s: AlertStatus| alert_sort.starts_with(&format!("{}#", s.as_str()));
    let fits = match status {
        Some(status) => of_status(status),
        None => of_status(AlertStatus::Open) || of_status(AlertStatus::Acknowledged),
    };
    fits.then_some(())?;
    Some(Cursor {
        alert_sort: alert_sort.to_owned(),
        alert_id: alert_id.parse().ok()?,
    })
}

/// One flag, as JSON: what a data manager looks at and where (ids, hashes and figures, never answers).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagView {
    /// A [`crate::item::FlagKind`] name: `conflict` is a stored id resent with other content (the app was told
    /// 202); `out-of-window`, `unscheduled`, `after-withdrawal` place a submission on the patient's calendar.
    pub kind: &'static str,
    /// The flagged submission.
    pub submission_id: Uuid,
    /// The patient whose records hold it.
    pub patient_id: String,
    /// When it was raised.
    pub flagged_at: String,
    /// What to look at.
    pub detail: String,
}

impl From<ListedFlag> for FlagView {
    fn from(flag: ListedFlag) -> Self {
        let patient_id = flag
            .pk
            .split_once("#PATIENT#")
            .map_or(String::new(), |(_, patient)| patient.to_owned());
        FlagView {
            kind: flag.kind.as_str(),
            submission_id: flag.submission_id,
            patient_id,
            flagged_at: flag.flagged_at,
            detail: flag.detail,
        }
    }
}

/// A flags cursor as the API hands it out: opaque (hex).
pub fn encode_flag_cursor(cursor: &FlagCursor) -> String {
    hex::encode(format!(
        "flags|{}|{}|{}",
        cursor.flagged_at, cursor.pk, cursor.sk
    ))
}

/// The flags cursor an API client sent back, if it is one.
pub fn decode_flag_cursor(text: &str) -> Option<FlagCursor> {
    let text = String::from_utf8(hex::decode(text).ok()?).ok()?;
    let mut parts = text.splitn(4, '|');
    (parts.next()? == "flags").then_some(())?;
    let (flagged_at, pk, sk) = (parts.next()?, parts.next()?, parts.next()?);
    let known = FlagKind::ALL
        .iter()
        .any(|kind| sk.starts_with(&format!("FLAG#{}#", kind.as_str())))
        || sk.starts_with("CONFLICT#");
    (pk.starts_with("TRIAL#") && known).then_some(())?;
    Some(FlagCursor {
        flagged_at: flagged_at.to_owned(),
        pk: pk.to_owned(),
        sk: sk.to_owned(),
    })
}
