//! `redrive`: after the cause is fixed, moves dead letters back to the submission queue. Never loses a message
//! (send first, delete after). `--dry-run` only counts them.

use std::process::ExitCode;

use clap::Parser;
use intake_ops::redrive::redrive;
use intake_ops::{Aws, Stack};

/// Moves the dead-letter queue's messages back to the submission queue.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Count and classify the dead letters; move nothing.
    #[arg(long)]
    dry_run: bool,
    /// Dead-letter queue URL (default: the stack's DeadLetterQueueUrl).
    #[arg(long)]
    from: Option<String>,
    /// Source queue URL (default: the stack's QueueUrl).
    #[arg(long)]
    to: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let stack = match (&args.from, &args.to) {
        (Some(_), Some(_)) => None,
        _ => match Stack::load() {
            Ok(stack) => Some(stack),
            Err(error) => {
                eprintln!("redrive: {error}");
                return ExitCode::from(2);
            }
        },
    };
    let from = args
        .from
        .clone()
        .unwrap_or_else(|| stack.as_ref().unwrap().dead_letter_queue_url.clone());
    let to = args
        .to
        .clone()
        .unwrap_or_else(|| stack.as_ref().unwrap().queue_url.clone());
    let aws = Aws::load().await;
    match redrive(&aws, &from, &to, args.dry_run).await {
        Ok(report) => {
            println!(
                "{} {} dead letter(s) in {from}",
                if args.dry_run { "Dry run:" } else { "Redrive:" },
                report.found
            );
            for (kind, count) in &report.by_kind {
                println!("  {count:>6}  {kind}");
            }
            if args.dry_run {
                println!("Nothing moved. Run without --dry-run to move them to {to}.");
            } else {
                println!(
                    "Moved {} to {to}; {} left in the dead-letter queue.",
                    report.moved, report.left
                );
            }
            if report.left == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!(
                "redrive failed: {error}; every message not reported moved is still in the dead-letter queue"
            );
            ExitCode::from(2)
        }
    }
}
