//! Corrections on the staff API: a site investigator corrects a patient's answers as a new version of the
//! submission. The submission as the patient sent it stays version 1, unchanged; each correction is written once
//! beside it, names the version it replaces (a stale one is `409`, as ODK Central's `deprecatedID`), gives a reason,
//! and is attributed to the person in the token.
//!
//! `POST /v1/trials/{trialId}/submissions/{submissionId}/versions` (`epro/data.correct`), body
//! `{"patientId", "replaces": n, "answers": {…}, "reason"}`: the answers are read as strictly as the submit route
//! reads them and judged against the same instrument version as the original; the scores are computed again; the
//! alert rules are evaluated on the new version and what is newly due is raised (an alert the submission, an
//! earlier version or a conflicting resend of it raised already stays as it is and is not raised again). Rules that compare a report with the previous one are the
//! timeline function's: the table's stream brings it the new version ([`crate::timeline`]).
//!
//! `GET …/versions?patientId=…[&all=true]` (`epro/data.correct` or `epro/audit.read`): the current version, or
//! every version oldest first.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use tracing::info;

use super::{StaffError, StaffService, authorise, bad, named_submission};
use crate::alert::{Alerting, Report, Resent, met};
use crate::enrolment::MAX_REASON_CHARS;
use crate::identity::Staff;
use crate::instrument;
use crate::item::{
    Actor, AlertItem, AuditItem, MAX_VERSION, SubmissionItem, VersionItem, canonical_instant,
    format_timestamp,
};
use crate::ports::{Alerts, Flags, Records};
use crate::submission::{MAX_BODY_BYTES, Submission, json as strict};

/// A correction, as the path and body give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Correction<'a> {
    /// The trial.
    pub trial_id: &'a str,
    /// The submission, as the path gives it.
    pub submission_id: &'a str,
    /// The request body.
    pub body: &'a [u8],
}

/// What a correction asks for, read from its body.
struct Asked {
    patient_id: String,
    replaces: u32,
    answers: Value,
    reason: String,
}

impl<A: Alerts + Flags, R: Records> StaffService<A, R> {
    /// Writes a corrected version of a submission; the version as written.
    pub(super) async fn correct(
        &self,
        staff: &Staff,
        request: Correction<'_>,
    ) -> Result<Value, StaffError> {
        self.may_correct(staff, request.trial_id)?;
        let submission_id = named_submission(request.submission_id)?;
        if request.body.len() > MAX_BODY_BYTES {
            return Err(StaffError::TooLarge);
        }
        let asked = read(request.body)?;
        let trial_id = request.trial_id;
        let original = self
            .records
            .submission(trial_id, &asked.patient_id, submission_id)
            .await?
            .ok_or(StaffError::NotFound(
                "no such submission of this patient in this trial",
            ))?;
        if original.submission.survey_version.is_none() {
            return Err(StaffError::Conflict(
                "the submission is from before instruments: there is no version to judge a correction against",
            ));
        }
        let versions = self
            .records
            .versions(trial_id, &asked.patient_id, Some(submission_id))
            .await?;
        let latest = versions.iter().max_by_key(|v| v.version);
        let current = latest.map_or(1, |v| v.version);
        if asked.replaces != current {
            return Err(StaffError::Superseded {
                named: asked.replaces,
                current,
            });
        }
        if current >= MAX_VERSION {
            return Err(StaffError::Conflict(
                "the submission has as many versions as it may have",
            ));
        }
        let standing = latest.map_or(&original.submission, |v| &v.submission);
        let corrected = judged(self.catalogue, standing, asked.answers)?;
        if corrected.0.answers == standing.answers {
            return Err(bad(
                "answers",
                "are those of the current version: nothing to correct",
            ));
        }
        let at = format_timestamp(OffsetDateTime::now_utc());
        let version = VersionItem::new(
            &original,
            current,
            corrected,
            (&staff.id, &at, &asked.reason),
        );
        let alerts = self.newly_due(&original, &version, &at).await?;
        let actor = Actor {
            id: staff.id.clone(),
            role: self.policy.correct_scope.clone(),
        };
        let audit = AuditItem::of_correction(&version, &actor);
        let replaced = version.replaced_key(&original);
        if !self
            .records
            .correct(&version, &replaced, &alerts, &audit)
            .await?
        {
            return Err(StaffError::Conflict(
                "the submission changed meanwhile (another correction came first); read the versions again",
            ));
        }
        info!(
            trial_id,
            submission_id = %submission_id,
            version = version.version,
            alerts = alerts.len(),
            audit_id = %audit.audit_id,
            "submission corrected"
        );
        let mut body = version_view(&version);
        body["alertsRaised"] = alerts.iter().map(|a| json!(a.alert_id)).collect();
        Ok(body)
    }

    /// The alerts `version` meets by its own answers that no version of the submission raised, nor a conflicting
    /// resend of it whose alert still stands ([`Resent`]).
    async fn newly_due(
        &self,
        original: &SubmissionItem,
        version: &VersionItem,
        at: &str,
    ) -> Result<Vec<AlertItem>, StaffError> {
        let alerting = Alerting::embedded().map_err(StaffError::Unavailable)?;
        let report = Report::corrected(original, version);
        let Some((set, answered)) = alerting.judging(&report) else {
            return Ok(Vec::new());
        };
        let resent = self.resent(&report).await?;
        let mut alerts = Vec::new();
        for rule in met(set, answered) {
            let alert = AlertItem::raise(&report, set, rule, None, at);
            // The same rule on the same submission is the same alert: raised once, whatever version met it first.
            if self.alerts.alert(alert.alert_id).await?.is_none()
                && !resent.alerted(&self.alerts, &rule.id).await?
            {
                alerts.push(alert);
            }
        }
        Ok(alerts)
    }

