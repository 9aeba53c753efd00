//! A report the table's stream brings to the timeline: a stored submission, a conflicting resend or a correction,
//! read from its stream record, with the timeline it belongs on and its entry there.

use aws_lambda_events::event::dynamodb::EventRecord;

use super::{TimelineEntry, TimelineError};
use crate::alert::Report;
use crate::item::{ConflictItem, RecordType, SubmissionItem, VersionItem, partition_key};

/// A report that arrived in the table: a stored submission, a conflicting resend, or a correction.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrival {
    /// A stored submission (or a repeat).
    Stored(Box<SubmissionItem>),
    /// A conflicting resend.
    Conflicting(Box<ConflictItem>),
    /// A site investigator's correction of a stored submission: the submission's place on the timeline stays, its
    /// report is now the corrected one, compared again with the report before it and by the report after it.
    Corrected(Box<VersionItem>),
}

impl Arrival {
    /// The report a stream record inserted, if it inserted one.
    pub fn of(record: &EventRecord) -> Result<Option<Arrival>, TimelineError> {
        if record.event_name != "INSERT" {
            return Ok(None);
        }
        let image = &record.change.new_image;
        let kind = |record_type: RecordType| {
            let name = serde_json::to_value(record_type).ok();
            let name = name.as_ref().and_then(|v| v.as_str()).unwrap_or_default();
            image.get("recordType") == Some(&serde_dynamo::AttributeValue::S(name.to_owned()))
        };
        let unreadable = |_| TimelineError::Unreadable(record.event_id.clone());
        if kind(RecordType::Submission) {
            let item = serde_dynamo::from_item(image.clone()).map_err(unreadable)?;
            Ok(Some(Arrival::Stored(Box::new(item))))
        } else if kind(RecordType::Conflict) {
            let item = serde_dynamo::from_item(image.clone()).map_err(unreadable)?;
            Ok(Some(Arrival::Conflicting(Box::new(item))))
        } else if kind(RecordType::Version) {
            let item = serde_dynamo::from_item(image.clone()).map_err(unreadable)?;
            Ok(Some(Arrival::Corrected(Box::new(item))))
        } else {
            Ok(None)
        }
    }

    /// Whether its instrument's rules compare it with the previous report.
    pub fn on_timeline(&self) -> bool {
        match self {
            Arrival::Stored(item) => item.on_timeline,
            Arrival::Conflicting(conflict) => conflict.on_timeline,
            Arrival::Corrected(version) => version.on_timeline,
        }
    }

    /// When it was completed, as sent.
    pub fn completed_at(&self) -> &str {
        match self {
            Arrival::Stored(item) => &item.submission.completed_at,
            Arrival::Conflicting(conflict) => &conflict.conflicting_submission.completed_at,
            Arrival::Corrected(version) => &version.submission.completed_at,
        }
    }

    /// The timeline it belongs on: the patient's partition and the instrument.
    pub(super) fn timeline(&self) -> (String, String) {
        match self {
            Arrival::Stored(item) => (item.patient_partition(), item.submission.survey_id.clone()),
            Arrival::Conflicting(conflict) => (
                conflict.pk.clone(),
                conflict.conflicting_submission.survey_id.clone(),
            ),
            Arrival::Corrected(version) => {
                let submission = &version.submission;
                (
                    partition_key(&submission.trial_id, &submission.patient_id),
                    submission.survey_id.clone(),
                )
            }
        }
    }

    /// The report it carries, when it carries all of it. A correction is read back as the submission's current
    /// version (the original holds what the report needs besides, and a later correction may have come meanwhile).
    pub(super) fn report(&self) -> Option<Report> {
        match self {
            Arrival::Stored(item) => Some(Report::stored(item)),
            Arrival::Conflicting(conflict) => Some(Report::conflicting(conflict)),
            Arrival::Corrected(_) => None,
        }
    }

    /// Its timeline entry, when its instrument's rules compare reports.
    pub(super) fn entry(&self, at: &str) -> Option<TimelineEntry> {
        match self {
            Arrival::Stored(item) if item.on_timeline => TimelineEntry::stored(item, at),
            Arrival::Conflicting(conflict) if conflict.on_timeline => {
                TimelineEntry::conflicting(conflict, at)
            }
            Arrival::Corrected(version) if version.on_timeline => {
                TimelineEntry::corrected(version, at)
            }
            _ => None,
        }
    }
}
