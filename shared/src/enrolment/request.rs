//! What study staff send to enrol a patient, change the terms, or withdraw them; each validated before anything is
//! written.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::instrument::check::is_id;
use crate::schedule::{AnchorValue, CalendarError, Schedule};

/// The longest reason staff may write.
pub const MAX_REASON_CHARS: usize = 500;

/// `POST /v1/trials/{trialId}/enrolments`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrolRequest {
    /// The patient (the trial's subject id).
    pub patient_id: String,
    /// The schedule.
    pub schedule_id: String,
    /// Its version; its newest active version when absent.
    #[serde(default)]
    pub schedule_version: Option<String>,
    /// A value for each anchor (`2026-12-10`, or an instant); `enrolment` defaults to now.
    #[serde(default)]
    pub anchors: BTreeMap<String, String>,
    /// The patient's IANA time zone (`Europe/Berlin`).
    pub time_zone: String,
    /// Why (consent date, site…), optional at enrolment.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `PATCH /v1/trials/{trialId}/enrolments/{patientId}`: new anchor values, a new zone, or both.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeRequest {
    /// Anchors to change, with their new values.
    #[serde(default)]
    pub anchors: BTreeMap<String, String>,
    /// The patient's new time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Why: required, it is the audit trail.
    pub reason: String,
    /// The revision the change was made against (`If-Match`); a change made against an older one is refused.
    #[serde(skip)]
    pub expected_revision: Option<u32>,
}

/// `POST /v1/trials/{trialId}/enrolments/{patientId}/withdrawal`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WithdrawRequest {
    /// Why: required.
    pub reason: String,
    /// From when (an instant, not in the future, not before enrolment); now when absent.
    #[serde(default)]
    pub at: Option<String>,
}

/// Why an enrolment request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolmentError {
    /// A field is missing or wrong.
    #[error("{field} {problem}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// No such schedule version, or one no longer open to enrolment.
    #[error("no active schedule {0}")]
    UnknownSchedule(String),
    /// The patient is enrolled already (enrol) or not at all (change, withdraw).
    #[error("{0}")]
    State(&'static str),
    /// Someone changed the enrolment since the caller read it.
    #[error("the enrolment is at revision {current}, not {expected}")]
    Stale {
        /// The revision stored.
        current: u32,
        /// The revision the caller changed.
        expected: u32,
    },
}

impl EnrolmentError {
    pub(super) fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        EnrolmentError::Invalid {
            field,
            problem: problem.into(),
        }
    }
}

impl From<CalendarError> for EnrolmentError {
    fn from(error: CalendarError) -> Self {
        match error {
            CalendarError::MissingAnchor(name) => {
                EnrolmentError::invalid("anchors", format!("need a value for {name}"))
            }
            CalendarError::Zone(zone) => {
                EnrolmentError::invalid("timeZone", format!("{zone} is not an IANA time zone"))
            }
            other => EnrolmentError::invalid("anchors", other.to_string()),
        }
    }
}

pub(super) fn check_patient(patient_id: &str) -> Result<(), EnrolmentError> {
    if is_id(patient_id) {
        Ok(())
    } else {
        Err(EnrolmentError::invalid(
            "patientId",
            "must be 1-64 characters of [A-Za-z0-9._:-]",
        ))
    }
}

pub(super) fn check_zone(zone: &str) -> Result<(), EnrolmentError> {
    TimeZone::get(zone).map(|_| ()).map_err(|_| {
        EnrolmentError::invalid("timeZone", format!("{zone} is not an IANA time zone"))
    })
}

pub(super) fn check_reason(reason: &str) -> Result<(), EnrolmentError> {
    if reason.trim().is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        Err(EnrolmentError::invalid(
            "reason",
            format!("must say why, in 1 to {MAX_REASON_CHARS} characters"),
        ))
    } else {
        Ok(())
    }
}

/// Each anchor value given must name an anchor of the schedule and be a date or an instant.
pub(super) fn check_anchors(
    schedule: &Schedule,
    anchors: &BTreeMap<String, String>,
) -> Result<(), EnrolmentError> {
    for (name, value) in anchors {
        if schedule.anchor(name).is_none() {
            let known: Vec<&str> = schedule.anchors.iter().map(|a| a.name.as_str()).collect();
            return Err(EnrolmentError::invalid(
                "anchors",
                format!(
                    "{name} is not an anchor of this schedule ({})",
                    known.join(", ")
                ),
            ));
        }
        if AnchorValue::parse(value).is_none() {
            return Err(EnrolmentError::invalid(
                "anchors",
                format!("{name} must be a date (2026-12-10) or an RFC 3339 instant"),
            ));
        }
    }
    Ok(())
}
