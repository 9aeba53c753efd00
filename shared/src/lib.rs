//! ePRO intake: the rules the Lambda functions share, behind small ports.
//!
//! - [`submission`]: the v1 API contract and its validation.
//! - [`instrument`]: the questionnaire catalogue (FHIR `Questionnaire`s, versioned, embedded), answers judged
//!   against the version filled in, scores.
//! - [`alert`]: clinical alert rules (data beside the instruments), evaluated when a submission is first stored.
//! - [`fhir`]: FHIR R4 at the edge: `Questionnaire`s served, `QuestionnaireResponse`s in and out, `OperationOutcome`.
//! - [`envelope`]: the versioned queue message.
//! - [`notify`]: the notify function's use case: each new alert in the table, one message on the alert topic.
//! - [`escalate`]: the escalate function's use case, a sweep every minute: alerts the stream could not deliver,
//!   delivered once; urgent alerts left open, escalated once.
//! - [`item`]: the DynamoDB layout.
//! - [`submit`]: the submit function's use case (identity, refusals and their status codes, enqueue).
//! - [`staff`]: the staff API's use case: study staff list and acknowledge their trials' alerts.
//! - [`process`]: the process function's use case (bounded concurrency, exactly-once writes, partial batch failures).
//! - [`timeline`]: the timeline function's use case: reports compared with the one completed before, in completion
//!   order, whatever order they arrive in.
//! - [`enrolment`]: a patient enrolled on a schedule version; anchors and time zone changed, withdrawal, each with
//!   who, when and why.
//! - [`schedule`]: schedules (FHIR `PlanDefinition`s beside the instruments), each patient's calendar in local
//!   time, and where a submission sits on it.
//! - [`reminders`]: the reminders function's use case, a sweep every minute: a reminder when a survey's window
//!   opens, a miss recorded (and the site told) when one closes with nothing, each once.
//! - [`calendar`]: the calendar API's use case: staff enrol patients and change or withdraw them; compliance per
//!   trial; a patient's own schedule.
//! - [`ports`]: `Queue`, `Store`, `Alerts`, `Timeline`, `Enrolments`, `Sweep` and `Topic`, implemented by [`aws`] with the SDKs (and in
//!   memory by `testing`).
//! - [`identity`]: who is calling, from the verified token's claims, failing closed.
//! - [`config`]: reading a function's environment, refusing bad values at start.
//! - [`logging`]: JSON logs at the configured level, the libraries that see whole events capped at INFO.
//! - [`metrics`]: what the functions count, as CloudWatch embedded metric format in their logs.
//! - [`invariants`]: what must hold for any input; checked by the fuzz targets and the corpus replay.
#![warn(missing_docs)]

pub mod alert;
pub mod aws;
pub mod calendar;
pub mod config;
pub mod enrolment;
pub mod envelope;
pub mod escalate;
pub mod fhir;
pub mod identity;
pub mod instrument;
pub mod invariants;
pub mod item;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod ports;
pub mod process;
pub mod reminders;
pub mod schedule;
pub mod staff;
pub mod submission;
pub mod submit;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod timeline;
