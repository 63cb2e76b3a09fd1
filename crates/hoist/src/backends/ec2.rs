//! The EC2 backend: a job's attempt runs on its own instance (spot or
//! on-demand), launched with the workspace's instance profile and security
//! group, and runs the same agent as the local backend. The job's record,
//! bundle and checkpoints are in the workspace's bucket, its log in the
//! workspace's log group.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use hoist_aws::Session;
use hoist_aws::instances::{ATTEMPT_TAG, InstanceInfo, Instances, JOB_TAG, LaunchSpec, capacity_problem, is_gone};
use hoist_aws::s3::Bucket;

use super::bootstrap;
use crate::commands::Context;
use crate::exit::UsageError;
use crate::footprint::names::Names;
use crate::jobs::logstore::LogStore;
use crate::jobs::record::{JobRecord, Node, Placement, Status, now, parse_time};
use crate::jobs::store::{Store, job_key};
use crate::resolve::catalog::{Catalog, Entry};
use crate::resolve::prices::Prices;
use crate::resolve::{Choice, DEFAULT_INSTANCE_TYPE, Shape, resolve};

/// The root volume of a task that names no `disk_size`, in GiB.
pub const DEFAULT_DISK_GIB: u32 = 100;
/// A running attempt whose agent has not written its heartbeat for this
/// long is lost (the instance hangs, or its network is gone).
pub const STALE_HEARTBEAT: Duration = Duration::from_secs(300);
/// An attempt still pending this long after launch never started (the
/// image cannot run the agent, or the download failed).
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(900);

pub struct Ec2 {
    pub session: Session,
    pub names: Names,
    pub store: Store,
    pub logs: LogStore,
    subnet_ids: Option<Vec<String>>,
    ami_parameter: Option<String>,
}

/// What a launch uses that `init` made.
#[derive(Debug, Clone)]
pub struct Footprint {
    pub security_group_id: String,
}

/// Everything decided before anything is created: a bad instance type or
/// a missing image fails here, changing nothing.
#[derive(Debug, Clone)]
pub struct LaunchPlan {
    pub instance_type: String,
    pub architecture: String,
    pub gpus: u32,
    pub image_id: String,
    /// Where the image id came from (`image_id`, or an SSM parameter).
    pub image_source: String,
    pub root_device: String,
    pub disk_gib: u32,
    pub spot: bool,
    pub subnets: Vec<Option<String>>,
    pub agent_binary: PathBuf,
    pub num_nodes: u32,
    /// How the instance type was chosen, and its price.
    pub choice: Choice,
}

/// Options of `hoist run` that shape a launch.
#[derive(Debug, Clone, Default)]
pub struct LaunchOptions {
    pub agent_binary: Option<PathBuf>,
    pub fallback_on_demand: bool,
    /// Fetch the instance catalog again even if the cached one is fresh.
    pub refresh_catalog: bool,
}

impl Ec2 {
    /// Connect (one STS call, for the account in the workspace's names).
    pub async fn connect(ctx: &Context, workspace: &str) -> Result<Self> {
        let session = ctx.session().await?;
        let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
        let names = crate::footprint::names(&session, workspace, &opts).await?;
        let store = Store::S3 { bucket: Bucket::new(&session, &names.bucket), prefix: String::new() };
        let logs = LogStore::CloudWatch { session: session.clone(), group: names.log_group.clone() };
        let subnet_ids = ctx.settings.subnet_ids.as_ref().map(|s| {
            s.value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<_>>()
        });
        let ami_parameter = ctx.settings.ami_parameter.as_ref().map(|s| s.value.clone());
        Ok(Self { session, names, store, logs, subnet_ids, ami_parameter })
    }

