//! CSV that an analyst can open in a spreadsheet safely. Excel, LibreOffice and Sheets run a cell that starts with
//! `=`, `+`, `-` or `@` (and, through them, tab or carriage return) as a formula: a patient's comment
//! `=HYPERLINK(…)` would become a live link on the analyst's machine (OWASP "CSV injection"). Such a text cell is
//! written with a leading `'`, which spreadsheets show as text; a number (`-3`, `+1.5`) is left as it is.

use std::borrow::Cow;
use std::path::Path;

use crate::Error;

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as a spreadsheet will show it, never run it.
pub fn neutralised(cell: &str) -> Cow<'_, str> {
    let formula = cell.starts_with(FORMULA_STARTS);
    if formula && !is_decimal(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A plain decimal number (`-3`, `+1.5`): what a spreadsheet reads as a number, never as a formula. Stricter than
/// Rust's float parser, which also takes `inf` and `NaN`.
fn is_decimal(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// Writes `header` and `rows` to `path`, every cell neutralised, the header's too (an unversioned table's columns
/// are keys an app chose).
pub fn write_csv<R, C>(path: &Path, header: &[&str], rows: R) -> Result<usize, Error>
where
    R: IntoIterator<Item = C>,
    C: IntoIterator,
    C::Item: AsRef<str>,
{
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record(header.iter().map(|cell| neutralised(cell).into_owned()))?;
    let mut count = 0;
    for row in rows {
        let cells: Vec<String> = row
            .into_iter()
            .map(|cell| neutralised(cell.as_ref()).into_owned())
            .collect();
        writer.write_record(&cells)?;
        count += 1;
    }
    writer.flush()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_is_shown_as_text_and_a_number_stays_a_number() {
        for formula in [
            "=HYPERLINK(\"http://x\",\"click\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "-inf",
            "+NaN",
            "-1e5",
        ] {
            assert_eq!(neutralised(formula), format!("'{formula}"), "{formula:?}");
        }
        for plain in ["-3", "+1.5", "4", "LA6569-3", "cough;fever", "", "a=b"] {
            assert_eq!(neutralised(plain), plain, "{plain:?}");
        }
    }

    #[test]
    fn every_cell_of_a_written_file_is_neutralised() {
        let folder = std::env::temp_dir().join(format!("spreadsheet-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("t.csv");
        let rows = [["P-1", "=1+1"], ["P-2", "-7"]];
        assert_eq!(
            write_csv(&path, &["patientId", "comment"], rows).unwrap(),
            2
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "patientId,comment\nP-1,'=1+1\nP-2,-7\n");
        std::fs::remove_dir_all(folder).unwrap();
    }
}
