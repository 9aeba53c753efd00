//! Read-only views of a deployed stack's queues, table and logs, with SDK clients configured the standard way
//! (region, credentials, `AWS_ENDPOINT_URL`). Nothing here writes to the table.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use intake::item::{partition_key, submission_key, trial_shards};

use time::OffsetDateTime;

use crate::migrate::Ledger;
use crate::migrate::by_trial_shard::{self, PRE_SHARDING_KEY, SHARDED_KEY};
use crate::migrate::indexes::indexes;
use crate::{Error, Stack};

pub use crate::migrate::by_trial_shard::ByTrialIndex;

/// SDK clients for the stack, configured the standard way (region, credentials, `AWS_ENDPOINT_URL`).
#[derive(Debug, Clone)]
pub struct Aws {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// CloudFormation, to find a stack's outputs.
    pub cloudformation: aws_sdk_cloudformation::Client,
    /// Secrets Manager, for the keys of de-identified exports.
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Aws {
    /// Clients for the environment's region, credentials and endpoint.
    pub async fn load() -> Self {
        let config = aws_config::load_from_env().await;
        Aws {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
        }
    }

    /// Every item in a patient's partition, keyed by sort key.
    pub async fn patient_items(
        &self,
        stack: &Stack,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<HashMap<String, HashMap<String, AttributeValue>>, Error> {
        let items = self
            .dynamodb
            .query()
            .table_name(&stack.table_name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                AttributeValue::S(partition_key(trial_id, patient_id)),
            )
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        items
            .into_iter()
            .map(|item| {
                let sk = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .ok_or("item without a string sk")?;
                Ok((sk.clone(), item))
            })
            .collect()
    }

    /// The records of a patient that hold answers: submissions, named `SUBMISSION#<id>` wherever they are stored,
    /// and conflicting resends (`CONFLICT#…`), without the markers and flags written with them.
    ///
    /// A submission stored since 2026-12-06 is under its id's key; its patient's partition points at it: the marker
    /// of its timepoint names it, or, for a repeat, its `repeat` flag does. One stored before is in the partition.
    pub async fn patient_answer_records(
        &self,
        stack: &Stack,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<HashMap<String, HashMap<String, AttributeValue>>, Error> {
        let mut items = self.patient_items(stack, trial_id, patient_id).await?;
        let pointed: Vec<(String, String)> = items
            .iter()
            .filter(|(sk, item)| {
                (sk.starts_with("TIMEPOINT#") && !item.contains_key("releasedAt"))
                    || sk.starts_with("FLAG#repeat#")
            })
            .filter_map(|(_, item)| item.get("submissionId")?.as_s().ok()?.parse().ok())
            .map(|id: uuid::Uuid| submission_key(&id))
            .collect();
        items.retain(|sk, _| sk.starts_with("SUBMISSION#") || sk.starts_with("CONFLICT#"));
        let pk = partition_key(trial_id, patient_id);
        for item in self.get_items(stack, &pointed).await?.into_values() {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            let theirs = text("recordType").as_deref() == Some("submission")
                && partition_key(
                    &text("trialId").unwrap_or_default(),
                    &text("patientId").unwrap_or_default(),
                ) == pk;
            if let Some(id) = text("submissionId").filter(|_| theirs) {
                items.insert(format!("SUBMISSION#{id}"), item);
            }
        }
        Ok(items)
    }

    /// Every alert of a trial, through the `AlertsByTrial` index (newest first), as stored.
    pub async fn trial_alerts(
        &self,
        stack: &Stack,
        trial_id: &str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, Error> {
        Ok(self
            .dynamodb
            .query()
            .table_name(&stack.table_name)
            .index_name("AlertsByTrial")
            .key_condition_expression("trialId = :trial")
            .expression_attribute_values(":trial", AttributeValue::S(trial_id.to_owned()))
            .scan_index_forward(false)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?)
    }

    /// Every log line of `log_group` since `since`, oldest first.
    pub async fn log_lines(
        &self,
        log_group: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<String>, Error> {
        let events = self
            .logs
            .filter_log_events()
            .log_group_name(log_group)
            .start_time((since.unix_timestamp_nanos() / 1_000_000) as i64)
            .into_paginator()
            .send()
            .try_collect()
            .await?;
        Ok(events
            .into_iter()
            .flat_map(|page| page.events.unwrap_or_default())
            .filter_map(|event| event.message)
            .collect())
    }

    /// Visible plus in-flight messages (approximate, as SQS reports them).
    pub async fn queue_depth(&self, queue_url: &str) -> Result<u64, Error> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?
            .attributes
            .unwrap_or_default();
        let count = |name: A| {
            attributes
                .get(&name)
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(count(A::ApproximateNumberOfMessages) + count(A::ApproximateNumberOfMessagesNotVisible))
    }

    /// Waits until the queue reads empty (visible + in flight) three times in a row, calling `tick` with each depth.
    pub async fn wait_until_drained(
        &self,
        queue_url: &str,
        timeout: Duration,
        mut tick: impl FnMut(u64),
    ) -> Result<Duration, Error> {
        let started = Instant::now();
        let mut empty_reads = 0;
        while empty_reads < 3 {
            if started.elapsed() > timeout {
                return Err(format!("queue not drained within {timeout:?}").into());
            }
            let depth = self.queue_depth(queue_url).await?;
            tick(depth);
            empty_reads = if depth == 0 { empty_reads + 1 } else { 0 };
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(started.elapsed())
    }

    /// The (pk, sk) of every submission of a trial in arrival order, from the by-trial index that lists them all
    /// ([`Aws::by_trial_index`]): each of the trial's shards queried at once, then merged by `receivedAt`.
    pub async fn trial_submission_keys(
        &self,
        stack: &Stack,
        trial_id: &str,
    ) -> Result<Vec<(String, String)>, Error> {
        let (index, key, partitions) = match self.by_trial_index(stack).await? {
            ByTrialIndex::Sharded(index) => {
                (index, SHARDED_KEY.0, trial_shards(trial_id).collect())
            }
            ByTrialIndex::PreSharding(index) => {
                (index, PRE_SHARDING_KEY.0, vec![trial_id.to_owned()])
            }
        };
        let mut queries = tokio::task::JoinSet::new();
        for partition in partitions {
            let query = self
                .dynamodb
                .query()
                .table_name(&stack.table_name)
                .index_name(&index)
                .key_condition_expression("#key = :p")
                .expression_attribute_names("#key", key)
                .expression_attribute_values(":p", AttributeValue::S(partition));
            queries.spawn(async move { query.into_paginator().items().send().try_collect().await });
        }
        let mut listed = Vec::new();
        while let Some(shard) = queries.join_next().await {
            listed.extend(
                shard?
                    .map_err(|e| DisplayErrorContext(e).to_string())?
                    .iter()
                    .map(|item| (text(item, "receivedAt"), text(item, "pk"), text(item, "sk"))),
            );
        }
        Ok(arrival_order(listed))
    }

    /// Which by-trial index lists every submission now: the sharded one once it is built, unless the table still
    /// has the pre-sharding one and the migration that shards earlier submissions is not done. Refuses rather than
    /// read an index that would miss some (docs/operations.md, "Layout migrations").
    pub async fn by_trial_index(&self, stack: &Stack) -> Result<ByTrialIndex, Error> {
        let indexes = indexes(&self.dynamodb, &stack.table_name).await?;
        let ledger = Ledger::new(&self.dynamodb, &stack.table_name);
        let migration = ledger.entry(by_trial_shard::ID).await?;
        by_trial_shard::reader_index(&indexes, migration.as_ref())
            .map_err(|why| format!("table {}: {why}", stack.table_name).into())
    }

    /// The (pk, sk) of every conflicting resend recorded in a trial, from the `FlagsByTrial` index.
    pub async fn trial_conflict_keys(
        &self,
        stack: &Stack,
        trial_id: &str,
    ) -> Result<Vec<(String, String)>, Error> {
        let conflicts: Vec<HashMap<String, AttributeValue>> = self
            .dynamodb
            .query()
            .table_name(&stack.table_name)
            .index_name("FlagsByTrial")
            .key_condition_expression("flagTrialId = :t")
            .filter_expression("#kind = :conflict")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_values(":t", AttributeValue::S(trial_id.to_owned()))
            .expression_attribute_values(":conflict", AttributeValue::S("conflict".into()))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        Ok(conflicts
            .iter()
            .map(|c| (text(c, "pk"), text(c, "sk")))
            .collect())
    }

    /// Items by (pk, sk), read consistently, 100 keys a request, unprocessed keys retried.
    pub async fn get_items(
        &self,
        stack: &Stack,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), HashMap<String, AttributeValue>>, Error> {
        let mut found = HashMap::new();
        for chunk in keys.chunks(100) {
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(
                        chunk
                            .iter()
                            .map(|(pk, sk)| {
                                HashMap::from([
                                    ("pk".to_owned(), AttributeValue::S(pk.clone())),
                                    ("sk".to_owned(), AttributeValue::S(sk.clone())),
                                ])
                            })
                            .collect(),
                    ))
                    .consistent_read(true)
                    .build()?,
            );
            while let Some(keys_and_attributes) = request.take() {
                let output = self
                    .dynamodb
                    .batch_get_item()
                    .request_items(&stack.table_name, keys_and_attributes)
                    .send()
                    .await?;
                for item in output
                    .responses
                    .unwrap_or_default()
                    .remove(&stack.table_name)
                    .unwrap_or_default()
                {
                    found.insert((text(&item, "pk"), text(&item, "sk")), item);
                }
                request = output
                    .unprocessed_keys
                    .and_then(|mut rest| rest.remove(&stack.table_name))
                    .filter(|rest| !rest.keys().is_empty());
            }
        }
        Ok(found)
    }

    /// The bodies of every message in a queue, each once, without consuming them (see
    /// [`crate::redrive::peek_all`]).
    pub async fn peek_all(&self, queue_url: &str) -> Result<Vec<String>, Error> {
        crate::redrive::peek_all(&self.sqs, queue_url, |_| {}).await
    }
}

/// A string attribute, or empty.
fn text(item: &HashMap<String, AttributeValue>, name: &str) -> String {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

/// `(receivedAt, pk, sk)` from several shards as one list of keys in arrival order (`receivedAt` sorts as text;
/// equal times keep a fixed order by key).
pub fn arrival_order(mut listed: Vec<(String, String, String)>) -> Vec<(String, String)> {
    listed.sort_unstable();
    listed.into_iter().map(|(_, pk, sk)| (pk, sk)).collect()
}

#[cfg(test)]
mod tests {
    use super::arrival_order;

    #[test]
    fn shards_listed_one_after_another_come_out_in_arrival_order() {
        let row = |at: &str, id: &str| {
            (
                at.to_owned(),
                format!("TRIAL#T#PATIENT#{id}"),
                format!("SUBMISSION#{id}"),
            )
        };
        // Shard 07's listing, then shard 01's: each in order, the two interleaved in time.
        let listed = vec![
            row("2026-11-30T08:00:00.100Z", "a"),
            row("2026-11-30T08:00:00.300Z", "c"),
            row("2026-11-30T08:00:00.050Z", "z"),
            row("2026-11-30T08:00:00.200Z", "b"),
        ];
        let order: Vec<String> = arrival_order(listed)
            .into_iter()
            .map(|(_, sk)| sk)
            .collect();
        assert_eq!(
            order,
            [
                "SUBMISSION#z",
                "SUBMISSION#a",
                "SUBMISSION#b",
                "SUBMISSION#c"
            ]
        );
    }
}
