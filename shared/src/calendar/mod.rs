//! The calendar API's use case: study staff enrol patients on a schedule version, change their anchors or time
//! zone, withdraw them, and read a patient's calendar and the trial's compliance; a patient reads their own
//! schedule.
//!
//! - `POST /v1/trials/{trialId}/enrolments` (scope `epro/enrolment.write`): enrol; `201`, `ETag: "1"`.
//! - `GET /v1/trials/{trialId}/enrolments/{patientId}` (`epro/enrolment.read`): the enrolment, its history and its
//!   calendar.
//! - `PATCH /v1/trials/{trialId}/enrolments/{patientId}` (write, `If-Match` optional): new anchors or zone, with a
//!   reason. `POST …/withdrawal` (write): withdraw, with a reason. A change made against an older revision is `412`;
//!   one that meets a concurrent change is `409`.
//! - `GET /v1/trials/{trialId}/compliance` (read): expected, on time, early, late, missed, pending; by timepoint,
//!   by instrument, per patient.
//! - `GET /v1/patients/me/schedule[?trialId=]` (a patient's token): due now, next, missed, done.
//!
//! The API's authorizer checks each staff route's scope; this checks it again, and the trial, and fails closed on
//! anything missing. Changes are logged with ids, who and what kind of change: never the values.
//!
//! - `compliance`: the figures; `view`: what the API shows; `error`: each refusal and its status; `config`: the
//!   environment and who may call what.

pub mod compliance;
mod config;
mod error;
#[cfg(test)]
mod tests;
mod view;

use http::StatusCode;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tracing::info;

use crate::enrolment::{
    Change, ChangeRequest, EnrolRequest, Revision, WithdrawRequest, enrol, revise,
};
use crate::identity::{Claims, Staff};
use crate::item::{Actor, AuditItem, format_timestamp};
use crate::ports::Enrolments;
use crate::schedule::Schedules;

pub use compliance::{Compliance, Figures, Standing};
pub use config::{CalendarConfig, CalendarPolicy};
pub use error::CalendarApiError;
pub use view::{EnrolmentView, OccurrenceView, PatientSchedule};

/// The largest body a change may have.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarRoute<'a> {
    /// Enrol a patient (the body says who, on which schedule).
    Enrol {
        /// The trial.
        trial_id: &'a str,
    },
    /// Read an enrolment and its calendar.
    Read {
        /// The trial.
        trial_id: &'a str,
        /// The patient.
        patient_id: &'a str,
    },
    /// Change anchors or time zone.
    Change {
        /// The trial.
        trial_id: &'a str,
        /// The patient.
        patient_id: &'a str,
    },
    /// Withdraw.
    Withdraw {
        /// The trial.
        trial_id: &'a str,
        /// The patient.
        patient_id: &'a str,
    },
    /// A trial's compliance.
    Compliance {
        /// The trial.
        trial_id: &'a str,
    },
    /// The calling patient's schedule.
    MySchedule {
        /// `trialId`, needed when the token names several trials.
        trial_id: Option<&'a str>,
    },
}

/// One request.
#[derive(Debug)]
pub struct CalendarRequest<'a> {
    /// The verified claims, if an authorizer ran.
    pub claims: Option<Claims<'a>>,
    /// What it asks for.
    pub route: CalendarRoute<'a>,
    /// The body (enrol, change, withdraw).
    pub body: &'a [u8],
    /// `If-Match`: the revision a change was made against.
    pub if_match: Option<&'a str>,
    /// API Gateway's request id, for the logs.
    pub request_id: String,
    /// Now.
    pub now: OffsetDateTime,
}

/// The HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarReply {
    /// The status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Value,
    /// The enrolment's revision, as an `ETag`.
    pub etag: Option<String>,
}

/// The calendar API over an enrolment store.
pub struct CalendarService<E> {
    store: E,
    policy: CalendarPolicy,
    schedules: &'static Schedules,
}

impl<E: Enrolments> CalendarService<E> {
    /// The service over `store`, `policy` naming who may call what, with the schedules this build embeds.
    pub fn new(store: E, policy: CalendarPolicy, schedules: &'static Schedules) -> Self {
        CalendarService {
            store,
            policy,
            schedules,
        }
    }

    /// Answers a request; every refusal is logged with ids and its reason.
    pub async fn answer(&self, request: CalendarRequest<'_>) -> CalendarReply {
        let request_id = request.request_id.clone();
        match self.route(request).await {
            Ok(reply) => reply,
            Err(error) => {
                error.log(&request_id);
                CalendarReply {
                    status: error.status(),
                    body: error.body(),
                    etag: None,
                }
            }
        }
    }

