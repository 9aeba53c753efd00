//! `migrate`: brings the items a deployed table holds to the layout its template now declares. A dry run by
//! default (counts what each pending migration would change); `--apply` runs them in order, resumable and safe to
//! run twice. See docs/operations.md, "Layout migrations".

use std::process::ExitCode;

use clap::Parser;
use intake_ops::migrate::{self, Counts, MIGRATIONS, Migration, Options, Outcome};
use intake_ops::{Aws, Error, StackChoice};

/// Migrates the stored items of a stack's table to the current layout.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    stack: StackChoice,
    /// Change the items; without it, only count what would change.
    #[arg(long)]
    apply: bool,
    /// Items read per scan page (progress is saved after each).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(i32).range(1..=1000))]
    page_size: i32,
    /// Stop after this many pages (e.g. at the end of a maintenance window); the next run resumes there.
    #[arg(long)]
    max_pages: Option<u32>,
}

fn spinner(message: String) -> Result<indicatif::ProgressBar, Error> {
    let progress = indicatif::ProgressBar::new_spinner()
        .with_style(indicatif::ProgressStyle::with_template("{spinner} {msg}")?)
        .with_message(message);
    progress.enable_steady_tick(std::time::Duration::from_millis(200));
    Ok(progress)
}

fn tally(counts: &Counts, verb: &str) -> String {
    let mut text = format!("{} item(s) read, {} {verb}", counts.read, counts.changed);
    if counts.unchanged > 0 {
        text += &format!(", {} already had it", counts.unchanged);
    }
    if counts.skipped > 0 {
        text += &format!(
            ", {} left alone (not as the migration expects: look at them)",
            counts.skipped
        );
    }
    text
}

async fn plan(
    aws: &Aws,
    table: &str,
    migration: &dyn Migration,
    options: &Options,
) -> Result<(), Error> {
    let ledger = migrate::Ledger::new(&aws.dynamodb, table);
    match ledger.entry(migration.id()).await? {
        Some(entry) if entry.is_done() => {
            println!(
                "  {}: done at {}",
                migration.id(),
                entry.finished_at.unwrap_or_default()
            );
            return Ok(());
        }
        Some(entry) => println!(
            "  {}: interrupted at {} after {} change(s); --apply resumes it",
            migration.id(),
            entry.updated_at,
            entry.changed
        ),
        None => println!("  {}: never run: {}", migration.id(), migration.summary()),
    }
    if let Some(reason) = migrate::not_ready(&aws.dynamodb, table, migration).await? {
        println!("    not ready: {reason}");
    }
    let progress = spinner(format!("{}: counting…", migration.id()))?;
    let counts = migrate::dry_run(&aws.dynamodb, table, migration, options, |counts| {
        progress.set_message(format!(
            "{}: {}",
            migration.id(),
            tally(counts, "to change")
        ));
    })
    .await;
    progress.finish_and_clear();
    println!("    {}", tally(&counts?, "to change"));
    Ok(())
}

async fn apply(
    aws: &Aws,
    table: &str,
    migration: &dyn Migration,
    options: &Options,
) -> Result<bool, Error> {
    let owner = uuid::Uuid::new_v4().to_string();
    let progress = spinner(format!("{}: starting…", migration.id()))?;
    let outcome = migrate::migrate(&aws.dynamodb, table, migration, options, &owner, |counts| {
        progress.set_message(format!("{}: {}", migration.id(), tally(counts, "changed")));
    })
    .await;
    progress.finish_and_clear();
    let (entry, finished) = match outcome? {
        Outcome::AlreadyDone(entry) => {
            println!(
                "  {}: already done at {}",
                migration.id(),
                entry.finished_at.unwrap_or_default()
            );
            return Ok(true);
        }
        Outcome::Finished(entry) => (entry, true),
        Outcome::Paused(entry) => (entry, false),
    };
    println!(
        "  {}: {} over {} run(s): {}",
        migration.id(),
        if finished {
            "done"
        } else {
            "paused (run it again to go on)"
        },
        entry.runs,
        tally(&entry.counts(), "changed")
    );
    Ok(finished)
}

/// Refuses while the stack is being deployed: functions of the old release may still be writing items the old way,
/// and a pass that finds none proves nothing until they have stopped.
async fn settled(aws: &Aws, name: &str) -> Result<(), Error> {
    let described = aws
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| format!("cannot describe stack {name}: {e}"))?;
    let status = described
        .stacks()
        .first()
        .and_then(|stack| stack.stack_status())
        .map(|status| status.as_str().to_owned())
        .unwrap_or_default();
    if status.ends_with("_IN_PROGRESS") {
        return Err(
            format!("stack {name} is {status}: run migrate when the deploy has finished").into(),
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        page_size: args.page_size,
        max_pages: args.max_pages,
    };
    let result = async {
        let aws = Aws::load().await;
        let stack = args.stack.resolve(&aws).await?;
        if let (true, Some(name)) = (args.apply, &args.stack.stack) {
            settled(&aws, name).await?;
        }
        println!(
            "{} {} migration(s) on table {}",
            if args.apply { "Applying" } else { "Dry run of" },
            MIGRATIONS.len(),
            stack.table_name
        );
        let mut finished = true;
        for migration in MIGRATIONS {
            if args.apply {
                // A later migration may build on this one: stop at the first that pauses.
                finished = apply(&aws, &stack.table_name, *migration, &options).await?;
                if !finished {
                    break;
                }
            } else {
                plan(&aws, &stack.table_name, *migration, &options).await?;
            }
        }
        Ok::<_, Error>(finished)
    }
    .await;
    match result {
        Ok(true) if !args.apply => {
            println!(
                "Nothing changed. Run with --apply (make migrate MIGRATE_ARGS=--apply) to migrate."
            );
            ExitCode::SUCCESS
        }
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!(
                "migrate failed: {error}; what it changed so far is recorded, and running it again resumes"
            );
            ExitCode::from(2)
        }
    }
}
