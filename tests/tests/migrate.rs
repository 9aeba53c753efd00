//! A layout migration on a live table, as an operator upgrading a stack whose by-trial index predates sharding would
//! run it: the table with that index, submissions stored then, the upgrade (the new index beside the old), `migrate`
//! refused too early, interrupted, raced and resumed, a late write from the old release caught, then the last deploy
//! dropping the old index. Export reads every submission at each step. The table is template.yaml's own
//! `SubmissionTable`, in a stack of its own, so each upgrade is what CloudFormation does to the real definition and
//! the other tests' stack is left alone. (Releases before the schedules also lacked three later indexes; none was
//! deployed beyond a local stack, and upgrading from them is not supported: docs/operations.md.)

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use intake::envelope::Envelope;
use intake::item::{BY_TRIAL_INDEX, SubmissionItem};
use intake::testing::example::example;
use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_ops::aws::ByTrialIndex;
use intake_ops::migrate::by_trial_shard::{self, ByTrialShard};
use intake_ops::migrate::ledger::Claim;
use intake_ops::migrate::{Ledger, Options, Outcome, dry_run, migrate};
use intake_ops::{Aws, Stack};
use serde_json::{Value as Json, json};
use serde_norway::Value;

/// The layout a step deploys.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    /// Before sharding: the by-trial index keyed by `trialId`, the other indexes as today.
    PreSharding,
    /// `KeepPreShardingIndex=true`: both by-trial indexes.
    Upgrading,
    /// The default: the sharded index only.
    Upgraded,
}

/// template.yaml's `SubmissionTable` resolved for `layout`, in a template of its own. Left out: the stack's KMS
/// key (the table is encrypted with DynamoDB's own), warm throughput, and deletion protection (the test removes
/// its stack).
fn table_template(layout: Layout) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let template: Value = serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut table = template["Resources"]["SubmissionTable"]["Properties"].clone();
    let properties = table.as_mapping_mut().unwrap();
    properties.remove("SSESpecification");
    properties.remove("WarmThroughput");
    properties.insert("DeletionProtectionEnabled".into(), false.into());
    let mut table = resolve(&table, layout != Layout::Upgraded).expect("the table's properties");
    if layout == Layout::PreSharding {
        let table_keys = table["KeySchema"].as_array().unwrap().clone();
        let indexes = table["GlobalSecondaryIndexes"].as_array_mut().unwrap();
        indexes.retain(|index| index["IndexName"] != BY_TRIAL_INDEX);
        // A table declares only the attributes its keys use.
        let used: BTreeSet<String> = indexes
            .iter()
            .flat_map(|index| index["KeySchema"].as_array().unwrap().clone())
            .chain(table_keys)
            .map(|key| key["AttributeName"].as_str().unwrap().to_owned())
            .collect();
        table["AttributeDefinitions"]
            .as_array_mut()
            .unwrap()
            .retain(|attribute| used.contains(attribute["AttributeName"].as_str().unwrap()));
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"SubmissionTable": {"Type": "AWS::DynamoDB::Table", "Properties": table}},
        "Outputs": {"TableName": {"Value": {"Ref": "SubmissionTable"}}},
    })
    .to_string()
}

/// The table's YAML as CloudFormation JSON, its conditions decided: `KeepsPreShardingIndex` is `keep`, the warm
/// throughput ones are off. `None` for `!Ref AWS::NoValue`.
fn resolve(value: &Value, keep: bool) -> Option<Json> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!If" => {
            let chosen = match tagged.value[0].as_str().unwrap() {
                "KeepsPreShardingIndex" if keep => 1,
                _ => 2,
            };
            resolve(&tagged.value[chosen], keep)
        }
        Value::Tagged(tagged) if tagged.tag == "!Ref" && tagged.value == "AWS::NoValue" => None,
        Value::Tagged(tagged) => panic!("the table uses {} now: resolve it here", tagged.tag),
        Value::Mapping(mapping) => Some(Json::Object(
            mapping
                .iter()
                .filter_map(|(key, value)| Some((key.as_str()?.to_owned(), resolve(value, keep)?)))
                .collect(),
        )),
        Value::Sequence(items) => Some(Json::Array(
            items
                .iter()
                .filter_map(|item| resolve(item, keep))
                .collect(),
        )),
        plain => Some(serde_json::to_value(plain).unwrap()),
    }
}

