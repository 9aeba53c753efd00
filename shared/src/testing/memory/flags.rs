//! The in-memory `Flags` port: flag and conflict records of a trial, newest first, as the `FlagsByTrial` index
//! lists them.

use super::MemoryStore;
use crate::item::FlagKind;
use crate::ports::{FlagCursor, FlagPage, Flags, ListedFlag, StoreError};

impl Flags for MemoryStore {
    async fn flags(
        &self,
        trial_id: &str,
        kind: Option<FlagKind>,
        limit: usize,
        after: Option<FlagCursor>,
    ) -> Result<FlagPage, StoreError> {
        let flags = self
            .flags()
            .into_iter()
            .filter(|f| f.flag_trial_id == trial_id);
        let conflicts = self
            .conflicts()
            .into_iter()
            .filter(|c| c.flag_trial_id == trial_id);
        let flags = flags.map(|f| ListedFlag {
            kind: f.kind,
            submission_id: f.submission_id,
            pk: f.pk,
            sk: f.sk,
            flagged_at: f.flagged_at,
            detail: f.detail,
        });
        let conflicts = conflicts.map(|c| ListedFlag {
            kind: c.kind,
            submission_id: c.submission_id,
            pk: c.pk,
            sk: c.sk,
            flagged_at: c.flagged_at,
            detail: c.detail,
        });
        let position = |f: &ListedFlag| (f.flagged_at.clone(), f.pk.clone(), f.sk.clone());
        let mut listed: Vec<ListedFlag> = flags.chain(conflicts).collect();
        listed.sort_by_key(|f| std::cmp::Reverse(position(f)));
        if let Some(after) = after {
            let at = (after.flagged_at, after.pk, after.sk);
            listed.retain(|f| position(f) < at);
        }
        // As DynamoDB: `limit` items are read, then the kind filtered.
        let more = listed.len() > limit;
        listed.truncate(limit);
        let next = listed.last().filter(|_| more).map(|last| FlagCursor {
            flagged_at: last.flagged_at.clone(),
            pk: last.pk.clone(),
            sk: last.sk.clone(),
        });
        listed.retain(|f| kind.is_none_or(|k| f.kind == k));
        Ok(FlagPage {
            flags: listed,
            next,
        })
    }
}
