//! The table's indexes as a live table can change: an index never takes a new key under a name it once had (the
//! update would fail, or readers would query a half-built index), and the upgrade from a table whose by-trial index
//! predates sharding adds or removes one index per deploy.

use serde_norway::Value;

use crate::{intrinsic, props, template};

/// Every key an index of this table has ever had, by name: (name, partition key, sort key). Append-only: a new
/// key is a new name (and a migration, docs/operations.md "Layout migrations").
/// (b4c74e8 once re-keyed ByTrialReceivedAt to trialShard; that layout never left the local stack, and the name
/// means its first key again.)
const EVERY_INDEX_KEY: &[(&str, &str, &str)] = &[
    ("ByTrialReceivedAt", "trialId", "receivedAt"),
    ("ByTrialShardReceivedAt", "trialShard", "receivedAt"),
    ("FlagsByTrial", "flagTrialId", "flaggedAt"),
    ("AlertsByTrial", "trialId", "alertSort"),
    ("PendingDeliveries", "delivery", "raisedAt"),
    ("PendingEscalations", "escalation", "raisedAt"),
    ("CalendarByTrial", "calendarTrialId", "calendarSort"),
    ("ScheduleDue", "dueShard", "dueAt"),
];

/// The table's indexes as deployed with `KeepPreShardingIndex` set to `keep`: (name, partition key, sort key).
fn indexes(t: &Value, keep: bool) -> Vec<(String, String, String)> {
    props(t, "SubmissionTable")["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|index| match index {
            Value::Tagged(tagged) if tagged.tag == "!If" => {
                assert_eq!(tagged.value[0], "KeepsPreShardingIndex");
                assert_eq!(intrinsic(&tagged.value[2], "!Ref"), "AWS::NoValue");
                keep.then(|| tagged.value[1].clone())
            }
            plain => Some(plain.clone()),
        })
        .map(|index| {
            let key = |n: usize| {
                index["KeySchema"][n]["AttributeName"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            };
            (
                index["IndexName"].as_str().unwrap().to_owned(),
                key(0),
                key(1),
            )
        })
        .collect()
}

fn names(indexes: &[(String, String, String)]) -> Vec<&str> {
    indexes.iter().map(|(name, _, _)| name.as_str()).collect()
}

#[test]
fn no_index_takes_a_new_key_under_a_name_it_once_had() {
    let t = template();
    for keep in [false, true] {
        for (name, hash, range) in indexes(&t, keep) {
            let known = EVERY_INDEX_KEY
                .iter()
                .find(|(known, _, _)| *known == name)
                .unwrap_or_else(|| panic!("{name} is new: add its key to EVERY_INDEX_KEY"));
            assert_eq!(
                (hash.as_str(), range.as_str()),
                (known.1, known.2),
                "{name} once had another key: give the new key a new name"
            );
        }
    }
}

#[test]
fn the_pre_sharding_index_is_kept_only_while_upgrading_and_each_step_changes_one_index() {
    let t = template();
    assert_eq!(t["Parameters"]["KeepPreShardingIndex"]["Default"], "false");
    let Value::Tagged(equals) = &t["Conditions"]["KeepsPreShardingIndex"] else {
        panic!("no KeepsPreShardingIndex condition")
    };
    assert_eq!(intrinsic(&equals.value[0], "!Ref"), "KeepPreShardingIndex");
    assert_eq!(equals.value[1], "true");

    let upgrading = indexes(&t, true);
    let upgraded = indexes(&t, false);
    // Before: the by-trial index keyed by trialId. Upgrading adds the sharded one; the last deploy drops the old.
    let before: Vec<_> = upgrading
        .iter()
        .filter(|(name, _, _)| name != intake::item::BY_TRIAL_INDEX)
        .cloned()
        .collect();
    assert_eq!(
        upgrading.len(),
        before.len() + 1,
        "the upgrade adds one index"
    );
    assert_eq!(
        upgraded.len(),
        upgrading.len() - 1,
        "the last deploy removes one"
    );
    assert!(names(&before).contains(&"ByTrialReceivedAt"));
    assert!(!names(&upgraded).contains(&"ByTrialReceivedAt"));
    assert!(names(&upgraded).contains(&intake::item::BY_TRIAL_INDEX));
}
