//! Where jobs run. `local` (this machine) is the default and needs no
//! cloud account; `ec2` runs the same agent on an EC2 instance, with the
//! job's record, bundle and checkpoints in the workspace's bucket and its
//! log in the workspace's log group; `sagemaker` runs it as the entrypoint
//! of a SageMaker training job, its record in the same bucket and its log
//! where SageMaker ships the container's output.
//!
//! [`Jobs`] is what commands use: it finds a job wherever it lives, tells
//! where its record and log are, reconciles a record against reality (a
//! `running` attempt whose process or instance is gone is not running)
//! and asks a job to stop, the same way for every backend.

pub mod bootstrap;
pub mod ec2;
pub mod host;
pub mod local;
pub mod sagemaker;

use anyhow::{Context as _, Result};

use crate::commands::Context;
use crate::exit::UsageError;
use crate::jobs::logstore::LogStore;
use crate::jobs::record::JobRecord;
use crate::jobs::store::Store;
use crate::task::Backend;
use ec2::Ec2;
use local::Local;
use sagemaker::SageMaker;

/// Every job of the workspace, on every backend it uses.
pub struct Jobs {
    pub local: Local,
    /// Present when the workspace runs jobs in AWS (it has submitted one
    /// from this machine, or its configured backend is an AWS one).
    pub aws: Option<Ec2>,
    /// SageMaker training jobs, over the same session and bucket.
    pub sagemaker: Option<SageMaker>,
    /// Why AWS-backed jobs could not be listed (no credentials, no bucket):
    /// shown once, local jobs still are.
    pub aws_problem: Option<String>,
}

/// Marks (in the local data directory) that a workspace runs jobs in AWS,
/// so `hoist jobs` also lists the bucket's.
const USES_AWS_MARKER: &str = "uses-aws";
/// Where AWS-backed job records already fetched are kept (by ETag).
pub const AWS_RECORDS_CACHE: &str = "aws-records";

/// Forget the workspace's AWS jobs on this machine (after `destroy`: their
/// records went with the bucket).
pub fn forget_aws_jobs(workspace: &crate::workspace::Workspace) {
    let root = local::data_dir().join(workspace.as_str());
    let _ = std::fs::remove_file(root.join(USES_AWS_MARKER));
    let _ = std::fs::remove_dir_all(root.join(AWS_RECORDS_CACHE));
}

impl Jobs {
    /// The workspace's jobs. With `need_aws`, failing to reach AWS is an
    /// error; otherwise AWS-backed jobs are listed when the workspace uses
    /// AWS and they can be reached.
    pub async fn open(ctx: &Context, need_aws: bool) -> Result<Self> {
        let ws = ctx.settings.workspace.value.as_str();
        let local = Local::new(&ctx.settings.workspace.value);
        let configured_aws = ctx.settings.backend.as_ref().is_some_and(|b| b.value != Backend::Local);
        let uses_aws = need_aws || configured_aws || local.root.join(USES_AWS_MARKER).exists();
        if !uses_aws {
            return Ok(Self { local, aws: None, sagemaker: None, aws_problem: None });
        }
        match Ec2::connect(ctx, ws).await {
            Ok(ec2) => {
                let sagemaker = Some(SageMaker::new(&ec2, &ctx.settings));
                Ok(Self { local, aws: Some(ec2), sagemaker, aws_problem: None })
            }
            Err(e) if !need_aws => Ok(Self { local, aws: None, sagemaker: None, aws_problem: Some(format!("{e:#}")) }),
            Err(e) => Err(e),
        }
    }

    /// This machine's jobs only: a new local run needs nothing of AWS (no
    /// credentials, no request).
    pub fn local_only(ctx: &Context) -> Self {
        Self { local: Local::new(&ctx.settings.workspace.value), aws: None, sagemaker: None, aws_problem: None }
    }

    /// Remember that this workspace runs jobs in AWS.
    pub fn mark_uses_aws(&self) {
        let _ = std::fs::write(self.local.root.join(USES_AWS_MARKER), b"");
    }

