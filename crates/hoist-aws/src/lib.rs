//! The AWS side of hoist.
//!
//! - [`session`]: turns profile / region / endpoint settings into an
//!   [`aws_types::SdkConfig`] with timeouts that never hang, and runs every
//!   SDK call through [`Session::call`] so that each call is tied to its
//!   catalog entry and every failure becomes an [`AwsError`].
//! - [`catalog`]: every AWS operation hoist performs, declared once, with
//!   the IAM actions it needs.
//! - [`error`]: typed classification of SDK failures (credentials,
//!   unreachable endpoint, access denied, service error).
//! - [`identity`]: who the caller is (STS).
//! - [`s3`]: objects in a bucket (job records, bundles, checkpoints).
//! - [`logs`]: CloudWatch Logs streams (job logs).

pub mod bucket;
pub mod caller_policies;
pub mod catalog;
pub mod commands;
pub mod endpoints;
pub mod error;
pub mod iam;
pub mod identity;
pub mod images;
pub mod instance_types;
pub mod instances;
pub mod log_group;
pub mod logs;
pub mod metadata;
pub mod record;
pub mod retry;
pub mod s3;
pub mod secrets;
pub mod security_group;
pub mod session;
pub mod tags;
pub mod training;

pub use catalog::Op;
pub use error::{AwsError, ErrorKind};
pub use session::{ConnectOptions, Session};
