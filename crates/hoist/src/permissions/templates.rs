//! Templates an administrator applies, one per set-up mode
//! (docs/SECURITY.md):
//!
//! - *self-service*: the workspace's permissions boundary and the user's
//!   managed policies. The user then runs `hoist init`, which may create
//!   only roles carrying that boundary.
//! - *admin*: the whole footprint (bucket with its settings and policy,
//!   log group, security group, boundary, both roles, instance profile) and
//!   the user's managed policies, which hold no IAM write and no
//!   bucket-configuration write. `hoist init` then only verifies.
//!
//! Names, settings and policy documents are exactly those `hoist init`
//! would create (the same functions make them), so `init` finds them ready.

use serde_json::{Map, Value, json};

use crate::footprint::names::Names;
use crate::footprint::policies;
use crate::settings::Mode;

/// What the footprint looks like beyond names: the choices `init` reads
/// from the settings.
#[derive(Debug, Clone)]
pub struct Shape {
    pub mode: Mode,
    pub versioning: Option<bool>,
    pub retention_days: i32,
    /// The VPC for the security group; `None`: a template parameter.
    pub vpc_id: Option<String>,
}

fn tag_list(n: &Names, iam: bool) -> Value {
    let mut tags = vec![json!({"Key": "hoist:managed", "Value": "true"}), json!({"Key": "hoist:workspace", "Value": n.workspace})];
    if iam {
        tags.push(json!({"Key": crate::footprint::plan::REGION_TAG, "Value": n.region}));
    }
    Value::Array(tags)
}

fn tag_map(n: &Names, iam: bool) -> Value {
    let mut m = json!({"hoist:managed": "true", "hoist:workspace": n.workspace});
    if iam {
        m[crate::footprint::plan::REGION_TAG] = json!(n.region);
    }
    m
}

const SAGEMAKER_DESCRIPTION: &str = "hoist: SageMaker execution role";
const INSTANCE_DESCRIPTION: &str = "hoist: EC2 instance role";

fn boundary_description(n: &Names) -> String {
    format!("hoist workspace {}: the most any of its roles may do", n.workspace)
}

fn user_policy_name(n: &Names, i: usize) -> String {
    format!("hoist-{}-user-{}", n.workspace, i + 1)
}

fn user_policy_description(n: &Names, i: usize, count: usize, mode: Mode) -> String {
    format!("hoist: what a user of workspace {} needs, {} mode ({} of {count})", n.workspace, mode.as_str(), i + 1)
}

