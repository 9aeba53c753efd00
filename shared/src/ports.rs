//! The ports between the intake rules and AWS: the queue, the submission store, the alert records, the patients'
//! timelines, enrolments and calendars, the schedule sweep, and the topics. `aws` implements them with the SDKs, `testing::memory` in memory for tests.

use std::future::Future;

use uuid::Uuid;

use crate::alert::Report;
use crate::enrolment::Revision;
use crate::envelope::Envelope;
use crate::item::{
    AlertItem, AlertStatus, AuditItem, ConflictWrite, EnrolmentItem, ExclusionItem, FlagKind,
    OccurrenceItem, SubmissionItem, SubmissionWrite, VersionItem,
};
use crate::notify::AlertMessage;
use crate::timeline::TimelineEntry;

/// Where accepted submissions wait for processing.
pub trait Queue: Send + Sync + 'static {
    /// Returns once the queue has acknowledged (durably stored) the message.
    fn send(&self, envelope: &Envelope) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Where submissions are kept, each exactly once.
pub trait Store: Send + Sync + 'static {
    /// Writes a new submission with everything that goes with it (the claim on its id, its timepoint marker, its
    /// flags, the survey due it completes, its alerts), all or nothing, unless its id is already claimed, its timepoint already taken or one of
    /// its alerts already raised. Never overwrites.
    fn write_submission(
        &self,
        write: &SubmissionWrite,
    ) -> impl Future<Output = Result<WriteOutcome, StoreError>> + Send;

    /// The patient's enrolment in the trial, if any, read consistently (a submission is placed on the calendar as
    /// it stands; the write then checks it still does).
    fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> impl Future<Output = Result<Option<EnrolmentItem>, StoreError>> + Send;

    /// Records a conflicting resend with the alerts its content raises, all or nothing; whether it did. Idempotent:
    /// recording the same conflict twice keeps one record and raises nothing more (`false`).
    fn record_conflict(
        &self,
        write: &ConflictWrite,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The alert records, after the write that raised them: read, listed, acknowledged, compared again, and followed
/// up (delivered, escalated) by exactly one worker at a time.
pub trait Alerts: Send + Sync + 'static {
    /// The alert `alert_id`, read consistently.
    fn alert(
        &self,
        alert_id: Uuid,
    ) -> impl Future<Output = Result<Option<AlertItem>, StoreError>> + Send;

    /// Writes a new alert unless its id exists; whether it wrote it.
    fn raise(&self, alert: &AlertItem) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records that an alert raised by a comparison was compared again, against `against`, and whether it is still
    /// met. The alert stays: what was sent is never withdrawn.
    fn reassess(
        &self,
        alert_id: Uuid,
        against: Uuid,
        still_due: bool,
        at: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A page of a trial's alerts, newest first, of one status or all.
    fn list(
        &self,
        trial_id: &str,
        status: Option<AlertStatus>,
        page: Page,
    ) -> impl Future<Output = Result<AlertPage, StoreError>> + Send;

    /// Acknowledges `alert` by `audit`'s person at its time, and writes `audit` with it, all or nothing; unless
    /// someone acknowledged it already: then nothing is written, and the record as it is.
    fn acknowledge(
        &self,
        alert: &AlertItem,
        audit: &AuditItem,
    ) -> impl Future<Output = Result<AlertItem, StoreError>> + Send;

    /// Alerts whose `duty` is waiting, or held by a claim gone stale, raised at or before `raised_before`, oldest
    /// first.
    fn due(
        &self,
        duty: Duty,
        raised_before: &str,
    ) -> impl Future<Output = Result<Vec<AlertItem>, StoreError>> + Send;

    /// Takes `duty` of the alert for `claim`, if it is waiting (or its claim went stale) and, for an escalation,
    /// the alert is still open; whether it did. Only the holder of a claim performs the duty.
    fn claim(
        &self,
        alert_id: Uuid,
        duty: Duty,
        claim: &Claim,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records the duty done at `at` (the message accepted by its topic), if `claim_id` still holds it; whether it
    /// did.
    fn complete(
        &self,
        alert_id: Uuid,
        duty: Duty,
        claim_id: &str,
        at: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Hands the duty back (the message could not be sent), if `claim_id` still holds it.
    fn release(
        &self,
        alert_id: Uuid,
        duty: Duty,
        claim_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What is done once for an alert, by one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// Its message on the alert topic (the notify function from the stream, or the sweep when that failed).
    Delivery,
    /// For an urgent alert left open: its message on the escalation topic (the sweep).
    Escalation,
}

/// A worker's hold on a duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Who holds it: unique per attempt.
    pub id: String,
    /// When it was taken.
    pub at: String,
    /// A claim taken before this is abandoned (its worker died between claiming and recording) and may be taken
    /// over.
    pub stale_before: String,
}

impl Claim {
    /// How long a claim holds: far longer than a worker takes to send one message (the functions time out in under
    /// a minute), so only an abandoned claim is ever taken over.
    pub const LEASE: time::Duration = time::Duration::minutes(2);

    /// A new claim, taken `at`.
    pub fn taken(at: time::OffsetDateTime) -> Self {
        Claim {
            id: Uuid::new_v4().to_string(),
            at: crate::item::format_timestamp(at),
            stale_before: crate::item::format_timestamp(at - Self::LEASE),
        }
    }
}

/// The patients' timelines: each report of an instrument with rules comparing reports, placed in completion
/// order, per trial and patient.
pub trait Timeline: Send + Sync + 'static {
    /// Places an entry (idempotent).
    fn place(&self, entry: &TimelineEntry) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The report `entry` is compared with: the last stored submission completed before it, of another id,
    /// read consistently.
    fn before(
        &self,
        entry: &TimelineEntry,
    ) -> impl Future<Output = Result<Option<TimelineEntry>, StoreError>> + Send;

    /// The entries completed after `entry` that may now be compared with it: every entry up to the second stored
    /// submission after it of another id (conflicting resends among them included).
    fn after(
        &self,
        entry: &TimelineEntry,
    ) -> impl Future<Output = Result<Vec<TimelineEntry>, StoreError>> + Send;

    /// The report an entry stands for.
    fn report(
        &self,
        entry: &TimelineEntry,
    ) -> impl Future<Output = Result<Option<Report>, StoreError>> + Send;
}

/// A trial's flags (repeats, fast device clocks, conflicting resends), for its data managers.
pub trait Flags: Send + Sync + 'static {
    /// A page of a trial's flags, newest first, of one kind or all.
    fn flags(
        &self,
        trial_id: &str,
        kind: Option<FlagKind>,
        limit: usize,
        after: Option<FlagCursor>,
    ) -> impl Future<Output = Result<FlagPage, StoreError>> + Send;
}

/// A position in a trial's flags: the `FlagsByTrial` sort key and the flag's record key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagCursor {
    /// Its `flaggedAt`.
    pub flagged_at: String,
    /// Its partition key.
    pub pk: String,
    /// Its sort key.
    pub sk: String,
}

