//! The staff use case: study staff list their trials' alerts and acknowledge them; data managers list their trials'
//! flags (repeats, fast device clocks, conflicting resends).
//!
//! `GET /v1/trials/{trialId}/alerts?status=open|acknowledged&limit=&cursor=`,
//! `POST /v1/alerts/{alertId}/acknowledgement` and `GET /v1/trials/{trialId}/flags?kind=&limit=&cursor=`. The API's authorizer checks each route's scope; this checks it
//! again, and that the trial is one of the caller's, and fails closed on anything missing. Acknowledging twice is
//! harmless: the first acknowledgement (who, when) stands.
//!
//! - `error`: each refusal and its status; `view`: an alert and a flag as the API shows them, and the cursors;
//!   `config`: the environment.

mod config;
mod error;
#[cfg(test)]
mod tests;
mod view;

use http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tracing::info;
use uuid::Uuid;

use crate::identity::{Staff, StaffPolicy};
use crate::item::{AlertStatus, FlagKind, format_timestamp};
use crate::ports::{Alerts, Flags, Page};

pub use config::StaffConfig;
pub use error::StaffError;
pub use view::{
    AlertView, FlagView, decode_cursor, decode_flag_cursor, encode_cursor, encode_flag_cursor,
};

/// Alerts or flags per page when the client does not say.
pub const DEFAULT_PAGE: usize = 50;
/// The most alerts or flags per page.
pub const MAX_PAGE: usize = 200;

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
}

/// The staff API over an alert and flag store.
pub struct StaffService<A> {
    alerts: A,
    policy: StaffPolicy,
}

impl<A: Alerts + Flags> StaffService<A> {
    /// The service over `alerts`, with `policy` naming the scopes each route needs.
    pub fn new(alerts: A, policy: StaffPolicy) -> Self {
        StaffService { alerts, policy }
    }

    /// Answers a request; every refusal is logged with ids and its reason.
    pub async fn answer(&self, request: StaffRequest<'_>) -> StaffReply {
        let request_id = request.request_id.clone();
        match self.route(request).await {
            Ok(body) => StaffReply {
                status: StatusCode::OK,
                body,
            },
            Err(error) => {
                error.log(&request_id);
                StaffReply {
                    status: error.status(),
                    body: error.body(),
                }
            }
        }
    }

    async fn route(&self, request: StaffRequest<'_>) -> Result<Value, StaffError> {
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
        }
    }

    async fn list(
        &self,
        staff: &Staff,
        trial_id: &str,
        status: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Value, StaffError> {
        if !staff.may(&self.policy.read_scope) {
            return Err(StaffError::Forbidden(
                "the token does not grant reading alerts",
            ));
        }
        if !staff.sees(trial_id) {
            return Err(StaffError::Forbidden("the token does not name this trial"));
        }
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
        if !staff.may(&self.policy.acknowledge_scope) {
            return Err(StaffError::Forbidden(
                "the token does not grant acknowledging alerts",
            ));
        }
        let alert_id: Uuid = alert_id.parse().map_err(|_| StaffError::NotFound)?;
        let alert = self
            .alerts
            .alert(alert_id)
            .await
            .map_err(StaffError::from)?
            // Another trial's alert is as absent as one that does not exist: its existence is not disclosed.
            .filter(|alert| staff.sees(&alert.trial_id))
            .ok_or(StaffError::NotFound)?;
        let at = format_timestamp(OffsetDateTime::now_utc());
        let acknowledged = self
            .alerts
            .acknowledge(&alert, &staff.id, &at)
            .await
            .map_err(StaffError::from)?;
        info!(
            alert_id = %alert_id,
            trial_id = acknowledged.trial_id,
            first = acknowledged.acknowledged_at.as_deref() == Some(at.as_str()),
            "alert acknowledged"
        );
        Ok(json!(AlertView::from(acknowledged)))
    }
}

impl<A: Alerts + Flags> StaffService<A> {
    async fn flags(
        &self,
        staff: &Staff,
        trial_id: &str,
        kind: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Value, StaffError> {
        if !staff.may(&self.policy.flags_scope) {
            return Err(StaffError::Forbidden(
                "the token does not grant reading flags",
            ));
        }
        if !staff.sees(trial_id) {
            return Err(StaffError::Forbidden("the token does not name this trial"));
        }
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