/// Creates or updates `name` with `template` and waits until CloudFormation has finished.
async fn deploy(aws: &Aws, name: &str, template: String, create: bool) {
    let cloudformation = &aws.cloudformation;
    if create {
        cloudformation
            .create_stack()
            .stack_name(name)
            .template_body(template)
            .send()
            .await
            .expect("create the table's stack");
    } else {
        cloudformation
            .update_stack()
            .stack_name(name)
            .template_body(template)
            .send()
            .await
            .expect("update the table's stack");
    }
    for _ in 0..240 {
        let described = cloudformation
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .unwrap();
        let status = described.stacks()[0]
            .stack_status()
            .unwrap()
            .as_str()
            .to_owned();
        match status.as_str() {
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" => return,
            s if s.ends_with("_IN_PROGRESS") => {
                tokio::time::sleep(Duration::from_millis(500)).await
            }
            failed => panic!("stack {name}: {failed}"),
        }
    }
    panic!("stack {name} not deployed within two minutes");
}

/// The outputs the tools need, for a stack that holds only the table.
async fn table_stack(aws: &Aws, name: &str) -> Stack {
    let described = aws
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .unwrap();
    let table_name = described.stacks()[0].outputs()[0]
        .output_value()
        .unwrap()
        .to_owned();
    serde_json::from_value(json!({
        "ApiUrl": "", "QueueUrl": "", "DeadLetterQueueUrl": "", "TableName": table_name,
        "SubmitLogGroupName": "", "ProcessLogGroupName": "",
    }))
    .unwrap()
}

/// Stores one submission of `trial` as a release before 2026-12-06 wrote it; without `trialShard` when stored by a
/// release before sharding. Returns the item as written.
async fn store(
    aws: &Aws,
    stack: &Stack,
    trial: &str,
    patient: &str,
    id: uuid::Uuid,
    received_at: String,
    sharded: bool,
) -> HashMap<String, AttributeValue> {
    let mut envelope: Envelope = example().trial(trial).patient(patient).id(id).envelope();
    envelope.received_at = received_at;
    // As the releases before 2026-12-06 stored it: in its patient's partition.
    let (pk, sk) = intake::item::legacy_submission_key(trial, patient, &id);
    let item = SubmissionItem {
        pk,
        sk,
        ..SubmissionItem::new(envelope, "2026-11-22T09:00:00.000Z".into())
    };
    let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&item).unwrap();
    if !sharded {
        item.remove("trialShard");
    }
    aws.dynamodb
        .put_item()
        .table_name(&stack.table_name)
        .set_item(Some(item.clone()))
        .send()
        .await
        .unwrap();
    item
}

/// `count` submissions from `first` on, seven patients, received a second apart.
async fn store_many(
    aws: &Aws,
    stack: &Stack,
    trial: &str,
    first: usize,
    count: usize,
    sharded: bool,
) -> Vec<HashMap<String, AttributeValue>> {
    let mut written = Vec::new();
    for n in first..first + count {
        let patient = format!("P-{:06}", n % 7);
        let at = format!("2026-11-22T08:{:02}:{:02}.000Z", n / 60, n % 60);
        written.push(
            store(
                aws,
                stack,
                trial,
                &patient,
                uuid::Uuid::new_v4(),
                at,
                sharded,
            )
            .await,
        );
    }
    written
}

