//! The records an enrolment change writes, in one transaction: the enrolment at its next revision (conditional on
//! the one it was made against), and each stored occurrence brought in line with the new calendar.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::request::{check_anchors, check_patient, check_reason, check_zone};
use super::{ChangeRequest, ENROLMENT_ANCHOR, EnrolRequest, EnrolmentError, WithdrawRequest};
use crate::item::{
    ENROLMENT_SK, EnrolmentItem, HistoryEntry, OccurrenceEvent, OccurrenceItem, RecordType,
    TermsRecord, Withdrawal, occurrence_sort_key, partition_key,
};
use crate::schedule::calendar::utc;
use crate::schedule::{Occurrence, Schedules};

/// The most occurrences one enrolment may have: they are written with it and its audit record in one transaction
/// (100 items).
pub const MAX_OCCURRENCES: usize = 98;

/// What one change writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// The enrolment as it now stands.
    pub enrolment: EnrolmentItem,
    /// The revision it replaces (`None`: a new enrolment, written once).
    pub replaces: Option<u32>,
    /// The occurrences to write.
    pub occurrences: Vec<OccurrenceWrite>,
}

/// One occurrence brought in line with the calendar. Each carries the occurrence as it will stand, its history
/// with the change's event appended.
#[derive(Debug, Clone, PartialEq)]
pub enum OccurrenceWrite {
    /// A survey due that was not stored: written once.
    New(OccurrenceItem),
    /// Its window moved (a change before it opened): written whole, unless it was completed or reminded of since.
    Moved(OccurrenceItem),
    /// Withdrawal ended it before it was completed: `withdrawnAt` set, the sweep's entry removed.
    Withdrawn(OccurrenceItem),
    /// A change put its window before the change, so it is no longer expected: `droppedAt` set, the sweep's entry
    /// removed.
    Dropped(OccurrenceItem),
}

impl OccurrenceWrite {
    /// The occurrence as it will stand.
    pub fn item(&self) -> &OccurrenceItem {
        match self {
            OccurrenceWrite::New(item)
            | OccurrenceWrite::Moved(item)
            | OccurrenceWrite::Withdrawn(item)
            | OccurrenceWrite::Dropped(item) => item,
        }
    }
}

/// What staff change.
#[derive(Debug, Clone)]
pub enum Change {
    /// Anchors, time zone.
    Terms(ChangeRequest),
    /// Withdrawal.
    Withdraw(WithdrawRequest),
}

/// A new enrolment of a patient in `trial_id`, by `by` at `now`.
pub fn enrol(
    trial_id: &str,
    request: EnrolRequest,
    by: &str,
    now: Timestamp,
    schedules: &Schedules,
) -> Result<Revision, EnrolmentError> {
    check_patient(&request.patient_id)?;
    check_zone(&request.time_zone)?;
    if let Some(reason) = &request.reason {
        check_reason(reason)?;
    }
    let schedule = schedules
        .get(&request.schedule_id, request.schedule_version.as_deref())
        .filter(|s| s.status == "active")
        .ok_or_else(|| EnrolmentError::UnknownSchedule(request.schedule_id.clone()))?;
    check_anchors(schedule, &request.anchors)?;
    let mut anchors = request.anchors.clone();
    if schedule.anchor(ENROLMENT_ANCHOR).is_some() {
        anchors
            .entry(ENROLMENT_ANCHOR.into())
            .or_insert_with(|| utc(now));
    }
    let at = utc(now);
    let enrolment = EnrolmentItem {
        pk: partition_key(trial_id, &request.patient_id),
        sk: ENROLMENT_SK.into(),
        record_type: RecordType::Enrolment,
        trial_id: trial_id.to_owned(),
        patient_id: request.patient_id.clone(),
        schedule_id: schedule.id.clone(),
        schedule_version: schedule.version.clone(),
        terms: vec![TermsRecord {
            from: at.clone(),
            anchors: anchors.clone(),
            time_zone: request.time_zone.clone(),
        }],
        withdrawal: None,
        revision: 1,
        history: vec![HistoryEntry {
            revision: 1,
            at: at.clone(),
            by: by.to_owned(),
            change: "enrolled".into(),
            detail: format!(
                "schedule {} version {}; {}; time zone {}",
                schedule.id,
                schedule.version,
                describe(&anchors),
                request.time_zone
            ),
            reason: request.reason.unwrap_or_default(),
        }],
    };
    let calendar = enrolment.calendar(schedules)?;
    Ok(Revision {
        occurrences: writes(&enrolment, &calendar, &[], &at)?,
        enrolment,
        replaces: None,
    })
}

