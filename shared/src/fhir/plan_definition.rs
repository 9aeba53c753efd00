//! The schedules as FHIR: each published version as the `PlanDefinition` it was published as (byte for byte), and
//! a searchset `Bundle` of the active versions, with strong `ETag`s, like the questionnaires.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::questionnaire::{Answer, Served, etag, respond};
use crate::instrument::Unknown;
use crate::schedule::Schedules;

/// `GET /v1/fhir/PlanDefinition[/{id}[/_history/{version}]]` for an authenticated caller, honouring
/// `If-None-Match`.
pub fn answer(
    schedules: &Schedules,
    caller_verified: bool,
    id: Option<&str>,
    version: Option<&str>,
    if_none_match: Option<&str>,
) -> Answer {
    let served = || match id {
        None => Ok(bundle(schedules)),
        Some(id) => read(schedules, id, version),
    };
    respond(caller_verified, "schedule", served, if_none_match)
}

/// Version `version` of schedule `id`, or its newest active version.
pub fn read(schedules: &Schedules, id: &str, version: Option<&str>) -> Result<Served, Unknown> {
    let versions = schedules.versions(id);
    if versions.is_empty() {
        return Err(Unknown::Instrument);
    }
    let schedule = schedules
        .get(id, version)
        .ok_or_else(|| Unknown::Version(versions.iter().map(|s| s.version.clone()).collect()))?;
    Ok(Served {
        body: schedule.source.to_owned(),
        etag: etag(&hex::encode(Sha256::digest(schedule.source))),
        immutable: version.is_some(),
    })
}

/// Every active schedule's newest version, as a FHIR `searchset` `Bundle`.
pub fn bundle(schedules: &Schedules) -> Served {
    let mut ids: Vec<&str> = schedules.all().map(|s| s.id.as_str()).collect();
    ids.dedup();
    let active: Vec<_> = ids
        .into_iter()
        .filter_map(|id| schedules.get(id, None))
        .collect();
    let entries: Vec<Value> = active
        .iter()
        .map(|schedule| {
            json!({
                "fullUrl": schedule.url,
                "resource": serde_json::from_str::<Value>(schedule.source).unwrap_or(Value::Null),
                "search": { "mode": "match" },
            })
        })
        .collect();
    let sources: Vec<&str> = active.iter().map(|s| s.source).collect();
    Served {
        body: json!({ "resourceType": "Bundle", "type": "searchset", "total": entries.len(), "entry": entries })
            .to_string(),
        etag: etag(&hex::encode(Sha256::digest(sources.join("\n")))),
        immutable: false,
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;

    fn schedules() -> &'static Schedules {
        Schedules::embedded().unwrap()
    }

    #[test]
    fn a_schedule_is_served_as_published_and_what_is_not_published_is_not_found() {
        let current = answer(schedules(), true, Some("postop-followup"), None, None);
        assert_eq!(current.status, StatusCode::OK);
        assert_eq!(
            current.body.as_deref(),
            Some(
                schedules()
                    .get("postop-followup", Some("1"))
                    .unwrap()
                    .source
            )
        );
        let again = answer(
            schedules(),
            true,
            Some("postop-followup"),
            Some("1"),
            current.etag.as_deref(),
        );
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert_eq!(
            answer(schedules(), true, Some("postop-followup"), Some("9"), None).status,
            404
        );
        assert_eq!(
            answer(schedules(), true, Some("phq-9"), None, None).status,
            404
        );
        assert_eq!(
            answer(schedules(), false, Some("postop-followup"), None, None).status,
            401
        );
        let bundle: Value =
            serde_json::from_str(&answer(schedules(), true, None, None, None).body.unwrap())
                .unwrap();
        assert_eq!(bundle["total"], 2);
        assert_eq!(
            bundle["entry"][0]["resource"]["resourceType"],
            "PlanDefinition"
        );
    }
}
