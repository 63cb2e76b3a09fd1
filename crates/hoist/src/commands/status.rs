//! `hoist status`: the workspace's footprint as it is now. Reads only.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use super::init::render_changes;
use crate::footprint::plan::{Action, Change};
use crate::footprint::{self, plan};
use crate::printer::Report;

#[derive(Serialize)]
struct StatusReport {
    account: String,
    region: String,
    workspace: String,
    resources: Vec<Entry>,
    /// True when every resource exists and matches.
    ready: bool,
}

/// One resource as it is: `state` is status's own word (`ok`, `missing`,
/// `drifted`, `conflict`), not the verb `init` would act with.
#[derive(Serialize)]
struct Entry {
    resource: &'static str,
    name: String,
    state: &'static str,
    /// What differs, or why it conflicts (empty for ok and missing).
    details: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    #[serde(skip)]
    change: Change,
}

fn status_words(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::Create => ("-", "missing"),
        Action::Update => ("~", "drifted"),
        Action::Unchanged => ("=", "ok"),
        Action::Conflict => ("!", "conflict"),
    }
}

impl Report for StatusReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "workspace {} in account {}, region {}:", self.workspace, self.account, self.region)?;
        // A missing resource's "details" are what init would create: not
        // interesting here.
        let shown: Vec<Change> = self.resources.iter().map(|e| e.change.clone()).collect();
        render_changes(out, &shown, status_words)?;
        if self.ready {
            writeln!(out, "ready")
        } else {
            writeln!(out, "not ready: `hoist init` creates what is missing and repairs drift")?;
            Ok(())
        }
    }
}

pub async fn run(ctx: &Context) -> Result<ExitCode> {
    let s = &ctx.settings;
    let session = ctx.session().await?;
    let opts = plan::Options::from_settings(s);
    let names = footprint::names(&session, s.workspace.value.as_str(), &opts).await?;
    let observed = plan::observe(&session, &names, &opts).await?;
    let resources: Vec<Entry> = plan::plan(&names, &opts, &observed)
        .into_iter()
        .map(|mut c| {
            // A missing resource's "details" are what init would create:
            // not what is there.
            if c.action == Action::Create {
                c.details.clear();
            }
            Entry { resource: c.resource, name: c.name.clone(), state: status_words(c.action).1, details: c.details.clone(), notes: c.notes.clone(), change: c }
        })
        .collect();
    let ready = resources.iter().all(|e| e.change.action == Action::Unchanged);
    let report = StatusReport { account: names.account, region: names.region, workspace: names.workspace, resources, ready };
    // `-q`: the exit status is the answer (`hoist status -q || hoist init --yes`).
    if ctx.printer.is_json() || !ctx.printer.quiet {
        ctx.printer.report(&report)?;
    }
    // Like `hoist check`: 1 when something needs doing, so a script can
    // `hoist status -q || hoist init --yes`.
    Ok(if ready { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
