//! What a function asked DynamoDB to write, read from the requests themselves (a [`RecordingProxy`] in front of the
//! local AWS): how many write requests, and the write units they cost by DynamoDB's sizing rules — 1 unit per KB of
//! each item written, 2 in a transaction, plus 1 per KB of what each index on the table copies.
//!
//! An `UpdateItem` is sized by its key and new values (a lower bound: DynamoDB bills the whole item after the update).

use std::collections::BTreeMap;

use intake_e2e::stubs::Recorded;
use serde::Serialize;
use serde_json::Value;

/// A global secondary index of a table: which items it holds (those with all its keys) and what of them it copies.
#[derive(Debug, Clone, Default)]
pub struct IndexKeys {
    pub keys: Vec<String>,
    pub all_attributes: bool,
    /// The non-key attributes an `INCLUDE` projection copies.
    pub included: Vec<String>,
}

impl IndexKeys {
    /// The deployed table's global secondary indexes.
    pub async fn of_table(
        aws: &intake_e2e::Aws,
        table: &str,
    ) -> Result<Vec<IndexKeys>, intake_e2e::Error> {
        let described = aws
            .dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await?;
        Ok(described
            .table
            .map(|t| t.global_secondary_indexes.unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .map(|index| IndexKeys {
                keys: index
                    .key_schema()
                    .iter()
                    .map(|k| k.attribute_name().to_owned())
                    .collect(),
                all_attributes: index.projection().and_then(|p| p.projection_type())
                    == Some(&aws_sdk_dynamodb::types::ProjectionType::All),
                included: index
                    .projection()
                    .map(|p| p.non_key_attributes().to_vec())
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Whether an item with these attribute names has an entry in the index.
    pub fn holds<'a>(&self, mut names: impl Iterator<Item = &'a String> + Clone) -> bool {
        self.keys
            .iter()
            .all(|key| names.clone().any(|name| name == key))
            && names.next().is_some()
    }

    /// Whether the index copies attribute `name` of an item it holds.
    pub fn copies(&self, name: &str) -> bool {
        self.all_attributes
            || ["pk", "sk"].contains(&name)
            || self.keys.iter().any(|key| key == name)
            || self.included.iter().any(|attribute| attribute == name)
    }
}

/// Write requests and write units, in all and by operation; and the reads, which cost read units.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Writes {
    pub requests: usize,
    /// Reads (`GetItem`, `Query`, `BatchGetItem`): one read unit per 4 KB of what each returned (at least one; each
    /// item of a batch billed as its own read), half that if eventually consistent. A query with a filter or a projection is billed for more than it returns: give it
    /// neither to measure it.
    pub reads: usize,
    pub read_units: f64,
    /// Items written (a transaction of three is one request, three items).
    pub items: usize,
    pub write_units: f64,
    pub by_operation: BTreeMap<String, usize>,
}

/// Totals the DynamoDB writes among `recorded`; `indexes` by table name.
pub fn writes(recorded: &[Recorded], indexes: &BTreeMap<String, Vec<IndexKeys>>) -> Writes {
    let mut writes = Writes::default();
    for request in recorded {
        let Some(operation) = request
            .target
            .as_deref()
            .and_then(|t| t.strip_prefix("DynamoDB_20120810."))
        else {
            continue;
        };
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            continue;
        };
        let item = |writes: &mut Writes, table: &str, item: &Value, factor: f64| {
            writes.items += 1;
            writes.write_units += factor * units(item_bytes(item));
            for index in indexes.get(table).into_iter().flatten() {
                writes.write_units += index_units(index, item);
            }
        };
        let table = body["TableName"].as_str().unwrap_or_default().to_owned();
        let counted = match operation {
            "PutItem" => {
                item(&mut writes, &table, &body["Item"], 1.0);
                true
            }
            "UpdateItem" | "DeleteItem" => {
                let mut sized = body["Key"].as_object().cloned().unwrap_or_default();
                if let Some(values) = body["ExpressionAttributeValues"].as_object() {
                    sized.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                item(&mut writes, &table, &Value::Object(sized), 1.0);
                true
            }
            "TransactWriteItems" => {
                for entry in body["TransactItems"].as_array().into_iter().flatten() {
                    for (kind, action) in entry.as_object().into_iter().flatten() {
                        let table = action["TableName"].as_str().unwrap_or_default();
                        let written = if kind == "Put" {
                            &action["Item"]
                        } else {
                            &action["Key"]
                        };
                        item(&mut writes, table, written, 2.0);
                    }
                }
                true
            }
            "GetItem" | "Query" => {
                writes.reads += 1;
                let answer: Value = serde_json::from_slice(&request.response).unwrap_or_default();
                let returned: usize = match operation {
                    "GetItem" => item_bytes(&answer["Item"]),
                    _ => answer["Items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(item_bytes)
                        .sum(),
                };
                let units = returned.div_ceil(4096).max(1) as f64;
                writes.read_units += if body["ConsistentRead"] == Value::Bool(true) {
                    units
                } else {
                    units / 2.0
                };
                false
            }
            "BatchGetItem" => {
                writes.reads += 1;
                let answer: Value = serde_json::from_slice(&request.response).unwrap_or_default();
                for (table, items) in answer["Responses"].as_object().into_iter().flatten() {
                    let consistent =
                        body["RequestItems"][table]["ConsistentRead"] == Value::Bool(true);
                    for item in items.as_array().into_iter().flatten() {
                        let units = item_bytes(item).div_ceil(4096).max(1) as f64;
                        writes.read_units += if consistent { units } else { units / 2.0 };
                    }
                }
                false
            }
            "BatchWriteItem" => {
                for (table, requests) in body["RequestItems"].as_object().into_iter().flatten() {
                    for request in requests.as_array().into_iter().flatten() {
                        let written = &request["PutRequest"]["Item"];
                        item(&mut writes, table, written, 1.0);
                    }
                }
                true
            }
            _ => false,
        };
        if counted {
            writes.requests += 1;
            *writes.by_operation.entry(operation.to_owned()).or_default() += 1;
        }
    }
    writes
}

fn units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// An item in DynamoDB's wire form (`{"pk": {"S": "…"}}`), sized as DynamoDB counts: names plus values.
fn item_bytes(item: &Value) -> usize {
    item.as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| name.len() + value_bytes(value))
        .sum()
}

fn value_bytes(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match (kind.as_str(), inner) {
        ("S" | "B", Value::String(text)) => text.len(),
        // About one byte per two significant digits, plus one.
        ("N", Value::String(number)) => number.len().div_ceil(2) + 1,
        ("BOOL" | "NULL", _) => 1,
        ("L", Value::Array(list)) => 3 + list.iter().map(|v| 1 + value_bytes(v)).sum::<usize>(),
        ("M", Value::Object(map)) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_bytes(v))
                .sum::<usize>()
        }
        ("SS" | "NS" | "BS", Value::Array(set)) => {
            set.iter().filter_map(Value::as_str).map(str::len).sum()
        }
        _ => 0,
    }
}

/// Write units for `item`'s entry in `index`: none when it lacks a key attribute (a sparse index).
fn index_units(index: &IndexKeys, item: &Value) -> f64 {
    let Some(attributes) = item.as_object() else {
        return 0.0;
    };
    if !index.holds(attributes.keys()) {
        return 0.0;
    }
    let projected: serde_json::Map<String, Value> = attributes
        .iter()
        .filter(|(name, _)| index.copies(name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    units(item_bytes(&Value::Object(projected)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recorded(operation: &str, body: Value) -> Recorded {
        answered(operation, body, json!({}))
    }

    fn answered(operation: &str, body: Value, response: Value) -> Recorded {
        Recorded {
            target: Some(format!("DynamoDB_20120810.{operation}")),
            body: body.to_string().into_bytes(),
            response: response.to_string().into_bytes(),
        }
    }

    #[test]
    fn a_transaction_costs_twice_and_each_index_entry_once() {
        let by_trial = IndexKeys {
            keys: vec!["trialId".into(), "receivedAt".into()],
            ..IndexKeys::default()
        };
        let indexes = BTreeMap::from([("t".to_owned(), vec![by_trial])]);
        let submission = json!({"pk": {"S": "p"}, "sk": {"S": "s"}, "trialId": {"S": "T"}, "receivedAt": {"S": "r"}});
        let claim = json!({"pk": {"S": "c"}, "sk": {"S": "CLAIM"}});
        let requests = [
            recorded(
                "TransactWriteItems",
                json!({"TransactItems": [{"Put": {"TableName": "t", "Item": submission}}, {"Put": {"TableName": "t", "Item": claim}}]}),
            ),
            recorded(
                "PutItem",
                json!({"TableName": "t", "Item": {"pk": {"S": "x".repeat(1500)}}}),
            ),
            recorded(
                "GetItem",
                json!({"TableName": "t", "Key": {"pk": {"S": "p"}}}),
            ),
        ];
        let writes = writes(&requests, &indexes);
        assert_eq!(writes.requests, 2, "reads are not writes");
        assert_eq!((writes.reads, writes.read_units), (1, 0.5));
        assert_eq!(writes.items, 3);
        // 2 + 1 (index entry of the submission) + 2 (claim, not in the index) + 2 (1.5 KB put).
        assert_eq!(writes.write_units, 7.0);
    }

    #[test]
    fn a_read_costs_a_unit_per_4_kb_it_returns_and_half_when_eventually_consistent() {
        let item = |bytes: usize| json!({"pk": {"S": "x".repeat(bytes)}});
        let reads = [
            answered(
                "Query",
                json!({"TableName": "t", "ConsistentRead": true}),
                json!({"Items": [item(3000), item(3000), item(3000)]}),
            ),
            answered(
                "GetItem",
                json!({"TableName": "t", "ConsistentRead": true}),
                json!({"Item": item(100)}),
            ),
            answered("Query", json!({"TableName": "t"}), json!({"Items": []})),
            answered(
                "BatchGetItem",
                json!({"RequestItems": {"t": {"ConsistentRead": true}}}),
                json!({"Responses": {"t": [item(5000), item(100)]}}),
            ),
        ];
        let measured = writes(&reads, &BTreeMap::new());
        // 9 KB: 3 units; a small item: 1; nothing, eventually consistent: half of the minimum; a batch of a 5 KB and a
        // small item, each its own read: 2 + 1.
        assert_eq!((measured.reads, measured.read_units), (4, 7.5));
    }
}
