//! The instrument catalogue: every published version of every questionnaire, embedded at build time.
//!
//! Published versions never change and are never removed: a patient whose app still shows version 1 can always
//! submit against version 1. The current version of an instrument is its highest `active` one.

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, OnceLock};

use serde::Deserialize;

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::definition::{Item, Period, Questionnaire, canonical_base};
use super::score_declaration::Score;

pub(crate) mod files {
    include!(concat!(env!("OUT_DIR"), "/catalogue_files.rs"));
}

/// Where the questionnaires sit below `instruments/`.
const QUESTIONNAIRES: &str = "questionnaires/";

/// One published version of one instrument. What picks a version (its id, number, status, effective period and
/// URL) is read with the catalogue; the rest of the definition (items, scores) the first time it is used. A function
/// parses the instruments its requests name, not all of them at start (they were a quarter of submit's `main`).
#[derive(Debug, Clone)]
pub struct Instrument {
    header: Header,
    definition: OnceLock<Definition>,
    /// The file as published: what apps are served, byte for byte.
    pub source: &'static str,
    /// The file's path below `instruments/`.
    pub path: &'static str,
}

/// What picks a version: read from the file without its items.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    id: String,
    url: String,
    version: String,
    status: String,
    effective_period: Option<Period>,
}

/// An embedded questionnaire's header, as the build read it (build.rs writes `files::HEADERS`): the embedded
/// catalogue is built from these at start, reading no JSON (skimming the files was most of what remained of its
/// start-up cost).
#[derive(Debug)]
pub(crate) struct BuiltHeader {
    pub path: &'static str,
    pub id: &'static str,
    pub url: &'static str,
    pub version: &'static str,
    pub status: &'static str,
    pub effective_from: Option<&'static str>,
}

impl From<&BuiltHeader> for Header {
    fn from(built: &BuiltHeader) -> Self {
        Header {
            id: built.id.to_owned(),
            url: built.url.to_owned(),
            version: built.version.to_owned(),
            status: built.status.to_owned(),
            effective_period: built.effective_from.map(|start| Period {
                start: Some(start.to_owned()),
            }),
        }
    }
}

/// The definition as the intake reads it.
#[derive(Debug, Clone)]
struct Definition {
    questionnaire: Questionnaire,
    /// Where each item sits in the tree (child indices from the top), by `linkId`: looked up per answer.
    positions: HashMap<String, Vec<usize>>,
    scores: Vec<Score>,
}

impl Definition {
    fn parse(source: &str) -> Result<Self, String> {
        fn index(items: &[Item], prefix: &[usize], positions: &mut HashMap<String, Vec<usize>>) {
            for (at, item) in items.iter().enumerate() {
                let position: Vec<usize> = prefix.iter().copied().chain([at]).collect();
                index(&item.item, &position, positions);
                positions.entry(item.link_id.clone()).or_insert(position);
            }
        }
        let questionnaire = Questionnaire::parse(source)?;
        let scores = Score::declared(&questionnaire)?;
        let mut positions = HashMap::new();
        index(&questionnaire.item, &[], &mut positions);
        Ok(Definition {
            questionnaire,
            positions,
            scores,
        })
    }
}

impl Instrument {
    fn read(source: &'static str, path: &'static str) -> Result<Self, String> {
        let header = serde_json::from_str(source).map_err(|error| format!("{path}: {error}"))?;
        Ok(Instrument::with_header(header, source, path))
    }

    fn with_header(header: Header, source: &'static str, path: &'static str) -> Self {
        Instrument {
            header,
            definition: OnceLock::new(),
            source,
            path,
        }
    }

    /// Parses the whole definition now, if it was not yet: whether it parses.
    fn parse_whole(&self) -> Result<(), String> {
        if self.definition.get().is_none() {
            let definition = Definition::parse(self.source)
                .map_err(|error| format!("{}: {error}", self.path))?;
            let _ = self.definition.set(definition);
        }
        Ok(())
    }

    fn definition(&self) -> &Definition {
        self.definition.get_or_init(|| {
            Definition::parse(self.source).unwrap_or_else(|error| {
                // Unreachable in a built crate: build.rs reads every questionnaire and its score declarations with
                // these same types, and a file that does not parse stops the build.
                panic!("{}: {error}", self.path)
            })
        })
    }

