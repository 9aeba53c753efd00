//! The calendar API as staff and patients use it: enrol, read, change with a reason (and a stale change refused),
//! withdraw; compliance exact; a patient's own schedule; every identity check failing closed.

use std::collections::HashMap;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::*;
use crate::identity::{Claims, ENROLMENT_WRITE_SCOPE};
use crate::item::AuditAction;
use crate::ports::Enrolments;
use crate::schedule::Timing;
use crate::testing::memory::MemoryStore;

fn at(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

const ENROLLED: &str = "2026-12-04T10:00:00Z";

fn claims(pairs: &[(&str, &str)], now: OffsetDateTime) -> HashMap<String, String> {
    let issued = now.unix_timestamp() - 60;
    let mut claims: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    claims.insert("iat".into(), issued.to_string());
    claims.insert("exp".into(), (issued + 900).to_string());
    claims
}

fn nurse(now: OffsetDateTime) -> HashMap<String, String> {
    claims(
        &[
            ("sub", "nurse-1"),
            ("trial_id", "T-1"),
            ("scope", "epro/enrolment.write epro/enrolment.read"),
        ],
        now,
    )
}

struct Api {
    store: MemoryStore,
    service: CalendarService<MemoryStore>,
}

impl Api {
    fn new() -> Self {
        let store = MemoryStore::default();
        let service = CalendarService::new(
            store.clone(),
            CalendarPolicy::default(),
            Schedules::embedded().unwrap(),
        );
        Api { store, service }
    }

    async fn call(
        &self,
        claims: &HashMap<String, String>,
        route: CalendarRoute<'_>,
        body: Value,
        if_match: Option<&str>,
        now: &str,
    ) -> (u16, Value, Option<String>) {
        let body = body.to_string();
        let reply = self
            .service
            .answer(CalendarRequest {
                claims: Some(Claims::new(claims)),
                route,
                body: body.as_bytes(),
                if_match,
                request_id: "req-1".into(),
                now: at(now),
            })
            .await;
        (reply.status.as_u16(), reply.body, reply.etag)
    }

    async fn enrol(&self, patient: &str, zone: &str) -> (u16, Value, Option<String>) {
        let body = json!({ "patientId": patient, "scheduleId": "burst-drill", "timeZone": zone, "reason": "consented" });
        self.call(
            &nurse(at(ENROLLED)),
            CalendarRoute::Enrol { trial_id: "T-1" },
            body,
            None,
            ENROLLED,
        )
        .await
    }
}

#[tokio::test]
async fn a_nurse_enrols_a_patient_and_reads_each_window_in_local_time_and_utc() {
    let api = Api::new();
    let (status, body, etag) = api.enrol("P-1", "Europe/Berlin").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(body["history"][0]["by"], "nurse-1");
    let calendar = body["calendar"].as_array().unwrap();
    assert_eq!(calendar.len(), 3);
    assert_eq!(calendar[0]["timepoint"], "check-in");
    assert_eq!(calendar[0]["status"], "upcoming");
    assert_eq!(calendar[0]["opens"], "2026-12-04T10:01:00.000Z");
    assert_eq!(
        calendar[0]["opensLocal"],
        "2026-12-04T11:01:00+01:00[Europe/Berlin]"
    );
    let read = CalendarRoute::Read {
        trial_id: "T-1",
        patient_id: "P-1",
    };
    let (status, again, _) = api
        .call(
            &nurse(at(ENROLLED)),
            read,
            Value::Null,
            None,
            "2026-12-04T10:01:30Z",
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["calendar"][0]["status"], "open");
}

#[tokio::test]
async fn enrolling_a_patient_twice_is_a_conflict_and_the_first_enrolment_stands() {
    let api = Api::new();
    api.enrol("P-1", "Europe/Berlin").await;
    let (status, body, _) = api.enrol("P-1", "Asia/Tokyo").await;
    assert_eq!(status, 409, "{body}");
    let stored = api.store.enrolment("T-1", "P-1").await.unwrap().unwrap();
    assert_eq!(stored.terms[0].time_zone, "Europe/Berlin");
}

#[tokio::test]
async fn a_change_needs_a_reason_and_one_made_against_an_older_revision_is_refused() {
    let api = Api::new();
    api.enrol("P-1", "Europe/Berlin").await;
    let change = |zone: &str, reason: Option<&str>| {
        let mut body = json!({ "timeZone": zone });
        if let Some(reason) = reason {
            body["reason"] = json!(reason);
        }
        body
    };
    let route = CalendarRoute::Change {
        trial_id: "T-1",
        patient_id: "P-1",
    };
    let now = "2026-12-04T10:00:20Z";
    let who = nurse(at(now));
    let (status, body, _) = api
        .call(&who, route, change("Asia/Tokyo", None), None, now)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );
    let (status, body, _) = api
        .call(
            &who,
            route,
            change("Asia/Tokyo", Some("travels")),
            Some("\"0\""),
            now,
        )
        .await;
    assert_eq!(status, 412, "{body}");
    let (status, body, etag) = api
        .call(
            &who,
            route,
            change("Asia/Tokyo", Some("travels")),
            Some("\"1\""),
            now,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(body["history"][1]["reason"], "travels");
    assert_eq!(body["calendar"][0]["timeZone"], "Asia/Tokyo");
    let trail: Vec<_> = api
        .store
        .audit_records()
        .into_iter()
        .map(|r| (r.action, r.before, r.after, r.reason, r.role))
        .collect();
    let role = || ENROLMENT_WRITE_SCOPE.to_owned();
    assert_eq!(
        trail,
        [
            (
                AuditAction::Enrolled,
                String::new(),
                "revision 1".into(),
                "consented".into(),
                role()
            ),
            (
                AuditAction::TermsChanged,
                "revision 1".into(),
                "revision 2".into(),
                "travels".into(),
                role()
            ),
        ],
        "the refused changes are not in the trail"
    );
}

#[tokio::test]
async fn a_withdrawn_patient_stays_withdrawn_and_their_open_surveys_end() {
    let api = Api::new();
    api.enrol("P-1", "Europe/Berlin").await;
    let route = CalendarRoute::Withdraw {
        trial_id: "T-1",
        patient_id: "P-1",
    };
    let now = "2026-12-04T10:02:00Z";
    let (status, body, _) = api
        .call(
            &nurse(at(now)),
            route,
            json!({ "reason": "withdrew consent" }),
            None,
            now,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["withdrawal"]["by"], "nurse-1");
    let statuses: Vec<&str> = body["calendar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["withdrawn", "withdrawn", "withdrawn"]);
    let withdrawn = api.store.audit_records().pop().unwrap();
    assert_eq!(
        (
            withdrawn.action,
            withdrawn.subject_id.as_str(),
            withdrawn.at.as_str()
        ),
        (AuditAction::Withdrawn, "P-1", "2026-12-04T10:02:00.000Z")
    );
    let (status, _, _) = api
        .call(
            &nurse(at(now)),
            route,
            json!({ "reason": "again" }),
            None,
            now,
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(api.store.audit_records().len(), 2, "enrolled, withdrawn");
}

#[tokio::test]
async fn staff_without_the_scope_or_the_trial_and_patients_are_refused() {
    let api = Api::new();
    let now = at(ENROLLED);
    let body = json!({ "patientId": "P-1", "scheduleId": "burst-drill", "timeZone": "UTC" });
    let enrol = CalendarRoute::Enrol { trial_id: "T-1" };
    let reader = claims(
        &[
            ("sub", "cra-1"),
            ("trial_id", "T-1"),
            ("scope", "epro/enrolment.read"),
        ],
        now,
    );
    let (status, _, _) = api.call(&reader, enrol, body.clone(), None, ENROLLED).await;
    assert_eq!(status, 403, "reading does not grant writing");
    let other_trial = CalendarRoute::Enrol { trial_id: "T-2" };
    assert_eq!(
        api.call(&nurse(now), other_trial, body.clone(), None, ENROLLED)
            .await
            .0,
        403
    );
    let patient = claims(
        &[
            ("patient_id", "P-1"),
            ("trial_id", "T-1"),
            ("scope", "epro/enrolment.write"),
        ],
        now,
    );
    assert_eq!(
        api.call(&patient, enrol, body.clone(), None, ENROLLED)
            .await
            .0,
        401,
        "a patient is never staff"
    );
    let reply = api
        .service
        .answer(CalendarRequest {
            claims: None,
            route: enrol,
            body: b"{}",
            if_match: None,
            request_id: "r".into(),
            now,
        })
        .await;
    assert_eq!(reply.status.as_u16(), 401, "no token, no access");
    assert!(api.store.enrolment("T-1", "P-1").await.unwrap().is_none());
}

#[tokio::test]
async fn a_patient_reads_their_own_schedule_and_nobody_elses() {
    let api = Api::new();
    api.enrol("P-1", "America/New_York").await;
    let now = "2026-12-04T10:03:30Z";
    let mine = claims(&[("patient_id", "P-1"), ("trial_id", "T-1")], at(now));
    let (status, body, _) = api
        .call(
            &mine,
            CalendarRoute::MySchedule { trial_id: None },
            Value::Null,
            None,
            now,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["missed"][0]["timepoint"], "check-in");
    assert_eq!(body["dueNow"][0]["timepoint"], "follow-up-1");
    assert_eq!(
        body["dueNow"][0]["closesLocal"],
        "2026-12-04T05:05:00-05:00[America/New_York]"
    );
    assert_eq!(body["next"][0]["timepoint"], "follow-up-2");
    let other = CalendarRoute::MySchedule {
        trial_id: Some("T-2"),
    };
    assert_eq!(api.call(&mine, other, Value::Null, None, now).await.0, 403);
    let stranger = claims(&[("patient_id", "P-2"), ("trial_id", "T-1")], at(now));
    let route = CalendarRoute::MySchedule { trial_id: None };
    assert_eq!(
        api.call(&stranger, route, Value::Null, None, now).await.0,
        404
    );
}

#[tokio::test]
async fn compliance_counts_each_survey_once_by_timepoint_instrument_and_patient() {
    let api = Api::new();
    for patient in ["P-1", "P-2", "P-3"] {
        api.enrol(patient, "UTC").await;
    }
    // P-1 did the check-in on time and the first follow-up late; P-2 did the check-in late; P-3 nothing.
    let mut items = api.store.occurrence_items();
    for item in &mut items {
        let timing = match (item.patient_id.as_str(), item.occurrence_id.as_str()) {
            ("P-1", "check-in") => Some(Timing::OnTime),
            ("P-1", "follow-up-1") => Some(Timing::Late),
            ("P-2", "check-in") => Some(Timing::Late),
            _ => None,
        };
        if let Some(timing) = timing {
            item.done_timing = Some(timing);
            item.done_by = Some(uuid::Uuid::nil());
            api.store.insert(item);
        }
    }
    // At 10:05:30 check-in (closed 10:03) and follow-up-1 (closed 10:05) are expected; follow-up-2 is open.
    let now = "2026-12-04T10:05:30Z";
    let route = CalendarRoute::Compliance { trial_id: "T-1" };
    let (status, body, _) = api
        .call(&nurse(at(now)), route, Value::Null, None, now)
        .await;
    assert_eq!(status, 200, "{body}");
    let overall = &body["overall"];
    assert_eq!(
        (
            overall["expected"].as_u64(),
            overall["onTime"].as_u64(),
            overall["late"].as_u64(),
            overall["missed"].as_u64()
        ),
        (Some(6), Some(1), Some(2), Some(3))
    );
    assert_eq!(
        (overall["pending"].as_u64(), overall["rate"].as_f64()),
        (Some(3), Some(0.5))
    );
    let check_in = &body["byTimepoint"][0];
    assert_eq!(
        (check_in["key"].as_str(), check_in["missed"].as_u64()),
        (Some("check-in"), Some(1))
    );
    assert_eq!(body["byInstrument"][0]["key"], "pain-nrs");
    let p3 = &body["byPatient"][2];
    assert_eq!(
        p3["missedSurveys"],
        json!(["check-in/pain-nrs", "follow-up-1/qol-daily"])
    );
}

#[tokio::test]
async fn if_match_compares_strongly_and_a_path_that_is_no_patient_id_names_no_enrolment() {
    let api = Api::new();
    api.enrol("P-1", "Europe/Berlin").await;
    let now = "2026-12-04T10:00:20Z";
    let who = nurse(at(now));
    let route = CalendarRoute::Change {
        trial_id: "T-1",
        patient_id: "P-1",
    };
    let body = json!({ "timeZone": "Asia/Tokyo", "reason": "travels" });
    let (status, reply, _) = api
        .call(&who, route, body.clone(), Some("W/\"1\""), now)
        .await;
    assert_eq!(status, 412, "a weak tag never matches: {reply}");
    let (status, reply, _) = api.call(&who, route, body.clone(), Some("*"), now).await;
    assert_eq!(status, 200, "any current revision: {reply}");
    let odd = CalendarRoute::Read {
        trial_id: "T-1",
        patient_id: "P-1#OCCURRENCE",
    };
    assert_eq!(api.call(&who, odd, Value::Null, None, now).await.0, 404);
}
