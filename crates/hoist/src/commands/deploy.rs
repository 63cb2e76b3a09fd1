//! `hoist deploy plan|apply FILE`: make the workspace's SageMaker
//! endpoints what a deploy file says, like a controller: observe (list
//! calls), plan per endpoint, apply on the shared applier, and with
//! `--watch` do it again whenever the file changes or an endpoint drifts.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result};
use hoist_aws::Session;
use hoist_aws::endpoints::Endpoints;
use serde::Serialize;

use super::Context;
use crate::cli::{DeployApplyArgs, DeployCommand};
use crate::deploy::apply::{Applier, RolledBack};
use crate::deploy::file::{self, Data};
use crate::mlflow::{ModelRef, Resolver, Version};
use crate::deploy::plan::{self, Action, Change, Observed, Options};
use crate::footprint::names::Names;
use crate::jobs::store::Store;
use crate::printer::{Report, count};

pub async fn run(ctx: &Context, cmd: &DeployCommand) -> Result<ExitCode> {
    // The file is checked before hoist talks to AWS: a mistake in it is
    // found offline, without credentials.
    let (DeployCommand::Plan(crate::cli::DeployPlanArgs { file: path, .. }) | DeployCommand::Apply(DeployApplyArgs { file: path, .. })) = cmd;
    let decls = file::load(path, crate::footprint::names::max_endpoint_name(ctx.settings.workspace.value.as_str()))?;
    if let DeployCommand::Apply(a) = cmd {
        for (flag, d) in [("--interval", *a.interval), ("--registry-interval", *a.registry_interval)] {
            if d < MIN_INTERVAL {
                anyhow::bail!(crate::exit::UsageError(format!("{flag} {}: at least 1s (each round or poll sends requests)", humantime::format_duration(d))));
            }
        }
    }
    let resolver = registry(ctx, path, &decls)?;
    match cmd {
        DeployCommand::Plan(args) => {
            let (session, names) = connect(ctx).await?;
            let (changes, _) = prepare(&session, &names, &args.file, resolver.as_ref(), Options { prune: args.prune, wait: true }).await?;
            ctx.printer.report(&DeployReport::new(&names, &args.file, changes, false))?;
            Ok(ExitCode::SUCCESS)
        }
        DeployCommand::Apply(args) => apply(ctx, args, resolver).await,
    }
}

