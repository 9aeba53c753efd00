//! The staff use case: study staff list their trials' alerts and acknowledge them; data managers list their trials'
//! flags (repeats, fast device clocks, conflicting resends).
//!
//! `GET /v1/trials/{trialId}/alerts?status=open|acknowledged&limit=&cursor=`,
//! `POST /v1/alerts/{alertId}/acknowledgement` and `GET /v1/trials/{trialId}/flags?kind=&limit=&cursor=`. The API's authorizer checks each route's scope; this checks it
//! again, and that the trial is one of the caller's, and fails closed on anything missing. Acknowledging twice is
//! harmless: the first acknowledgement (who, when) stands.
//!
//! A site investigator corrects a patient's answers as a new version (`corrections`), excludes a submission from
//! analysis and restores it, and a monitor lists the trial's audit trail (`records`).
//!
//! - `error`: each refusal and its status; `view`: an alert and a flag as the API shows them, and the cursors;
//!   `records`: exclusions and the audit trail; `config`: the environment.

mod config;
mod corrections;
#[cfg(test)]
mod corrections_tests;
mod error;
mod records;
#[cfg(test)]
mod records_tests;
#[cfg(test)]
mod tests;
mod view;

use http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tracing::info;
use uuid::Uuid;

use crate::identity::{Staff, StaffPolicy};
use crate::instrument::Catalogue;
use crate::item::{Actor, AlertStatus, AuditItem, FlagKind, format_timestamp};
use crate::ports::{Alerts, Flags, Page, Records};

pub use config::StaffConfig;
pub use corrections::Correction;
pub use error::StaffError;
pub use records::{Exclusion, audit_view, decode_audit_cursor, encode_audit_cursor};
pub use view::{
    AlertView, FlagView, decode_cursor, decode_flag_cursor, encode_cursor, encode_flag_cursor,
};

/// Alerts or flags per page when the client does not say.
pub const DEFAULT_PAGE: usize = 50;
/// The most alerts or flags per page.
pub const MAX_PAGE: usize = 200;
/// How often an acknowledgement that met a concurrent update of its alert is made again before the API answers 503.
const ACKNOWLEDGE_ATTEMPTS: usize = 3;

/// What a staff request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffRoute<'a> {
    /// A page of a trial's alerts.
    List {
        /// The trial.
        trial_id: &'a str,
        /// `status`: `open`, `acknowledged`, or every status when absent.
        status: Option<&'a str>,
        /// `limit`: alerts per page.
        limit: Option<&'a str>,
        /// `cursor`: the previous page's `next`.
        cursor: Option<&'a str>,
    },
    /// Acknowledging one alert.
    Acknowledge {
        /// The alert, as the path gives it.
        alert_id: &'a str,
    },
    /// A page of a trial's flags.
    Flags {
        /// The trial.
        trial_id: &'a str,
        /// `kind`: a [`FlagKind`] name, or every kind when absent.
        kind: Option<&'a str>,
        /// `limit`: flags per page.
        limit: Option<&'a str>,
        /// `cursor`: the previous page's `next`.
        cursor: Option<&'a str>,
    },
    /// Excluding a submission from analysis, or restoring it.
    Exclusion(Exclusion<'a>),
    /// Where a submission stands in analysis.
    ExclusionState {
        /// The trial.
        trial_id: &'a str,
        /// The submission, as the path gives it.
        submission_id: &'a str,
    },
    /// Correcting a submission's answers as a new version.
    Correction(Correction<'a>),
    /// A submission's current version, or every version.
    Versions {
        /// The trial.
        trial_id: &'a str,
        /// The submission, as the path gives it.
        submission_id: &'a str,
        /// `patientId`: the submission's patient.
        patient_id: Option<&'a str>,
        /// `all`: `true` for every version.
        all: Option<&'a str>,
    },
    /// A page of a trial's audit trail.
    Audit {
        /// The trial.
        trial_id: &'a str,
        /// `limit`: records per page.
        limit: Option<&'a str>,
        /// `cursor`: the previous page's `next`.
        cursor: Option<&'a str>,
    },
}

/// One staff request.
#[derive(Debug)]
pub struct StaffRequest<'a> {
    /// The verified staff member, or why there is none.
    pub caller: Result<Staff, String>,
    /// What they ask for.
    pub route: StaffRoute<'a>,
    /// API Gateway's request id, for the logs.
    pub request_id: String,
}

/// The HTTP answer: a status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffReply {
    /// The status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Value,
    /// The `ETag` of the record answered, when it has revisions.
    pub etag: Option<String>,
}

