//! The catalogue as apps fetch it: each version as the `Questionnaire` it was published as (byte for byte), and a
//! searchset `Bundle` of the versions in effect now, each with a strong `ETag` from the definitions' hashes.

use http::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{FHIR_JSON, Issue, operation_outcome};
use crate::instrument::{Catalogue, Unknown};

/// How long a client may reuse a current version or the bundle without asking: the catalogue changes only with a
/// deploy. Private: the routes sit behind the patients' authorizer.
pub const CACHE_CURRENT: &str = "private, max-age=300";
/// A named version never changes.
pub const CACHE_VERSION: &str = "private, max-age=31536000, immutable";

/// The HTTP answer to a read of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `200`, `304` (the client's copy is current), `401` or `404`.
    pub status: StatusCode,
    /// The FHIR JSON body (none for a `304`).
    pub body: Option<String>,
    /// The `ETag`, for `200` and `304`.
    pub etag: Option<String>,
    /// The `Cache-Control`, for `200` and `304`.
    pub cache_control: Option<&'static str>,
    /// Always FHIR JSON.
    pub content_type: &'static str,
}

/// `GET /v1/fhir/Questionnaire[/{id}[/_history/{version}]]` for an authenticated caller (`None`: the authorizer
/// ran no check, so refuse), honouring `If-None-Match`.
pub fn answer(
    catalogue: &Catalogue,
    caller_verified: bool,
    id: Option<&str>,
    version: Option<&str>,
    if_none_match: Option<&str>,
) -> Answer {
    let served = || match id {
        None => Ok(bundle(catalogue)),
        Some(id) => read(catalogue, id, version),
    };
    respond(caller_verified, "questionnaire", served, if_none_match)
}

/// The answer to a read of a published definition (`noun`: what it is, for the not-found message): `401` without
/// an identity, `404` for what is not published, else `200`, or `304` when `If-None-Match` names its tag.
pub(crate) fn respond(
    caller_verified: bool,
    noun: &str,
    served: impl FnOnce() -> Result<Served, Unknown>,
    if_none_match: Option<&str>,
) -> Answer {
    let refuse = |status: StatusCode, code: &'static str, diagnostics: String| Answer {
        status,
        body: Some(operation_outcome(&[Issue::error(code, diagnostics, None)]).to_string()),
        etag: None,
        cache_control: None,
        content_type: FHIR_JSON,
    };
    if !caller_verified {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "login",
            "a verified identity is required".into(),
        );
    }
    let served = match served() {
        Ok(served) => served,
        Err(Unknown::Instrument) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no {noun} has this id"),
            );
        }
        Err(Unknown::Version(versions)) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no such version; published: {}", versions.join(", ")),
            );
        }
    };
    let fresh = if_none_match.is_some_and(|tags| {
        tags.split(',')
            .any(|tag| tag.trim().trim_start_matches("W/") == served.etag || tag.trim() == "*")
    });
    Answer {
        status: if fresh {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        },
        body: (!fresh).then_some(served.body),
        etag: Some(served.etag),
        cache_control: Some(if served.immutable {
            CACHE_VERSION
        } else {
            CACHE_CURRENT
        }),
        content_type: FHIR_JSON,
    }
}

/// A resource ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The JSON body.
    pub body: String,
    /// A strong `ETag`: equal bodies, equal tags.
    pub etag: String,
    /// Whether the body can never change (a named version), so caches may keep it for good.
    pub immutable: bool,
}

/// Version `version` of questionnaire `id` (`_history/<version>`), or its current version.
pub fn read(catalogue: &Catalogue, id: &str, version: Option<&str>) -> Result<Served, Unknown> {
    let instrument = catalogue.get(id, version)?;
    Ok(Served {
        body: instrument.source.to_owned(),
        etag: etag(&instrument.definition_hash()),
        immutable: version.is_some(),
    })
}

