//! The workspace name: the namespace every hoist resource lives in.

use std::fmt;
use std::str::FromStr;

/// A validated workspace name. It becomes part of bucket, role and log
/// group names (`hoist-<workspace>-...`), so it must be valid in all of
/// them: lowercase letters, digits and single dashes, starting with a
/// letter, at most 16 characters (the bucket name
/// `hoist-<ws>-<account>-<region>` must fit in 63).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Workspace(String);

pub const MAX_LEN: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid workspace name {name:?}: {reason}")]
pub struct InvalidWorkspace {
    pub name: String,
    pub reason: &'static str,
}

impl FromStr for Workspace {
    type Err = InvalidWorkspace;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| Err(InvalidWorkspace { name: name.to_string(), reason });
        if name.is_empty() {
            return invalid("it is empty");
        }
        if name.len() > MAX_LEN {
            return invalid("it is longer than 16 characters");
        }
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return invalid("use only lowercase letters a-z, digits 0-9 and dashes");
        }
        if !name.as_bytes()[0].is_ascii_lowercase() {
            return invalid("it must start with a lowercase letter");
        }
        if name.ends_with('-') || name.contains("--") {
            return invalid("dashes must separate letters or digits (no trailing or double dash)");
        }
        Ok(Self(name.to_string()))
    }
}

impl Workspace {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Self("default".into())
    }
}

impl fmt::Display for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for ok in ["default", "a", "team-a", "exp42", "abcdefghijklmnop"] {
            assert_eq!(ok.parse::<Workspace>().unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_invalid_names_with_a_reason() {
        for (bad, why) in [
            ("", "empty"),
            ("abcdefghijklmnopq", "longer than 16"),
            ("Team", "lowercase"),
            ("team_a", "lowercase"),
            ("a.b", "lowercase"),
            ("1team", "start with a lowercase letter"),
            ("-team", "start with a lowercase letter"),
            ("team-", "dash"),
            ("te--am", "dash"),
        ] {
            let err = bad.parse::<Workspace>().unwrap_err();
            assert!(err.to_string().contains(why), "{bad:?}: {err}");
        }
    }
}
