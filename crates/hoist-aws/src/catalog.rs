//! The operation catalog: every AWS operation hoist performs is declared
//! here once, with the IAM action(s) a caller needs to perform it and the
//! resource it touches.
//!
//! Calls, `hoist policy`, `hoist check` and the permission docs all derive
//! from these declarations, so the code and the documented policy cannot
//! drift apart. A call site names its `Op` when it calls
//! [`crate::Session::call`]; a test records the operations a command really
//! sends and fails when one is not declared for that command.
//!
//! Resource templates use `{partition}`, `{account}`, `{region}`,
//! `{workspace}` and `{bucket}`, filled in for the caller by `hoist policy`.
//! `*` means the action supports no resource-level permission.

use std::fmt;

/// One AWS API operation and what IAM must allow for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Op {
    /// The service's IAM prefix, e.g. `sts`, `s3`, `iam`.
    pub service: &'static str,
    /// The API operation name as the SDK and CloudTrail spell it.
    pub name: &'static str,
    /// What IAM must allow, including hidden requirements (tag-on-create,
    /// PassRole). Empty: no permission needed (STS GetCallerIdentity).
    pub grants: &'static [Grant],
}

/// Actions on resources, under conditions: one part of what an operation
/// needs. Resource templates name exact resources where the workspace's
/// names allow it (a `hoist-team-*` wildcard would also match workspace
/// `team-a`'s roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grant {
    pub actions: &'static [&'static str],
    pub resources: &'static [&'static str],
    pub conditions: &'static [Cond],
}

/// `"Condition": {operator: {key: value}}`; `value` may use the templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cond {
    pub operator: &'static str,
    pub key: &'static str,
    pub value: &'static str,
}

impl Op {
    /// Every IAM action the operation needs, each once.
    pub fn actions(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for g in self.grants {
            for a in g.actions {
                if !out.contains(a) {
                    out.push(a);
                }
            }
        }
        out
    }

    /// Whether the operation changes anything (for "a no-op run makes no
    /// mutating call" checks). Reads are Get/List/Describe/Head.
    pub fn is_mutating(&self) -> bool {
        is_mutating_name(self.name)
    }
}

/// Read-only operations are named Get*, List*, Describe*, Head*.
pub fn is_mutating_name(name: &str) -> bool {
    !["Get", "List", "Describe", "Head"].iter().any(|p| name.starts_with(p))
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service, self.name)
    }
}

macro_rules! op {
    // No permission needed.
    ($service:literal, $name:literal, [], $resource:expr) => {
        Op { service: $service, name: $name, grants: &[] }
    };
    // The common case: these actions on these resources.
    ($service:literal, $name:literal, [$($action:literal),+ $(,)?], $resources:expr) => {
        Op {
            service: $service,
            name: $name,
            grants: &[$crate::catalog::Grant { actions: &[$($action),+], resources: $resources, conditions: &[] }],
        }
    };
    // Several grants, with conditions.
    ($service:literal, $name:literal, grants: $grants:expr) => {
        Op { service: $service, name: $name, grants: $grants }
    };
}

/// `aws:ResourceTag/hoist:workspace` = the workspace: only resources
/// tagged as the workspace's.
const TAGGED_FOR_WORKSPACE: &[Cond] =
    &[Cond { operator: "StringEquals", key: "aws:ResourceTag/hoist:workspace", value: "{workspace}" }];

/// AWS Security Token Service.
pub mod sts {
    use super::Op;

    /// Always allowed: AWS documents that no IAM policy can deny it.
    pub const GET_CALLER_IDENTITY: Op = op!("sts", "GetCallerIdentity", [], &["*"]);
}

/// Amazon S3: the artifact bucket.
pub mod s3 {
    use super::Op;

    const BUCKET: &[&str] = &["arn:{partition}:s3:::{bucket}"];
    const OBJECTS: &[&str] = &["arn:{partition}:s3:::{bucket}/*"];

    // Objects a job writes are the agent's (`agent`); destroy empties the
    // whole bucket.
    /// DeleteObjects is authorized per key as s3:DeleteObject; naming
    /// versions also needs s3:DeleteObjectVersion.
    pub const DELETE_OBJECT_VERSIONS: Op =
        op!("s3", "DeleteObjects", ["s3:DeleteObject", "s3:DeleteObjectVersion"], OBJECTS);
    pub const ABORT_MULTIPART_UPLOAD: Op = op!("s3", "AbortMultipartUpload", ["s3:AbortMultipartUpload"], OBJECTS);

    // The bucket itself.
    /// HeadBucket is authorized as s3:ListBucket.
    pub const HEAD_BUCKET: Op = op!("s3", "HeadBucket", ["s3:ListBucket"], BUCKET);
    pub const CREATE_BUCKET: Op = op!("s3", "CreateBucket", ["s3:CreateBucket"], BUCKET);
    pub const DELETE_BUCKET: Op = op!("s3", "DeleteBucket", ["s3:DeleteBucket"], BUCKET);
    pub const GET_BUCKET_TAGGING: Op = op!("s3", "GetBucketTagging", ["s3:GetBucketTagging"], BUCKET);
    pub const PUT_BUCKET_TAGGING: Op = op!("s3", "PutBucketTagging", ["s3:PutBucketTagging"], BUCKET);
    pub const GET_PUBLIC_ACCESS_BLOCK: Op =
        op!("s3", "GetPublicAccessBlock", ["s3:GetBucketPublicAccessBlock"], BUCKET);
    pub const PUT_PUBLIC_ACCESS_BLOCK: Op =
        op!("s3", "PutPublicAccessBlock", ["s3:PutBucketPublicAccessBlock"], BUCKET);
    pub const GET_BUCKET_ENCRYPTION: Op = op!("s3", "GetBucketEncryption", ["s3:GetEncryptionConfiguration"], BUCKET);
    pub const PUT_BUCKET_ENCRYPTION: Op = op!("s3", "PutBucketEncryption", ["s3:PutEncryptionConfiguration"], BUCKET);
    pub const GET_BUCKET_POLICY: Op = op!("s3", "GetBucketPolicy", ["s3:GetBucketPolicy"], BUCKET);
    pub const PUT_BUCKET_POLICY: Op = op!("s3", "PutBucketPolicy", ["s3:PutBucketPolicy"], BUCKET);
    pub const GET_BUCKET_OWNERSHIP_CONTROLS: Op =
        op!("s3", "GetBucketOwnershipControls", ["s3:GetBucketOwnershipControls"], BUCKET);
    pub const PUT_BUCKET_OWNERSHIP_CONTROLS: Op =
        op!("s3", "PutBucketOwnershipControls", ["s3:PutBucketOwnershipControls"], BUCKET);
    pub const GET_BUCKET_LIFECYCLE: Op =
        op!("s3", "GetBucketLifecycleConfiguration", ["s3:GetLifecycleConfiguration"], BUCKET);
    pub const PUT_BUCKET_LIFECYCLE: Op =
        op!("s3", "PutBucketLifecycleConfiguration", ["s3:PutLifecycleConfiguration"], BUCKET);
    pub const GET_BUCKET_VERSIONING: Op = op!("s3", "GetBucketVersioning", ["s3:GetBucketVersioning"], BUCKET);
    pub const PUT_BUCKET_VERSIONING: Op = op!("s3", "PutBucketVersioning", ["s3:PutBucketVersioning"], BUCKET);
    pub const LIST_OBJECT_VERSIONS: Op = op!("s3", "ListObjectVersions", ["s3:ListBucketVersions"], BUCKET);
    pub const LIST_MULTIPART_UPLOADS: Op =
        op!("s3", "ListMultipartUploads", ["s3:ListBucketMultipartUploads"], BUCKET);
}

