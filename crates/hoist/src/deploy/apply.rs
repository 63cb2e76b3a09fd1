//! Carry out a deploy plan: every endpoint is an independent item of the
//! shared applier ([`crate::reconcile`]), its steps in order. Waits poll
//! DescribeEndpoint with a growing interval and say each status change.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use hoist_aws::Session;
use hoist_aws::endpoints::Endpoints;
use hoist_aws::s3::Bucket;

use super::plan::{Change, Step, Upload, UploadSource, work};
use crate::printer::Printer;
use crate::progress::Progress;
use crate::reconcile;

/// Endpoints changed at once: SageMaker's control plane throttles well
/// above this, and a wait holds a slot without sending much.
const PARALLEL: usize = 8;

/// How long an endpoint may take to come up (large models: long pulls).
const BUDGET: Duration = Duration::from_secs(3600);

/// First poll, growth, and the longest interval between polls.
const FIRST_POLL: Duration = Duration::from_millis(200);
const MAX_POLL: Duration = Duration::from_secs(15);

/// How often a long wait says it is still waiting.
const STILL_EVERY: Duration = Duration::from_secs(60);

pub struct Applier<'a> {
    pub session: &'a Session,
    pub bucket: &'a str,
    pub printer: &'a Printer,
    /// Set by Ctrl-C: no step starts after it (the call under way ends; a
    /// wait stops at once).
    pub stop: &'a AtomicBool,
    /// For MLflow models: the registry (a proxied artifact store is read
    /// through it).
    pub registry: Option<&'a crate::mlflow::Registry>,
}

/// What an apply did, per endpoint key.
pub struct Applied {
    pub failed: Vec<(String, anyhow::Error)>,
    pub skipped: Vec<String>,
}

impl Applier<'_> {
    pub async fn apply(&self, changes: &[Change]) -> Result<Applied> {
        let work = work(changes);
        let verbs: std::collections::BTreeMap<String, &str> = work.iter().map(|w| (w.key.clone(), finished(&w.steps))).collect();
        let bar = Progress::steps(self.printer, work.len() as u64, "applying");
        let outcome = reconcile::apply(work, PARALLEL, |step: Step| self.step(step), |key| {
            self.printer.status(format!("  {:<9} {key}", verbs.get(key).copied().unwrap_or("done")));
            bar.inc(1);
        })
        .await?;
        drop(bar);
        Ok(Applied { failed: outcome.failed, skipped: outcome.skipped })
    }

    async fn step(&self, step: Step) -> Result<()> {
        if self.stop.load(Ordering::SeqCst) {
            bail!("interrupted before {}", describe(&step));
        }
        let sm = Endpoints::new(self.session);
        match step {
            Step::Upload(Upload { source, key }) => {
                let bucket = Bucket::new(self.session, self.bucket);
                if !bucket.exists(&key).await? {
                    match source {
                        UploadSource::File(path) => {
                            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                            self.printer.status(format!("  upload  {} ({}) to s3://{}/{key}", path.display(), crate::agent::human_bytes(size), self.bucket));
                            bucket.put_file(&key, &path).await?;
                        }
                        UploadSource::Mlflow(r) => {
                            let registry = self.registry.ok_or_else(|| anyhow!("internal: no MLflow registry to package {} from", r.version.model))?;
                            let started = Instant::now();
                            let size = crate::mlflow::package::package(self.session, registry, &r, &bucket, &key).await?;
                            self.printer.status(format!(
                                "  package  MLflow model {} version {} ({}, {:.1} s) to s3://{}/{key}",
                                r.version.model,
                                r.version.version,
                                crate::agent::human_bytes(size),
                                started.elapsed().as_secs_f64(),
                                self.bucket
                            ));
                        }
                    }
                }
            }
            Step::CreateModel(spec) => sm.create_model(&spec).await?,
            Step::CreateConfig(spec) => sm.create_config(&spec).await?,
            Step::CreateEndpoint { name, config, tags } => sm.create_endpoint(&name, &config, &tags).await?,
            Step::UpdateEndpoint { name, config } => {
                if let Err(e) = sm.update_endpoint(&name, &config).await {
                    // A retried update whose first attempt went through
                    // meets its own update in progress: that is done.
                    let ours = e.code() == Some("ValidationException")
                        && sm.describe_endpoint(&name).await?.is_some_and(|i| i.config == config);
                    if !ours {
                        return Err(e.into());
                    }
                }
            }
            Step::DeleteEndpoint(name) => sm.delete_endpoint(&name).await?,
            Step::DeleteConfig(name) => sm.delete_config(&name).await?,
            Step::DeleteModel(name) => sm.delete_model(&name).await?,
            Step::DeleteUpload(key) => Bucket::new(self.session, self.bucket).delete(&[key]).await?,
            Step::AwaitInService(name) => drop(self.await_status(&sm, &name, true).await?),
            Step::AwaitUpdated { name, config } => {
                // InService on another configuration: SageMaker's blue/green
                // update failed and kept the previous fleet serving.
                if let Some(info) = self.await_status(&sm, &name, true).await?
                    && info.config != config
                {
                    bail!(RolledBack {
                        endpoint: name,
                        serving: info.config,
                        reason: info.failure_reason.unwrap_or_else(|| "SageMaker gave no reason".into()),
                    });
                }
            }
            Step::TagEndpoint { arn, tags } => sm.tag_endpoint(&arn, &tags).await?,
            Step::AwaitGone(name) => drop(self.await_status(&sm, &name, false).await?),
        }
        Ok(())
    }

    /// Poll until the endpoint is InService (or, `in_service` false, gone).
    /// A Failed endpoint is an error carrying SageMaker's reason. Returns
    /// what the last describe said (InService), or None (gone).
    async fn await_status(&self, sm: &Endpoints<'_>, name: &str, in_service: bool) -> Result<Option<hoist_aws::endpoints::EndpointInfo>> {
        let started = Instant::now();
        let mut interval = FIRST_POLL;
        let mut last = String::new();
        let mut said = Instant::now();
        loop {
            let info = sm.describe_endpoint(name).await?;
            match (&info, in_service) {
                (None, false) => return Ok(None),
                (None, true) => bail!("endpoint {name} disappeared while hoist waited for it to be InService"),
                (Some(i), true) if i.status == "InService" => return Ok(info),
                (Some(i), _) if i.status == "Failed" && in_service => {
                    bail!("endpoint {name} failed: {}", i.failure_reason.as_deref().unwrap_or("SageMaker gave no reason"))
                }
                (Some(i), _) if !hoist_aws::endpoints::is_in_progress(&i.status) && in_service => {
                    bail!("endpoint {name} is {} (expected it to become InService)", i.status)
                }
                _ => {}
            }
            let status = info.map(|i| i.status).unwrap_or_default();
            // Each change of status, and every minute that none comes.
            if status != last || said.elapsed() >= STILL_EVERY {
                let still = if status == last { "still " } else { "" };
                self.printer.status(format!("  {name}: {still}{status} ({})", crate::humanize::duration(started.elapsed())));
                last = status;
                said = Instant::now();
            }
            if started.elapsed() > BUDGET {
                return Err(anyhow!("endpoint {name} still {last} after {} min: `hoist endpoints` shows it; apply again to keep waiting", BUDGET.as_secs() / 60));
            }
            // A wait is the one step Ctrl-C need not let finish: nothing is
            // half-done, and the next apply waits again.
            let deadline = Instant::now() + interval;
            while Instant::now() < deadline {
                if self.stop.load(Ordering::SeqCst) {
                    bail!("interrupted while waiting for endpoint {name} ({last})");
                }
                tokio::time::sleep((deadline - Instant::now()).min(Duration::from_millis(100))).await;
            }
            interval = (interval * 3 / 2).min(MAX_POLL);
        }
    }
}

