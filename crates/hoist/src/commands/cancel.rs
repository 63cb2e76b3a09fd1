//! `hoist cancel JOB`: stop a job. Its process group gets SIGTERM, a grace
//! period, then SIGKILL; its checkpoint is saved and it ends `cancelled`.
//! Cancelling a finished job changes nothing (re-runnable).

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::backends::Jobs;
use crate::cli::CancelArgs;
use crate::jobs::record::{JobRecord, Status};
use crate::printer::Report;

/// A local job: longer than the agent's grace period plus a final
/// checkpoint sync.
const LOCAL_WAIT: Duration = Duration::from_secs(60);

#[derive(Serialize)]
struct Cancelled<'a> {
    id: &'a str,
    status: Status,
    /// False when the job had already finished.
    changed: bool,
    /// `--no-wait`: asked to stop, not yet stopped.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cancel_requested: bool,
}

impl Report for Cancelled<'_> {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.cancel_requested {
            writeln!(out, "job {}: cancel requested; it stops after saving its checkpoint (`hoist jobs` shows when)", self.id)
        } else if self.changed {
            writeln!(out, "job {} {}", self.id, self.status)
        } else {
            writeln!(out, "job {} had already finished: {}", self.id, self.status)
        }
    }
}

pub async fn run(ctx: &Context, args: &CancelArgs) -> Result<ExitCode> {
    let jobs = Jobs::open(ctx, false).await?;
    let mut record = jobs.find(ctx.settings.workspace.value.as_str(), Some(&args.job)).await?;
    jobs.reconcile(&mut record).await?;
    if record.status.is_terminal() {
        ctx.printer.report(&Cancelled { id: &record.id, status: record.status, changed: false, cancel_requested: false })?;
        return Ok(ExitCode::SUCCESS);
    }
    jobs.request_cancel(&record).await?;
    if args.no_wait {
        ctx.printer.report(&Cancelled { id: &record.id, status: record.status, changed: true, cancel_requested: true })?;
        return Ok(ExitCode::SUCCESS);
    }
    ctx.printer.status(format!("hoist: cancelling job {} (saving its checkpoint)...", record.id));
    let record = wait_until_finished(&jobs, &record, *args.grace).await?;
    // The agent stopped the job; its instance powers off by itself, but a
    // cancelled job leaves nothing billing whatever happens to that.
    // (A training job was stopped with the request: SageMaker ends it.)
    if record.backend == crate::task::Backend::Ec2 {
        jobs.aws()?.terminate_attempt(&record).await?;
    }
    ctx.printer.report(&Cancelled { id: &record.id, status: record.status, changed: true, cancel_requested: false })?;
    Ok(ExitCode::SUCCESS)
}

async fn wait_until_finished(jobs: &Jobs, job: &JobRecord, grace: Duration) -> Result<JobRecord> {
    let started = Instant::now();
    let aws = job.backend != crate::task::Backend::Local;
    let wait = if aws { grace } else { LOCAL_WAIT };
    loop {
        let mut record = jobs.reload(job).await?;
        jobs.reconcile(&mut record).await?;
        if record.status.is_terminal() {
            return Ok(record);
        }
        if started.elapsed() > wait {
            if aws {
                // The agent did not answer (its instance hangs, or cannot
                // reach S3): stop the instance itself.
                let why = "the agent did not answer the cancel request";
                match record.backend {
                    crate::task::Backend::Sagemaker => jobs.sagemaker()?.force_stop(&record, why).await?,
                    _ => jobs.aws()?.force_stop(&record, why).await?,
                }
                return jobs.reload(job).await;
            }
            anyhow::bail!("job {} has not stopped after {} s; it is still {}", job.id, wait.as_secs(), record.status);
        }
        tokio::time::sleep(Duration::from_millis(if aws { 1000 } else { 100 })).await;
    }
}
