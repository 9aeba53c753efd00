//! What the study team receives: ids, the rule's label, the severity and the time. Never an answer or free text:
//! e-mail and SMS are not safe channels for what a patient wrote.

use serde::Serialize;
use uuid::Uuid;

use crate::alert::{Origin, Severity};
use crate::item::AlertItem;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MessageKind {
    /// A new alert, on the alert topic.
    Alert,
    /// An urgent alert nobody acknowledged in time, on the escalation topic.
    Escalation,
}

/// One message on an alert topic, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertMessage {
    /// Alert or escalation.
    pub kind: MessageKind,
    /// The alert, to acknowledge through the staff API.
    pub alert_id: Uuid,
    /// The trial.
    pub trial_id: String,
    /// The patient (a trial subject id).
    pub patient_id: String,
    /// The submission that met the rule.
    pub submission_id: Uuid,
    /// Its instrument and version.
    pub instrument: String,
    /// The rule met.
    pub rule_id: String,
    /// How fast someone must look.
    pub severity: Severity,
    /// The rule's label.
    pub label: String,
    /// When the alert was raised.
    pub raised_at: String,
    /// What met the rule: a stored submission, a repeat, a conflicting resend of a stored id, or a correction.
    pub origin: Origin,
    /// For a conflicting resend: the content hash of the resend that met the rule, and of the stored original, so the
    /// team looks at both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// The stored original's content hash, for a conflicting resend or a correction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_content_hash: Option<String>,
    /// For a rule comparing reports: the report compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<Uuid>,
    /// For one raised late: the earlier-completed report whose late arrival made it due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_arrival: Option<Uuid>,
    /// For one raised on the report after a corrected one: the corrected report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_correction_of: Option<Uuid>,
}

impl AlertMessage {
    /// The message of `kind` for `alert`.
    pub fn of(kind: MessageKind, alert: &AlertItem) -> Self {
        AlertMessage {
            kind,
            alert_id: alert.alert_id,
            trial_id: alert.trial_id.clone(),
            patient_id: alert.patient_id.clone(),
            submission_id: alert.submission_id,
            instrument: format!("{}|{}", alert.survey_id, alert.survey_version),
            rule_id: alert.rule_id.clone(),
            severity: alert.severity,
            label: alert.label.clone(),
            raised_at: alert.raised_at.clone(),
            origin: alert.origin,
            content_hash: alert
                .original_content_hash
                .as_ref()
                .and(alert.content_hash.clone()),
            original_content_hash: alert.original_content_hash.clone(),
            compared_with: alert.compared_with,
            late_arrival: alert.late_arrival,
            after_correction_of: alert.after_correction_of,
        }
    }

    /// The e-mail subject: ASCII and under 100 characters, as SNS requires, so ids only (a label may not be).
    pub fn subject(&self) -> String {
        let what = match self.kind {
            MessageKind::Alert => "alert",
            MessageKind::Escalation => "alert NOT ACKNOWLEDGED",
        };
        let subject = format!(
            "[{}] ePRO {what}, trial {}",
            self.severity.as_str().to_uppercase(),
            self.trial_id
        );
        subject.chars().filter(char::is_ascii).take(99).collect()
    }

    /// The body: the message as JSON, for people and for webhooks alike.
    pub fn body(&self) -> String {
        serde_json::to_string_pretty(self).expect("a message always serialises")
    }
}

impl crate::ports::Publishable for AlertMessage {
    fn subject(&self) -> String {
        AlertMessage::subject(self)
    }

    fn body(&self) -> String {
        AlertMessage::body(self)
    }

    fn attributes(&self) -> Vec<(&'static str, String)> {
        // For subscription filter policies: a trial's team, or urgent alerts only, can subscribe to just that.
        vec![
            ("trialId", self.trial_id.clone()),
            ("severity", self.severity.as_str().to_owned()),
        ]
    }
}