    /// The definition as the intake reads it.
    pub fn questionnaire(&self) -> &Questionnaire {
        &self.definition().questionnaire
    }

    /// Its declared scores.
    pub fn scores(&self) -> &[Score] {
        &self.definition().scores
    }

    /// The item with `link_id` (the first, were a definition to repeat one: the catalogue check forbids it).
    pub fn item(&self, link_id: &str) -> Option<&Item> {
        let definition = self.definition();
        let (first, rest) = definition.positions.get(link_id)?.split_first()?;
        rest.iter()
            .try_fold(definition.questionnaire.item.get(*first)?, |item, at| {
                item.item.get(*at)
            })
    }

    /// The group `link_id` is an item of, or `None` for a top-level item (or one the definition does not have).
    pub fn parent_of(&self, link_id: &str) -> Option<&Item> {
        let definition = self.definition();
        let position = definition.positions.get(link_id)?;
        let (_, parent) = position.split_last()?;
        let (first, rest) = parent.split_first()?;
        rest.iter()
            .try_fold(definition.questionnaire.item.get(*first)?, |item, at| {
                item.item.get(*at)
            })
    }

    /// When this version took (or takes) effect, if it says.
    pub fn effective_from(&self) -> Option<OffsetDateTime> {
        let start = self.header.effective_period.as_ref()?.start.as_deref()?;
        OffsetDateTime::parse(start, &Rfc3339).ok()
    }

    /// The instrument id.
    pub fn id(&self) -> &str {
        &self.header.id
    }

    /// The version.
    pub fn version(&self) -> &str {
        &self.header.version
    }

    /// Whether this version is `active` (one that is `retired` is served, but never chosen for a submission naming
    /// no version, nor current).
    pub fn is_active(&self) -> bool {
        self.header.status == "active"
    }

    /// The canonical reference to this version: `url|version`.
    pub fn canonical(&self) -> String {
        format!("{}|{}", self.header.url, self.header.version)
    }

    /// Its canonical URL: `<base>/Questionnaire/<id>`.
    pub fn url(&self) -> &str {
        &self.header.url
    }

    /// The canonical base: the part of its URL before `/Questionnaire/<id>`.
    fn base(&self) -> Option<&str> {
        canonical_base(&self.header.url, &self.header.id)
    }

    /// `sha256:<hex>` of the definition's canonical JSON (keys sorted, no white space): what the lock file
    /// records, so reformatting a file is not a change but any edit of its content is.
    pub fn definition_hash(&self) -> String {
        canonical_hash(self.source)
    }

    fn number(&self) -> u64 {
        self.version().parse().unwrap_or(0)
    }
}

/// `sha256:<hex>` of a JSON file's canonical form (keys sorted, no white space): the lock file's fingerprint of a
/// published definition.
pub fn canonical_hash(source: &str) -> String {
    let value: Value = serde_json::from_str(source).unwrap_or(Value::Null);
    let mut canonical = String::new();
    write_canonical(&value, &mut canonical);
    format!("sha256:{}", hex::encode(Sha256::digest(canonical)))
}

/// Why an instrument or version was not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unknown {
    /// No instrument has this id.
    Instrument,
    /// The instrument has no such version; these are its versions.
    Version(Vec<String>),
}

/// Every published version of every instrument.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Versions of each instrument, oldest first.
    instruments: BTreeMap<String, Vec<Instrument>>,
}

static EMBEDDED: LazyLock<Catalogue> =
    LazyLock::new(|| Catalogue::built(files::FILES, files::HEADERS));

