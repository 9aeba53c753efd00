//! A trial's schedule compliance for analysts: `surveys-due.csv`, one row per survey due with where it stands
//! (on time, early, late, missed, open, upcoming, withdrawn, dropped), its window in UTC and the patient's zone, and
//! what completed it; `compliance.csv`, the figures by timepoint and instrument, as the staff API reports them.

use std::path::{Path, PathBuf};

use intake::calendar::compliance::{Figures, Standing, compliance};
use intake::item::OccurrenceItem;

use crate::Error;

/// Writes both files under `folder`, as the calendar stands at `now` (UTC, the table's format); each with its rows.
pub fn write(
    folder: &Path,
    calendar: &[OccurrenceItem],
    now: &str,
) -> Result<Vec<(PathBuf, usize)>, Error> {
    std::fs::create_dir_all(folder)?;
    let due = folder.join("surveys-due.csv");
    let header = [
        "patientId",
        "timepoint",
        "instrument",
        "status",
        "opens",
        "closes",
        "lateUntil",
        "timeZone",
        "remindedAt",
        "missedAt",
        "completedBy",
        "completedAt",
    ];
    let mut sorted: Vec<&OccurrenceItem> = calendar.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.patient_id, &a.opens, &a.occurrence_id).cmp(&(
            &b.patient_id,
            &b.opens,
            &b.occurrence_id,
        ))
    });
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let rows = sorted.iter().map(|item| {
        [
            item.patient_id.clone(),
            item.occurrence_id.clone(),
            item.instrument.clone(),
            Standing::of(item, now).as_str().to_owned(),
            item.opens.clone(),
            item.closes.clone(),
            item.grace_ends.clone(),
            item.time_zone.clone(),
            text(&item.reminded_at),
            text(&item.missed_at),
            item.done_by.map(|id| id.to_string()).unwrap_or_default(),
            text(&item.done_at),
        ]
    });
    let due_rows = super::spreadsheet::write_csv(&due, &header, rows)?;
    let figures = compliance(calendar, now);
    let summary = folder.join("compliance.csv");
    let row = |by: &str, key: &str, f: &Figures| {
        let counts = [
            f.expected,
            f.on_time,
            f.early,
            f.late,
            f.missed,
            f.pending,
            f.upcoming,
            f.withdrawn,
        ];
        let mut record = vec![by.to_owned(), key.to_owned()];
        record.extend(counts.iter().map(usize::to_string));
        record.push(f.rate.map(|r| format!("{r:.4}")).unwrap_or_default());
        record
    };
    let rows = std::iter::once(row("trial", "all", &figures.overall))
        .chain(
            figures
                .by_timepoint
                .iter()
                .map(|r| row("timepoint", &r.key, &r.figures)),
        )
        .chain(
            figures
                .by_instrument
                .iter()
                .map(|r| row("instrument", &r.key, &r.figures)),
        );
    let header = [
        "by",
        "key",
        "expected",
        "onTime",
        "early",
        "late",
        "missed",
        "pending",
        "upcoming",
        "withdrawn",
        "rate",
    ];
    let summary_rows = super::spreadsheet::write_csv(&summary, &header, rows)?;
    Ok(vec![(due, due_rows), (summary, summary_rows)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake::schedule::{Schedules, Timing};

    #[test]
    fn each_survey_due_is_a_row_and_the_figures_match_the_staff_api() {
        let request = serde_json::from_value(serde_json::json!({
            "patientId": "P-1", "scheduleId": "burst-drill", "timeZone": "Europe/Berlin"
        }))
        .unwrap();
        let enrolled = "2027-01-01T10:00:00Z".parse().unwrap();
        let revision =
            intake::enrolment::enrol("T", request, "n", enrolled, Schedules::embedded().unwrap())
                .unwrap();
        let mut calendar: Vec<OccurrenceItem> = revision
            .occurrences
            .iter()
            .map(|w| w.item().clone())
            .collect();
        calendar[0].done_timing = Some(Timing::Late);
        calendar[0].done_by = Some(uuid::Uuid::nil());
        let folder = std::env::temp_dir().join(format!("compliance-{}", uuid::Uuid::new_v4()));
        let files = write(&folder, &calendar, "2027-01-01T10:05:30.000Z").unwrap();
        let due = std::fs::read_to_string(&files[0].0).unwrap();
        let lines: Vec<&str> = due.lines().collect();
        assert_eq!(lines.len(), 4, "{due}");
        assert!(
            lines[1].starts_with("P-1,check-in,pain-nrs,late,2027-01-01T10:01:00.000Z"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("P-1,follow-up-1,qol-daily,missed,"),
            "{}",
            lines[2]
        );
        let summary = std::fs::read_to_string(&files[1].0).unwrap();
        assert!(
            summary.contains("trial,all,2,0,0,1,1,1,0,0,0.5000"),
            "{summary}"
        );
        std::fs::remove_dir_all(folder).unwrap();
    }
}
