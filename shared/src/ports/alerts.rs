//! The alert records after the write that raised them, and the claims that let one worker at a time follow one up.

use std::future::Future;

use uuid::Uuid;

use super::StoreError;
use crate::item::{AlertItem, AlertStatus, AuditItem};

/// The alert records, after the write that raised them: read, listed, acknowledged, compared again, and followed
/// up (delivered, escalated) by exactly one worker at a time.
pub trait Alerts: Send + Sync + 'static {
    /// The alert `alert_id`, read consistently.
    fn alert(
        &self,
        alert_id: Uuid,
    ) -> impl Future<Output = Result<Option<AlertItem>, StoreError>> + Send;

    /// Writes a new alert unless its id exists; whether it wrote it.
    fn raise(&self, alert: &AlertItem) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records that an alert raised by a comparison was compared again, against `against`, and whether it is still
    /// met. The alert stays: what was sent is never withdrawn.
    fn reassess(
        &self,
        alert_id: Uuid,
        against: Uuid,
        still_due: bool,
        at: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A page of a trial's alerts, newest first, of one status or all.
    fn list(
        &self,
        trial_id: &str,
        status: Option<AlertStatus>,
        page: Page,
    ) -> impl Future<Output = Result<AlertPage, StoreError>> + Send;

    /// Acknowledges `alert` by `audit`'s person at its time, and writes `audit` with it, all or nothing; unless
    /// someone acknowledged it already: then nothing is written, and the record as it is.
    fn acknowledge(
        &self,
        alert: &AlertItem,
        audit: &AuditItem,
    ) -> impl Future<Output = Result<AlertItem, StoreError>> + Send;

    /// Alerts whose `duty` is waiting, or held by a claim gone stale, raised at or before `raised_before`, oldest
    /// first.
    fn due(
        &self,
        duty: Duty,
        raised_before: &str,
    ) -> impl Future<Output = Result<Vec<AlertItem>, StoreError>> + Send;

    /// Takes `duty` of the alert for `claim`, if it is waiting (or its claim went stale, or `claim` holds it
    /// already: a request sent again after its answer was lost) and, for an escalation, the alert is still open;
    /// whether it did. Only the holder of a claim performs the duty.
    fn claim(
        &self,
        alert_id: Uuid,
        duty: Duty,
        claim: &Claim,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records the duty done at `at` (the message accepted by its topic), if `claim_id` still holds it (or it is
    /// recorded done at `at` already: a request sent again after its answer was lost); whether it did.
    fn complete(
        &self,
        alert_id: Uuid,
        duty: Duty,
        claim_id: &str,
        at: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Hands the duty back (the message could not be sent), if `claim_id` still holds it.
    fn release(
        &self,
        alert_id: Uuid,
        duty: Duty,
        claim_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What is done once for an alert, by one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// Its message on the alert topic (the notify function from the stream, or the sweep when that failed).
    Delivery,
    /// For an urgent alert left open: its message on the escalation topic (the sweep).
    Escalation,
}

/// A worker's hold on a duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Who holds it: unique per attempt.
    pub id: String,
    /// When it was taken.
    pub at: String,
    /// A claim taken before this is abandoned (its worker died between claiming and recording) and may be taken
    /// over.
    pub stale_before: String,
}

impl Claim {
    /// How long a claim holds: far longer than a worker takes to send one message (the functions time out in under
    /// a minute), so only an abandoned claim is ever taken over.
    pub const LEASE: time::Duration = time::Duration::minutes(2);

    /// A new claim, taken `at`.
    pub fn taken(at: time::OffsetDateTime) -> Self {
        Claim {
            id: Uuid::new_v4().to_string(),
            at: crate::item::format_timestamp(at),
            stale_before: crate::item::format_timestamp(at - Self::LEASE),
        }
    }
}

/// Where a page of a list starts and how long it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// At most this many.
    pub limit: usize,
    /// After this position (the previous page's `next`).
    pub after: Option<Cursor>,
}

/// A position in a trial's alerts: the `AlertsByTrial` sort key and the alert of the last one returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Its `alertSort`.
    pub alert_sort: String,
    /// Its id.
    pub alert_id: Uuid,
}

/// One page of alerts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertPage {
    /// The alerts, newest first.
    pub alerts: Vec<AlertItem>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}
