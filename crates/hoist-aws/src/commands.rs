//! Which catalog operations each hoist command may perform. `hoist policy`
//! derives the caller's policy from this; a test records what each
//! command really sends and fails if it sends anything not listed here.
//! Adding an AWS call to a command without listing it fails that test.

use crate::catalog::{
    Op, agent, boundary, ec2, endpoints, iam, iam_read, instances, jobs, kms, logs, s3, sagemaker_role, secrets, ssm, sts, training,
};

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
    // Only of an untagged bucket: is it an interrupted init's, and empty?
    agent::LIST_OBJECTS_V2,
    iam::GET_ROLE,
    iam::LIST_ROLE_POLICIES,
    iam::GET_ROLE_POLICY,
    iam::LIST_ATTACHED_ROLE_POLICIES,
    iam::GET_INSTANCE_PROFILE,
    boundary::GET_POLICY,
    boundary::GET_POLICY_VERSION,
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
    iam::PUT_ROLE_PERMISSIONS_BOUNDARY,
    iam::CREATE_INSTANCE_PROFILE,
    iam::TAG_INSTANCE_PROFILE,
    iam::ADD_ROLE_TO_INSTANCE_PROFILE,
    iam::REMOVE_ROLE_FROM_INSTANCE_PROFILE,
    logs::CREATE_LOG_GROUP,
    logs::PUT_RETENTION_POLICY,
    logs::TAG_RESOURCE,
    ec2::CREATE_SECURITY_GROUP,
    ec2::REVOKE_SECURITY_GROUP_INGRESS,
    ec2::AUTHORIZE_SECURITY_GROUP_INGRESS,
    ec2::AUTHORIZE_SECURITY_GROUP_EGRESS,
    ec2::CREATE_TAGS,
];

