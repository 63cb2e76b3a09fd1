//! Which catalog operations each hoist command may perform. `hoist policy`
//! derives the caller's policy from this; a test records what each
//! command really sends and fails if it sends anything not listed here.
//! Adding an AWS call to a command without listing it fails that test.

use crate::catalog::{Op, ec2, iam, iam_read, logs, s3, sts};

/// Reads `init`, `status` and `destroy` share: seeing the footprint.
const OBSERVE: &[Op] = &[
    sts::GET_CALLER_IDENTITY,
    s3::HEAD_BUCKET,
    s3::GET_BUCKET_TAGGING,
    s3::GET_PUBLIC_ACCESS_BLOCK,
    s3::GET_BUCKET_ENCRYPTION,
    s3::GET_BUCKET_POLICY,
    s3::GET_BUCKET_OWNERSHIP_CONTROLS,
    s3::GET_BUCKET_LIFECYCLE,
    s3::GET_BUCKET_VERSIONING,
    iam::GET_ROLE,
    iam::LIST_ROLE_POLICIES,
    iam::GET_ROLE_POLICY,
    iam::LIST_ATTACHED_ROLE_POLICIES,
    iam::GET_INSTANCE_PROFILE,
    logs::DESCRIBE_LOG_GROUPS,
    logs::LIST_TAGS_FOR_RESOURCE,
    ec2::DESCRIBE_VPCS,
    ec2::DESCRIBE_SECURITY_GROUPS,
];

const INIT_WRITES: &[Op] = &[
    s3::CREATE_BUCKET,
    s3::PUT_BUCKET_TAGGING,
    s3::PUT_PUBLIC_ACCESS_BLOCK,
    s3::PUT_BUCKET_ENCRYPTION,
    s3::PUT_BUCKET_POLICY,
    s3::PUT_BUCKET_OWNERSHIP_CONTROLS,
    s3::PUT_BUCKET_LIFECYCLE,
    s3::PUT_BUCKET_VERSIONING,
    iam::CREATE_ROLE,
    iam::TAG_ROLE,
    iam::UPDATE_ASSUME_ROLE_POLICY,
    iam::PUT_ROLE_POLICY,
    iam::CREATE_INSTANCE_PROFILE,
    iam::TAG_INSTANCE_PROFILE,
    iam::ADD_ROLE_TO_INSTANCE_PROFILE,
    iam::REMOVE_ROLE_FROM_INSTANCE_PROFILE,
    logs::CREATE_LOG_GROUP,
    logs::PUT_RETENTION_POLICY,
    logs::TAG_RESOURCE,
    ec2::CREATE_SECURITY_GROUP,
    ec2::REVOKE_SECURITY_GROUP_INGRESS,
    ec2::AUTHORIZE_SECURITY_GROUP_EGRESS,
    ec2::CREATE_TAGS,
];

const DESTROY_WRITES: &[Op] = &[
    iam::LIST_ROLES,
    iam::LIST_INSTANCE_PROFILES,
    iam::REMOVE_ROLE_FROM_INSTANCE_PROFILE,
    iam::DELETE_INSTANCE_PROFILE,
    iam::DELETE_ROLE_POLICY,
    iam::DETACH_ROLE_POLICY,
    iam::DELETE_ROLE,
    logs::DELETE_LOG_GROUP,
    ec2::DELETE_SECURITY_GROUP,
    s3::LIST_OBJECT_VERSIONS,
    s3::DELETE_OBJECT_VERSIONS,
    s3::LIST_MULTIPART_UPLOADS,
    s3::ABORT_MULTIPART_UPLOAD,
    s3::DELETE_BUCKET,
];

/// The agent, running a job whose state is in S3 and logs in CloudWatch.
const AGENT: &[Op] = &[
    s3::GET_OBJECT,
    s3::PUT_OBJECT,
    s3::HEAD_OBJECT,
    s3::LIST_OBJECTS_V2,
    s3::DELETE_OBJECTS,
    logs::CREATE_LOG_STREAM,
    logs::PUT_LOG_EVENTS,
];

/// `hoist check`: reading the caller's own policies (or simulating them).
const CHECK: &[Op] = &[
    sts::GET_CALLER_IDENTITY,
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
    iam::GET_ROLE,
    iam::LIST_ROLE_POLICIES,
    iam::GET_ROLE_POLICY,
    iam::LIST_ATTACHED_ROLE_POLICIES,
];

/// Commands hoist knows the AWS needs of.
pub const COMMANDS: &[&str] = &["whoami", "init", "status", "destroy", "agent", "check"];

/// The operations `command` may perform (empty for an unknown command).
pub fn ops(command: &str) -> Vec<Op> {
    let parts: &[&[Op]] = match command {
        "whoami" => &[&[sts::GET_CALLER_IDENTITY]],
        "init" => &[OBSERVE, INIT_WRITES],
        "status" => &[OBSERVE],
        "destroy" => &[OBSERVE, DESTROY_WRITES],
        "agent" => &[AGENT],
        "check" => &[CHECK],
        _ => &[],
    };
    let mut out: Vec<Op> = Vec::new();
    for op in parts.iter().flat_map(|p| p.iter()) {
        if !out.contains(op) {
            out.push(*op);
        }
    }
    out
}

/// Whether `command` declares an operation with this service and name.
pub fn declares(command: &str, service: &str, operation: &str) -> bool {
    ops(command).iter().any(|op| op.service == service && op.name == operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_op_is_in_the_catalog_and_every_catalog_op_is_used() {
        let mut used = std::collections::HashSet::new();
        for command in COMMANDS {
            for op in ops(command) {
                assert!(crate::catalog::ALL.contains(&op), "{command}: {op} is not in catalog::ALL");
                used.insert(op);
            }
        }
        // GET_LOG_EVENTS is used by `hoist logs` for AWS-backed jobs
        // (coming with the EC2 backend).
        for op in crate::catalog::ALL {
            assert!(used.contains(op) || *op == logs::GET_LOG_EVENTS, "{op} is declared by no command");
        }
    }

    #[test]
    fn status_only_reads() {
        assert!(ops("status").iter().all(|op| !op.is_mutating()));
    }
}