/// The MLflow registry, when the file has `mlflow:` models: its URI from
/// the settings (`mlflow.tracking_uri`, MLFLOW_TRACKING_URI), checked
/// before any call.
fn registry(ctx: &Context, path: &Path, decls: &[file::Endpoint]) -> Result<Option<Resolver>> {
    let Some(first) = decls.iter().find(|e| matches!(e.model.data, Some(Data::Mlflow(_)))) else {
        return Ok(None);
    };
    let Some(uri) = &ctx.settings.mlflow_tracking_uri else {
        anyhow::bail!(crate::exit::UsageError(format!(
            "{}:{}: endpoint {:?} takes its model from the MLflow registry: set MLFLOW_TRACKING_URI (or `mlflow.tracking_uri` in hoist's config) to the tracking server's URL",
            path.display(),
            first.line,
            first.name
        )));
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let registry = crate::mlflow::Registry::new(&uri.value, &env).map_err(|e| anyhow::anyhow!(e).context(format!("{}", uri.source)))?;
    Ok(Some(Resolver::new(registry)))
}

/// The file's registry references: the endpoint's name and line, and what
/// it names in the registry.
fn registry_refs(decls: &[file::Endpoint]) -> Vec<(String, usize, ModelRef)> {
    decls
        .iter()
        .filter_map(|e| match &e.model.data {
            Some(Data::Mlflow(r)) => Some((e.name.clone(), e.line, r.clone())),
            _ => None,
        })
        .collect()
}

async fn connect(ctx: &Context) -> Result<(Session, Names)> {
    let session = ctx.session().await?;
    let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
    let names = crate::footprint::names(&session, ctx.settings.workspace.value.as_str(), &opts).await?;
    Ok((session, names))
}

/// Read the file, ask the registry, check the footprint, resolve,
/// observe, plan. Reads only. Also returns the registry's answers, which a
/// watch compares its polls with.
async fn prepare(session: &Session, n: &Names, path: &Path, resolver: Option<&Resolver>, opts: Options) -> Result<(Vec<Change>, Vec<Version>)> {
    let decls = file::load(path, n.max_endpoint_name())?;
    let refs = registry_refs(&decls);
    let mut versions = Vec::new();
    let mut resolved = BTreeMap::new();
    if let Some(resolver) = resolver {
        for (name, line, r) in refs {
            // Which endpoint of the file, as the file's own errors say it.
            let at = || format!("{}:{line}: endpoint {name:?} ({r})", path.display());
            let v = resolver.registry.resolve(&r).await.map_err(|e| anyhow::Error::new(e).context(at()))?;
            versions.push(v.clone());
            let described = resolver.describe(session, v).await.with_context(at)?;
            resolved.insert(name, described);
        }
    } else if let Some((name, _, _)) = refs.first() {
        // The file gained an `mlflow:` model while watching.
        anyhow::bail!(crate::exit::UsageError(format!("endpoint {name:?} takes its model from the MLflow registry: restart with MLFLOW_TRACKING_URI set")));
    }
    let role = crate::backends::sagemaker::footprint(session, n).await?;
    let store = Store::S3 { bucket: hoist_aws::s3::Bucket::new(session, &n.bucket), prefix: String::new() };
    let desired = plan::resolve(n, &role, &store, &decls, &resolved, path).await?;
    let sm = Endpoints::new(session);
    let seen = Observed::read(&sm, n).await?;
    Ok((plan::plan(&sm, n, &desired, &seen, opts).await?, versions))
}

async fn apply(ctx: &Context, args: &DeployApplyArgs, resolver: Option<Resolver>) -> Result<ExitCode> {
    let resolver = resolver.as_ref();
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
    let applier = Applier { session: &session, bucket: &names.bucket, printer: &ctx.printer, stop: &stop, registry: resolver.map(|r| &r.registry) };
    // Watching: versions whose update SageMaker rolled back (by the model
    // and configuration's name), not tried again until the registry or the
    // file names something else.
    let mut rolled_back: BTreeMap<String, String> = BTreeMap::new();
    let mut versions: Vec<Version> = Vec::new();
    let mut seen_file = modified(&args.file);
    let watch = Watch {
        path: &args.file,
        interval: *args.interval,
        registry: resolver.map(|r| (r, *args.registry_interval)),
        printer: &ctx.printer,
        registry_down: std::cell::Cell::new(false),
    };
    let mut rounds = 0u32;
    // Watching, what a round that changed nothing says is said once, until
    // it changes (a broken file, kept endpoints).
    let mut last_said = String::new();
    let when = || if args.watch { format!("[{}] ", humantime::format_rfc3339_seconds(SystemTime::now())) } else { String::new() };
    loop {
        rounds += 1;
        let started = Instant::now();
        let mut changes = prepare(&session, &names, &args.file, resolver, opts).await;
        // Endpoints on their way somewhere are waited for, then planned again.
        for _ in 0..3 {
            let Ok((planned, _)) = &changes else { break };
            let busy: Vec<&Change> = planned.iter().filter(|c| c.action == Action::Busy).collect();
            if busy.is_empty() {
                break;
            }
            ctx.printer.status(format!("hoist: waiting for {} already changing", count(busy.len(), "endpoint")));
            let waits: Vec<Change> = busy.iter().map(|c| Change { steps: vec![settle_step(c)], ..(*c).clone() }).collect();
            applier.apply(&waits).await?;
            changes = prepare(&session, &names, &args.file, resolver, opts).await;
        }
        let mut changes = match changes {
            Ok((c, v)) => {
                versions = v;
                watch.registry_back();
                c
            }
            // Watching, a bad edit of the file (or AWS failing) is reported
            // and the endpoints are left as they are until the next change.
            Err(e) if args.watch && rounds > 1 => {
                let said = format!("{e:#}");
                // An unreachable registry is said once, by a round or a poll.
                let unreachable = e.chain().any(|c| matches!(c.downcast_ref(), Some(crate::mlflow::RegistryError::Unreachable { .. })));
                let already = unreachable && watch.registry_down.replace(true);
                if said != last_said && !already {
                    let left = if said.contains("left as they are") { "" } else { "; endpoints left as they are" };
                    ctx.printer.problem(format!("hoist: {}{said}{left}", when()));
                    last_said = said;
                }
                if watch.wait(&mut seen_file, &versions, &interrupted, &stop).await {
                    ctx.printer.status("hoist: stopped watching");
                    return Ok(ExitCode::from(INTERRUPTED));
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        for c in changes.iter_mut() {
            hold_rolled_back(c, &rolled_back);
        }
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
        for (key, e) in &failures {
            if let Some(rb) = e.downcast_ref::<RolledBack>()
                && let Some(target) = report.changes.iter().find(|c| format!("endpoint {}", c.endpoint) == *key).and_then(update_target)
            {
                rolled_back.insert(target, rb.reason.clone());
            }
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
            ctx.printer.problem(format!("error: {key}: {e:#}"));
        }
        let summary = report.summary();
        let done = DeployReport { applied: failed == 0, ..report };
        // One JSON document per apply; watching, one per round that
        // changed something.
        if ctx.printer.is_json() && (!args.watch || to_do) {
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
                ctx.printer.status(not_as_asked(c));
            }
            last_said.clear();
        } else {
            let mut said: Vec<String> = done.changes.iter().filter(|c| c.action == Action::Kept).map(|c| format!("  kept  {}: {}", c.endpoint, c.details.join("; "))).collect();
            said.extend(broken.iter().map(|c| not_as_asked(c)));
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
        if watch.wait(&mut seen_file, &versions, &interrupted, &stop).await {
            ctx.printer.status("hoist: stopped watching");
            return Ok(ExitCode::from(INTERRUPTED));
        }
    }
}

/// An endpoint the file asks for that is not so: Failed, or serving its
/// previous model after a rolled-back update.
fn not_as_asked(c: &Change) -> String {
    let state = if c.details.first().is_some_and(|d| d.starts_with(ROLLED_BACK)) { "serves its previous model" } else { "is Failed" };
    format!("hoist: endpoint {} {state}: {}", c.endpoint, c.details.join("; "))
}

const ROLLED_BACK: &str = "the update to what the file asks for was rolled back";

/// The configuration an update switches the endpoint to.
fn update_target(c: &Change) -> Option<String> {
    c.steps.iter().find_map(|s| match s {
        plan::Step::UpdateEndpoint { config, .. } => Some(config.clone()),
        _ => None,
    })
}

/// An update to what SageMaker rolled back before is not tried again
/// (watching, it would be every round): the endpoint serves the previous
/// version and is reported as failed until the registry or file changes.
fn hold_rolled_back(c: &mut Change, rolled_back: &BTreeMap<String, String>) {
    let Some(reason) = update_target(c).and_then(|t| rolled_back.get(&t).cloned()) else { return };
    c.action = Action::Failed;
    c.steps.clear();
    c.details = vec![
        format!("{ROLLED_BACK}: {}", reason.trim_end_matches('.')),
        "it serves the previous model; tried again when the registry or the file names another".into(),
    ];
}

/// The shortest `--interval` and `--registry-interval`.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

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

/// What a watch waits for between rounds.
struct Watch<'a> {
    path: &'a Path,
    /// Drift: a round every so often, whatever else happens.
    interval: Duration,
    /// The registry's aliases and stages, polled this often.
    registry: Option<(&'a Resolver, Duration)>,
    printer: &'a crate::printer::Printer,
    /// The registry did not answer (said once, until it answers again).
    registry_down: std::cell::Cell<bool>,
}

impl Watch<'_> {
    /// Sleep until the file changes (checked every second), the registry
    /// names other versions than `versions`, or the drift interval has
    /// passed. A registry poll sends no AWS request; one that fails is
    /// said once (the endpoints stay as they are). True when interrupted.
    async fn wait(&self, seen: &mut Option<SystemTime>, versions: &[Version], interrupted: &tokio::sync::Notify, stop: &AtomicBool) -> bool {
        let until = Instant::now() + self.interval;
        let mut next_poll = self.registry.map(|(_, every)| Instant::now() + every);
        loop {
            if stop.load(Ordering::SeqCst) {
                return true;
            }
            let now = modified(self.path);
            if now != *seen {
                *seen = now;
                return false;
            }
            if Instant::now() >= until {
                return false;
            }
            if let (Some((resolver, every)), Some(at)) = (self.registry, next_poll)
                && Instant::now() >= at
                && !versions.is_empty()
            {
                let refs: Vec<ModelRef> = self.refs();
                let had: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
                match resolver.current(&refs).await {
                    Ok(now) if now != had => {
                        for ((old, new), r) in had.iter().zip(&now).zip(&refs).filter(|((o, n), _)| *o != n) {
                            self.printer.status(format!(
                                "hoist: [{}] MLflow model {}: version {old} -> {new}",
                                humantime::format_rfc3339_seconds(SystemTime::now()),
                                r.model,
                            ));
                        }
                        return false;
                    }
                    Ok(_) => self.registry_back(),
                    Err(e @ crate::mlflow::RegistryError::Unreachable { .. }) => {
                        if !self.registry_down.replace(true) {
                            self.printer.problem(format!("hoist: [{}] {e}", humantime::format_rfc3339_seconds(SystemTime::now())));
                        }
                    }
                    // An alias or version gone: a round says which endpoint
                    // (once; it changes nothing).
                    Err(_) => return false,
                }
                next_poll = Some(Instant::now() + every);
            }
            let mut nap = Duration::from_secs(1).min(until.saturating_duration_since(Instant::now()));
            if let Some(at) = next_poll {
                nap = nap.min(at.saturating_duration_since(Instant::now()));
            }
            tokio::select! {
                _ = interrupted.notified() => return true,
                _ = tokio::time::sleep(nap.max(Duration::from_millis(10))) => {}
            }
        }
    }

    /// Said once when the registry answers after it did not.
    fn registry_back(&self) {
        if self.registry_down.replace(false) {
            self.printer.status(format!("hoist: [{}] the MLflow registry answers again", humantime::format_rfc3339_seconds(SystemTime::now())));
        }
    }

    /// The registry references of the file as last read (a file that no
    /// longer parses is the next round's to report).
    fn refs(&self) -> Vec<ModelRef> {
        let max = usize::MAX;
        file::load(self.path, max).map(|d| registry_refs(&d).into_iter().map(|(_, _, r)| r).collect()).unwrap_or_default()
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