/// `change` to `current` (whose occurrences are `stored`), by `by` at `now`.
pub fn revise(
    current: &EnrolmentItem,
    stored: &[OccurrenceItem],
    change: Change,
    by: &str,
    now: Timestamp,
    schedules: &Schedules,
) -> Result<Revision, EnrolmentError> {
    if current.withdrawal.is_some() {
        return Err(EnrolmentError::State(
            "the patient is withdrawn: the enrolment no longer changes",
        ));
    }
    let schedule = current
        .schedule(schedules)
        .ok_or_else(|| EnrolmentError::UnknownSchedule(current.schedule_id.clone()))?;
    let at = utc(now);
    let mut next = current.clone();
    next.revision += 1;
    let (kind, detail, reason) = match change {
        Change::Terms(request) => {
            if let Some(expected) = request.expected_revision.filter(|e| *e != current.revision) {
                return Err(EnrolmentError::Stale {
                    current: current.revision,
                    expected,
                });
            }
            check_reason(&request.reason)?;
            check_anchors(schedule, &request.anchors)?;
            let last = current
                .terms
                .last()
                .expect("an enrolment has its first terms");
            let mut terms = TermsRecord {
                from: at.clone(),
                ..last.clone()
            };
            let mut changes = Vec::new();
            for (name, value) in &request.anchors {
                let before = terms.anchors.insert(name.clone(), value.clone());
                if before.as_deref() != Some(value) {
                    changes.push(format!("{name} {} → {value}", before.unwrap_or_default()));
                }
            }
            if let Some(zone) = request.time_zone.filter(|zone| *zone != last.time_zone) {
                check_zone(&zone)?;
                changes.push(format!("time zone {} → {zone}", last.time_zone));
                terms.time_zone = zone;
            }
            if changes.is_empty() {
                return Err(EnrolmentError::invalid(
                    "anchors",
                    "and timeZone change nothing",
                ));
            }
            next.terms.push(terms);
            ("terms-changed", changes.join("; "), request.reason)
        }
        Change::Withdraw(request) => {
            check_reason(&request.reason)?;
            let when = match &request.at {
                None => now,
                Some(text) => text
                    .parse::<Timestamp>()
                    .map_err(|_| EnrolmentError::invalid("at", "must be an RFC 3339 instant"))?,
            };
            let enrolled: Timestamp = current.terms[0].from.parse().unwrap_or(Timestamp::MIN);
            if when > now || when < enrolled {
                return Err(EnrolmentError::invalid(
                    "at",
                    "must lie between the enrolment and now",
                ));
            }
            next.withdrawal = Some(Withdrawal {
                at: utc(when),
                reason: request.reason.clone(),
                by: by.to_owned(),
            });
            ("withdrawn", format!("from {}", utc(when)), request.reason)
        }
    };
    next.history.push(HistoryEntry {
        revision: next.revision,
        at: at.clone(),
        by: by.to_owned(),
        change: kind.into(),
        detail,
        reason,
    });
    let calendar = next.calendar(schedules)?;
    Ok(Revision {
        occurrences: writes(&next, &calendar, stored, &at)?,
        enrolment: next,
        replaces: Some(current.revision),
    })
}

/// What to write so the stored occurrences match `calendar`.
fn writes(
    enrolment: &EnrolmentItem,
    calendar: &[Occurrence],
    stored: &[OccurrenceItem],
    at: &str,
) -> Result<Vec<OccurrenceWrite>, EnrolmentError> {
    if calendar.len() > MAX_OCCURRENCES {
        return Err(EnrolmentError::invalid(
            "scheduleId",
            format!("has more than {MAX_OCCURRENCES} surveys due"),
        ));
    }
    let owner = (enrolment.trial_id.as_str(), enrolment.patient_id.as_str());
    let stored: BTreeMap<&str, &OccurrenceItem> =
        stored.iter().map(|o| (o.sk.as_str(), o)).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let revision = enrolment.revision;
    let event = |item: &OccurrenceItem, name: &str, detail: String| {
        let mut next = item.clone();
        next.history.push(OccurrenceEvent::new(
            at,
            name,
            format!("revision {revision}: {detail}"),
        ));
        next
    };
    for occurrence in calendar {
        let sk = occurrence_sort_key(&occurrence.id, &occurrence.instrument);
        seen.insert(sk.clone());
        match stored.get(sk.as_str()) {
            None if occurrence.withdrawn => {}
            None => out.push(OccurrenceWrite::New(OccurrenceItem::scheduled(
                occurrence, owner, revision, at,
            ))),
            // A completed survey stays where and as it was completed.
            Some(item) if item.is_done() => {}
            Some(item) if occurrence.withdrawn => {
                if item.withdrawn_at.is_none() {
                    let mut next = event(item, "withdrawn", "the patient was withdrawn".into());
                    next.withdrawn_at = Some(at.to_owned());
                    next.clear_sweep();
                    out.push(OccurrenceWrite::Withdrawn(next));
                }
            }
            Some(item) => {
                let mut next = (*item).clone();
                next.set_window(occurrence, at);
                let moved = next.opens != item.opens
                    || next.closes != item.closes
                    || next.time_zone != item.time_zone
                    || item.dropped_at.is_some();
                if moved {
                    let detail = format!(
                        "window {} to {} ({})",
                        next.opens, next.closes, next.time_zone
                    );
                    let mut next = event(&next, "moved", detail);
                    next.revision = revision;
                    next.dropped_at = None;
                    out.push(OccurrenceWrite::Moved(next));
                }
            }
        }
    }
    for item in stored.values() {
        if !seen.contains(item.sk.as_str()) && item.dropped_at.is_none() && !item.is_done() {
            let mut next = event(
                item,
                "dropped",
                "its window would close before the change".into(),
            );
            next.dropped_at = Some(at.to_owned());
            next.clear_sweep();
            out.push(OccurrenceWrite::Dropped(next));
        }
    }
    if out.len() > MAX_OCCURRENCES {
        return Err(EnrolmentError::invalid(
            "anchors",
            format!("would change more than {MAX_OCCURRENCES} surveys due at once"),
        ));
    }
    Ok(out)
}

/// Anchors in words: `surgery 2026-12-10, enrolment 2026-12-04T09:00:00.000Z`.
fn describe(anchors: &BTreeMap<String, String>) -> String {
    let all: Vec<String> = anchors
        .iter()
        .map(|(name, value)| format!("{name} {value}"))
        .collect();
    format!("anchors {}", all.join(", "))
}
