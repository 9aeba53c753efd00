//! Layout migrations: numbered changes to the items a table already holds, run by `migrate` after the deploy that
//! needs them. A migration only adds attributes an item lacks (never rewrites or removes one), so it cannot alter
//! what a patient sent, and running it twice changes nothing. Each run records its progress in the table's
//! migration ledger ([`ledger`]): an interrupted run resumes where it stopped, two runs at once cannot both work,
//! and readers know when a new index is complete.

pub mod by_trial_shard;
pub mod indexes;
pub mod ledger;
mod run;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;

pub use ledger::{Ledger, LedgerEntry};
pub use run::{Counts, Options, Outcome, dry_run, migrate, not_ready};

/// A stored item, as DynamoDB returns it.
pub type Item = HashMap<String, AttributeValue>;

/// One layout change to stored items.
pub trait Migration: Sync {
    /// `<nnnn>-<name>`: migrations run in this order, and the ledger knows each by it.
    fn id(&self) -> &'static str;
    /// What it does and why, for the operator.
    fn summary(&self) -> &'static str;
    /// The (partition, sort) key of the index this migration fills, which must exist and be built before it runs
    /// (its deploy comes first), if any.
    fn fills(&self) -> Option<(&'static str, &'static str)>;
    /// Narrows the table scan to candidate items (a filter and the attributes `change` reads).
    fn candidates(&self, scan: ScanFluentBuilder) -> ScanFluentBuilder;
    /// What to add to one item, or `None` if it needs nothing.
    fn change(&self, item: &Item) -> Option<Change>;
}

/// Attributes to add to one item, each only if the item does not have it yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The item's key.
    pub pk: String,
    /// The item's sort key.
    pub sk: String,
    /// Attribute names and values to add.
    pub add: Vec<(&'static str, AttributeValue)>,
}

/// Every migration, in the order they run. Published ones never change: a new layout change is a new entry.
pub const MIGRATIONS: &[&dyn Migration] = &[&by_trial_shard::ByTrialShard];

/// The migration of that id.
pub fn find(id: &str) -> Option<&'static dyn Migration> {
    MIGRATIONS.iter().copied().find(|m| m.id() == id)
}
