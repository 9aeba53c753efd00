//! Schedules on the deployed stack: patients enrolled through the calendar API in three time zones, reminded once
//! when a window opens (however many sweeps overlap: the deployed minute schedule and three more here), each miss
//! recorded once and the site told once, a late survey after its miss, a withdrawn patient left alone, each
//! submission placed on the calendar, compliance exact, and a patient's own schedule. The burst drill's minute-scale
//! windows keep it short: the enrolment anchor is set in the past, so windows open and close within two minutes.

use std::time::Duration;

use futures::future::join_all;
use intake::aws::{CallBudget, DynamoStore, SnsTopic, sdk_config};
use intake::item::OccurrenceItem;
use intake::ports::{Claim, Enrolments, Notice, Sweep};
use intake::reminders::Reminders;
use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_e2e::inbox::AlertInbox;
use intake_e2e::{Survey, TokenRequest, get_from, json_to, mint_token, submit};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const WRITE: &str = "epro/enrolment.write epro/enrolment.read epro/flags.read";

fn at(offset_seconds: i64, anchor: OffsetDateTime) -> OffsetDateTime {
    anchor + time::Duration::seconds(offset_seconds)
}

fn text(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

async fn nurse(deployed: &Deployed, trial: &str) -> String {
    let request = TokenRequest::staff("nurse-1", &[trial], WRITE);
    mint_token(&deployed.http, &deployed.stack, &request)
        .await
        .unwrap()
}

/// Enrols `patient` on the burst drill through the calendar API, anchored at `anchor`.
async fn enrol(
    deployed: &Deployed,
    trial: &str,
    token: &str,
    patient: &str,
    zone: &str,
    anchor: OffsetDateTime,
) {
    let body = json!({
        "patientId": patient, "scheduleId": "burst-drill", "timeZone": zone,
        "anchors": { "enrolment": text(anchor) }, "reason": "consented"
    });
    let path = format!("/v1/trials/{trial}/enrolments");
    let reply = json_to(
        &deployed.http,
        &deployed.stack,
        (Method::POST, &path),
        Some(token),
        None,
        &body,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 201, "{}", reply.body);
}

/// Three overlapping sweeps in this process, beside the deployed schedule's own.
async fn sweep(deployed: &Deployed) {
    let config = sdk_config(CallBudget::BACKGROUND).await;
    let stack = &deployed.stack;
    let sweeps = (0..3).map(|_| {
        let reminders = Reminders::new(
            DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&config),
                stack.table_name.clone(),
            ),
            SnsTopic::new(
                aws_sdk_sns::Client::new(&config),
                stack.reminder_topic_arn.clone().unwrap(),
            ),
            SnsTopic::new(
                aws_sdk_sns::Client::new(&config),
                stack.missed_survey_topic_arn.clone().unwrap(),
            ),
        );
        async move { reminders.sweep(OffsetDateTime::now_utc()).await.unwrap() }
    });
    join_all(sweeps).await;
}

async fn wait_until(moment: OffsetDateTime) {
    let left = moment - OffsetDateTime::now_utc();
    if left.is_positive() {
        tokio::time::sleep(left.unsigned_abs()).await;
    }
}