/// AWS IAM: the execution roles, the instance profile and the permissions
/// boundary.
///
/// Self-service mode lets a user create and change the workspace's two
/// roles, so every role write is conditioned on `iam:PermissionsBoundary`
/// being the workspace's boundary: a role the user creates or edits can
/// never do more than the boundary allows, whatever trust or inline policy
/// is put on it. No grant lets a user remove a boundary or edit the
/// boundary policy itself (those are [`boundary`]'s, an administrator's).
pub mod iam {
    use super::{Cond, Grant, Op};

    /// The workspace's two roles, by exact name (`{sagemaker_role}` and
    /// `{instance_role}` are `hoist-<workspace>-sagemaker` / `-instance`).
    pub const ROLES: &[&str] =
        &["arn:{partition}:iam::{account}:role/{sagemaker_role}", "arn:{partition}:iam::{account}:role/{instance_role}"];
    const ROLE: &[&str] = ROLES;
    const PROFILE: &[&str] = &["arn:{partition}:iam::{account}:instance-profile/{instance_profile}"];
    /// The request (CreateRole, PutRolePermissionsBoundary) or the role
    /// (every other role write) carries the workspace's boundary.
    const BOUNDED: &[Cond] = &[Cond { operator: "StringEquals", key: "iam:PermissionsBoundary", value: "arn:{partition}:iam::{account}:policy/{boundary_name}" }];

    macro_rules! bounded {
        ($name:literal, [$($action:literal),+]) => {
            op!("iam", $name, grants: &[Grant { actions: &[$($action),+], resources: ROLE, conditions: BOUNDED }])
        };
    }

    pub const GET_ROLE: Op = op!("iam", "GetRole", ["iam:GetRole"], ROLE);
    pub const CREATE_ROLE: Op = op!(
        "iam",
        "CreateRole",
        grants: &[
            Grant { actions: &["iam:CreateRole"], resources: ROLE, conditions: BOUNDED },
            // Tags given at creation also need iam:TagRole, which supports
            // no iam:PermissionsBoundary key: exact role names only.
            Grant { actions: &["iam:TagRole"], resources: ROLE, conditions: &[] },
        ]
    );
    /// Deleting is no escalation (a role can only be re-created bounded),
    /// so it is not conditioned: one less key whose support varies between
    /// IAM's documentation and the tools that read it.
    pub const DELETE_ROLE: Op = op!("iam", "DeleteRole", ["iam:DeleteRole"], ROLE);
    pub const TAG_ROLE: Op = op!("iam", "TagRole", ["iam:TagRole"], ROLE);
    /// Repairing a changed trust policy. Safe only because the role is
    /// bounded: a user who makes the role trust themselves gains at most
    /// the boundary (the workspace's `jobs/` objects and logs, pulling
    /// SageMaker images), never another resource and no IAM.
    pub const UPDATE_ASSUME_ROLE_POLICY: Op = bounded!("UpdateAssumeRolePolicy", ["iam:UpdateAssumeRolePolicy"]);
    pub const GET_ROLE_POLICY: Op = op!("iam", "GetRolePolicy", ["iam:GetRolePolicy"], ROLE);
    pub const PUT_ROLE_POLICY: Op = bounded!("PutRolePolicy", ["iam:PutRolePolicy"]);
    pub const DELETE_ROLE_POLICY: Op = bounded!("DeleteRolePolicy", ["iam:DeleteRolePolicy"]);
    pub const LIST_ROLE_POLICIES: Op = op!("iam", "ListRolePolicies", ["iam:ListRolePolicies"], ROLE);
    pub const LIST_ATTACHED_ROLE_POLICIES: Op =
        op!("iam", "ListAttachedRolePolicies", ["iam:ListAttachedRolePolicies"], ROLE);
    pub const DETACH_ROLE_POLICY: Op = bounded!("DetachRolePolicy", ["iam:DetachRolePolicy"]);
    /// Putting the workspace's boundary on a role made before hoist used
    /// boundaries. The condition is on the boundary being set, so this can
    /// only ever set the workspace's own.
    pub const PUT_ROLE_PERMISSIONS_BOUNDARY: Op =
        bounded!("PutRolePermissionsBoundary", ["iam:PutRolePermissionsBoundary"]);

    pub const GET_INSTANCE_PROFILE: Op = op!("iam", "GetInstanceProfile", ["iam:GetInstanceProfile"], PROFILE);
    pub const CREATE_INSTANCE_PROFILE: Op =
        op!("iam", "CreateInstanceProfile", ["iam:CreateInstanceProfile", "iam:TagInstanceProfile"], PROFILE);
    pub const DELETE_INSTANCE_PROFILE: Op = op!("iam", "DeleteInstanceProfile", ["iam:DeleteInstanceProfile"], PROFILE);
    pub const TAG_INSTANCE_PROFILE: Op = op!("iam", "TagInstanceProfile", ["iam:TagInstanceProfile"], PROFILE);
    /// Putting a role in a profile also needs iam:PassRole on that role.
    /// (AWS does not document iam:PassedToService for this call, so no
    /// condition is set: the role passed is the bounded instance role.)
    pub const ADD_ROLE_TO_INSTANCE_PROFILE: Op = op!(
        "iam",
        "AddRoleToInstanceProfile",
        grants: &[
            Grant { actions: &["iam:AddRoleToInstanceProfile"], resources: PROFILE, conditions: &[] },
            Grant {
                actions: &["iam:PassRole"],
                resources: &["arn:{partition}:iam::{account}:role/{instance_role}"],
                conditions: &[],
            },
        ]
    );
    pub const REMOVE_ROLE_FROM_INSTANCE_PROFILE: Op =
        op!("iam", "RemoveRoleFromInstanceProfile", ["iam:RemoveRoleFromInstanceProfile"], PROFILE);
}

/// The workspace's permissions boundary: a managed policy that caps every
/// role hoist creates at the workspace's own resources. Reading it is a
/// user's; creating, changing and deleting it are an administrator's only
/// (`crate::commands::admin_ops`), never in a user's generated policy, or
/// a user could widen the cap they are held to.
pub mod boundary {
    use super::Op;

    const BOUNDARY: &[&str] = &["arn:{partition}:iam::{account}:policy/{boundary_name}"];

    pub const GET_POLICY: Op = op!("iam", "GetPolicy", ["iam:GetPolicy"], BOUNDARY);
    pub const GET_POLICY_VERSION: Op = op!("iam", "GetPolicyVersion", ["iam:GetPolicyVersion"], BOUNDARY);
    /// Tags given at creation also need iam:TagPolicy.
    pub const CREATE_POLICY: Op = op!("iam", "CreatePolicy", ["iam:CreatePolicy", "iam:TagPolicy"], BOUNDARY);
    pub const CREATE_POLICY_VERSION: Op = op!("iam", "CreatePolicyVersion", ["iam:CreatePolicyVersion"], BOUNDARY);
    pub const LIST_POLICY_VERSIONS: Op = op!("iam", "ListPolicyVersions", ["iam:ListPolicyVersions"], BOUNDARY);
    pub const DELETE_POLICY_VERSION: Op = op!("iam", "DeletePolicyVersion", ["iam:DeletePolicyVersion"], BOUNDARY);
    pub const DELETE_POLICY: Op = op!("iam", "DeletePolicy", ["iam:DeletePolicy"], BOUNDARY);
}