    pub fn aws(&self) -> Result<&Ec2> {
        self.aws.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "this job runs in AWS, which hoist cannot reach here: {}",
                self.aws_problem.as_deref().unwrap_or("no AWS settings")
            )
        })
    }

    pub fn sagemaker(&self) -> Result<&SageMaker> {
        self.aws()?;
        Ok(self.sagemaker.as_ref().expect("made with aws"))
    }

    /// Where a job's record, bundle and checkpoints live.
    pub fn store(&self, record: &JobRecord) -> Result<Store> {
        match record.backend {
            Backend::Local => Ok(self.local.store()),
            _ => Ok(self.aws()?.store.clone()),
        }
    }

    /// Where a job's log lives.
    pub fn logs(&self, record: &JobRecord) -> Result<LogStore> {
        match record.backend {
            Backend::Local => Ok(self.local.logs()),
            Backend::Sagemaker => {
                let sm = self.sagemaker()?;
                Ok(LogStore::SageMaker { session: sm.session.clone(), names: sm.names.clone() })
            }
            Backend::Ec2 => Ok(self.aws()?.logs.clone()),
        }
    }

    /// The job's record as it is now.
    pub async fn reload(&self, record: &JobRecord) -> Result<JobRecord> {
        self.store(record)?.load_record(&record.id).await?.with_context(|| format!("job {} disappeared", record.id))
    }

    /// Correct a record against reality; true if it changed.
    pub async fn reconcile(&self, record: &mut JobRecord) -> Result<bool> {
        match record.backend {
            Backend::Local => self.local.reconcile(record).await,
            Backend::Sagemaker => self.sagemaker()?.reconcile(record).await,
            Backend::Ec2 => self.aws()?.reconcile(record).await,
        }
    }

    /// Ask the job to stop (its agent saves a checkpoint first).
    pub async fn request_cancel(&self, record: &JobRecord) -> Result<()> {
        match record.backend {
            Backend::Local => self.local.request_cancel(record).await,
            Backend::Sagemaker => self.sagemaker()?.request_cancel(record).await,
            Backend::Ec2 => self.aws()?.request_cancel(record).await,
        }
    }

    /// Every job, newest first: the local directory's and, when the
    /// workspace uses AWS, the bucket's (one paginated listing; records
    /// already seen and unchanged are not fetched again).
    pub async fn list(&self) -> Result<Vec<JobRecord>> {
        let mut records = self.local.store().list_records().await?;
        if let Some(aws) = &self.aws {
            records.extend(aws.list_records(&self.local).await?);
        }
        records.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        Ok(records)
    }

    /// The job `query` names: an exact id, or a prefix of exactly one id.
    /// `None` means the newest job.
    pub async fn find(&self, workspace: &str, query: Option<&str>) -> Result<JobRecord> {
        if let Some(q) = query {
            if let Some(record) = self.local.store().load_record(q).await? {
                return Ok(record);
            }
            if let Some(aws) = &self.aws
                && let Some(record) = aws.store.load_record(q).await?
            {
                return Ok(record);
            }
        }
        let records = self.list().await?;
        let Some(q) = query else {
            return records.into_iter().next().ok_or_else(|| {
                UsageError(format!("no jobs yet in workspace {workspace}: start one with `hoist run TASK.yaml`")).into()
            });
        };
        let matches: Vec<JobRecord> = records.into_iter().filter(|r| r.id.starts_with(q)).collect();
        match matches.len() {
            1 => Ok(matches.into_iter().next().expect("one")),
            0 => {
                let hint = match &self.aws_problem {
                    Some(p) => format!("; jobs in AWS could not be listed: {p}"),
                    None => String::new(),
                };
                Err(UsageError(format!("no job {q:?} in workspace {workspace} (`hoist jobs` lists them){hint}")).into())
            }
            _ => {
                let ids: Vec<&str> = matches.iter().map(|r| r.id.as_str()).take(5).collect();
                Err(UsageError(format!("{q:?} matches several jobs ({}): give more of the id", ids.join(", "))).into())
            }
        }
    }
}
