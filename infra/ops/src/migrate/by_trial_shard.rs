//! `0001-by-trial-shard`: submissions stored before the by-trial index was sharded carry `trialId` and `receivedAt`
//! but no `trialShard`, so `ByTrialShardReceivedAt` does not list them and an export on that index would miss them.
//! This adds `trialShard` to each, computed as the process function computes it for new ones.

use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use intake::item::trial_shard;

use super::indexes::{Index, keyed};
use super::ledger::LedgerEntry;
use super::{Change, Item, Migration};

/// See the module documentation.
pub struct ByTrialShard;

/// The by-trial index a reader should query, by its name on the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByTrialIndex {
    /// Keyed by `trialShard` (`ByTrialShardReceivedAt`).
    Sharded(String),
    /// Keyed by `trialId` (`ByTrialReceivedAt`): kept through an upgrade until this migration is done.
    PreSharding(String),
}

/// Which by-trial index lists every submission, given the table's indexes and this migration's ledger entry: the
/// sharded one once it is built, unless the pre-sharding one is still there and the migration is not done. The
/// reason it refuses, rather than list part of a trial, otherwise.
pub fn reader_index(
    indexes: &[Index],
    migration: Option<&LedgerEntry>,
) -> Result<ByTrialIndex, String> {
    let sharded = keyed(indexes, SHARDED_KEY.0, SHARDED_KEY.1);
    let pre_sharding = keyed(indexes, PRE_SHARDING_KEY.0, PRE_SHARDING_KEY.1);
    let done = migration.is_some_and(LedgerEntry::is_done);
    if let Some(pre_sharding) = pre_sharding.filter(|index| index.active)
        && !(done && sharded.is_some_and(|index| index.active))
    {
        return Ok(ByTrialIndex::PreSharding(pre_sharding.name.clone()));
    }
    match sharded {
        None => Err("no by-trial index".into()),
        Some(index) if !index.active => Err(format!(
            "the index {} is still being built: try again when describe-table shows it ACTIVE",
            index.name
        )),
        Some(_) if migration.is_some() && !done => Err(format!(
            "migration {ID} is not finished and the pre-sharding index is gone: a listing would miss earlier \
             submissions; run `make migrate MIGRATE_ARGS=--apply` first"
        )),
        Some(index) => Ok(ByTrialIndex::Sharded(index.name.clone())),
    }
}

/// Its ledger id.
pub const ID: &str = "0001-by-trial-shard";

/// The by-trial index of the layout before sharding (keyed by `trialId`), under the name it had. A stack upgraded
/// from that layout keeps it (`KeepPreShardingIndex=true`) until this migration has run; readers use it until then.
pub const PRE_SHARDING_INDEX: &str = "ByTrialReceivedAt";

const SUBMISSION: &str = "SUBMISSION#";

/// The key of the sharded by-trial index (`ByTrialShardReceivedAt` in the template).
pub const SHARDED_KEY: (&str, &str) = ("trialShard", "receivedAt");
/// The key of the pre-sharding one (`ByTrialReceivedAt`).
pub const PRE_SHARDING_KEY: (&str, &str) = ("trialId", "receivedAt");

impl Migration for ByTrialShard {
    fn id(&self) -> &'static str {
        ID
    }

    fn summary(&self) -> &'static str {
        "adds trialShard to submissions stored before the by-trial index was sharded, so ByTrialShardReceivedAt lists them"
    }

    fn fills(&self) -> Option<(&'static str, &'static str)> {
        Some(SHARDED_KEY)
    }

    fn candidates(&self, scan: ScanFluentBuilder) -> ScanFluentBuilder {
        scan.filter_expression(
            "begins_with(sk, :submission) AND attribute_exists(trialId) AND attribute_not_exists(trialShard)",
        )
        .expression_attribute_values(":submission", AttributeValue::S(SUBMISSION.into()))
        .projection_expression("pk, sk, trialId, trialShard")
    }

    fn change(&self, item: &Item) -> Option<Change> {
        let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok());
        if item.contains_key("trialShard") {
            return None;
        }
        let sk = text("sk")?;
        let submission_id = sk.strip_prefix(SUBMISSION)?.parse::<uuid::Uuid>().ok()?;
        Some(Change {
            pk: text("pk")?.clone(),
            sk: sk.clone(),
            add: vec![(
                "trialShard",
                AttributeValue::S(trial_shard(text("trialId")?, &submission_id)),
            )],
        })
    }
}
