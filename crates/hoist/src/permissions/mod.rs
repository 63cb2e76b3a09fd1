//! The caller's IAM policy, generated from the operation catalog: for the
//! commands asked for, every operation they declare
//! (`hoist_aws::commands`), each action on its resource, filled in for the
//! caller's partition, account, region and workspace. Nothing to edit by
//! hand, and nothing the code does not do.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::footprint::names::Names;

pub mod templates;

/// IAM's limit on a managed policy document, whitespace not counted.
pub const MAX_MANAGED_POLICY_CHARS: usize = 6_144;

/// Fill a catalog resource template for these names.
pub fn fill(template: &str, n: &Names) -> String {
    template
        .replace("{partition}", &n.partition)
        .replace("{account}", &n.account)
        .replace("{region}", &n.region)
        .replace("{workspace}", &n.workspace)
        .replace("{bucket}", &n.bucket)
}

/// Grants the catalog's operations imply beyond their own actions, with
/// their own resources: AddRoleToInstanceProfile also checks iam:PassRole
/// on the role being placed in the profile.
fn hidden(op: &hoist_aws::Op, n: &Names) -> Vec<(String, String)> {
    use hoist_aws::catalog::iam;
    if *op == iam::ADD_ROLE_TO_INSTANCE_PROFILE {
        return vec![(
            "iam:PassRole".into(),
            format!("arn:{}:iam::{}:role/{}", n.partition, n.account, n.instance_role),
        )];
    }
    Vec::new()
}

/// Every (action, resource) the commands need.
pub fn grants(commands: &[&str], n: &Names) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for command in commands {
        for op in hoist_aws::commands::ops(command) {
            for action in op.actions {
                out.insert((action.to_string(), fill(op.resource, n)));
            }
            out.extend(hidden(&op, n));
        }
    }
    out
}

/// A readable statement id for a resource ARN: `ArtifactBucket`,
/// `ArtifactObjects`, `IamRole`, `Ec2SecurityGroup`, `NoResourceLevel`...
fn sid(resource: &str, n: &Names) -> String {
    let bucket = format!("arn:{}:s3:::{}", n.partition, n.bucket);
    if resource == "*" {
        return "NoResourceLevel".into();
    }
    if resource == bucket {
        return "ArtifactBucket".into();
    }
    if resource.starts_with(&format!("{bucket}/")) {
        return "ArtifactObjects".into();
    }
    let camel = |s: &str| -> String {
        s.split(['-', '_'])
            .filter(|w| !w.is_empty())
            .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
            .collect()
    };
    let service = resource.split(':').nth(2).unwrap_or("");
    let kind = resource.splitn(6, ':').nth(5).unwrap_or("").split([':', '/']).next().unwrap_or("");
    format!("{}{}", camel(service), camel(kind))
}

/// Statements grouped by resource, actions sorted: one statement per
/// resource, so an administrator reads what may be done to each thing.
pub fn statements(grants: &BTreeSet<(String, String)>, n: &Names) -> Vec<Value> {
    let mut by_resource: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (action, resource) in grants {
        by_resource.entry(resource).or_default().insert(action);
    }
    let mut used = BTreeSet::new();
    by_resource
        .into_iter()
        .map(|(resource, actions)| {
            let mut id = sid(resource, n);
            let base = id.clone();
            let mut k = 2;
            while !used.insert(id.clone()) {
                id = format!("{base}{k}");
                k += 1;
            }
            let actions: Vec<&str> = actions.into_iter().collect();
            json!({"Sid": id, "Effect": "Allow", "Action": actions, "Resource": resource})
        })
        .collect()
}

/// Statements for grants whose names are not known (no workspace names to
/// label them by): one per resource, numbered.
pub fn statements_plain(grants: &BTreeSet<(String, String)>) -> Vec<Value> {
    let mut by_resource: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (action, resource) in grants {
        by_resource.entry(resource).or_default().insert(action);
    }
    by_resource
        .into_iter()
        .enumerate()
        .map(|(i, (resource, actions))| {
            let actions: Vec<&str> = actions.into_iter().collect();
            json!({"Sid": format!("Hoist{}", i + 1), "Effect": "Allow", "Action": actions, "Resource": resource})
        })
        .collect()
}

/// Characters IAM counts: the document without whitespace outside strings.
pub fn counted_chars(doc: &Value) -> usize {
    serde_json::to_string(doc).map(|s| s.len()).unwrap_or(usize::MAX)
}

