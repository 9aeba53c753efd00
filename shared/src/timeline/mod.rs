//! The timeline use case: rules that compare a report with the patient's previous one ("pain worse by 2 since the
//! last report") judge reports in the order they were completed, whatever order they arrive in.
//!
//! The process function stores a submission without reading anything; the table's stream then brings each stored
//! submission (and each conflicting resend) of an instrument with such rules here. Each is placed on its patient's
//! timeline of that instrument, compared with the stored report completed just before it, and every report after it
//! whose predecessor it now is, is compared again: an alert now due is raised (once: its id is derived from the
//! event and rule), one raised earlier that a report completed in between makes no longer due is kept and marked.
//!
//! A site investigator's correction of a stored submission (a new version, [`crate::item::VersionItem`]) comes the
//! same way: the submission keeps its place, and its report is from then on the current version, so the correction
//! is compared with the report before it and the report after it is compared with the correction. What becomes due
//! is raised (its origin says correction when the corrected report raised it); an alert raised on an earlier version
//! stays, and a correction never marks one no longer due.
//!
//! Why this is complete: for any two reports that end up next to each other, whichever was placed second reads the
//! other (consistent reads), so every final pair is compared at least once; a comparison that raised or marked an
//! alert reads its predecessor once more and compares again if another report was placed in between meanwhile.
//!
//! - [`arrival`]: a report the table's stream brings, and where it goes on the timeline;
//! - [`entry`]: a report's place on the timeline.

mod arrival;
#[cfg(test)]
mod correction_tests;
mod entry;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use aws_lambda_events::event::dynamodb::EventRecord;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tracing::info;
use uuid::Uuid;

use crate::alert::{Alerting, Answered, Origin, Report, Resent, RuleSet, Test, worsened};
use crate::item::{AlertItem, Comparison, Prompt, format_timestamp};
use crate::metrics::{self, Metric};
use crate::ports::{Alerts, StoreError, Timeline};

pub use arrival::Arrival;
pub use entry::{TimelineEntry, timeline_prefix};

/// How often a comparison that changed an alert is repeated because another report was placed before it meanwhile.
const SETTLE_ATTEMPTS: usize = 5;

/// Timelines of one batch placed at once: a patient's reports stay in stream order, different patients' need not
/// wait for each other.
pub const CONCURRENT_TIMELINES: usize = 16;

/// Why a batch must be retried. Ids and error classes only.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    /// The table could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stream record that claims to be a report does not read as one.
    #[error("stream record {0} is not a readable report")]
    Unreadable(String),
    /// The embedded rules do not load: a build defect `make test` rules out.
    #[error("alert rules unavailable: {0}")]
    Rules(String),
}

/// What one batch did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TimelineReport {
    /// Reports placed.
    pub placed: usize,
    /// Alerts raised.
    pub raised: usize,
    /// Alerts compared again (still due or not).
    pub reassessed: usize,
    /// Records that are not reports, or whose instrument has no rule comparing reports.
    pub ignored: usize,
}

impl TimelineReport {
    fn add(&mut self, other: TimelineReport) {
        self.placed += other.placed;
        self.raised += other.raised;
        self.reassessed += other.reassessed;
        self.ignored += other.ignored;
    }
}

/// Places reports on their timelines and judges them in completion order.
pub struct Assessor<T, A> {
    timeline: T,
    alerts: A,
    alerting: Alerting,
}

impl<T: Timeline, A: Alerts> Assessor<T, A> {
    /// An assessor of the timelines in `timeline`, raising and marking `alerts`, with the rules this build embeds.
    pub fn new(timeline: T, alerts: A) -> Result<Self, TimelineError> {
        let alerting = Alerting::embedded().map_err(TimelineError::Rules)?;
        Ok(Assessor {
            timeline,
            alerts,
            alerting,
        })
    }

