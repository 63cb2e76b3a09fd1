//! `hoist jobs`: the workspace's jobs, newest first.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::backends::Jobs;
use crate::humanize;
use crate::jobs::record::JobRecord;
use crate::printer::Report;

#[derive(Serialize)]
#[serde(transparent)]
struct JobList(Vec<JobRecord>);

impl Report for JobList {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let rows: Vec<[String; 6]> = self
            .0
            .iter()
            .map(|r| {
                let a = r.attempt();
                let status = if a.number > 1 { format!("{} (#{})", r.status, a.number) } else { r.status.to_string() };
                [
                    r.id.clone(),
                    r.name.clone(),
                    r.backend.to_string(),
                    status,
                    a.started_at.as_deref().map(humanize::age).unwrap_or_else(|| "-".into()),
                    r.duration().map(humanize::duration).unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        let header = ["ID", "NAME", "BACKEND", "STATUS", "STARTED", "DURATION"].map(String::from);
        let mut widths = header.clone().map(|h| h.len());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let line: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
            writeln!(out, "{}", line.join("  ").trim_end())?;
        }
        Ok(())
    }
}

pub async fn run(ctx: &Context) -> Result<ExitCode> {
    let jobs = Jobs::open(ctx, false).await?;
    if let Some(problem) = &jobs.aws_problem {
        ctx.printer.status(format!("hoist: jobs in AWS are not listed: {problem}"));
    }
    let mut records = jobs.list().await?;
    for record in &mut records {
        if let Err(e) = jobs.reconcile(record).await {
            ctx.printer.status(format!("hoist: could not check on job {}: {e:#}", record.id));
        }
    }
    // Jobs in AWS could not be listed: never claim there are none.
    if jobs.aws_problem.is_some() {
        ctx.printer.report(&JobList(records))?;
        return Ok(crate::exit::Exit::Aws.into());
    }
    if records.is_empty() && !ctx.printer.is_json() {
        ctx.printer.status(format!(
            "no jobs yet in workspace {}: start one with `hoist run TASK.yaml`",
            ctx.settings.workspace.value
        ));
        return Ok(ExitCode::SUCCESS);
    }
    ctx.printer.report(&JobList(records))?;
    Ok(ExitCode::SUCCESS)
}
