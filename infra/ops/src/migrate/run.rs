//! Running a migration over a table: a dry run counts what it would change; a run changes it page by page,
//! saving the scan's resume key in the ledger after each page.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;

use super::indexes::{indexes, keyed};
use super::ledger::{Claim, Ledger, LedgerEntry};
use super::{Change, Item, Migration};
use crate::Error;

/// How a run proceeds.
#[derive(Debug, Clone)]
pub struct Options {
    /// Items read per scan page; progress is saved after each.
    pub page_size: i32,
    /// Stop after this many pages (the rest on a later run), e.g. to fit a maintenance window.
    pub max_pages: Option<u32>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            page_size: 200,
            max_pages: None,
        }
    }
}

/// What a scan has counted so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Items read.
    pub read: u64,
    /// Items the migration would change (a dry run) or changed.
    pub changed: u64,
    /// Candidates that needed nothing when written.
    pub unchanged: u64,
    /// Candidates left alone: they do not read as the migration expects.
    pub skipped: u64,
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// An earlier run had finished it.
    AlreadyDone(LedgerEntry),
    /// This run covered the rest of the table.
    Finished(LedgerEntry),
    /// This run stopped at `max_pages`; the next resumes from the saved key.
    Paused(LedgerEntry),
}

/// Counts what `migration` would change in `table`, changing nothing (the ledger included).
pub async fn dry_run(
    dynamodb: &Client,
    table: &str,
    migration: &dyn Migration,
    options: &Options,
    mut progress: impl FnMut(&Counts),
) -> Result<Counts, Error> {
    let mut counts = Counts::default();
    let mut cursor = None;
    loop {
        let (items, read, next) = page(dynamodb, table, migration, options, cursor).await?;
        counts.read += read;
        for item in &items {
            match migration.change(item) {
                Some(_) => counts.changed += 1,
                None => counts.skipped += 1,
            }
        }
        progress(&counts);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(counts),
        }
    }
}

/// Why `migration` cannot run on `table` yet, if it cannot: the index it fills is missing or still being built.
pub async fn not_ready(
    dynamodb: &Client,
    table: &str,
    migration: &dyn Migration,
) -> Result<Option<String>, Error> {
    let Some((partition, sort)) = migration.fills() else {
        return Ok(None);
    };
    let indexes = indexes(dynamodb, table).await?;
    Ok(match keyed(&indexes, partition, sort) {
        Some(index) if index.active => None,
        Some(index) => Some(format!(
            "the index it fills, {}, is still being built: run it when describe-table shows it ACTIVE",
            index.name
        )),
        None => Some(format!(
            "the table has no index keyed by ({partition}, {sort}) yet: deploy the release that adds it first"
        )),
    })
}

/// Runs `migration` over `table` as run `owner`, resuming where the ledger says an earlier run stopped. Refused
/// until the index it fills is built ([`not_ready`]); done only after a whole pass finds nothing left to change.
pub async fn migrate(
    dynamodb: &Client,
    table: &str,
    migration: &dyn Migration,
    options: &Options,
    owner: &str,
    mut progress: impl FnMut(&Counts),
) -> Result<Outcome, Error> {
    let ledger = Ledger::new(dynamodb, table);
    let id = migration.id();
    if let Some(reason) = not_ready(dynamodb, table, migration).await? {
        return Err(format!("{id} cannot run yet: {reason}").into());
    }
    let mut entry = match ledger.claim(id, owner, OffsetDateTime::now_utc()).await? {
        Claim::Done(entry) => return Ok(Outcome::AlreadyDone(entry)),
        // A run that resumes mid-pass cannot know what the page it died on found: that pass must not count
        // as the clean one.
        Claim::Claimed(entry) if entry.cursor.is_some() => LedgerEntry {
            pass_found: entry.pass_found.max(1),
            ..entry
        },
        Claim::Claimed(entry) => entry,
    };
    let result = pages(
        dynamodb,
        table,
        migration,
        options,
        &ledger,
        &mut entry,
        &mut progress,
    )
    .await;
    if result.is_err() {
        // The next run resumes from the last saved page at once instead of waiting for the lease to lapse; the
        // page this run was on is redone, which changes nothing that is already done.
        let _ = ledger
            .release(id, &mut entry, OffsetDateTime::now_utc())
            .await;
    }
    result
}

