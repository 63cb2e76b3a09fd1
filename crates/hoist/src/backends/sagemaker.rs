//! The SageMaker backend: a job's attempt is a SageMaker training job,
//! running the task in a container image with the hoist agent as the
//! container's entrypoint. The agent does what it does on EC2 (setup and
//! run, envs, secrets and their masking, the record and its heartbeat,
//! cancel requests); SageMaker runs the machines, ships the container's
//! output to `/aws/sagemaker/TrainingJobs` (a stream per host), syncs
//! `/opt/ml/checkpoints` with the job's checkpoint prefix (and restores it
//! when it restarts a managed spot job), and packs `/opt/ml/model` into
//! the job's `model.tar.gz`.
//!
//! The agent binary reaches the container as an input channel (the
//! bucket's `agent/` key, downloaded by SageMaker as the job's role), so
//! any image with `/bin/sh` runs it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Result;
use hoist_aws::Session;
use hoist_aws::instances::JOB_TAG;
use hoist_aws::training::{DEFAULT_MAX_RUNTIME, InputChannel, MAX_RUNTIME_LIMIT, TrainingJobInfo, TrainingJobs, TrainingSpec};

use super::bootstrap;
use super::ec2::{BOOT_TIMEOUT, DEFAULT_DISK_GIB, Ec2};
use crate::exit::UsageError;
use crate::footprint::names::Names;
use crate::jobs::record::{JobRecord, Placement, Status, parse_time};
use crate::jobs::store::{Store, job_key};
use crate::resolve::Choice;

/// Where SageMaker mounts everything in the container.
pub const ML_ROOT: &str = "/opt/ml";
/// The checkpoint directory SageMaker syncs (CheckpointConfig.LocalPath).
pub const CHECKPOINT_LOCAL: &str = "/opt/ml/checkpoints";
/// The input channel that carries the agent binary.
pub const AGENT_CHANNEL: &str = "hoist";
/// With network isolation the container reaches nothing, S3 included: the
/// job's record and bundle come as input channels too, and the agent
/// works on a copy (SageMaker's status is then the only one in AWS).
pub const RECORD_CHANNEL: &str = "job";
pub const BUNDLE_CHANNEL: &str = "code";

/// AWS Deep Learning Containers' registry in the regions where it is
/// the common one (other regions have their own: give `image_id`).
pub(crate) const DLC_ACCOUNT: &str = "763104351884";
pub(crate) const DLC_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
];
/// The default images: AWS's PyTorch training containers (SageMaker
/// flavour), GPU and CPU.
const DLC_GPU_TAG: &str = "pytorch-training:2.5.1-gpu-py311-cu124-ubuntu22.04-sagemaker";
const DLC_CPU_TAG: &str = "pytorch-training:2.5.1-cpu-py311-ubuntu22.04-sagemaker";

/// What SageMaker work (a training job, an endpoint) needs of the
/// footprint: the bucket and the SageMaker role. Returns the role's ARN.
pub async fn footprint(session: &Session, n: &Names) -> Result<String> {
    let bucket = hoist_aws::bucket::Bucket::new(session, &n.bucket);
    let iam = hoist_aws::iam::Iam::new(session);
    let (has_bucket, role) = tokio::join!(bucket.exists(), iam.role_arn(&n.sagemaker_role));
    let mut missing = Vec::new();
    if !has_bucket? {
        missing.push(format!("bucket {}", n.bucket));
    }
    let role = role?;
    if role.is_none() {
        missing.push(format!("role {}", n.sagemaker_role));
    }
    if !missing.is_empty() {
        return Err(super::ec2::not_set_up(n, &missing).into());
    }
    // The role's own ARN (an administrator's role may have a path).
    Ok(role.expect("checked"))
}

/// Options of `hoist run` for SageMaker.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub agent_binary: Option<PathBuf>,
    pub refresh_catalog: bool,
    /// `EnableNetworkIsolation`: the container reaches no network.
    pub network_isolation: bool,
    /// `EnableInterContainerTrafficEncryption` (multi-node jobs).
    pub encrypt_inter_node: bool,
    /// SageMaker's VPC mode: subnets and security groups.
    pub vpc: Option<(Vec<String>, Vec<String>)>,
}

