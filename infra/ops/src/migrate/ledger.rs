//! The migration ledger: one item per migration in the table it migrates, `pk = MIGRATION#<id>`, `sk = LEDGER`.
//! It holds how far the run has got (the scan's resume key), what it counted, and a lease, so an interrupted run
//! resumes where it stopped and a second run started meanwhile stops at once instead of racing the first.
//! Readers consult it to know when a new index lists every item. No index lists it and no stream consumer
//! reads it (notify's stream filter takes alerts only).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Counts;
use crate::Error;

/// How long a run owns a migration without saving progress; it saves after every page.
pub const LEASE: time::Duration = time::Duration::minutes(5);

/// A migration's entry in the ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    /// `running` until the scan has covered the whole table, then `done`.
    pub status: String,
    /// Where the scan resumes: the last evaluated key (pk, sk), absent before the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<HashMap<String, String>>,
    /// Items the scan has read, over every run.
    pub read: u64,
    /// Items it changed.
    pub changed: u64,
    /// Candidates that needed nothing by the time they were written (another writer, a deleted item).
    pub unchanged: u64,
    /// Candidates it left alone because they did not read as the migration expects (reported, never guessed at).
    pub skipped: u64,
    /// Which pass over the table the run is on (from 1). A pass that found something to change is followed by
    /// another, and the migration is done only after a pass that found nothing: what an old release still running
    /// wrote behind the scan is caught.
    #[serde(default)]
    pub pass: u32,
    /// Candidates the current pass has found so far (changed or already changed by someone else).
    #[serde(default)]
    pub pass_found: u64,
    /// Runs that worked on it, including an interrupted one.
    pub runs: u32,
    /// UTC: the first run's start, the last save, the end.
    pub started_at: String,
    /// See `started_at`.
    pub updated_at: String,
    /// See `started_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The run holding the lease, and until when (UTC).
    pub owner: String,
    /// See `owner`.
    pub lease_until: String,
    /// Bumped by every write: a claim succeeds only on the version it read.
    pub version: u64,
}

impl LedgerEntry {
    /// Whether the migration has covered the whole table.
    pub fn is_done(&self) -> bool {
        self.status == DONE
    }

    /// What its runs have counted so far.
    pub fn counts(&self) -> Counts {
        Counts {
            read: self.read,
            changed: self.changed,
            unchanged: self.unchanged,
            skipped: self.skipped,
        }
    }
}

const RUNNING: &str = "running";
const DONE: &str = "done";

/// What a claim found.
#[derive(Debug)]
pub enum Claim {
    /// The migration is this run's until it saves `done` or its lease lapses.
    Claimed(LedgerEntry),
    /// It had already covered the table.
    Done(LedgerEntry),
}

/// The ledger of one table.
pub struct Ledger<'a> {
    dynamodb: &'a Client,
    table: &'a str,
}

impl<'a> Ledger<'a> {
    /// The ledger kept in `table`.
    pub fn new(dynamodb: &'a Client, table: &'a str) -> Self {
        Ledger { dynamodb, table }
    }

    fn key(id: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (
                "pk".to_owned(),
                AttributeValue::S(format!("MIGRATION#{id}")),
            ),
            ("sk".to_owned(), AttributeValue::S("LEDGER".into())),
        ])
    }

    /// The migration's entry, if any run has started it (read consistently).
    pub async fn entry(&self, id: &str) -> Result<Option<LedgerEntry>, Error> {
        let output = self
            .dynamodb
            .get_item()
            .table_name(self.table)
            .set_key(Some(Self::key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        Ok(output.item.map(serde_dynamo::from_item).transpose()?)
    }

    /// Takes the migration for run `owner` at `now`: refused while another run's lease is live.
    pub async fn claim(&self, id: &str, owner: &str, now: OffsetDateTime) -> Result<Claim, Error> {
        let found = self.entry(id).await?;
        let at = intake::item::format_timestamp(now);
        let mut entry = match found {
            Some(entry) if entry.is_done() => return Ok(Claim::Done(entry)),
            Some(entry) if entry.owner != owner && entry.lease_until > at => {
                return Err(format!(
                    "another migrate run holds {id} until {} (it started at {}); wait for it, or run again after that",
                    entry.lease_until, entry.updated_at
                )
                .into());
            }
            Some(entry) => entry,
            None => LedgerEntry {
                status: RUNNING.into(),
                pass: 1,
                started_at: at.clone(),
                ..LedgerEntry::default()
            },
        };
        let read_version = entry.version;
        entry.runs += 1;
        entry.owner = owner.to_owned();
        self.write(id, &mut entry, now, LEASE, Guard::Version(read_version))
            .await?;
        Ok(Claim::Claimed(entry))
    }

    /// Saves progress (and renews the lease); fails if another run has taken the migration over.
    pub async fn save(
        &self,
        id: &str,
        entry: &mut LedgerEntry,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let owner = entry.owner.clone();
        self.write(id, entry, now, LEASE, Guard::Owner(&owner))
            .await
    }

    /// Ends this run's lease early (a run that stops cleanly), so the next run need not wait for it to lapse.
    pub async fn release(
        &self,
        id: &str,
        entry: &mut LedgerEntry,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let owner = entry.owner.clone();
        self.write(id, entry, now, time::Duration::ZERO, Guard::Owner(&owner))
            .await
    }

    /// Records that the scan covered the whole table.
    pub async fn finish(
        &self,
        id: &str,
        entry: &mut LedgerEntry,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        entry.status = DONE.into();
        entry.cursor = None;
        entry.finished_at = Some(intake::item::format_timestamp(now));
        self.save(id, entry, now).await
    }

    async fn write(
        &self,
        id: &str,
        entry: &mut LedgerEntry,
        now: OffsetDateTime,
        lease: time::Duration,
        guard: Guard<'_>,
    ) -> Result<(), Error> {
        entry.updated_at = intake::item::format_timestamp(now);
        entry.lease_until = intake::item::format_timestamp(now + lease);
        entry.version += 1;
        let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&*entry)?;
        item.extend(Self::key(id));
        let put = self
            .dynamodb
            .put_item()
            .table_name(self.table)
            .set_item(Some(item));
        let put = match guard {
            Guard::Version(0) => put.condition_expression("attribute_not_exists(pk)"),
            Guard::Version(version) => put
                .condition_expression("version = :read")
                .expression_attribute_values(":read", AttributeValue::N(version.to_string())),
            Guard::Owner(owner) => put
                .condition_expression("#owner = :owner")
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned())),
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(format!(
                    "another migrate run took {id} over; this one stops (its work so far is kept)"
                )
                .into())
            }
            Err(e) => Err(DisplayErrorContext(e).to_string().into()),
        }
    }
}

/// What a ledger write requires of the stored entry.
enum Guard<'a> {
    /// Still at the version read (0: absent).
    Version(u64),
    /// Still held by this run.
    Owner(&'a str),
}