/// AWS IAM, read by `hoist check`: the caller's own policies.
pub mod iam_read {
    use super::Op;

    /// The caller's own user (a policy variable: each user reads only
    /// their own).
    const SELF_USER: &[&str] = &["arn:{partition}:iam::{account}:user/${aws:username}"];
    const GROUPS: &[&str] = &["arn:{partition}:iam::{account}:group/*"];

    pub const SIMULATE_PRINCIPAL_POLICY: Op =
        op!("iam", "SimulatePrincipalPolicy", ["iam:SimulatePrincipalPolicy"], SELF_USER);
    pub const GET_USER: Op = op!("iam", "GetUser", ["iam:GetUser"], SELF_USER);
    pub const LIST_USER_POLICIES: Op = op!("iam", "ListUserPolicies", ["iam:ListUserPolicies"], SELF_USER);
    pub const GET_USER_POLICY: Op = op!("iam", "GetUserPolicy", ["iam:GetUserPolicy"], SELF_USER);
    pub const LIST_ATTACHED_USER_POLICIES: Op =
        op!("iam", "ListAttachedUserPolicies", ["iam:ListAttachedUserPolicies"], SELF_USER);
    pub const LIST_GROUPS_FOR_USER: Op = op!("iam", "ListGroupsForUser", ["iam:ListGroupsForUser"], SELF_USER);
    pub const LIST_GROUP_POLICIES: Op =
        op!("iam", "ListGroupPolicies", ["iam:ListGroupPolicies"], GROUPS);
    pub const GET_GROUP_POLICY: Op =
        op!("iam", "GetGroupPolicy", ["iam:GetGroupPolicy"], GROUPS);
    pub const LIST_ATTACHED_GROUP_POLICIES: Op =
        op!("iam", "ListAttachedGroupPolicies", ["iam:ListAttachedGroupPolicies"], GROUPS);
    /// Managed policies may be AWS's (`arn:aws:iam::aws:policy/...`) or the
    /// account's: read-only, on any policy.
    pub const GET_POLICY: Op = op!("iam", "GetPolicy", ["iam:GetPolicy"], &["*"]);
    pub const GET_POLICY_VERSION: Op = op!("iam", "GetPolicyVersion", ["iam:GetPolicyVersion"], &["*"]);

    /// The caller's own role, when hoist runs as a role (SSO, an assumed
    /// role): `{caller_role}` is its name. IAM has no policy variable for
    /// a role's name, so the name is filled in; a role may sit at a path,
    /// which the second ARN covers (role names are unique in an account).
    const SELF_ROLE: &[&str] =
        &["arn:{partition}:iam::{account}:role/{caller_role}", "arn:{partition}:iam::{account}:role/*/{caller_role}"];
    pub const GET_OWN_ROLE: Op = op!("iam", "GetRole", ["iam:GetRole"], SELF_ROLE);
    pub const LIST_OWN_ROLE_POLICIES: Op = op!("iam", "ListRolePolicies", ["iam:ListRolePolicies"], SELF_ROLE);
    pub const GET_OWN_ROLE_POLICY: Op = op!("iam", "GetRolePolicy", ["iam:GetRolePolicy"], SELF_ROLE);
    pub const LIST_OWN_ATTACHED_ROLE_POLICIES: Op =
        op!("iam", "ListAttachedRolePolicies", ["iam:ListAttachedRolePolicies"], SELF_ROLE);
    /// The simulator, for a role.
    pub const SIMULATE_OWN_ROLE: Op =
        op!("iam", "SimulatePrincipalPolicy", ["iam:SimulatePrincipalPolicy"], SELF_ROLE);
}

/// Amazon CloudWatch Logs: job logs.
pub mod logs {
    use super::Op;

    /// `/` ends a workspace name, so no other workspace's groups match.
    const GROUP: &[&str] = &["arn:{partition}:logs:{region}:{account}:log-group:/hoist/{workspace}/*"];

    pub const CREATE_LOG_STREAM: Op = op!("logs", "CreateLogStream", ["logs:CreateLogStream"], GROUP);
    pub const PUT_LOG_EVENTS: Op = op!("logs", "PutLogEvents", ["logs:PutLogEvents"], GROUP);
    pub const GET_LOG_EVENTS: Op = op!("logs", "GetLogEvents", ["logs:GetLogEvents"], GROUP);

    pub const DESCRIBE_LOG_GROUPS: Op =
        op!("logs", "DescribeLogGroups", ["logs:DescribeLogGroups"], &["arn:{partition}:logs:{region}:{account}:log-group:*"]);
    /// Tags given at creation also need logs:TagResource.
    pub const CREATE_LOG_GROUP: Op = op!("logs", "CreateLogGroup", ["logs:CreateLogGroup", "logs:TagResource"], GROUP);
    pub const DELETE_LOG_GROUP: Op = op!("logs", "DeleteLogGroup", ["logs:DeleteLogGroup"], GROUP);
    pub const PUT_RETENTION_POLICY: Op = op!("logs", "PutRetentionPolicy", ["logs:PutRetentionPolicy"], GROUP);
    pub const TAG_RESOURCE: Op = op!("logs", "TagResource", ["logs:TagResource"], GROUP);
    pub const LIST_TAGS_FOR_RESOURCE: Op = op!("logs", "ListTagsForResource", ["logs:ListTagsForResource"], GROUP);
}

/// Amazon EC2: the workspace's security group.
pub mod ec2 {
    use super::{Cond, Grant, Op, TAGGED_FOR_WORKSPACE};

    const SG: &[&str] = &["arn:{partition}:ec2:{region}:{account}:security-group/*"];

