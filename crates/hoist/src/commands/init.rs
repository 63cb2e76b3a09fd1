//! `hoist init`: plan, confirm, and create or repair the workspace's
//! footprint.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use super::confirm::confirm;
use crate::cli::InitArgs;
use crate::exit::UsageError;
use crate::footprint::{self, apply, plan};
use crate::footprint::plan::{Action, Change};
use crate::printer::Report;

#[derive(Debug, Serialize)]
pub struct PlanReport {
    pub account: String,
    pub region: String,
    pub workspace: String,
    pub changes: Vec<Change>,
    /// Whether the changes were made (false for --plan, a refusal, or "no").
    pub applied: bool,
}

impl PlanReport {
    fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let (create, update) = if self.applied { ("created", "updated") } else { ("to create", "to update") };
        for (action, label) in [(Action::Create, create), (Action::Update, update), (Action::Unchanged, "unchanged"), (Action::Conflict, "in conflict")] {
            let n = self.count(action);
            if n > 0 {
                parts.push(format!("{n} {label}"));
            }
        }
        parts.join(", ")
    }
}

/// The plan as people read it: one line per resource, indented details.
pub fn render_changes(out: &mut dyn Write, changes: &[Change], words: fn(Action) -> (&'static str, &'static str)) -> std::io::Result<()> {
    let width = changes.iter().map(|c| c.resource.len()).max().unwrap_or(0);
    for c in changes {
        let (sign, word) = words(c.action);
        writeln!(out, "  {sign} {word:<9} {:<width$}  {}", c.resource, c.name)?;
        for d in &c.details {
            writeln!(out, "        {d}")?;
        }
        for note in &c.notes {
            writeln!(out, "        note: {note}")?;
        }
    }
    Ok(())
}

pub fn plan_words(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::Create => ("+", "create"),
        Action::Update => ("~", "update"),
        Action::Unchanged => ("=", "unchanged"),
        Action::Conflict => ("!", "conflict"),
    }
}

impl Report for PlanReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "workspace {} in account {}, region {}:", self.workspace, self.account, self.region)?;
        render_changes(out, &self.changes, plan_words)?;
        writeln!(out, "{}{}", self.summary(), if self.applied { ": applied" } else { "" })
    }
}

pub async fn run(ctx: &Context, args: &InitArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let s = &ctx.settings;
    let session = ctx.session().await?;
    // Flags of this command beat the settings.
    let mut opts = plan::Options::from_settings(s);
    opts.adopt = args.adopt;
    opts.kms_key = args.kms_key.clone().or(opts.kms_key);
    opts.sagemaker_role = args.sagemaker_role.clone().or(opts.sagemaker_role);
    opts.instance_profile = args.instance_profile.clone().or(opts.instance_profile);
    let names = footprint::names(&session, s.workspace.value.as_str(), &opts).await?;
    let observed = plan::observe(&session, &names, &opts).await?;
    let mut report = PlanReport {
        account: names.account.clone(),
        region: names.region.clone(),
        workspace: names.workspace.clone(),
        changes: plan::plan(&names, &opts, &observed),
        applied: false,
    };
    let conflicts = report.count(Action::Conflict);
    let work = report.count(Action::Create) + report.count(Action::Update);
    if conflicts > 0 {
        ctx.printer.report(&report)?;
        return Err(UsageError(format!(
            "{} in conflict (see above): nothing was changed", crate::printer::count(conflicts, "resource")
        ))
        .into());
    }
    // In admin mode the administrator's template made the footprint and
    // the user's policy holds no write to it: verify and report only.
    if work > 0 && s.mode.value == crate::settings::Mode::Admin {
        ctx.printer.report(&report)?;
        return Err(UsageError(format!(
            "workspace {} is set up by an administrator (mode = admin, from {}) and {} differ from it (see above): hoist changed nothing. Ask your administrator to apply `hoist policy --mode admin --format cloudformation` (or terraform) again",
            names.workspace, s.mode.source, crate::printer::count(work, "resource")
        ))
        .into());
    }
    if work == 0 || args.plan {
        ctx.printer.report(&report)?;
        if work == 0 {
            ctx.printer.status(format!("hoist: workspace {} is set up; nothing to do ({} ms)", names.workspace, started.elapsed().as_millis()));
        }
        return Ok(ExitCode::SUCCESS);
    }
    // The plan is shown to be confirmed; `-q --yes` asks for no reading.
    if !ctx.printer.is_json() && !(ctx.printer.quiet && args.yes) {
        ctx.printer.report(&report)?;
    }
    let question = format!("Apply these changes to account {} in {}", names.account, names.region);
    if !confirm(args.yes, &question)? {
        ctx.printer.status("hoist: nothing was changed");
        return Ok(ExitCode::FAILURE);
    }
    apply::apply(&session, &names, &report.changes, &ctx.printer).await?;
    report.applied = true;
    // A flag is for this run only: without the setting, the next `init`
    // (a teammate's, CI's) would put the bucket back to SSE-S3.
    if args.kms_key.is_some() && s.kms_key.is_none() {
        ctx.printer.status(format!(
            "hoist: note: keep `kms_key = \"{}\"` in hoist's config (or HOIST_KMS_KEY) for this workspace: without it the next `hoist init` reverts the bucket to SSE-S3, and `hoist policy` leaves out the key",
            args.kms_key.as_deref().unwrap_or_default()
        ));
    }
    if ctx.printer.is_json() {
        ctx.printer.report(&report)?;
    }
    ctx.printer.status(format!(
        "hoist: workspace {} set up: {} ({:.1} s)",
        names.workspace,
        report.summary(),
        started.elapsed().as_secs_f64()
    ));
    Ok(ExitCode::SUCCESS)
}
