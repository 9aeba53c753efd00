//! A trial's audit trail for its monitors and auditors: `audit-trail.csv`, one row per change of state a person
//! caused (enrolment, change of terms, withdrawal, acknowledgement, exclusion, restoration), oldest first, as the
//! staff API lists it.

use std::path::{Path, PathBuf};

use intake::item::AuditItem;
use intake::ports::Records;

use crate::Error;

/// The file's name inside an export.
pub const AUDIT_TRAIL: &str = "audit-trail.csv";

/// Every audit record of `trial_id`, oldest first.
pub async fn trail<R: Records>(records: &R, trial_id: &str) -> Result<Vec<AuditItem>, Error> {
    let mut trail = Vec::new();
    let mut after = None;
    loop {
        let page = records
            .audit_trail(trial_id, 1_000, after)
            .await
            .map_err(|e| e.to_string())?;
        trail.extend(page.records);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(trail),
        }
    }
}

/// Writes `trail` as `folder/audit-trail.csv`; the file and its rows.
pub fn write(folder: &Path, trail: &[AuditItem]) -> Result<(PathBuf, usize), Error> {
    std::fs::create_dir_all(folder)?;
    let path = folder.join(AUDIT_TRAIL);
    let header = [
        "at",
        "action",
        "by",
        "role",
        "patientId",
        "subjectType",
        "subjectId",
        "before",
        "after",
        "reason",
        "auditId",
    ];
    let rows = trail.iter().map(|record| {
        [
            record.at.clone(),
            record.action.as_str().to_owned(),
            record.by.clone(),
            record.role.clone(),
            record.patient_id.clone(),
            record.subject_type.as_str().to_owned(),
            record.subject_id.clone(),
            record.before.clone(),
            record.after.clone(),
            record.reason.clone(),
            record.audit_id.to_string(),
        ]
    });
    let rows = super::spreadsheet::write_csv(&path, &header, rows)?;
    Ok((path, rows))
}