/// The trial's submissions as `make export` reads them: listed by the index, then each read.
async fn exported(aws: &Aws, stack: &Stack, trial: &str) -> Vec<(String, String)> {
    let items = intake_ops::export::load(aws, stack, trial, |_| {}, |_, _| {})
        .await
        .expect("export reads every listed submission");
    items
        .iter()
        .map(|item| (item.pk.clone(), item.sk.clone()))
        .collect()
}

fn keys(items: &[HashMap<String, AttributeValue>]) -> Vec<(String, String)> {
    let text =
        |item: &HashMap<String, AttributeValue>, name: &str| item[name].as_s().unwrap().clone();
    items
        .iter()
        .map(|item| (text(item, "pk"), text(item, "sk")))
        .collect()
}

async fn index_names(aws: &Aws, stack: &Stack) -> BTreeSet<String> {
    let table = aws
        .dynamodb
        .describe_table()
        .table_name(&stack.table_name)
        .send()
        .await
        .unwrap();
    table
        .table()
        .unwrap()
        .global_secondary_indexes()
        .iter()
        .filter_map(|index| index.index_name().map(str::to_owned))
        .collect()
}

#[tokio::test]
#[ignore = "needs the local AWS: run `make e2e`"]
async fn a_table_from_before_sharding_upgrades_and_migrates_with_every_submission_in_export_at_each_step()
 {
    let Deployed { aws, .. } = Deployed::load().await;
    let trial = fresh_trial("MIGRATE");
    let name = format!("epro-layout-{}", trial.to_lowercase());
    let options = Options {
        page_size: 10,
        max_pages: None,
    };

    // The by-trial index as it was before sharding, and 45 submissions stored then. The migration cannot run yet.
    deploy(&aws, &name, table_template(Layout::PreSharding), true).await;
    let stack = table_stack(&aws, &name).await;
    let run = |owner: &'static str, options: Options| {
        let (dynamodb, table) = (&aws.dynamodb, &stack.table_name);
        async move { migrate(dynamodb, table, &ByTrialShard, &options, owner, |_| {}).await }
    };
    assert!(
        index_names(&aws, &stack)
            .await
            .contains("ByTrialReceivedAt")
    );
    let earlier = store_many(&aws, &stack, &trial, 0, 45, false).await;
    assert_eq!(exported(&aws, &stack, &trial).await, keys(&earlier));
    let refused = run("run-0", options.clone())
        .await
        .expect_err("no sharded index yet");
    assert!(refused.to_string().contains("cannot run yet"), "{refused}");

    // The upgrade: the sharded index beside the old one; the new release writes trialShard.
    deploy(&aws, &name, table_template(Layout::Upgrading), false).await;
    let both = index_names(&aws, &stack).await;
    assert!(both.contains("ByTrialReceivedAt") && both.contains(BY_TRIAL_INDEX));
    let later = store_many(&aws, &stack, &trial, 45, 5, true).await;
    let mut every: Vec<(String, String)> = keys(&earlier).into_iter().chain(keys(&later)).collect();

    // Until the migration is done, the sharded index lacks the earlier 45: readers stay on the old one.
    assert!(matches!(
        aws.by_trial_index(&stack).await.unwrap(),
        ByTrialIndex::PreSharding(_)
    ));
    assert_eq!(exported(&aws, &stack, &trial).await, every);

    // The dry run counts them and changes nothing, not even the ledger.
    let counted = dry_run(
        &aws.dynamodb,
        &stack.table_name,
        &ByTrialShard,
        &options,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (counted.read, counted.changed, counted.skipped),
        (50, 45, 0)
    );
    let ledger = Ledger::new(&aws.dynamodb, &stack.table_name);
    assert!(ledger.entry(by_trial_shard::ID).await.unwrap().is_none());

    // A run stopped after two pages (a maintenance window's end) leaves its place in the ledger.
    let window = Options {
        max_pages: Some(2),
        ..options.clone()
    };
    let Outcome::Paused(paused) = run("run-1", window).await.unwrap() else {
        panic!("two pages of ten do not cover 50 items")
    };
    assert!(paused.cursor.is_some() && paused.changed > 0 && paused.changed < 45);
    assert!(matches!(
        aws.by_trial_index(&stack).await.unwrap(),
        ByTrialIndex::PreSharding(_)
    ));

    // An old release still running stores one more behind the scan, under any scan order: in the partition the
    // run stopped in, sorted before the item it stopped at.
    let cursor = paused.cursor.as_ref().expect("a saved place");
    let patient = cursor["pk"]
        .split_once("#PATIENT#")
        .map(|(_, patient)| patient.to_owned())
        .expect("the run stopped in a patient's partition");
    let lowest = uuid::Uuid::parse_str("00000000-0000-4000-8000-000000000000").unwrap();
    assert!(format!("SUBMISSION#{lowest}") < cursor["sk"]);
    let late = store(
        &aws,
        &stack,
        &trial,
        &patient,
        lowest,
        "2026-11-22T08:59:00.000Z".into(),
        false,
    )
    .await;
    every.extend(keys(std::slice::from_ref(&late)));

    // While another run holds the migration, a second one stops at once.
    let Claim::Claimed(mut held) = ledger
        .claim(by_trial_shard::ID, "run-2", time::OffsetDateTime::now_utc())
        .await
        .unwrap()
    else {
        panic!("a paused migration can be claimed")
    };
    let refused = run("run-3", options.clone())
        .await
        .expect_err("two runs at once");
    assert!(
        refused.to_string().contains("another migrate run holds"),
        "{refused}"
    );
    ledger
        .release(
            by_trial_shard::ID,
            &mut held,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();

    // The next run resumes where the first stopped; the pass after it finds the late one, the last finds none.
    let Outcome::Finished(done) = run("run-3", options.clone()).await.unwrap() else {
        panic!("the run covers the rest")
    };
    assert_eq!(
        (done.changed, done.skipped, done.pass),
        (46, 0, 3),
        "{done:?}"
    );
    // 52 items a pass (50, the late one, the ledger): run-1's two pages, the 31 after them (the late one is
    // behind), then passes 2 and 3. Starting over would read 20 + 3 × 52.
    assert_eq!(
        done.read,
        20 + 31 + 52 + 52,
        "the resumed run went on from the saved page: {done:?}"
    );
    assert_eq!(done.runs, 3);
    assert!(matches!(
        run("run-4", options.clone()).await.unwrap(),
        Outcome::AlreadyDone(_)
    ));

    // Each earlier submission is as it was stored, plus the shard the process function would have given it.
    for item in earlier.iter().chain([&late]) {
        let key = (
            item["pk"].as_s().unwrap().clone(),
            item["sk"].as_s().unwrap().clone(),
        );
        let mut stored = aws
            .get_items(&stack, std::slice::from_ref(&key))
            .await
            .unwrap()[&key]
            .clone();
        let shard = stored.remove("trialShard").expect("migrated");
        let id: uuid::Uuid = key.1.trim_start_matches("SUBMISSION#").parse().unwrap();
        assert_eq!(
            shard.as_s().unwrap(),
            &intake::item::trial_shard(&trial, &id)
        );
        assert_eq!(&stored, item, "nothing else changed");
    }

    // Readers switch to the sharded index, which now lists every submission; then the old index goes.
    assert!(matches!(
        aws.by_trial_index(&stack).await.unwrap(),
        ByTrialIndex::Sharded(_)
    ));
    assert_eq!(exported(&aws, &stack, &trial).await, every);
    deploy(&aws, &name, table_template(Layout::Upgraded), false).await;
    assert!(
        !index_names(&aws, &stack)
            .await
            .contains("ByTrialReceivedAt")
    );
    assert_eq!(exported(&aws, &stack, &trial).await, every);

    aws.cloudformation
        .delete_stack()
        .stack_name(&name)
        .send()
        .await
        .unwrap();
}