/// Every current questionnaire, as a FHIR `searchset` `Bundle`.
pub fn bundle(catalogue: &Catalogue) -> Served {
    let currents: Vec<_> = catalogue.currents().collect();
    let entries: Vec<Value> = currents
        .iter()
        .map(|instrument| {
            json!({
                "fullUrl": instrument.url(),
                "resource": serde_json::from_str::<Value>(instrument.source).unwrap_or(Value::Null),
                "search": { "mode": "match" },
            })
        })
        .collect();
    let hashes: Vec<String> = currents.iter().map(|i| i.definition_hash()).collect();
    Served {
        body: json!({
            "resourceType": "Bundle",
            "type": "searchset",
            "total": entries.len(),
            "entry": entries,
        })
        .to_string(),
        etag: etag(&hex::encode(Sha256::digest(hashes.join("\n")))),
        immutable: false,
    }
}

/// A quoted strong ETag from a hash (its first 32 hex digits suffice to tell versions apart).
pub(crate) fn etag(hash: &str) -> String {
    let digits = hash.trim_start_matches("sha256:");
    format!("\"{}\"", &digits[..digits.len().min(32)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> &'static Catalogue {
        Catalogue::embedded()
    }

    #[test]
    fn a_questionnaire_is_served_as_published() {
        let current = read(catalogue(), "qol-daily", None).unwrap();
        let first = read(catalogue(), "qol-daily", Some("1")).unwrap();
        assert_eq!(first.body, catalogue().versions("qol-daily")[0].source);
        assert_ne!(current.etag, first.etag, "each version has its tag");
        assert!(first.immutable && !current.immutable);
        let body: Value = serde_json::from_str(&current.body).unwrap();
        assert_eq!(body["version"], "2");
        assert!(matches!(
            read(catalogue(), "qol-daily", Some("7")),
            Err(Unknown::Version(_))
        ));
        assert_eq!(read(catalogue(), "nope", None), Err(Unknown::Instrument));
    }

    #[test]
    fn a_read_answers_200_then_304_for_the_same_tag_and_404_for_what_is_not_there() {
        let first = answer(catalogue(), true, Some("phq-9"), None, None);
        assert_eq!(first.status, 200);
        assert_eq!(first.cache_control, Some(CACHE_CURRENT));
        let etag = first.etag.clone().unwrap();
        let again = answer(
            catalogue(),
            true,
            Some("phq-9"),
            None,
            Some(&format!("W/{etag}, \"other\"")),
        );
        assert_eq!((again.status, again.body), (StatusCode::NOT_MODIFIED, None));
        let versioned = answer(catalogue(), true, Some("phq-9"), Some("1"), None);
        assert_eq!(versioned.cache_control, Some(CACHE_VERSION));
        for (id, version) in [(Some("sf-36"), None), (Some("phq-9"), Some("2"))] {
            let missing = answer(catalogue(), true, id, version, None);
            assert_eq!(missing.status, 404);
            let outcome: Value = serde_json::from_str(missing.body.as_deref().unwrap()).unwrap();
            assert_eq!(outcome["issue"][0]["code"], "not-found");
        }
        let anonymous = answer(catalogue(), false, None, None, None);
        assert_eq!(anonymous.status, 401, "fail closed without an identity");
        assert_eq!(answer(catalogue(), true, None, None, None).status, 200);
    }

    #[test]
    fn the_bundle_holds_the_current_version_of_each_instrument() {
        let served = bundle(catalogue());
        let resource: Value = serde_json::from_str(&served.body).unwrap();
        assert_eq!(resource["type"], "searchset");
        let versions: Vec<(String, String)> = resource["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["resource"]["id"].as_str().unwrap().into(),
                    e["resource"]["version"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert!(versions.contains(&("qol-daily".into(), "2".into())));
        assert!(!versions.contains(&("qol-daily".into(), "1".into())));
        assert_eq!(resource["total"], versions.len());
        assert_eq!(
            served.etag,
            bundle(catalogue()).etag,
            "stable between calls"
        );
    }
}
