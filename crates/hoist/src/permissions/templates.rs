//! Templates an administrator applies so that a user without IAM rights is
//! unblocked: the two execution roles, the instance profile, and managed
//! policies holding the user's permissions. Names and policies are exactly
//! those `hoist init` would create, so `init --sagemaker-role ...
//! --instance-profile ...` (printed in the outputs) finds them ready.

use serde_json::{Map, Value, json};

use crate::footprint::names::Names;
use crate::footprint::policies;

fn tag_list(n: &Names) -> Value {
    json!([
        {"Key": "hoist:managed", "Value": "true"},
        {"Key": "hoist:workspace", "Value": n.workspace},
        {"Key": "hoist:region", "Value": n.region}
    ])
}

fn tag_map(n: &Names) -> Value {
    json!({"hoist:managed": "true", "hoist:workspace": n.workspace, "hoist:region": n.region})
}

/// A CloudFormation template (JSON, which CloudFormation accepts as is).
pub fn cloudformation(n: &Names, user_policies: &[Value]) -> Value {
    let mut resources = Map::new();
    resources.insert("SageMakerRole".into(), json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": n.sagemaker_role,
            "Description": "hoist: SageMaker execution role",
            "AssumeRolePolicyDocument": policies::sagemaker_trust(n),
            "Policies": [{"PolicyName": policies::INLINE_POLICY, "PolicyDocument": policies::sagemaker_inline(n)}],
            "Tags": tag_list(n)
        }
    }));
    resources.insert("InstanceRole".into(), json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": n.instance_role,
            "Description": "hoist: EC2 instance role",
            "AssumeRolePolicyDocument": policies::instance_trust(n),
            "Policies": [{"PolicyName": policies::INLINE_POLICY, "PolicyDocument": policies::instance_inline(n)}],
            "Tags": tag_list(n)
        }
    }));
    resources.insert("InstanceProfile".into(), json!({
        "Type": "AWS::IAM::InstanceProfile",
        "Properties": {"InstanceProfileName": n.instance_profile, "Roles": [{"Ref": "InstanceRole"}]}
    }));
    for (i, doc) in user_policies.iter().enumerate() {
        resources.insert(format!("UserPolicy{}", i + 1), json!({
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": format!("hoist-{}-user-{}", n.workspace, i + 1),
                "Description": format!("hoist: what a user of workspace {} needs ({} of {})", n.workspace, i + 1, user_policies.len()),
                "PolicyDocument": doc
            }
        }));
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("hoist workspace {}: execution roles, instance profile, and the user's managed policies", n.workspace),
        "Resources": resources,
        "Outputs": {
            "SageMakerRoleArn": {"Value": {"Fn::GetAtt": ["SageMakerRole", "Arn"]}},
            "InstanceProfileName": {"Value": {"Ref": "InstanceProfile"}},
            "HoistInit": {"Value": format!("hoist init --sagemaker-role {} --instance-profile {}", n.sagemaker_role, n.instance_profile)}
        }
    })
}

/// A Terraform configuration in Terraform's JSON syntax (save it as
/// `main.tf.json`).
pub fn terraform(n: &Names, user_policies: &[Value]) -> Value {
    let doc = |v: Value| Value::String(v.to_string());
    let mut policies_tf = Map::new();
    for (i, p) in user_policies.iter().enumerate() {
        policies_tf.insert(format!("user_{}", i + 1), json!({
            "name": format!("hoist-{}-user-{}", n.workspace, i + 1),
            "description": format!("hoist: what a user of workspace {} needs ({} of {})", n.workspace, i + 1, user_policies.len()),
            "policy": doc(p.clone())
        }));
    }
    json!({
        "resource": {
            "aws_iam_role": {
                "sagemaker": {
                    "name": n.sagemaker_role,
                    "description": "hoist: SageMaker execution role",
                    "assume_role_policy": doc(policies::sagemaker_trust(n)),
                    "tags": tag_map(n)
                },
                "instance": {
                    "name": n.instance_role,
                    "description": "hoist: EC2 instance role",
                    "assume_role_policy": doc(policies::instance_trust(n)),
                    "tags": tag_map(n)
                }
            },
            "aws_iam_role_policy": {
                "sagemaker": {"name": policies::INLINE_POLICY, "role": "${aws_iam_role.sagemaker.id}", "policy": doc(policies::sagemaker_inline(n))},
                "instance": {"name": policies::INLINE_POLICY, "role": "${aws_iam_role.instance.id}", "policy": doc(policies::instance_inline(n))}
            },
            "aws_iam_instance_profile": {
                "instance": {"name": n.instance_profile, "role": "${aws_iam_role.instance.name}", "tags": tag_map(n)}
            },
            "aws_iam_policy": policies_tf
        },
        "output": {
            "hoist_init": {"value": format!("hoist init --sagemaker-role {} --instance-profile {}", n.sagemaker_role, n.instance_profile)}
        }
    })
}
