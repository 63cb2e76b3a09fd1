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

/// The workspace's names in the caller's account and region (one STS call).
pub async fn names(session: &Session, workspace: &str) -> Result<names::Names> {
    let id = hoist_aws::identity::caller_identity(session).await?;
    Ok(names::Names::new(workspace, &id.account, session.region(), &id.partition)?)
}