/// Destroy finds the workspace's IAM resources by their exact names (no
/// listing: a listing by name prefix would also reach workspace `a-b` from
/// workspace `a`, and hand-made roles that share the prefix).
const DESTROY_WRITES: &[Op] = &[
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

/// Destroy stops what still runs and bills, and removes the workspace's
/// secrets, before the rest.
const DESTROY_JOBS: &[Op] = &[
    instances::DESCRIBE_INSTANCES,
    instances::TERMINATE_INSTANCES,
    instances::DESCRIBE_PLACEMENT_GROUPS,
    instances::DELETE_PLACEMENT_GROUP,
    secrets::LIST_SECRETS,
    secrets::DESCRIBE_SECRET,
    secrets::DELETE_SECRET,
    // Training jobs cannot be deleted: the running ones are stopped.
    training::LIST_TRAINING_JOBS,
    training::STOP_TRAINING_JOB,
    training::DESCRIBE_TRAINING_JOB,
    // Endpoints bill by the hour: deleted with their configs and models.
    endpoints::LIST_ENDPOINTS,
    endpoints::DELETE_ENDPOINT,
    endpoints::LIST_ENDPOINT_CONFIGS,
    endpoints::DELETE_ENDPOINT_CONFIG,
    endpoints::LIST_MODELS,
    endpoints::DELETE_MODEL,
];

/// The agent, running a job whose state is in S3 and logs in CloudWatch:
/// the instance role's policy.
const AGENT: &[Op] = &[
    agent::GET_OBJECT,
    agent::PUT_OBJECT,
    agent::HEAD_OBJECT,
    agent::LIST_OBJECTS_V2,
    agent::DELETE_OBJECTS,
    agent::CREATE_MULTIPART_UPLOAD,
    agent::UPLOAD_PART,
    agent::COMPLETE_MULTIPART_UPLOAD,
    agent::ABORT_MULTIPART_UPLOAD,
    agent::GET_AGENT_BINARY,
    agent::CREATE_LOG_STREAM,
    agent::PUT_LOG_EVENTS,
    agent::GET_SECRET_VALUE,
];

/// `hoist run --backend ec2`, and `jobs`, `logs`, `cancel` on AWS-backed
/// jobs: checking the footprint is there, submitting the job (bundle,
/// record, agent binary), launching and stopping its instance, and
/// reading its record and logs.
const RUN: &[Op] = &[
    sts::GET_CALLER_IDENTITY,
    s3::HEAD_BUCKET,
    iam::GET_INSTANCE_PROFILE,
    ec2::DESCRIBE_VPCS,
    ec2::DESCRIBE_SECURITY_GROUPS,
    agent::LIST_OBJECTS_V2,
    jobs::GET_OBJECT,
    jobs::HEAD_OBJECT,
    jobs::PUT_OBJECT,
    jobs::DELETE_OBJECTS,
    jobs::CREATE_MULTIPART_UPLOAD,
    jobs::UPLOAD_PART,
    jobs::COMPLETE_MULTIPART_UPLOAD,
    jobs::ABORT_MULTIPART_UPLOAD,
    instances::DESCRIBE_INSTANCES,
    instances::DESCRIBE_INSTANCE_TYPES,
    instances::DESCRIBE_INSTANCE_TYPE_OFFERINGS,
    instances::DESCRIBE_SPOT_PRICE_HISTORY,
    instances::DESCRIBE_SUBNETS,
    instances::DESCRIBE_IMAGES,
    instances::RUN_INSTANCES,
    instances::TERMINATE_INSTANCES,
    instances::DESCRIBE_PLACEMENT_GROUPS,
    instances::CREATE_PLACEMENT_GROUP,
    ssm::GET_PARAMETER,
    secrets::DESCRIBE_SECRET,
    logs::GET_LOG_EVENTS,
    // `--backend sagemaker`: the SageMaker role must exist; the job's
    // output is in SageMaker's own log group.
    iam::GET_ROLE,
    training::CREATE_TRAINING_JOB,
    training::DESCRIBE_TRAINING_JOB,
    training::STOP_TRAINING_JOB,
    training::DESCRIBE_LOG_STREAMS,
    training::GET_LOG_EVENTS,
];

/// `hoist deploy`, `endpoints` and `invoke`: the workspace's endpoints,
/// their configurations and models, found by name with list calls; a
/// model file from this machine goes to the bucket's `models/`; a model
/// from a job is read from the job's record.
const DEPLOY: &[Op] = &[
    sts::GET_CALLER_IDENTITY,
    s3::HEAD_BUCKET,
    endpoints::GET_SAGEMAKER_ROLE,
    endpoints::GET_JOB_RECORD,
    endpoints::CREATE_MODEL,
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
];

/// `hoist secret set/list/rm`.
const SECRET: &[Op] = &[
    sts::GET_CALLER_IDENTITY,
    secrets::CREATE_SECRET,
    secrets::PUT_SECRET_VALUE,
    secrets::DESCRIBE_SECRET,
    secrets::LIST_SECRETS,
    secrets::DELETE_SECRET,
];

/// What SageMaker does as the workspace's SageMaker role: that role's
/// policy. A training job's container runs the agent as this role (its
/// record, heartbeat and secrets), and SageMaker itself downloads the
/// agent binary channel, syncs checkpoints and writes the model.
const SAGEMAKER_ROLE: &[Op] = &[
    sagemaker_role::LIST_BUCKET,
    sagemaker_role::READ_JOBS,
    sagemaker_role::WRITE_JOBS,
    sagemaker_role::DELETE_JOBS,
    agent::HEAD_OBJECT,
    agent::CREATE_MULTIPART_UPLOAD,
    agent::UPLOAD_PART,
    agent::COMPLETE_MULTIPART_UPLOAD,
    agent::ABORT_MULTIPART_UPLOAD,
    agent::GET_AGENT_BINARY,
    agent::GET_SECRET_VALUE,
    sagemaker_role::READ_MODELS,
    sagemaker_role::CREATE_LOG_GROUP,
    sagemaker_role::CREATE_LOG_STREAM,
    sagemaker_role::PUT_LOG_EVENTS,
    sagemaker_role::DESCRIBE_LOG_STREAMS,
    sagemaker_role::ECR_LOGIN,
    sagemaker_role::ECR_PULL,
    sagemaker_role::PUT_METRIC_DATA,
];

/// The permissions boundary's life cycle: an administrator's part of
/// `init` and `destroy`, never in a user's policy (a user who could edit
/// the boundary could widen it).
const BOUNDARY_CREATE: &[Op] = &[
    boundary::CREATE_POLICY,
    boundary::LIST_POLICY_VERSIONS,
    boundary::CREATE_POLICY_VERSION,
    boundary::DELETE_POLICY_VERSION,
];
const BOUNDARY_DELETE: &[Op] = &[boundary::LIST_POLICY_VERSIONS, boundary::DELETE_POLICY_VERSION, boundary::DELETE_POLICY];

/// S3 asks KMS on the caller's behalf when the bucket uses a
/// customer-managed key: added to whoever reads or writes objects.
pub const KMS_FOR_OBJECTS: &[Op] = &[kms::GENERATE_DATA_KEY, kms::DECRYPT];

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
    iam_read::GET_OWN_ROLE,
    iam_read::LIST_OWN_ROLE_POLICIES,
    iam_read::GET_OWN_ROLE_POLICY,
    iam_read::LIST_OWN_ATTACHED_ROLE_POLICIES,
    iam_read::SIMULATE_OWN_ROLE,
];

