//! The DynamoDB layout (part of the contract; docs/data.md documents it).
//!
//! One table. Each submission is the one item keyed by its id alone, `pk = SUBMISSIONID#<submissionId>`,
//! `sk = CLAIM` ([`SubmissionItem`], [`submission_key`]): one conditional put stores it and makes the id unique,
//! whatever trial or patient a resend names. Until 2026-12-06 a bare claim held that key ([`IdClaim`]) and the
//! submission sat in its patient's partition under `sk = SUBMISSION#<submissionId>` ([`legacy_submission_key`]);
//! such submissions stay there and every reader looks there second.
//!
//! A patient's other records share a partition, `pk = TRIAL#<trialId>#PATIENT#<patientId>`:
//! - `sk = TIMEPOINT#<surveyId>#<timepoint>`: the first submission of an instrument at a timepoint
//!   ([`TimepointMarker`]), so a second one under a new id is flagged as a repeat;
//! - `sk = FLAG#<kind>#<submissionId>`: something a data manager should look at ([`Flag`]);
//! - `sk = CONFLICT#<submissionId>#<contentHash>`: a resend of that id with other content ([`ConflictItem`]);
//! - `sk = ENROLMENT` and `sk = OCCURRENCE#<occurrenceId>#<instrument>`: the patient's enrolment on a schedule and
//!   each survey due under it ([`EnrolmentItem`], [`OccurrenceItem`]).
//!
//! Per trial, `pk = AUDIT#<trialId>` holds the audit trail, one record per change a person made ([`AuditItem`]),
//! and `pk = EXCLUSION#<trialId>` whether each submission a person excluded from analysis is excluded now
//! ([`ExclusionItem`]). Per patient, `pk = VERSION#<trialId>#<patientId>`, `sk = <submissionId>#<nnnn>` holds a site
//! investigator's corrections of their submissions, version 2 and up ([`VersionItem`]); the submission itself is
//! version 1 and never changes.
//!
//! Each alert a new submission raises is an item of its own, `pk = ALERT#<alertId>`, `sk = ALERT` ([`AlertItem`]),
//! written in one transaction with the submission.
//!
//! Submission items carry `trialShard` (`<trialId>#<nn>`, one of [`BY_TRIAL_SHARDS`] per trial, chosen by the
//! submission id) and `receivedAt` at top level, which the `ByTrialShardReceivedAt` index lists: one trial's burst spreads
//! over that many index partitions instead of one (about 1,000 writes a second each), and a reader lists the trial
//! in arrival order by querying each shard and merging ([`trial_shards`]). Flags
//! and conflicts carry `flagTrialId` and `flaggedAt`, which the `FlagsByTrial` index lists; alerts carry `trialId` and
//! `alertSort` (`AlertsByTrial`), and urgent open ones `escalation` (`PendingEscalations`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::submission::Submission;

mod alert;
mod audit;
mod calendar;
mod conflict;
mod exclusion;
mod records;
mod submission;
#[cfg(test)]
mod tests;
mod version;
mod write;

pub use alert::{
    AlertItem, AlertStatus, CLAIMED, Comparison, PENDING, Prompt, alert_key, alert_sort,
};
pub use audit::{AUDIT_PREFIX, Actor, AuditAction, AuditItem, AuditSubject, audit_key};
pub use calendar::{
    DUE_SHARDS, ENROLMENT_SK, EnrolmentItem, EnrolmentStanding, HistoryEntry, NextEvent,
    OccurrenceDone, OccurrenceEvent, OccurrenceItem, SchedulePlacement, TermsRecord, Withdrawal,
    due_shard, occurrence_sort_key,
};
pub use conflict::{ConflictItem, conflict_prefix};
pub use exclusion::{ExclusionItem, exclusion_key};
pub use records::{Flag, FlagKind, IdClaim, TimepointMarker, timepoint_marker_key};
pub use submission::SubmissionItem;
pub use version::{
    MAX_VERSION, VERSION_PREFIX, VersionItem, version_key, version_prefix, version_sort_key,
};
pub use write::{ConflictWrite, SubmissionWrite};

/// The index listing a trial's submissions in arrival order, over [`BY_TRIAL_SHARDS`] partitions per trial. A new
/// name, not the pre-sharding index re-keyed: an index never changes its key under its name (a live table cannot
/// do that, and its readers would see a partial index).
pub const BY_TRIAL_INDEX: &str = "ByTrialShardReceivedAt";

/// Index partitions one trial's submissions spread over in [`BY_TRIAL_INDEX`]. Part of the layout: changing it
/// needs every submission re-indexed. 64 partitions take about 64,000 index writes a second for one trial.
pub const BY_TRIAL_SHARDS: u32 = 64;

/// The by-trial index key of a submission: its trial and a shard drawn from its (random) id, so a redelivery of the
/// same submission always lands on the same shard.
pub fn trial_shard(trial_id: &str, submission_id: &uuid::Uuid) -> String {
    let shard = submission_id.as_u128() % u128::from(BY_TRIAL_SHARDS);
    format!("{trial_id}#{shard:02}")
}

