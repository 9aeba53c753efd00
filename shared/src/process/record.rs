//! One queue record: decoded, written once, and classified.

use time::OffsetDateTime;
use tracing::{info, warn};

use uuid::Uuid;

use crate::alert::Report;
use crate::envelope::{Envelope, EnvelopeError};
use crate::item::{
    AlertItem, ConflictItem, ConflictWrite, SubmissionItem, SubmissionWrite, TimepointMarker,
    format_timestamp,
};
use crate::ports::{Store, StoreError, WriteOutcome};
use crate::schedule::Schedules;

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written for the first time, with the alerts it raised.
    Stored {
        /// How many alerts its answers raised.
        raised: usize,
    },
    /// Written for the first time, and flagged: it repeats an earlier submission of the same instrument and
    /// timepoint by the same patient, under a new id.
    Repeat {
        /// How many alerts its answers raised.
        raised: usize,
    },
    /// The same submission was already stored: a redelivery or an app resend.
    Duplicate,
    /// The id was stored with other content; the original stays, the resend is recorded as a conflict, with the
    /// alerts its own answers raise.
    Conflict {
        /// How many alerts its answers raised.
        raised: usize,
    },
}

/// Why a record failed; it goes back to the queue.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// SQS delivered a record without a body.
    #[error("record has no body")]
    NoBody,
    /// The body is not an envelope this build reads: retrying cannot help, so it ends in the DLQ.
    #[error(transparent)]
    Poison(#[from] EnvelopeError),
    /// The store failed after the SDK's retries; SQS redelivers the record.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The record's task panicked.
    #[error("record task panicked")]
    Panicked,
    /// The record's task was cancelled before it finished (the runtime shutting down).
    #[error("record task was cancelled")]
    Cancelled,
    /// The invocation's deadline came first.
    #[error("record not finished before the invocation's deadline")]
    OutOfTime,
    /// The embedded alert rules or schedules do not load: a build defect that `make test` rules out. The record
    /// waits in the queue, then the DLQ, rather than being stored without its alerts or its place on the calendar.
    #[error("alert rules or schedules unavailable: {0}")]
    Rules(String),
}

impl RecordError {
    /// A failure another receive can cure (the store, time), as opposed to one that will fail every time.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RecordError::Store(_) | RecordError::OutOfTime | RecordError::Cancelled
        )
    }
}

/// How often a submission is placed again when its patient's enrolment changed meanwhile, before the record goes back
/// to the queue.
const MAX_PLACEMENTS: u32 = 3;

/// Decodes a record's body and writes its submission once.
///
/// The timepoint marker comes first, written once, then the submission under its id's key, then its other flags: a
/// delivery interrupted after any step is completed by the next one, which finds what it wrote its own.
pub(super) async fn store_record<S: Store>(
    store: &S,
    body: Option<&str>,
) -> Result<Outcome, RecordError> {
    let envelope = Envelope::decode(body.ok_or(RecordError::NoBody)?)?;
    let now = format_timestamp(OffsetDateTime::now_utc());
    let mut write = SubmissionWrite::new(SubmissionItem::new(envelope, now.clone()), &now);
    let schedules = Schedules::embedded().map_err(RecordError::Rules)?;
    let (trial_id, patient_id) = (
        write.item.submission.trial_id.clone(),
        write.item.submission.patient_id.clone(),
    );
    // The enrolment is read beside the marker: a record's calls are one round trip fewer in a row.
    let (marked, enrolment) = tokio::join!(
        mark(store, &mut write, &now),
        store.enrolment(&trial_id, &patient_id)
    );
    let took_marker = marked?;
    let enrolment = enrolment?;
    super::calendar::place(&mut write, enrolment.as_ref(), schedules, &now);
    let mut placements = 1;
    let mut raised_before: Vec<Uuid> = Vec::new();
    loop {
        // Evaluated for the write as it now stands: a repeat's alerts belong to the first submission's event.
        let (alerts, on_timeline) = super::alerts::raised(&Report::stored(&write.item), &now)?;
        write.item.on_timeline = on_timeline;
        write.alerts = alerts
            .into_iter()
            .filter(|alert| !raised_before.contains(&alert.alert_id))
            .collect();
        match store.write_submission(&write).await? {
            WriteOutcome::Written => {
                // Logged first: a redelivery after a failed flag write finds the submission stored, its alerts too.
                write.alerts.iter().for_each(log_raised);
                store.write_flags(write.trailing_flags()).await?;
                let raised = write.alerts.len();
                return Ok(if write.item.repeat_of.is_some() {
                    Outcome::Repeat { raised }
                } else {
                    Outcome::Stored { raised }
                });
            }
            WriteOutcome::AlreadyStored { content_hash, .. }
                if write.item.has_content(&content_hash) =>
            {
                // The delivery that stored it may have stopped before its flags.
                store.write_flags(write.trailing_flags()).await?;
                return Ok(Outcome::Duplicate);
            }
            // The id is stored with other content: the stored one stays; the resend is no first submission at its
            // timepoint unless the stored one is there.
            WriteOutcome::AlreadyStored {
                content_hash,
                marker_key,
            } => {
                give_back_marker(store, &write, marker_key, took_marker, &now).await?;
                return record_conflict(store, write.item, content_hash, now).await;
            }
            // One clinical event, one alert: a repeat's first submission met these rules already; or, for a first
            // submission whose delivery stopped after its marker, a repeat of it stored meanwhile raised them.
            WriteOutcome::AlertsRaised { existing } => {
                if write.item.repeat_of.is_some() {
                    write.note_alerts_of_first(&existing);
                }
                raised_before.extend(existing);
            }
            // Staff changed the enrolment (moved a window, withdrew the patient) between the read and the write.
            WriteOutcome::CalendarChanged if placements < MAX_PLACEMENTS => {
                let enrolment = store.enrolment(&trial_id, &patient_id).await?;
                super::calendar::place(&mut write, enrolment.as_ref(), schedules, &now);
                placements += 1;
            }
            WriteOutcome::CalendarChanged => {
                return Err(StoreError(
                    "the enrolment kept changing while the submission was placed".into(),
                )
                .into());
            }
        }
    }
}