/// Messages of `kind` for `trial` received so far, as (patient, timepoint).
fn received(inbox: &AlertInbox, trial: &str, kind: &str) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = inbox
        .messages()
        .filter(|m| m["trialId"] == trial && m["kind"] == kind)
        .map(|m| {
            (
                m["patientId"].as_str().unwrap().to_owned(),
                m["timepoint"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    all.sort();
    all
}

fn survey(instrument: &str, trial: &str, patient: &str, timepoint: &str) -> Survey {
    let mut survey = Survey::of(
        instrument,
        trial,
        patient,
        timepoint,
        &mut fastrand::Rng::new(),
    );
    survey.body["completedAt"] = json!(text(OffsetDateTime::now_utc()));
    survey
}

async fn accepted(deployed: &Deployed, survey: &Survey) {
    let reply = submit(&deployed.http, &deployed.stack, &survey.body)
        .await
        .unwrap();
    assert_eq!(reply.status, 202, "{}", reply.body);
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = list
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect();
    all.sort();
    all
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn reminders_misses_placement_and_compliance_follow_each_patients_calendar() {
    let deployed = Deployed::load().await;
    let stack = &deployed.stack;
    let trial = fresh_trial("SCHEDULE");
    let mut inbox = AlertInbox::subscribe(
        &deployed.aws,
        &[
            stack.reminder_topic_arn.as_deref().unwrap(),
            stack.missed_survey_topic_arn.as_deref().unwrap(),
        ],
    )
    .await
    .unwrap();
    // The drill counts from the enrolment anchor: check-in opens at +1 min for 2 minutes, follow-ups at +3 and +5
    // min. Anchored 2:30 ago: check-in is open until +0:30, follow-up-1 from +0:30 to +2:30.
    let t0 = OffsetDateTime::now_utc();
    let anchor = at(-150, t0);
    let token = nurse(&deployed, &trial).await;
    let zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo"];
    for n in 1..=6 {
        enrol(
            &deployed,
            &trial,
            &token,
            &format!("P-{n}"),
            zones[n % 3],
            anchor,
        )
        .await;
    }

    // The check-in window is open: every patient is reminded once.
    sweep(&deployed).await;
    inbox.collect(Duration::from_secs(3)).await.unwrap();
    let everyone: Vec<(&str, &str)> = vec![
        ("P-1", "check-in"),
        ("P-2", "check-in"),
        ("P-3", "check-in"),
        ("P-4", "check-in"),
        ("P-5", "check-in"),
        ("P-6", "check-in"),
    ];
    assert_eq!(received(&inbox, &trial, "due"), pairs(&everyone));

    // P-1 answers in the window; P-2 answers follow-up-1 in the minute before it opens (early); P-3 sends an
    // instrument the schedule does not ask for; P-4 is withdrawn.
    accepted(&deployed, &survey("pain-nrs", &trial, "P-1", "check-in")).await;
    accepted(
        &deployed,
        &survey("qol-daily", &trial, "P-2", "follow-up-1"),
    )
    .await;
    accepted(&deployed, &survey("gad-7", &trial, "P-3", "week-1")).await;
    let path = format!("/v1/trials/{trial}/enrolments/P-4/withdrawal");
    let reply = json_to(
        &deployed.http,
        stack,
        (Method::POST, &path),
        Some(&token),
        None,
        &json!({"reason": "withdrew consent"}),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    deployed.drained().await;

    // Check-in closes at +0:30: the misses (P-2, P-3, P-5, P-6) are recorded once and the site told once; the
    // follow-up-1 reminders go to everyone but P-2 (done early) and P-4 (withdrawn).
    wait_until(at(35, t0)).await;
    sweep(&deployed).await;
    sweep(&deployed).await;
    inbox.collect(Duration::from_secs(3)).await.unwrap();
    let missed = [
        ("P-2", "check-in"),
        ("P-3", "check-in"),
        ("P-5", "check-in"),
        ("P-6", "check-in"),
    ];
    assert_eq!(received(&inbox, &trial, "missed"), pairs(&missed));
    let mut due = everyone.clone();
    due.extend([
        ("P-1", "follow-up-1"),
        ("P-3", "follow-up-1"),
        ("P-5", "follow-up-1"),
        ("P-6", "follow-up-1"),
    ]);
    assert_eq!(received(&inbox, &trial, "due"), pairs(&due));

    // P-5 catches up in the grace after the window: late, the miss kept in the history.
    accepted(&deployed, &survey("pain-nrs", &trial, "P-5", "check-in")).await;
    deployed.drained().await;
    let read = format!("/v1/trials/{trial}/enrolments/P-5");
    let reply = get_from(&deployed.http, stack, &read, Some(&token))
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let check_in = &reply.body["calendar"][0];
    assert_eq!(
        (check_in["timepoint"].as_str(), check_in["status"].as_str()),
        (Some("check-in"), Some("late"))
    );
    assert!(check_in["missedAt"].is_string(), "{check_in}");

    // Compliance, exact: check-in on time 1, late 1, missed 3 (P-4 withdrawn: not expected); follow-up-1 early 1
    // and pending 4 (P-1, P-3, P-5, P-6); follow-up-2 upcoming 5.
    let compliance = get_from(
        &deployed.http,
        stack,
        &format!("/v1/trials/{trial}/compliance"),
        Some(&token),
    )
    .await
    .unwrap();
    assert_eq!(compliance.status, 200, "{}", compliance.body);
    let overall = &compliance.body["overall"];
    let figure = |name: &str| overall[name].as_u64().unwrap();
    assert_eq!(
        [
            figure("expected"),
            figure("onTime"),
            figure("early"),
            figure("late"),
            figure("missed")
        ],
        [6, 1, 1, 1, 3],
        "{overall}"
    );
    assert_eq!(
        [figure("pending"), figure("upcoming"), figure("withdrawn")],
        [4, 5, 3],
        "{overall}"
    );

    // Each submission is placed on its patient's calendar; the unscheduled one is a flag for the data manager.
    let flags = get_from(
        &deployed.http,
        stack,
        &format!("/v1/trials/{trial}/flags?kind=unscheduled"),
        Some(&token),
    )
    .await
    .unwrap();
    assert_eq!(flags.status, 200, "{}", flags.body);
    let flagged: Vec<&Value> = flags.body["flags"].as_array().unwrap().iter().collect();
    assert_eq!(flagged.len(), 1, "{}", flags.body);
    assert_eq!(flagged[0]["patientId"], "P-3");

    // P-3's own schedule (Berlin): check-in missed, follow-up-1 due now, follow-up-2 next.
    let patient = mint_token(&deployed.http, stack, &TokenRequest::patient("P-3", &trial))
        .await
        .unwrap();
    let mine = get_from(
        &deployed.http,
        stack,
        "/v1/patients/me/schedule",
        Some(&patient),
    )
    .await
    .unwrap();
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.body["missed"][0]["timepoint"], "check-in");
    assert_eq!(mine.body["dueNow"][0]["timepoint"], "follow-up-1");
    assert!(
        mine.body["dueNow"][0]["opensLocal"]
            .as_str()
            .unwrap()
            .ends_with("+01:00[Europe/Berlin]")
    );
    assert_eq!(mine.body["next"][0]["timepoint"], "follow-up-2");

    // Nothing more for this trial after more sweeps: no second reminder, miss or notice, nothing for P-4.
    sweep(&deployed).await;
    inbox.collect(Duration::from_secs(3)).await.unwrap();
    assert_eq!(received(&inbox, &trial, "missed").len(), missed.len());
    assert_eq!(received(&inbox, &trial, "due").len(), due.len());
    // Ids and the window only: nothing a survey asks or a patient answered.
    let fields = [
        "kind",
        "noticeId",
        "trialId",
        "patientId",
        "timepoint",
        "instruments",
        "opens",
        "closes",
        "opensLocal",
        "closesLocal",
    ];
    for message in inbox.messages().filter(|m| m["trialId"] == trial.as_str()) {
        let keys: Vec<&str> = message
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert!(keys.iter().all(|k| fields.contains(k)), "{message}");
    }
    inbox.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn an_enrolment_changes_only_with_a_reason_against_its_current_revision() {
    let deployed = Deployed::load().await;
    let stack = &deployed.stack;
    let trial = fresh_trial("ENROL");
    let token = nurse(&deployed, &trial).await;
    let enrol = json!({
        "patientId": "P-1", "scheduleId": "postop-followup", "anchors": { "surgery": "2027-01-10" },
        "timeZone": "Europe/Berlin"
    });
    let path = format!("/v1/trials/{trial}/enrolments");
    let first = json_to(
        &deployed.http,
        stack,
        (Method::POST, &path),
        Some(&token),
        None,
        &enrol,
    )
    .await
    .unwrap();
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["calendar"].as_array().unwrap().len(), 27);
    let again = json_to(
        &deployed.http,
        stack,
        (Method::POST, &path),
        Some(&token),
        None,
        &enrol,
    )
    .await
    .unwrap();
    assert_eq!(again.status, 409, "enrolled once: {}", again.body);

    let one = format!("/v1/trials/{trial}/enrolments/P-1");
    let moved = json!({ "anchors": { "surgery": "2027-01-17" }, "reason": "surgery rescheduled" });
    let changed = json_to(
        &deployed.http,
        stack,
        (Method::PATCH, &one),
        Some(&token),
        Some("\"1\""),
        &moved,
    )
    .await
    .unwrap();
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["revision"], 2);
    let day7 = changed.body["calendar"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["timepoint"] == "day-7")
        .unwrap();
    assert_eq!(
        day7["opens"], "2027-01-23T07:00:00.000Z",
        "day 7 after 17 January, 08:00 Berlin, window −1 day"
    );
    let stale = json_to(
        &deployed.http,
        stack,
        (Method::PATCH, &one),
        Some(&token),
        Some("\"1\""),
        &moved,
    )
    .await
    .unwrap();
    assert_eq!(stale.status, 412, "{}", stale.body);
    let read = get_from(&deployed.http, stack, &one, Some(&token))
        .await
        .unwrap();
    let history: Vec<&str> = read.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["change"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["enrolled", "terms-changed"]);
    let by = read.body["history"][1]["by"].as_str().unwrap();
    assert!(
        by.ends_with("nurse-1"),
        "the change is attributed to the token's staff member: {by}"
    );

    // A patient's token is never staff's, and another trial's nurse sees nothing.
    let patient = mint_token(&deployed.http, stack, &TokenRequest::patient("P-1", &trial))
        .await
        .unwrap();
    let refused = get_from(&deployed.http, stack, &one, Some(&patient))
        .await
        .unwrap();
    assert!(matches!(refused.status, 401 | 403), "{}", refused.status);
    let other = nurse(&deployed, "OTHER-TRIAL").await;
    assert_eq!(
        get_from(&deployed.http, stack, &one, Some(&other))
            .await
            .unwrap()
            .status,
        403
    );
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn a_reminder_claim_sent_again_after_its_answer_was_lost_is_still_its_own() {
    let deployed = Deployed::load().await;
    let stack = &deployed.stack;
    let trial = fresh_trial("RESENTNOTICE");
    // Anchored a day ahead: nothing is due, so the stack's own sweep leaves this patient alone.
    let anchor = at(86_400, OffsetDateTime::now_utc());
    let token = nurse(&deployed, &trial).await;
    enrol(&deployed, &trial, &token, "P-1", "Europe/Berlin", anchor).await;
    let config = sdk_config(CallBudget::BACKGROUND).await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        stack.table_name.clone(),
    );
    let occurrences = store.occurrences(&trial, "P-1").await.unwrap();
    let owed = occurrences
        .iter()
        .find(|o| o.occurrence_id == "check-in")
        .expect("the drill's check-in");
    let claim = Claim::taken(OffsetDateTime::now_utc());
    assert!(store.claim(owed, Notice::Reminder, &claim).await.unwrap());
    // The SDK sends the very same request again when the first one's answer is lost: it landed, and is ours.
    assert!(
        store.claim(owed, Notice::Reminder, &claim).await.unwrap(),
        "the claim that holds the reminder takes it again"
    );
    let other = Claim::taken(OffsetDateTime::now_utc());
    assert!(
        !store.claim(owed, Notice::Reminder, &other).await.unwrap(),
        "another sweep's live claim is refused"
    );
    // Recorded, and the record sent again after its answer was lost: still this claim's, in the history once.
    let reminded = recorded_once(&store, (&trial, owed), Notice::Reminder, &claim, &other).await;
    assert_eq!(reminded.reminded_by.as_deref(), Some(claim.id.as_str()));
    // The same for the site's notice of a miss, recorded at the close (a day ahead: the stack's sweep waits for it).
    assert!(store.record_missed(owed, &owed.closes).await.unwrap());
    let notice = Claim::taken(OffsetDateTime::now_utc());
    assert!(store.claim(owed, Notice::Missed, &notice).await.unwrap());
    let noticed = recorded_once(&store, (&trial, owed), Notice::Missed, &notice, &other).await;
    assert_eq!(noticed.noticed_by.as_deref(), Some(notice.id.as_str()));
}

/// Records `notice` done by `claim` and sends the record again (its answer lost): both count as done, `other`
/// recording it at the same instant does not, and the history holds the event once. The survey due, as stored.
async fn recorded_once(
    store: &DynamoStore,
    (trial, owed): (&str, &OccurrenceItem),
    notice: Notice,
    claim: &Claim,
    other: &Claim,
) -> OccurrenceItem {
    for attempt in ["recorded", "recorded again after a lost answer"] {
        assert!(
            store
                .complete(owed, notice, &claim.id, &claim.at)
                .await
                .unwrap(),
            "{notice:?} {attempt}"
        );
    }
    assert!(
        !store
            .complete(owed, notice, &other.id, &claim.at)
            .await
            .unwrap(),
        "{notice:?}: another sweep's claim recording it at the same instant is not taken for this one's"
    );
    let event = match notice {
        Notice::Reminder => "reminded",
        Notice::Missed => "noticed",
    };
    let stored = store.occurrences(trial, "P-1").await.unwrap();
    let stored = stored
        .into_iter()
        .find(|o| o.occurrence_id == owed.occurrence_id)
        .unwrap();
    let events: Vec<&str> = stored.history.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        events.iter().filter(|e| **e == event).count(),
        1,
        "{events:?}"
    );
    stored
}
