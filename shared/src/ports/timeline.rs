//! The patients' timelines, for rules that compare a report with the one before it.

use std::future::Future;

use super::StoreError;
use crate::alert::Report;
use crate::timeline::TimelineEntry;

/// The patients' timelines: each report of an instrument with rules comparing reports, placed in completion
/// order, per trial and patient.
pub trait Timeline: Send + Sync + 'static {
    /// Places an entry (idempotent).
    fn place(&self, entry: &TimelineEntry) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The report `entry` is compared with: the last stored submission completed before it, of another id,
    /// read consistently.
    fn before(
        &self,
        entry: &TimelineEntry,
    ) -> impl Future<Output = Result<Option<TimelineEntry>, StoreError>> + Send;

    /// The entries completed after `entry` that may now be compared with it: every entry up to the second stored
    /// submission after it of another id (conflicting resends among them included).
    fn after(
        &self,
        entry: &TimelineEntry,
    ) -> impl Future<Output = Result<Vec<TimelineEntry>, StoreError>> + Send;

    /// The content hashes of the conflicting resends of `submission_id` in `entry`'s partition, read consistently:
    /// keys and hashes only, never their answers.
    fn resend_hashes(
        &self,
        entry: &TimelineEntry,
        submission_id: uuid::Uuid,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// The report an entry stands for.
    fn report(
        &self,
        entry: &TimelineEntry,
    ) -> impl Future<Output = Result<Option<Report>, StoreError>> + Send;
}