    /// Describe* actions support no resource-level permissions.
    pub const DESCRIBE_VPCS: Op = op!("ec2", "DescribeVpcs", ["ec2:DescribeVpcs"], &["*"]);
    pub const DESCRIBE_SECURITY_GROUPS: Op = op!("ec2", "DescribeSecurityGroups", ["ec2:DescribeSecurityGroups"], &["*"]);
    /// Creating a group is authorized on the group (which must be tagged
    /// for the workspace in the request) and on its VPC; the tags given at
    /// creation need ec2:CreateTags, allowed only as part of this creation.
    pub const CREATE_SECURITY_GROUP: Op = op!(
        "ec2",
        "CreateSecurityGroup",
        grants: &[
            Grant {
                actions: &["ec2:CreateSecurityGroup"],
                resources: SG,
                conditions: &[Cond { operator: "StringEquals", key: "aws:RequestTag/hoist:workspace", value: "{workspace}" }],
            },
            Grant {
                actions: &["ec2:CreateSecurityGroup"],
                resources: &["arn:{partition}:ec2:{region}:{account}:vpc/*"],
                conditions: &[],
            },
            Grant {
                actions: &["ec2:CreateTags"],
                resources: SG,
                conditions: &[Cond { operator: "StringEquals", key: "ec2:CreateAction", value: "CreateSecurityGroup" }],
            },
        ]
    );
    /// Changes to an existing group: only the workspace's (by tag).
    pub const DELETE_SECURITY_GROUP: Op = op!(
        "ec2",
        "DeleteSecurityGroup",
        grants: &[Grant { actions: &["ec2:DeleteSecurityGroup"], resources: SG, conditions: TAGGED_FOR_WORKSPACE }]
    );
    pub const REVOKE_SECURITY_GROUP_INGRESS: Op = op!(
        "ec2",
        "RevokeSecurityGroupIngress",
        grants: &[Grant { actions: &["ec2:RevokeSecurityGroupIngress"], resources: SG, conditions: TAGGED_FOR_WORKSPACE }]
    );
    /// The one inbound rule hoist wants: from the group itself, so a
    /// multi-node job's instances can reach each other (and nothing else
    /// can reach them).
    pub const AUTHORIZE_SECURITY_GROUP_INGRESS: Op = op!(
        "ec2",
        "AuthorizeSecurityGroupIngress",
        grants: &[Grant { actions: &["ec2:AuthorizeSecurityGroupIngress"], resources: SG, conditions: TAGGED_FOR_WORKSPACE }]
    );
    pub const AUTHORIZE_SECURITY_GROUP_EGRESS: Op = op!(
        "ec2",
        "AuthorizeSecurityGroupEgress",
        grants: &[Grant { actions: &["ec2:AuthorizeSecurityGroupEgress"], resources: SG, conditions: TAGGED_FOR_WORKSPACE }]
    );
    /// Tagging the workspace's group; the tags may not move it to another
    /// workspace (`IfExists`: a request that does not set the workspace
    /// tag cannot re-label either).
    pub const CREATE_TAGS: Op = op!(
        "ec2",
        "CreateTags",
        grants: &[Grant {
            actions: &["ec2:CreateTags"],
            resources: SG,
            conditions: &[
                Cond { operator: "StringEquals", key: "aws:ResourceTag/hoist:workspace", value: "{workspace}" },
                Cond { operator: "StringEqualsIfExists", key: "aws:RequestTag/hoist:workspace", value: "{workspace}" },
            ],
        }]
    );
}

/// Amazon EC2: instances that run jobs (`hoist run --backend ec2`).
///
/// A user may launch only an instance that is tagged for the workspace at
/// launch (instance and volumes), uses the workspace's security group and
/// passes the workspace's instance role; and may stop only instances
/// tagged for the workspace.
pub mod instances {
    use super::{Cond, Grant, Op, TAGGED_FOR_WORKSPACE};

    const INSTANCE: &[&str] = &["arn:{partition}:ec2:{region}:{account}:instance/*"];
    const NEW: &[&str] =
        &["arn:{partition}:ec2:{region}:{account}:instance/*", "arn:{partition}:ec2:{region}:{account}:volume/*"];
    const REQUEST_TAGGED: &[Cond] =
        &[Cond { operator: "StringEquals", key: "aws:RequestTag/hoist:workspace", value: "{workspace}" }];

    /// Describe* support no resource-level permissions.
    pub const DESCRIBE_INSTANCES: Op = op!("ec2", "DescribeInstances", ["ec2:DescribeInstances"], &["*"]);
    pub const DESCRIBE_INSTANCE_TYPES: Op = op!("ec2", "DescribeInstanceTypes", ["ec2:DescribeInstanceTypes"], &["*"]);
    pub const DESCRIBE_INSTANCE_TYPE_OFFERINGS: Op =
        op!("ec2", "DescribeInstanceTypeOfferings", ["ec2:DescribeInstanceTypeOfferings"], &["*"]);
    pub const DESCRIBE_SPOT_PRICE_HISTORY: Op = op!("ec2", "DescribeSpotPriceHistory", ["ec2:DescribeSpotPriceHistory"], &["*"]);
    pub const DESCRIBE_SUBNETS: Op = op!("ec2", "DescribeSubnets", ["ec2:DescribeSubnets"], &["*"]);
    pub const DESCRIBE_IMAGES: Op = op!("ec2", "DescribeImages", ["ec2:DescribeImages"], &["*"]);
    /// RunInstances is authorized on every resource it makes or uses
    /// (Service Authorization Reference): the new instance and volumes
    /// (tagged for the workspace in the request), its network interface,
    /// the subnet, the image, and the security group (the workspace's, by
    /// its tag). Tags at launch need ec2:CreateTags, allowed only as part
    /// of RunInstances. The instance profile passes the instance role to
    /// EC2 (iam:PassRole, only to ec2.amazonaws.com).
    pub const RUN_INSTANCES: Op = op!(
        "ec2",
        "RunInstances",
        grants: &[
            Grant { actions: &["ec2:RunInstances"], resources: NEW, conditions: REQUEST_TAGGED },
            Grant {
                actions: &["ec2:RunInstances"],
                resources: &[
                    "arn:{partition}:ec2:{region}:{account}:network-interface/*",
                    "arn:{partition}:ec2:{region}:{account}:subnet/*",
                    "arn:{partition}:ec2:{region}::image/*",
                ],
                conditions: &[],
            },
            Grant {
                actions: &["ec2:RunInstances"],
                resources: &["arn:{partition}:ec2:{region}:{account}:security-group/*"],
                conditions: TAGGED_FOR_WORKSPACE,
            },
            Grant { actions: &["ec2:RunInstances"], resources: PLACEMENT_GROUP, conditions: &[] },
            Grant {
                actions: &["ec2:CreateTags"],
                resources: NEW,
                conditions: &[Cond { operator: "StringEquals", key: "ec2:CreateAction", value: "RunInstances" }],
            },
            Grant {
                actions: &["iam:PassRole"],
                resources: &["arn:{partition}:iam::{account}:role/{instance_role}"],
                conditions: &[Cond { operator: "StringEquals", key: "iam:PassedToService", value: "ec2.amazonaws.com" }],
            },
        ]
    );
    /// The workspace's cluster placement group, `hoist-<workspace>` (made
    /// by the first multi-node job, tagged at creation; destroy deletes
    /// it). Named exactly: never another workspace's.
    const PLACEMENT_GROUP: &[&str] = &["arn:{partition}:ec2:{region}:{account}:placement-group/hoist-{workspace}"];
    pub const DESCRIBE_PLACEMENT_GROUPS: Op = op!("ec2", "DescribePlacementGroups", ["ec2:DescribePlacementGroups"], &["*"]);
    pub const CREATE_PLACEMENT_GROUP: Op = op!(
        "ec2",
        "CreatePlacementGroup",
        grants: &[
            Grant { actions: &["ec2:CreatePlacementGroup"], resources: PLACEMENT_GROUP, conditions: REQUEST_TAGGED },
            Grant {
                actions: &["ec2:CreateTags"],
                resources: PLACEMENT_GROUP,
                conditions: &[Cond { operator: "StringEquals", key: "ec2:CreateAction", value: "CreatePlacementGroup" }],
            },
        ]
    );
    pub const DELETE_PLACEMENT_GROUP: Op = op!("ec2", "DeletePlacementGroup", ["ec2:DeletePlacementGroup"], PLACEMENT_GROUP);
    /// Only the workspace's instances (by tag).
    pub const TERMINATE_INSTANCES: Op = op!(
        "ec2",
        "TerminateInstances",
        grants: &[Grant { actions: &["ec2:TerminateInstances"], resources: INSTANCE, conditions: TAGGED_FOR_WORKSPACE }]
    );
}

/// AWS Systems Manager: AWS's public parameters that name the current
/// Amazon Linux and Deep Learning AMIs.
pub mod ssm {
    use super::Op;

    pub const GET_PARAMETER: Op =
        op!("ssm", "GetParameter", ["ssm:GetParameter"], &["arn:{partition}:ssm:{region}::parameter/aws/service/*"]);
}