impl StaffReply {
    /// The answer to a route the template does not send to the staff API.
    pub fn no_such_route() -> Self {
        StaffReply {
            status: StatusCode::NOT_FOUND,
            body: json!({ "error": "not_found", "message": "no such route" }),
            etag: None,
        }
    }
}

/// The staff API over the alert and flag store and the trial's records.
pub struct StaffService<A, R> {
    alerts: A,
    records: R,
    policy: StaffPolicy,
    catalogue: &'static Catalogue,
}

impl<A: Alerts + Flags, R: Records> StaffService<A, R> {
    /// The service over `alerts` and `records`, with `policy` naming the scopes each route needs; corrections are
    /// judged against `catalogue`.
    pub fn new(alerts: A, records: R, policy: StaffPolicy, catalogue: &'static Catalogue) -> Self {
        StaffService {
            alerts,
            records,
            policy,
            catalogue,
        }
    }

    /// Answers a request; every refusal is logged with ids and its reason.
    pub async fn answer(&self, request: StaffRequest<'_>) -> StaffReply {
        let request_id = request.request_id.clone();
        match self.route(request).await {
            Ok((body, etag)) => StaffReply {
                status: StatusCode::OK,
                body,
                etag,
            },
            Err(error) => {
                error.log(&request_id);
                StaffReply {
                    status: error.status(),
                    body: error.body(),
                    etag: None,
                }
            }
        }
    }

    async fn route(
        &self,
        request: StaffRequest<'_>,
    ) -> Result<(Value, Option<String>), StaffError> {
        let staff = request.caller.map_err(StaffError::Unauthenticated)?;
        match request.route {
            StaffRoute::List {
                trial_id,
                status,
                limit,
                cursor,
            } => self.list(&staff, trial_id, status, limit, cursor).await,
            StaffRoute::Acknowledge { alert_id } => self.acknowledge(&staff, alert_id).await,
            StaffRoute::Flags {
                trial_id,
                kind,
                limit,
                cursor,
            } => self.flags(&staff, trial_id, kind, limit, cursor).await,
            StaffRoute::Exclusion(exclusion) => return self.exclude(&staff, exclusion).await,
            StaffRoute::ExclusionState {
                trial_id,
                submission_id,
            } => {
                return self.exclusion_state(&staff, trial_id, submission_id).await;
            }
            StaffRoute::Correction(correction) => self.correct(&staff, correction).await,
            StaffRoute::Versions {
                trial_id,
                submission_id,
                patient_id,
                all,
            } => {
                self.versions(&staff, (trial_id, submission_id), patient_id, all)
                    .await
            }
            StaffRoute::Audit {
                trial_id,
                limit,
                cursor,
            } => self.audit(&staff, trial_id, limit, cursor).await,
        }
        .map(|body| (body, None))
    }

