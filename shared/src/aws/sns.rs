//! The [`Topic`] port on SNS: the alert and escalation topics the study team subscribes to.

use aws_sdk_sns::types::MessageAttributeValue;

use crate::notify::AlertMessage;
use crate::ports::{Topic, TopicError};

use super::error_class;

/// An SNS topic.
#[derive(Debug, Clone)]
pub struct SnsTopic {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsTopic {
    /// The topic `topic_arn`, reached with `client` (built once per container).
    pub fn new(client: aws_sdk_sns::Client, topic_arn: String) -> Self {
        SnsTopic { client, topic_arn }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, TopicError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| TopicError(format!("request construction: {e}")))
}

impl Topic for SnsTopic {
    async fn publish(&self, message: &AlertMessage) -> Result<(), TopicError> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(message.subject())
            .message(message.body())
            // For subscription filter policies: a trial's team, or urgent alerts only, can subscribe to just that.
            .message_attributes("trialId", attribute(&message.trial_id)?)
            .message_attributes("severity", attribute(message.severity.as_str())?)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| TopicError(error_class(&error)))
    }
}
