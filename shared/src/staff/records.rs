//! The trial's record on the staff API: a site investigator excludes a submission from analysis ("entered in
//! error") and restores it, always with a reason; a monitor lists the trial's audit trail.
//!
//! `PUT /v1/trials/{trialId}/submissions/{submissionId}/exclusion` (`epro/data.correct`), body
//! `{"patientId", "excluded": true|false, "reason"}`, `If-Match` optional (the `ETag` of the exclusion's revision):
//! the submission itself never changes; the exclusion record and an audit record are written together. Asking for
//! the state that stands is answered with it and writes nothing (a double tap is one action).
//!
//! `GET` on the same path (either scope) reads where the submission stands, with the `ETag` to change it against.
//!
//! `GET /v1/trials/{trialId}/audit?limit=&cursor=` (`epro/audit.read`): oldest first.

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tracing::info;
use uuid::Uuid;

use super::{StaffError, StaffService, authorise, bad, named_submission, page_size};
use crate::enrolment::MAX_REASON_CHARS;
use crate::identity::Staff;
use crate::item::{Actor, AuditItem, ExclusionItem, format_timestamp};
use crate::ports::{Alerts, Flags, Records};

/// What a change of a submission's exclusion asks for.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExclusionRequest {
    patient_id: String,
    excluded: bool,
    reason: String,
}

/// A request to change the exclusion of one submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exclusion<'a> {
    /// The trial.
    pub trial_id: &'a str,
    /// The submission, as the path gives it.
    pub submission_id: &'a str,
    /// The request body.
    pub body: &'a [u8],
    /// `If-Match`, if sent.
    pub if_match: Option<&'a str>,
}

impl<A: Alerts + Flags, R: Records> StaffService<A, R> {
    /// Sets whether a submission is excluded from analysis; the state it now has, and its revision as an ETag.
    pub(super) async fn exclude(
        &self,
        staff: &Staff,
        request: Exclusion<'_>,
    ) -> Result<(Value, Option<String>), StaffError> {
        self.may_correct(staff, request.trial_id)?;
        let submission_id = named_submission(request.submission_id)?;
        let asked: ExclusionRequest = serde_json::from_slice(request.body).map_err(|_| {
            bad(
                "body",
                "must be JSON with patientId, excluded (true or false) and reason, and nothing else",
            )
        })?;
        if asked.reason.trim().is_empty() || asked.reason.chars().count() > MAX_REASON_CHARS {
            return Err(bad("reason", "must say why, in 1 to 500 characters"));
        }
        let trial_id = request.trial_id;
        let stored = self
            .records
            .stored_key(trial_id, &asked.patient_id, submission_id)
            .await?
            .ok_or(StaffError::NotFound(
                "no such submission of this patient in this trial",
            ))?;
        let current = self.records.exclusion(trial_id, submission_id).await?;
        // What the caller asks for stands already (a double tap, a retry after a timeout that succeeded): it is
        // answered as it stands, whatever revision the caller read, and nothing is written. The reason of the
        // change that made it stands.
        if let Some(current) = current.as_ref().filter(|c| c.excluded == asked.excluded) {
            return Ok(answer(current));
        }
        let standing = current.as_ref().map_or(0, |c| c.revision);
        match if_match(request.if_match)? {
            Precondition::Any if current.is_none() => {
                return Err(StaffError::Stale(
                    "If-Match: * needs an exclusion, and this submission was never excluded".into(),
                ));
            }
            Precondition::Revision(expected) if expected != standing => {
                return Err(StaffError::Stale(format!(
                    "the exclusion is at revision {standing}, not {expected}; read it again"
                )));
            }
            _ => {}
        }
        if current.is_none() && !asked.excluded {
            return Err(StaffError::Conflict(
                "the submission was never excluded: there is nothing to restore",
            ));
        }
        let at = format_timestamp(OffsetDateTime::now_utc());
        let next = ExclusionItem::next(
            current.as_ref(),
            (trial_id, &asked.patient_id, submission_id),
            asked.excluded,
            &asked.reason,
            &staff.id,
            &at,
        );
        let actor = Actor {
            id: staff.id.clone(),
            role: self.policy.correct_scope.clone(),
        };
        let audit = AuditItem::of_exclusion(&next, &actor);
        if !self
            .records
            .change_exclusion(&next, &stored, &audit)
            .await?
        {
            // Another change came first: if it made what this one asks for (two taps at once), that is the
            // answer; else the caller must read the exclusion again.
            return match self.records.exclusion(trial_id, submission_id).await? {
                Some(now) if now.excluded == asked.excluded => Ok(answer(&now)),
                _ => Err(StaffError::Conflict(
                    "the exclusion changed meanwhile, or the submission is gone; read it again",
                )),
            };
        }
        info!(
            trial_id,
            submission_id = %submission_id,
            excluded = next.excluded,
            revision = next.revision,
            audit_id = %audit.audit_id,
            "exclusion changed"
        );
        Ok(answer(&next))
    }