/// AWS Secrets Manager: the workspace's secrets, `hoist/<workspace>/NAME`
/// (the `/` ends the workspace name, so workspace `a` never reaches
/// workspace `a-b`'s). Secrets Manager appends 6 random characters to a
/// secret's ARN.
pub mod secrets {
    use super::{Cond, Grant, Op};

    const SECRET: &[&str] = &["arn:{partition}:secretsmanager:{region}:{account}:secret:hoist/{workspace}/*"];

    /// Created tagged for the workspace; tags at creation also need
    /// secretsmanager:TagResource.
    pub const CREATE_SECRET: Op = op!(
        "secretsmanager",
        "CreateSecret",
        grants: &[Grant {
            actions: &["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
            resources: SECRET,
            conditions: &[Cond { operator: "StringEquals", key: "aws:RequestTag/hoist:workspace", value: "{workspace}" }],
        }]
    );
    pub const PUT_SECRET_VALUE: Op = op!("secretsmanager", "PutSecretValue", ["secretsmanager:PutSecretValue"], SECRET);
    pub const DESCRIBE_SECRET: Op = op!("secretsmanager", "DescribeSecret", ["secretsmanager:DescribeSecret"], SECRET);
    pub const DELETE_SECRET: Op = op!("secretsmanager", "DeleteSecret", ["secretsmanager:DeleteSecret"], SECRET);
    /// ListSecrets supports no resource-level permission.
    pub const LIST_SECRETS: Op = op!("secretsmanager", "ListSecrets", ["secretsmanager:ListSecrets"], &["*"]);
    /// The agent, on the instance: a job's secrets, never the user's
    /// machine (values never leave Secrets Manager but to the job).
    pub const GET_SECRET_VALUE: Op = op!("secretsmanager", "GetSecretValue", ["secretsmanager:GetSecretValue"], SECRET);
}

/// What a user does with job objects in the bucket (submitting, reading
/// records and logs, cancelling): the job's objects under `jobs/`, and the
/// agent binary under `agent/` that an instance downloads.
pub mod jobs {
    use super::Op;

    const OBJECTS: &[&str] = &["arn:{partition}:s3:::{bucket}/jobs/*", "arn:{partition}:s3:::{bucket}/agent/*"];
    /// Job records are written with conditions (If-Match / If-None-Match),
    /// which S3 authorizes with s3:PutObject and, for If-Match,
    /// s3:GetObject too.
    pub const PUT_OBJECT: Op = op!("s3", "PutObject", ["s3:PutObject", "s3:GetObject"], OBJECTS);
    pub const GET_OBJECT: Op = op!("s3", "GetObject", ["s3:GetObject"], OBJECTS);
    pub const HEAD_OBJECT: Op = op!("s3", "HeadObject", ["s3:GetObject"], OBJECTS);
    pub const DELETE_OBJECTS: Op = op!("s3", "DeleteObjects", ["s3:DeleteObject"], OBJECTS);
    /// Large files (bundles, checkpoints, the agent binary) go up in parts.
    pub const CREATE_MULTIPART_UPLOAD: Op = op!("s3", "CreateMultipartUpload", ["s3:PutObject"], OBJECTS);
    pub const UPLOAD_PART: Op = op!("s3", "UploadPart", ["s3:PutObject"], OBJECTS);
    pub const COMPLETE_MULTIPART_UPLOAD: Op = op!("s3", "CompleteMultipartUpload", ["s3:PutObject"], OBJECTS);
    pub const ABORT_MULTIPART_UPLOAD: Op = op!("s3", "AbortMultipartUpload", ["s3:AbortMultipartUpload"], OBJECTS);
}

/// What the agent does on an EC2 instance, as the workspace's instance
/// role: a job's records, bundle, checkpoints and artifacts under `jobs/`,
/// and its log streams. The instance role's policy is exactly these.
pub mod agent {
    use super::Op;

    const BUCKET: &[&str] = &["arn:{partition}:s3:::{bucket}"];
    const JOBS: &[&str] = &["arn:{partition}:s3:::{bucket}/jobs/*"];
    /// Conditional writes of the job record (If-Match) are authorized with
    /// s3:PutObject and s3:GetObject.
    pub const PUT_OBJECT: Op = op!("s3", "PutObject", ["s3:PutObject"], JOBS);
    pub const GET_OBJECT: Op = op!("s3", "GetObject", ["s3:GetObject"], JOBS);
    pub const HEAD_OBJECT: Op = op!("s3", "HeadObject", ["s3:GetObject"], JOBS);
    pub const LIST_OBJECTS_V2: Op = op!("s3", "ListObjectsV2", ["s3:ListBucket"], BUCKET);
    pub const DELETE_OBJECTS: Op = op!("s3", "DeleteObjects", ["s3:DeleteObject"], JOBS);
    /// Checkpoints larger than a part go up in parts.
    pub const CREATE_MULTIPART_UPLOAD: Op = op!("s3", "CreateMultipartUpload", ["s3:PutObject"], JOBS);
    pub const UPLOAD_PART: Op = op!("s3", "UploadPart", ["s3:PutObject"], JOBS);
    pub const COMPLETE_MULTIPART_UPLOAD: Op = op!("s3", "CompleteMultipartUpload", ["s3:PutObject"], JOBS);
    pub const ABORT_MULTIPART_UPLOAD: Op = op!("s3", "AbortMultipartUpload", ["s3:AbortMultipartUpload"], JOBS);
    /// The agent binary the instance's bootstrap downloads.
    pub const GET_AGENT_BINARY: Op =
        op!("s3", "GetObject", ["s3:GetObject"], &["arn:{partition}:s3:::{bucket}/agent/*"]);
    pub const CREATE_LOG_STREAM: Op = super::logs::CREATE_LOG_STREAM;
    pub const PUT_LOG_EVENTS: Op = super::logs::PUT_LOG_EVENTS;
    pub const GET_SECRET_VALUE: Op = super::secrets::GET_SECRET_VALUE;
}

/// What SageMaker does with the workspace's SageMaker role while it runs a
/// training job or hosts a model: these are SageMaker's own requests, not
/// hoist's (AWS documents them for a custom execution role), and the
/// role's policy is exactly these.
pub mod sagemaker_role {
    use super::{Cond, Grant, Op};

    const JOBS: &[&str] = &["arn:{partition}:s3:::{bucket}/jobs/*"];
    const SAGEMAKER_LOGS: &[&str] = &["arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/*"];

