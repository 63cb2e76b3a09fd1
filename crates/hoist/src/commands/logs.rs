//! `hoist logs [JOB] [-f] [--node K]`: a job's output, from the start (a
//! multi-node job's: one node's, rank 0's by default).

use std::process::ExitCode;

use anyhow::Result;

use super::Context;
use super::follow::{LineFormat, OnInterrupt, show_log};
use crate::backends::Jobs;
use crate::cli::LogsArgs;
use crate::exit::UsageError;

pub async fn run(ctx: &Context, args: &LogsArgs) -> Result<ExitCode> {
    let jobs = Jobs::open(ctx, false).await?;
    let record = jobs.find(ctx.settings.workspace.value.as_str(), args.job.as_deref()).await?;
    let attempt = match args.attempt {
        None => record.attempt().number,
        Some(n) if record.attempts.iter().any(|a| a.number == n) => n,
        Some(n) => {
            return Err(UsageError(format!("job {} has no attempt {n} (it has {})", record.id, record.attempts.len())).into());
        }
    };
    if args.node >= record.task.num_nodes {
        let has = if record.task.num_nodes == 1 { "one node (0)".to_string() } else { format!("nodes 0 to {}", record.task.num_nodes - 1) };
        return Err(UsageError(format!("--node {}: job {} has {has}", args.node, record.id)).into());
    }
    let format = LineFormat { json: ctx.printer.is_json(), timestamps: args.timestamps, quiet: ctx.printer.quiet, node: args.node };
    show_log(&jobs, &record, attempt, format, args.follow, OnInterrupt::Detach, None).await?;
    // Where the attempt stands, when that is not "done": a job that has
    // printed nothing yet, or that failed before its first line (an image
    // SageMaker could not pull), would otherwise show nothing at all.
    if !args.follow && !ctx.printer.quiet {
        let mut now = jobs.reload(&record).await?;
        jobs.reconcile(&mut now).await?;
        if let Some(a) = now.attempts.iter().find(|a| a.number == attempt)
            && a.status != crate::jobs::record::Status::Succeeded
        {
            let reason = a.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
            ctx.printer.status(format!("hoist: job {} attempt {attempt} is {}{reason}", now.id, a.status));
        }
    }
    Ok(ExitCode::SUCCESS)
}