    async fn list(
        &self,
        staff: &Staff,
        trial_id: &str,
        status: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Value, StaffError> {
        authorise(
            staff,
            &[&self.policy.read_scope],
            "the token does not grant reading alerts",
            Some(trial_id),
        )?;
        let status = match status {
            None => None,
            Some("open") => Some(AlertStatus::Open),
            Some("acknowledged") => Some(AlertStatus::Acknowledged),
            Some(_) => return Err(bad("status", "must be open or acknowledged")),
        };
        let limit = page_size(limit)?;
        let after = match cursor {
            None => None,
            Some(text) => {
                Some(decode_cursor(text, status).ok_or(bad(
                    "cursor",
                    "is not a cursor this API gave for this list (a cursor belongs to the status it was issued for)",
                ))?)
            }
        };
        let page = self
            .alerts
            .list(trial_id, status, Page { limit, after })
            .await
            .map_err(StaffError::from)?;
        let alerts: Vec<AlertView> = page.alerts.into_iter().map(AlertView::from).collect();
        Ok(json!({
            "trialId": trial_id,
            "status": status.map(AlertStatus::as_str),
            "alerts": alerts,
            "next": page.next.as_ref().map(|next| encode_cursor(next, status)),
        }))
    }

    async fn acknowledge(&self, staff: &Staff, alert_id: &str) -> Result<Value, StaffError> {
        authorise(
            staff,
            &[&self.policy.acknowledge_scope],
            "the token does not grant acknowledging alerts",
            None,
        )?;
        let alert_id: Uuid = alert_id
            .parse()
            .map_err(|_| StaffError::NotFound("no such alert"))?;
        let alert = self
            .alerts
            .alert(alert_id)
            .await
            .map_err(StaffError::from)?
            // Another trial's alert is as absent as one that does not exist: its existence is not disclosed.
            .filter(|alert| staff.sees(&alert.trial_id))
            .ok_or(StaffError::NotFound("no such alert"))?;
        let actor = Actor {
            id: staff.id.clone(),
            role: self.policy.acknowledge_scope.clone(),
        };
        // The acknowledgement and its audit record are one transaction, cancelled without writing when it meets a
        // concurrent update of the alert (its delivery or escalation being recorded): then it is made again, and
        // never answered 200 unless the alert stands acknowledged.
        for _ in 0..ACKNOWLEDGE_ATTEMPTS {
            let at = format_timestamp(OffsetDateTime::now_utc());
            let audit = AuditItem::of_acknowledgement(
                &alert.trial_id,
                &alert.patient_id,
                &alert.alert_id,
                &actor,
                &at,
            );
            let acknowledged = self
                .alerts
                .acknowledge(&alert, &audit)
                .await
                .map_err(StaffError::from)?;
            if acknowledged.status == AlertStatus::Acknowledged {
                info!(
                    alert_id = %alert_id,
                    trial_id = acknowledged.trial_id,
                    first = acknowledged.acknowledged_at.as_deref() == Some(at.as_str()),
                    "alert acknowledged"
                );
                return Ok(json!(AlertView::from(acknowledged)));
            }
        }
        Err(StaffError::Unavailable(
            "the alert kept changing while it was acknowledged".into(),
        ))
    }
}

impl<A: Alerts + Flags, R: Records> StaffService<A, R> {
    async fn flags(
        &self,
        staff: &Staff,
        trial_id: &str,
        kind: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Value, StaffError> {
        authorise(
            staff,
            &[&self.policy.flags_scope],
            "the token does not grant reading flags",
            Some(trial_id),
        )?;
        let kind = match kind {
            None => None,
            Some(name) => Some(
                FlagKind::named(name)
                    .ok_or(bad("kind", "must be repeat, clock-ahead, conflict, out-of-window, unscheduled or after-withdrawal"))?,
            ),
        };
        let limit = page_size(limit)?;
        let after = match cursor {
            None => None,
            // A cursor is a position in one trial's flags: another trial's is refused, never followed.
            Some(text) => Some(
                decode_flag_cursor(text)
                    .filter(|c| c.pk.starts_with(&format!("TRIAL#{trial_id}#PATIENT#")))
                    .ok_or(bad("cursor", "is not a cursor this API gave for this list"))?,
            ),
        };
        let page = self
            .alerts
            .flags(trial_id, kind, limit, after)
            .await
            .map_err(StaffError::from)?;
        let flags: Vec<FlagView> = page.flags.into_iter().map(FlagView::from).collect();
        Ok(json!({
            "trialId": trial_id,
            "kind": kind.map(FlagKind::as_str),
            "flags": flags,
            "next": page.next.as_ref().map(encode_flag_cursor),
        }))
    }
}

/// Refuses `staff` unless their token grants one of `scopes` (`denied` says what it does not grant) and, for a
/// route of one trial, names that trial.
fn authorise(
    staff: &Staff,
    scopes: &[&String],
    denied: &'static str,
    trial_id: Option<&str>,
) -> Result<(), StaffError> {
    if !scopes.iter().any(|scope| staff.may(scope)) {
        return Err(StaffError::Forbidden(denied));
    }
    if trial_id.is_some_and(|trial| !staff.sees(trial)) {
        return Err(StaffError::Forbidden("the token does not name this trial"));
    }
    Ok(())
}

impl<A, R> StaffService<A, R> {
    /// Refuses `staff` unless their token grants changing `trial_id`'s data (an exclusion, a correction).
    fn may_correct(&self, staff: &Staff, trial_id: &str) -> Result<(), StaffError> {
        authorise(
            staff,
            &[&self.policy.correct_scope],
            "the token does not grant changing a trial's data",
            Some(trial_id),
        )
    }
}

/// The page size a request asks for, [`DEFAULT_PAGE`] when it does not say.
fn page_size(limit: Option<&str>) -> Result<usize, StaffError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or(bad("limit", "must be a whole number from 1 to 200")),
    }
}

fn bad(field: &'static str, problem: &'static str) -> StaffError {
    StaffError::BadRequest { field, problem }
}

/// The submission a path names: one that is not an id names no submission.
fn named_submission(text: &str) -> Result<Uuid, StaffError> {
    text.parse()
        .map_err(|_| StaffError::NotFound("no such submission"))
}
