//! The shipped rule book: it passes every check, holds the rules a trial team expects, and its published versions
//! match the lock file. Then what each kind of condition fires on, and each check planted once, to see it fail.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::rules::{RuleBook, RuleSet};
use super::{Answered, Severity, alert_id, check, met, worsened};
use crate::instrument::catalogue::canonical_hash;
use crate::instrument::{Catalogue, Scores, judge};
use crate::submission::Answer;
use crate::testing::example::{example, phq9_answers};

const LOCK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/instruments/catalogue.lock"
));

fn book() -> &'static RuleBook {
    RuleBook::embedded().expect("the embedded rule book parses")
}

fn catalogue() -> &'static Catalogue {
    Catalogue::embedded()
}

/// The ids of the rules a submission of `survey` with `answers` meets, by itself and compared with `prior` answers
/// if given.
fn fired(survey: &str, answers: Value, prior: Option<Value>) -> Vec<String> {
    let judged = |answers: Value| {
        let submission = example().survey(survey, answers).submission();
        judge(catalogue(), submission).expect("valid answers")
    };
    let now = judged(answers);
    let before = prior.map(judged);
    let version = now.submission.survey_version.clone().unwrap();
    let instrument = catalogue().get(survey, Some(&version)).unwrap();
    let set = book().for_version(survey, &version).expect("a rule set");
    fn answered<'a>(
        instrument: &'a crate::instrument::Instrument,
        judged: &'a crate::instrument::Judged,
    ) -> Answered<'a> {
        Answered {
            instrument,
            answers: &judged.submission.answers,
            scores: &judged.scores,
        }
    }
    let mut rules = met(set, answered(instrument, &now));
    if let Some(before) = &before {
        rules.extend(worsened(
            set,
            answered(instrument, &now),
            answered(instrument, before),
        ));
    }
    rules.into_iter().map(|rule| rule.id.clone()).collect()
}

#[test]
fn the_embedded_rule_book_passes_every_check() {
    let problems = check::rule_book(book(), catalogue());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_rule_book_ships_the_rules_a_trial_team_expects() {
    let rule = |instrument: &str, id: &str| {
        let set = book().all().find(|s| s.instrument == instrument).unwrap();
        let rule = set.rules.iter().find(|r| r.id == id).unwrap();
        (rule.severity, rule.when.clone())
    };
    assert_eq!(rule("phq-9", "phq9-item9-self-harm").0, Severity::Urgent);
    assert_eq!(rule("phq-9", "phq9-total-severe").0, Severity::High);
    assert_eq!(rule("gad-7", "gad7-total-severe").0, Severity::High);
    assert_eq!(rule("pain-nrs", "pain-severe").0, Severity::High);
    assert_eq!(rule("pain-nrs", "pain-worsening").0, Severity::High);
    assert_eq!(rule("postop-recovery", "postop-fever").0, Severity::Urgent);
}

#[test]
fn every_published_rule_set_is_locked_and_unchanged() {
    let locked: Vec<(&str, &str, &str)> = LOCK
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let id = fields.next()?.strip_prefix(super::rules::RULES_DIR)?;
            Some((id, fields.next()?, fields.next()?))
        })
        .collect();
    for set in book().all() {
        let hash = canonical_hash(set.source);
        let line = format!(
            "{}{} {} {hash}",
            super::rules::RULES_DIR,
            set.instrument,
            set.version
        );
        match locked
            .iter()
            .find(|(id, version, _)| *id == set.instrument && *version == set.version)
        {
            None => panic!(
                "{} is not in catalogue.lock; publish it by adding:\n{line}",
                set.path
            ),
            Some((_, _, locked)) => assert_eq!(
                *locked, hash,
                "{} changed after it was published: publish a new version instead",
                set.path
            ),
        }
    }
    for (instrument, version, _) in locked {
        assert!(
            book()
                .all()
                .any(|s| s.instrument == instrument && s.version == version),
            "rules {instrument} version {version} are in catalogue.lock but gone: published versions stay"
        );
    }
}

#[test]
fn phq9_item_9_above_not_at_all_is_urgent_and_a_clean_phq9_raises_nothing() {
    assert_eq!(
        fired("phq-9", phq9_answers("LA6568-5"), None),
        Vec::<String>::new()
    );
    assert_eq!(
        fired("phq-9", phq9_answers("LA6569-3"), None),
        ["phq9-item9-self-harm"]
    );
    // Items 1-8 "nearly every day" (24) and item 9 "not at all": severe, but no self-harm.
    let mut severe = phq9_answers("LA6568-5");
    for (_, answer) in severe.as_object_mut().unwrap().iter_mut().take(8) {
        *answer = json!("LA6571-9");
    }
    assert_eq!(fired("phq-9", severe, None), ["phq9-total-severe"]);
}

#[test]
fn a_threshold_fires_at_its_bound_and_not_below() {
    assert_eq!(fired("pain-nrs", json!({"pain": 8}), None), ["pain-severe"]);
    assert!(fired("pain-nrs", json!({"pain": 7}), None).is_empty());
    let postop =
        |temperature: f64| json!({"temperature": temperature, "wound": ["none"], "nausea": false});
    assert_eq!(
        fired("postop-recovery", postop(38.5), None),
        ["postop-fever"]
    );
    assert!(fired("postop-recovery", postop(38.4), None).is_empty());
}

