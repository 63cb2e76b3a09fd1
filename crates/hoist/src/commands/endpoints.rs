//! `hoist endpoints [list]` and `hoist endpoints delete NAME`: the
//! workspace's endpoints, found by name with list calls, each with the
//! capacity its configuration gives it.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::Result;
use futures_util::stream::{self, StreamExt};
use hoist_aws::endpoints::{Capacity, Endpoints};
use serde::Serialize;

use super::Context;
use crate::cli::{EndpointsArgs, EndpointsCommand};
use crate::deploy::apply::Applier;
use crate::deploy::plan::{Action, Change, Observed, Served, Step, parts_of};
use crate::exit::UsageError;
use crate::printer::Report;

pub async fn run(ctx: &Context, args: &EndpointsArgs) -> Result<ExitCode> {
    match &args.command {
        None | Some(EndpointsCommand::List) => list(ctx).await,
        Some(EndpointsCommand::Delete { name, yes }) => delete(ctx, name, *yes).await,
    }
}

#[derive(Serialize)]
struct Row {
    /// The name the deploy file gives.
    endpoint: String,
    /// The name in SageMaker.
    name: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    capacity: Option<Capacity>,
    /// When SageMaker last changed it (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
    /// The MLflow model version it serves (from its tags).
    #[serde(skip_serializing_if = "Option::is_none")]
    mlflow: Option<Served>,
}

#[derive(Serialize)]
#[serde(transparent)]
struct ListReport(Vec<Row>);

impl Report for ListReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.0.is_empty() {
            return writeln!(out, "no endpoints in this workspace (`hoist deploy apply FILE` creates them)");
        }
        let capacity = |r: &Row| match &r.capacity {
            Some(Capacity::Instances { instance_type, count }) => format!("{instance_type} × {count}"),
            Some(Capacity::Serverless { memory_mb, max_concurrency }) => format!("serverless {memory_mb} MiB ×{max_concurrency}"),
            None => "-".into(),
        };
        let name_w = self.0.iter().map(|r| r.endpoint.len()).max().unwrap_or(0).max("ENDPOINT".len());
        let cap_w = self.0.iter().map(|r| capacity(r).chars().count()).max().unwrap_or(0).max("CAPACITY".len());
        // What each serves, when some serve MLflow models.
        let serves = |r: &Row| r.mlflow.as_ref().map(|m| format!("{} v{}", m.model, m.version)).unwrap_or_else(|| "-".into());
        let any_served = self.0.iter().any(|r| r.mlflow.is_some());
        let serves_w = self.0.iter().map(|r| serves(r).chars().count()).max().unwrap_or(0).max("MLFLOW MODEL".len());
        let column = |text: String| if any_served { format!("{text:<serves_w$}  ") } else { String::new() };
        writeln!(out, "{:<name_w$}  {:<14} {:<cap_w$}  {}CHANGED", "ENDPOINT", "STATUS", "CAPACITY", column("MLFLOW MODEL".into()))?;
        for r in &self.0 {
            let changed = r.modified.as_deref().map(crate::humanize::age).unwrap_or_else(|| "-".into());
            writeln!(out, "{:<name_w$}  {:<14} {:<cap_w$}  {}{changed}", r.endpoint, r.status, capacity(r), column(serves(r)))?;
            if let Some(reason) = &r.failure_reason {
                writeln!(out, "  {reason}")?;
            }
        }
        Ok(())
    }
}

