//! The [`Topic`] port on SNS: the alert, escalation and missed-survey topics the study team subscribes to, and the
//! reminder topic the push provider subscribes to.

use aws_sdk_sns::types::MessageAttributeValue;

use crate::ports::{Publishable, Topic, TopicError};

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

impl<M: Publishable> Topic<M> for SnsTopic {
    async fn publish(&self, message: &M) -> Result<(), TopicError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(message.subject())
            .message(message.body());
        for (name, value) in message.attributes() {
            request = request.message_attributes(name, attribute(&value)?);
        }
        request
            .send()
            .await
            .map(|_| ())
            .map_err(|error| TopicError(error_class(&error)))
    }
}