fn encryption_rule(n: &Names) -> Value {
    match &n.kms_key_arn {
        Some(key) => json!({"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}, "BucketKeyEnabled": true}),
        None => json!({"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}),
    }
}

fn tls_policy(n: &Names) -> Value {
    json!({"Version": "2012-10-17", "Statement": [policies::tls_only_statement(n)]})
}

/// A CloudFormation template (JSON, which CloudFormation accepts as is).
pub fn cloudformation(n: &Names, shape: &Shape, user_policies: &[Value]) -> Value {
    let mut resources = Map::new();
    let mut parameters = Map::new();
    let mut outputs = Map::new();
    resources.insert("Boundary".into(), json!({
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"ManagedPolicyName": n.boundary, "Description": boundary_description(n), "PolicyDocument": policies::boundary(n)}
    }));
    outputs.insert("BoundaryArn".into(), json!({"Value": {"Ref": "Boundary"}}));
    if shape.mode == Mode::Admin {
        let role = |name: &str, description: &str, trust: Value, inline: Value| {
            json!({
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": name,
                    "Description": description,
                    "AssumeRolePolicyDocument": trust,
                    "PermissionsBoundary": {"Ref": "Boundary"},
                    "Policies": [{"PolicyName": policies::INLINE_POLICY, "PolicyDocument": inline}],
                    "Tags": tag_list(n, true)
                }
            })
        };
        resources.insert("SageMakerRole".into(), role(&n.sagemaker_role, SAGEMAKER_DESCRIPTION, policies::sagemaker_trust(n), policies::sagemaker_inline(n)));
        resources.insert("InstanceRole".into(), role(&n.instance_role, INSTANCE_DESCRIPTION, policies::instance_trust(n), policies::instance_inline(n)));
        resources.insert("InstanceProfile".into(), json!({
            "Type": "AWS::IAM::InstanceProfile",
            "Properties": {"InstanceProfileName": n.instance_profile, "Roles": [{"Ref": "InstanceRole"}]}
        }));
        let mut bucket = json!({
            "BucketName": n.bucket,
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [encryption_rule(n)]},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [{
                "Id": hoist_aws::bucket::ABORT_RULE_ID, "Status": "Enabled", "Prefix": "",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": hoist_aws::bucket::ABORT_AFTER_DAYS}
            }]},
            "Tags": tag_list(n, false)
        });
        if let Some(on) = shape.versioning {
            bucket["VersioningConfiguration"] = json!({"Status": if on { "Enabled" } else { "Suspended" }});
        }
        // Deleting the stack keeps the bucket (and the jobs' data in it).
        resources.insert(
            "Bucket".into(),
            json!({"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": bucket}),
        );
        resources.insert("BucketPolicy".into(), json!({
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": tls_policy(n)}
        }));
        resources.insert("LogGroup".into(), json!({
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": n.log_group, "RetentionInDays": shape.retention_days, "Tags": tag_list(n, false)}
        }));
        let vpc = match &shape.vpc_id {
            Some(v) => json!(v),
            None => {
                parameters.insert("VpcId".into(), json!({
                    "Type": "AWS::EC2::VPC::Id",
                    "Description": "The VPC for the workspace's security group (hoist's default: the region's default VPC)"
                }));
                json!({"Ref": "VpcId"})
            }
        };
        resources.insert("SecurityGroup".into(), json!({
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupName": n.security_group,
                "GroupDescription": format!("hoist workspace {}: inbound only from itself", n.workspace),
                "VpcId": vpc,
                "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}],
                "Tags": tag_list(n, false)
            }
        }));
        // The one inbound rule, from the group itself (a multi-node job's
        // instances): its own resource, since a group cannot name itself.
        resources.insert("SecurityGroupFromItself".into(), json!({
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": {"Fn::GetAtt": ["SecurityGroup", "GroupId"]},
                "IpProtocol": "-1",
                "SourceSecurityGroupId": {"Fn::GetAtt": ["SecurityGroup", "GroupId"]},
                "Description": "the instances of a multi-node job"
            }
        }));
        outputs.insert("SageMakerRoleArn".into(), json!({"Value": {"Fn::GetAtt": ["SageMakerRole", "Arn"]}}));
        outputs.insert("InstanceProfileName".into(), json!({"Value": {"Ref": "InstanceProfile"}}));
    }
    for (i, doc) in user_policies.iter().enumerate() {
        resources.insert(format!("UserPolicy{}", i + 1), json!({
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": user_policy_name(n, i),
                "Description": user_policy_description(n, i, user_policies.len(), shape.mode),
                "PolicyDocument": doc
            }
        }));
    }
    let next = match shape.mode {
        Mode::Admin => format!("attach the hoist-{}-user-* policies to your users; each sets `mode = \"admin\"` in hoist's config and runs `hoist init` to verify", n.workspace),
        Mode::SelfService => format!("attach the hoist-{}-user-* policies to your users; each runs `hoist init`", n.workspace),
    };
    outputs.insert("Next".into(), json!({"Value": next}));
    let what = match shape.mode {
        Mode::Admin => "the whole footprint and the users' managed policies (admin mode)",
        Mode::SelfService => "the permissions boundary and the users' managed policies (self-service mode)",
    };
    let mut t = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("hoist workspace {}: {what}", n.workspace),
        "Resources": resources,
        "Outputs": outputs
    });
    if !parameters.is_empty() {
        t["Parameters"] = Value::Object(parameters);
    }
    t
}

