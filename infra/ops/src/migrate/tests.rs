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