    async fn route(&self, request: CalendarRequest<'_>) -> Result<CalendarReply, CalendarApiError> {
        let now = format_timestamp(request.now);
        let instant = Timestamp::from_second(request.now.unix_timestamp())
            .map_err(|_| CalendarApiError::Unavailable("the clock is out of range".into()))?;
        match request.route {
            CalendarRoute::MySchedule { trial_id } => {
                let patient = self
                    .policy
                    .patient
                    .patient(request.claims, request.now)
                    .map_err(CalendarApiError::Unauthenticated)?;
                let trial_id = match (trial_id, patient.trials.as_slice()) {
                    (Some(trial), trials) if trials.iter().any(|t| t == trial) => trial.to_owned(),
                    (Some(_), _) => {
                        return Err(CalendarApiError::Forbidden(
                            "the token does not name this trial",
                        ));
                    }
                    (None, [only]) => only.clone(),
                    (None, _) => {
                        return Err(CalendarApiError::Invalid {
                            field: "trialId".into(),
                            problem: "is needed: the token names several trials".into(),
                        });
                    }
                };
                let (enrolment, occurrences) = self.current(&trial_id, &patient.id).await?;
                let schedule = PatientSchedule::of(&enrolment, &occurrences, &now);
                Ok(ok(json!(schedule), None))
            }
            CalendarRoute::Compliance { trial_id } => {
                self.staff(&request, trial_id, &self.policy.read_scope)?;
                let calendar = self.store.calendar(trial_id).await?;
                let figures = compliance::compliance(&calendar, &now);
                let mut body = json!(figures);
                body["trialId"] = json!(trial_id);
                body["asOf"] = json!(now);
                Ok(ok(body, None))
            }
            CalendarRoute::Read {
                trial_id,
                patient_id,
            } => {
                self.staff(&request, trial_id, &self.policy.read_scope)?;
                let (enrolment, occurrences) = self.current(trial_id, patient_id).await?;
                let etag = etag(enrolment.revision);
                Ok(ok(
                    json!(EnrolmentView::of(&enrolment, &occurrences, &now)),
                    Some(etag),
                ))
            }
            CalendarRoute::Enrol { trial_id } => {
                let staff = self.staff(&request, trial_id, &self.policy.write_scope)?;
                let body: EnrolRequest = parse(request.body)?;
                let revision = enrol(trial_id, body, &staff.id, instant, self.schedules)?;
                let audit = AuditItem::of_enrolment(&revision.enrolment, &self.actor(&staff), &now);
                if !self.store.write(&revision, &audit).await? {
                    return Err(CalendarApiError::Conflict(
                        "the patient is enrolled in this trial already",
                    ));
                }
                let reply = self.written(revision, &[], &now, &request.request_id);
                Ok(CalendarReply {
                    status: StatusCode::CREATED,
                    ..reply
                })
            }
            CalendarRoute::Change {
                trial_id,
                patient_id,
            } => {
                let staff = self.staff(&request, trial_id, &self.policy.write_scope)?;
                let body: ChangeRequest = parse(request.body)?;
                self.change(
                    trial_id,
                    patient_id,
                    Change::Terms(body),
                    &staff,
                    instant,
                    &request,
                )
                .await
            }
            CalendarRoute::Withdraw {
                trial_id,
                patient_id,
            } => {
                let staff = self.staff(&request, trial_id, &self.policy.write_scope)?;
                let body: WithdrawRequest = parse(request.body)?;
                self.change(
                    trial_id,
                    patient_id,
                    Change::Withdraw(body),
                    &staff,
                    instant,
                    &request,
                )
                .await
            }
        }
    }

    /// The staff member calling, if they may use `scope` on `trial_id`.
    fn staff(
        &self,
        request: &CalendarRequest<'_>,
        trial_id: &str,
        scope: &str,
    ) -> Result<Staff, CalendarApiError> {
        let staff = self
            .policy
            .staff
            .staff(request.claims, request.now)
            .map_err(CalendarApiError::Unauthenticated)?;
        if !staff.may(scope) {
            return Err(CalendarApiError::Forbidden(
                "the token does not grant this route's scope",
            ));
        }
        if !staff.sees(trial_id) {
            return Err(CalendarApiError::Forbidden(
                "the token does not name this trial",
            ));
        }
        Ok(staff)
    }

