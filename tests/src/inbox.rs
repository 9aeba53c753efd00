//! What a study team receives: an SQS queue subscribed to the alert topics, as a team's webhook relay would be,
//! read by the tests and the burst auditor.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use crate::{Aws, Error};

/// A queue subscribed to one or more topics, with raw message delivery (the body is the message itself).
pub struct AlertInbox {
    sns: aws_sdk_sns::Client,
    aws: Aws,
    queue_url: String,
    subscriptions: Vec<String>,
    /// Every message received so far.
    received: Vec<Received>,
}

/// One message as the team received it.
struct Received {
    body: String,
    message: Value,
    /// When SNS put it on the team's queue (SQS `SentTimestamp`, Unix milliseconds).
    delivered_at_ms: Option<u64>,
}

impl AlertInbox {
    /// A fresh queue subscribed to `topics`.
    pub async fn subscribe(aws: &Aws, topics: &[&str]) -> Result<Self, Error> {
        let sns = aws_sdk_sns::Client::new(&aws_config::load_from_env().await);
        let name = format!("alert-inbox-{}", Uuid::new_v4().simple());
        let queue_url = aws
            .sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await?
            .queue_url
            .ok_or("a queue without a URL")?;
        let queue_arn = aws
            .sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .ok_or("a queue without an ARN")?;
        // Only the topics may send to it, as on AWS.
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topics}}
            }]
        });
        aws.sqs
            .set_queue_attributes()
            .queue_url(&queue_url)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::Policy,
                policy.to_string(),
            )
            .send()
            .await?;
        let mut subscriptions = Vec::new();
        for topic in topics {
            let subscribed = sns
                .subscribe()
                .topic_arn(*topic)
                .protocol("sqs")
                .endpoint(&queue_arn)
                .attributes("RawMessageDelivery", "true")
                .return_subscription_arn(true)
                .send()
                .await?;
            subscriptions.extend(subscribed.subscription_arn);
        }
        Ok(AlertInbox {
            sns,
            aws: aws.clone(),
            queue_url,
            subscriptions,
            received: Vec::new(),
        })
    }

    /// Receives whatever has arrived, for up to `wait`.
    pub async fn collect(&mut self, wait: Duration) -> Result<(), Error> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let received = self
                .aws
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .message_system_attribute_names(
                    aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp,
                )
                .send()
                .await?;
            for message in received.messages() {
                let body = message.body().unwrap_or_default();
                let message_value: Value =
                    serde_json::from_str(body).unwrap_or(Value::String(body.into()));
                let delivered_at_ms = message
                    .attributes()
                    .and_then(|a| {
                        a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp)
                    })
                    .and_then(|ms| ms.parse().ok());
                self.received.push(Received {
                    body: body.to_owned(),
                    message: message_value,
                    delivered_at_ms,
                });
                if let Some(handle) = message.receipt_handle() {
                    self.aws
                        .sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await?;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(());
            }
        }
    }

    /// Waits until a message names each of `alert_ids` (of `kind`), for up to `timeout`, then `settle` more for
    /// any duplicate; returns how many messages named each.
    pub async fn wait_for(
        &mut self,
        kind: &str,
        alert_ids: &[Uuid],
        timeout: Duration,
        settle: Duration,
    ) -> Result<BTreeMap<Uuid, usize>, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline
            && alert_ids.iter().any(|id| self.count(kind, id) == 0)
        {
            self.collect(Duration::from_secs(1)).await?;
        }
        self.collect(settle).await?;
        Ok(alert_ids
            .iter()
            .map(|id| (*id, self.count(kind, id)))
            .collect())
    }

    /// Messages of `kind` naming `alert_id`.
    pub fn count(&self, kind: &str, alert_id: &Uuid) -> usize {
        self.received
            .iter()
            .filter(|r| r.message["kind"] == kind && r.message["alertId"] == alert_id.to_string())
            .count()
    }

    /// When each message of `kind` reached the team, by alert id (Unix milliseconds, as SQS stamped it).
    pub fn deliveries<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (Uuid, u64)> + 'a {
        self.received
            .iter()
            .filter(move |r| r.message["kind"] == kind)
            .filter_map(|r| {
                let id = r.message["alertId"].as_str()?.parse().ok()?;
                Some((id, r.delivered_at_ms?))
            })
    }

    /// Every message body received, as sent.
    pub fn bodies(&self) -> impl Iterator<Item = &str> {
        self.received.iter().map(|r| r.body.as_str())
    }

    /// Every message received, parsed.
    pub fn messages(&self) -> impl Iterator<Item = &Value> {
        self.received.iter().map(|r| &r.message)
    }

    /// Unsubscribes and deletes the queue.
    pub async fn close(self) -> Result<(), Error> {
        for subscription in &self.subscriptions {
            self.sns
                .unsubscribe()
                .subscription_arn(subscription)
                .send()
                .await?;
        }
        self.aws
            .sqs
            .delete_queue()
            .queue_url(&self.queue_url)
            .send()
            .await?;
        Ok(())
    }
}
