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
        .replace("{sagemaker_role}", &n.sagemaker_role_resource)
        .replace("{instance_role}", &n.instance_role)
        .replace("{instance_profile}", &n.instance_profile_resource)
        .replace("{boundary_name}", &n.boundary)
        .replace("{kms_key}", n.kms_key_arn.as_deref().unwrap_or("{kms_key}"))
        .replace("{caller_role}", n.caller_role.as_deref().unwrap_or("{caller_role}"))
        .replace("{workspace}", &n.workspace)
        .replace("{bucket}", &n.bucket)
}

/// Whether a need is left out for these names: writes to an
/// administrator's role or instance profile (hoist only reads them), and
/// anything on the instance role behind an administrator's profile (hoist
/// reads it through the profile); and what names a KMS key or a caller's
/// role when there is none.
fn excluded(action: &str, template: &str, n: &Names) -> bool {
    if (template.contains("{kms_key}") && n.kms_key_arn.is_none()) || (template.contains("{caller_role}") && n.caller_role.is_none()) {
        return true;
    }
    let iam_write = action.starts_with("iam:") && !["iam:Get", "iam:List"].iter().any(|p| action.starts_with(p));
    (n.given_sagemaker_role && iam_write && template.contains("{sagemaker_role}"))
        || (n.given_instance_profile && (template.contains("{instance_role}") || (iam_write && template.contains("{instance_profile}"))))
}

/// One thing a command needs: an action, on a resource, under a condition
/// (the `Condition` block as canonical JSON; empty for none).
pub type Need = (String, String, String);

fn condition_json(conds: &[hoist_aws::catalog::Cond], n: &Names) -> String {
    if conds.is_empty() {
        return String::new();
    }
    let mut block: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for c in conds {
        block.entry(c.operator.to_string()).or_default().insert(c.key.to_string(), fill(c.value, n));
    }
    serde_json::to_string(&block).expect("json")
}

/// Every (action, resource, condition) the commands need. With a KMS key,
/// commands that read or write object data also need KMS on that key.
pub fn grants(commands: &[&str], n: &Names) -> BTreeSet<Need> {
    let mut out = BTreeSet::new();
    for command in commands {
        let mut ops = hoist_aws::commands::ops(command);
        if n.kms_key_arn.is_some() && ops.iter().any(hoist_aws::commands::touches_object_data) {
            ops.extend_from_slice(hoist_aws::commands::KMS_FOR_OBJECTS);
        }
        for op in ops {
            for g in op.grants {
                let condition = condition_json(g.conditions, n);
                for action in g.actions {
                    for resource in g.resources {
                        if !excluded(action, resource, n) {
                            out.insert((action.to_string(), fill(resource, n), condition.clone()));
                        }
                    }
                }
            }
        }
    }
    out
}

/// A whole policy document for these needs (an execution role's, or the
/// boundary), with readable Sids. Role policies stay far below IAM's
/// 10,240-character limit for a role's inline policies.
pub fn document(grants: &BTreeSet<Need>, n: &Names) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements(grants, n)})
}

