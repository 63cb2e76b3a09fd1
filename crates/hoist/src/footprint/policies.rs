//! The policy documents `init` puts on the workspace's resources. This is
//! the one source for them: `init` applies these, `status` compares
//! against them, and `hoist policy --roles` will print them.
//!
//! Every grant is scoped to the workspace: its bucket, its log group, its
//! secrets prefix, its tagged instances. No AWS managed policy is used.

use serde_json::{Value, json};

use super::names::Names;
use crate::permissions;

/// The inline policy's name on both roles.
pub const INLINE_POLICY: &str = "hoist";

/// SageMaker may assume the role only on behalf of this account, and only
/// for SageMaker resources in this region (confused-deputy protection).
pub fn sagemaker_trust(n: &Names) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": n.account},
                "ArnLike": {"aws:SourceArn": format!("arn:{}:sagemaker:{}:{}:*", n.partition, n.region, n.account)}
            }
        }]
    })
}

/// What a SageMaker training job or endpoint may do as this role: exactly
/// what the catalog declares SageMaker does with it.
pub fn sagemaker_inline(n: &Names) -> Value {
    permissions::document(&permissions::grants(&["sagemaker"], n), n)
}

/// EC2 may assume the role for instances. `aws:SourceAccount` is checked
/// when EC2 supplies it (IfExists: an instance profile's credentials must
/// never fail on a key the service may omit); attaching the role to an
/// instance requires iam:PassRole in this account regardless.
pub fn instance_trust(n: &Names) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": n.account}}
        }]
    })
}

/// What the agent on an instance may do: exactly what the catalog
/// declares the agent does. An instance ends itself by shutting its OS
/// down (`InstanceInitiatedShutdownBehavior=terminate`), which needs no
/// permission: the role can terminate no instance, its own or another's.
pub fn instance_inline(n: &Names) -> Value {
    permissions::document(&permissions::grants(&["agent"], n), n)
}

/// The permissions boundary every role hoist creates carries: the union of
/// what the roles need, so a role's effective permissions (its policies
/// intersected with this) never leave the workspace, whatever trust or
/// inline policy someone puts on it later.
pub fn boundary(n: &Names) -> Value {
    permissions::document(&permissions::grants(&["agent", "sagemaker"], n), n)
}

/// The bucket policy statement refusing any request not made over TLS.
pub fn tls_only_statement(n: &Names) -> Value {
    json!({
        "Sid": hoist_aws::bucket::TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [n.bucket_arn(), format!("{}/*", n.bucket_arn())],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })
}

/// Policy documents compare by meaning, not by spelling: key order,
/// `"x"` versus `["x"]`, and the order of list elements do not matter.
pub fn same_policy(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

fn normalize(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.len() == 1 => normalize(&items[0]),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalize).collect();
            items.sort_by_key(|x| x.to_string());
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect()),
        // Booleans and numbers in conditions are strings to IAM.
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::new("default", "123456789012", "us-east-1", "aws").unwrap()
    }

    #[test]
    fn policies_compare_by_meaning() {
        let a = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["b", "a"]}]});
        let b = json!({"Statement": {"Resource": ["a", "b"], "Action": "s3:GetObject", "Effect": "Allow"}, "Version": "2012-10-17"});
        assert!(same_policy(&a, &b));
        let c = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": ["a", "b"]}]});
        assert!(!same_policy(&a, &c));
    }

    #[test]
    fn role_policies_are_scoped_to_the_workspace() {
        let n = names();
        let text = sagemaker_inline(&n).to_string() + &instance_inline(&n).to_string();
        assert!(!text.contains("FullAccess"));
        assert!(text.contains("arn:aws:s3:::hoist-default-123456789012-us-east-1/jobs/*"));
        // Nothing the code does not do: the agent reads the workspace's own
        // secrets only, and touches no instance (its own ends by powering
        // off).
        assert!(!text.contains("ec2:"), "{text}");
        let instance = instance_inline(&n).to_string();
        assert!(instance.contains("secretsmanager:GetSecretValue") && instance.contains(":secret:hoist/default/*"), "{instance}");
        // A training job's agent reads the same secrets, as the SageMaker role.
        let sagemaker = sagemaker_inline(&n).to_string();
        assert!(sagemaker.contains("secretsmanager:GetSecretValue") && sagemaker.contains(":secret:hoist/default/*"), "{sagemaker}");
        assert!(!sagemaker.contains("secret:*"), "{sagemaker}");
        assert_eq!(sagemaker_trust(&n)["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"], "123456789012");
    }

    #[test]
    fn the_boundary_is_exactly_what_the_roles_need() {
        let n = names();
        let b = hoist_iam::Policy::from_value(&boundary(&n)).unwrap();
        for role in [sagemaker_inline(&n), instance_inline(&n)] {
            for s in role["Statement"].as_array().unwrap() {
                for a in s["Action"].as_array().unwrap() {
                    let r = s["Resource"].as_str().unwrap().replace('*', "x");
                    let mut ctx = hoist_iam::Context::new();
                    if let Some(c) = s.get("Condition") {
                        ctx = ctx.with("cloudwatch:namespace", c["StringLike"]["cloudwatch:namespace"].as_str().unwrap().replace('*', "x"));
                    }
                    let req = hoist_iam::Request { action: a.as_str().unwrap(), resource: &r, context: &ctx };
                    assert_eq!(hoist_iam::evaluate(std::slice::from_ref(&b), None, &req).decision, hoist_iam::Decision::Allow, "{a} {r}");
                }
            }
        }
    }
}
