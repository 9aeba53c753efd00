//! The independent FHIR judge for what an export writes: fhir.resources (`make fhir-check` installs it).

use std::path::Path;

const FHIR_PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../.local/fhir/bin/python");
const VALIDATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fhir/validate.py");

/// The NDJSON file at `path`, once fhir.resources has accepted every line.
pub fn valid_fhir_lines(path: &Path) -> String {
    let ndjson = std::fs::read_to_string(path).unwrap();
    let resources = path.with_extension("resources");
    std::fs::create_dir_all(&resources).unwrap();
    for (n, line) in ndjson.lines().enumerate() {
        std::fs::write(resources.join(format!("{n}.json")), line).unwrap();
    }
    assert!(
        Path::new(FHIR_PYTHON).exists(),
        "fhir.resources is not installed: run `make fhir-check`"
    );
    let judged = std::process::Command::new(FHIR_PYTHON)
        .arg(VALIDATE)
        .arg(&resources)
        .output()
        .unwrap();
    assert!(
        judged.status.success(),
        "{}",
        String::from_utf8_lossy(&judged.stderr)
    );
    ndjson
}