/// Everything decided before anything is created.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `ml.<type>`.
    pub instance_type: String,
    pub image: String,
    /// Where the image came from (`image_id`, or the default).
    pub image_source: String,
    pub volume_gib: u32,
    pub max_runtime_s: u64,
    pub max_wait_s: Option<u64>,
    pub spot: bool,
    pub num_nodes: u32,
    pub agent_binary: PathBuf,
    pub choice: Choice,
    /// What the user should know before it runs (printed as notes).
    pub notes: Vec<String>,
}

pub struct SageMaker {
    pub session: Session,
    pub names: Names,
    pub store: Store,
    subnets: Option<Vec<String>>,
}

impl SageMaker {
    /// The backend over the same session, names and bucket as EC2's.
    pub fn new(aws: &Ec2, settings: &crate::settings::Settings) -> Self {
        let subnets = settings.sagemaker_subnet_ids.as_ref().map(|s| {
            s.value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<_>>()
        });
        Self { session: aws.session.clone(), names: aws.names.clone(), store: aws.store.clone(), subnets: subnets.filter(|s| !s.is_empty()) }
    }

    /// VPC mode: the subnets, and the workspace's security group (which
    /// lets the job's nodes reach each other).
    pub async fn vpc(&self, aws: &Ec2) -> Result<Option<(Vec<String>, Vec<String>)>> {
        let Some(subnets) = &self.subnets else { return Ok(None) };
        // In VPC mode SageMaker makes the job's network interfaces as the
        // job's role (ec2:CreateNetworkInterface and the rest, on `*`), which
        // hoist's own role does not carry: that would widen every
        // workspace's boundary for the few that need it.
        if !self.names.given_sagemaker_role {
            return Err(UsageError(format!(
                "sagemaker_subnet_ids: in VPC mode SageMaker creates the job's network interfaces as the job's role, which needs EC2 \
                 network-interface permissions that hoist's role {} does not carry; name a role your administrator made with them \
                 (`sagemaker_role` in the config; AWS lists them under CreateTrainingJob execution role permissions), or unset sagemaker_subnet_ids",
                self.names.sagemaker_role
            ))
            .into());
        }
        let fp = aws.footprint().await?;
        Ok(Some((subnets.clone(), vec![fp.security_group_id])))
    }

