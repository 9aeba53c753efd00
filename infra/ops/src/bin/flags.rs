//! `flags --trial <id>`: what a trial's data managers should look at (repeats, fast device clocks, conflicting
//! resends), oldest first; `--json` for a machine.

use std::process::ExitCode;

use clap::Parser;
use intake_ops::flags::flags;
use intake_ops::{Aws, StackChoice};

/// Lists a trial's flagged submissions.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    stack: StackChoice,
    /// The trial.
    #[arg(long)]
    trial: String,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let result = async {
        let aws = Aws::load().await;
        let stack = args.stack.resolve(&aws).await?;
        flags(&aws, &stack, &args.trial).await
    }
    .await;
    match result {
        Ok(rows) if args.json => {
            for row in &rows {
                println!("{}", serde_json::to_string(row).expect("a row serialises"));
            }
            ExitCode::SUCCESS
        }
        Ok(rows) => {
            println!("{} flag(s) in trial {}", rows.len(), args.trial);
            // Conflicts first: each is content a patient's app was told was received and that is not the stored
            // version; a data manager looks at both.
            let (conflicts, others): (Vec<_>, Vec<_>) =
                rows.iter().partition(|row| row.kind == "conflict");
            if !conflicts.is_empty() {
                println!(
                    "\n  CONFLICTING RESENDS: {} (the app was told 202; the stored original is unchanged; compare both)",
                    conflicts.len()
                );
            }
            for row in conflicts.iter().chain(&others) {
                println!(
                    "  {}  {:<12} {}  {}",
                    row.flagged_at, row.kind, row.pk, row.detail
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("flags: {error}");
            ExitCode::from(2)
        }
    }
}
