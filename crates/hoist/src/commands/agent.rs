//! `hoist agent` (hidden): run a job's pending attempt. Started by the
//! local backend as a detached process, and by an EC2 instance at boot.

use std::process::ExitCode;

use anyhow::Result;

use super::Context;
use crate::agent::{self, Options};
use crate::cli::AgentArgs;
use crate::jobs::logstore::LogStore;
use crate::jobs::store::Store;

pub async fn run(ctx: &Context, args: &AgentArgs) -> Result<ExitCode> {
    let needs_aws = !args.store.starts_with("file://") || !args.logs.starts_with("file://") || args.ec2.is_some() || args.sagemaker.is_some();
    let session = if needs_aws { Some(ctx.session().await?) } else { None };
    let ec2 = match &args.ec2 {
        Some(endpoint) => Some(agent::Ec2Options {
            metadata: hoist_aws::metadata::Metadata::new(endpoint).map_err(anyhow::Error::msg)?,
            session: session.clone().expect("made above"),
            spot_poll_interval: *args.spot_poll_interval,
        }),
        None => None,
    };
    let opts = Options {
        store: Store::from_url(&args.store, session.as_ref())?,
        logs: LogStore::from_url(&args.logs, session.as_ref())?,
        job_id: args.job.clone(),
        scratch: args.scratch.clone().unwrap_or_else(|| std::env::temp_dir().join("hoist-agent")),
        checkpoint_interval: *args.checkpoint_interval,
        heartbeat_interval: *args.heartbeat_interval,
        grace: *args.grace,
        ec2,
        sagemaker: args.sagemaker.as_ref().map(|root| agent::SageMakerOptions { root: root.clone(), session: session.clone().expect("made above") }),
    };
    let code = agent::run(opts).await?;
    // The job's own exit code, so a service manager sees how it ended; the
    // agent's own failure (recorded as such, code -1) is a plain failure.
    Ok(match code {
        0..=255 => ExitCode::from(code as u8),
        _ => ExitCode::FAILURE,
    })
}
