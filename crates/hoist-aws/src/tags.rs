//! Ownership tags. Every resource hoist creates carries
//! `hoist:managed=true` and `hoist:workspace=<name>`; destroy finds what to
//! delete by these tags (and name prefixes), never from a local file.

use std::collections::BTreeMap;

pub const MANAGED: &str = "hoist:managed";
pub const WORKSPACE: &str = "hoist:workspace";

pub type Tags = BTreeMap<String, String>;

/// The tags hoist puts on a workspace's resources.
pub fn for_workspace(workspace: &str) -> Tags {
    Tags::from([(MANAGED.to_string(), "true".to_string()), (WORKSPACE.to_string(), workspace.to_string())])
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Tagged for this workspace.
    This,
    /// hoist's, but another workspace's: never touched.
    Other(String),
    /// Not tagged by hoist (made by hand, or by another tool).
    Unowned,
}

/// The workspace tag decides: a resource tagged for this workspace whose
/// `hoist:managed` tag was removed is still this workspace's (with a tag to
/// put back), not a stranger's.
pub fn owner(tags: &Tags, workspace: &str) -> Owner {
    match tags.get(WORKSPACE) {
        Some(ws) if ws == workspace => Owner::This,
        Some(ws) if tags.get(MANAGED).map(String::as_str) == Some("true") => Owner::Other(ws.clone()),
        _ => Owner::Unowned,
    }
}

/// Tags in `want` that `have` lacks or holds with another value.
pub fn missing(have: &Tags, want: &Tags) -> Tags {
    want.iter().filter(|(k, v)| have.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_is_read_from_tags() {
        assert_eq!(owner(&for_workspace("a"), "a"), Owner::This);
        assert_eq!(owner(&for_workspace("b"), "a"), Owner::Other("b".into()));
        assert_eq!(owner(&Tags::new(), "a"), Owner::Unowned);
        let mut half = for_workspace("a");
        half.remove(MANAGED);
        assert_eq!(owner(&half, "a"), Owner::This, "still ours, one tag to repair");
        assert_eq!(missing(&half, &for_workspace("a")).len(), 1);
        let only_managed = Tags::from([(MANAGED.to_string(), "true".to_string())]);
        assert_eq!(owner(&only_managed, "a"), Owner::Unowned);
    }
}
