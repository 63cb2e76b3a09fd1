//! `hoist run TASK.yaml`: start a job (attached: stream its log and exit
//! with its exit code), or `hoist run --resume JOB`: a new attempt of a
//! finished job, continuing from its last checkpoint.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::Context;
use super::follow::{LineFormat, OnInterrupt, show_log};
use crate::backends::Jobs;
use crate::backends::ec2::LaunchOptions;
use crate::cli::RunArgs;
use crate::exit::UsageError;
use crate::jobs::record::{Attempt, JobRecord, Status, new_job_id};
use crate::jobs::store::{Store, job_key};
use crate::printer::Report;
use crate::task::{Backend, Overrides, Task, parse_backend};

#[derive(Debug, Serialize)]
pub(super) struct Started<'a> {
    pub id: &'a str,
    pub attempt: u32,
    pub backend: Backend,
    pub status: Status,
}

impl Report for Started<'_> {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.id)
    }
}

pub async fn run(ctx: &Context, args: &RunArgs) -> Result<ExitCode> {
    let flag_backend = args.backend.as_deref().map(parse_backend).transpose().map_err(|m| UsageError(format!("--backend: {m}")))?;
    let workspace = ctx.settings.workspace.value.as_str();

    let (record, jobs, is_new) = match &args.resume {
        Some(query) => {
            let jobs = Jobs::open(ctx, false).await?;
            let mut record = jobs.find(workspace, Some(query)).await?;
            jobs.reconcile(&mut record).await?;
            // A launch that never finished (hoist killed, the connection
            // lost) is carried on, not refused: the same attempt, whose
            // instance, if EC2 made it, is found by its tags.
            if interrupted_launch(&record) {
                ctx.printer.status(format!("hoist: job {} (attempt {}) was never launched to the end: launching it", record.id, record.attempt().number));
                return run_ec2(ctx, args, &jobs, record, Start::Relaunch).await;
            }
            if !record.status.is_terminal() {
                return Err(still_running(&record).into());
            }
            (record, jobs, false)
        }
        None => {
            let path = args.task.as_ref().context("a task file is required")?;
            let overrides = Overrides { name: args.name.clone(), envs: parse_pairs("--env", &args.envs)?, backend: flag_backend };
            let task = Task::load(path, &overrides)?;
            let backend = match (task.backend, &ctx.settings.backend) {
                (Some(b), _) => b,
                (None, Some(b)) => b.value,
                (None, None) => Backend::Local,
            };
            // A task that names its region runs there when hoist's own
            // settings name none (a flag, the environment or the config
            // file win: they were asked for just as explicitly).
            let task_ctx;
            let ctx = match task_region(&task) {
                Some(region) if backend != Backend::Local && ctx.settings.region.is_none() => {
                    let mut settings = ctx.settings.clone();
                    settings.region = Some(crate::settings::Sourced { value: region, source: crate::settings::Source::Task { path: path.clone() } });
                    task_ctx = Context { settings, printer: ctx.printer };
                    &task_ctx
                }
                _ => ctx,
            };
            if args.plan {
                return super::run_plan::show(ctx, args, &task, backend).await;
            }
            let jobs = if backend == Backend::Local { Jobs::local_only(ctx) } else { Jobs::open(ctx, true).await? };
            let id = new_job_id(&task.name);
            (JobRecord::new(id, workspace, backend, task), jobs, true)
        }
    };
    match record.backend {
        Backend::Local => run_local(ctx, args, &jobs, record, is_new).await,
        Backend::Ec2 => run_ec2(ctx, args, &jobs, record, if is_new { Start::New } else { Start::Resume }).await,
        Backend::Sagemaker => super::run_sagemaker::run(ctx, args, &jobs, record, is_new).await,
    }
}

/// The region every alternative of the task's resources names, if they
/// name one.
fn task_region(task: &Task) -> Option<String> {
    let regions: Vec<&str> = task.resources.alternatives().iter().filter_map(|a| a.region.as_deref()).collect();
    let first = *regions.first()?;
    (regions.len() == task.resources.alternatives().len() && regions.iter().all(|r| *r == first)).then(|| first.to_string())
}

