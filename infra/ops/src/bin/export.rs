//! `export --trial <id>`: a trial's submissions as CSV for analysts (one file per instrument version) and as FHIR
//! `QuestionnaireResponse` NDJSON, into a folder; with CSV, its schedule compliance too (surveys due, figures); and
//! its audit trail. Each corrected submission as its current version, earlier versions in a FHIR history file.
//! Submissions excluded from analysis, or completed after withdrawal, are written apart.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use intake::instrument::Catalogue;
use intake_ops::export::deidentify::{Deidentifier, Precision, transforms};
use intake_ops::export::{
    Standing, audit, by_instrument, compliance, excluded, is_quarantined, load, manifest, secret,
    versions, withdrawals, write,
};
use intake_ops::{Aws, StackChoice};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One CSV per instrument version: a row per submission, a column per item, then the scores.
    Csv,
    /// FHIR R4 `QuestionnaireResponse`s, one per line (NDJSON).
    Fhir,
    /// Both.
    All,
}

/// Exports a trial's submissions.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    stack: StackChoice,
    /// The trial.
    #[arg(long)]
    trial: String,
    /// The folder to write into (default: export/<trial>).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::All)]
    format: Format,
    /// De-identify: pseudonymous ids under the trial's key (Secrets Manager), one date shift per patient, times
    /// reduced, free text removed (default folder: export/<trial>-deidentified).
    #[arg(long)]
    deidentify: bool,
    /// How much of each time a de-identified export keeps.
    #[arg(long, value_enum, default_value_t = Precision::Day, requires = "deidentify")]
    time_precision: Precision,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let folder = args.out.clone().unwrap_or_else(|| {
        let name = if args.deidentify {
            format!("{}-deidentified", args.trial)
        } else {
            args.trial.clone()
        };
        PathBuf::from("export").join(name)
    });
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("  {spinner} {msg} [{bar:30}] {pos}/{len}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("listing the trial's submissions");
    let result = async {
        // A de-identified export must not sit beside identified files it does not list.
        if args.deidentify
            && std::fs::read_dir(&folder).is_ok_and(|mut entries| entries.next().is_some())
        {
            return Err(format!(
                "{} is not empty: a de-identified export needs a folder of its own",
                folder.display()
            )
            .into());
        }
        let aws = Aws::load().await;
        let stack = args.stack.resolve(&aws).await?;
        let items = load(
            &aws,
            &stack,
            &args.trial,
            |listed| {
                bar.set_length(listed as u64);
                bar.set_message("reading");
            },
            |read, _| bar.set_position(read as u64),
        )
        .await?;
        bar.finish_and_clear();
        let (csv, fhir) = match args.format {
            Format::Csv => (true, false),
            Format::Fhir => (false, true),
            Format::All => (true, true),
        };
        let catalogue = Catalogue::embedded();
        let records = intake::aws::DynamoStore::new(aws.dynamodb.clone(), stack.table_name.clone());
        let corrections = versions::corrections(&records, &args.trial, &items).await?;
        let (current, numbers, history) = versions::current(&items, &corrections);
        let mut standing = Standing {
            withdrawals: withdrawals(&aws, &stack, &args.trial, &items).await?,
            excluded: excluded(&records, &args.trial).await?,
            versions: numbers,
            history,
        };
        let mut more = Vec::new();
        let exported: Vec<_> = if args.deidentify {
            let key = secret::trial_key(&aws.secrets, &stack.table_name, &args.trial).await?;
            let deidentifier = Deidentifier::new(&key, args.time_precision);
            more = transforms(args.time_precision);
            more.push(
                "submissions completed after their patient's withdrawal: not exported".into(),
            );
            more.push("submissions excluded from analysis: not exported".into());
            more.push("the audit trail (staff ids and reasons as typed): not exported".into());
            more.push(
                "corrected submissions: the current version only (earlier versions hold what was replaced)"
                    .into(),
            );
            let kept: Vec<_> = current
                .iter()
                .filter(|item| !is_quarantined(item, &standing.withdrawals))
                .filter(|item| !standing.excluded.contains(&item.submission.submission_id))
                .collect();
            let pseudonymous: Vec<_> = kept
                .iter()
                .map(|item| deidentifier.item(item, catalogue))
                .collect();
            // Version numbers follow each submission to its pseudonym; earlier versions are not exported.
            standing.history.clear();
            standing.versions = kept
                .iter()
                .zip(&pseudonymous)
                .filter_map(|(item, out)| {
                    let number = standing.versions.get(&item.submission.submission_id)?;
                    Some((out.submission.submission_id, *number))
                })
                .collect();
            pseudonymous
        } else {
            current
        };
        let mut written = write(&folder, &exported, catalogue, (csv, fhir), &standing)?;
        // The audit trail and the compliance files name patients, staff and dates, and the trail reasons as
        // typed: not part of a de-identified export.
        if !args.deidentify {
            let trail = audit::trail(&records, &args.trial).await?;
            written.files.push(audit::write(&folder, &trail)?);
        }
        if csv && !args.deidentify {
            let calendar = intake::ports::Enrolments::calendar(&records, &args.trial)
                .await
                .map_err(|e| e.to_string())?;
            if !calendar.is_empty() {
                let now = intake::item::format_timestamp(time::OffsetDateTime::now_utc());
                written
                    .files
                    .extend(compliance::write(&folder, &calendar, &now)?);
            }
        }
        // The manifest last: it names every file above, with its SHA-256.
        let command = std::env::args().collect::<Vec<_>>().join(" ");
        let now = intake::item::format_timestamp(time::OffsetDateTime::now_utc());
        let made = (args.trial.as_str(), command.as_str(), now.as_str());
        let manifest = manifest::write(&folder, made, &written.files, &more)?;
        Ok::<_, intake_ops::Error>((exported, written, manifest))
    }
    .await;
    match result {
        Ok((items, written, manifest)) => {
            println!("{} submission(s) of trial {}", items.len(), args.trial);
            for (instrument, count) in by_instrument(&items) {
                println!("  {instrument:<28} {count}");
            }
            for (path, rows) in &written.files {
                println!("  wrote {} ({rows} row(s))", path.display());
            }
            println!(
                "  wrote {} (each file above with its SHA-256)",
                manifest.display()
            );
            if written.excluded > 0 {
                println!(
                    "  {} submission(s) excluded from analysis are apart, in excluded/",
                    written.excluded
                );
            }
            if written.quarantined > 0 {
                println!(
                    "  {} submission(s) completed after their patient's withdrawal are apart, in quarantined/",
                    written.quarantined
                );
            }
            if written.not_fhir > 0 {
                println!(
                    "  {} submission(s) from before instruments have no FHIR form; they are in the CSV",
                    written.not_fhir
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            bar.abandon();
            eprintln!("export: {error}");
            ExitCode::from(2)
        }
    }
}