    fn jobs(&self) -> TrainingJobs<'_> {
        TrainingJobs::new(&self.session)
    }

    /// The training job of the record's latest attempt.
    pub fn training_job(&self, record: &JobRecord) -> String {
        record.attempt().instance.as_ref().map(|p| p.instance_id.clone()).unwrap_or_else(|| self.names.training_job(&record.id, record.attempt().number))
    }

    /// The footprint a training job needs: the bucket and the SageMaker
    /// role. Returns the role's ARN.
    pub async fn footprint(&self) -> Result<String> {
        footprint(&self.session, &self.names).await
    }

    /// Decide the instance type, image, volume and stopping condition,
    /// reading only.
    pub async fn plan(&self, aws: &Ec2, given: &crate::task::Task, opts: &Options) -> Result<Plan> {
        let task = as_in_ec2_catalog(given);
        let r = &task.resources;
        let region = self.session.region().to_string();
        let offered = hoist_aws::training::training_instance_types();
        let (choice, _) = aws.choose_among(&task, opts.refresh_catalog, &|t| offered.contains(&format!("ml.{t}").as_str())).await.map_err(|e| {
            let pinned = given.resources.alternatives().iter().find_map(|a| a.instance_type.clone());
            match pinned {
                Some(t) if !offered.contains(&format!("ml.{}", t.trim_start_matches("ml.")).as_str()) => {
                    let mut families: Vec<&str> = offered.iter().filter_map(|t| t.strip_prefix("ml.")?.split('.').next()).collect();
                    families.dedup();
                    let common = ["m5", "m6i", "c5", "c6i", "g5", "g6", "p4d", "p5"];
                    let some: Vec<String> = common.iter().filter(|f| families.contains(f)).map(|f| format!("ml.{f}.*")).collect();
                    UsageError(format!(
                        "resources.instance_type {t:?}: SageMaker training does not offer ml.{} (it offers {} and more); pick one of those, or run the task with `--backend ec2`",
                        t.trim_start_matches("ml."),
                        some.join(", ")
                    ))
                    .into()
                }
                _ => e,
            }
        })?;
        let instance_type = format!("ml.{}", choice.instance_type);
        let (image, image_source) = match r.image_for(&region).map_err(UsageError)? {
            Some(i) => match i.strip_prefix("docker:") {
                Some(uri) if !uri.trim().is_empty() => (uri.trim().to_string(), "resources.image_id".to_string()),
                _ => {
                    return Err(UsageError(format!(
                        "resources.image_id {i:?}: SageMaker runs a container image: give `docker:<image URI>` (an ECR image SageMaker can pull), or none for the default PyTorch training image"
                    ))
                    .into());
                }
            },
            None => {
                if choice.accelerators.as_deref().is_some_and(|a| a.contains("Trainium") || a.contains("Inferentia")) {
                    return Err(UsageError(format!(
                        "{instance_type} runs AWS Neuron: give its image with `image_id: docker:<Neuron training image URI>` (the default image is for CUDA and CPUs)"
                    ))
                    .into());
                }
                if !DLC_REGIONS.contains(&region.as_str()) {
                    return Err(UsageError(format!(
                        "hoist has no default training image for {region}: give one with `resources.image_id: docker:<image URI>`"
                    ))
                    .into());
                }
                let tag = if choice.gpus > 0 { DLC_GPU_TAG } else { DLC_CPU_TAG };
                (format!("{DLC_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{tag}"), "the default: AWS's PyTorch training container".to_string())
            }
        };
        if choice.architecture != "x86_64" {
            return Err(UsageError(format!("{instance_type} is {}: hoist runs SageMaker jobs on x86_64 types", choice.architecture)).into());
        }
        let max_runtime_s = r.max_runtime.unwrap_or(DEFAULT_MAX_RUNTIME);
        if max_runtime_s > MAX_RUNTIME_LIMIT {
            return Err(UsageError(format!(
                "resources.max_runtime of {max_runtime_s} s is over SageMaker's limit of {MAX_RUNTIME_LIMIT} s (28 days)"
            ))
            .into());
        }
        // Managed spot: the wait for capacity counts against
        // MaxWaitTimeInSeconds, which must cover the runtime; allow as
        // long again for waiting.
        let max_wait_s = choice.spot.then(|| (max_runtime_s * 2).min(MAX_RUNTIME_LIMIT).max(max_runtime_s));
        if opts.network_isolation && !given.secrets.is_empty() {
            return Err(UsageError(
                "--network-isolation: the job's container can reach nothing, not even Secrets Manager, and the task names secrets".into(),
            )
            .into());
        }
        let agent_binary = bootstrap::agent_binary("x86_64", opts.agent_binary.as_deref())?;
        let mut notes = Vec::new();
        if let Some(other) = ecr_region(&image).filter(|r| *r != region) {
            notes.push(format!("the image is in ECR in {other} and the job runs in {region}: SageMaker pulls training images from the job's own region"));
        }
        Ok(Plan {
            notes,
            instance_type,
            image,
            image_source,
            volume_gib: r.disk_size.unwrap_or(DEFAULT_DISK_GIB),
            max_runtime_s,
            max_wait_s,
            spot: choice.spot,
            num_nodes: given.num_nodes,
            agent_binary,
            choice,
        })
    }

    /// Everything CreateTrainingJob is sent for the record's latest
    /// attempt.
    pub fn spec(&self, record: &JobRecord, plan: &Plan, role_arn: &str, binary_key: &str, opts: &Options) -> TrainingSpec {
        let n = &self.names;
        let name = n.training_job(&record.id, record.attempt().number);
        let mut tags = hoist_aws::tags::for_workspace(&n.workspace);
        tags.insert(JOB_TAG.into(), record.id.clone());
        let bucket = &n.bucket;
        TrainingSpec {
            name,
            role_arn: role_arn.to_string(),
            image: plan.image.clone(),
            entrypoint: entrypoint(bucket, &record.id, self.session.region(), self.session.endpoint_url(), opts.network_isolation),
            environment: BTreeMap::from([("HOIST_JOB_ID".to_string(), record.id.clone())]),
            instance_type: plan.instance_type.clone(),
            instance_count: plan.num_nodes,
            volume_gib: plan.volume_gib,
            max_runtime_s: plan.max_runtime_s,
            spot: plan.spot,
            max_wait_s: plan.max_wait_s,
            checkpoint_s3: format!("s3://{bucket}/{}", job_key(&record.id, "checkpoints/")),
            checkpoint_local: CHECKPOINT_LOCAL.to_string(),
            output_s3: format!("s3://{bucket}/{}", job_key(&record.id, "output/")),
            channels: {
                let mut channels = vec![InputChannel { name: AGENT_CHANNEL.to_string(), s3_uri: format!("s3://{bucket}/{binary_key}") }];
                if opts.network_isolation {
                    let key = |rest: &str| format!("s3://{bucket}/{}", job_key(&record.id, rest));
                    channels.push(InputChannel { name: RECORD_CHANNEL.to_string(), s3_uri: key("job.json") });
                    if record.task.workdir.is_some() {
                        channels.push(InputChannel { name: BUNDLE_CHANNEL.to_string(), s3_uri: key("bundle.tar.gz") });
                    }
                }
                channels
            },
            tags,
            network_isolation: opts.network_isolation,
            inter_container_encryption: opts.encrypt_inter_node,
            vpc: opts.vpc.clone(),
        }
    }

    /// Start the record's latest attempt as a training job: upload the
    /// agent binary if the bucket lacks it, record where the attempt runs
    /// (its nodes, for the agents to find their rank), then
    /// CreateTrainingJob. A job of this name already there (a create whose
    /// answer was lost, a re-run after a crash) is the attempt's.
    pub async fn submit(&self, record: &JobRecord, plan: &Plan, role_arn: &str, opts: &Options, progress: &dyn Fn(String)) -> Result<Placement> {
        let (key, uploaded) = bootstrap::ensure_uploaded(&self.store, "x86_64", &plan.agent_binary).await?;
        if uploaded {
            progress(format!("uploaded the agent binary ({key})"));
        }
        let spec = self.spec(record, plan, role_arn, &key, opts);
        let placement = Placement {
            instance_id: spec.name.clone(),
            instance_type: spec.instance_type.clone(),
            market: if spec.spot { "spot".into() } else { "on-demand".into() },
            image_id: spec.image.clone(),
            subnet_id: None,
            model_artifact: Some(format!("{}{}/output/model.tar.gz", spec.output_s3, spec.name)),
        };
        // SageMaker's hosts by rank; their addresses the agents resolve.
        let nodes = super::ec2::nodes_of((0..plan.num_nodes).map(|rank| (host_name(rank), None)), plan.num_nodes);
        let attempt = record.attempt().number;
        self.store
            .update_record(&record.id, |r| {
                let Some(a) = r.attempts.iter_mut().find(|a| a.number == attempt) else { return Ok(false) };
                if a.instance.as_ref() == Some(&placement) && a.nodes == nodes {
                    return Ok(false);
                }
                a.instance = Some(placement.clone());
                a.nodes = nodes.clone();
                Ok(true)
            })
            .await?;
        match self.jobs().create(&spec).await {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceInUse") => progress(format!("training job {} already exists: it is this attempt's", spec.name)),
            Err(e) => return Err(e.into()),
        }
        Ok(placement)
    }

    /// Ask the job to stop: the cancel marker (so the agent records a
    /// cancellation, not an interruption), then StopTrainingJob (SIGTERM
    /// to the container; SageMaker stops billing even if the agent does
    /// not answer). An attempt whose agent has not started is recorded
    /// cancelled at once.
    pub async fn request_cancel(&self, record: &JobRecord) -> Result<()> {
        self.store.put(&job_key(&record.id, "cancel"), crate::jobs::record::now().into_bytes()).await?;
        self.jobs().stop(&self.training_job(record)).await?;
        if record.attempt().status == Status::Pending {
            self.record_cancelled(record, "cancelled before the agent started").await?;
        }
        Ok(())
    }

    /// Stop the training job and record the attempt `cancelled` (its
    /// agent did not answer): SageMaker kills the container 120 s after
    /// its SIGTERM.
    pub async fn force_stop(&self, record: &JobRecord, why: &str) -> Result<()> {
        self.jobs().stop(&self.training_job(record)).await?;
        self.record_cancelled(record, why).await
    }

    async fn record_cancelled(&self, record: &JobRecord, why: &str) -> Result<()> {
        let reason = format!("{why}; training job {} was stopped", self.training_job(record));
        self.store.end_attempt(&record.id, record.attempt().number, Status::Cancelled, &reason).await?;
        Ok(())
    }

    /// Where the training job stands, for progress messages.
    pub async fn describe(&self, record: &JobRecord) -> Result<Option<TrainingJobInfo>> {
        Ok(self.jobs().describe(&self.training_job(record)).await?)
    }

    /// A non-final attempt whose training job has ended (failed before
    /// the agent could say so, stopped by SageMaker, never created) is
    /// recorded as such. SageMaker's status is the truth about whether the
    /// job still runs; the record holds the detail the agent wrote.
    pub async fn reconcile(&self, record: &mut JobRecord) -> Result<bool> {
        if record.status.is_terminal() {
            return Ok(false);
        }
        let a = record.attempt().clone();
        let info = self.describe(record).await?;
        let verdict = match &info {
            None => {
                let age = parse_time(&a.created_at).and_then(|t| SystemTime::now().duration_since(t).ok());
                age.is_some_and(|d| d > BOOT_TIMEOUT).then(|| (Status::Failed, "no training job was created for this attempt".to_string()))
            }
            Some(job) => verdict(job, self.store.exists(&job_key(&record.id, "cancel")).await.unwrap_or(false)),
        };
        let Some((status, reason)) = verdict else { return Ok(false) };
        let updated = self.store.end_attempt(&record.id, a.number, status, &reason).await?;
        let changed = updated != *record;
        *record = updated;
        Ok(changed)
    }

}

