//! Schedules: when each survey is due, per patient, in the patient's local time.
//!
//! - [`definition`]: a schedule as published (a FHIR `PlanDefinition`, Vulcan style), read into anchors and
//!   timepoints.
//! - `resource`: the subset of a FHIR `PlanDefinition` read, and the check that a definition holds nothing else.
//! - [`check`]: what every published schedule must satisfy (`make test`).
//! - [`calendar`]: a patient's occurrences (each survey due and its window) from a schedule and the enrolment's
//!   terms, however they changed.
//! - [`placement`]: a submission placed on that calendar: on time, early, late, out of window, unscheduled.

use std::collections::BTreeMap;
use std::sync::LazyLock;

pub mod calendar;
pub mod check;
#[cfg(test)]
mod check_tests;
pub mod definition;
pub mod placement;
mod resource;
#[cfg(test)]
mod tests;

pub use calendar::{AnchorValue, CalendarError, Occurrence, Terms, Window, occurrences};
pub use definition::{Anchor, Offset, Repeat, Schedule, Timepoint, Unit};
pub use placement::{Placement, Timing, place};

/// Where schedules live below `instruments/`: `schedules/<id>/<version>.json`.
pub const SCHEDULES_DIR: &str = "schedules/";

/// Every published schedule version, by id, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Schedules {
    versions: BTreeMap<String, Vec<Schedule>>,
}

static EMBEDDED: LazyLock<Result<Schedules, String>> =
    LazyLock::new(|| Schedules::from_files(crate::instrument::catalogue::files::FILES));

impl Schedules {
    /// The schedules this build embeds. An error stops a function at start; `make test` checks them.
    pub fn embedded() -> Result<&'static Schedules, String> {
        EMBEDDED.as_ref().map_err(Clone::clone)
    }

    /// Schedules of `(path, text)` files; only those under `schedules/` are schedules.
    pub fn from_files(files: &[(&'static str, &'static str)]) -> Result<Schedules, String> {
        let mut versions: BTreeMap<String, Vec<Schedule>> = BTreeMap::new();
        for &(path, source) in files {
            if path.starts_with(SCHEDULES_DIR) {
                let schedule = Schedule::parse(source, path).map_err(|e| format!("{path}: {e}"))?;
                versions
                    .entry(schedule.id.clone())
                    .or_default()
                    .push(schedule);
            }
        }
        for list in versions.values_mut() {
            list.sort_by_key(|s| s.version.parse::<u32>().unwrap_or(u32::MAX));
        }
        Ok(Schedules { versions })
    }

    /// Every version of every schedule.
    pub fn all(&self) -> impl Iterator<Item = &Schedule> {
        self.versions.values().flatten()
    }

    /// Every published version of `id`, oldest first.
    pub fn versions(&self, id: &str) -> &[Schedule] {
        self.versions.get(id).map(Vec::as_slice).unwrap_or_default()
    }

    /// Version `version` of `id`, or its newest active version when none is named.
    pub fn get(&self, id: &str, version: Option<&str>) -> Option<&Schedule> {
        let versions = self.versions.get(id)?;
        match version {
            Some(version) => versions.iter().find(|s| s.version == version),
            None => versions.iter().rev().find(|s| s.status == "active"),
        }
    }
}
