//! `hoist run TASK.yaml --backend sagemaker`: the job's attempt as a
//! SageMaker training job (see `backends/sagemaker.rs`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use super::Context;
use super::run::{Started, check_secrets, finish, new_attempt, show_notices, upload_bundle, watch};
use crate::backends::Jobs;
use crate::backends::sagemaker::{Options, SageMaker};
use crate::cli::RunArgs;
use crate::exit::UsageError;
use crate::jobs::record::{JobRecord, Status};

/// How often an attached run asks SageMaker how the job's start goes.
const STARTING_POLL: Duration = Duration::from_secs(5);

pub async fn run(ctx: &Context, args: &RunArgs, jobs: &Jobs, record: JobRecord, is_new: bool) -> Result<ExitCode> {
    let aws = jobs.aws()?;
    let sm = jobs.sagemaker()?;
    let notes = flag_notes(args, &record.task)?;
    if !is_new
        && let Some(job) = sm.describe(&record).await?
        && !job.is_finished()
    {
        // Its final checkpoint is still being uploaded to the prefix the
        // new attempt restores from.
        return Err(UsageError(format!(
            "job {}'s training job {} is still {} ({}): resume it once it has ended (`hoist jobs` shows it)",
            record.id, job.name, job.status, job.secondary_status
        ))
        .into());
    }
    // Everything that can be wrong is found before anything is created:
    // the footprint, the secrets, the instance type, the image.
    let role_arn = sm.footprint().await?;
    let opts = Options {
        agent_binary: args.agent_binary.clone(),
        refresh_catalog: args.refresh_catalog,
        network_isolation: args.network_isolation,
        encrypt_inter_node: args.encrypt_inter_node,
        vpc: sm.vpc(aws).await?,
    };
    let plan = sm.plan(aws, &record.task, &opts).await.map_err(|e| at_field(e, args.task.as_deref()))?;
    check_secrets(aws, &record.task.secrets).await?;
    if is_new {
        let mut notes = notes;
        notes.extend(plan.notes.iter().cloned());
        show_notices(ctx, &record.task.notices, &notes);
    }
    ctx.printer.status(format!("hoist: {} chosen: {}", plan.instance_type, plan.choice.reason));
    // Remembered first: `hoist jobs` on this machine then lists the job
    // even if this run is stopped right after creating it.
    jobs.mark_uses_aws();
    let record = if is_new {
        upload_bundle(ctx, &sm.store, &record).await?;
        sm.store.create_record(&record).await?;
        record
    } else {
        new_attempt(&sm.store, &record).await?
    };
    let attempt = record.attempt().number;
    let market = if plan.spot { "managed spot" } else { "on-demand" };
    let nodes = if plan.num_nodes > 1 { format!(" x {}", plan.num_nodes) } else { String::new() };
    ctx.printer.status(format!(
        "hoist: starting a SageMaker training job for job {} (attempt {attempt}): {}{nodes}, {market}, image {}",
        record.id, plan.instance_type, plan.image
    ));
    let printer = &ctx.printer;
    let progress = |m: String| printer.status(format!("hoist: {m}"));
    let placement = match sm.submit(&record, &plan, &role_arn, &opts, &progress).await {
        Ok(p) => p,
        Err(e) => {
            // The attempt never started: say so in the record, so it can be
            // resumed and is never left pending.
            sm.store.end_attempt(&record.id, attempt, Status::Failed, &format!("could not start the training job: {e:#}")).await?;
            return Err(e);
        }
    };
    if args.detach {
        let started = Started { id: &record.id, attempt, backend: record.backend, status: record.status };
        ctx.printer.report(&started)?;
        ctx.printer.status(format!(
            "hoist: job {} submitted as SageMaker training job {} ({} {}); `hoist logs -f {}` to follow it",
            record.id, placement.instance_id, placement.market, placement.instance_type, record.id
        ));
        return Ok(ExitCode::SUCCESS);
    }
    ctx.printer.status(format!("hoist: job {} (attempt {attempt}) is training job {}", record.id, placement.instance_id));
    if !wait_for_start(ctx, jobs, sm, &record).await? {
        return finish(ctx, jobs, &record, None).await;
    }
    let last = watch(ctx, jobs, &record, attempt, None).await?;
    finish(ctx, jobs, &record, last).await
}

/// A refusal about a `resources.<field>` of a task file, pointed at the
/// field's line (`task.yaml:7: resources.image_id ...`), as the task
/// parser's own errors are.
pub fn at_field(e: anyhow::Error, path: Option<&std::path::Path>) -> anyhow::Error {
    let (Some(path), Some(UsageError(message))) = (path, e.downcast_ref::<UsageError>()) else { return e };
    let Some(field) = message.strip_prefix("resources.").and_then(|m| m.split([' ', ':']).next()) else { return e };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let line = text.lines().position(|l| l.trim_start().strip_prefix(field).is_some_and(|rest| rest.trim_start().starts_with(':')));
    match line {
        Some(i) => UsageError(format!("{}:{}: {message}", path.display(), i + 1)).into(),
        None => UsageError(format!("{}: {message}", path.display())).into(),
    }
}

/// `hoist run`'s flags as they apply to SageMaker: refused (exit 125, as
/// any input `hoist run` cannot use) or noted. `--plan` checks the same.
pub fn flag_notes(args: &RunArgs, task: &crate::task::Task) -> Result<Vec<String>> {
    if !args.secrets.is_empty() {
        return Err(UsageError(
            "--secret: on SageMaker a job's secrets come from Secrets Manager, never from this machine: store each with `hoist secret set NAME`".into(),
        )
        .into());
    }
    if args.fallback_on_demand {
        return Err(UsageError(
            "--fallback-on-demand: SageMaker waits for managed spot capacity (up to the job's MaxWaitTimeInSeconds) rather than falling back; drop the flag, or run on-demand (no `use_spot`)".into(),
        )
        .into());
    }
    let mut notes = Vec::new();
    if task.resources.alternatives().iter().any(|r| r.zone.is_some()) {
        notes.push("resources.zone does not apply to SageMaker, which places a training job itself".to_string());
    }
    if args.retry_on_interruption > 0 {
        notes.push("--retry-on-interruption: SageMaker restarts an interrupted managed spot job itself, from its checkpoint".to_string());
    }
    Ok(notes)
}

/// Until the agent runs (or the job ends), show SageMaker's own progress:
/// each new secondary status (Starting, Downloading, Training...) once.
/// False if the user stopped watching (the job was asked to stop).
async fn wait_for_start(ctx: &Context, jobs: &Jobs, sm: &SageMaker, record: &JobRecord) -> Result<bool> {
    let mut shown = 0;
    loop {
        if let Some(job) = sm.describe(record).await? {
            for (status, message) in job.transitions.iter().skip(shown) {
                let message = if message.is_empty() { String::new() } else { format!(": {message}") };
                ctx.printer.status(format!("hoist: sagemaker: {status}{message}"));
            }
            shown = shown.max(job.transitions.len());
            if job.is_finished() {
                return Ok(true);
            }
        }
        // (The job's end is seen above; `watch` then reconciles the record.)
        let now = jobs.reload(record).await?;
        if now.attempt().status != Status::Pending || now.attempt().number != record.attempt().number {
            return Ok(true);
        }
        tokio::select! {
            _ = tokio::time::sleep(STARTING_POLL) => {}
            _ = tokio::signal::ctrl_c() => {
                ctx.printer.status(format!("hoist: stopping job {} (its training job is stopped)", record.id));
                jobs.request_cancel(&now).await?;
                return Ok(false);
            }
        }
    }
}
