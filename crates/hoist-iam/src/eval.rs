//! Evaluating identity-based policies within one account, as AWS documents
//! it: an explicit Deny in any policy wins; otherwise an Allow is needed;
//! otherwise the request is implicitly denied. A permissions boundary
//! intersects: it must allow as well, and its Deny also wins.

use std::collections::BTreeMap;

use crate::condition;
use crate::glob;
use crate::model::{Effect, Policy, Statement, Targets};

/// Request context: condition keys (case-insensitive) to their values.
/// Also the source of policy variables (`${aws:username}`).
#[derive(Debug, Clone, Default)]
pub struct Context {
    values: BTreeMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(self, key: &str, value: impl Into<String>) -> Self {
        self.with_all(key, vec![value.into()])
    }

    pub fn with_all(mut self, key: &str, values: Vec<String>) -> Self {
        self.values.insert(key.to_ascii_lowercase(), values);
        self
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// A statement that took part in the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// Index of the policy in the list given.
    pub policy: usize,
    pub statement: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// The statement is in the permissions boundary.
    pub boundary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// For Allow: the allowing statements; for an explicit deny: the denying
    /// ones; for an implicit deny: empty (or, when only the boundary failed
    /// to allow, the identity statements that would have allowed).
    pub decided_by: Vec<Matched>,
}

/// Replace `${key}` (and `${key, 'default'}`, `${*}`, `${?}`, `${$}`) from the
/// context. `None` when a variable has no value and no default: the element
/// then matches nothing, as in AWS.
fn substitute<'a>(text: &'a str, ctx: &Context) -> Option<std::borrow::Cow<'a, str>> {
    if !text.contains("${") {
        return Some(std::borrow::Cow::Borrowed(text));
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let inner = after[..end].trim();
        let (key, default) = match inner.split_once(',') {
            Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\'').to_string())),
            None => (inner, None),
        };
        let value = match key {
            "*" => Some("*".to_string()),
            "?" => Some("?".to_string()),
            "$" => Some("$".to_string()),
            k => ctx.get(k).and_then(|v| v.first().cloned()).or(default),
        }?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(std::borrow::Cow::Owned(out))
}

fn action_matches(targets: &Targets, action: &str) -> bool {
    // Action names are case-insensitive.
    let hit = |list: &[String]| list.iter().any(|p| glob::matches(p, action, true));
    match targets {
        Targets::Only(list) => hit(list),
        Targets::AllBut(list) => !hit(list),
    }
}

fn resource_matches(targets: Option<&Targets>, resource: &str, ctx: &Context, variables: bool) -> bool {
    let hit = |list: &[String]| {
        list.iter().any(|p| {
            let p = if variables { substitute(p, ctx) } else { Some(std::borrow::Cow::Borrowed(p.as_str())) };
            p.is_some_and(|p| glob::matches(&p, resource, false))
        })
    };
    match targets {
        Some(Targets::Only(list)) => hit(list),
        Some(Targets::AllBut(list)) => !hit(list),
        None => false,
    }
}

fn conditions_hold(s: &Statement, ctx: &Context, variables: bool) -> bool {
    let subst = |v: &str| if variables { substitute(v, ctx).map(|c| c.into_owned()) } else { Some(v.to_string()) };
    s.condition.iter().all(|(op, keys)| keys.iter().all(|(key, values)| condition::holds(op, key, values, ctx, &subst)))
}

/// Whether one statement applies to the request.
pub fn statement_applies(s: &Statement, req: &Request, variables: bool) -> bool {
    action_matches(&s.action, req.action)
        && resource_matches(s.resource.as_ref(), req.resource, req.context, variables)
        && conditions_hold(s, req.context, variables)
}

fn matching(policies: &[Policy], req: &Request, boundary: bool) -> Vec<Matched> {
    let mut out = Vec::new();
    for (pi, p) in policies.iter().enumerate() {
        let variables = p.substitutes_variables();
        for (si, s) in p.statements.iter().enumerate() {
            if statement_applies(s, req, variables) {
                out.push(Matched { policy: pi, statement: si, sid: s.sid.clone(), effect: s.effect, boundary });
            }
        }
    }
    out
}

/// Decide `req` against the caller's identity policies and, if set, a
/// permissions boundary.
pub fn evaluate(policies: &[Policy], boundary: Option<&[Policy]>, req: &Request) -> Evaluation {
    let identity = matching(policies, req, false);
    let bounds = boundary.map(|b| matching(b, req, true)).unwrap_or_default();
    let denies: Vec<Matched> = identity.iter().chain(&bounds).filter(|m| m.effect == Effect::Deny).cloned().collect();
    if !denies.is_empty() {
        return Evaluation { decision: Decision::ExplicitDeny, decided_by: denies };
    }
    let allows: Vec<Matched> = identity.into_iter().filter(|m| m.effect == Effect::Allow).collect();
    if allows.is_empty() {
        return Evaluation { decision: Decision::ImplicitDeny, decided_by: Vec::new() };
    }
    if boundary.is_some() && !bounds.iter().any(|m| m.effect == Effect::Allow) {
        return Evaluation { decision: Decision::ImplicitDeny, decided_by: allows };
    }
    Evaluation { decision: Decision::Allow, decided_by: allows }
}

#[cfg(test)]
mod tests;