/// The pages from the ledger's cursor on, saving it after each.
async fn pages(
    dynamodb: &Client,
    table: &str,
    migration: &dyn Migration,
    options: &Options,
    ledger: &Ledger<'_>,
    entry: &mut LedgerEntry,
    progress: &mut impl FnMut(&Counts),
) -> Result<Outcome, Error> {
    let id = migration.id();
    let mut pages = 0;
    loop {
        let cursor = entry.cursor.as_ref().map(|key| {
            key.iter()
                .map(|(name, value)| (name.clone(), AttributeValue::S(value.clone())))
                .collect()
        });
        let (items, read, next) = page(dynamodb, table, migration, options, cursor).await?;
        let mut counts = apply(dynamodb, table, migration, items).await?;
        counts.read = read;
        entry.pass_found += counts.changed + counts.unchanged;
        entry.read += counts.read;
        entry.changed += counts.changed;
        entry.unchanged += counts.unchanged;
        // Every pass meets the same unreadable items again: they are counted once, in the first.
        if entry.pass == 1 {
            entry.skipped += counts.skipped;
        }
        progress(&entry.counts());
        pages += 1;
        match next {
            None if entry.pass_found == 0 => {
                ledger.finish(id, entry, OffsetDateTime::now_utc()).await?;
                return Ok(Outcome::Finished(entry.clone()));
            }
            None => {
                entry.pass += 1;
                entry.pass_found = 0;
                entry.cursor = None;
                if options.max_pages.is_some_and(|max| pages >= max) {
                    ledger.release(id, entry, OffsetDateTime::now_utc()).await?;
                    return Ok(Outcome::Paused(entry.clone()));
                }
                ledger.save(id, entry, OffsetDateTime::now_utc()).await?;
            }
            Some(next) => {
                entry.cursor = Some(
                    next.iter()
                        .filter_map(|(name, value)| {
                            Some((name.clone(), value.as_s().ok()?.clone()))
                        })
                        .collect(),
                );
                if options.max_pages.is_some_and(|max| pages >= max) {
                    ledger.release(id, entry, OffsetDateTime::now_utc()).await?;
                    return Ok(Outcome::Paused(entry.clone()));
                }
                ledger.save(id, entry, OffsetDateTime::now_utc()).await?;
            }
        }
    }
}

type Key = HashMap<String, AttributeValue>;

/// One scan page: its candidate items, how many items it read, and where the next page starts.
async fn page(
    dynamodb: &Client,
    table: &str,
    migration: &dyn Migration,
    options: &Options,
    cursor: Option<Key>,
) -> Result<(Vec<Item>, u64, Option<Key>), Error> {
    let scan = dynamodb
        .scan()
        .table_name(table)
        .consistent_read(true)
        .limit(options.page_size)
        .set_exclusive_start_key(cursor);
    let output = migration
        .candidates(scan)
        .send()
        .await
        .map_err(|e| DisplayErrorContext(e).to_string())?;
    let read = u64::try_from(output.scanned_count).unwrap_or(0);
    let next = output.last_evaluated_key.filter(|key| !key.is_empty());
    Ok((output.items.unwrap_or_default(), read, next))
}

/// Writes one page's changes at once, each conditional: it adds only what the item still lacks, and never
/// recreates an item deleted meanwhile.
async fn apply(
    dynamodb: &Client,
    table: &str,
    migration: &dyn Migration,
    items: Vec<Item>,
) -> Result<Counts, Error> {
    let mut counts = Counts::default();
    let mut writes = tokio::task::JoinSet::new();
    for item in &items {
        let Some(change) = migration.change(item) else {
            counts.skipped += 1;
            continue;
        };
        writes.spawn(write(dynamodb.clone(), table.to_owned(), change));
    }
    while let Some(written) = writes.join_next().await {
        if written?? {
            counts.changed += 1;
        } else {
            counts.unchanged += 1;
        }
    }
    Ok(counts)
}

/// Whether the change was written (false: the item already had it, or is gone).
async fn write(dynamodb: Client, table: String, change: Change) -> Result<bool, Error> {
    let mut update = dynamodb
        .update_item()
        .table_name(table)
        .key("pk", AttributeValue::S(change.pk))
        .key("sk", AttributeValue::S(change.sk));
    let mut sets = Vec::new();
    let mut absent = vec!["attribute_exists(pk)".to_owned()];
    for (n, (name, value)) in change.add.into_iter().enumerate() {
        update = update
            .expression_attribute_names(format!("#a{n}"), name)
            .expression_attribute_values(format!(":a{n}"), value);
        sets.push(format!("#a{n} = :a{n}"));
        absent.push(format!("attribute_not_exists(#a{n})"));
    }
    let result = update
        .update_expression(format!("SET {}", sets.join(", ")))
        .condition_expression(absent.join(" AND "))
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
            Ok(false)
        }
        Err(e) => Err(DisplayErrorContext(e).to_string().into()),
    }
}
