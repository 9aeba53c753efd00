//! The table's stream, as the event sources deliver it: a record inserted, in its new image.

use aws_lambda_events::event::dynamodb::EventRecord;

/// The stream record of inserting `record`.
pub fn inserted<T: serde::Serialize>(record: &T) -> EventRecord {
    let mut event = EventRecord::default();
    event.event_name = "INSERT".into();
    event.event_id = uuid::Uuid::new_v4().to_string();
    event.change.new_image = serde_dynamo::to_item(record).expect("records map to items");
    event
}