/// How `run_ec2` starts: a new job, the next attempt of a finished one, or
/// the launch of an attempt that was interrupted before its instance was
/// recorded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Start {
    New,
    Resume,
    Relaunch,
}

/// An EC2 attempt still pending with no instance recorded: `hoist run` was
/// stopped between creating the job and recording where it runs.
fn interrupted_launch(record: &JobRecord) -> bool {
    let a = record.attempt();
    record.backend == Backend::Ec2 && a.status == Status::Pending && a.instance.is_none()
}

fn still_running(record: &JobRecord) -> UsageError {
    UsageError(format!(
        "job {} is still {} (attempt {}): only a finished job can be resumed (`hoist cancel {}` first)",
        record.id,
        record.status,
        record.attempt().number,
        record.id
    ))
}

/// Start the next attempt of a finished job: a compare-and-swap, so two
/// `hoist run --resume` at once start one attempt, and the other is told.
pub(super) async fn new_attempt(store: &Store, record: &JobRecord) -> Result<JobRecord> {
    let mut refused = None;
    let updated = store
        .update_record(&record.id, |r| {
            if !r.status.is_terminal() {
                refused = Some(still_running(r));
                return Ok(false);
            }
            r.new_attempt();
            refused = None;
            Ok(true)
        })
        .await?;
    if let Some(e) = refused {
        return Err(e.into());
    }
    // A cancel request belongs to the attempt it stopped.
    store.delete(&[job_key(&record.id, "cancel")]).await?;
    Ok(updated)
}

/// Bundle the task's workdir into the job's store.
pub(super) async fn upload_bundle(ctx: &Context, store: &Store, record: &JobRecord) -> Result<()> {
    let Some(workdir) = &record.task.workdir else { return Ok(()) };
    let tmp = tempfile::Builder::new().prefix("hoist-bundle-").tempdir()?;
    let bundle = tmp.path().join("bundle.tar.gz");
    let started = std::time::Instant::now();
    let stats = crate::jobs::bundle::create(workdir, &bundle)?;
    let packed = std::fs::metadata(&bundle).map(|m| m.len()).unwrap_or(0);
    tracing::info!("bundle: {} compressed, packed in {} ms", crate::agent::human_bytes(packed), started.elapsed().as_millis());
    let started = std::time::Instant::now();
    store.put_file(&job_key(&record.id, "bundle.tar.gz"), &bundle).await?;
    tracing::info!("bundle: stored at {} in {} ms", store.url(), started.elapsed().as_millis());
    ctx.printer.status(format!(
        "hoist: bundled {} ({}, {})",
        workdir.display(),
        crate::printer::count(stats.files as usize, "file"),
        crate::agent::human_bytes(stats.bytes)
    ));
    Ok(())
}

async fn run_local(ctx: &Context, args: &RunArgs, jobs: &Jobs, record: JobRecord, is_new: bool) -> Result<ExitCode> {
    let local = &jobs.local;
    let store = local.store();
    // Everything that can be wrong with the input is checked before
    // anything is created.
    let secrets = resolve_secrets(&record.task.secrets, &args.secrets)?;
    let host = crate::backends::host::Host::detect();
    let notes = crate::backends::host::fit(&record.task, &host).map_err(UsageError)?;
    if is_new {
        let mut notes = notes;
        notes.extend(ec2_only_flags(args));
        show_notices(ctx, &record.task.notices, &notes);
    }
    let record = if is_new {
        upload_bundle(ctx, &store, &record).await?;
        store.create_record(&record).await?;
        record
    } else {
        new_attempt(&store, &record).await?
    };

    let attempt = record.attempt().number;
    let agent = local.spawn_agent(&record.id, attempt, &secrets)?;
    let started = Started { id: &record.id, attempt, backend: record.backend, status: record.status };
    if args.detach {
        ctx.printer.report(&started)?;
        ctx.printer.status(format!(
            "hoist: job {} started on {}; `hoist logs -f {}` to follow it",
            record.id, record.backend, record.id
        ));
        return Ok(ExitCode::SUCCESS);
    }
    ctx.printer.status(format!("hoist: job {} (attempt {attempt}) started on {}", record.id, record.backend));
    let last = watch(ctx, jobs, &record, attempt, Some(agent)).await?;
    finish(ctx, jobs, &record, last).await
}

