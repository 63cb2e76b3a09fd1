//! Everything in the emulator, for tests that prove nothing was left
//! behind: buckets, roles, instance profiles, customer-managed policies,
//! log groups and security groups (the default ones excepted), as `kind
//! name` strings.

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
        all.sort();
        all
    }

    /// Resources whose name says they are hoist's (`hoist-` or `/hoist/`).
    pub async fn hoist_resources(&self, region: &str) -> Vec<String> {
        self.inventory(region).await.into_iter().filter(|r| r.contains(" hoist-") || r.contains(" /hoist/")).collect()
    }
}
