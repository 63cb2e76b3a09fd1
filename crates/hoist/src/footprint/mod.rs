//! The workspace's account footprint: the artifact bucket, the SageMaker
//! and EC2 roles, the instance profile, the log group and the security
//! group. [`names`] derives every name; [`policies`] holds every policy
//! document; [`plan`] observes AWS and plans; [`apply`] carries a plan
//! out; [`inventory`] finds what `destroy` removes.

pub mod apply;
pub mod inventory;
pub mod names;
pub mod plan;
pub mod policies;

use anyhow::Result;
use hoist_aws::Session;

/// The workspace's names in the caller's account and region (one STS
/// call), with an administrator's roles and the KMS key from `opts`.
pub async fn names(session: &Session, workspace: &str, opts: &plan::Options) -> Result<names::Names> {
    let id = hoist_aws::identity::caller_identity(session).await?;
    Ok(names::Names::new(workspace, &id.account, session.region(), &id.partition)?.with_settings(
        opts.kms_key.as_deref(),
        opts.sagemaker_role.as_deref(),
        opts.instance_profile.as_deref(),
    )?)
}