/// The request context under which a need is exercised: the values its
/// condition names (hoist only calls when they hold).
pub fn context_of(need: &Need) -> Vec<(String, String)> {
    let block: BTreeMap<String, BTreeMap<String, String>> = serde_json::from_str(&need.2).unwrap_or_default();
    block.into_values().flat_map(|keys| keys.into_iter()).collect()
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

/// Group needs into statements: one per (resource, condition), actions
/// sorted, so an administrator reads what may be done to each thing.
fn grouped(grants: &BTreeSet<Need>, mut sid_for: impl FnMut(&str, usize) -> String) -> Vec<Value> {
    let mut groups: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for (action, resource, condition) in grants {
        groups.entry((resource, condition)).or_default().insert(action);
    }
    let mut used = BTreeSet::new();
    groups
        .into_iter()
        .enumerate()
        .map(|(i, ((resource, condition), actions))| {
            let base = sid_for(resource, i);
            let mut id = base.clone();
            let mut k = 2;
            while !used.insert(id.clone()) {
                id = format!("{base}{k}");
                k += 1;
            }
            let actions: Vec<&str> = actions.into_iter().collect();
            let mut s = json!({"Sid": id, "Effect": "Allow", "Action": actions, "Resource": resource});
            if !condition.is_empty() {
                s["Condition"] = serde_json::from_str(condition).expect("canonical condition");
            }
            s
        })
        .collect()
}

/// The policy statements for these needs, with readable Sids.
pub fn statements(grants: &BTreeSet<Need>, n: &Names) -> Vec<Value> {
    grouped(grants, |resource, _| sid(resource, n))
}

/// Statements numbered `Hoist1`, `Hoist2`... (for a subset of needs, as
/// `hoist check` hands over).
pub fn statements_plain(grants: &BTreeSet<Need>) -> Vec<Value> {
    grouped(grants, |_, i| format!("Hoist{}", i + 1))
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
        for (action, resource, condition) in &g {
            assert!(!resource.contains('{') && !condition.contains("{workspace}"), "{action} on {resource} if {condition}");
        }
        let has = |a: &str, r: &str| g.iter().any(|(x, y, _)| x == a && y == r);
        assert!(has("s3:CreateBucket", "arn:aws:s3:::hoist-default-123456789012-us-east-1"));
        assert!(has("iam:PassRole", "arn:aws:iam::123456789012:role/hoist-default-instance"));
        assert!(has("iam:TagRole", "arn:aws:iam::123456789012:role/hoist-default-sagemaker"));
        assert!(!g.iter().any(|(_, r, _)| r.contains("role/hoist-default-*")), "no role wildcard: workspace default-2 would match");
        let delete_sg = g.iter().find(|(a, _, _)| a == "ec2:DeleteSecurityGroup").unwrap();
        assert_eq!(context_of(delete_sg), vec![("aws:ResourceTag/hoist:workspace".to_string(), "default".to_string())]);
    }

    #[test]
    fn a_kms_key_adds_kms_on_that_key_to_whoever_touches_object_data() {
        let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let n = names().with_settings(Some(key), None, None).unwrap();
        let agent = grants(&["agent"], &n);
        for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
            assert!(agent.iter().any(|(a, r, _)| a == action && r == key), "{action}: {agent:?}");
        }
        assert!(grants(&["sagemaker"], &n).iter().any(|(a, r, _)| a == "kms:Decrypt" && r == key));
        // The user's init writes no object data: no KMS.
        assert!(!grants(&["init", "status"], &n).iter().any(|(a, _, _)| a.starts_with("kms:")));
        // Without a key, none anywhere.
        assert!(!grants(&["agent", "sagemaker"], &names()).iter().any(|(a, _, _)| a.starts_with("kms:")));
    }

    #[test]
    fn an_administrators_roles_are_read_never_written() {
        let n = names().with_settings(None, Some("arn:aws:iam::123456789012:role/ml/Trainer"), Some("TrainerProfile")).unwrap();
        let g = grants(&["init", "destroy"], &n);
        let on = |r: &str| g.iter().filter(|(_, x, _)| x == r).map(|(a, _, _)| a.clone()).collect::<Vec<_>>();
        let role = on("arn:aws:iam::123456789012:role/ml/Trainer");
        assert!(role.contains(&"iam:GetRole".to_string()), "{g:?}");
        assert!(role.iter().all(|a| a.starts_with("iam:Get") || a.starts_with("iam:List")), "{role:?}");
        let profile = on("arn:aws:iam::123456789012:instance-profile/TrainerProfile");
        assert_eq!(profile, vec!["iam:GetInstanceProfile".to_string()]);
        assert!(!g.iter().any(|(_, r, _)| r.contains("hoist-default-instance") || r.contains("hoist-default-sagemaker")), "{g:?}");
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
        ("run, jobs, logs, cancel (jobs on EC2 and SageMaker)", "run"),
        ("deploy, endpoints, invoke (SageMaker endpoints)", "deploy"),
        ("secret", "secret"),
        ("check (reading your own policies; `hoist policy check`, not part of `all`)", "check"),
        ("the agent on an instance (the instance role's policy)", "agent"),
        ("SageMaker running a job or an endpoint (the SageMaker role's policy)", "sagemaker"),
    ] {
        md.push_str(&format!("\n## {command}\n\n| operation | IAM actions | resources | condition |\n|---|---|---|---|\n"));
        for op in hoist_aws::commands::ops(catalog) {
            if op.grants.is_empty() {
                md.push_str(&format!("| {op} | (none needed) | | |\n"));
            }
            for g in op.grants {
                let resources: Vec<String> = g.resources.iter().map(|r| format!("`{}`", fill(r, &n))).collect();
                let condition = condition_json(g.conditions, &n);
                let condition = if condition.is_empty() { String::new() } else { format!("`{condition}`") };
                md.push_str(&format!("| {op} | {} | {} | {condition} |\n", g.actions.join(", "), resources.join("<br>")));
            }
        }
    }
    md.push_str(
        "\n## An administrator's only\n\nThe permissions boundary's life cycle. `init` and `destroy` perform these only \
         when the caller may (an administrator); they are never in a user's policy, since a user who could \
         edit the boundary could widen it. Without them, `init` needs the boundary to exist and `destroy` \
         leaves it.\n\n| command | operation | IAM actions | resources |\n|---|---|---|---|\n",
    );
    for command in ["init", "destroy"] {
        for op in hoist_aws::commands::admin_ops(command) {
            for g in op.grants {
                let resources: Vec<String> = g.resources.iter().map(|r| format!("`{}`", fill(r, &n))).collect();
                md.push_str(&format!("| {command} | {op} | {} | {} |\n", g.actions.join(", "), resources.join("<br>")));
            }
        }
    }
    let docs = documents(statements(&grants(&["init", "status", "destroy"], &n), &n));
    md.push_str("\n## The whole policy (`hoist policy all`, self-service mode)\n\n```json\n");
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
