//! Findings in a policy document, in the spirit of parliament and
//! cloudsplaining: grants that least privilege rules out.

use std::collections::BTreeSet;

use crate::model::{Effect, Policy, Statement, Targets};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Index of the statement in the document.
    pub statement: usize,
    pub sid: Option<String>,
    /// A stable identifier for the rule.
    pub rule: &'static str,
    pub message: String,
    /// For `unknown-action`: the action, so a caller can suggest another.
    pub subject: Option<String>,
}

/// Read-only actions by AWS's naming (the access level "Read" or "List").
pub fn is_read(action: &str) -> bool {
    let name = action.split_once(':').map(|(_, n)| n).unwrap_or(action);
    const READ: &[&str] =
        &["Get", "List", "Describe", "Head", "BatchGet", "Search", "Lookup", "Query", "Scan", "Select", "View", "Check", "Simulate"];
    !name.contains('*') && READ.iter().any(|p| name.starts_with(p))
}

/// Actions that change who may do what.
pub fn is_permissions_management(action: &str) -> bool {
    let lower = action.to_ascii_lowercase();
    let (service, name) = lower.split_once(':').unwrap_or(("", &lower));
    (service == "iam" && !is_read(action))
        || name.contains("policy") && !is_read(action)
        || name.ends_with("acl") && name.starts_with("put")
        || name.contains("grant") && !is_read(action)
        || name == "*"
}

fn has_condition_key(s: &Statement, key: &str) -> bool {
    s.condition.values().any(|keys| keys.keys().any(|k| k.eq_ignore_ascii_case(key)))
}

fn resources_have_wildcard(s: &Statement) -> bool {
    match &s.resource {
        Some(Targets::Only(list)) => list.iter().any(|r| r.contains('*')),
        Some(Targets::AllBut(_)) => true,
        None => false,
    }
}

fn resource_is_star(s: &Statement) -> bool {
    matches!(&s.resource, Some(Targets::Only(list)) if list.iter().any(|r| r == "*"))
}

/// Lint a policy. `known` holds the actions (lowercase) of the services
/// hoist knows; an action of such a service not in it is reported.
pub fn lint(policy: &Policy, known: &BTreeSet<String>) -> Vec<Finding> {
    let services: BTreeSet<&str> = known.iter().filter_map(|a| a.split_once(':').map(|(s, _)| s)).collect();
    let mut out = Vec::new();
    for (i, s) in policy.statements.iter().enumerate() {
        let mut find = |rule: &'static str, message: String, subject: Option<String>| {
            out.push(Finding { statement: i, sid: s.sid.clone(), rule, message, subject })
        };
        let text = format!("{s:?}");
        if text.contains("FullAccess") {
            find("full-access-policy", "refers to an AWS managed *FullAccess policy: far broader than any one tool needs".into(), None);
        }
        if s.effect != Effect::Allow {
            continue;
        }
        match &s.action {
            Targets::AllBut(_) => find("allow-not-action", "Allow with NotAction grants every action not listed, including ones AWS adds later".into(), None),
            Targets::Only(actions) => {
                for a in actions {
                    if a == "*" || a.ends_with(":*") {
                        find("service-wildcard", format!("{a:?} grants every action of the service"), None);
                    }
                }
                let star_resource = resource_is_star(s);
                let conditioned = !s.condition.is_empty();
                for a in actions.iter().filter(|a| !is_read(a)) {
                    if star_resource && !conditioned {
                        let kind = if is_permissions_management(a) { "permissions-management" } else { "write" };
                        find("write-on-any-resource", format!("{kind} action {a} on every resource (\"*\") without a condition"), None);
                    }
                }
                let passes_role = actions.iter().any(|a| {
                    let l = a.to_ascii_lowercase();
                    l == "iam:passrole" || l == "iam:*" || l == "*" || l == "iam:pass*"
                });
                if passes_role && resources_have_wildcard(s) && !has_condition_key(s, "iam:PassedToService") {
                    find(
                        "passrole-unscoped",
                        "iam:PassRole on a wildcard resource without an iam:PassedToService condition: any matching role can be handed to any service".into(),
                        None,
                    );
                }
                for a in actions.iter().filter(|a| !a.contains('*') && !a.contains('?')) {
                    let lower = a.to_ascii_lowercase();
                    let service = lower.split(':').next().unwrap_or("");
                    if services.contains(service) && !known.contains(&lower) {
                        find("unknown-action", format!("unknown action {a}"), Some(a.clone()));
                    }
                }
            }
        }
        if matches!(s.resource, Some(Targets::AllBut(_))) {
            find("allow-not-resource", "Allow with NotResource grants on every resource not listed".into(), None);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(doc: &str) -> Vec<&'static str> {
        let known: BTreeSet<String> = ["s3:getobject", "s3:putobject", "iam:passrole", "iam:createrole"].iter().map(|s| s.to_string()).collect();
        lint(&Policy::parse(doc).unwrap(), &known).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn each_rule_fires_on_its_example_and_not_on_a_scoped_policy() {
        assert_eq!(findings(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}"#), ["service-wildcard"]);
        assert_eq!(findings(r#"{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#), ["write-on-any-resource"]);
        assert!(findings(r#"{"Statement":[{"Effect":"Allow","Action":"iam:CreateRole","Resource":"*"}]}"#).contains(&"write-on-any-resource"));
        assert!(findings(r#"{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}"#).contains(&"passrole-unscoped"));
        assert_eq!(findings(r#"{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::1:role/r-*","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}]}"#), Vec::<&str>::new());
        assert_eq!(findings(r#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:s3:::b"}]}"#), ["allow-not-action"]);
        assert_eq!(findings(r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/*"}]}"#), ["allow-not-resource"]);
        assert_eq!(findings(r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::b/*"}]}"#), ["unknown-action"]);
        assert!(findings(r#"{"Statement":[{"Effect":"Allow","Action":"iam:AttachRolePolicy","Resource":"arn:aws:iam::1:role/r","Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/AmazonS3FullAccess"}}}]}"#).contains(&"full-access-policy"));
        // Scoped, read on *, and a Deny: clean.
        assert_eq!(findings(r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":"ec2:DescribeVpcs","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*"}]}"#), Vec::<&str>::new());
    }
}
