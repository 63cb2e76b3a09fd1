//! `hoist destroy`: find the workspace's resources in AWS, confirm, and
//! delete them in dependency order, independent kinds at once.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use super::confirm::confirm;
use crate::cli::DestroyArgs;
use crate::exit::UsageError;
use crate::footprint::inventory::{self, Ctx, Found, Kind, ORDER, Skipped};
use crate::footprint;
use crate::printer::Report;
use crate::reconcile::{self, Work};

/// Resources deleted at once: deletes are independent within a kind, and
/// an instance's delete mostly waits for it to terminate.
const PARALLEL: usize = 8;

/// One step of a destroy: delete a resource, or wait for a kind's deleted
/// resources to be gone.
#[derive(Debug, Clone)]
enum Step {
    Delete(Found),
    Settle(Kind),
}

impl reconcile::Step for Step {
    /// A kind's deletes go out together; the wait comes after them.
    fn goes_first(&self) -> bool {
        matches!(self, Step::Settle(_))
    }
}

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
            writeln!(out, "  - {:<6}  {:<width$}  {}{id}", f.kind.verbs().0, f.kind.label(), f.name)?;
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

fn is_denied(e: &anyhow::Error) -> bool {
    e.downcast_ref::<hoist_aws::AwsError>().is_some_and(hoist_aws::AwsError::is_access_denied)
}

pub async fn run(ctx: &Context, args: &DestroyArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let session = ctx.session().await?;
    if ctx.settings.mode.value == crate::settings::Mode::Admin {
        return Err(UsageError(format!(
            "workspace {} is set up by an administrator (mode = admin, from {}): its footprint belongs to their CloudFormation stack or Terraform configuration. Ask them to delete it there; hoist deletes nothing",
            ctx.settings.workspace.value, ctx.settings.mode.source
        ))
        .into());
    }
    let opts = footprint::plan::Options::from_settings(&ctx.settings);
    let names = footprint::names(&session, ctx.settings.workspace.value.as_str(), &opts).await?;
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
    // The plan is shown to be confirmed; `-q --yes` asks for no reading.
    if !ctx.printer.is_json() && !(ctx.printer.quiet && args.yes) {
        ctx.printer.report(&report)?;
    }
    let question = format!("Delete {} from account {}", crate::printer::count(report.delete.len(), "resource"), names.account);
    if !confirm(args.yes, &question)? {
        ctx.printer.status("hoist: nothing was deleted");
        return Ok(ExitCode::FAILURE);
    }
    // Deleted on the shared applier: each kind waits for the kinds that
    // use it ([`Kind::after`]); a kind's resources go together, then
    // what ends asynchronously (instances, training jobs, endpoints) is
    // waited for before anything they use is deleted.
    let left = std::sync::Mutex::new(Vec::new());
    let work: Vec<Work<Step>> = ORDER
        .iter()
        .map(|kind| {
            let mut steps: Vec<Step> = report.delete.iter().filter(|f| f.kind == *kind).cloned().map(Step::Delete).collect();
            if !steps.is_empty() {
                steps.push(Step::Settle(*kind));
            }
            Work { key: kind.label().to_string(), after: kind.after().iter().map(|k| k.label().to_string()).collect(), steps }
        })
        .collect();
    let bar = crate::progress::Progress::steps(&ctx.printer, report.delete.len() as u64, "deleting");
    let (printer, delete, left_ref, cx_ref, bar_ref) = (&ctx.printer, &report.delete, &left, &cx, &bar);
    let outcome = reconcile::apply(
        work,
        PARALLEL,
        |step: Step| async move {
            match step {
                Step::Delete(found) => match found.kind.delete(cx_ref, &found).await {
                    // The boundary is an administrator's to delete: a user who
                    // could delete it could re-create it wider. Everything else
                    // is gone; say what is left and who can remove it.
                    Err(e) if found.kind == Kind::Boundary && is_denied(&e) => {
                        printer.status(format!(
                            "  kept     boundary {}: deleting it needs an administrator (iam:DeletePolicy); it grants nothing by itself",
                            found.name
                        ));
                        left_ref.lock().expect("not poisoned").push(found.name.clone());
                        Ok(())
                    }
                    Err(e) => Err(e),
                    Ok(()) => {
                        printer.status(format!("  {:<7}  {} {}", found.kind.verbs().1, found.kind.label(), found.name));
                        bar_ref.inc(1);
                        Ok(())
                    }
                },
                Step::Settle(kind) => {
                    let of_kind: Vec<&Found> = delete.iter().filter(|f| f.kind == kind).collect();
                    kind.settle(cx_ref, &of_kind, &|m| printer.status(format!("  {m}"))).await
                }
            }
        },
        |_| {},
    )
    .await?;
    drop(bar);
    // Kinds with something to delete that never started.
    let waiting: Vec<&String> =
        outcome.skipped.iter().filter(|k| report.delete.iter().any(|f| f.kind.label() == k.as_str())).collect();
    if !waiting.is_empty() {
        let list: Vec<&str> = waiting.iter().map(|k| k.as_str()).collect();
        ctx.printer.status(format!("  not started (what must go first could not be deleted): {}", list.join(", ")));
    }
    let mut failures: Vec<anyhow::Error> = outcome.failed.into_iter().map(|(_, e)| e).collect();
    if !failures.is_empty() {
        for e in &failures[1..] {
            ctx.printer.status(format!("error: {e:#}"));
        }
        return Err(failures.remove(0).context("destroy did not finish; re-run `hoist destroy` after fixing the cause"));
    }
    let left = left.into_inner().expect("not poisoned");
    report.delete.retain(|f| !left.contains(&f.name));
    report.skipped.extend(left.into_iter().map(|name| Skipped {
        kind: Kind::Boundary,
        name,
        reason: "deleting it needs an administrator (iam:DeletePolicy)".into(),
    }));
    report.deleted = true;
    // The jobs' records went with the bucket.
    if report.delete.iter().any(|f| f.kind == Kind::Bucket) {
        crate::backends::forget_aws_jobs(&ctx.settings.workspace.value);
    }
    if ctx.printer.is_json() {
        ctx.printer.report(&report)?;
    }
    ctx.printer.status(format!(
        "hoist: workspace {} destroyed: {} deleted ({:.1} s)",
        names.workspace,
        crate::printer::count(report.delete.len(), "resource"),
        started.elapsed().as_secs_f64()
    ));
    Ok(ExitCode::SUCCESS)
}
