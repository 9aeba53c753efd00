use aws_sdk_dynamodb::types::AttributeValue;

use super::by_trial_shard::ByTrialShard;
use super::*;

/// A submission item as stored before the by-trial index was sharded: the key attributes, no `trialShard`.
fn pre_sharding_submission(sk: &str) -> Item {
    Item::from([
        (
            "pk".into(),
            AttributeValue::S("TRIAL#ONC-2026-01#PATIENT#P-000123".into()),
        ),
        ("sk".into(), AttributeValue::S(sk.into())),
        ("trialId".into(), AttributeValue::S("ONC-2026-01".into())),
    ])
}

#[test]
fn a_pre_sharding_submission_gains_the_shard_the_process_function_would_give_it() {
    let id = uuid::Uuid::new_v4();
    let change = ByTrialShard
        .change(&pre_sharding_submission(&format!("SUBMISSION#{id}")))
        .expect("a pre-sharding submission needs its shard");
    assert_eq!(change.pk, "TRIAL#ONC-2026-01#PATIENT#P-000123");
    assert_eq!(change.sk, format!("SUBMISSION#{id}"));
    assert_eq!(
        change.add,
        vec![(
            "trialShard",
            AttributeValue::S(intake::item::trial_shard("ONC-2026-01", &id))
        )]
    );
}

#[test]
fn a_sharded_submission_or_an_item_that_is_not_one_is_left_alone() {
    let mut sharded = pre_sharding_submission(&format!("SUBMISSION#{}", uuid::Uuid::new_v4()));
    sharded.insert(
        "trialShard".into(),
        AttributeValue::S("ONC-2026-01#07".into()),
    );
    assert_eq!(ByTrialShard.change(&sharded), None);
    assert_eq!(
        ByTrialShard.change(&pre_sharding_submission("SUBMISSION#not-a-uuid")),
        None
    );
    let mut no_trial = pre_sharding_submission(&format!("SUBMISSION#{}", uuid::Uuid::new_v4()));
    no_trial.remove("trialId");
    assert_eq!(ByTrialShard.change(&no_trial), None);
}

#[test]
fn migrations_are_numbered_in_the_order_they_run_and_each_is_found_by_its_id() {
    let ids: Vec<&str> = MIGRATIONS.iter().map(|m| m.id()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "ids are unique and in running order");
    for (n, id) in ids.iter().enumerate() {
        assert!(
            id.starts_with(&format!("{:04}-", n + 1)),
            "{id} is migration {}",
            n + 1
        );
        assert_eq!(find(id).map(|m| m.id()), Some(*id));
    }
    assert!(find("0000-none").is_none());
}

mod reader_index {
    use super::super::by_trial_shard::{ByTrialIndex, reader_index};
    use super::super::indexes::Index;
    use super::super::ledger::LedgerEntry;

    /// How an index stands in the table.
    #[derive(Clone, Copy)]
    enum State {
        Absent,
        Building,
        Built,
    }
    use State::*;

    fn index(name: &str, partition: &str, state: State) -> Option<Index> {
        let active = match state {
            Absent => return None,
            Building => false,
            Built => true,
        };
        Some(Index {
            name: name.into(),
            partition: partition.into(),
            sort: Some("receivedAt".into()),
            active,
        })
    }

    fn ledger(status: Option<&str>) -> Option<LedgerEntry> {
        status.map(|status| LedgerEntry {
            status: status.into(),
            ..LedgerEntry::default()
        })
    }

    fn choose(old: State, new: State, migration: Option<&str>) -> Result<ByTrialIndex, String> {
        let indexes: Vec<Index> = [
            index("ByTrialReceivedAt", "trialId", old),
            index("ByTrialShardReceivedAt", "trialShard", new),
            // Another index on trialId, with another sort key, is not the by-trial one.
            index("AlertsByTrial", "trialId", Built).map(|i| Index {
                sort: Some("alertSort".into()),
                ..i
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        reader_index(&indexes, ledger(migration).as_ref())
    }

    fn old() -> Result<ByTrialIndex, String> {
        Ok(ByTrialIndex::PreSharding("ByTrialReceivedAt".into()))
    }

    fn new() -> Result<ByTrialIndex, String> {
        Ok(ByTrialIndex::Sharded("ByTrialShardReceivedAt".into()))
    }

    #[test]
    fn while_the_old_index_is_there_readers_use_it_until_the_migration_is_done_on_a_built_new_index()
     {
        for migration in [None, Some("running")] {
            for new_state in [Absent, Building, Built] {
                assert_eq!(choose(Built, new_state, migration), old());
            }
        }
        assert_eq!(choose(Built, Built, Some("done")), new());
        assert_eq!(choose(Built, Building, Some("done")), old());
    }

    #[test]
    fn without_the_old_index_readers_use_the_new_one_only_when_nothing_can_be_missing_from_it() {
        assert_eq!(choose(Absent, Built, None), new(), "a stack born sharded");
        assert_eq!(choose(Absent, Built, Some("done")), new());
        let refused = choose(Absent, Built, Some("running")).unwrap_err();
        assert!(refused.contains("not finished"), "{refused}");
        let building = choose(Absent, Building, Some("done")).unwrap_err();
        assert!(building.contains("still being built"), "{building}");
        assert!(choose(Absent, Absent, None).is_err());
    }

    #[test]
    fn a_table_whose_by_trial_index_is_keyed_by_shard_under_the_old_name_is_read_as_sharded() {
        let indexes = vec![Index {
            name: "ByTrialReceivedAt".into(),
            partition: "trialShard".into(),
            sort: Some("receivedAt".into()),
            active: true,
        }];
        assert_eq!(
            reader_index(&indexes, None),
            Ok(ByTrialIndex::Sharded("ByTrialReceivedAt".into()))
        );
    }
}