    /// Places the reports of a stream batch: each patient's timeline in stream order, different timelines at once
    /// ([`CONCURRENT_TIMELINES`]). The first failure fails the batch, which is retried whole: placing and comparing
    /// again is harmless.
    pub async fn arrive(&self, records: &[EventRecord]) -> Result<TimelineReport, TimelineError> {
        let mut ignored = 0;
        let mut timelines: BTreeMap<(String, String), Vec<Arrival>> = BTreeMap::new();
        for record in records {
            match Arrival::of(record)? {
                Some(arrival) => timelines
                    .entry(arrival.timeline())
                    .or_default()
                    .push(arrival),
                None => ignored += 1,
            }
        }
        let permits = Semaphore::new(CONCURRENT_TIMELINES);
        let permits = &permits;
        let placed = futures::future::join_all(timelines.values().map(|arrivals| async move {
            let _permit = permits
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let mut report = TimelineReport::default();
            for arrival in arrivals {
                self.place(arrival, &mut report).await?;
            }
            Ok::<_, TimelineError>(report)
        }))
        .await;
        let mut report = TimelineReport {
            ignored,
            ..TimelineReport::default()
        };
        for one in placed {
            report.add(one?);
        }
        metrics::add(Metric::AlertsRaised, report.raised);
        Ok(report)
    }

    /// Places one report and compares it, and the reports after it, with their predecessors.
    pub async fn place(
        &self,
        arrival: &Arrival,
        report: &mut TimelineReport,
    ) -> Result<(), TimelineError> {
        let Some(entry) = arrival.entry(&now()) else {
            // Not on a timeline (the stream's filter should keep these away), or without an instant to place (an
            // envelope older than the edge's check of completedAt).
            report.ignored += 1;
            return Ok(());
        };
        self.timeline.place(&entry).await?;
        report.placed += 1;
        self.assess(&entry, arrival.report(), None, report).await?;
        if !entry.conflicting {
            let prompt = match arrival {
                Arrival::Corrected(_) => Prompt::Correction(entry.submission_id),
                _ => Prompt::LateArrival(entry.submission_id),
            };
            for later in self.timeline.after(&entry).await? {
                if later.submission_id != entry.submission_id {
                    self.assess(&later, None, Some(prompt), report).await?;
                }
            }
        }
        Ok(())
    }

