//! A trial's flags (repeats, fast device clocks, conflicting resends), listed for its data managers.

use std::future::Future;

use uuid::Uuid;

use super::StoreError;
use crate::item::FlagKind;

/// A trial's flags (repeats, fast device clocks, conflicting resends), for its data managers.
pub trait Flags: Send + Sync + 'static {
    /// A page of a trial's flags, newest first, of one kind or all.
    fn flags(
        &self,
        trial_id: &str,
        kind: Option<FlagKind>,
        limit: usize,
        after: Option<FlagCursor>,
    ) -> impl Future<Output = Result<FlagPage, StoreError>> + Send;
}

/// A position in a trial's flags: the `FlagsByTrial` sort key and the flag's record key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagCursor {
    /// Its `flaggedAt`.
    pub flagged_at: String,
    /// Its partition key.
    pub pk: String,
    /// Its sort key.
    pub sk: String,
}

/// One flag as listed: what it is about and where (the `FlagsByTrial` index's projection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFlag {
    /// What it is about.
    pub kind: FlagKind,
    /// The flagged submission.
    pub submission_id: Uuid,
    /// The patient's partition key (`TRIAL#…#PATIENT#…`).
    pub pk: String,
    /// The record's sort key.
    pub sk: String,
    /// When it was raised.
    pub flagged_at: String,
    /// What to look at, in words (ids, hashes and figures).
    pub detail: String,
}

/// One page of flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlagPage {
    /// The flags, newest first.
    pub flags: Vec<ListedFlag>,
    /// Where the next page starts, when there may be one.
    pub next: Option<FlagCursor>,
}