/// Commands hoist knows the AWS needs of. `agent` and `sagemaker` are the
/// execution roles' (the agent on an instance; SageMaker running a job or
/// an endpoint), the rest a user's.
pub const COMMANDS: &[&str] = &["whoami", "init", "status", "destroy", "run", "deploy", "secret", "agent", "sagemaker", "check"];

/// The commands a user runs (their policies are a user's); the others are
/// the execution roles'.
pub const USER_COMMANDS: &[&str] = &["whoami", "init", "status", "destroy", "run", "deploy", "secret", "check"];

/// The operations `command` may perform (empty for an unknown command).
pub fn ops(command: &str) -> Vec<Op> {
    let parts: &[&[Op]] = match command {
        "whoami" => &[&[sts::GET_CALLER_IDENTITY]],
        "init" => &[OBSERVE, INIT_WRITES],
        "status" => &[OBSERVE],
        "destroy" => &[OBSERVE, DESTROY_JOBS, DESTROY_WRITES],
        // `jobs`, `logs` and `cancel` on jobs in AWS need what `run` does.
        "run" | "jobs" | "logs" | "cancel" => &[RUN],
        // `endpoints` and `invoke` need what `deploy` does.
        "deploy" | "endpoints" | "invoke" => &[DEPLOY],
        "secret" => &[SECRET],
        "agent" => &[AGENT],
        "sagemaker" => &[SAGEMAKER_ROLE],
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

/// Operations `command` performs only when the caller is an
/// administrator: creating, changing or deleting the permissions boundary.
/// Never part of a user's generated policy; a user without them gets a
/// message saying an administrator must do it.
pub fn admin_ops(command: &str) -> &'static [Op] {
    match command {
        "init" => BOUNDARY_CREATE,
        "destroy" => BOUNDARY_DELETE,
        _ => &[],
    }
}

/// Whether `command` declares an operation with this service and name
/// (a user's or an administrator's).
pub fn declares(command: &str, service: &str, operation: &str) -> bool {
    ops(command).iter().chain(admin_ops(command)).any(|op| op.service == service && op.name == operation)
}

/// Whether an object operation reads or writes object data (and so needs
/// KMS when the bucket uses a customer-managed key).
pub fn touches_object_data(op: &Op) -> bool {
    op.service == "s3" && matches!(op.name, "PutObject" | "GetObject" | "CreateMultipartUpload" | "UploadPart")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_op_is_in_the_catalog_and_every_catalog_op_is_used() {
        let mut used = std::collections::HashSet::new();
        for command in COMMANDS {
            for op in ops(command).into_iter().chain(admin_ops(command).iter().copied()) {
                assert!(crate::catalog::ALL.contains(&op), "{command}: {op} is not in catalog::ALL");
                used.insert(op);
            }
        }
        for op in crate::catalog::ALL {
            let kms = KMS_FOR_OBJECTS.contains(op);
            assert!(used.contains(op) || kms, "{op} is declared by no command");
        }
    }

    #[test]
    fn no_user_command_may_change_the_boundary() {
        for command in USER_COMMANDS {
            for op in ops(command) {
                let writes_policy = ["CreatePolicy", "CreatePolicyVersion", "DeletePolicy", "DeletePolicyVersion", "SetDefaultPolicyVersion"];
                assert!(!writes_policy.contains(&op.name), "{command}: {op}");
                assert!(op.name != "DeleteRolePermissionsBoundary", "{command}: {op}");
            }
        }
    }

    #[test]
    fn status_only_reads() {
        assert!(ops("status").iter().all(|op| !op.is_mutating()));
    }
}
