//! The [`Queue`] port on SQS.

use aws_sdk_sqs::error::SdkError;

use crate::envelope::Envelope;
use crate::ports::{Queue, QueueError};

use super::error_class;

/// SQS's answers that refuse the message itself (too large, characters outside its set): the same message is
/// refused every time.
const REFUSALS: [&str; 2] = ["InvalidParameterValue", "InvalidMessageContents"];

/// The submission queue.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsQueue {
    /// The queue at `queue_url`, reached with `client` (built once per container).
    pub fn new(client: aws_sdk_sqs::Client, queue_url: String) -> Self {
        SqsQueue { client, queue_url }
    }
}

impl Queue for SqsQueue {
    async fn send(&self, envelope: &Envelope) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(envelope.encode())
            .send()
            .await
            .map(|_| ())
            .map_err(|error| {
                let class = error_class(&error);
                match error {
                    SdkError::ServiceError(_) if REFUSALS.contains(&class.as_str()) => {
                        QueueError::Refused(class)
                    }
                    _ => QueueError::Unavailable(class),
                }
            })
    }
}