    /// Where a submission stands in analysis, with its revision as the ETag (`"0"`: never excluded).
    pub(super) async fn exclusion_state(
        &self,
        staff: &Staff,
        trial_id: &str,
        submission_id: &str,
    ) -> Result<(Value, Option<String>), StaffError> {
        authorise(
            staff,
            &[&self.policy.correct_scope, &self.policy.audit_scope],
            "the token grants neither changing a trial's data nor reading its audit trail",
            Some(trial_id),
        )?;
        let submission_id = named_submission(submission_id)?;
        Ok(
            match self.records.exclusion(trial_id, submission_id).await? {
                Some(exclusion) => answer(&exclusion),
                None => (
                    json!({
                        "trialId": trial_id,
                        "submissionId": submission_id,
                        "excluded": false,
                        "revision": 0,
                    }),
                    Some("\"0\"".into()),
                ),
            },
        )
    }

    /// A page of a trial's audit trail, oldest first.
    pub(super) async fn audit(
        &self,
        staff: &Staff,
        trial_id: &str,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Value, StaffError> {
        authorise(
            staff,
            &[&self.policy.audit_scope],
            "the token does not grant reading the audit trail",
            Some(trial_id),
        )?;
        let limit = page_size(limit)?;
        let after = match cursor {
            None => None,
            Some(text) => Some(
                decode_audit_cursor(text)
                    .ok_or(bad("cursor", "is not a cursor this API gave for this list"))?,
            ),
        };
        let page = self.records.audit_trail(trial_id, limit, after).await?;
        Ok(json!({
            "trialId": trial_id,
            "records": page.records.iter().map(audit_view).collect::<Vec<_>>(),
            "next": page.next.as_deref().map(encode_audit_cursor),
        }))
    }
}

/// An exclusion as the API shows it, with its revision as the ETag.
fn answer(exclusion: &ExclusionItem) -> (Value, Option<String>) {
    let body = json!({
        "trialId": exclusion.trial_id,
        "patientId": exclusion.patient_id,
        "submissionId": exclusion.submission_id,
        "excluded": exclusion.excluded,
        "revision": exclusion.revision,
        "reason": exclusion.reason,
        "by": exclusion.by,
        "at": exclusion.at,
    });
    (body, Some(format!("\"{}\"", exclusion.revision)))
}

/// An audit record as the API shows it: every field but the keys.
pub fn audit_view(record: &AuditItem) -> Value {
    json!({
        "auditId": record.audit_id,
        "at": record.at,
        "action": record.action.as_str(),
        "by": record.by,
        "role": record.role,
        "patientId": record.patient_id,
        "subjectType": record.subject_type.as_str(),
        "subjectId": record.subject_id,
        "before": record.before,
        "after": record.after,
        "reason": record.reason,
    })
}

/// The cursor of an audit page: the sort key of its last record, hex-encoded.
pub fn encode_audit_cursor(sk: &str) -> String {
    hex::encode(format!("audit|{sk}"))
}

/// The audit cursor an API client sent back, if it is one (`<at>#<auditId>`).
pub fn decode_audit_cursor(text: &str) -> Option<String> {
    let text = String::from_utf8(hex::decode(text).ok()?).ok()?;
    let sk = text.strip_prefix("audit|")?;
    let (at, id) = sk.split_once('#')?;
    (at.parse::<jiff::Timestamp>().is_ok() && id.parse::<Uuid>().is_ok()).then(|| sk.to_owned())
}

/// What an `If-Match` asks for.
enum Precondition {
    /// No header: the change is unconditional.
    None,
    /// `*`: an exclusion must exist.
    Any,
    /// `"3"`: the exclusion must stand at that revision.
    Revision(u32),
}

/// The precondition an `If-Match` header states. ETags here are strong and compared strongly (RFC 9110): a weak
/// tag never matches.
fn if_match(header: Option<&str>) -> Result<Precondition, StaffError> {
    let Some(value) = header.map(str::trim) else {
        return Ok(Precondition::None);
    };
    if value == "*" {
        return Ok(Precondition::Any);
    }
    if value.starts_with("W/") {
        return Err(StaffError::Stale(
            "a weak ETag never matches: send the strong one (\"3\")".into(),
        ));
    }
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse().ok())
        .map(Precondition::Revision)
        .ok_or(bad(
            "If-Match",
            "must be the ETag of the exclusion read (\"3\")",
        ))
}