/// Follow the attempt to its end: its output streamed (text), or waited
/// for quietly (JSON: stdout carries only the final record, so the job's
/// own output, which would interleave with it, is read afterwards with
/// `hoist logs`). Ctrl-C, SIGTERM, SIGHUP and a closed stdout cancel the
/// job. `None`: the user stopped watching.
pub(super) async fn watch(ctx: &Context, jobs: &Jobs, record: &JobRecord, attempt: u32, agent: Option<std::process::Child>) -> Result<Option<Attempt>> {
    if ctx.printer.is_json() {
        wait_quietly(jobs, record, attempt, agent).await
    } else {
        let format = LineFormat { json: false, timestamps: false, quiet: ctx.printer.quiet, node: 0 };
        show_log(jobs, record, attempt, format, true, OnInterrupt::Cancel, agent).await
    }
}

pub(super) async fn finish(ctx: &Context, jobs: &Jobs, record: &JobRecord, last: Option<Attempt>) -> Result<ExitCode> {
    let Some(last) = last else { return Ok(ExitCode::from(130)) };
    let record = jobs.reload(record).await?;
    if ctx.printer.is_json() {
        ctx.printer.report(&JobReport(&record))?;
    }
    ctx.printer.status(summary(&record.id, &last, record.duration()));
    Ok(exit_code_for(&last))
}

async fn run_ec2(ctx: &Context, args: &RunArgs, jobs: &Jobs, record: JobRecord, start: Start) -> Result<ExitCode> {
    let is_new = start == Start::New;
    let ec2 = jobs.aws()?;
    if !args.secrets.is_empty() {
        return Err(UsageError(
            "--secret: on EC2 a job's secrets come from Secrets Manager, never from this machine: store each with `hoist secret set NAME`".into(),
        )
        .into());
    }
    if args.detach && args.retry_on_interruption > 0 {
        return Err(UsageError(
            "--retry-on-interruption works while `hoist run` is attached (it starts the new attempt): drop --detach, or resume by hand with `hoist run --resume JOB`".into(),
        )
        .into());
    }
    let opts = LaunchOptions {
        agent_binary: args.agent_binary.clone(),
        fallback_on_demand: args.fallback_on_demand,
        refresh_catalog: args.refresh_catalog,
    };
    // Everything that can be wrong is found before anything is created:
    // the footprint, the secrets, the instance type, the image.
    let fp = ec2.footprint().await?;
    check_secrets(ec2, &record.task.secrets).await?;
    let plan = ec2.plan(&record, &opts).await?;
    if is_new {
        let notes: Vec<String> = [(args.network_isolation, "--network-isolation"), (args.encrypt_inter_node, "--encrypt-inter-node")]
            .iter()
            .filter(|(set, _)| *set)
            .map(|(_, flag)| format!("{flag} applies to SageMaker only; EC2 ignores it"))
            .collect();
        show_notices(ctx, &record.task.notices, &notes);
    }
    ctx.printer.status(format!("hoist: {} chosen: {}", plan.instance_type, plan.choice.reason));
    // Remembered first: `hoist jobs` on this machine then lists the job
    // even if this run is stopped right after creating it.
    jobs.mark_uses_aws();
    // The record first, then the bundle: a run stopped in between leaves a
    // job `hoist run --resume` can finish, never a bundle no job names.
    let mut record = match start {
        Start::New => {
            ec2.store.create_record(&record).await?;
            upload_bundle(ctx, &ec2.store, &record).await?;
            record
        }
        Start::Relaunch => {
            if record.task.workdir.is_some() && !ec2.store.exists(&job_key(&record.id, "bundle.tar.gz")).await? {
                upload_bundle(ctx, &ec2.store, &record).await?;
            }
            record
        }
        Start::Resume => new_attempt(&ec2.store, &record).await?,
    };
    let mut retries_left = args.retry_on_interruption;
    loop {
        let attempt = record.attempt().number;
        let market = if plan.spot { "spot" } else { "on-demand" };
        ctx.printer.status(format!(
            "hoist: launching {} ({market}, {}, image {}) in {} for job {} (attempt {attempt})",
            plan.instance_type,
            plan.architecture,
            plan.image_id,
            ec2.session.region(),
            record.id
        ));
        let printer = &ctx.printer;
        let progress = |m: String| printer.status(format!("hoist: {m}"));
        let placement = match ec2.launch(&record, &fp, &plan, &opts, &progress).await {
            Ok(p) => p,
            Err(e) => {
                // The attempt never started: say so in the record, so it
                // can be resumed and is never left pending.
                ec2.store.end_attempt(&record.id, attempt, Status::Failed, &format!("launch failed: {e:#}")).await?;
                return Err(e);
            }
        };
        if args.detach {
            let started = Started { id: &record.id, attempt, backend: record.backend, status: record.status };
            ctx.printer.report(&started)?;
            ctx.printer.status(format!(
                "hoist: job {} launched on {} ({} {}); `hoist logs -f {}` to follow it",
                record.id, placement.instance_id, placement.market, placement.instance_type, record.id
            ));
            return Ok(ExitCode::SUCCESS);
        }
        ctx.printer.status(format!(
            "hoist: job {} (attempt {attempt}) on {} ({} {}); waiting for it to boot",
            record.id, placement.instance_id, placement.market, placement.instance_type
        ));
        let last = watch(ctx, jobs, &record, attempt, None).await?;
        if let Some(a) = &last
            && a.status == Status::Interrupted
            && retries_left > 0
        {
            retries_left -= 1;
            ctx.printer.status(format!(
                "hoist: attempt {attempt} was interrupted ({}); starting attempt {} from its checkpoint ({retries_left} retries left)",
                a.reason.as_deref().unwrap_or("no reason recorded"),
                attempt + 1
            ));
            record = new_attempt(&ec2.store, &record).await?;
            continue;
        }
        // The instance ends with its job (its bootstrap powers it off, and
        // it terminates on shutdown); make sure, so nothing keeps billing.
        if last.as_ref().is_some_and(|a| a.status.is_terminal())
            && let Err(e) = ec2.terminate_attempt(&record).await
        {
            ctx.printer.status(format!("hoist: could not terminate the job's instance {}: {e:#}", placement.instance_id));
        }
        return finish(ctx, jobs, &record, last).await;
    }
}

