//! Declarative endpoints (`hoist deploy`): the deploy file ([`file`]),
//! what it means against what exists ([`plan`]), and carrying it out on
//! the shared applier ([`apply`]).

pub mod apply;
pub mod file;
pub mod plan;

use std::collections::BTreeMap;

use crate::footprint::names::Names;

/// The tag naming the endpoint (as the file names it) on each of its parts.
pub const ENDPOINT_TAG: &str = "hoist:endpoint";

/// The tags on an endpoint, its configuration and model.
pub fn tags(n: &Names, endpoint: &str) -> BTreeMap<String, String> {
    let mut tags = hoist_aws::tags::for_workspace(&n.workspace);
    tags.insert(ENDPOINT_TAG.into(), endpoint.into());
    tags
}
