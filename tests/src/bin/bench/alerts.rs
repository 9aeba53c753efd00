//! What alerts cost and how fast they arrive: the time from a dangerous answer's `202` to its message on the
//! alert topic, and the DynamoDB writes and reads alert evaluation adds to each submission.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use hdrhistogram::Histogram;
use intake::alert::alert_id;
use intake::process::Processor;
use intake::testing::example::phq9_answers;
use intake::testing::memory::MemoryStore;
use intake_e2e::deployed::fresh_trial;
use intake_e2e::inbox::AlertInbox;
use intake_e2e::{Aws, Error, Stack, Survey, http_client, submit};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::meter::IndexKeys;
use crate::workload::{as_records, bodies, progress};

/// The rule a PHQ-9 with a self-harm answer other than "not at all" meets.
const SELF_HARM_RULE: &str = "phq9-item9-self-harm";

/// Milliseconds from each `202` to the alert message reaching a team's queue subscribed to the alert topic, for
/// `count` PHQ-9 submissions with a self-harm answer sent through the API, 8 at a time.
pub async fn delivery_latency(
    aws: &Aws,
    stack: &Stack,
    count: usize,
) -> Result<Histogram<u64>, Error> {
    let topic = stack
        .alert_topic_arn
        .clone()
        .ok_or("the stack outputs name no AlertTopicArn")?;
    let mut team = AlertInbox::subscribe(aws, &[&topic]).await?;
    let (http, trial) = (http_client(), fresh_trial("BENCH-ALERT"));
    let permits = Arc::new(Semaphore::new(8));
    let bar = progress(count, "urgent answers");
    let sends: Vec<_> = (0..count)
        .map(|i| {
            let mut survey = Survey::of(
                "phq-9",
                &trial,
                &format!("P-{i:06}"),
                "day-7",
                &mut fastrand::Rng::new(),
            );
            survey.body["answers"] = phq9_answers("LA6569-3");
            let (http, stack, permits, bar) =
                (http.clone(), stack.clone(), permits.clone(), bar.clone());
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.expect("never closed");
                let reply = submit(&http, &stack, &survey.body).await?;
                let accepted_at = unix_ms();
                bar.inc(1);
                if reply.status != 202 {
                    return Err(format!("an urgent answer got {}", reply.status).into());
                }
                Ok::<_, Error>((alert_id(&survey.submission_id, SELF_HARM_RULE), accepted_at))
            })
        })
        .collect();
    let mut accepted = HashMap::new();
    for send in sends {
        let (alert, at) = send.await??;
        accepted.insert(alert, at);
    }
    bar.finish_and_clear();
    let ids: Vec<_> = accepted.keys().copied().collect();
    team.wait_for(
        "alert",
        &ids,
        Duration::from_secs(180),
        Duration::from_secs(2),
    )
    .await?;
    let mut latency = Histogram::<u64>::new(3)?;
    for (alert, delivered_at) in team.deliveries("alert") {
        if let Some(at) = accepted.remove(&alert) {
            latency.record(delivered_at.saturating_sub(at))?;
        }
    }
    team.close().await?;
    if !accepted.is_empty() {
        return Err(format!(
            "{} of {count} alerts never reached the topic",
            accepted.len()
        )
        .into());
    }
    Ok(latency)
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

/// DynamoDB capacity per submission, from the items the processor writes for `count` generated surveys (the
/// demo's mix) and the deployed table's indexes, by DynamoDB's sizing rules: a write costs 1 write unit per KB of
/// each item, twice that in a transaction (a submission raising alerts is one, with its alerts), an index entry 1
/// per KB of what it projects.
#[derive(Debug, Serialize)]
pub struct AlertCost {
    /// Share of submissions raising at least one alert.
    pub alerting_share: f64,
    /// Write units per submission for everything but alerts: submission, id claim, timepoint marker, flags.
    pub write_units_without_alerts: f64,
    /// Write units per submission that alerts add, averaged over all submissions.
    pub write_units_for_alerts: f64,
    /// Notify invocations per 1,000 submissions: the stream filter passes alert inserts only.
    pub notify_invocations_per_1000: f64,
}

pub async fn alert_cost(aws: &Aws, stack: &Stack, count: usize) -> Result<AlertCost, Error> {
    let indexes = IndexKeys::of_table(aws, &stack.table_name).await?;
    let store = MemoryStore::default();
    let records = as_records(bodies(count, true));
    let report = Processor::new(store.clone(), 16).process(records).await;
    if report.stored != count {
        return Err(format!("{} of {count} generated surveys stored", report.stored).into());
    }
    let memory = &store;
    let units = |items: Vec<HashMap<String, AttributeValue>>,
                 transactional: &dyn Fn(&str) -> bool| {
        items
            .iter()
            .map(|item| {
                let id = item.get("submissionId").and_then(|v| v.as_s().ok());
                let factor = if id.is_some_and(|id| transactional(id)) {
                    2
                } else {
                    1
                };
                factor * write_units(item_bytes(item))
                    + indexes
                        .iter()
                        .map(|i| index_write_units(i, item))
                        .sum::<u64>()
            })
            .sum::<u64>()
    };
    let alerts = memory.alerts();
    let alerting: std::collections::HashSet<String> =
        alerts.iter().map(|a| a.submission_id.to_string()).collect();
    let with_alerts = |id: &str| alerting.contains(id);
    let single = |_: &str| false;
    let base = units(to_items(memory.submissions())?, &with_alerts)
        + units(to_items(memory.markers())?, &single)
        + units(to_items(memory.flags())?, &single);
    let n = count as f64;
    Ok(AlertCost {
        alerting_share: alerting.len() as f64 / n,
        write_units_without_alerts: base as f64 / n,
        write_units_for_alerts: units(to_items(alerts.clone())?, &with_alerts) as f64 / n,
        notify_invocations_per_1000: 1000.0 * alerts.len() as f64 / n,
    })
}

fn to_items<T: Serialize>(items: Vec<T>) -> Result<Vec<HashMap<String, AttributeValue>>, Error> {
    Ok(items
        .into_iter()
        .map(serde_dynamo::to_item)
        .collect::<Result<_, _>>()?)
}

/// An item's size as DynamoDB counts it: each attribute's name plus its value.
fn item_bytes(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_bytes(value))
        .sum()
}

fn value_bytes(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        // Numbers: about one byte per two significant digits, plus one.
        AttributeValue::N(number) => number.len().div_ceil(2) + 1,
        AttributeValue::B(bytes) => bytes.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_bytes(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_bytes(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(set) | AttributeValue::Ns(set) => set.iter().map(String::len).sum(),
        _ => 0,
    }
}

fn write_units(bytes: usize) -> u64 {
    bytes.div_ceil(1024).max(1) as u64
}

/// Write units for `item`'s entry in `index`: none when it lacks a key attribute (a sparse index).
fn index_write_units(index: &IndexKeys, item: &HashMap<String, AttributeValue>) -> u64 {
    if !index.holds(item.keys()) {
        return 0;
    }
    let projected: HashMap<String, AttributeValue> = item
        .iter()
        .filter(|(name, _)| index.copies(name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    write_units(item_bytes(&projected))
}