/// One flag as listed: what it is about and where (the `FlagsByTrial` index's projection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFlag {
    /// What it is about.
    pub kind: FlagKind,
    /// The flagged submission.
    pub submission_id: Uuid,
    /// The patient's partition key (`TRIAL#…#PATIENT#…`).
    pub pk: String,
    /// The record's sort key.
    pub sk: String,
    /// When it was raised.
    pub flagged_at: String,
    /// What to look at, in words (ids, hashes and figures).
    pub detail: String,
}

/// One page of flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlagPage {
    /// The flags, newest first.
    pub flags: Vec<ListedFlag>,
    /// Where the next page starts, when there may be one.
    pub next: Option<FlagCursor>,
}

/// Where a page of a list starts and how long it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// At most this many.
    pub limit: usize,
    /// After this position (the previous page's `next`).
    pub after: Option<Cursor>,
}

/// A position in a trial's alerts: the `AlertsByTrial` sort key and the alert of the last one returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Its `alertSort`.
    pub alert_sort: String,
    /// Its id.
    pub alert_id: Uuid,
}

/// One page of alerts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertPage {
    /// The alerts, newest first.
    pub alerts: Vec<AlertItem>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

/// Patients' enrolments and the surveys due under them (their calendars).
pub trait Enrolments: Send + Sync + 'static {
    /// The patient's enrolment in the trial, read consistently.
    fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> impl Future<Output = Result<Option<EnrolmentItem>, StoreError>> + Send;

    /// The patient's surveys due, read consistently.
    fn occurrences(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> impl Future<Output = Result<Vec<OccurrenceItem>, StoreError>> + Send;

    /// Writes a revision and its audit record all or nothing, unless the enrolment is no longer the one it was made
    /// against (another change came first, or the patient is enrolled already): then nothing, and `false`.
    fn write(
        &self,
        revision: &Revision,
        audit: &AuditItem,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every survey due in a trial, every patient (for compliance and the wave forecast).
    fn calendar(
        &self,
        trial_id: &str,
    ) -> impl Future<Output = Result<Vec<OccurrenceItem>, StoreError>> + Send;
}

/// A trial's record over time: which submissions are excluded from analysis, and the audit trail of every change
/// a person made.
pub trait Records: Send + Sync + 'static {
    /// Whether the patient's submission is stored.
    fn submission_exists(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The submission's exclusion state, read consistently; `None` if nobody ever excluded it.
    fn exclusion(
        &self,
        trial_id: &str,
        submission_id: Uuid,
    ) -> impl Future<Output = Result<Option<ExclusionItem>, StoreError>> + Send;

    /// Writes `next` and `audit` all or nothing, if the submission is stored and `next` replaces the revision that
    /// stands (none for revision 1): else nothing, and `false`.
    fn change_exclusion(
        &self,
        next: &ExclusionItem,
        audit: &AuditItem,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The patient's stored submission (version 1, as the patient sent it), read consistently.
    fn submission(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> impl Future<Output = Result<Option<SubmissionItem>, StoreError>> + Send;

    /// The corrected versions of the patient's submissions (of `submission_id` only, when given), by submission and
    /// version, read consistently.
    fn versions(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Option<Uuid>,
    ) -> impl Future<Output = Result<Vec<VersionItem>, StoreError>> + Send;

    /// Writes `version`, the alerts it newly raises and `audit` all or nothing, if the version it replaces is
    /// stored and no other replaced it first: else nothing, and `false`.
    fn correct(
        &self,
        version: &VersionItem,
        alerts: &[AlertItem],
        audit: &AuditItem,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A page of a trial's audit trail, oldest first, after the record whose sort key is `after`.
    fn audit_trail(
        &self,
        trial_id: &str,
        limit: usize,
        after: Option<String>,
    ) -> impl Future<Output = Result<AuditPage, StoreError>> + Send;

    /// Every exclusion record of a trial (excluded now or restored).
    fn exclusions(
        &self,
        trial_id: &str,
    ) -> impl Future<Output = Result<Vec<ExclusionItem>, StoreError>> + Send;
}

/// One page of an audit trail.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditPage {
    /// The records, oldest first.
    pub records: Vec<AuditItem>,
    /// The sort key the next page starts after, when there may be one.
    pub next: Option<String>,
}

/// The surveys due whose window opened or closed, for the scheduled sweep: each reminder and each missed-survey
/// notice sent once by one sweep, each miss recorded once, however many sweeps overlap.
pub trait Sweep: Send + Sync + 'static {
    /// Surveys due in `shard` whose next step is due at or before `until`, oldest first.
    fn due(
        &self,
        shard: u32,
        until: &str,
    ) -> impl Future<Output = Result<Vec<OccurrenceItem>, StoreError>> + Send;

    /// Takes `notice` of the survey due for `claim`, if it is still owed (not sent, not completed, not withdrawn,
    /// its window unmoved) and not held by a live claim; whether it did.
    fn claim(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim: &Claim,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records `notice` sent at `at` (accepted by its topic), if `claim_id` still holds it; whether it did.
    fn complete(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim_id: &str,
        at: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Hands `notice` back (its topic refused it), if `claim_id` still holds it.
    fn release(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records the survey missed at `at` (its window closed with nothing), unless it was completed, withdrawn,
    /// moved or recorded missed already; whether it did.
    fn record_missed(
        &self,
        item: &OccurrenceItem,
        at: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What the sweep sends about a survey due, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Its window opened: the patient's reminder, on the reminder topic.
    Reminder,
    /// Its window closed with nothing: the site's notice, on the missed-survey topic.
    Missed,
}

/// A message for a topic: ids and times only, never answers.
pub trait Publishable: Send + Sync {
    /// The subject an e-mail subscriber sees.
    fn subject(&self) -> String;
    /// The body, as JSON.
    fn body(&self) -> String;
    /// Attributes subscription filter policies can select on (a trial's team, urgent alerts only…).
    fn attributes(&self) -> Vec<(&'static str, String)>;
}

/// Where messages go: a topic the study team (alerts, missed surveys) or the push provider (reminders) subscribes
/// e-mail, SMS, a queue or a webhook to.
pub trait Topic<M: Publishable = AlertMessage>: Send + Sync + 'static {
    /// Returns once the topic has accepted the message.
    fn publish(&self, message: &M) -> impl Future<Output = Result<(), TopicError>> + Send;
}

/// The topic did not accept a message. The text names the error class, never content.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("topic unavailable: {0}")]
pub struct TopicError(pub String);

/// What a submission write found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Everything was written.
    Written,
    /// Nothing was written: the id is claimed already, by a submission with this content hash.
    Claimed {
        /// The stored submission's content hash.
        content_hash: String,
    },
    /// Nothing was written: this patient's submission of this instrument and timepoint is stored already, under
    /// another id. Write it again as a repeat of that one.
    TimepointTaken {
        /// The first submission.
        first: uuid::Uuid,
    },
    /// Nothing was written: the patient's enrolment changed since the submission was placed on its calendar.
    /// Place it again.
    CalendarChanged,
    /// Nothing was written: these alerts are raised already (a repeat meeting a rule its first submission met).
    /// Write it again without them.
    AlertsRaised {
        /// The alerts that exist.
        existing: Vec<uuid::Uuid>,
    },
}

/// The queue did not take the message. The text names the error class, never content.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum QueueError {
    /// No acknowledgement after the SDK's retries: a later retry can succeed.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// The queue refused this very message (its size or characters): retrying it can never succeed.
    #[error("queue refused the message: {0}")]
    Refused(String),
}

/// A store call failed, after the SDK's retries. The text names the error class, never item content.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("store unavailable: {0}")]
pub struct StoreError(pub String);

impl StoreError {
    /// The error class DynamoDB gives a request it refuses as malformed or inconsistent (a start key outside the
    /// key condition, say): the request's fault, never worth retrying.
    pub const VALIDATION: &'static str = "ValidationException";

    /// Whether the store refused the request itself, rather than failing to serve it.
    pub fn is_refusal(&self) -> bool {
        self.0 == Self::VALIDATION
    }
}
