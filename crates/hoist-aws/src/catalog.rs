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

/// Every operation in the catalog, for the policy generator and for tests
/// that check recorded calls against declarations.
pub const ALL: &[Op] = &[sts::GET_CALLER_IDENTITY];

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