    fn instances(&self) -> Instances<'_> {
        Instances::new(&self.session)
    }

    /// The footprint a launch needs: the bucket, the instance profile and
    /// the security group. Missing: a usage error (exit 2) naming `init`.
    pub async fn footprint(&self) -> Result<Footprint> {
        let n = &self.names;
        let bucket = hoist_aws::bucket::Bucket::new(&self.session, &n.bucket);
        let iam = hoist_aws::iam::Iam::new(&self.session);
        let sgs = hoist_aws::security_group::SecurityGroups::new(&self.session);
        let (has_bucket, profile, vpc) = tokio::join!(bucket.exists(), iam.observe_profile(&n.instance_profile), sgs.default_vpc());
        let mut missing = Vec::new();
        if !has_bucket? {
            missing.push(format!("bucket {}", n.bucket));
        }
        if profile?.is_none() {
            missing.push(format!("instance profile {}", n.instance_profile));
        }
        let vpc = vpc?;
        let sg = match &vpc {
            Some(vpc) => sgs.observe(&n.security_group, vpc).await?,
            None => None,
        };
        if sg.is_none() {
            missing.push(format!("security group {}", n.security_group));
        }
        if !missing.is_empty() {
            return Err(not_set_up(n, &missing).into());
        }
        Ok(Footprint { security_group_id: sg.expect("checked").id })
    }

    /// Decide instance type, image, disk, market and subnets for a task,
    /// reading only.
    pub async fn plan(&self, record: &JobRecord, opts: &LaunchOptions) -> Result<LaunchPlan> {
        let r = &record.task.resources;
        let region = self.session.region().to_string();
        for alt in r.alternatives() {
            if let Some(t) = alt.instance_type.as_deref().filter(|t| t.starts_with("ml.")) {
                return Err(UsageError(format!(
                    "resources.instance_type {t:?} is a SageMaker type: on EC2 name the instance type itself (e.g. {:?})",
                    t.trim_start_matches("ml.")
                ))
                .into());
            }
        }
        let (choice, _) = self.choose(&record.task, opts.refresh_catalog).await?;
        let image = r.image_for(&region).map_err(UsageError)?;
        let (image_id, image_source) = match image.as_deref() {
            Some(docker) if docker.starts_with("docker:") => {
                return Err(UsageError(format!(
                    "resources.image_id {docker:?}: this version of hoist runs EC2 jobs on a machine image, not a container: give an AMI id (ami-...), or none for the default image (which has Docker: `docker run` in `run:` works)"
                ))
                .into());
            }
            Some(ami) => (ami.to_string(), "resources.image_id".to_string()),
            None => {
                let parameter = self
                    .ami_parameter
                    .clone()
                    .unwrap_or_else(|| hoist_aws::images::default_parameter(&choice.architecture, choice.gpus > 0));
                let ami = hoist_aws::images::resolve(&self.session, &parameter).await?.ok_or_else(|| {
                    UsageError(format!(
                        "the SSM parameter {parameter} (the default image for {}) does not exist in {region}: \
                         set `resources.image_id`, or `ami_parameter` in the config",
                        choice.instance_type
                    ))
                })?;
                (ami, format!("SSM parameter {parameter}"))
            }
        };
        let root_device = self
            .instances()
            .root_device(&image_id)
            .await?
            .ok_or_else(|| UsageError(format!("image {image_id} (from {image_source}) does not exist in {region}")))?;
        let subnets: Vec<Option<String>> = match &self.subnet_ids {
            Some(ids) if !ids.is_empty() => ids.iter().cloned().map(Some).collect(),
            _ => {
                let defaults = self.instances().default_subnets().await?;
                // Only zones that offer the type (and the task's zone).
                let usable: Vec<String> =
                    defaults.iter().filter(|(zone, _)| choice.zones.is_empty() || choice.zones.contains(zone)).map(|(_, id)| id.clone()).collect();
                if usable.is_empty() && !defaults.is_empty() {
                    return Err(UsageError(format!(
                        "no default subnet of {region} is in a zone that offers {} ({}): set `subnet_ids` in the config",
                        choice.instance_type,
                        choice.zones.join(", ")
                    ))
                    .into());
                }
                if usable.is_empty() { vec![None] } else { usable.into_iter().map(Some).collect() }
            }
        };
        let agent_binary = bootstrap::agent_binary(&choice.architecture, opts.agent_binary.as_deref())?;
        Ok(LaunchPlan {
            instance_type: choice.instance_type.clone(),
            architecture: choice.architecture.clone(),
            gpus: choice.gpus,
            image_id,
            image_source,
            root_device,
            disk_gib: r.disk_size.unwrap_or(DEFAULT_DISK_GIB),
            spot: choice.spot,
            subnets,
            agent_binary,
            num_nodes: record.task.num_nodes,
            choice,
        })
    }

    /// The instance type for a task's resources. A task that pins one
    /// type (or asks for nothing) needs one DescribeInstanceTypes call;
    /// anything to choose between uses the region's cached catalog.
    pub async fn choose(&self, task: &crate::task::Task, refresh: bool) -> Result<(Choice, Option<String>)> {
        self.choose_among(task, refresh, &|_| true).await
    }

    /// [`Self::choose`] among the types `offered` accepts (SageMaker
    /// trains on some of EC2's types only).
    pub async fn choose_among(&self, task: &crate::task::Task, refresh: bool, offered: &dyn Fn(&str) -> bool) -> Result<(Choice, Option<String>)> {
        let r = &task.resources;
        let region = self.session.region().to_string();
        let wrong_region: Vec<&str> = r.alternatives().iter().filter_map(|a| a.region.as_deref()).filter(|x| *x != region).collect();
        if !wrong_region.is_empty() && wrong_region.len() == r.alternatives().len() {
            return Err(UsageError(format!(
                "the task asks for region {}, and hoist acts in {region}: pass `--region {}` (a workspace lives in one region)",
                wrong_region[0], wrong_region[0]
            ))
            .into());
        }
        let shape = Shape { num_nodes: task.num_nodes };
        let prices = Prices::load()?;
        let simple = r.candidates.is_empty() && r.zone.is_none() && !refresh && (r.instance_type.is_some() || !r.names_hardware());
        let (catalog, source) = if simple {
            let name = r.instance_type.clone().unwrap_or_else(|| DEFAULT_INSTANCE_TYPE.to_string());
            let types = match hoist_aws::instance_types::InstanceTypes::new(&self.session).one(&name).await? {
                Some(spec) => vec![Entry { spec, zones: Vec::new(), spot_prices: Default::default() }],
                None => Vec::new(),
            };
            (Catalog { region: self.session.region().to_string(), fetched_at: now(), types }, None)
        } else {
            let (c, source) = crate::resolve::catalog::load(&self.session, refresh).await?;
            (c, Some(source.to_string()))
        };
        let mut catalog = catalog;
        catalog.types.retain(|e| offered(&e.spec.name));
        let choice = resolve(&catalog, &prices, r, shape).map_err(|e| UsageError(e.to_string()))?;
        Ok((choice, source))
    }

    /// Launch the record's latest attempt: upload the agent binary if the
    /// bucket lacks it, then RunInstances, trying each subnet on capacity
    /// and quota errors and, with `fallback_on_demand`, on-demand after
    /// spot. The placement is written to the record. `progress` is told
    /// what happens.
    pub async fn launch(
        &self,
        record: &JobRecord,
        fp: &Footprint,
        plan: &LaunchPlan,
        opts: &LaunchOptions,
        progress: &dyn Fn(String),
    ) -> Result<Placement> {
        let attempt = record.attempt().number;
        // An instance already launched for this attempt (a launch whose
        // answer was lost, a re-run after a crash) is the one.
        let mut existing: Vec<InstanceInfo> =
            self.instances().of_attempt(&self.names.workspace, &record.id, attempt).await?.into_iter().filter(|i| !is_gone(&i.state)).collect();
        if !existing.is_empty() {
            existing.sort_by_key(|i| (i.launch_index, i.id.clone()));
            let placement = placement_of(&existing[0], plan, None);
            let nodes = nodes_of(existing.iter().map(|i| (i.id.clone(), i.private_ip.clone())), plan.num_nodes);
            self.record_placement(&record.id, attempt, &placement, &nodes).await?;
            return Ok(placement);
        }
        let placement_group = if plan.num_nodes > 1 {
            let name = self.names.placement_group();
            self.instances().ensure_placement_group(&name, &hoist_aws::tags::for_workspace(&self.names.workspace)).await?;
            Some(name)
        } else {
            None
        };
        let (key, uploaded) = bootstrap::ensure_uploaded(&self.store, &plan.architecture, &plan.agent_binary).await?;
        if uploaded {
            progress(format!("uploaded the agent binary for {} ({})", plan.architecture, key));
        }
        let user_data = bootstrap::user_data(&bootstrap::Boot {
            bucket: &self.names.bucket,
            binary_key: &key,
            region: self.session.region(),
            log_group: &self.names.log_group,
            job: &record.id,
            attempt,
            endpoint_url: self.session.endpoint_url(),
        });
        let mut tags = hoist_aws::tags::for_workspace(&self.names.workspace);
        tags.insert(JOB_TAG.into(), record.id.clone());
        tags.insert(ATTEMPT_TAG.into(), attempt.to_string());
        tags.insert("Name".into(), format!("hoist-{}-{}", self.names.workspace, record.id));

        let markets: &[bool] = match (plan.spot, opts.fallback_on_demand) {
            (true, true) => &[true, false],
            (true, false) => &[true],
            (false, _) => &[false],
        };
        let mut problems: Vec<String> = Vec::new();
        for &spot in markets {
            for subnet in &plan.subnets {
                let spec = LaunchSpec {
                    image_id: plan.image_id.clone(),
                    instance_type: plan.instance_type.clone(),
                    root_device: plan.root_device.clone(),
                    disk_gib: plan.disk_gib,
                    spot,
                    subnet_id: subnet.clone(),
                    security_group_id: fp.security_group_id.clone(),
                    instance_profile: self.names.instance_profile.clone(),
                    metadata_hop_limit: 1,
                    user_data: user_data.clone(),
                    client_token: client_token(&record.id, attempt, subnet.as_deref(), spot),
                    tags: tags.clone(),
                    count: plan.num_nodes,
                    placement_group: placement_group.clone(),
                };
                match self.instances().launch(&spec).await {
                    Ok(launched) if !launched.is_empty() => {
                        let info = InstanceInfo {
                            id: launched[0].id.clone(),
                            state: "pending".into(),
                            instance_type: plan.instance_type.clone(),
                            market: if spot { "spot".into() } else { "on-demand".into() },
                            availability_zone: None,
                            state_reason: None,
                            private_ip: launched[0].private_ip.clone(),
                            launch_index: Some(0),
                            tags: BTreeMap::new(),
                        };
                        let placement = placement_of(&info, plan, subnet.clone());
                        let nodes = nodes_of(launched.iter().map(|l| (l.id.clone(), l.private_ip.clone())), plan.num_nodes);
                        self.record_placement(&record.id, attempt, &placement, &nodes).await?;
                        return Ok(placement);
                    }
                    Ok(_) => anyhow::bail!("EC2 answered RunInstances without an instance"),
                    Err(e) => match capacity_problem(&e) {
                        Some(why) => {
                            let market = if spot { "spot" } else { "on-demand" };
                            let place = subnet.as_deref().unwrap_or("the default subnet");
                            progress(format!("{} {market} in {place}: {why}; trying elsewhere", plan.instance_type));
                            problems.push(format!("{market} in {place}: {why} ({})", e.code().unwrap_or_default()));
                        }
                        None => return Err(e.into()),
                    },
                }
            }
        }
        let hint = if plan.spot && !opts.fallback_on_demand { "; `--fallback-on-demand` tries on-demand after spot" } else { "" };
        anyhow::bail!("no {} could be launched:\n  {}{hint}", plan.instance_type, problems.join("\n  "))
    }

    /// Write where the attempt runs: rank 0's instance and, for a
    /// multi-node job, every node (the agents wait for this to learn their
    /// rank and peers).
    async fn record_placement(&self, id: &str, attempt: u32, placement: &Placement, nodes: &[Node]) -> Result<()> {
        self.store
            .update_record(id, |r| {
                let Some(a) = r.attempts.iter_mut().find(|a| a.number == attempt) else { return Ok(false) };
                let same_nodes = a.nodes.iter().map(|n| &n.instance_id).eq(nodes.iter().map(|n| &n.instance_id));
                if a.instance.as_ref() == Some(placement) && same_nodes {
                    return Ok(false);
                }
                a.instance = Some(placement.clone());
                if !same_nodes {
                    a.nodes = nodes.to_vec();
                }
                Ok(true)
            })
            .await?;
        Ok(())
    }

    /// Ask the job to stop: a marker its agent reads at its next heartbeat
    /// (it then stops the job and saves its checkpoint). An attempt whose
    /// agent has not started yet is stopped at once: its instance is
    /// terminated and the attempt recorded cancelled.
    pub async fn request_cancel(&self, record: &JobRecord) -> Result<()> {
        self.store.put(&job_key(&record.id, "cancel"), now().into_bytes()).await?;
        if record.attempt().status == Status::Pending {
            self.force_stop(record, "cancelled before the agent started").await?;
        }
        Ok(())
    }

    /// Terminate the attempt's instance and record the attempt `cancelled`
    /// (the agent did not answer, or never started).
    pub async fn force_stop(&self, record: &JobRecord, why: &str) -> Result<()> {
        let attempt = record.attempt().number;
        self.terminate_attempt(record).await?;
        self.store.end_attempt(&record.id, attempt, Status::Cancelled, &format!("{why}; its instance was terminated")).await?;
        Ok(())
    }

    /// Terminate whatever runs the record's latest attempt.
    pub async fn terminate_attempt(&self, record: &JobRecord) -> Result<Vec<String>> {
        let attempt = record.attempt().number;
        let mut ids: Vec<String> = self
            .instances()
            .of_attempt(&self.names.workspace, &record.id, attempt)
            .await?
            .into_iter()
            .filter(|i| !is_gone(&i.state))
            .map(|i| i.id)
            .collect();
        let recorded = record.attempt().instance.iter().map(|p| &p.instance_id).chain(record.attempt().nodes.iter().map(|n| &n.instance_id));
        for id in recorded {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        self.instances().terminate(&ids).await?;
        Ok(ids)
    }

    /// A non-final attempt whose instance is gone, whose agent stopped
    /// heartbeating, or that never booted, is recorded as such (and a
    /// hung instance terminated). Returns whether the record changed.
    pub async fn reconcile(&self, record: &mut JobRecord) -> Result<bool> {
        if record.status.is_terminal() {
            return Ok(false);
        }
        let a = record.attempt().clone();
        let age = |t: Option<&str>| t.and_then(parse_time).and_then(|t| SystemTime::now().duration_since(t).ok());
        let verdict: Option<(Status, String, bool)> = match &a.instance {
            None => match age(Some(&a.created_at)) {
                // A launch interrupted after RunInstances leaves an instance
                // no record names: found by its tags and terminated.
                Some(d) if d > BOOT_TIMEOUT => Some((Status::Failed, "no instance was launched for this attempt".into(), true)),
                _ => None,
            },
            Some(p) => {
                // Every node: one lost machine interrupts the whole job (its
                // peers would wait for it), and the rest are terminated.
                let mut ids: Vec<String> = a.nodes.iter().map(|n| n.instance_id.clone()).collect();
                if ids.is_empty() {
                    ids.push(p.instance_id.clone());
                }
                let found = self.instances().by_ids(&ids).await?;
                let missing = ids.iter().find(|id| !found.iter().any(|i| &i.id == *id));
                let gone = found.iter().find(|i| is_gone(&i.state));
                let many = ids.len() > 1;
                let rank0 = found.iter().find(|i| i.id == p.instance_id);
                match (missing, gone, rank0) {
                    (Some(id), _, _) => Some((Status::Interrupted, format!("instance {id} is gone"), many)),
                    (None, Some(i), _) => {
                        let why = i.state_reason.clone().unwrap_or_else(|| i.state.clone());
                        let market = if i.market == "spot" { "spot " } else { "" };
                        Some((Status::Interrupted, format!("{market}instance {} was terminated ({why})", i.id), many))
                    }
                    (None, None, None) => Some((Status::Interrupted, format!("instance {} is gone", p.instance_id), many)),
                    (None, None, Some(i)) => match a.status {
                        Status::Running if age(a.heartbeat_at.as_deref()).is_some_and(|d| d > STALE_HEARTBEAT) => Some((
                            Status::Interrupted,
                            format!("the agent on {} stopped sending heartbeats", i.id),
                            true,
                        )),
                        Status::Pending if age(Some(&a.created_at)).is_some_and(|d| d > BOOT_TIMEOUT) => Some((
                            Status::Failed,
                            format!("the agent on {} did not start within {} min (see the instance's console output)", i.id, BOOT_TIMEOUT.as_secs() / 60),
                            true,
                        )),
                        _ => None,
                    },
                }
            }
        };
        let Some((status, reason, terminate)) = verdict else { return Ok(false) };
        if terminate {
            self.terminate_attempt(record).await?;
        }
        let updated = self.store.end_attempt(&record.id, a.number, status, &reason).await?;
        let changed = updated != *record;
        *record = updated;
        Ok(changed)
    }

    /// Every job record in the bucket: one paginated listing; a record
    /// already fetched whose ETag has not changed comes from a local cache
    /// (a finished job's record never changes), the rest are fetched a few
    /// at a time.
    pub async fn list_records(&self, local: &super::local::Local) -> Result<Vec<JobRecord>> {
        use futures_util::StreamExt as _;
        let Store::S3 { bucket, .. } = &self.store else { unreachable!("the EC2 backend's store is S3") };
        let cache = local.root.join(super::AWS_RECORDS_CACHE);
        let listed = match bucket.list("jobs/").await {
            Ok(l) => l,
            // No bucket (never set up, or destroyed): no jobs in AWS.
            Err(e) if e.code() == Some("NoSuchBucket") => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let entries: Vec<_> = listed.into_iter().filter(|e| e.key.ends_with("/job.json")).collect();
        let fetches = entries.into_iter().map(|e| {
            let cache = cache.clone();
            async move {
                let id = e.key.trim_start_matches("jobs/").trim_end_matches("/job.json").to_string();
                let cached = cache.join(format!("{id}.json"));
                let tag = cache.join(format!("{id}.etag"));
                if std::fs::read_to_string(&tag).ok().as_deref() == Some(e.etag.as_str())
                    && let Ok(data) = std::fs::read(&cached)
                    && let Ok(record) = serde_json::from_slice::<JobRecord>(&data)
                {
                    return Ok::<_, anyhow::Error>(Some(record));
                }
                let Some((record, etag)) = self.store.load_versioned(&id).await? else { return Ok(None) };
                if super::local::ensure_private_dir(&cache).is_ok() {
                    let _ = crate::jobs::store::write_atomic(&cached, &serde_json::to_vec(&record)?);
                    let _ = crate::jobs::store::write_atomic(&tag, etag.as_bytes());
                }
                Ok(Some(record))
            }
        });
        let results: Vec<Result<Option<JobRecord>>> = futures_util::stream::iter(fetches).buffer_unordered(8).collect().await;
        let mut out = Vec::new();
        for r in results {
            if let Some(record) = r? {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// The workspace's instances that still exist (for `destroy`).
    pub async fn live_instances(&self) -> Result<Vec<InstanceInfo>> {
        Ok(self.instances().of_workspace(&self.names.workspace).await?)
    }
}

/// What a job needs of the footprint is missing: `init` makes it.
pub fn not_set_up(n: &Names, missing: &[String]) -> UsageError {
    UsageError(format!("workspace {} is not set up in {} (missing: {}): run `hoist init` first", n.workspace, n.region, missing.join(", ")))
}

/// The nodes of a multi-node attempt, in rank order (EC2's launch index);
/// none for a single-node one.
pub(super) fn nodes_of(instances: impl Iterator<Item = (String, Option<String>)>, num_nodes: u32) -> Vec<Node> {
    if num_nodes <= 1 {
        return Vec::new();
    }
    instances
        .enumerate()
        .map(|(rank, (instance_id, private_ip))| Node {
            rank: rank as u32,
            instance_id,
            private_ip,
            status: None,
            exit_code: None,
            reason: None,
            heartbeat_at: None,
        })
        .collect()
}

fn placement_of(i: &InstanceInfo, plan: &LaunchPlan, subnet: Option<String>) -> Placement {
    Placement {
        instance_id: i.id.clone(),
        instance_type: i.instance_type.clone(),
        market: i.market.clone(),
        image_id: plan.image_id.clone(),
        subnet_id: subnet,
        model_artifact: None,
    }
}

/// RunInstances' idempotency token for one launch of one attempt (in one
/// subnet and market: other parameters need another token, or EC2 answers
/// IdempotentParameterMismatch). At most 64 characters.
pub fn client_token(job: &str, attempt: u32, subnet: Option<&str>, spot: bool) -> String {
    let market = if spot { "s" } else { "o" };
    let subnet = subnet.unwrap_or("default");
    let full = format!("{job}.{attempt}.{market}.{subnet}");
    if full.len() <= 64 {
        return full;
    }
    let mut h = crate::jobs::store::Fnv1a::default();
    h.update(full.as_bytes());
    format!("{}.{}", &full[..47], h.hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_tokens_are_stable_distinct_and_short() {
        let t = client_token("train-1234abcd", 1, Some("subnet-1"), true);
        assert_eq!(t, client_token("train-1234abcd", 1, Some("subnet-1"), true));
        assert_ne!(t, client_token("train-1234abcd", 2, Some("subnet-1"), true));
        assert_ne!(t, client_token("train-1234abcd", 1, Some("subnet-2"), true));
        assert_ne!(t, client_token("train-1234abcd", 1, Some("subnet-1"), false));
        let long = client_token(&"x".repeat(80), 1, Some("subnet-0123456789abcdef0"), true);
        assert!(long.len() <= 64, "{long}");
        assert_ne!(long, client_token(&"x".repeat(81), 1, Some("subnet-0123456789abcdef0"), true));
    }
}