    /// Input channels (bundle, checkpoints), model artifacts and output.
    pub const LIST_BUCKET: Op = super::agent::LIST_OBJECTS_V2;
    pub const READ_JOBS: Op = super::agent::GET_OBJECT;
    pub const WRITE_JOBS: Op = super::agent::PUT_OBJECT;
    /// An endpoint's model file uploaded from the user's machine.
    pub const READ_MODELS: Op = super::endpoints::HEAD_MODEL_OBJECT;
    /// Checkpoint sync removes checkpoints the job deleted.
    pub const DELETE_JOBS: Op = op!("s3", "DeleteObject", ["s3:DeleteObject"], JOBS);
    /// Training and endpoint logs, under SageMaker's own log groups.
    pub const CREATE_LOG_GROUP: Op = op!("logs", "CreateLogGroup", ["logs:CreateLogGroup"], SAGEMAKER_LOGS);
    pub const CREATE_LOG_STREAM: Op = op!("logs", "CreateLogStream", ["logs:CreateLogStream"], SAGEMAKER_LOGS);
    pub const PUT_LOG_EVENTS: Op = op!("logs", "PutLogEvents", ["logs:PutLogEvents"], SAGEMAKER_LOGS);
    pub const DESCRIBE_LOG_STREAMS: Op = op!("logs", "DescribeLogStreams", ["logs:DescribeLogStreams"], SAGEMAKER_LOGS);
    /// Pulling the training or serving image. GetAuthorizationToken
    /// supports no resource-level permission; AWS's own images live in
    /// AWS's accounts, so the repository's account is a wildcard.
    pub const ECR_LOGIN: Op = op!("ecr", "GetAuthorizationToken", ["ecr:GetAuthorizationToken"], &["*"]);
    pub const ECR_PULL: Op = op!(
        "ecr",
        "BatchGetImage",
        ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        &["arn:{partition}:ecr:{region}:*:repository/*"]
    );
    /// Training metrics. PutMetricData supports no resource; it is scoped
    /// by namespace instead.
    pub const PUT_METRIC_DATA: Op = op!(
        "cloudwatch",
        "PutMetricData",
        grants: &[Grant {
            actions: &["cloudwatch:PutMetricData"],
            resources: &["*"],
            conditions: &[Cond { operator: "StringLike", key: "cloudwatch:namespace", value: "/aws/sagemaker/*" }],
        }]
    );
}

/// AWS KMS, when the bucket is encrypted with a customer-managed key
/// (`kms_key`): S3 asks KMS on the caller's behalf for every object read
/// and write, so whoever reads or writes objects needs these on that key
/// alone. `{kms_key}` is the key's ARN.
/// Amazon SageMaker training jobs, named `hoist-<workspace>--<job>-<attempt>`:
/// a workspace name never contains `--` (nor ends with `-`), so the
/// `hoist-<workspace>--` prefix is the workspace's alone (workspace `a`'s
/// `hoist-a--*` cannot match workspace `a-b`'s `hoist-a-b--...`).
pub mod training {
    use super::{Cond, Grant, Op, TAGGED_FOR_WORKSPACE};

    const JOB: &[&str] = &["arn:{partition}:sagemaker:{region}:{account}:training-job/hoist-{workspace}--*"];
    const REQUEST_TAGGED: &[Cond] =
        &[Cond { operator: "StringEquals", key: "aws:RequestTag/hoist:workspace", value: "{workspace}" }];

    /// Tags given at creation also need sagemaker:AddTags; the role given
    /// to the job needs iam:PassRole, to SageMaker only.
    pub const CREATE_TRAINING_JOB: Op = op!(
        "sagemaker",
        "CreateTrainingJob",
        grants: &[
            Grant { actions: &["sagemaker:CreateTrainingJob", "sagemaker:AddTags"], resources: JOB, conditions: REQUEST_TAGGED },
            Grant {
                actions: &["iam:PassRole"],
                resources: &["arn:{partition}:iam::{account}:role/{sagemaker_role}"],
                conditions: &[Cond { operator: "StringEquals", key: "iam:PassedToService", value: "sagemaker.amazonaws.com" }],
            },
        ]
    );
    pub const DESCRIBE_TRAINING_JOB: Op = op!("sagemaker", "DescribeTrainingJob", ["sagemaker:DescribeTrainingJob"], JOB);
    pub const STOP_TRAINING_JOB: Op = op!(
        "sagemaker",
        "StopTrainingJob",
        grants: &[Grant { actions: &["sagemaker:StopTrainingJob"], resources: JOB, conditions: TAGGED_FOR_WORKSPACE }]
    );
    /// Supports no resource-level permission.
    pub const LIST_TRAINING_JOBS: Op = op!("sagemaker", "ListTrainingJobs", ["sagemaker:ListTrainingJobs"], &["*"]);

    /// The job's output, as SageMaker writes it (one stream per host).
    pub const DESCRIBE_LOG_STREAMS: Op = op!(
        "logs",
        "DescribeLogStreams",
        ["logs:DescribeLogStreams"],
        &["arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/TrainingJobs:*"]
    );
    pub const GET_LOG_EVENTS: Op = op!(
        "logs",
        "GetLogEvents",
        ["logs:GetLogEvents"],
        &["arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/TrainingJobs:log-stream:hoist-{workspace}--*"]
    );
}

pub mod endpoints {
    //! SageMaker endpoints: each is a model, an endpoint configuration and
    //! the endpoint, all named `hoist-<workspace>--…` (SageMaker writes
    //! names in ARNs in lower case; workspace names are lower case).
    use super::{Cond, Grant, Op};

    const MODEL: &[&str] = &["arn:{partition}:sagemaker:{region}:{account}:model/hoist-{workspace}--*"];
    const CONFIG: &[&str] = &["arn:{partition}:sagemaker:{region}:{account}:endpoint-config/hoist-{workspace}--*"];
    const ENDPOINT: &[&str] = &["arn:{partition}:sagemaker:{region}:{account}:endpoint/hoist-{workspace}--*"];
    const ENDPOINT_AND_CONFIG: &[&str] = &[
        "arn:{partition}:sagemaker:{region}:{account}:endpoint/hoist-{workspace}--*",
        "arn:{partition}:sagemaker:{region}:{account}:endpoint-config/hoist-{workspace}--*",
    ];
    const REQUEST_TAGGED: &[Cond] =
        &[Cond { operator: "StringEquals", key: "aws:RequestTag/hoist:workspace", value: "{workspace}" }];