/// One document, or several each within the managed-policy limit.
pub fn documents(statements: Vec<Value>) -> Vec<Value> {
    let wrap = |s: Vec<Value>| json!({"Version": "2012-10-17", "Statement": s});
    let mut docs = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    for s in statements {
        current.push(s);
        if counted_chars(&wrap(current.clone())) > MAX_MANAGED_POLICY_CHARS && current.len() > 1 {
            let last = current.pop().expect("pushed");
            docs.push(wrap(std::mem::take(&mut current)));
            current.push(last);
        }
    }
    if !current.is_empty() {
        docs.push(wrap(current));
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::new("default", "123456789012", "us-east-1", "aws").unwrap()
    }

    #[test]
    fn every_arn_is_filled_in() {
        let n = names();
        let g = grants(&["init", "destroy", "agent"], &n);
        for (action, resource) in &g {
            assert!(!resource.contains('{'), "{action} on {resource}");
        }
        assert!(g.contains(&("s3:CreateBucket".into(), "arn:aws:s3:::hoist-default-123456789012-us-east-1".into())));
        assert!(g.contains(&("iam:PassRole".into(), "arn:aws:iam::123456789012:role/hoist-default-instance".into())));
        assert!(g.contains(&("iam:TagRole".into(), "arn:aws:iam::123456789012:role/hoist-default-*".into())));
    }

    #[test]
    fn documents_stay_within_the_managed_policy_limit() {
        let n = names();
        let many: Vec<Value> = (0..400)
            .map(|i| json!({"Sid": format!("S{i}"), "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": format!("arn:aws:s3:::bucket-{i}/*")}))
            .collect();
        let docs = documents(many);
        assert!(docs.len() > 1);
        for d in &docs {
            assert!(counted_chars(d) <= MAX_MANAGED_POLICY_CHARS, "{}", counted_chars(d));
        }
        let total: usize = docs.iter().map(|d| d["Statement"].as_array().unwrap().len()).sum();
        assert_eq!(total, 400);
        let _ = n;
    }
}

/// `docs/PERMISSIONS.md`, generated from the catalog (a test keeps the
/// file in step with the code).
pub fn markdown() -> String {
    let n = Names::new("WORKSPACE", "ACCOUNT", "REGION", "aws").expect("placeholder names fit");
    let mut md = String::from(
        "# Permissions\n\n\
         Generated from hoist's operation catalog (`crates/hoist-aws/src/catalog.rs`,\n\
         `crates/hoist-aws/src/commands.rs`) by `HOIST_UPDATE_DOCS=1 cargo test -p hoist --lib permissions`;\n\
         a test fails when this file is stale. Do not edit by hand.\n\n\
         `hoist policy` prints the same policy filled in for your account, region and\n\
         workspace; `hoist policy --roles` prints the execution roles' policies.\n\
         Here ACCOUNT, REGION and WORKSPACE stand for yours.\n\n\
         `hoist run` on the local backend (the default) needs no AWS permission.\n",
    );
    for (command, catalog) in [
        ("init", "init"),
        ("status", "status"),
        ("destroy", "destroy"),
        ("check (reading your own policies; `hoist policy check`, not part of `all`)", "check"),
        ("the agent on an instance", "agent"),
    ] {
        md.push_str(&format!("\n## {command}\n\n| operation | IAM actions | resource |\n|---|---|---|\n"));
        for op in hoist_aws::commands::ops(catalog) {
            let actions = if op.actions.is_empty() { "(none needed)".to_string() } else { op.actions.join(", ") };
            md.push_str(&format!("| {op} | {actions} | `{}` |\n", fill(op.resource, &n)));
            for (action, resource) in hidden(&op, &n) {
                md.push_str(&format!("| {op} (also) | {action} | `{resource}` |\n"));
            }
        }
    }
    let docs = documents(statements(&grants(&["init", "status", "destroy"], &n), &n));
    md.push_str("\n## The whole policy (`hoist policy all`)\n\n```json\n");
    for d in docs {
        md.push_str(&serde_json::to_string_pretty(&d).expect("json"));
        md.push('\n');
    }
    md.push_str("```\n");
    md
}

#[cfg(test)]
mod docs_tests {
    #[test]
    fn permissions_doc_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/PERMISSIONS.md");
        let want = super::markdown();
        if std::env::var_os("HOIST_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/PERMISSIONS.md is stale: run `HOIST_UPDATE_DOCS=1 cargo test -p hoist --lib permissions` and commit it"
        );
    }
}