async fn list(ctx: &Context) -> Result<ExitCode> {
    let session = ctx.session().await?;
    let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
    let n = crate::footprint::names(&session, ctx.settings.workspace.value.as_str(), &opts).await?;
    let sm = Endpoints::new(&session);
    let seen = Observed::read(&sm, &n).await?;
    let prefix = n.endpoint_prefix();
    // An endpoint's configuration is its one configuration by name; only
    // an endpoint with several (an interrupted apply) or a failed one is
    // described.
    let rows = stream::iter(seen.endpoints.iter().map(|e| {
        let sm = &sm;
        let seen = &seen;
        let prefix = &prefix;
        async move {
            let (own, _) = parts_of(seen, &e.name);
            let (config, failure_reason) = if own.len() == 1 && e.status != "Failed" {
                (Some(own[0].clone()), None)
            } else {
                match sm.describe_endpoint(&e.name).await? {
                    Some(i) => (Some(i.config), i.failure_reason),
                    None => (None, None),
                }
            };
            let (capacity, tags) = tokio::join!(
                async {
                    match &config {
                        Some(c) => sm.describe_config(c).await.map(|c| c.map(|(_, cap)| cap)),
                        None => Ok(None),
                    }
                },
                sm.endpoint_tags(&e.arn)
            );
            let tags = tags?;
            let mlflow = match (tags.get(crate::mlflow::MODEL_TAG), tags.get(crate::mlflow::VERSION_TAG)) {
                (Some(model), Some(version)) => Some(Served { model: model.clone(), version: version.clone() }),
                _ => None,
            };
            let capacity = capacity?;
            Ok::<_, anyhow::Error>(Row {
                endpoint: e.name.strip_prefix(prefix.as_str()).unwrap_or(&e.name).to_string(),
                name: e.name.clone(),
                status: e.status.clone(),
                capacity,
                modified: e.modified.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
                failure_reason,
                mlflow,
            })
        }
    }))
    .buffered(8)
    .collect::<Vec<_>>()
    .await
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let mut rows = rows;
    rows.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    ctx.printer.report(&ListReport(rows))?;
    Ok(ExitCode::SUCCESS)
}

async fn delete(ctx: &Context, name: &str, yes: bool) -> Result<ExitCode> {
    let session = ctx.session().await?;
    let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
    let n = crate::footprint::names(&session, ctx.settings.workspace.value.as_str(), &opts).await?;
    // The file's name, or the name in SageMaker (`hoist endpoints -o json`).
    let name = name.strip_prefix(&n.endpoint_prefix()).unwrap_or(name);
    let full = n.endpoint(name);
    let sm = Endpoints::new(&session);
    let seen = Observed::read(&sm, &n).await?;
    let (configs, models) = parts_of(&seen, &full);
    let exists = seen.endpoints.iter().any(|e| e.name == full);
    if !exists && configs.is_empty() && models.is_empty() {
        let known: Vec<String> = seen.endpoints.iter().map(|e| e.name.strip_prefix(&n.endpoint_prefix()).unwrap_or(&e.name).to_string()).collect();
        let hint = crate::suggest::did_you_mean(name, known.iter().map(String::as_str)).map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default();
        return Err(UsageError(format!("no endpoint {name:?} in workspace {}{hint}", n.workspace)).into());
    }
    let uploads = crate::deploy::plan::uploads_of(&sm, &n, &full, &models).await?;
    if !yes {
        let mut what: Vec<String> = Vec::new();
        if exists {
            what.push(format!("  - endpoint {full}"));
        }
        what.extend(configs.iter().map(|c| format!("  - endpoint configuration {c}")));
        what.extend(models.iter().map(|m| format!("  - model {m}")));
        what.extend(uploads.iter().map(|k| format!("  - model file s3://{}/{k} (uploaded by hoist)", n.bucket)));
        ctx.printer.status(format!("to delete:\n{}", what.join("\n")));
    }
    if !super::confirm::confirm(yes, &format!("Delete endpoint {name} ({full}) and its models and configurations"))? {
        ctx.printer.status("hoist: nothing was deleted");
        return Ok(ExitCode::FAILURE);
    }
    let mut steps = Vec::new();
    if exists {
        steps.push(Step::DeleteEndpoint(full.clone()));
        steps.push(Step::AwaitGone(full.clone()));
    }
    steps.extend(configs.into_iter().map(Step::DeleteConfig));
    steps.extend(models.into_iter().map(Step::DeleteModel));
    steps.extend(uploads.into_iter().map(Step::DeleteUpload));
    let change = Change { endpoint: name.to_string(), name: full.clone(), action: Action::Delete, details: Vec::new(), mlflow: None, steps };
    let stop = AtomicBool::new(false);
    let applier = Applier { session: &session, bucket: &n.bucket, printer: &ctx.printer, stop: &stop, registry: None };
    let applied = applier.apply(&[change]).await?;
    if let Some((_, e)) = applied.failed.into_iter().next() {
        return Err(e);
    }
    ctx.printer.status(format!("hoist: endpoint {name} deleted"));
    Ok(ExitCode::SUCCESS)
}
