//! What judging reports in completion order costs: the read units the timeline takes to place one new report of a
//! patient with a short and with a long history, beside what the process function read before the timeline (the
//! patient's whole partition, for the previous report), both counted from what DynamoDB returned, through a recording
//! proxy in front of the local table.

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use intake::aws::{DynamoAlerts, DynamoStore};
use intake::envelope::Envelope;
use intake::instrument::Catalogue;
use intake::item::{SubmissionItem, submission_key};
use intake::process::Processor;
use intake::submit::{Form, accept};
use intake::timeline::{Arrival, Assessor, TimelineReport};
use intake_e2e::deployed::fresh_trial;
use intake_e2e::stubs::RecordingProxy;
use intake_e2e::{Aws, Error, Stack, Survey};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::meter;
use crate::workload::as_records;

/// The reads of placing one new report on a patient's timeline.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineReads {
    /// Earlier reports of the instrument the patient has.
    pub history: usize,
    /// Read requests the timeline made for the new report.
    pub reads: usize,
    /// Their read units.
    pub read_units: f64,
    /// Read units of the read the process function made for it before the timeline: the patient's stored
    /// submissions, all of them, for the previous one.
    pub partition_read_units: f64,
}

/// A pain report of `patient` completed `hours` ago, judged and wrapped as `submit` does.
fn report(trial: &str, patient: &str, n: usize, hours: i64) -> String {
    let mut survey = Survey::of(
        "pain-nrs",
        trial,
        patient,
        &format!("day-{n}"),
        &mut fastrand::Rng::new(),
    );
    survey.body["answers"] = json!({ "pain": n % 4 });
    let completed = OffsetDateTime::now_utc() - time::Duration::hours(hours);
    survey.body["completedAt"] = json!(completed.format(&Rfc3339).expect("formats"));
    let judged = accept(
        Form::Json,
        survey.body.to_string().as_bytes(),
        Catalogue::embedded(),
    )
    .expect("a valid report");
    Envelope::new(
        judged,
        "json",
        format!("bench-{n}"),
        OffsetDateTime::now_utc(),
    )
    .encode()
}

/// For each of `histories`: a fresh patient with that many earlier pain reports, stored and placed, then one new
/// report placed while its reads are counted.
pub async fn read_units(
    aws: &Aws,
    stack: &Stack,
    endpoint: &str,
    histories: &[usize],
) -> Result<Vec<TimelineReads>, Error> {
    let config = aws_config::load_from_env().await;
    let table = stack.table_name.clone();
    let direct = aws.dynamodb.clone();
    let proxy = RecordingProxy::start(endpoint).await?;
    let counted = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config)
            .endpoint_url(format!("http://{}", proxy.address))
            .build(),
    );
    let placing = Assessor::new(
        DynamoStore::new(direct.clone(), table.clone()),
        DynamoAlerts::new(direct.clone(), table.clone()),
    )?;
    let measured = Assessor::new(
        DynamoStore::new(counted.clone(), table.clone()),
        DynamoAlerts::new(counted.clone(), table.clone()),
    )?;
    let mut figures = Vec::new();
    for &history in histories {
        let trial = fresh_trial("BENCH-TIMELINE");
        let patient = "P-000001";
        // The history, oldest first, an hour apart, stored as the process function stores it and placed.
        let earlier: Vec<String> = (0..history)
            .map(|n| report(&trial, patient, n, (history - n) as i64 + 1))
            .collect();
        let processor = Processor::new(DynamoStore::new(direct.clone(), table.clone()), 16);
        for chunk in earlier.chunks(100) {
            processor.process(as_records(chunk.to_vec())).await;
        }
        let mut ignored = TimelineReport::default();
        for body in &earlier {
            placing.place(&arrival(body)?, &mut ignored).await?;
        }
        // The new report: stored, then placed with its reads counted.
        let new = report(&trial, patient, history, 0);
        processor.process(as_records(vec![new.clone()])).await;
        proxy.take();
        measured
            .place(&arrival(&new)?, &mut TimelineReport::default())
            .await?;
        let timeline = meter::writes(&proxy.take(), &BTreeMap::new());
        // Before the timeline: the process function read every stored submission of the patient for the previous
        // report (billed for every item it read, whatever its projection, so read whole), here by their keys.
        for chunk in earlier.chunks(100) {
            let keys = chunk
                .iter()
                .map(|body| {
                    let id = Envelope::decode(body)?.submission.submission_id;
                    let (pk, sk) = submission_key(&id);
                    Ok([("pk", pk), ("sk", sk)]
                        .into_iter()
                        .map(|(name, value)| (name.to_owned(), AttributeValue::S(value)))
                        .collect())
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()?,
            );
            while let Some(keys) = request.take() {
                let output = counted
                    .batch_get_item()
                    .request_items(&table, keys)
                    .send()
                    .await?;
                request = output
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(&table))
                    .filter(|left| !left.keys.is_empty());
            }
        }
        let partition = meter::writes(&proxy.take(), &BTreeMap::new());
        figures.push(TimelineReads {
            history,
            reads: timeline.reads,
            read_units: timeline.read_units,
            partition_read_units: partition.read_units,
        });
    }
    Ok(figures)
}

/// The stored item of a report body, as the stream brings it.
fn arrival(body: &str) -> Result<Arrival, Error> {
    let mut item = SubmissionItem::new(Envelope::decode(body)?, String::new());
    item.on_timeline = true;
    Ok(Arrival::Stored(Box::new(item)))
}
