//! Embeds the instrument catalogue (`instruments/questionnaires/<id>/<version>.json`) into the crate at build time:
//! the functions read no file at start, and every environment runs exactly the definitions it was built with. Each
//! questionnaire, its score declarations included, is parsed here with the intake's own types: the functions parse a
//! definition the first time its instrument is used, so one that does not parse must stop the build (`sam build`
//! included), not a request. What picks a version (id, URL, version, status, effective start) is written out as
//! data, so a function reads no JSON at start.

use std::fmt::Write;
use std::path::Path;

#[allow(dead_code)]
#[path = "src/instrument/definition.rs"]
mod definition;
#[allow(dead_code)]
#[path = "src/instrument/score_declaration.rs"]
mod score_declaration;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("instruments");
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// Every file of the catalogue: its path below `instruments/` and its text.\n",
    );
    out.push_str("pub const FILES: &[(&str, &str)] = &[\n");
    let mut headers =
        String::from("/// What picks each questionnaire's version, as the build read it.\n");
    headers.push_str("pub const HEADERS: &[super::BuiltHeader] = &[\n");
    for (relative, absolute) in &files {
        if relative.starts_with("questionnaires/") {
            let text = std::fs::read_to_string(absolute).unwrap();
            let questionnaire = definition::Questionnaire::parse(&text)
                .and_then(|questionnaire| {
                    score_declaration::Score::declared(&questionnaire).map(|_| questionnaire)
                })
                .unwrap_or_else(|error| panic!("instruments/{relative} does not parse: {error}"));
            let effective_from = questionnaire
                .effective_period
                .and_then(|period| period.start);
            writeln!(
                headers,
                "    super::BuiltHeader {{ path: {relative:?}, id: {:?}, url: {:?}, version: {:?}, status: {:?}, \
                 effective_from: {effective_from:?} }},",
                questionnaire.id, questionnaire.url, questionnaire.version, questionnaire.status
            )
            .unwrap();
        }
        writeln!(out, "    ({relative:?}, include_str!({absolute:?})),").unwrap();
    }
    out.push_str("];\n");
    headers.push_str("];\n");
    out.push_str(&headers);
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("catalogue_files.rs");
    std::fs::write(target, out).unwrap();
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        println!("cargo::rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            files.push((relative, path.display().to_string()));
        }
    }
}