/// EC2's flags given to a local run: said, not silently dropped.
pub fn ec2_only_flags(args: &RunArgs) -> Vec<String> {
    let mut given = Vec::new();
    if args.refresh_catalog {
        given.push("--refresh-catalog");
    }
    if args.retry_on_interruption > 0 {
        given.push("--retry-on-interruption");
    }
    if args.fallback_on_demand {
        given.push("--fallback-on-demand");
    }
    if args.agent_binary.is_some() {
        given.push("--agent-binary");
    }
    let mut notes: Vec<String> = given.into_iter().map(|f| format!("{f} applies to EC2 only; the local backend ignores it")).collect();
    for (set, flag) in [(args.network_isolation, "--network-isolation"), (args.encrypt_inter_node, "--encrypt-inter-node")] {
        if set {
            notes.push(format!("{flag} applies to SageMaker only; the local backend ignores it"));
        }
    }
    notes
}

/// Fields that were accepted but do not apply here: one line each, so
/// nothing in the task is silently ignored.
pub fn show_notices(ctx: &Context, notices: &[crate::task::Notice], backend_notes: &[String]) {
    for n in notices {
        ctx.printer.status(format!("hoist: note: {n}"));
    }
    for n in backend_notes {
        ctx.printer.status(format!("hoist: note: {n}"));
    }
}

