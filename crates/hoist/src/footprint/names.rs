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
    /// The managed policy every role hoist creates carries as its
    /// permissions boundary: `hoist-<workspace>-boundary`.
    pub boundary: String,
    /// The bucket's customer-managed KMS key, as an ARN (`kms_key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// The SageMaker role is an administrator's (`sagemaker_role`): hoist
    /// reads it, never creates or changes it.
    pub given_sagemaker_role: bool,
    /// The instance profile is an administrator's (`instance_profile`).
    pub given_instance_profile: bool,
    /// Path and name of the SageMaker role as its ARN spells it
    /// (`path/NAME`; just `NAME` at the root path).
    #[serde(skip)]
    pub sagemaker_role_resource: String,
    #[serde(skip)]
    pub instance_profile_resource: String,
    /// The caller's own role, when the caller is a role (for `hoist check`,
    /// which reads the caller's own policies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_role: Option<String>,
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
            sagemaker_role_resource: format!("hoist-{workspace}-sagemaker"),
            instance_profile_resource: format!("hoist-{workspace}-instance"),
            boundary: format!("hoist-{workspace}-boundary"),
            kms_key_arn: None,
            given_sagemaker_role: false,
            given_instance_profile: false,
            caller_role: None,
            log_group: format!("/hoist/{workspace}/jobs"),
            security_group: format!("hoist-{workspace}"),
            workspace: workspace.to_string(),
            account: account.to_string(),
            region: region.to_string(),
            partition: partition.to_string(),
        })
    }

    /// The settings that change names and needs: an administrator's role
    /// or instance profile (name or ARN), and the bucket's KMS key (ARN or
    /// key id; an alias cannot scope an IAM policy to a key).
    pub fn with_settings(
        mut self,
        kms_key: Option<&str>,
        sagemaker_role: Option<&str>,
        instance_profile: Option<&str>,
    ) -> Result<Self, UsageError> {
        if let Some(key) = kms_key {
            self.kms_key_arn = Some(if key.starts_with("arn:") {
                key.to_string()
            } else if key.starts_with("alias/") {
                return Err(UsageError(format!(
                    "kms_key {key:?}: give the key's ARN or id, not an alias: IAM policies name keys, and hoist scopes KMS use to that one key"
                )));
            } else {
                format!("arn:{}:kms:{}:{}:key/{key}", self.partition, self.region, self.account)
            });
        }
        if let Some(role) = sagemaker_role {
            self.sagemaker_role = iam_name(role).to_string();
            self.sagemaker_role_resource = iam_resource(role, "role/").to_string();
            self.given_sagemaker_role = true;
        }
        if let Some(profile) = instance_profile {
            self.instance_profile = iam_name(profile).to_string();
            self.instance_profile_resource = iam_resource(profile, "instance-profile/").to_string();
            self.given_instance_profile = true;
        }
        Ok(self)
    }

    /// The permissions boundary's ARN.
    /// The cluster placement group of the workspace's multi-node jobs
    /// (made by the first one, removed by destroy).
    pub fn placement_group(&self) -> String {
        format!("hoist-{}", self.workspace)
    }

    /// Where every SageMaker training job of the workspace starts its
    /// name: `hoist-<workspace>--` (a workspace name never holds `--`, so
    /// no other workspace's names start so).
    pub fn training_job_prefix(&self) -> String {
        format!("hoist-{}--", self.workspace)
    }

    /// The SageMaker training job of a job's attempt (at most 63
    /// characters: a long job id is shortened, with a hash of the whole).
    pub fn training_job(&self, job: &str, attempt: u32) -> String {
        let prefix = self.training_job_prefix();
        let tail = format!("{job}-{attempt}");
        if prefix.len() + tail.len() <= hoist_aws::training::MAX_NAME {
            return format!("{prefix}{tail}");
        }
        let mut h = crate::jobs::store::Fnv1a::default();
        h.update(tail.as_bytes());
        let keep = hoist_aws::training::MAX_NAME - prefix.len() - 9;
        format!("{prefix}{}-{}", tail[..keep].trim_end_matches('-'), &h.hex()[..8])
    }

    /// Every SageMaker endpoint, endpoint configuration and model of the
    /// workspace starts so (its alone: a workspace name never holds `--`).
    pub fn endpoint_prefix(&self) -> String {
        self.training_job_prefix()
    }

    /// An endpoint's ARN (SageMaker writes the name in lower case there).
    pub fn endpoint_arn(&self, endpoint: &str) -> String {
        format!("arn:{}:sagemaker:{}:{}:endpoint/{}", self.partition, self.region, self.account, endpoint.to_ascii_lowercase())
    }

    /// The endpoint a deploy file's `name` declares.
    pub fn endpoint(&self, name: &str) -> String {
        format!("{}{name}", self.endpoint_prefix())
    }

    /// The longest name a deploy file may give: the endpoint's model and
    /// configuration (`<endpoint>-<8 hex>`) must fit SageMaker's 63.
    pub fn max_endpoint_name(&self) -> usize {
        max_endpoint_name(&self.workspace)
    }

    /// The model and endpoint configuration serving `endpoint` as `hash`.
    pub fn endpoint_part(&self, endpoint: &str, hash: &str) -> String {
        format!("{endpoint}-{hash}")
    }

    pub fn boundary_arn(&self) -> String {
        format!("arn:{}:iam::{}:policy/{}", self.partition, self.account, self.boundary)
    }

    pub fn role_arn(&self, name: &str) -> String {
        let resource = if name == self.sagemaker_role { &self.sagemaker_role_resource } else { name };
        format!("arn:{}:iam::{}:role/{resource}", self.partition, self.account)
    }

    pub fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition, self.bucket)
    }

    pub fn log_group_arn(&self) -> String {
        format!("arn:{}:logs:{}:{}:log-group:{}", self.partition, self.region, self.account, self.log_group)
    }
}

