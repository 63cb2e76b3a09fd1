//! What `destroy` removes, found in AWS itself (exact derived names, then
//! ownership tags), never from a local file: a lost laptop or a crash in
//! the middle of `init` leaks nothing. Nothing is found by a name prefix:
//! `hoist-team-` also starts workspace `team-a`'s names and anything a
//! person named that way, and those are never read, let alone deleted.
//!
//! Each kind of resource knows how to find the workspace's instances of it
//! and how to delete one. [`ORDER`] is the deletion order: a kind comes
//! before the kinds it depends on: instances (which use the security group
//! and the instance profile), training jobs, endpoints (then their
//! configurations and models) and secrets first.

use anyhow::Result;
use hoist_aws::Session;
use hoist_aws::bucket::Bucket;
use hoist_aws::endpoints::Endpoints;
use hoist_aws::iam::Iam;
use hoist_aws::log_group::LogGroups;
use hoist_aws::security_group::SecurityGroups;
use hoist_aws::tags::{self, Owner};
use serde::Serialize;

use super::names::Names;

/// How long destroy waits for the workspace's instances to terminate.
const INSTANCE_BUDGET: std::time::Duration = std::time::Duration::from_secs(600);

/// How often destroy asks whether a stopped training job has ended
/// (SageMaker allows a container 120 s after its SIGTERM).
const TRAINING_JOB_POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// The tag CloudFormation puts on every resource it creates.
const CFN_STACK_TAG: &str = "aws:cloudformation:stack-name";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An EC2 instance running (or about to run) a job.
    Instance,
    /// A SageMaker training job still running. Training jobs cannot be
    /// deleted (SageMaker keeps their description); a running one is
    /// stopped.
    TrainingJob,
    /// A SageMaker endpoint (`hoist deploy`): bills by the hour.
    Endpoint,
    /// An endpoint configuration, and a model: what endpoints are made of.
    EndpointConfig,
    Model,
    /// A secret in Secrets Manager (`hoist secret`).
    Secret,
    /// The cluster placement group of multi-node jobs.
    PlacementGroup,
    InstanceProfile,
    Role,
    Boundary,
    LogGroup,
    SecurityGroup,
    Bucket,
}

/// The order resources are discovered and listed in: each kind after the
/// kinds that use it. Deletion follows [`Kind::after`], which this order
/// respects (a test checks it).
pub const ORDER: &[Kind] = &[
    Kind::Instance,
    Kind::TrainingJob,
    Kind::Endpoint,
    Kind::EndpointConfig,
    Kind::Model,
    Kind::Secret, Kind::PlacementGroup, Kind::InstanceProfile, Kind::Role, Kind::Boundary, Kind::LogGroup, Kind::SecurityGroup, Kind::Bucket];

#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub kind: Kind,
    pub name: String,
    /// Provider id where it differs from the name (security group id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A resource with a hoist-like name that destroy leaves alone, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub kind: Kind,
    pub name: String,
    pub reason: String,
}