/// How often a marker found stale is given back and tried again before the record goes back to the queue.
const MAX_MARKS: u32 = 3;

/// Marks the submission's timepoint, once: `write` is made a repeat when another submission holds it. Whether this
/// delivery took the marker.
async fn mark<S: Store>(
    store: &S,
    write: &mut SubmissionWrite,
    now: &str,
) -> Result<bool, StoreError> {
    let Some(marker) = write.timepoint.clone() else {
        return Ok(false);
    };
    let own = write.item.submission.submission_id;
    for _ in 0..MAX_MARKS {
        match store.mark_timepoint(&marker).await? {
            None => return Ok(true),
            Some(first) if first == own => return Ok(false),
            Some(first) => {
                // A marker naming an id stored at another timepoint, patient or trial is a conflicting resend's
                // that was never given back (its delivery stopped first): this is no repeat of it. Given back (on
                // the condition that it still names that id), then taken.
                let stored_at = store.stored_marker_key(first).await?;
                if stored_at.is_some_and(|(pk, sk)| pk != marker.pk || sk != marker.sk) {
                    let stale = TimepointMarker {
                        submission_id: first,
                        ..marker.clone()
                    };
                    store.release_timepoint(&stale, now).await?;
                    continue;
                }
                write.mark_repeat_of(first, now);
                return Ok(false);
            }
        }
    }
    Err(StoreError(
        "the timepoint's marker kept changing hands".into(),
    ))
}

/// A conflicting resend holds the marker of its timepoint under the stored id: it gives it back unless the stored
/// submission is the one at that timepoint. Else a later first submission there would be taken for a repeat of an id
/// stored elsewhere, and its alerts for that one's. Where the stored one's timepoint is unknown (an id the earlier
/// layout claimed), a marker this delivery did not take is left: the stored one may have set it.
async fn give_back_marker<S: Store>(
    store: &S,
    write: &SubmissionWrite,
    stored_marker: Option<(String, String)>,
    took_marker: bool,
    now: &str,
) -> Result<(), StoreError> {
    let Some(marker) = &write.timepoint else {
        return Ok(());
    };
    let stored_here = stored_marker
        .as_ref()
        .map(|(pk, sk)| *pk == marker.pk && *sk == marker.sk);
    match stored_here {
        Some(true) => Ok(()),
        Some(false) => store.release_timepoint(marker, now).await,
        None if took_marker => store.release_timepoint(marker, now).await,
        None => Ok(()),
    }
}

/// The id is stored with other content: the original stays, the resend is kept beside it for an operator, with the
/// alerts its own answers raise.
async fn record_conflict<S: Store>(
    store: &S,
    item: SubmissionItem,
    original_content_hash: String,
    now: String,
) -> Result<Outcome, RecordError> {
    let submission_id = item.submission.submission_id.to_string();
    let trial_id = item.submission.trial_id.clone();
    let mut conflict = ConflictItem::new(item, original_content_hash, now.clone());
    let (alerts, on_timeline) = super::alerts::raised(&Report::conflicting(&conflict), &now)?;
    conflict.on_timeline = on_timeline;
    conflict.note_alerts(&alerts);
    let write = ConflictWrite { conflict, alerts };
    let recorded = store.record_conflict(&write).await?;
    // Ids only, the same as the submit function logs: never the patient, never the content.
    warn!(
        submission_id,
        trial_id,
        conflict_sk = write.conflict.sk,
        first_time = recorded,
        "conflicting resend: original kept, conflict recorded"
    );
    let raised = if recorded {
        write.alerts.as_slice()
    } else {
        &[]
    };
    raised.iter().for_each(log_raised);
    Ok(Outcome::Conflict {
        raised: raised.len(),
    })
}

fn log_raised(alert: &AlertItem) {
    // Ids and the rule only: the message that follows (notify) says no more.
    info!(
        alert_id = %alert.alert_id,
        submission_id = %alert.submission_id,
        trial_id = alert.trial_id,
        rule_id = alert.rule_id,
        severity = alert.severity.as_str(),
        origin = alert.origin.as_str(),
        "alert raised"
    );
}
