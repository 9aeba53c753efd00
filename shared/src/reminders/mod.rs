//! The reminders use case, a sweep every minute over the surveys due whose next step has come:
//! - a window opened: the patient's reminder on the reminder topic, once;
//! - a window closed without a submission: the survey recorded missed, once, and the site's notice on the
//!   missed-survey topic, once.
//!
//! Through the sparse `ScheduleDue` index (a survey due is in it only while the sweep has something to do for it),
//! spread over [`DUE_SHARDS`] partitions, each step claimed or conditional before it acts ([`Sweep`]): sweeps that
//! overlap (a slow sweep beside the next tick, a schedule delivered twice) send each message once. A survey
//! completed, withdrawn or moved since it was read is left alone. A step that fails waits for the next sweep.
//!
//! - `message`: what is sent; `config`: the function's environment.

mod config;
mod message;
#[cfg(test)]
mod tests;

use futures::StreamExt;
use time::OffsetDateTime;
use tracing::{info, warn};

use crate::item::{DUE_SHARDS, NextEvent, OccurrenceItem, format_timestamp};
use crate::metrics::{self, Metric};
use crate::ports::{Claim, Notice, StoreError, Sweep, Topic};

pub use config::RemindersConfig;
pub use message::ScheduleMessage;

/// Steps taken at once within one shard.
const STEPS_AT_ONCE: usize = 16;

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Reminders sent.
    pub reminded: usize,
    /// Surveys recorded missed.
    pub missed: usize,
    /// Missed-survey notices sent.
    pub noticed: usize,
    /// Steps found done, moved or held by another sweep: nothing done here.
    pub settled: usize,
    /// Steps that failed (the next sweep retries them).
    pub failed: usize,
}

impl SweepReport {
    fn add(&mut self, other: SweepReport) {
        self.reminded += other.reminded;
        self.missed += other.missed;
        self.noticed += other.noticed;
        self.settled += other.settled;
        self.failed += other.failed;
    }
}

/// Sends reminders and records misses, from the surveys due in `store`.
pub struct Reminders<S, R, M> {
    store: S,
    reminder_topic: R,
    missed_topic: M,
}

impl<S: Sweep, R: Topic<ScheduleMessage>, M: Topic<ScheduleMessage>> Reminders<S, R, M> {
    /// A sweep over `store`, sending reminders to `reminder_topic` and missed-survey notices to `missed_topic`.
    pub fn new(store: S, reminder_topic: R, missed_topic: M) -> Self {
        Reminders {
            store,
            reminder_topic,
            missed_topic,
        }
    }

    /// Takes every step due at `now`. Fails only when no shard could be read at all.
    pub async fn sweep(&self, now: OffsetDateTime) -> Result<SweepReport, StoreError> {
        let until = format_timestamp(now);
        let shards =
            futures::future::join_all((0..DUE_SHARDS).map(|shard| self.shard(shard, &until, now)))
                .await;
        let mut report = SweepReport::default();
        let mut unread = Vec::new();
        for shard in shards {
            match shard {
                Ok(done) => report.add(done),
                Err(error) => unread.push(error),
            }
        }
        if unread.len() == DUE_SHARDS as usize {
            return Err(unread.remove(0));
        }
        report.failed += unread.len();
        metrics::add(Metric::RemindersSent, report.reminded);
        metrics::add(Metric::SurveysMissed, report.missed);
        metrics::add(Metric::MissedNoticesSent, report.noticed);
        metrics::add(Metric::SweepFailures, report.failed);
        metrics::add(Metric::SweepsCompleted, 1);
        info!(
            reminded = report.reminded,
            missed = report.missed,
            noticed = report.noticed,
            settled = report.settled,
            failed = report.failed,
            "schedule sweep"
        );
        Ok(report)
    }

    async fn shard(
        &self,
        shard: u32,
        until: &str,
        now: OffsetDateTime,
    ) -> Result<SweepReport, StoreError> {
        let due = self.store.due(shard, until).await?;
        let steps = futures::stream::iter(due)
            .map(|item| self.step(item, until, now))
            .buffer_unordered(STEPS_AT_ONCE)
            .collect::<Vec<_>>()
            .await;
        let mut report = SweepReport::default();
        steps.into_iter().for_each(|step| report.add(step));
        Ok(report)
    }

    /// The step due for one survey: remind while its window is open, else record the miss, then tell the site.
    async fn step(&self, item: OccurrenceItem, until: &str, now: OffsetDateTime) -> SweepReport {
        let mut report = SweepReport::default();
        let closed = item.closes.as_str() <= until;
        let result = match item.next_event {
            Some(NextEvent::Open) if !closed => self
                .notify(&item, Notice::Reminder, now)
                .await
                .map(|sent| count(&mut report, sent, |r| &mut r.reminded)),
            Some(NextEvent::Open | NextEvent::Close) => {
                match self.store.record_missed(&item, until).await {
                    Ok(true) => {
                        report.missed += 1;
                        info!(
                            trial_id = item.trial_id,
                            occurrence = item.sk,
                            "survey missed"
                        );
                        self.notify(&item, Notice::Missed, now)
                            .await
                            .map(|sent| count(&mut report, sent, |r| &mut r.noticed))
                    }
                    Ok(false) => {
                        report.settled += 1;
                        Ok(())
                    }
                    Err(error) => Err(error),
                }
            }
            Some(NextEvent::MissedNotice) => self
                .notify(&item, Notice::Missed, now)
                .await
                .map(|sent| count(&mut report, sent, |r| &mut r.noticed)),
            None => {
                report.settled += 1;
                Ok(())
            }
        };
        if let Err(error) = result {
            warn!(trial_id = item.trial_id, occurrence = item.sk, %error, "schedule step failed; the next sweep retries");
            report.failed += 1;
        }
        report
    }

    /// Sends `notice` for `item` once: claimed, published, recorded; handed back if the topic refuses it.
    async fn notify(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let claim = Claim::taken(now);
        if !self.store.claim(item, notice, &claim).await? {
            return Ok(false);
        }
        let message = ScheduleMessage::of(notice, item);
        let published = match notice {
            Notice::Reminder => self.reminder_topic.publish(&message).await,
            Notice::Missed => self.missed_topic.publish(&message).await,
        };
        if let Err(error) = published {
            self.store.release(item, notice, &claim.id).await?;
            return Err(StoreError(error.to_string()));
        }
        let at = format_timestamp(OffsetDateTime::now_utc());
        if !self.store.complete(item, notice, &claim.id, &at).await? {
            warn!(
                trial_id = item.trial_id,
                occurrence = item.sk,
                ?notice,
                "sent, but the claim had been taken over"
            );
        }
        Ok(true)
    }
}

fn count(report: &mut SweepReport, sent: bool, field: fn(&mut SweepReport) -> &mut usize) {
    if sent {
        *field(report) += 1;
    } else {
        report.settled += 1;
    }
}