pub struct Ctx<'a> {
    pub session: &'a Session,
    pub names: &'a Names,
    pub keep_bucket: bool,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Instance => "instance",
            Kind::TrainingJob => "training job",
            Kind::Endpoint => "endpoint",
            Kind::EndpointConfig => "endpoint configuration",
            Kind::Model => "model",
            Kind::Secret => "secret",
            Kind::PlacementGroup => "placement group",
            Kind::InstanceProfile => "instance profile",
            Kind::Role => "role",
            Kind::Boundary => "boundary",
            Kind::LogGroup => "log group",
            Kind::SecurityGroup => "security group",
            Kind::Bucket => "bucket",
        }
    }

    /// The kinds whose resources must be gone before this kind's are
    /// deleted: what uses it (an instance its security group, profile, log
    /// group and placement group; a job or endpoint the role, secrets and
    /// bucket; an endpoint its configuration and model).
    pub fn after(self) -> &'static [Kind] {
        match self {
            Kind::Instance | Kind::TrainingJob | Kind::Endpoint => &[],
            Kind::EndpointConfig | Kind::Model => &[Kind::Endpoint],
            Kind::Secret => &[Kind::Instance, Kind::TrainingJob, Kind::Endpoint],
            Kind::PlacementGroup | Kind::LogGroup | Kind::SecurityGroup => &[Kind::Instance],
            Kind::InstanceProfile => &[Kind::Instance],
            Kind::Role => &[Kind::Instance, Kind::TrainingJob, Kind::Endpoint, Kind::EndpointConfig, Kind::Model, Kind::InstanceProfile],
            Kind::Boundary => &[Kind::Role],
            Kind::Bucket => &[Kind::Instance, Kind::TrainingJob, Kind::Endpoint, Kind::Model],
        }
    }

    pub async fn discover(self, cx: &Ctx<'_>) -> Result<(Vec<Found>, Vec<Skipped>)> {
        let (mut found, mut skipped) = (Vec::new(), Vec::new());
        // Sort by owner: this workspace's are found; untagged ones are
        // skipped and said so; another workspace's whose name happens to
        // share the prefix (`hoist-a-` and workspace `a-b`) go unmentioned.
        let mut sort = |name: &str, tags: &tags::Tags, id: Option<String>, detail: Option<String>| match tags::owner(tags, &cx.names.workspace) {
            // An administrator's template made it (CloudFormation tags what
            // it creates): deleting it here would leave their stack broken
            // and half-deleted.
            Owner::This if tags.contains_key(CFN_STACK_TAG) => skipped.push(Skipped {
                kind: self,
                name: name.to_string(),
                reason: format!("made by CloudFormation stack {:?}: delete the stack instead", tags[CFN_STACK_TAG]),
            }),
            Owner::This => found.push(Found { kind: self, name: name.to_string(), id, detail }),
            Owner::Other(_) => {}
            Owner::Unowned => skipped.push(Skipped {
                kind: self,
                name: name.to_string(),
                reason: "not tagged as hoist's (made by hand?): left alone".into(),
            }),
        };
        let n = cx.names;
        let ws = n.workspace.as_str();
        let mut kept = None;
        match self {
            Kind::Instance => {
                for i in hoist_aws::instances::Instances::new(cx.session).of_workspace(ws).await? {
                    let job = i.tags.get(hoist_aws::instances::JOB_TAG).map(|j| format!(", job {j}")).unwrap_or_default();
                    let detail = Some(format!("{} {} {}{job}: terminated, and waited for", i.state, i.market, i.instance_type));
                    let name = i.tags.get("Name").cloned().unwrap_or_else(|| i.id.clone());
                    sort(&name, &i.tags, Some(i.id.clone()), detail);
                }
            }
            Kind::TrainingJob => {
                // Its name is the workspace's alone (`hoist-<ws>--...`).
                for name in hoist_aws::training::TrainingJobs::new(cx.session).running(&n.training_job_prefix()).await? {
                    let detail = Some("running: stopped, and waited for (a training job cannot be deleted; SageMaker keeps its description)".to_string());
                    found.push(Found { kind: self, name, id: None, detail });
                }
            }
            // Names are the workspace's alone (`hoist-<ws>--...`), as for
            // training jobs; listed by name, never described one by one.
            Kind::Endpoint => {
                for e in Endpoints::new(cx.session).list_endpoints(&n.endpoint_prefix()).await? {
                    let detail = Some(format!("{}: deleted, and waited for", e.status));
                    found.push(Found { kind: self, name: e.name, id: None, detail });
                }
            }
            Kind::EndpointConfig => {
                for c in Endpoints::new(cx.session).list_configs(&n.endpoint_prefix()).await? {
                    found.push(Found { kind: self, name: c.name, id: None, detail: None });
                }
            }
            Kind::Model => {
                for m in Endpoints::new(cx.session).list_models(&n.endpoint_prefix()).await? {
                    found.push(Found { kind: self, name: m.name, id: None, detail: None });
                }
            }
            Kind::Secret => {
                for s in hoist_aws::secrets::Secrets::new(cx.session, ws).list().await? {
                    let detail = Some("deleted at once, without a recovery window".to_string());
                    sort(&s.name, &s.tags, None, detail);
                }
            }
            // An administrator's roles and profile are theirs: never deleted.
            Kind::InstanceProfile if n.given_instance_profile => {}
            Kind::InstanceProfile => {
                let iam = Iam::new(cx.session);
                if let Some(p) = iam.observe_profile(&n.instance_profile).await? {
                    let detail = (!p.roles.is_empty()).then(|| format!("holds {}", p.roles.join(", ")));
                    // A template cannot tag a profile: one holding only the
                    // workspace's own role is owned through it (as `init`
                    // and `status` judge it).
                    let mut tags = p.tags.clone();
                    if tags.is_empty() && p.roles == [n.instance_role.clone()]
                        && let Some(r) = iam.observe_role(&n.instance_role).await?
                        && tags::owner(&r.tags, ws) == Owner::This
                    {
                        tags = r.tags;
                    }
                    sort(&n.instance_profile, &tags, None, detail);
                }
            }
            Kind::Role => {
                let iam = Iam::new(cx.session);
                let mut names = Vec::new();
                if !n.given_sagemaker_role {
                    names.push(&n.sagemaker_role);
                }
                if !n.given_instance_profile {
                    names.push(&n.instance_role);
                }
                let seen = futures_util::future::join_all(names.iter().map(|name| iam.observe_role(name))).await;
                for (name, r) in names.into_iter().zip(seen) {
                    if let Some(r) = r? {
                        sort(name, &r.tags, None, None);
                    }
                }
            }
            Kind::PlacementGroup => {
                for (name, tags) in hoist_aws::instances::Instances::new(cx.session).placement_groups(None, Some(ws)).await? {
                    sort(&name, &tags, None, None);
                }
            }
            Kind::Boundary => {
                if let Some(b) = Iam::new(cx.session).observe_policy(&n.boundary_arn()).await? {
                    let detail = Some("deleted only with an administrator's credentials; otherwise left and said so".to_string());
                    sort(&n.boundary, &b.tags, None, detail);
                }
            }
            Kind::LogGroup => {
                let logs = LogGroups::new(cx.session);
                for (name, _, _) in logs.list(&format!("/hoist/{ws}/")).await? {
                    if let Some(g) = logs.observe(&name).await? {
                        sort(&name, &g.tags, None, None);
                    }
                }
            }
            Kind::SecurityGroup => {
                for sg in SecurityGroups::new(cx.session).tagged(ws).await? {
                    sort(&n.security_group, &sg.tags, Some(sg.id.clone()), Some(sg.vpc_id.clone()));
                }
            }
            Kind::Bucket => {
                if let Some(b) = Bucket::new(cx.session, &n.bucket).observe().await? {
                    if cx.keep_bucket && tags::owner(&b.tags, ws) == Owner::This {
                        kept = Some(Skipped { kind: self, name: n.bucket.clone(), reason: "kept (--keep-bucket)".into() });
                    } else {
                        let detail = Some("emptied first: every object version and unfinished upload".to_string());
                        // An interrupted init's bucket (untagged, empty) is the workspace's.
                        let tags = if b.orphaned() { tags::for_workspace(ws) } else { b.tags.clone() };
                        sort(&n.bucket, &tags, None, detail);
                    }
                }
            }
        }
        skipped.extend(kept);
        Ok((found, skipped))
    }

    /// What destroy does to one (`delete`, or `stop` for what cannot be
    /// deleted), and says it did.
    pub fn verbs(self) -> (&'static str, &'static str) {
        match self {
            Kind::TrainingJob => ("stop", "stopped"),
            _ => ("delete", "deleted"),
        }
    }

    /// After every resource of this kind was deleted (or stopped): wait
    /// for what ends asynchronously. A stopped training job still writes to
    /// the bucket and acts as the role until it ends (SageMaker allows its
    /// container 120 s after SIGTERM); all are waited for together.
    pub async fn settle(self, cx: &Ctx<'_>, found: &[&Found], progress: &dyn Fn(String)) -> Result<()> {
        if self == Kind::Endpoint && !found.is_empty() {
            return settle_endpoints(cx, found, progress).await;
        }
        if self != Kind::TrainingJob || found.is_empty() {
            return Ok(());
        }
        let jobs = hoist_aws::training::TrainingJobs::new(cx.session);
        let started = std::time::Instant::now();
        let mut running: Vec<String> = found.iter().map(|f| f.name.clone()).collect();
        loop {
            let mut still = Vec::new();
            for name in &running {
                if jobs.describe(name).await?.is_some_and(|j| !j.is_finished()) {
                    still.push(name.clone());
                }
            }
            running = still;
            if running.is_empty() {
                return Ok(());
            }
            if started.elapsed() > INSTANCE_BUDGET {
                anyhow::bail!(
                    "training jobs still stopping after {} s: {}; run `hoist destroy` again",
                    INSTANCE_BUDGET.as_secs(),
                    running.join(", ")
                );
            }
            progress(format!("waiting for {} to stop", crate::printer::count(running.len(), "training job")));
            tokio::time::sleep(TRAINING_JOB_POLL).await;
        }
    }

    /// Delete one resource (and what only it holds). Deleting something
    /// already gone succeeds: destroy can be re-run after any failure.
    pub async fn delete(self, cx: &Ctx<'_>, f: &Found) -> Result<()> {
        match self {
            Kind::Instance => {
                let instances = hoist_aws::instances::Instances::new(cx.session);
                let ids = vec![f.id.clone().unwrap_or_else(|| f.name.clone())];
                instances.terminate(&ids).await?;
                // Its security group and profile cannot go while it exists.
                let left = instances.wait_gone(&ids, INSTANCE_BUDGET).await?;
                if !left.is_empty() {
                    anyhow::bail!("instance {} is still terminating after {} s: run `hoist destroy` again", left.join(", "), INSTANCE_BUDGET.as_secs());
                }
            }
            // Stopped here, waited for (all at once) in `settle`.
            Kind::TrainingJob => hoist_aws::training::TrainingJobs::new(cx.session).stop(&f.name).await?,
            // Waited for (all at once) in `settle`: an endpoint being
            // deleted still acts as the role.
            Kind::Endpoint => Endpoints::new(cx.session).delete_endpoint(&f.name).await?,
            Kind::EndpointConfig => Endpoints::new(cx.session).delete_config(&f.name).await?,
            Kind::Model => Endpoints::new(cx.session).delete_model(&f.name).await?,
            Kind::Secret => {
                hoist_aws::secrets::Secrets::new(cx.session, &cx.names.workspace).delete(&f.name).await?;
            }
            Kind::PlacementGroup => hoist_aws::instances::Instances::new(cx.session).delete_placement_group(&f.name).await?,
            Kind::InstanceProfile => {
                let iam = Iam::new(cx.session);
                if let Some(p) = iam.observe_profile(&f.name).await? {
                    for role in &p.roles {
                        iam.remove_role_from_profile(&f.name, role).await?;
                    }
                }
                iam.delete_profile(&f.name).await?;
            }
            Kind::Role => {
                let iam = Iam::new(cx.session);
                if let Some(r) = iam.observe_role(&f.name).await? {
                    for policy in r.inline.keys() {
                        iam.delete_inline(&f.name, policy).await?;
                    }
                    for arn in &r.attached {
                        iam.detach(&f.name, arn).await?;
                    }
                }
                iam.delete_role(&f.name).await?;
            }
            Kind::Boundary => Iam::new(cx.session).delete_policy(&cx.names.boundary_arn()).await?,
            Kind::LogGroup => LogGroups::new(cx.session).delete(&f.name).await?,
            Kind::SecurityGroup => SecurityGroups::new(cx.session).delete(f.id.as_deref().unwrap_or_default()).await?,
            Kind::Bucket => {
                let bucket = Bucket::new(cx.session, &f.name);
                bucket.empty().await?;
                match bucket.delete().await {
                    Err(e) if matches!(e.code(), Some("NoSuchBucket")) => {}
                    other => other?,
                }
            }
        }
        Ok(())
    }
}

