//! The names of a workspace's resources, all derived from the workspace,
//! account and region, so every run (and every teammate) finds the same
//! ones: `hoist-<workspace>-...`.

use serde::Serialize;

use crate::exit::UsageError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Names {
    pub workspace: String,
    pub account: String,
    pub region: String,
    pub partition: String,
    pub bucket: String,
    pub sagemaker_role: String,
    pub instance_role: String,
    pub instance_profile: String,
    pub log_group: String,
    pub security_group: String,
}

/// S3's limit on bucket names.
pub const MAX_BUCKET_NAME: usize = 63;

impl Names {
    pub fn new(workspace: &str, account: &str, region: &str, partition: &str) -> Result<Self, UsageError> {
        let bucket = format!("hoist-{workspace}-{account}-{region}");
        if bucket.len() > MAX_BUCKET_NAME {
            return Err(UsageError(format!(
                "the artifact bucket name {bucket:?} would be {} characters, over S3's limit of {MAX_BUCKET_NAME}: use a shorter workspace name",
                bucket.len()
            )));
        }
        Ok(Self {
            bucket,
            sagemaker_role: format!("hoist-{workspace}-sagemaker"),
            instance_role: format!("hoist-{workspace}-instance"),
            instance_profile: format!("hoist-{workspace}-instance"),
            log_group: format!("/hoist/{workspace}/jobs"),
            security_group: format!("hoist-{workspace}"),
            workspace: workspace.to_string(),
            account: account.to_string(),
            region: region.to_string(),
            partition: partition.to_string(),
        })
    }

    /// Prefix of every IAM name in the workspace.
    pub fn iam_prefix(&self) -> String {
        format!("hoist-{}-", self.workspace)
    }

    pub fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition, self.bucket)
    }

    pub fn log_group_arn(&self) -> String {
        format!("arn:{}:logs:{}:{}:log-group:{}", self.partition, self.region, self.account, self.log_group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_derive_from_workspace_account_region() {
        let n = Names::new("team-a", "123456789012", "eu-west-1", "aws").unwrap();
        assert_eq!(n.bucket, "hoist-team-a-123456789012-eu-west-1");
        assert_eq!(n.sagemaker_role, "hoist-team-a-sagemaker");
        assert_eq!(n.instance_profile, "hoist-team-a-instance");
        assert_eq!(n.log_group, "/hoist/team-a/jobs");
        assert_eq!(n.security_group, "hoist-team-a");
    }

    #[test]
    fn bucket_name_limit_is_checked_before_any_call() {
        // 16-character workspace with the longest region names still fits...
        assert!(Names::new("abcdefghijklmnop", "123456789012", "ap-southeast-5", "aws").is_ok());
        // ...a made-up longer region does not (67 characters).
        let err = Names::new("abcdefghijklmnop", "123456789012", "xx-southeast-central-east-west-1", "aws").unwrap_err();
        assert!(err.0.contains("over S3's limit of 63"), "{}", err.0);
    }
}