    /// The conflicting resends of the submission `report` corrects, and of the first one it repeats.
    async fn resent(&self, report: &Report) -> Result<Resent, StaffError> {
        let submission = &report.submission;
        let mut resent = Vec::new();
        for submission_id in report.resent_as() {
            let hashes = self
                .records
                .resend_hashes(&submission.trial_id, &submission.patient_id, submission_id)
                .await?;
            resent.extend(hashes.into_iter().map(|hash| (submission_id, hash)));
        }
        Ok(Resent(resent))
    }

    /// A submission's current version, or every version oldest first.
    pub(super) async fn versions(
        &self,
        staff: &Staff,
        (trial_id, submission_id): (&str, &str),
        patient_id: Option<&str>,
        all: Option<&str>,
    ) -> Result<Value, StaffError> {
        authorise(
            staff,
            &[&self.policy.correct_scope, &self.policy.audit_scope],
            "the token grants neither changing a trial's data nor reading its audit trail",
            Some(trial_id),
        )?;
        let all = match all {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(bad("all", "must be true or false")),
        };
        let patient_id = patient_id.ok_or(bad("patientId", "names the submission's patient"))?;
        let submission_id = named_submission(submission_id)?;
        let original = self
            .records
            .submission(trial_id, patient_id, submission_id)
            .await?
            .ok_or(StaffError::NotFound(
                "no such submission of this patient in this trial",
            ))?;
        let corrections = self
            .records
            .versions(trial_id, patient_id, Some(submission_id))
            .await?;
        let mut versions = vec![original_view(&original)];
        versions.extend(corrections.iter().map(version_view));
        let current = versions.len();
        if !all {
            versions.drain(..current - 1);
        }
        Ok(json!({
            "trialId": trial_id,
            "patientId": patient_id,
            "submissionId": submission_id,
            "currentVersion": current,
            "versions": versions,
        }))
    }
}

/// The correction's body, read as strictly as a submission (duplicate keys, depth, numbers).
fn read(body: &[u8]) -> Result<Asked, StaffError> {
    let shape = "must be JSON with patientId, replaces (the current version, 1 or more), answers and reason, and \
                 nothing else";
    let value = strict::parse(body).map_err(|_| bad("body", shape))?;
    let Value::Object(mut fields) = value else {
        return Err(bad("body", shape));
    };
    let mut take = |name: &str| fields.remove(name);
    let patient_id = take("patientId").and_then(|v| v.as_str().map(str::to_owned));
    let replaces = take("replaces")
        .and_then(|v| v.as_u64())
        .and_then(|n| u32::try_from(n).ok());
    let answers = take("answers").filter(Value::is_object);
    let reason = take("reason").and_then(|v| v.as_str().map(str::to_owned));
    let (Some(patient_id), Some(replaces), Some(answers), Some(reason)) =
        (patient_id, replaces, answers, reason)
    else {
        return Err(bad("body", shape));
    };
    if !fields.is_empty() {
        return Err(bad("body", shape));
    }
    if reason.trim().is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(bad("reason", "must say why, in 1 to 500 characters"));
    }
    Ok(Asked {
        patient_id,
        replaces,
        answers,
        reason,
    })
}

/// `standing` with `answers`, judged as the submit route judges a submission, against `standing`'s instrument
/// version: the corrected submission and its scores. Only the answers are new: the other fields are the stored
/// ones, and one stored before today's rules (a completion time spelled `t…z`) is not held against the correction.
fn judged(
    catalogue: &instrument::Catalogue,
    standing: &Submission,
    answers: Value,
) -> Result<(Submission, instrument::Scores), StaffError> {
    let spelled_today = Submission {
        completed_at: canonical_instant(&standing.completed_at),
        ..standing.clone()
    };
    let mut body: Map<String, Value> = match serde_json::to_value(&spelled_today) {
        Ok(Value::Object(fields)) => fields,
        _ => unreachable!("a submission serialises as an object"),
    };
    body.insert("answers".into(), answers);
    let read = Submission::from_value(&Value::Object(body)).map_err(StaffError::Invalid)?;
    let judged = instrument::judge(catalogue, read).map_err(StaffError::Invalid)?;
    let submission = Submission {
        completed_at: standing.completed_at.clone(),
        ..judged.submission
    };
    Ok((submission, judged.scores))
}

/// The submission as the patient sent it, as version 1.
fn original_view(item: &SubmissionItem) -> Value {
    json!({
        "version": 1,
        "answers": item.submission.answers,
        "scores": item.scores,
        "receivedAt": item.received_at,
    })
}

/// A corrected version as the API shows it.
fn version_view(version: &VersionItem) -> Value {
    json!({
        "version": version.version,
        "replaces": version.replaces,
        "answers": version.submission.answers,
        "scores": version.scores,
        "correctedBy": version.corrected_by,
        "correctedAt": version.corrected_at,
        "reason": version.reason,
    })
}
