//! Everything in the emulator, for tests that prove nothing was left
//! behind: buckets, roles, instance profiles, customer-managed policies,
//! log groups, security groups (the default ones excepted), instances that
//! are not terminated, volumes, placement groups (an emulator patch),
//! secrets, SageMaker endpoints, endpoint configurations and models,
//! and SageMaker training jobs still running (one that ended
//! bills nothing, and cannot be deleted), as `kind name` strings (an
//! instance or volume tagged for a workspace as `hoist-<workspace>:<id>`).

use crate::Emulator;

impl Emulator {
    /// Every resource of the kinds hoist creates, in `region`.
    pub async fn inventory(&self, region: &str) -> Vec<String> {
        let sdk = self.sdk_config_for(self.admin_keys(), region).await;
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        let iam = aws_sdk_iam::Client::new(&sdk);
        let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
        let ec2 = aws_sdk_ec2::Client::new(&sdk);
        let mut all = Vec::new();
        for b in s3.list_buckets().send().await.expect("ListBuckets").buckets() {
            all.push(format!("bucket {}", b.name().unwrap_or_default()));
        }
        for r in iam.list_roles().send().await.expect("ListRoles").roles() {
            all.push(format!("role {}", r.role_name()));
        }
        for p in iam.list_instance_profiles().send().await.expect("ListInstanceProfiles").instance_profiles() {
            all.push(format!("instance-profile {}", p.instance_profile_name()));
        }
        let local = aws_sdk_iam::types::PolicyScopeType::Local;
        for p in iam.list_policies().scope(local).send().await.expect("ListPolicies").policies() {
            all.push(format!("policy {}", p.policy_name().unwrap_or_default()));
        }
        for g in logs.describe_log_groups().send().await.expect("DescribeLogGroups").log_groups() {
            all.push(format!("log-group {}", g.log_group_name().unwrap_or_default()));
        }
        for g in ec2.describe_security_groups().send().await.expect("DescribeSecurityGroups").security_groups() {
            if g.group_name() != Some("default") {
                all.push(format!("security-group {}", g.group_name().unwrap_or_default()));
            }
        }
        let workspace_of = |tags: &[aws_sdk_ec2::types::Tag]| {
            tags.iter().find(|t| t.key() == Some("hoist:workspace")).and_then(|t| t.value()).map(|w| format!("hoist-{w}:"))
        };
        for r in ec2.describe_instances().send().await.expect("DescribeInstances").reservations() {
            for i in r.instances() {
                if i.state().and_then(|s| s.name()).map(|n| n.as_str()) != Some("terminated") {
                    all.push(format!("instance {}{}", workspace_of(i.tags()).unwrap_or_default(), i.instance_id().unwrap_or_default()));
                }
            }
        }
        for v in ec2.describe_volumes().send().await.expect("DescribeVolumes").volumes() {
            all.push(format!("volume {}{}", workspace_of(v.tags()).unwrap_or_default(), v.volume_id().unwrap_or_default()));
        }
        for g in ec2.describe_placement_groups().send().await.expect("DescribePlacementGroups").placement_groups() {
            all.push(format!("placement-group {}", g.group_name().unwrap_or_default()));
        }
        let sm = aws_sdk_secretsmanager::Client::new(&sdk);
        for secret in sm.list_secrets().send().await.expect("ListSecrets").secret_list() {
            all.push(format!("secret {}", secret.name().unwrap_or_default()));
        }
        // Through hoist-aws's own listing (the testkit holds no SageMaker
        // SDK of its own): every running job, whatever its name.
        let session = hoist_aws::Session::from_sdk_config(sdk.clone()).expect("a region");
        let training = hoist_aws::training::TrainingJobs::new(&session);
        for name in training.running("").await.expect("ListTrainingJobs") {
            all.push(format!("training-job {name}"));
        }
        // Endpoints and what they are made of, all of hoist's names.
        let endpoints = hoist_aws::endpoints::Endpoints::new(&session);
        for e in endpoints.list_endpoints("hoist-").await.expect("ListEndpoints") {
            all.push(format!("endpoint {}", e.name));
        }
        for c in endpoints.list_configs("hoist-").await.expect("ListEndpointConfigs") {
            all.push(format!("endpoint-config {}", c.name));
        }
        for m in endpoints.list_models("hoist-").await.expect("ListModels") {
            all.push(format!("model {}", m.name));
        }
        all.sort();
        all
    }

    /// Resources whose name says they are hoist's (`hoist-`, `/hoist/`, or
    /// a secret's `hoist/`).
    pub async fn hoist_resources(&self, region: &str) -> Vec<String> {
        self.inventory(region).await.into_iter().filter(|r| r.contains(" hoist-") || r.contains(" /hoist/") || r.contains(" hoist/")).collect()
    }
}