/// Every by-trial index key of `trial_id`: a full listing queries each.
pub fn trial_shards(trial_id: &str) -> impl Iterator<Item = String> + '_ {
    (0..BY_TRIAL_SHARDS).map(move |shard| format!("{trial_id}#{shard:02}"))
}

/// The partition key of a patient's records.
pub fn partition_key(trial_id: &str, patient_id: &str) -> String {
    format!("TRIAL#{trial_id}#PATIENT#{patient_id}")
}

/// An item's key: `(pk, sk)`.
pub type Key = (String, String);

/// The key of a submission: its id alone, so one conditional put makes the id unique everywhere.
pub fn submission_key(submission_id: &uuid::Uuid) -> (String, String) {
    (claim_key(submission_id), ID_SK.to_owned())
}

/// The sort key of the one item under a submission id's key: the submission, or the earlier layout's bare claim.
pub const ID_SK: &str = "CLAIM";

/// `SUBMISSION#<submissionId>`: where the earlier layout put a submission in its patient's partition, and the name
/// of a submission among a trial's exclusions and a patient's timeline.
pub fn submission_sort_key(submission_id: &uuid::Uuid) -> String {
    format!("SUBMISSION#{submission_id}")
}

/// Where a submission stored before 2026-12-06 is: its patient's partition.
pub fn legacy_submission_key(
    trial_id: &str,
    patient_id: &str,
    submission_id: &uuid::Uuid,
) -> (String, String) {
    (
        partition_key(trial_id, patient_id),
        submission_sort_key(submission_id),
    )
}

/// The submission id of a stored submission's key, in either layout; `None` for any other key.
pub fn submission_id_of_key(pk: &str, sk: &str) -> Option<uuid::Uuid> {
    let id = match sk {
        ID_SK => pk.strip_prefix("SUBMISSIONID#")?,
        _ => sk.strip_prefix("SUBMISSION#")?,
    };
    id.parse().ok()
}

/// Hex SHA-256 of the submission's canonical JSON: equal content, equal hash, whatever the key order or spacing
/// the app used, and however it wrote the instant it was completed (`…Z`, `…+00:00`, `….000Z` and `…+01:00` of the
/// same instant are one time). Give it the submission as the app sent it: a `surveyVersion` the API resolved is not
/// part of the content (a retry after a catalogue deploy may resolve to another version).
pub fn content_hash(submission: &Submission) -> String {
    let canonical = Submission {
        completed_at: canonical_instant(&submission.completed_at),
        ..submission.clone()
    };
    legacy_content_hash(&canonical)
}

/// The content hash as written before the instant was canonical (`completedAt` as sent, the resolved version
/// included). Claims stored then carry it; a resend of their content must still read as a duplicate.
pub fn legacy_content_hash(submission: &Submission) -> String {
    let canonical = serde_json::to_vec(submission).expect("a submission always serialises");
    hex::encode(Sha256::digest(canonical))
}

/// An RFC 3339 time as its instant in UTC, in RFC 3339 with only the fraction it needs (`2026-11-22T08:00:03.25Z`);
/// text that is not RFC 3339 is returned as it is.
pub fn canonical_instant(text: &str) -> String {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .and_then(|at| at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// An RFC 3339 time as a fixed-width UTC key (nanoseconds, `Z`): keys sort as the instants do.
pub fn instant_key(text: &str) -> Option<String> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z"
    );
    at.to_offset(time::UtcOffset::UTC).format(&format).ok()
}

/// RFC 3339 in UTC with millisecond precision: sorts as text, which the by-trial index relies on.
pub fn format_timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at
        .replace_nanosecond(at.millisecond() as u32 * 1_000_000)
        .expect("whole milliseconds are a valid nanosecond value");
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.format(&format).expect("a UTC date-time always formats")
}

/// What an item is (`recordType`), so a scan can tell the kinds apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordType {
    /// A stored submission.
    Submission,
    /// A conflicting resend of a stored submission id.
    Conflict,
    /// The bare claim on a submission id the earlier layout wrote ahead of the submission ([`IdClaim`]).
    Claim,
    /// The first submission of an instrument at a timepoint.
    Timepoint,
    /// Something for a data manager to look at.
    Flag,
    /// A clinical alert.
    Alert,
    /// A report's place on its patient's timeline ([`crate::timeline::TimelineEntry`]).
    Timeline,
    /// A patient's enrolment on a schedule ([`EnrolmentItem`]).
    Enrolment,
    /// One survey due for a patient ([`OccurrenceItem`]).
    Occurrence,
    /// A change a person made ([`AuditItem`]).
    Audit,
    /// Whether a submission is excluded from analysis ([`ExclusionItem`]).
    Exclusion,
    /// A corrected version of a submission ([`VersionItem`]).
    Version,
}

/// The partition key of a submission id: its submission (or, from the earlier layout, its bare claim).
pub fn claim_key(submission_id: &uuid::Uuid) -> String {
    format!("SUBMISSIONID#{submission_id}")
}