#[test]
fn an_answer_among_the_named_options_fires() {
    let wound = |codes: Value| json!({"temperature": 37.0, "wound": codes, "nausea": false});
    assert_eq!(
        fired(
            "postop-recovery",
            wound(json!(["redness", "discharge"])),
            None
        ),
        ["postop-wound-discharge-or-opening"]
    );
    assert!(fired("postop-recovery", wound(json!(["redness"])), None).is_empty());
}

#[test]
fn worsening_compares_with_the_previous_submission_and_needs_one() {
    let pain = |n: u8| json!({"pain": n});
    assert_eq!(
        fired("pain-nrs", pain(5), Some(pain(3))),
        ["pain-worsening"]
    );
    assert!(
        fired("pain-nrs", pain(4), Some(pain(3))).is_empty(),
        "by 1 is stable"
    );
    assert!(
        fired("pain-nrs", pain(3), Some(pain(6))).is_empty(),
        "better is not worse"
    );
    assert!(
        fired("pain-nrs", pain(6), None).is_empty(),
        "a first report has nothing to worsen from"
    );
    assert_eq!(
        fired("pain-nrs", pain(9), Some(pain(2))),
        ["pain-severe", "pain-worsening"],
        "both rules fire, each once"
    );
}

#[test]
fn an_alert_id_is_the_same_every_time_and_differs_by_rule_and_submission() {
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    assert_eq!(alert_id(&a, "pain-severe"), alert_id(&a, "pain-severe"));
    assert_ne!(alert_id(&a, "pain-severe"), alert_id(&a, "pain-worsening"));
    assert_ne!(alert_id(&a, "pain-severe"), alert_id(&b, "pain-severe"));
}

/// The problems of a one-rule set for pain-nrs version 1 whose condition is `when`.
fn problems_of(when: Value) -> Vec<String> {
    planted(json!({
        "instrument": "pain-nrs", "version": "1", "appliesTo": ["1"],
        "rules": [{"id": "r", "severity": "high", "label": "A label", "when": when}]
    }))
}

fn planted(set: Value) -> Vec<String> {
    let source: &'static str = Box::leak(set.to_string().into_boxed_str());
    match RuleSet::parse(source, "alert-rules/pain-nrs/1.json") {
        Ok(set) => check::rule_set(&set, catalogue()),
        Err(error) => vec![error],
    }
}

#[test]
fn each_check_catches_the_mistake_it_names() {
    assert!(problems_of(json!({"item": "pain", "atLeast": 8})).is_empty());
    let cases = [
        (json!({"item": "pian", "atLeast": 8}), "does not exist"),
        (json!({"item": "pain", "atLeast": 11}), "can never fire"),
        (json!({"item": "pain", "atMost": -1}), "can never fire"),
        (
            json!({"item": "pain", "anyOf": ["x"]}),
            "needs a choice item",
        ),
        (json!({"score": "total", "atLeast": 1}), "is not declared"),
        (json!({"item": "pain", "worsenedBy": 0}), "must be above 0"),
        (
            json!({"item": "pain", "atLeast": 8, "atMost": 9}),
            "exactly one of atLeast",
        ),
        (
            json!({"item": "pain", "score": "total", "atLeast": 8}),
            "exactly one of item or score",
        ),
        (json!({"item": "pain", "above": 8}), "unknown field"),
    ];
    for (when, expected) in cases {
        let problems = problems_of(when.clone());
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{when}: expected {expected:?} in {problems:?}"
        );
    }
    let twice = planted(json!({
        "instrument": "pain-nrs", "version": "1", "appliesTo": ["1", "7"],
        "rules": [
            {"id": "r", "severity": "high", "label": "A", "when": {"item": "pain", "atLeast": 8}},
            {"id": "r", "severity": "severe", "label": "B", "when": {"item": "pain", "atLeast": 8}}
        ]
    }));
    assert!(
        twice.iter().any(|p| p.contains("unknown variant `severe`")),
        "{twice:?}"
    );
    let twice = planted(json!({
        "instrument": "pain-nrs", "version": "1", "appliesTo": ["1", "7"],
        "rules": [
            {"id": "r", "severity": "high", "label": "A", "when": {"item": "pain", "atLeast": 8}},
            {"id": "r", "severity": "high", "label": " B", "when": {"item": "pain", "atLeast": 8}}
        ]
    }));
    for expected in ["used twice", "label must be", "catalogue lacks"] {
        assert!(
            twice.iter().any(|p| p.contains(expected)),
            "{expected}: {twice:?}"
        );
    }
}

#[test]
fn choices_count_their_ordinal_values_and_unanswered_subjects_never_fire() {
    let set = book().for_version("phq-9", "1").unwrap();
    let instrument = catalogue().get("phq-9", Some("1")).unwrap();
    let empty: BTreeMap<String, Answer> = BTreeMap::new();
    let nothing = Answered {
        instrument,
        answers: &empty,
        scores: &Scores::new(),
    };
    assert!(met(set, nothing).is_empty());
    assert!(worsened(set, nothing, nothing).is_empty());
}