/// Every secret the task names must be in the workspace's Secrets Manager
/// prefix before an instance is started for it.
pub(super) async fn check_secrets(ec2: &crate::backends::ec2::Ec2, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let secrets = hoist_aws::secrets::Secrets::new(&ec2.session, &ec2.names.workspace);
    let mut missing = Vec::new();
    for name in names {
        if !secrets.exists(name).await? {
            missing.push(name.as_str());
        }
    }
    if !missing.is_empty() {
        return Err(UsageError(format!(
            "the task needs secrets that workspace {} does not have: {}\nStore each with `hoist secret set NAME` (the value is read from stdin).",
            ec2.names.workspace,
            missing.join(", ")
        ))
        .into());
    }
    Ok(())
}

/// The record as the JSON result of an attached run.
struct JobReport<'a>(&'a JobRecord);
impl Serialize for JobReport<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
impl Report for JobReport<'_> {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.0.id)
    }
}

/// Wait for the attempt to end without printing its log (Ctrl-C cancels).
async fn wait_quietly(jobs: &Jobs, job: &JobRecord, attempt: u32, mut agent: Option<std::process::Child>) -> Result<Option<Attempt>> {
    let pause = if job.backend == Backend::Local { 200 } else { 2000 };
    loop {
        let mut record = jobs.reload(job).await?;
        jobs.reconcile(&mut record).await?;
        let current = record.attempts.iter().find(|a| a.number == attempt).cloned().expect("attempt exists");
        if current.status.is_terminal() {
            return Ok(Some(current));
        }
        if let Some(child) = agent.as_mut() {
            let _ = child.try_wait();
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(pause)) => {}
            _ = tokio::signal::ctrl_c() => {
                jobs.request_cancel(&record).await?;
            }
        }
    }
}

pub fn summary(id: &str, attempt: &Attempt, took: Option<std::time::Duration>) -> String {
    let took = took.map(|d| format!(" after {}", crate::humanize::duration(d))).unwrap_or_default();
    let why = match attempt.status {
        Status::Succeeded => String::new(),
        _ => attempt.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
    };
    let next = match attempt.status {
        Status::Cancelled | Status::Interrupted | Status::Failed => format!("; resume with `hoist run --resume {id}`"),
        _ => String::new(),
    };
    format!("hoist: job {id} {}{took}{why}{next}", attempt.status)
}

/// Attached `hoist run` exits as the job did: its exit code; 130 when it
/// was cancelled (as a shell reports Ctrl-C); 1 for other stops.
pub fn exit_code_for(attempt: &Attempt) -> ExitCode {
    match (attempt.status, attempt.exit_code) {
        (Status::Succeeded, _) => ExitCode::SUCCESS,
        (Status::Cancelled, _) => ExitCode::from(130),
        (Status::Failed, Some(code)) if (1..=255).contains(&code) => ExitCode::from(code as u8),
        _ => ExitCode::FAILURE,
    }
}

/// `NAME=VALUE` flags into pairs.
fn parse_pairs(flag: &str, values: &[String]) -> Result<Vec<(String, String)>> {
    values
        .iter()
        .map(|v| match v.split_once('=') {
            Some((k, val)) if !k.is_empty() => Ok((k.to_string(), val.to_string())),
            _ => Err(UsageError(format!("{flag} {v:?}: expected NAME=VALUE")).into()),
        })
        .collect()
}

/// Each secret the task names, from `--secret NAME=VALUE` or else the
/// caller's environment variable of that name. All missing ones are
/// reported at once, before anything is created.
pub(super) fn resolve_secrets(names: &[String], flags: &[String]) -> Result<Vec<(String, String)>> {
    let given = parse_pairs("--secret", flags)?;
    for (name, _) in &given {
        if !names.contains(name) {
            let declared = if names.is_empty() { "none".to_string() } else { names.join(", ") };
            return Err(UsageError(format!("--secret {name}: the task declares no such secret (declared: {declared})")).into());
        }
    }
    let mut resolved = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match given.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()).or_else(|| std::env::var(name).ok()) {
            Some(value) => resolved.push((name.clone(), value)),
            None => missing.push(name.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(UsageError(format!(
            "the task needs secrets that were not given: {}\nSet an environment variable of the same name, or pass `--secret NAME=VALUE`.",
            missing.join(", ")
        ))
        .into());
    }
    Ok(resolved)
}