/// What an ended training job means for an attempt the agent has not
/// finished (None: SageMaker still runs it).
pub fn verdict(job: &TrainingJobInfo, cancel_requested: bool) -> Option<(Status, String)> {
    let why = job.failure_reason.clone().unwrap_or_else(|| job.secondary_status.clone());
    match job.status.as_str() {
        "Failed" => Some((Status::Failed, format!("SageMaker training job {} failed: {why}", job.name))),
        "Stopped" if cancel_requested => Some((Status::Cancelled, format!("cancelled; training job {} stopped", job.name))),
        "Stopped" => Some(match job.secondary_status.as_str() {
            "MaxRuntimeExceeded" => (Status::Failed, format!("training job {} reached its MaxRuntimeInSeconds (max_runtime)", job.name)),
            "MaxWaitTimeExceeded" => (
                Status::Interrupted,
                format!("training job {} waited for spot capacity past its MaxWaitTimeInSeconds", job.name),
            ),
            _ => (Status::Interrupted, format!("training job {} was stopped ({why})", job.name)),
        }),
        // The container exited 0 (the agent exits with the job's code)
        // but its last record write did not land.
        "Completed" => Some((Status::Succeeded, format!("training job {} completed", job.name))),
        _ => None,
    }
}

/// The region of an ECR image URI (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/...`).
fn ecr_region(image: &str) -> Option<String> {
    let host = image.split('/').next()?;
    let rest = host.split_once(".dkr.ecr.")?.1;
    Some(rest.split('.').next()?.to_string())
}

