//! IAM policy documents without the AWS SDK: a model that accepts every
//! shape AWS accepts ([`Policy::parse`]), and evaluation of identity-based
//! policies within one account as AWS documents it ([`evaluate`]).
//!
//! Pure and fast: `hoist check` evaluates the caller's policies with it,
//! and the test suite proves hoist's generated policies with it.

mod condition;
mod eval;
mod glob;
pub mod lint;
mod model;

pub use eval::{Context, Decision, Evaluation, Matched, Request, evaluate};
pub use model::{Effect, ParseError, Policy, Principal, Statement, Targets};
