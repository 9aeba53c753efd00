//! What an export holds, for the data manager who files it and the auditor who checks it later: each file with its
//! row count and SHA-256, the command and the time it was made, the tool's version, and every transform applied to
//! what was stored.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Error;

/// The manifest's file name.
pub const FILE: &str = "manifest.json";

/// What the export did to the stored data on its way out.
pub const TRANSFORMS: [&str; 2] = [
    "CSV: a text cell a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) is written with a leading '",
    "CSV: an item with several entries is one cell, entries joined with ; (a ; or \\ inside an entry written \\; or \\\\)",
];

/// The manifest.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub trial_id: String,
    pub command: String,
    pub written_at: String,
    pub tool: String,
    pub files: Vec<File>,
    pub transforms: Vec<String>,
}

/// One file of the export.
#[derive(Debug, Serialize)]
pub struct File {
    pub name: String,
    pub rows: usize,
    pub sha256: String,
}

/// Writes the manifest of `files` (each with its rows) into `folder`, listing [`TRANSFORMS`] and `more`.
pub fn write(
    folder: &Path,
    (trial_id, command, written_at): (&str, &str, &str),
    files: &[(PathBuf, usize)],
    more: &[String],
) -> Result<PathBuf, Error> {
    let files = files
        .iter()
        .map(|(path, rows)| {
            Ok(File {
                // Relative to the export's folder (`quarantined/phq-9-v1.csv`).
                name: path
                    .strip_prefix(folder)
                    .unwrap_or(path)
                    .to_string_lossy()
                    .into_owned(),
                rows: *rows,
                sha256: hex::encode(Sha256::digest(std::fs::read(path)?)),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let manifest = Manifest {
        trial_id: trial_id.to_owned(),
        command: command.to_owned(),
        written_at: written_at.to_owned(),
        tool: format!("intake-ops export {}", env!("CARGO_PKG_VERSION")),
        files,
        transforms: TRANSFORMS
            .iter()
            .map(|t| (*t).to_owned())
            .chain(more.iter().cloned())
            .collect(),
    };
    let path = folder.join(FILE);
    std::fs::write(&path, serde_json::to_string_pretty(&manifest)? + "\n")?;
    Ok(path)
}
