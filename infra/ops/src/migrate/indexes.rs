//! A table's global secondary indexes as DynamoDB reports them now: keys and whether each serves reads yet.
//! Found by their keys, not their names: a name says what the template meant, the key what the index holds.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{IndexStatus, KeyType};

use crate::Error;

/// One index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its partition key attribute.
    pub partition: String,
    /// Its sort key attribute, if any.
    pub sort: Option<String>,
    /// Built and serving reads: not being created or backfilled (an index whose throughput is being updated
    /// serves reads).
    pub active: bool,
}

/// The table's indexes.
pub async fn indexes(dynamodb: &Client, table: &str) -> Result<Vec<Index>, Error> {
    let described = dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| DisplayErrorContext(e).to_string())?;
    let key = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement], kind: KeyType| {
        schema
            .iter()
            .find(|element| element.key_type == kind)
            .map(|element| element.attribute_name.clone())
    };
    Ok(described
        .table
        .and_then(|table| table.global_secondary_indexes)
        .unwrap_or_default()
        .iter()
        // An index being deleted is as good as gone.
        .filter(|index| index.index_status() != Some(&IndexStatus::Deleting))
        .filter_map(|index| {
            Some(Index {
                name: index.index_name()?.to_owned(),
                partition: key(index.key_schema(), KeyType::Hash)?,
                sort: key(index.key_schema(), KeyType::Range),
                // DynamoDB always reports a status; the local emulator leaves it out for indexes created with the
                // table, which are ready.
                active: index.index_status() != Some(&IndexStatus::Creating)
                    && index.backfilling() != Some(true),
            })
        })
        .collect())
}

/// The index keyed by (`partition`, `sort`), if the table has one.
pub fn keyed<'a>(indexes: &'a [Index], partition: &str, sort: &str) -> Option<&'a Index> {
    indexes
        .iter()
        .find(|index| index.partition == partition && index.sort.as_deref() == Some(sort))
}
