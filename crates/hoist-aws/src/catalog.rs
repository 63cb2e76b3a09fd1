//! The operation catalog: every AWS operation hoist performs is declared
//! here once, with the IAM action(s) a caller needs to perform it.
//!
//! Calls, `hoist policy`, `hoist check` and the permission docs all derive
//! from these declarations, so the code and the documented policy cannot
//! drift apart. A call site names its `Op` when it calls
//! [`crate::Session::call`]; a test records the operations a command really
//! sends and fails when one is not declared for that command.

use std::fmt;

/// One AWS API operation and what IAM must allow for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Op {
    /// The service's IAM prefix, e.g. `sts`, `s3`, `iam`.
    pub service: &'static str,
    /// The API operation name as the SDK and CloudTrail spell it.
    pub name: &'static str,
    /// IAM actions the caller needs. Empty means the operation needs no
    /// permission at all (STS GetCallerIdentity is always allowed).
    pub actions: &'static [&'static str],
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service, self.name)
    }
}

macro_rules! op {
    ($service:literal, $name:literal, [$($action:literal),* $(,)?]) => {
        Op { service: $service, name: $name, actions: &[$($action),*] }
    };
}

/// AWS Security Token Service.
pub mod sts {
    use super::Op;

    /// Always allowed: AWS documents that no IAM policy can deny it.
    pub const GET_CALLER_IDENTITY: Op = op!("sts", "GetCallerIdentity", []);
}

/// Amazon S3: the artifact bucket (job records, bundles, checkpoints,
/// artifacts).
pub mod s3 {
    use super::Op;

    pub const PUT_OBJECT: Op = op!("s3", "PutObject", ["s3:PutObject"]);
    pub const GET_OBJECT: Op = op!("s3", "GetObject", ["s3:GetObject"]);
    /// HeadObject is authorized as s3:GetObject.
    pub const HEAD_OBJECT: Op = op!("s3", "HeadObject", ["s3:GetObject"]);
    /// ListObjectsV2 is authorized as s3:ListBucket, on the bucket ARN.
    pub const LIST_OBJECTS_V2: Op = op!("s3", "ListObjectsV2", ["s3:ListBucket"]);
    /// DeleteObjects is authorized per key as s3:DeleteObject.
    pub const DELETE_OBJECTS: Op = op!("s3", "DeleteObjects", ["s3:DeleteObject"]);
}

/// Amazon CloudWatch Logs: job logs.
pub mod logs {
    use super::Op;

    pub const CREATE_LOG_STREAM: Op = op!("logs", "CreateLogStream", ["logs:CreateLogStream"]);
    pub const PUT_LOG_EVENTS: Op = op!("logs", "PutLogEvents", ["logs:PutLogEvents"]);
    pub const GET_LOG_EVENTS: Op = op!("logs", "GetLogEvents", ["logs:GetLogEvents"]);
}

/// Every operation in the catalog, for the policy generator and for tests
/// that check recorded calls against declarations.
pub const ALL: &[Op] = &[
    sts::GET_CALLER_IDENTITY,
    s3::PUT_OBJECT,
    s3::GET_OBJECT,
    s3::HEAD_OBJECT,
    s3::LIST_OBJECTS_V2,
    s3::DELETE_OBJECTS,
    logs::CREATE_LOG_STREAM,
    logs::PUT_LOG_EVENTS,
    logs::GET_LOG_EVENTS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_actions_belong_to_their_service() {
        let mut seen = std::collections::HashSet::new();
        for op in ALL {
            assert!(seen.insert((op.service, op.name)), "{op} declared twice");
            for action in op.actions {
                let (prefix, _) = action.split_once(':').expect("action has a service prefix");
                assert!(!prefix.is_empty(), "{op}: bad action {action}");
            }
        }
    }

    #[test]
    fn displays_as_service_colon_name() {
        assert_eq!(sts::GET_CALLER_IDENTITY.to_string(), "sts:GetCallerIdentity");
    }
}