/// Wait until the deleted endpoints are gone (one listing a round).
async fn settle_endpoints(cx: &Ctx<'_>, found: &[&Found], progress: &dyn Fn(String)) -> Result<()> {
    let sm = Endpoints::new(cx.session);
    let started = std::time::Instant::now();
    let mut poll = std::time::Duration::from_millis(200);
    loop {
        let left: Vec<String> = sm
            .list_endpoints(&cx.names.endpoint_prefix())
            .await?
            .into_iter()
            .map(|e| e.name)
            .filter(|e| found.iter().any(|f| f.name == *e))
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if started.elapsed() > INSTANCE_BUDGET {
            anyhow::bail!("endpoints still deleting after {} s: {}; run `hoist destroy` again", INSTANCE_BUDGET.as_secs(), left.join(", "));
        }
        progress(format!("waiting for {} to be deleted", crate::printer::count(left.len(), "endpoint")));
        tokio::time::sleep(poll).await;
        poll = (poll * 2).min(TRAINING_JOB_POLL);
    }
}

/// Everything of the workspace that destroy would remove, and what it
/// would leave alone, discovered concurrently.
pub async fn discover(cx: &Ctx<'_>) -> Result<(Vec<Found>, Vec<Skipped>)> {
    let results = futures_util::future::join_all(ORDER.iter().map(|k| k.discover(cx))).await;
    let (mut found, mut skipped) = (Vec::new(), Vec::new());
    for r in results {
        let (f, s) = r?;
        found.extend(f);
        skipped.extend(s);
    }
    // A role that stays (a stack's) still carries the boundary: IAM
    // refuses to delete a policy in use as one.
    if let Some(role) = skipped.iter().find(|s| s.kind == Kind::Role).map(|s| s.name.clone())
        && let Some(i) = found.iter().position(|f| f.kind == Kind::Boundary)
    {
        let b = found.remove(i);
        skipped.push(Skipped { kind: Kind::Boundary, name: b.name, reason: format!("still the permissions boundary of role {role}, which stays") });
    }
    Ok((found, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_and_after_what_uses_it() {
        for (i, kind) in ORDER.iter().enumerate() {
            assert_eq!(ORDER.iter().filter(|k| *k == kind).count(), 1, "{kind:?}");
            for before in kind.after() {
                let j = ORDER.iter().position(|k| k == before).expect("listed");
                assert!(j < i, "{kind:?} waits for {before:?}, which ORDER lists later");
            }
        }
    }
}
