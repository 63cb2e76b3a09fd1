//! SageMaker training jobs: create one for a job's attempt, read its
//! status, stop it, and find the workspace's running ones.
//!
//! A training job cannot be deleted (SageMaker keeps its description), so
//! its name must never be reused: it carries the job and the attempt.

use std::collections::BTreeMap;

use aws_sdk_sagemaker::types::{
    AlgorithmSpecification, Channel, CheckpointConfig, DataSource, OutputDataConfig, ResourceConfig, S3DataDistribution,
    S3DataSource, S3DataType, SortBy, SortOrder, StoppingCondition, Tag, TrainingInputMode, TrainingInstanceType,
    TrainingJobStatus, VpcConfig,
};

use crate::catalog::training as ops;
use crate::error::AwsError;
use crate::session::Session;

/// SageMaker's limit on a training job's name.
pub const MAX_NAME: usize = 63;

/// The longest run SageMaker allows (28 days), and its default (1 day).
pub const MAX_RUNTIME_LIMIT: u64 = 28 * 86_400;
pub const DEFAULT_MAX_RUNTIME: u64 = 86_400;

/// The `ml.` instance types SageMaker training accepts (this SDK's list).
pub fn training_instance_types() -> &'static [&'static str] {
    TrainingInstanceType::values()
}

/// An S3 prefix downloaded into `/opt/ml/input/data/<name>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputChannel {
    pub name: String,
    pub s3_uri: String,
}

/// Everything a training job is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingSpec {
    pub name: String,
    pub role_arn: String,
    pub image: String,
    /// Replaces the image's own entrypoint.
    pub entrypoint: Vec<String>,
    pub environment: BTreeMap<String, String>,
    pub instance_type: String,
    pub instance_count: u32,
    pub volume_gib: u32,
    pub max_runtime_s: u64,
    /// Managed spot training; then `max_wait_s` (≥ the runtime) bounds
    /// runtime plus time spent waiting for spot capacity.
    pub spot: bool,
    pub max_wait_s: Option<u64>,
    pub checkpoint_s3: String,
    pub checkpoint_local: String,
    pub output_s3: String,
    pub channels: Vec<InputChannel>,
    pub tags: BTreeMap<String, String>,
    pub network_isolation: bool,
    pub inter_container_encryption: bool,
    /// Subnets and security groups, when the job runs in the user's VPC.
    pub vpc: Option<(Vec<String>, Vec<String>)>,
}

/// A training job as SageMaker describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingJobInfo {
    pub name: String,
    pub arn: String,
    /// InProgress, Completed, Failed, Stopping, Stopped.
    pub status: String,
    /// Starting, Downloading, Training, Uploading, Interrupted,
    /// MaxRuntimeExceeded, ... (SageMaker's finer status).
    pub secondary_status: String,
    pub failure_reason: Option<String>,
    pub model_artifacts: Option<String>,
    /// (secondary status, its message), oldest first.
    pub transitions: Vec<(String, String)>,
    pub instance_type: String,
    pub instance_count: u32,
    pub spot: bool,
}

impl TrainingJobInfo {
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "Completed" | "Failed" | "Stopped")
    }
}

pub struct TrainingJobs<'a> {
    session: &'a Session,
    client: aws_sdk_sagemaker::Client,
}

impl<'a> TrainingJobs<'a> {
    pub fn new(session: &'a Session) -> Self {
        Self { session, client: session.sagemaker_client() }
    }

