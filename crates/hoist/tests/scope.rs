//! The generated policies are scoped: under hoist-iam, hand-picked
//! requests outside the workspace are denied: another bucket, another
//! workspace's roles (including one whose name shares the prefix), a role
//! hoist did not create, another workspace's log group, security groups
//! and instances not tagged for the workspace.
//!
//! That every request hoist really sends is allowed, and that each one
//! re-aimed outside the workspace is denied, is proven on the recorded
//! wire requests in `wire_proof.rs`; this file keeps the cases no hoist
//! request exercises (roles hoist never names, instances).

use hoist::footprint::names::Names;
use hoist::footprint::policies;
use hoist::permissions;
use hoist_iam::{Context, Decision, Policy, Request, evaluate};

const ACCOUNT: &str = "123456789012";

fn names(ws: &str) -> Names {
    Names::new(ws, ACCOUNT, "us-east-1", "aws").unwrap()
}

fn user_policy(n: &Names) -> Policy {
    let needs = permissions::grants(&["init", "status", "destroy"], n);
    let doc = serde_json::json!({"Version": "2012-10-17", "Statement": permissions::statements(&needs, n)});
    Policy::from_value(&doc).unwrap()
}

fn decide(policy: &Policy, action: &str, resource: &str, context: &[(&str, &str)]) -> Decision {
    let mut ctx = Context::new();
    for (k, v) in context {
        ctx = ctx.with(k, *v);
    }
    evaluate(std::slice::from_ref(policy), None, &Request { action, resource, context: &ctx }).decision
}

#[test]
fn requests_outside_the_workspace_are_denied() {
    let n = names("team");
    let policy = user_policy(&n);
    let other = names("team-a"); // shares the prefix `hoist-team-`
    let deny = |action: &str, resource: &str, ctx: &[(&str, &str)]| {
        assert_ne!(decide(&policy, action, resource, ctx), Decision::Allow, "{action} on {resource} with {ctx:?}");
    };
    deny("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/data.csv", &[]);
    deny("s3:PutObject", &format!("{}/x", other.bucket_arn()), &[]);
    deny("s3:DeleteBucket", &other.bucket_arn(), &[]);
    deny("s3:PutBucketPolicy", "arn:aws:s3:::someone-elses-bucket", &[]);
    for role in [&other.sagemaker_role, &other.instance_role, &"Admin".to_string()] {
        let arn = format!("arn:aws:iam::{ACCOUNT}:role/{role}");
        for action in ["iam:DeleteRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole", "iam:TagRole"] {
            deny(action, &arn, &[]);
        }
    }
    deny("iam:PassRole", &format!("arn:aws:iam::{ACCOUNT}:role/{}", n.sagemaker_role), &[]);
    deny("iam:DeleteInstanceProfile", &format!("arn:aws:iam::{ACCOUNT}:instance-profile/{}", other.instance_profile), &[]);
    deny("logs:DeleteLogGroup", &other.log_group_arn(), &[]);
    deny("logs:PutRetentionPolicy", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x", &[]);
    let sg = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123";
    for action in ["ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:CreateTags"] {
        deny(action, sg, &[("aws:ResourceTag/hoist:workspace", "team-a")]);
        deny(action, sg, &[]);
    }
    deny("ec2:CreateSecurityGroup", sg, &[("aws:RequestTag/hoist:workspace", "team-a")]);
    // Re-labelling the workspace's own group as another workspace's.
    deny("ec2:CreateTags", sg, &[("aws:ResourceTag/hoist:workspace", "team"), ("aws:RequestTag/hoist:workspace", "team-a")]);
    deny("ec2:TerminateInstances", "arn:aws:ec2:us-east-1:123456789012:instance/i-1", &[]);
    // A workspace role without the workspace's boundary (or with another).
    let sm = format!("arn:aws:iam::{ACCOUNT}:role/hoist-team-sagemaker");
    deny("iam:PutRolePolicy", &sm, &[("iam:PermissionsBoundary", "arn:aws:iam::123456789012:policy/hoist-team-a-boundary")]);
    // ...and the same requests inside the workspace are allowed.
    assert_eq!(decide(&policy, "ec2:DeleteSecurityGroup", sg, &[("aws:ResourceTag/hoist:workspace", "team")]), Decision::Allow);
    let bounded = [("iam:PermissionsBoundary", "arn:aws:iam::123456789012:policy/hoist-team-boundary")];
    assert_eq!(decide(&policy, "iam:DeleteRole", &sm, &bounded), Decision::Allow);
    assert_eq!(decide(&policy, "iam:PutRolePolicy", &sm, &bounded), Decision::Allow);
}

#[test]
fn the_instance_role_reaches_only_its_workspace() {
    let n = names("team");
    let policy = Policy::from_value(&policies::instance_inline(&n)).unwrap();
    let other = names("team-a");
    // An instance ends itself by shutting down: it may terminate none, not
    // even one of its own workspace.
    let instance = "arn:aws:ec2:us-east-1:123456789012:instance/i-1";
    assert_ne!(decide(&policy, "ec2:TerminateInstances", instance, &[("aws:ResourceTag/hoist:workspace", "team")]), Decision::Allow);
    assert_ne!(decide(&policy, "ec2:TerminateInstances", instance, &[]), Decision::Allow);
    assert_eq!(decide(&policy, "s3:PutObject", &format!("{}/jobs/j/job.json", n.bucket_arn()), &[]), Decision::Allow);
    assert_ne!(decide(&policy, "s3:PutObject", &format!("{}/other/x", n.bucket_arn()), &[]), Decision::Allow);
    assert_ne!(decide(&policy, "s3:GetObject", &format!("{}/jobs/j/job.json", other.bucket_arn()), &[]), Decision::Allow);
    let secret = |ws: &str| format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:hoist/{ws}/token-AbCdEf");
    // The workspace's own secrets (jobs receive them), never another's.
    assert_eq!(decide(&policy, "secretsmanager:GetSecretValue", &secret("team"), &[]), Decision::Allow);
    assert_ne!(decide(&policy, "secretsmanager:GetSecretValue", &secret("team-a"), &[]), Decision::Allow);
    assert_ne!(decide(&policy, "secretsmanager:PutSecretValue", &secret("team"), &[]), Decision::Allow);
    assert_ne!(decide(&policy, "logs:PutLogEvents", &format!("{}:log-stream:x", other.log_group_arn()), &[]), Decision::Allow);
}