    /// The model names the SageMaker role, which SageMaker assumes to pull
    /// the image and read the model: iam:PassRole, to SageMaker only.
    /// Tags given at creation also need sagemaker:AddTags.
    pub const CREATE_MODEL: Op = op!(
        "sagemaker",
        "CreateModel",
        grants: &[
            Grant { actions: &["sagemaker:CreateModel", "sagemaker:AddTags"], resources: MODEL, conditions: REQUEST_TAGGED },
            Grant {
                actions: &["iam:PassRole"],
                resources: &["arn:{partition}:iam::{account}:role/{sagemaker_role}"],
                conditions: &[Cond { operator: "StringEquals", key: "iam:PassedToService", value: "sagemaker.amazonaws.com" }],
            },
        ]
    );
    pub const DESCRIBE_MODEL: Op = op!("sagemaker", "DescribeModel", ["sagemaker:DescribeModel"], MODEL);
    pub const DELETE_MODEL: Op = op!("sagemaker", "DeleteModel", ["sagemaker:DeleteModel"], MODEL);
    pub const CREATE_ENDPOINT_CONFIG: Op = op!(
        "sagemaker",
        "CreateEndpointConfig",
        grants: &[Grant {
            actions: &["sagemaker:CreateEndpointConfig", "sagemaker:AddTags"],
            resources: CONFIG,
            conditions: REQUEST_TAGGED,
        }]
    );
    pub const DESCRIBE_ENDPOINT_CONFIG: Op =
        op!("sagemaker", "DescribeEndpointConfig", ["sagemaker:DescribeEndpointConfig"], CONFIG);
    pub const DELETE_ENDPOINT_CONFIG: Op = op!("sagemaker", "DeleteEndpointConfig", ["sagemaker:DeleteEndpointConfig"], CONFIG);
    /// Authorized on the endpoint and on the configuration it names, each
    /// with the request's tags.
    pub const CREATE_ENDPOINT: Op = op!(
        "sagemaker",
        "CreateEndpoint",
        grants: &[
            Grant { actions: &["sagemaker:CreateEndpoint"], resources: ENDPOINT_AND_CONFIG, conditions: REQUEST_TAGGED },
            Grant { actions: &["sagemaker:AddTags"], resources: ENDPOINT, conditions: REQUEST_TAGGED },
        ]
    );
    pub const UPDATE_ENDPOINT: Op = op!("sagemaker", "UpdateEndpoint", ["sagemaker:UpdateEndpoint"], ENDPOINT_AND_CONFIG);
    pub const DESCRIBE_ENDPOINT: Op = op!("sagemaker", "DescribeEndpoint", ["sagemaker:DescribeEndpoint"], ENDPOINT);
    pub const DELETE_ENDPOINT: Op = op!("sagemaker", "DeleteEndpoint", ["sagemaker:DeleteEndpoint"], ENDPOINT);
    /// After an update, the endpoint's tags say what it now serves (an
    /// MLflow model's name and version). The request carries the
    /// workspace's tag, so only the workspace's endpoints can be retagged.
    pub const TAG_ENDPOINT: Op = op!(
        "sagemaker",
        "AddTags",
        grants: &[Grant { actions: &["sagemaker:AddTags"], resources: ENDPOINT, conditions: REQUEST_TAGGED }]
    );
    /// `hoist endpoints`: what each endpoint serves, from its tags.
    pub const LIST_ENDPOINT_TAGS: Op = op!("sagemaker", "ListTags", ["sagemaker:ListTags"], ENDPOINT);
    /// The list actions support no resource-level permission.
    pub const LIST_ENDPOINTS: Op = op!("sagemaker", "ListEndpoints", ["sagemaker:ListEndpoints"], &["*"]);
    pub const LIST_ENDPOINT_CONFIGS: Op = op!("sagemaker", "ListEndpointConfigs", ["sagemaker:ListEndpointConfigs"], &["*"]);
    pub const LIST_MODELS: Op = op!("sagemaker", "ListModels", ["sagemaker:ListModels"], &["*"]);
    /// The runtime API (`hoist invoke`).
    pub const INVOKE_ENDPOINT: Op = op!("sagemaker", "InvokeEndpoint", ["sagemaker:InvokeEndpoint"], ENDPOINT);
    /// `hoist invoke --stream`: the same permission.
    pub const INVOKE_ENDPOINT_WITH_RESPONSE_STREAM: Op =
        op!("sagemaker", "InvokeEndpointWithResponseStream", ["sagemaker:InvokeEndpoint"], ENDPOINT);

    /// `data: job:<id>`: the job's record names the model it trained.
    pub const GET_JOB_RECORD: Op = op!("s3", "GetObject", ["s3:GetObject"], &["arn:{partition}:s3:::{bucket}/jobs/*/job.json"]);
    /// The SageMaker role must exist (its ARN goes into each model).
    pub const GET_SAGEMAKER_ROLE: Op = op!("iam", "GetRole", ["iam:GetRole"], &["arn:{partition}:iam::{account}:role/{sagemaker_role}"]);

    /// A model file from this machine, uploaded to the bucket's `models/`.
    pub const PUT_MODEL_OBJECT: Op = op!("s3", "PutObject", ["s3:PutObject"], MODELS);
    pub const HEAD_MODEL_OBJECT: Op = op!("s3", "HeadObject", ["s3:GetObject"], MODELS);
    /// A model file uploaded for an endpoint, once nothing serves it.
    pub const DELETE_MODEL_OBJECTS: Op = op!("s3", "DeleteObjects", ["s3:DeleteObject"], MODELS);
    /// Model files larger than a part go up in parts.
    pub const CREATE_MULTIPART_MODEL: Op = op!("s3", "CreateMultipartUpload", ["s3:PutObject"], MODELS);
    pub const UPLOAD_MODEL_PART: Op = op!("s3", "UploadPart", ["s3:PutObject"], MODELS);
    pub const COMPLETE_MULTIPART_MODEL: Op = op!("s3", "CompleteMultipartUpload", ["s3:PutObject"], MODELS);
    pub const ABORT_MULTIPART_MODEL: Op = op!("s3", "AbortMultipartUpload", ["s3:AbortMultipartUpload"], MODELS);
    const MODELS: &[&str] = &["arn:{partition}:s3:::{bucket}/models/*"];
}

pub mod kms {
    use super::Op;