/// The name in an IAM ARN (`arn:aws:iam::1:role/path/NAME` -> `NAME`), or
/// the input if it is already a name.
pub fn iam_name(name_or_arn: &str) -> &str {
    name_or_arn.rsplit('/').next().unwrap_or(name_or_arn)
}

/// Path and name after `kind` in an IAM ARN (`role/path/NAME` ->
/// `path/NAME`), or the input if it is a name.
fn iam_resource<'a>(name_or_arn: &'a str, kind: &str) -> &'a str {
    match name_or_arn.split_once(kind) {
        Some((_, rest)) if name_or_arn.starts_with("arn:") => rest,
        _ => name_or_arn,
    }
}

/// [`Names::max_endpoint_name`] for a workspace, known before any AWS call
/// (a deploy file is checked before hoist talks to AWS).
pub fn max_endpoint_name(workspace: &str) -> usize {
    hoist_aws::endpoints::MAX_NAME.saturating_sub(format!("hoist-{workspace}--").len() + 9)
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
        assert_eq!(n.boundary_arn(), "arn:aws:iam::123456789012:policy/hoist-team-a-boundary");
    }

    #[test]
    fn no_two_workspaces_share_a_name() {
        // Every IAM name ends in a fixed suffix after the workspace, so
        // `team` and `team-a` (whose names share the prefix `hoist-team-`)
        // can never name the same resource.
        let a = Names::new("team", "123456789012", "us-east-1", "aws").unwrap();
        let b = Names::new("team-a", "123456789012", "us-east-1", "aws").unwrap();
        let all = |n: &Names| vec![n.bucket.clone(), n.sagemaker_role.clone(), n.instance_role.clone(), n.boundary.clone(), n.log_group.clone()];
        for x in all(&a) {
            assert!(!all(&b).contains(&x), "{x}");
        }
    }

    #[test]
    fn training_job_names_are_valid_unique_and_the_workspaces_alone() {
        let valid = |n: &str| {
            n.len() <= 63
                && n.starts_with(|c: char| c.is_ascii_alphanumeric())
                && n.ends_with(|c: char| c.is_ascii_alphanumeric())
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let a = Names::new("team", "123456789012", "us-east-1", "aws").unwrap();
        let b = Names::new("team-a", "123456789012", "us-east-1", "aws").unwrap();
        assert_eq!(a.training_job("train-1a2b3c4d", 2), "hoist-team--train-1a2b3c4d-2");
        // Another workspace's jobs never start with this one's prefix,
        // which scopes its IAM policy and destroy's search.
        assert!(!b.training_job("x-1", 1).starts_with(&a.training_job_prefix()));
        let long = Names::new("abcdefghijklmnop", "123456789012", "us-east-1", "aws").unwrap();
        let job = format!("{}-0a1b2c3d", "a-very-long-task-name-that-goes-on");
        let names: Vec<String> = (1..=3).map(|i| long.training_job(&job, i)).collect();
        for n in &names {
            assert!(valid(n), "{n}");
            assert!(n.starts_with(&long.training_job_prefix()), "{n}");
        }
        assert_ne!(names[0], names[1]);
        assert_eq!(names[0], long.training_job(&job, 1), "deterministic");
    }

    #[test]
    fn administrator_roles_keep_their_path() {
        let n = Names::new("t", "123456789012", "us-east-1", "aws")
            .unwrap()
            .with_settings(Some("1234abcd-12ab-34cd-56ef-1234567890ab"), Some("arn:aws:iam::123456789012:role/ml/Trainer"), Some("Prof"))
            .unwrap();
        assert_eq!(n.sagemaker_role, "Trainer");
        assert_eq!(n.role_arn("Trainer"), "arn:aws:iam::123456789012:role/ml/Trainer");
        assert_eq!(n.instance_profile_resource, "Prof");
        assert_eq!(n.kms_key_arn.as_deref(), Some("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(Names::new("t", "123456789012", "us-east-1", "aws").unwrap().with_settings(Some("alias/x"), None, None).is_err());
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

