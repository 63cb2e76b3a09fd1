//! `hoist run TASK.yaml`: start a job (attached: stream its log and exit
//! with its exit code), or `hoist run --resume JOB`: a new attempt of a
//! finished job, continuing from its last checkpoint.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::Context;
use super::follow::{LineFormat, OnInterrupt, resolve, show_log};
use crate::backends::local::Local;
use crate::cli::RunArgs;
use crate::exit::UsageError;
use crate::jobs::record::{Attempt, JobRecord, Status, new_job_id};
use crate::jobs::store::job_key;
use crate::printer::Report;
use crate::task::{Backend, Overrides, Task, parse_backend};

#[derive(Debug, Serialize)]
struct Started<'a> {
    id: &'a str,
    attempt: u32,
    backend: Backend,
    status: Status,
}

impl Report for Started<'_> {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.id)
    }
}

pub async fn run(ctx: &Context, args: &RunArgs) -> Result<ExitCode> {
    let local = Local::new(&ctx.settings.workspace.value);
    let store = local.store();
    let flag_backend = args.backend.as_deref().map(parse_backend).transpose().map_err(|m| UsageError(format!("--backend: {m}")))?;

    let (record, secrets) = match &args.resume {
        Some(query) => {
            let mut record = resolve(&local, ctx.settings.workspace.value.as_str(), Some(query)).await?;
            local.reconcile(&mut record).await?;
            if !record.status.is_terminal() {
                return Err(UsageError(format!(
                    "job {} is still {}: only a finished job can be resumed (`hoist cancel {}` first)",
                    record.id, record.status, record.id
                ))
                .into());
            }
            let secrets = resolve_secrets(&record.task.secrets, &args.secrets)?;
            // A cancel request belongs to the attempt it stopped.
            store.delete(&[job_key(&record.id, "cancel")]).await?;
            record.new_attempt();
            store.save_record(&record).await?;
            (record, secrets)
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
            if backend != Backend::Local {
                return Err(UsageError(format!(
                    "the {backend} backend is not available yet in this version of hoist: run with `--backend local`"
                ))
                .into());
            }
            // Everything that can be wrong with the input is checked
            // before anything is created.
            let secrets = resolve_secrets(&task.secrets, &args.secrets)?;
            let id = new_job_id(&task.name);
            let record = JobRecord::new(id, ctx.settings.workspace.value.as_str(), backend, task);
            if let Some(workdir) = &record.task.workdir {
                let tmp = tempfile::Builder::new().prefix("hoist-bundle-").tempdir()?;
                let bundle = tmp.path().join("bundle.tar.gz");
                let stats = crate::jobs::bundle::create(workdir, &bundle)?;
                store.put_file(&job_key(&record.id, "bundle.tar.gz"), &bundle).await?;
                ctx.printer.status(format!(
                    "hoist: bundled {} ({}, {})",
                    workdir.display(),
                    crate::printer::count(stats.files as usize, "file"),
                    crate::agent::human_bytes(stats.bytes)
                ));
            }
            store.save_record(&record).await?;
            (record, secrets)
        }
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

    // In JSON mode stdout carries only the final record, so the job's own
    // output (which would interleave with it) is not streamed: read it
    // afterwards with `hoist logs`.
    let last = if ctx.printer.is_json() {
        wait_quietly(&local, &record.id, attempt, agent).await?
    } else {
        let format = LineFormat { json: false, timestamps: false, quiet: ctx.printer.quiet };
        show_log(&local, &record.id, attempt, format, true, OnInterrupt::Cancel, Some(agent)).await?
    };
    let Some(last) = last else { return Ok(ExitCode::from(130)) };
    let record = store.load_record(&record.id).await?.context("job record vanished")?;
    if ctx.printer.is_json() {
        ctx.printer.report(&JobReport(&record))?;
    }
    ctx.printer.status(summary(&record.id, &last, record.duration()));
    Ok(exit_code_for(&last))
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
async fn wait_quietly(local: &Local, id: &str, attempt: u32, mut agent: std::process::Child) -> Result<Option<Attempt>> {
    let store = local.store();
    loop {
        let mut record = store.load_record(id).await?.context("job record vanished")?;
        local.reconcile(&mut record).await?;
        let current = record.attempts.iter().find(|a| a.number == attempt).cloned().expect("attempt exists");
        if current.status.is_terminal() {
            return Ok(Some(current));
        }
        let _ = agent.try_wait();
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            _ = tokio::signal::ctrl_c() => {
                local.request_cancel(&record).await?;
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
fn resolve_secrets(names: &[String], flags: &[String]) -> Result<Vec<(String, String)>> {
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