    /// Writing an object (and each multipart part).
    pub const GENERATE_DATA_KEY: Op = op!("kms", "GenerateDataKey", ["kms:GenerateDataKey"], &["{kms_key}"]);
    /// Reading an object, and completing a multipart upload.
    pub const DECRYPT: Op = op!("kms", "Decrypt", ["kms:Decrypt"], &["{kms_key}"]);
}

/// Every operation in the catalog, for the policy generator and for tests
/// that check recorded calls against declarations.
pub const ALL: &[Op] = &[
    sts::GET_CALLER_IDENTITY,
    endpoints::CREATE_MODEL,
    endpoints::GET_JOB_RECORD,
    endpoints::GET_SAGEMAKER_ROLE,
    endpoints::DESCRIBE_MODEL,
    endpoints::DELETE_MODEL,
    endpoints::CREATE_ENDPOINT_CONFIG,
    endpoints::DESCRIBE_ENDPOINT_CONFIG,
    endpoints::DELETE_ENDPOINT_CONFIG,
    endpoints::CREATE_ENDPOINT,
    endpoints::UPDATE_ENDPOINT,
    endpoints::DESCRIBE_ENDPOINT,
    endpoints::DELETE_ENDPOINT,
    endpoints::TAG_ENDPOINT,
    endpoints::LIST_ENDPOINT_TAGS,
    endpoints::LIST_ENDPOINTS,
    endpoints::LIST_ENDPOINT_CONFIGS,
    endpoints::LIST_MODELS,
    endpoints::INVOKE_ENDPOINT,
    endpoints::INVOKE_ENDPOINT_WITH_RESPONSE_STREAM,
    endpoints::PUT_MODEL_OBJECT,
    endpoints::HEAD_MODEL_OBJECT,
    endpoints::DELETE_MODEL_OBJECTS,
    endpoints::CREATE_MULTIPART_MODEL,
    endpoints::UPLOAD_MODEL_PART,
    endpoints::COMPLETE_MULTIPART_MODEL,
    endpoints::ABORT_MULTIPART_MODEL,
    s3::DELETE_OBJECT_VERSIONS,
    s3::ABORT_MULTIPART_UPLOAD,
    s3::HEAD_BUCKET,
    s3::CREATE_BUCKET,
    s3::DELETE_BUCKET,
    s3::GET_BUCKET_TAGGING,
    s3::PUT_BUCKET_TAGGING,
    s3::GET_PUBLIC_ACCESS_BLOCK,
    s3::PUT_PUBLIC_ACCESS_BLOCK,
    s3::GET_BUCKET_ENCRYPTION,
    s3::PUT_BUCKET_ENCRYPTION,
    s3::GET_BUCKET_POLICY,
    s3::PUT_BUCKET_POLICY,
    s3::GET_BUCKET_OWNERSHIP_CONTROLS,
    s3::PUT_BUCKET_OWNERSHIP_CONTROLS,
    s3::GET_BUCKET_LIFECYCLE,
    s3::PUT_BUCKET_LIFECYCLE,
    s3::GET_BUCKET_VERSIONING,
    s3::PUT_BUCKET_VERSIONING,
    s3::LIST_OBJECT_VERSIONS,
    s3::LIST_MULTIPART_UPLOADS,
    iam::GET_ROLE,
    iam::CREATE_ROLE,
    iam::DELETE_ROLE,
    iam::TAG_ROLE,
    iam::UPDATE_ASSUME_ROLE_POLICY,
    iam::GET_ROLE_POLICY,
    iam::PUT_ROLE_POLICY,
    iam::DELETE_ROLE_POLICY,
    iam::LIST_ROLE_POLICIES,
    iam::LIST_ATTACHED_ROLE_POLICIES,
    iam::DETACH_ROLE_POLICY,
    iam::PUT_ROLE_PERMISSIONS_BOUNDARY,
    iam::GET_INSTANCE_PROFILE,
    iam::CREATE_INSTANCE_PROFILE,
    iam::DELETE_INSTANCE_PROFILE,
    iam::TAG_INSTANCE_PROFILE,
    iam::ADD_ROLE_TO_INSTANCE_PROFILE,
    iam::REMOVE_ROLE_FROM_INSTANCE_PROFILE,
    boundary::GET_POLICY,
    boundary::GET_POLICY_VERSION,
    boundary::CREATE_POLICY,
    boundary::CREATE_POLICY_VERSION,
    boundary::LIST_POLICY_VERSIONS,
    boundary::DELETE_POLICY_VERSION,
    boundary::DELETE_POLICY,
    agent::PUT_OBJECT,
    agent::GET_OBJECT,
    agent::HEAD_OBJECT,
    agent::LIST_OBJECTS_V2,
    agent::DELETE_OBJECTS,
    sagemaker_role::DELETE_JOBS,
    sagemaker_role::CREATE_LOG_GROUP,
    sagemaker_role::CREATE_LOG_STREAM,
    sagemaker_role::PUT_LOG_EVENTS,
    sagemaker_role::DESCRIBE_LOG_STREAMS,
    sagemaker_role::ECR_LOGIN,
    sagemaker_role::ECR_PULL,
    sagemaker_role::PUT_METRIC_DATA,
    training::CREATE_TRAINING_JOB,
    training::DESCRIBE_TRAINING_JOB,
    training::STOP_TRAINING_JOB,
    training::LIST_TRAINING_JOBS,
    training::DESCRIBE_LOG_STREAMS,
    training::GET_LOG_EVENTS,
    kms::GENERATE_DATA_KEY,
    kms::DECRYPT,
    iam_read::SIMULATE_PRINCIPAL_POLICY,
    iam_read::GET_USER,
    iam_read::LIST_USER_POLICIES,
    iam_read::GET_USER_POLICY,
    iam_read::LIST_ATTACHED_USER_POLICIES,
    iam_read::LIST_GROUPS_FOR_USER,
    iam_read::LIST_GROUP_POLICIES,
    iam_read::GET_GROUP_POLICY,
    iam_read::LIST_ATTACHED_GROUP_POLICIES,
    iam_read::GET_POLICY,
    iam_read::GET_POLICY_VERSION,
    iam_read::GET_OWN_ROLE,
    iam_read::LIST_OWN_ROLE_POLICIES,
    iam_read::GET_OWN_ROLE_POLICY,
    iam_read::LIST_OWN_ATTACHED_ROLE_POLICIES,
    iam_read::SIMULATE_OWN_ROLE,
    logs::CREATE_LOG_STREAM,
    logs::PUT_LOG_EVENTS,
    logs::GET_LOG_EVENTS,
    logs::DESCRIBE_LOG_GROUPS,
    logs::CREATE_LOG_GROUP,
    logs::DELETE_LOG_GROUP,
    logs::PUT_RETENTION_POLICY,
    logs::TAG_RESOURCE,
    logs::LIST_TAGS_FOR_RESOURCE,
    ec2::DESCRIBE_VPCS,
    ec2::DESCRIBE_SECURITY_GROUPS,
    ec2::CREATE_SECURITY_GROUP,
    ec2::DELETE_SECURITY_GROUP,
    ec2::REVOKE_SECURITY_GROUP_INGRESS,
    ec2::AUTHORIZE_SECURITY_GROUP_INGRESS,
    ec2::AUTHORIZE_SECURITY_GROUP_EGRESS,
    ec2::CREATE_TAGS,
    instances::DESCRIBE_INSTANCES,
    instances::DESCRIBE_PLACEMENT_GROUPS,
    instances::CREATE_PLACEMENT_GROUP,
    instances::DELETE_PLACEMENT_GROUP,
    instances::DESCRIBE_INSTANCE_TYPES,
    instances::DESCRIBE_INSTANCE_TYPE_OFFERINGS,
    instances::DESCRIBE_SPOT_PRICE_HISTORY,
    instances::DESCRIBE_SUBNETS,
    instances::DESCRIBE_IMAGES,
    instances::RUN_INSTANCES,
    instances::TERMINATE_INSTANCES,
    ssm::GET_PARAMETER,
    secrets::CREATE_SECRET,
    secrets::PUT_SECRET_VALUE,
    secrets::DESCRIBE_SECRET,
    secrets::DELETE_SECRET,
    secrets::LIST_SECRETS,
    secrets::GET_SECRET_VALUE,
    jobs::PUT_OBJECT,
    jobs::GET_OBJECT,
    jobs::HEAD_OBJECT,
    jobs::DELETE_OBJECTS,
    jobs::CREATE_MULTIPART_UPLOAD,
    jobs::UPLOAD_PART,
    jobs::COMPLETE_MULTIPART_UPLOAD,
    jobs::ABORT_MULTIPART_UPLOAD,
    agent::CREATE_MULTIPART_UPLOAD,
    agent::UPLOAD_PART,
    agent::COMPLETE_MULTIPART_UPLOAD,
    agent::ABORT_MULTIPART_UPLOAD,
    agent::GET_AGENT_BINARY,
];

/// The declared operation with this service and API name (the first, when
/// an API has several declarations with different actions).
pub fn find(service: &str, name: &str) -> Option<&'static Op> {
    ALL.iter().find(|op| op.service == service && op.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for op in ALL {
            assert!(seen.insert((op.service, op.name, op.actions(), op.grants)), "{op} declared twice");
            for action in op.actions() {
                let (prefix, name) = action.split_once(':').expect("action has a service prefix");
                assert!(!prefix.is_empty() && !name.is_empty(), "{op}: bad action {action}");
            }
            for g in op.grants {
                for r in g.resources {
                    assert!(*r == "*" || *r == "{kms_key}" || r.starts_with("arn:{partition}:"), "{op}: {r}");
                }
            }
            // An operation with no IAM action is only one AWS documents as
            // needing none.
            assert!(!op.actions().is_empty() || *op == sts::GET_CALLER_IDENTITY, "{op} declares no action");
        }
    }

    #[test]
    fn reads_and_writes_are_told_apart() {
        assert!(!s3::HEAD_BUCKET.is_mutating());
        assert!(!iam::LIST_ROLE_POLICIES.is_mutating());
        assert!(!ec2::DESCRIBE_VPCS.is_mutating());
        assert!(s3::PUT_BUCKET_POLICY.is_mutating());
        assert!(iam::TAG_ROLE.is_mutating());
    }

    #[test]
    fn displays_as_service_colon_name() {
        assert_eq!(sts::GET_CALLER_IDENTITY.to_string(), "sts:GetCallerIdentity");
        assert_eq!(find("s3", "HeadBucket"), Some(&s3::HEAD_BUCKET));
    }
}
