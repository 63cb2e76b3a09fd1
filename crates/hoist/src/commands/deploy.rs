//! `hoist deploy plan|apply FILE`: make the workspace's SageMaker
//! endpoints what a deploy file says, like a controller: observe (list
//! calls), plan per endpoint, apply on the shared applier, and with
//! `--watch` do it again whenever the file changes or an endpoint drifts.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;
use hoist_aws::Session;
use hoist_aws::endpoints::Endpoints;
use serde::Serialize;

use super::Context;
use crate::cli::{DeployApplyArgs, DeployCommand};
use crate::deploy::apply::Applier;
use crate::deploy::file;
use crate::deploy::plan::{self, Action, Change, Observed, Options};
use crate::footprint::names::Names;
use crate::jobs::store::Store;
use crate::printer::{Report, count};

pub async fn run(ctx: &Context, cmd: &DeployCommand) -> Result<ExitCode> {
    // The file is checked before hoist talks to AWS: a mistake in it is
    // found offline, without credentials.
    let (DeployCommand::Plan(crate::cli::DeployPlanArgs { file: path, .. }) | DeployCommand::Apply(DeployApplyArgs { file: path, .. })) = cmd;
    file::load(path, crate::footprint::names::max_endpoint_name(ctx.settings.workspace.value.as_str()))?;
    match cmd {
        DeployCommand::Plan(args) => {
            let (session, names) = connect(ctx).await?;
            let changes = prepare(&session, &names, &args.file, Options { prune: args.prune, wait: true }).await?;
            ctx.printer.report(&DeployReport::new(&names, &args.file, changes, false))?;
            Ok(ExitCode::SUCCESS)
        }
        DeployCommand::Apply(args) => apply(ctx, args).await,
    }
}

async fn connect(ctx: &Context) -> Result<(Session, Names)> {
    let session = ctx.session().await?;
    let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
    let names = crate::footprint::names(&session, ctx.settings.workspace.value.as_str(), &opts).await?;
    Ok((session, names))
}

/// Read the file, check the footprint, resolve, observe, plan. Reads only.
async fn prepare(session: &Session, n: &Names, path: &Path, opts: Options) -> Result<Vec<Change>> {
    let decls = file::load(path, n.max_endpoint_name())?;
    let role = crate::backends::sagemaker::footprint(session, n).await?;
    let store = Store::S3 { bucket: hoist_aws::s3::Bucket::new(session, &n.bucket), prefix: String::new() };
    let desired = plan::resolve(n, &role, &store, &decls, path).await?;
    let sm = Endpoints::new(session);
    let seen = Observed::read(&sm, n).await?;
    plan::plan(&sm, n, &desired, &seen, opts).await
}