    /// Create the job. A name already taken answers `ResourceInUse`: the
    /// caller decides whether that job is its own (a retried create whose
    /// answer was lost).
    pub async fn create(&self, spec: &TrainingSpec) -> Result<String, AwsError> {
        let mut algorithm = AlgorithmSpecification::builder()
            .training_image(&spec.image)
            .training_input_mode(TrainingInputMode::File)
            .set_container_entrypoint(Some(spec.entrypoint.clone()));
        // SageMaker's own metrics (CPU, GPU, disk) need nothing here.
        algorithm = algorithm.enable_sage_maker_metrics_time_series(false);
        let channels = spec
            .channels
            .iter()
            .map(|c| {
                let source = S3DataSource::builder()
                    .s3_data_type(S3DataType::S3Prefix)
                    .s3_uri(&c.s3_uri)
                    .s3_data_distribution_type(S3DataDistribution::FullyReplicated)
                    .build();
                Channel::builder()
                    .channel_name(&c.name)
                    .data_source(DataSource::builder().s3_data_source(source).build())
                    .input_mode(TrainingInputMode::File)
                    .build()
            })
            .collect::<Vec<_>>();
        let mut stopping = StoppingCondition::builder().max_runtime_in_seconds(spec.max_runtime_s as i32);
        if let Some(wait) = spec.max_wait_s {
            stopping = stopping.max_wait_time_in_seconds(wait as i32);
        }
        let mut req = self
            .client
            .create_training_job()
            .training_job_name(&spec.name)
            .role_arn(&spec.role_arn)
            .algorithm_specification(algorithm.build())
            .set_input_data_config(if channels.is_empty() { None } else { Some(channels) })
            .output_data_config(OutputDataConfig::builder().s3_output_path(&spec.output_s3).build())
            .resource_config(
                ResourceConfig::builder()
                    .instance_type(TrainingInstanceType::from(spec.instance_type.as_str()))
                    .instance_count(spec.instance_count as i32)
                    .volume_size_in_gb(spec.volume_gib as i32)
                    .build(),
            )
            .stopping_condition(stopping.build())
            .checkpoint_config(
                CheckpointConfig::builder()
                    .s3_uri(&spec.checkpoint_s3)
                    .local_path(&spec.checkpoint_local)
                    .build(),
            )
            .enable_managed_spot_training(spec.spot)
            .enable_network_isolation(spec.network_isolation)
            .enable_inter_container_traffic_encryption(spec.inter_container_encryption)
            .set_environment(Some(spec.environment.clone().into_iter().collect()))
            .set_tags(Some(spec.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()));
        if let Some((subnets, groups)) = &spec.vpc {
            req = req.vpc_config(
                VpcConfig::builder()
                    .set_subnets(Some(subnets.clone()))
                    .set_security_group_ids(Some(groups.clone()))
                    .build(),
            );
        }
        let out = self.session.call(ops::CREATE_TRAINING_JOB, Some(&spec.name), req.send()).await?;
        Ok(out.training_job_arn().unwrap_or_default().to_string())
    }

    /// The job, or `None` if SageMaker has none of that name.
    pub async fn describe(&self, name: &str) -> Result<Option<TrainingJobInfo>, AwsError> {
        let req = self.client.describe_training_job().training_job_name(name).send();
        let out = match self.session.call(ops::DESCRIBE_TRAINING_JOB, Some(name), req).await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let resources = out.resource_config();
        Ok(Some(TrainingJobInfo {
            name: out.training_job_name().unwrap_or_default().to_string(),
            arn: out.training_job_arn().unwrap_or_default().to_string(),
            status: out.training_job_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            secondary_status: out.secondary_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            failure_reason: out.failure_reason().map(str::to_string),
            model_artifacts: out.model_artifacts().and_then(|m| m.s3_model_artifacts()).map(str::to_string),
            transitions: out
                .secondary_status_transitions()
                .iter()
                .map(|t| (t.status().map(|s| s.as_str()).unwrap_or_default().to_string(), t.status_message().unwrap_or_default().to_string()))
                .collect(),
            instance_type: resources.and_then(|r| r.instance_type()).map(|t| t.as_str().to_string()).unwrap_or_default(),
            instance_count: resources.and_then(|r| r.instance_count()).unwrap_or(0) as u32,
            spot: out.enable_managed_spot_training().unwrap_or(false),
        }))
    }

    /// Ask SageMaker to stop the job (SIGTERM to its containers, then 120 s
    /// before they are killed). Stopping a job that already ended is not
    /// an error: it is stopped.
    pub async fn stop(&self, name: &str) -> Result<(), AwsError> {
        let req = self.client.stop_training_job().training_job_name(name).send();
        match self.session.call(ops::STOP_TRAINING_JOB, Some(name), req).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ValidationException") && e.message().is_some_and(|m| m.contains("status")) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every job whose name starts with `prefix` and that still runs
    /// (InProgress or Stopping: one paginated listing each; SageMaker
    /// filters by substring, the prefix is checked here).
    pub async fn running(&self, prefix: &str) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        for status in [TrainingJobStatus::InProgress, TrainingJobStatus::Stopping] {
            let mut token: Option<String> = None;
            loop {
                let req = self
                    .client
                    .list_training_jobs()
                    .name_contains(prefix)
                    .status_equals(status.clone())
                    .sort_by(SortBy::CreationTime)
                    .sort_order(SortOrder::Ascending)
                    .max_results(100)
                    .set_next_token(token.clone())
                    .send();
                let page = self.session.call(ops::LIST_TRAINING_JOBS, Some(prefix), req).await?;
                out.extend(
                    page.training_job_summaries()
                        .iter()
                        .map(|s| s.training_job_name().unwrap_or_default().to_string())
                        .filter(|n| n.starts_with(prefix)),
                );
                match page.next_token() {
                    Some(t) if !t.is_empty() && Some(t) != token.as_deref() => token = Some(t.to_string()),
                    _ => break,
                }
            }
        }
        Ok(out)
    }
}

/// SageMaker answers a describe of an unknown job with a
/// ValidationException ("Requested resource not found").
pub fn is_not_found(e: &AwsError) -> bool {
    matches!(e.code(), Some("ValidationException") | Some("ResourceNotFound")) && {
        let m = e.message().unwrap_or_default().to_ascii_lowercase();
        m.contains("not found") || m.contains("could not find")
    }
}
