//! `hoist destroy`: find the workspace's resources in AWS, confirm, and
//! delete them in dependency order.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use super::confirm::confirm;
use crate::cli::DestroyArgs;
use crate::footprint::inventory::{self, Ctx, Found, ORDER, Skipped};
use crate::footprint;
use crate::printer::Report;

#[derive(Serialize)]
struct DestroyReport {
    account: String,
    region: String,
    workspace: String,
    delete: Vec<Found>,
    skipped: Vec<Skipped>,
    deleted: bool,
}

impl Report for DestroyReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "workspace {} in account {}, region {}:", self.workspace, self.account, self.region)?;
        let width = self.delete.iter().map(|f| f.kind.label().len()).chain(self.skipped.iter().map(|s| s.kind.label().len())).max().unwrap_or(0);
        for f in &self.delete {
            let id = f.id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default();
            writeln!(out, "  - delete  {:<width$}  {}{id}", f.kind.label(), f.name)?;
            if let Some(d) = &f.detail {
                writeln!(out, "        {d}")?;
            }
        }
        for s in &self.skipped {
            writeln!(out, "  = keep    {:<width$}  {}", s.kind.label(), s.name)?;
            writeln!(out, "        {}", s.reason)?;
        }
        if self.delete.is_empty() {
            writeln!(out, "nothing to delete")
        } else if self.deleted {
            writeln!(out, "{} deleted", self.delete.len())
        } else {
            writeln!(out, "{} to delete", self.delete.len())
        }
    }
}

pub async fn run(ctx: &Context, args: &DestroyArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let session = ctx.session().await?;
    let names = footprint::names(&session, ctx.settings.workspace.value.as_str()).await?;
    let cx = Ctx { session: &session, names: &names, keep_bucket: args.keep_bucket };
    let (delete, skipped) = inventory::discover(&cx).await?;
    let mut report = DestroyReport {
        account: names.account.clone(),
        region: names.region.clone(),
        workspace: names.workspace.clone(),
        delete,
        skipped,
        deleted: false,
    };
    if report.delete.is_empty() || args.plan {
        ctx.printer.report(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !ctx.printer.is_json() {
        ctx.printer.report(&report)?;
    }
    let question = format!("Delete these {} resources from account {}", report.delete.len(), names.account);
    if !confirm(args.yes, &question)? {
        ctx.printer.status("hoist: nothing was deleted");
        return Ok(ExitCode::FAILURE);
    }
    for kind in ORDER {
        for found in report.delete.iter().filter(|f| f.kind == *kind) {
            kind.delete(&cx, found).await?;
            ctx.printer.status(format!("  deleted  {} {}", kind.label(), found.name));
        }
    }
    report.deleted = true;
    if ctx.printer.is_json() {
        ctx.printer.report(&report)?;
    }
    ctx.printer.status(format!(
        "hoist: workspace {} destroyed: {} resources deleted ({:.1} s)",
        names.workspace,
        report.delete.len(),
        started.elapsed().as_secs_f64()
    ));
    Ok(ExitCode::SUCCESS)
}