async fn apply(ctx: &Context, args: &DeployApplyArgs) -> Result<ExitCode> {
    let (session, names) = connect(ctx).await?;
    let opts = Options { prune: args.prune, wait: !args.no_wait };
    // Ctrl-C (or SIGTERM) lets the call under way finish and starts no
    // other; a wait stops at once.
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(tokio::sync::Notify::new());
    {
        let (stop, interrupted) = (stop.clone(), interrupted.clone());
        tokio::spawn(async move {
            interrupted_by_signal().await;
            stop.store(true, Ordering::SeqCst);
            interrupted.notify_waiters();
            // A second one does not wait for the call under way.
            interrupted_by_signal().await;
            eprintln!("hoist: interrupted again: exiting now; apply again to go on");
            std::process::exit(INTERRUPTED.into());
        });
    }
    let applier = Applier { session: &session, bucket: &names.bucket, printer: &ctx.printer, stop: &stop };
    let mut seen_file = modified(&args.file);
    let mut rounds = 0u32;
    // Watching, what a round that changed nothing says is said once, until
    // it changes (a broken file, kept endpoints).
    let mut last_said = String::new();
    let when = || if args.watch { format!("[{}] ", humantime::format_rfc3339_seconds(SystemTime::now())) } else { String::new() };
    loop {
        rounds += 1;
        let started = Instant::now();
        let mut changes = prepare(&session, &names, &args.file, opts).await;
        // Endpoints on their way somewhere are waited for, then planned again.
        for _ in 0..3 {
            let Ok(planned) = &changes else { break };
            let busy: Vec<&Change> = planned.iter().filter(|c| c.action == Action::Busy).collect();
            if busy.is_empty() {
                break;
            }
            ctx.printer.status(format!("hoist: waiting for {} already changing", count(busy.len(), "endpoint")));
            let waits: Vec<Change> = busy.iter().map(|c| Change { steps: vec![settle_step(c)], ..(*c).clone() }).collect();
            applier.apply(&waits).await?;
            changes = prepare(&session, &names, &args.file, opts).await;
        }
        let changes = match changes {
            Ok(c) => c,
            // Watching, a bad edit of the file (or AWS failing) is reported
            // and the endpoints are left as they are until the next change.
            Err(e) if args.watch && rounds > 1 => {
                let said = format!("{e:#}");
                if said != last_said {
                    ctx.printer.status(format!("hoist: {}{said}; endpoints left as they are", when()));
                    last_said = said;
                }
                if wait_for_change(&args.file, &mut seen_file, *args.interval, &interrupted, &stop).await {
                    ctx.printer.status("hoist: stopped watching");
                    return Ok(ExitCode::from(INTERRUPTED));
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        let report = DeployReport::new(&names, &args.file, changes, false);
        let to_do = report.changes.iter().any(|c| !c.steps.is_empty());
        if to_do && !ctx.printer.is_json() && !ctx.printer.quiet {
            ctx.printer.report(&report)?;
        }
        let destructive: Vec<&Change> =
            report.changes.iter().filter(|c| matches!(c.action, Action::Delete | Action::Recreate) && c.steps.iter().any(|s| matches!(s, plan::Step::DeleteEndpoint(_)))).collect();
        if !destructive.is_empty() {
            let names = |a: Action| destructive.iter().filter(|c| c.action == a).map(|c| c.endpoint.as_str()).collect::<Vec<_>>();
            let mut parts = Vec::new();
            if !names(Action::Delete).is_empty() {
                parts.push(format!("delete {} ({})", count(names(Action::Delete).len(), "endpoint"), names(Action::Delete).join(", ")));
            }
            if !names(Action::Recreate).is_empty() {
                parts.push(format!("delete and recreate {} ({})", count(names(Action::Recreate).len(), "endpoint"), names(Action::Recreate).join(", ")));
            }
            let question = format!("{}{}", parts.join(" and ")[..1].to_uppercase(), &parts.join(" and ")[1..]);
            if !super::confirm::confirm(args.yes, &question)? {
                ctx.printer.status("hoist: nothing was changed");
                return Ok(ExitCode::FAILURE);
            }
        }
        let mut failures = Vec::new();
        if to_do {
            let applied = applier.apply(&report.changes).await?;
            for key in &applied.skipped {
                ctx.printer.status(format!("  not started  {key}"));
            }
            failures = applied.failed;
        }
        if stop.load(Ordering::SeqCst) {
            ctx.printer.status("hoist: interrupted: the call under way finished, no other started; apply again to go on");
            return Ok(ExitCode::from(INTERRUPTED));
        }
        let failed = failures.len();
        // Applying once, a failure is the command's error (its exit code,
        // and for a denial the permission and how to get it); the other
        // endpoints' failures are printed first. Watching, all are printed
        // and the watch goes on.
        if !args.watch && failed > 0 {
            let (key, first) = failures.remove(0);
            for (key, e) in &failures {
                ctx.printer.status(format!("error: {key}: {e:#}"));
            }
            return Err(first.context(format!(
                "{key}: not applied{}; the other endpoints are as planned. Apply again after fixing the cause",
                if failed > 1 { format!(" ({failed} endpoints failed)") } else { String::new() }
            )));
        }
        for (key, e) in &failures {
            ctx.printer.status(format!("error: {key}: {e:#}"));
        }
        let summary = report.summary();
        let done = DeployReport { applied: failed == 0, ..report };
        if ctx.printer.is_json() && !args.watch {
            ctx.printer.report(&done)?;
        }
        // A Failed endpoint the file still asks for is not what the file says.
        let broken: Vec<&Change> = done.changes.iter().filter(|c| c.action == Action::Failed).collect();
        if to_do {
            ctx.printer.status(format!(
                "hoist: {}applied {} ({:.1} s){}",
                when(),
                summary,
                started.elapsed().as_secs_f64(),
                if failed > 0 { format!("; {failed} failed") } else { String::new() }
            ));
            for c in &broken {
                ctx.printer.status(format!("hoist: endpoint {} is Failed: {}", c.endpoint, c.details.join("; ")));
            }
            last_said.clear();
        } else {
            let mut said: Vec<String> = done.changes.iter().filter(|c| c.action == Action::Kept).map(|c| format!("  kept  {}: {}", c.endpoint, c.details.join("; "))).collect();
            said.extend(broken.iter().map(|c| format!("hoist: endpoint {} is Failed: {}", c.endpoint, c.details.join("; "))));
            let text = said.join("\n");
            if !args.watch || rounds == 1 || text != last_said {
                for line in &said {
                    ctx.printer.status(line);
                }
                ctx.printer.status(format!("hoist: {}nothing to change ({summary})", when()));
                last_said = text;
            }
        }
        if !args.watch {
            return Ok(if failed == 0 && broken.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        if wait_for_change(&args.file, &mut seen_file, *args.interval, &interrupted, &stop).await {
            ctx.printer.status("hoist: stopped watching");
            return Ok(ExitCode::from(INTERRUPTED));
        }
    }
}

/// Exit status after Ctrl-C, as a shell reports SIGINT.
const INTERRUPTED: u8 = 130;

/// Ctrl-C, SIGTERM (a supervisor) or SIGHUP (the terminal went away).
async fn interrupted_by_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}

/// The wait a busy endpoint needs: to be gone when deleting, else to serve.
fn settle_step(c: &Change) -> plan::Step {
    if c.details.first().is_some_and(|d| d.starts_with("Deleting")) {
        plan::Step::AwaitGone(c.name.clone())
    } else {
        plan::Step::AwaitInService(c.name.clone())
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Sleep until the file changes (checked every second) or `interval` has
/// passed (to look for drift). True when interrupted.
async fn wait_for_change(path: &Path, seen: &mut Option<SystemTime>, interval: Duration, interrupted: &tokio::sync::Notify, stop: &AtomicBool) -> bool {
    let until = Instant::now() + interval;
    loop {
        if stop.load(Ordering::SeqCst) {
            return true;
        }
        let now = modified(path);
        if now != *seen {
            *seen = now;
            return false;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::select! {
            _ = interrupted.notified() => return true,
            _ = tokio::time::sleep(Duration::from_secs(1).min(until - Instant::now())) => {}
        }
    }
}

#[derive(Serialize)]
struct DeployReport {
    workspace: String,
    region: String,
    file: String,
    changes: Vec<Change>,
    /// Whether the changes were applied (apply), or only planned.
    applied: bool,
}

impl DeployReport {
    fn new(n: &Names, file: &Path, changes: Vec<Change>, applied: bool) -> Self {
        Self { workspace: n.workspace.clone(), region: n.region.clone(), file: file.display().to_string(), changes, applied }
    }

    fn summary(&self) -> String {
        let n = |a: Action| self.changes.iter().filter(|c| c.action == a).count();
        let mut parts = vec![
            format!("{} to create", n(Action::Create)),
            format!("{} to update", n(Action::Update)),
            format!("{} to delete", n(Action::Delete)),
            format!("{} unchanged", n(Action::Unchanged)),
        ];
        for (a, label) in [(Action::Recreate, "to recreate"), (Action::Kept, "kept"), (Action::Failed, "failed"), (Action::Busy, "busy")] {
            if n(a) > 0 {
                parts.push(format!("{} {label}", n(a)));
            }
        }
        parts.join(", ")
    }
}

impl Report for DeployReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "workspace {} ({}), {}:", self.workspace, self.region, self.file)?;
        for c in &self.changes {
            let action = match c.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Recreate => "recreate",
                Action::Delete => "delete",
                Action::Unchanged => "ok",
                Action::Busy => "busy",
                Action::Failed => "failed",
                Action::Kept => "kept",
            };
            writeln!(out, "  {action:<9} {:<24} {}", c.endpoint, c.name)?;
            for d in &c.details {
                writeln!(out, "            {d}")?;
            }
        }
        writeln!(out, "{}", self.summary())
    }
}