/// SageMaker's name for the host of a rank (`algo-1` is rank 0).
pub fn host_name(rank: u32) -> String {
    format!("algo-{}", rank + 1)
}

/// The container's entrypoint: copy the agent out of its input channel
/// (channel files are not executable), then run it on the job: in the
/// bucket, or, isolated from the network, on a copy of the record and
/// bundle that came as channels.
pub fn entrypoint(bucket: &str, job: &str, region: &str, endpoint_url: Option<&str>, isolated: bool) -> Vec<String> {
    let q = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let endpoint = endpoint_url.map(|u| format!(" --endpoint-url {}", q(u))).unwrap_or_default();
    let channel = |name: &str| format!("$(find {ML_ROOT}/input/data/{name} -type f | head -n 1)");
    let (copy, store) = if isolated {
        let dir = format!("\"$d/store/jobs/\"{}", q(job));
        (
            format!(
                "mkdir -p {dir}\n\
                 cp \"{record}\" {dir}/job.json\n\
                 if [ -d {ML_ROOT}/input/data/{BUNDLE_CHANNEL} ]; then cp \"{bundle}\" {dir}/bundle.tar.gz; fi\n",
                record = channel(RECORD_CHANNEL),
                bundle = channel(BUNDLE_CHANNEL),
            ),
            "\"file://$d/store\"".to_string(),
        )
    } else {
        (String::new(), format!("s3://{bucket}"))
    };
    let script = format!(
        "set -e\n\
         d=$(mktemp -d)\n\
         cp \"{binary}\" \"$d/hoist\"\n\
         chmod 0755 \"$d/hoist\"\n\
         {copy}\
         exec \"$d/hoist\" --region {region}{endpoint} agent --sagemaker {ML_ROOT} --store {store} --logs stdout: --job {job} --scratch \"$d\"\n",
        binary = channel(AGENT_CHANNEL),
        region = q(region),
        job = q(job),
    );
    vec!["/bin/sh".into(), "-c".into(), script]
}