    async fn current(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<(crate::item::EnrolmentItem, Vec<crate::item::OccurrenceItem>), CalendarApiError>
    {
        // A path id that is no patient id (a `#` would reach into the key) names no enrolment.
        if !crate::instrument::check::is_id(patient_id) {
            return Err(CalendarApiError::NotFound(
                "no enrolment of this patient in this trial",
            ));
        }
        let enrolment =
            self.store
                .enrolment(trial_id, patient_id)
                .await?
                .ok_or(CalendarApiError::NotFound(
                    "no enrolment of this patient in this trial",
                ))?;
        let occurrences = self.store.occurrences(trial_id, patient_id).await?;
        Ok((enrolment, occurrences))
    }

    /// `staff` acting under the scope that lets them change enrolments.
    fn actor(&self, staff: &Staff) -> Actor {
        Actor {
            id: staff.id.clone(),
            role: self.policy.write_scope.clone(),
        }
    }

    async fn change(
        &self,
        trial_id: &str,
        patient_id: &str,
        change: Change,
        staff: &Staff,
        now: Timestamp,
        request: &CalendarRequest<'_>,
    ) -> Result<CalendarReply, CalendarApiError> {
        let (current, occurrences) = self.current(trial_id, patient_id).await?;
        // The change is made against the revision the caller read, when they say which (checked against this very
        // read, which the write is conditional on).
        if let Some(expected) = if_match(request.if_match)?.filter(|e| *e != current.revision) {
            return Err(CalendarApiError::Stale {
                current: current.revision,
                expected,
            });
        }
        let revision = revise(
            &current,
            &occurrences,
            change,
            &staff.id,
            now,
            self.schedules,
        )?;
        let audit = AuditItem::of_enrolment(
            &revision.enrolment,
            &self.actor(staff),
            &format_timestamp(request.now),
        );
        if !self.store.write(&revision, &audit).await? {
            return Err(CalendarApiError::Conflict(
                "the enrolment or one of its surveys changed meanwhile; read it again",
            ));
        }
        Ok(self.written(
            revision,
            &occurrences,
            &format_timestamp(request.now),
            &request.request_id,
        ))
    }

    /// The reply to a change written: the enrolment as it now stands, from what was read before (`before`) and what
    /// the change wrote (no second read: the change is stored whatever a read would do).
    fn written(
        &self,
        revision: Revision,
        before: &[crate::item::OccurrenceItem],
        now: &str,
        request_id: &str,
    ) -> CalendarReply {
        let enrolment = revision.enrolment;
        let change = enrolment
            .history
            .last()
            .map(|h| h.change.as_str())
            .unwrap_or_default();
        let by = enrolment
            .history
            .last()
            .map(|h| h.by.as_str())
            .unwrap_or_default();
        // The request, the trial and the kind of change, never the patient (ids of people stay out of logs, as on
        // every other path): the request id leads to the record, which holds the anchors, zone and history.
        info!(
            request_id,
            trial_id = enrolment.trial_id,
            revision = enrolment.revision,
            by,
            change,
            surveys_written = revision.occurrences.len(),
            "enrolment changed"
        );
        let mut occurrences: std::collections::BTreeMap<&str, &crate::item::OccurrenceItem> =
            before.iter().map(|o| (o.sk.as_str(), o)).collect();
        for write in &revision.occurrences {
            occurrences.insert(write.item().sk.as_str(), write.item());
        }
        let occurrences: Vec<crate::item::OccurrenceItem> =
            occurrences.into_values().cloned().collect();
        ok(
            json!(EnrolmentView::of(&enrolment, &occurrences, now)),
            Some(etag(enrolment.revision)),
        )
    }
}

fn ok(body: Value, etag: Option<String>) -> CalendarReply {
    CalendarReply {
        status: StatusCode::OK,
        body,
        etag,
    }
}

fn etag(revision: u32) -> String {
    format!("\"{revision}\"")
}

/// The revision an `If-Match` names (`"3"`), none for `*` or no header. ETags here are strong and If-Match
/// compares strongly (RFC 9110): a weak tag (`W/"3"`) never matches, so it is answered 412 like a stale one.
fn if_match(header: Option<&str>) -> Result<Option<u32>, CalendarApiError> {
    let Some(value) = header.map(str::trim).filter(|v| *v != "*") else {
        return Ok(None);
    };
    let revision = |tag: &str| tag.trim_matches('"').parse::<u32>().ok();
    match value.strip_prefix("W/") {
        Some(_) => Err(CalendarApiError::WeakTag),
        None => revision(value)
            .map(Some)
            .ok_or_else(|| CalendarApiError::Invalid {
                field: "If-Match".into(),
                problem: "must be the ETag of the enrolment read (\"3\")".into(),
            }),
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, CalendarApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(CalendarApiError::Invalid {
            field: "body".into(),
            problem: format!("is larger than {MAX_BODY_BYTES} bytes"),
        });
    }
    serde_json::from_slice(body).map_err(|e| CalendarApiError::Invalid {
        field: "body".into(),
        // serde's message names the field and may quote the value sent: it goes back to the caller who sent it, and
        // is never logged (the log names the field only).
        problem: format!("is not the expected JSON: {e}"),
    })
}