/// An update SageMaker did not complete: the endpoint serves its previous
/// configuration (the old model, no downtime).
#[derive(Debug, thiserror::Error)]
#[error("endpoint {endpoint}: the update failed and SageMaker rolled it back: it serves {serving} as before. SageMaker's reason: {reason}")]
pub struct RolledBack {
    pub endpoint: String,
    pub serving: String,
    pub reason: String,
}

/// What an endpoint's finished steps mean: serving, gone, only asked for
/// (`--no-wait`), or its old parts cleaned up.
fn finished(steps: &[Step]) -> &'static str {
    let has = |f: fn(&Step) -> bool| steps.iter().any(f);
    if has(|s| matches!(s, Step::AwaitInService(_) | Step::AwaitUpdated { .. })) {
        "ready"
    } else if has(|s| matches!(s, Step::CreateEndpoint { .. } | Step::UpdateEndpoint { .. })) {
        "requested"
    } else if has(|s| matches!(s, Step::DeleteEndpoint(_))) {
        "deleted"
    } else {
        "cleaned up"
    }
}

fn describe(step: &Step) -> String {
    match step {
        Step::Upload(u) => format!("uploading {}", u.key),
        Step::AwaitUpdated { name, .. } => format!("waiting for {name} to update"),
        Step::TagEndpoint { arn, .. } => format!("tagging {arn}"),
        Step::CreateModel(m) => format!("creating model {}", m.name),
        Step::CreateConfig(c) => format!("creating endpoint configuration {}", c.name),
        Step::CreateEndpoint { name, .. } => format!("creating endpoint {name}"),
        Step::UpdateEndpoint { name, .. } => format!("updating endpoint {name}"),
        Step::DeleteEndpoint(n) => format!("deleting endpoint {n}"),
        Step::DeleteConfig(n) => format!("deleting endpoint configuration {n}"),
        Step::DeleteModel(n) => format!("deleting model {n}"),
        Step::DeleteUpload(k) => format!("deleting the model file {k}"),
        Step::AwaitInService(n) => format!("waiting for {n}"),
        Step::AwaitGone(n) => format!("waiting for {n} to go"),
    }
}