/// The task as EC2's catalog sees it: `ml.` taken off its instance types
/// (`ml.g5.xlarge` is `g5.xlarge` there), and no zone (SageMaker places a
/// training job itself).
fn as_in_ec2_catalog(task: &crate::task::Task) -> crate::task::Task {
    let mut t = task.clone();
    let strip = |r: &mut crate::task::Resources| {
        if let Some(it) = &r.instance_type {
            r.instance_type = Some(it.trim_start_matches("ml.").to_string());
        }
        r.zone = None;
    };
    strip(&mut t.resources);
    for c in &mut t.resources.candidates {
        strip(c);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: &str, secondary: &str, failure: Option<&str>) -> TrainingJobInfo {
        TrainingJobInfo {
            name: "hoist-ws--t-1".into(),
            arn: String::new(),
            status: status.into(),
            secondary_status: secondary.into(),
            failure_reason: failure.map(str::to_string),
            model_artifacts: None,
            transitions: Vec::new(),
            instance_type: "ml.m5.large".into(),
            instance_count: 1,
            spot: false,
        }
    }

    #[test]
    fn an_ended_training_job_decides_an_unfinished_attempt() {
        assert_eq!(verdict(&job("InProgress", "Training", None), false), None);
        assert_eq!(verdict(&job("Stopping", "Stopping", None), true), None);
        let (s, why) = verdict(&job("Failed", "Failed", Some("CannotStartContainerError: image not found")), false).unwrap();
        assert_eq!(s, Status::Failed);
        assert!(why.contains("image not found"), "{why}");
        assert_eq!(verdict(&job("Stopped", "Stopped", None), true).unwrap().0, Status::Cancelled);
        assert_eq!(verdict(&job("Stopped", "MaxRuntimeExceeded", None), false).unwrap().0, Status::Failed);
        assert_eq!(verdict(&job("Stopped", "MaxWaitTimeExceeded", None), false).unwrap().0, Status::Interrupted);
        assert_eq!(verdict(&job("Completed", "Completed", None), false).unwrap().0, Status::Succeeded);
    }

    #[test]
    fn an_ecr_image_names_its_region() {
        assert_eq!(ecr_region("763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.5.1").as_deref(), Some("eu-west-1"));
        assert_eq!(ecr_region("ghcr.io/org/image:1"), None);
    }

    #[test]
    fn the_entrypoint_runs_the_channel_binary_on_the_job() {
        let e = entrypoint("hoist-ws-1-us-east-1", "train-1a2b", "us-east-1", Some("http://127.0.0.1:5000"), false);
        assert_eq!(&e[..2], &["/bin/sh", "-c"]);
        assert!(e[2].contains("find /opt/ml/input/data/hoist -type f"), "{}", e[2]);
        assert!(e[2].contains("agent --sagemaker /opt/ml --store s3://hoist-ws-1-us-east-1 --logs stdout: --job 'train-1a2b'"), "{}", e[2]);
        assert!(e[2].contains("--endpoint-url 'http://127.0.0.1:5000'"), "{}", e[2]);
        assert!(!entrypoint("b", "j", "us-east-1", None, false)[2].contains("endpoint-url"));
        let isolated = &entrypoint("b", "train-1a2b", "us-east-1", None, true)[2];
        assert!(isolated.contains("find /opt/ml/input/data/job -type f") && isolated.contains("--store \"file://$d/store\""), "{isolated}");
    }
}