impl Catalogue {
    /// The catalogue this build embeds, each definition parsed whole the first time it is used. The build parsed
    /// every questionnaire whole and wrote out what picks its version, so there is nothing left to fail.
    pub fn embedded() -> &'static Catalogue {
        &EMBEDDED
    }

    /// A catalogue of `(path, text)` files, each definition parsed whole now; only those under `questionnaires/`
    /// are questionnaires.
    pub fn from_files(files: &[(&'static str, &'static str)]) -> Result<Catalogue, String> {
        let catalogue = Catalogue::read(files)?;
        for instrument in catalogue.all() {
            instrument.parse_whole()?;
        }
        Ok(catalogue)
    }

    /// A catalogue of `(path, text)` files, each definition parsed whole the first time it is used.
    pub(crate) fn read(files: &[(&'static str, &'static str)]) -> Result<Catalogue, String> {
        let instruments = files
            .iter()
            .filter(|(path, _)| path.starts_with(QUESTIONNAIRES))
            .map(|&(path, source)| Instrument::read(source, path))
            .collect::<Result<_, _>>()?;
        Ok(Catalogue::of(instruments))
    }

    /// The embedded files, each questionnaire picked by the header the build read.
    fn built(files: &[(&'static str, &'static str)], headers: &[BuiltHeader]) -> Catalogue {
        let source = |path: &str| {
            files
                .iter()
                .find_map(|&(file, text)| (file == path).then_some(text))
                .expect("build.rs writes a header for each file it embeds")
        };
        Catalogue::of(
            headers
                .iter()
                .map(|built| Instrument::with_header(built.into(), source(built.path), built.path))
                .collect(),
        )
    }

    fn of(all: Vec<Instrument>) -> Catalogue {
        let mut instruments: BTreeMap<String, Vec<Instrument>> = BTreeMap::new();
        for instrument in all {
            instruments
                .entry(instrument.id().to_owned())
                .or_default()
                .push(instrument);
        }
        for versions in instruments.values_mut() {
            versions.sort_by_key(Instrument::number);
        }
        Catalogue { instruments }
    }

    /// Every version of every instrument.
    pub fn all(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.values().flatten()
    }

    /// Every version of `id`, oldest first.
    pub fn versions(&self, id: &str) -> &[Instrument] {
        self.instruments.get(id).map_or(&[], Vec::as_slice)
    }

    /// The instrument ids.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.instruments.keys().map(String::as_str)
    }

    /// The current version of `id`: the one in effect now. A version published ahead of its `effectivePeriod`
    /// stays readable by its number (apps may fetch it early) but is not what an app should render yet.
    pub fn current(&self, id: &str) -> Option<&Instrument> {
        self.in_effect_at(id, OffsetDateTime::now_utc())
    }

    /// The version of `id` in effect at `at` (RFC 3339): the highest active one whose `effectivePeriod` started by
    /// then (or that declares none). What a submission naming no version is judged against: a retry of a survey
    /// completed before a newer version took effect is judged as it was the first time.
    pub fn in_effect(&self, id: &str, at: &str) -> Option<&Instrument> {
        self.in_effect_at(id, OffsetDateTime::parse(at, &Rfc3339).ok()?)
    }

    fn in_effect_at(&self, id: &str, at: OffsetDateTime) -> Option<&Instrument> {
        self.versions(id)
            .iter()
            .rev()
            .filter(|instrument| instrument.is_active())
            .find(|instrument| instrument.effective_from().is_none_or(|from| from <= at))
    }

    /// The current version of every instrument.
    pub fn currents(&self) -> impl Iterator<Item = &Instrument> {
        self.ids().filter_map(|id| self.current(id))
    }

    /// Version `version` of `id`, or its current version when none is named.
    pub fn get(&self, id: &str, version: Option<&str>) -> Result<&Instrument, Unknown> {
        let versions = self.versions(id);
        if versions.is_empty() {
            return Err(Unknown::Instrument);
        }
        match version {
            None => self.current(id).ok_or(Unknown::Version(Vec::new())),
            Some(version) => versions
                .iter()
                .find(|instrument| instrument.version() == version)
                .ok_or_else(|| {
                    Unknown::Version(versions.iter().map(|i| i.version().to_owned()).collect())
                }),
        }
    }

    /// The canonical base every questionnaire URL starts with (`https://…/fhir`), from the first definition.
    pub fn base(&self) -> &str {
        self.all().find_map(Instrument::base).unwrap_or_default()
    }

    /// The instrument whose canonical URL is `url`.
    pub fn id_of_url(&self, url: &str) -> Option<&str> {
        self.all()
            .find(|instrument| instrument.url() == url)
            .map(Instrument::id)
    }
}

/// JSON with object keys sorted, whatever order the parser kept them in.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}
