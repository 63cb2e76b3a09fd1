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
    resources: Vec<Change>,
    /// True when every resource exists and matches.
    ready: bool,
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
        let shown: Vec<Change> = self
            .resources
            .iter()
            .cloned()
            .map(|mut c| {
                if c.action == Action::Create {
                    c.details.clear();
                }
                c
            })
            .collect();
        render_changes(out, &shown, status_words)?;
        if self.ready {
            writeln!(out, "ready")
        } else {
            writeln!(out, "not ready: `hoist init` creates what is missing and repairs drift")
        }
    }
}

pub async fn run(ctx: &Context) -> Result<ExitCode> {
    let s = &ctx.settings;
    let session = ctx.session().await?;
    let opts = plan::Options::from_settings(s);
    let names = footprint::names(&session, s.workspace.value.as_str(), &opts).await?;
    let observed = plan::observe(&session, &names, &opts).await?;
    let resources = plan::plan(&names, &opts, &observed);
    let ready = resources.iter().all(|c| c.action == Action::Unchanged);
    ctx.printer.report(&StatusReport { account: names.account, region: names.region, workspace: names.workspace, resources, ready })?;
    Ok(ExitCode::SUCCESS)
}