/// A Terraform configuration in Terraform's JSON syntax (save it as
/// `main.tf.json`).
pub fn terraform(n: &Names, shape: &Shape, user_policies: &[Value]) -> Value {
    let doc = |v: Value| Value::String(v.to_string());
    let mut policies_tf = Map::new();
    policies_tf.insert("boundary".into(), json!({
        "name": n.boundary, "description": boundary_description(n), "policy": doc(policies::boundary(n)), "tags": tag_map(n, true)
    }));
    for (i, p) in user_policies.iter().enumerate() {
        policies_tf.insert(format!("user_{}", i + 1), json!({
            "name": user_policy_name(n, i),
            "description": user_policy_description(n, i, user_policies.len(), shape.mode),
            "policy": doc(p.clone())
        }));
    }
    let mut resource = Map::new();
    resource.insert("aws_iam_policy".into(), Value::Object(policies_tf));
    let mut data = Map::new();
    if shape.mode == Mode::Admin {
        let role = |name: &str, description: &str, trust: Value| {
            json!({
                "name": name, "description": description, "assume_role_policy": doc(trust),
                "permissions_boundary": "${aws_iam_policy.boundary.arn}", "tags": tag_map(n, true)
            })
        };
        resource.insert("aws_iam_role".into(), json!({
            "sagemaker": role(&n.sagemaker_role, SAGEMAKER_DESCRIPTION, policies::sagemaker_trust(n)),
            "instance": role(&n.instance_role, INSTANCE_DESCRIPTION, policies::instance_trust(n))
        }));
        resource.insert("aws_iam_role_policy".into(), json!({
            "sagemaker": {"name": policies::INLINE_POLICY, "role": "${aws_iam_role.sagemaker.id}", "policy": doc(policies::sagemaker_inline(n))},
            "instance": {"name": policies::INLINE_POLICY, "role": "${aws_iam_role.instance.id}", "policy": doc(policies::instance_inline(n))}
        }));
        resource.insert("aws_iam_instance_profile".into(), json!({
            "instance": {"name": n.instance_profile, "role": "${aws_iam_role.instance.name}", "tags": tag_map(n, true)}
        }));
        resource.insert("aws_s3_bucket".into(), json!({"artifacts": {"bucket": n.bucket, "tags": tag_map(n, false)}}));
        resource.insert("aws_s3_bucket_public_access_block".into(), json!({"artifacts": {
            "bucket": "${aws_s3_bucket.artifacts.id}",
            "block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true
        }}));
        let sse = match &n.kms_key_arn {
            Some(key) => json!({"sse_algorithm": "aws:kms", "kms_master_key_id": key}),
            None => json!({"sse_algorithm": "AES256"}),
        };
        resource.insert("aws_s3_bucket_server_side_encryption_configuration".into(), json!({"artifacts": {
            "bucket": "${aws_s3_bucket.artifacts.id}", "rule": [{"apply_server_side_encryption_by_default": [sse], "bucket_key_enabled": n.kms_key_arn.is_some()}]
        }}));
        resource.insert("aws_s3_bucket_ownership_controls".into(), json!({"artifacts": {
            "bucket": "${aws_s3_bucket.artifacts.id}", "rule": [{"object_ownership": "BucketOwnerEnforced"}]
        }}));
        resource.insert("aws_s3_bucket_lifecycle_configuration".into(), json!({"artifacts": {
            "bucket": "${aws_s3_bucket.artifacts.id}",
            "rule": [{"id": hoist_aws::bucket::ABORT_RULE_ID, "status": "Enabled", "filter": [{"prefix": ""}],
                      "abort_incomplete_multipart_upload": [{"days_after_initiation": hoist_aws::bucket::ABORT_AFTER_DAYS}]}]
        }}));
        if let Some(on) = shape.versioning {
            resource.insert("aws_s3_bucket_versioning".into(), json!({"artifacts": {
                "bucket": "${aws_s3_bucket.artifacts.id}", "versioning_configuration": [{"status": if on { "Enabled" } else { "Suspended" }}]
            }}));
        }
        resource.insert("aws_s3_bucket_policy".into(), json!({"artifacts": {"bucket": "${aws_s3_bucket.artifacts.id}", "policy": doc(tls_policy(n))}}));
        resource.insert("aws_cloudwatch_log_group".into(), json!({"jobs": {
            "name": n.log_group, "retention_in_days": shape.retention_days, "tags": tag_map(n, false)
        }}));
        let vpc = match &shape.vpc_id {
            Some(v) => json!(v),
            None => {
                data.insert("aws_vpc".into(), json!({"default": {"default": true}}));
                json!("${data.aws_vpc.default.id}")
            }
        };
        resource.insert("aws_security_group".into(), json!({"workspace": {
            "name": n.security_group,
            "description": format!("hoist workspace {}: inbound only from itself", n.workspace),
            "vpc_id": vpc,
            "ingress": [{"protocol": "-1", "from_port": 0, "to_port": 0, "self": true,
                         "description": "the instances of a multi-node job", "cidr_blocks": null, "ipv6_cidr_blocks": null,
                         "prefix_list_ids": null, "security_groups": null}],
            "egress": [{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"],
                        "description": null, "ipv6_cidr_blocks": null, "prefix_list_ids": null, "security_groups": null, "self": null}],
            "tags": tag_map(n, false)
        }}));
    }
    // The names say which region (the bucket's, the log group's ARNs in the
    // policies): pin the provider to it.
    let mut t = json!({
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": ">= 5.0"}}},
        "provider": {"aws": {"region": n.region}},
        "resource": resource,
        "output": {"boundary_arn": {"value": "${aws_iam_policy.boundary.arn}"}}
    });
    if !data.is_empty() {
        t["data"] = Value::Object(data);
    }
    t
}