    /// Compares the report at `entry` (`this`, when known already) with the one before it until the comparison
    /// holds: raises what is due, marks what no longer is. `prompt` is the other report whose arrival or correction
    /// prompted it, when that is not this one's own arrival.
    async fn assess(
        &self,
        entry: &TimelineEntry,
        this: Option<Report>,
        prompt: Option<Prompt>,
        report: &mut TimelineReport,
    ) -> Result<(), TimelineError> {
        let this = match this {
            Some(this) => this,
            None => match self.timeline.report(entry).await? {
                Some(this) => this,
                None => return Ok(()),
            },
        };
        let Some((set, answered)) = self
            .alerting
            .judging(&this)
            .filter(|(set, _)| set.has_worsening_rules())
        else {
            return Ok(());
        };
        let resent = match this.origin {
            Origin::Correction => self.resent(entry, &this).await?,
            _ => Resent::default(),
        };
        for attempt in 0..SETTLE_ATTEMPTS {
            let before = self.timeline.before(entry).await?;
            let Some(before_entry) = &before else {
                return Ok(());
            };
            let Some(previous) = self.timeline.report(before_entry).await? else {
                return Ok(());
            };
            let Some(then) = self.answered(&previous) else {
                return Ok(());
            };
            let compared = Comparison {
                with: previous.submission.submission_id,
                prompt,
            };
            // Only a report completed in between marks an alert no longer due: a report placed for the first time has
            // no alert of its own to mark yet, unless an earlier comparison (another report's late arrival, or this
            // loop's first round) raised one; and a correction never takes back what an earlier version made due,
            // even when the report it corrects arrives after it.
            let late = matches!(prompt, Some(Prompt::LateArrival(_)));
            let marking = (late && previous.origin != Origin::Correction) || attempt > 0;
            let changed = self
                .judge(
                    (&this, &resent),
                    set,
                    (answered, then),
                    compared,
                    marking,
                    report,
                )
                .await?;
            if !changed || self.timeline.before(entry).await? == before {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Applies one comparison to the alerts of `this`; whether it changed any. An alert due is raised (its id says
    /// whether it was already), unless a conflicting resend of a corrected submission raised it ([`Resent`]); with
    /// `marking`, an alert of this report no longer due is marked so.
    async fn judge(
        &self,
        (this, resent): (&Report, &Resent),
        set: &'static RuleSet,
        (answered, then): (Answered<'_>, Answered<'_>),
        compared: Comparison,
        marking: bool,
        report: &mut TimelineReport,
    ) -> Result<bool, TimelineError> {
        let due = worsened(set, answered, then);
        let mut changed = false;
        let comparing = set
            .rules
            .iter()
            .filter(|rule| matches!(rule.when.test, Test::WorsenedBy(_)));
        for rule in comparing {
            let is_due = due.iter().any(|r| r.id == rule.id);
            if is_due && !resent.alerted(&self.alerts, &rule.id).await? {
                let alert = AlertItem::raise(this, set, rule, Some(compared), &now());
                if self.alerts.raise(&alert).await? {
                    log_raised(&alert);
                    report.raised += 1;
                    changed = true;
                    continue;
                }
            } else if !is_due && !marking {
                continue;
            }
            // An alert of this event exists. One raised by another report (the first of a double tap) is not this
            // one's to mark; one raised on another version of this submission is its own to find due again.
            let existing = self.alerts.alert(this.alert_id(&rule.id)).await?;
            let Some(own) = existing.filter(|alert| {
                let same_content =
                    alert.content_hash.as_deref() == Some(this.content_hash.as_str());
                let corrected = is_due && this.origin == Origin::Correction;
                alert.submission_id == this.submission.submission_id && (same_content || corrected)
            }) else {
                continue;
            };
            let was_due = own.still_due != Some(false);
            if is_due != was_due && (is_due || own.compared_with != Some(compared.with)) {
                self.reassess(&own, compared.with, is_due, report).await?;
                changed = true;
            }
        }
        Ok(changed)
    }

    /// The conflicting resends of the submission `this` corrects (at `entry`), and of the first one it repeats.
    async fn resent(&self, entry: &TimelineEntry, this: &Report) -> Result<Resent, TimelineError> {
        let mut resent = Vec::new();
        for submission_id in this.resent_as() {
            let hashes = self.timeline.resend_hashes(entry, submission_id).await?;
            resent.extend(hashes.into_iter().map(|hash| (submission_id, hash)));
        }
        Ok(Resent(resent))
    }

    async fn reassess(
        &self,
        alert: &AlertItem,
        against: Uuid,
        still_due: bool,
        report: &mut TimelineReport,
    ) -> Result<(), TimelineError> {
        self.alerts
            .reassess(alert.alert_id, against, still_due, &now())
            .await?;
        info!(
            alert_id = %alert.alert_id,
            trial_id = alert.trial_id,
            against = %against,
            still_due,
            "alert compared again"
        );
        report.reassessed += 1;
        Ok(())
    }

    /// A report's answers as its own instrument version reads them.
    fn answered<'a>(&self, report: &'a Report) -> Option<Answered<'a>> {
        let submission = &report.submission;
        let instrument = self
            .alerting
            .catalogue
            .get(&submission.survey_id, submission.survey_version.as_deref())
            .ok()?;
        Some(Answered {
            instrument,
            answers: &submission.answers,
            scores: &report.scores,
        })
    }
}

fn log_raised(alert: &AlertItem) {
    // Ids and the rule only: the message that follows (notify) says no more.
    info!(
        alert_id = %alert.alert_id,
        submission_id = %alert.submission_id,
        trial_id = alert.trial_id,
        rule_id = alert.rule_id,
        severity = alert.severity.as_str(),
        late = alert.late_arrival.is_some(),
        after_correction = alert.after_correction_of.is_some(),
        "alert raised"
    );
}

fn now() -> String {
    format_timestamp(OffsetDateTime::now_utc())
}
