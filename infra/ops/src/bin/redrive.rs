//! `redrive`: after the cause is fixed, moves dead letters back to the submission queue. Never loses a message:
//! SQS's move task, or send first and delete after. `--dry-run` only counts and classifies them.

use std::process::ExitCode;

use clap::Parser;
use intake_ops::redrive::{Action, Method, Redrive, count, redrive};
use intake_ops::{Aws, Error, StackChoice};

/// Moves the dead-letter queue's messages back to the submission queue.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    stack: StackChoice,
    /// Count and classify the dead letters; move nothing.
    #[arg(long)]
    dry_run: bool,
    /// How to move them.
    #[arg(long, value_enum, default_value_t = Method::Auto)]
    method: Method,
    /// Dead-letter queue URL (default: the stack's DeadLetterQueueUrl).
    #[arg(long)]
    from: Option<String>,
    /// Source queue URL (default: the stack's QueueUrl).
    #[arg(long)]
    to: Option<String>,
}

async fn run(args: &Args, aws: &Aws) -> Result<(String, String, Redrive), Error> {
    let (from, to) = match (&args.from, &args.to) {
        (Some(from), Some(to)) => (from.clone(), to.clone()),
        _ => {
            let stack = args.stack.resolve(aws).await?;
            (
                args.from.clone().unwrap_or(stack.dead_letter_queue_url),
                args.to.clone().unwrap_or(stack.queue_url),
            )
        }
    };
    let report = if args.dry_run {
        // Each message is held hidden while the count goes on, so none is counted twice; all reappear at the end.
        let progress = indicatif::ProgressBar::new_spinner()
            .with_style(indicatif::ProgressStyle::with_template(
                "{spinner} {pos} {msg}",
            )?)
            .with_message("dead letters read (held hidden until the count ends)");
        progress.enable_steady_tick(std::time::Duration::from_millis(200));
        let counted = count(&aws.sqs, &from, |read| progress.set_position(read as u64)).await;
        progress.finish_and_clear();
        counted?
    } else {
        redrive(&aws.sqs, &from, &to, Action::Move(args.method)).await?
    };
    Ok((from, to, report))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let aws = Aws::load().await;
    match run(&args, &aws).await {
        Ok((from, to, report)) => {
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
                    "Moved {} to {to} ({}); {} left in the dead-letter queue.",
                    report.moved,
                    report.method.unwrap_or("nothing to move"),
                    report.left
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
