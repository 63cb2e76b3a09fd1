//! `hoist cancel JOB`: stop a job. Its process group gets SIGTERM, a grace
//! period, then SIGKILL; its checkpoint is saved and it ends `cancelled`.
//! Cancelling a finished job changes nothing (re-runnable).

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::Context;
use super::follow::resolve;
use crate::backends::local::Local;
use crate::cli::CancelArgs;
use crate::jobs::record::{JobRecord, Status};
use crate::printer::Report;

/// Longer than the agent's grace period plus a final checkpoint sync.
const WAIT: Duration = Duration::from_secs(60);

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
    let local = Local::new(&ctx.settings.workspace.value);
    let mut record = resolve(&local, ctx.settings.workspace.value.as_str(), Some(&args.job)).await?;
    local.reconcile(&mut record).await?;
    if record.status.is_terminal() {
        ctx.printer.report(&Cancelled { id: &record.id, status: record.status, changed: false, cancel_requested: false })?;
        return Ok(ExitCode::SUCCESS);
    }
    local.request_cancel(&record).await?;
    if args.no_wait {
        ctx.printer.report(&Cancelled { id: &record.id, status: record.status, changed: true, cancel_requested: true })?;
        return Ok(ExitCode::SUCCESS);
    }
    ctx.printer.status(format!("hoist: cancelling job {} (saving its checkpoint)...", record.id));
    let record = wait_until_finished(&local, &record.id).await?;
    ctx.printer.report(&Cancelled { id: &record.id, status: record.status, changed: true, cancel_requested: false })?;
    Ok(ExitCode::SUCCESS)
}

async fn wait_until_finished(local: &Local, id: &str) -> Result<JobRecord> {
    let started = Instant::now();
    loop {
        let mut record = local.store().load_record(id).await?.context("job record vanished")?;
        local.reconcile(&mut record).await?;
        if record.status.is_terminal() {
            return Ok(record);
        }
        if started.elapsed() > WAIT {
            anyhow::bail!("job {id} has not stopped after {} s; it is still {}", WAIT.as_secs(), record.status);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
