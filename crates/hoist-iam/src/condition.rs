//! Condition operators, as AWS documents them: String*, Numeric*, Date*,
//! Bool, BinaryEquals, IpAddress/NotIpAddress, Arn*, Null; the `IfExists`
//! suffix; the `ForAnyValue:` / `ForAllValues:` set prefixes.

use std::net::IpAddr;
use std::time::SystemTime;

use crate::eval::Context;
use crate::glob;

const BASE: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Single,
    AnyValue,
    AllValues,
}

struct Operator<'a> {
    set: Set,
    base: &'a str,
    if_exists: bool,
}

fn parse(op: &str) -> Result<Operator<'_>, String> {
    let (set, rest) = if let Some(r) = op.strip_prefix("ForAnyValue:") {
        (Set::AnyValue, r)
    } else if let Some(r) = op.strip_prefix("ForAllValues:") {
        (Set::AllValues, r)
    } else {
        (Set::Single, op)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    if !BASE.contains(&base) {
        return Err(format!("unknown condition operator {op:?}"));
    }
    if base == "Null" && (if_exists || set != Set::Single) {
        return Err(format!("{op:?}: Null takes neither IfExists nor a set prefix"));
    }
    Ok(Operator { set, base, if_exists })
}

pub fn check_operator(op: &str) -> Result<(), String> {
    parse(op).map(drop)
}

/// For a negated operator, its positive counterpart.
fn positive(base: &str) -> Option<&'static str> {
    Some(match base {
        "StringNotEquals" => "StringEquals",
        "StringNotEqualsIgnoreCase" => "StringEqualsIgnoreCase",
        "StringNotLike" => "StringLike",
        "NumericNotEquals" => "NumericEquals",
        "DateNotEquals" => "DateEquals",
        "NotIpAddress" => "IpAddress",
        "ArnNotEquals" => "ArnEquals",
        "ArnNotLike" => "ArnLike",
        _ => return None,
    })
}

/// One request value against one policy value, for a positive operator.
fn compare(base: &str, request: &str, policy: &str) -> bool {
    match base {
        "StringEquals" => request == policy,
        "StringEqualsIgnoreCase" => request.eq_ignore_ascii_case(policy),
        "StringLike" => glob::matches(policy, request, false),
        "NumericEquals" | "NumericLessThan" | "NumericLessThanEquals" | "NumericGreaterThan" | "NumericGreaterThanEquals" => {
            match (request.trim().parse::<f64>(), policy.trim().parse::<f64>()) {
                (Ok(r), Ok(p)) => ordered(base.trim_start_matches("Numeric"), r.partial_cmp(&p)),
                _ => false,
            }
        }
        "DateEquals" | "DateLessThan" | "DateLessThanEquals" | "DateGreaterThan" | "DateGreaterThanEquals" => {
            match (date(request), date(policy)) {
                (Some(r), Some(p)) => ordered(base.trim_start_matches("Date"), r.partial_cmp(&p)),
                _ => false,
            }
        }
        "Bool" => request.eq_ignore_ascii_case(policy),
        "BinaryEquals" => request == policy,
        "IpAddress" => cidr_contains(policy, request),
        "ArnEquals" | "ArnLike" => arn_like(policy, request),
        _ => false,
    }
}

fn ordered(relation: &str, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    matches!(
        (relation, ord),
        ("Equals", Some(Equal))
            | ("LessThan", Some(Less))
            | ("LessThanEquals", Some(Less | Equal))
            | ("GreaterThan", Some(Greater))
            | ("GreaterThanEquals", Some(Greater | Equal))
    )
}

/// ISO 8601 (`2020-01-01`, `2020-01-01T00:00:00Z`) or Unix epoch seconds.
fn date(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    }
    if s.len() == 10 {
        return humantime::parse_rfc3339_weak(&format!("{s}T00:00:00Z")).ok();
    }
    humantime::parse_rfc3339_weak(s.trim_end_matches('Z').trim_end_matches("+00:00"))
        .or_else(|_| humantime::parse_rfc3339_weak(s))
        .ok()
}

fn cidr_contains(cidr: &str, ip: &str) -> bool {
    let (net, len) = match cidr.split_once('/') {
        Some((n, l)) => (n, l.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let ip = ip.split('/').next().unwrap_or(ip);
    match (net.parse::<IpAddr>(), ip.parse::<IpAddr>()) {
        (Ok(IpAddr::V4(n)), Ok(IpAddr::V4(i))) => {
            let len = len.unwrap_or(32).min(32);
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (Ok(IpAddr::V6(n)), Ok(IpAddr::V6(i))) => {
            let len = len.unwrap_or(128).min(128);
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// ARNs compare component by component (the first five colons split them;
/// the sixth part, the resource, may itself contain colons), each with
/// wildcards.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| glob::matches(p, a, false))
}

/// Evaluate one `"Operator": {"key": [values]}` entry. `subst` resolves
/// policy variables in the policy's values (`None`: unresolvable, which
/// makes that value match nothing).
pub fn holds(op: &str, key: &str, values: &[String], ctx: &Context, subst: &dyn Fn(&str) -> Option<String>) -> bool {
    let Ok(op) = parse(op) else { return false };
    let request = ctx.get(key).filter(|v| !v.is_empty());
    if op.base == "Null" {
        let absent = request.is_none();
        return values.iter().any(|v| v.eq_ignore_ascii_case("true") == absent);
    }
    let policy: Vec<String> = values.iter().filter_map(|v| subst(v)).collect();
    let (base, negated) = match positive(op.base) {
        Some(p) => (p, true),
        None => (op.base, false),
    };
    // Whether one request value satisfies the operator.
    let one = |r: &str| {
        let any = policy.iter().any(|p| compare(base, r, p));
        if negated { !any } else { any }
    };
    match (op.set, request) {
        (_, None) if op.if_exists => true,
        (Set::Single, None) => negated,
        (Set::AnyValue, None) => false,
        (Set::AllValues, None) => true,
        (Set::Single, Some(vals)) => {
            // A multivalued key under a single-valued operator: for positive
            // operators any value may match; for negated ones, none may.
            if negated { vals.iter().all(|r| one(r)) } else { vals.iter().any(|r| one(r)) }
        }
        (Set::AnyValue, Some(vals)) => vals.iter().any(|r| one(r)),
        (Set::AllValues, Some(vals)) => vals.iter().all(|r| one(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::new();
        for (k, vs) in pairs {
            c = c.with_all(k, vs.iter().map(|v| v.to_string()).collect());
        }
        c
    }

    fn h(op: &str, key: &str, values: &[&str], c: &Context) -> bool {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        holds(op, key, &values, c, &|v| Some(v.to_string()))
    }

    #[test]
    fn string_numeric_date_bool_ip_arn() {
        let c = ctx(&[
            ("aws:username", &["alice"]),
            ("s3:max-keys", &["10"]),
            ("aws:CurrentTime", &["2026-06-01T12:00:00Z"]),
            ("aws:SecureTransport", &["true"]),
            ("aws:SourceIp", &["203.0.113.7"]),
            ("aws:SourceArn", &["arn:aws:sagemaker:us-east-1:123456789012:training-job/x"]),
        ]);
        assert!(h("StringEquals", "aws:username", &["bob", "alice"], &c));
        assert!(h("StringEquals", "AWS:UserName", &["alice"], &c), "keys are case-insensitive");
        assert!(!h("StringEquals", "aws:username", &["Alice"], &c));
        assert!(h("StringEqualsIgnoreCase", "aws:username", &["ALICE"], &c));
        assert!(h("StringLike", "aws:username", &["al*"], &c));
        assert!(h("StringNotEquals", "aws:username", &["bob"], &c));
        assert!(!h("StringNotEquals", "aws:username", &["alice", "bob"], &c));
        assert!(h("NumericLessThanEquals", "s3:max-keys", &["10"], &c));
        assert!(!h("NumericLessThan", "s3:max-keys", &["10"], &c));
        assert!(h("DateGreaterThan", "aws:CurrentTime", &["2026-01-01T00:00:00Z"], &c));
        assert!(h("DateLessThan", "aws:CurrentTime", &["2027-01-01"], &c));
        assert!(h("Bool", "aws:SecureTransport", &["True"], &c));
        assert!(h("IpAddress", "aws:SourceIp", &["203.0.113.0/24"], &c));
        assert!(!h("IpAddress", "aws:SourceIp", &["198.51.100.0/24"], &c));
        assert!(h("NotIpAddress", "aws:SourceIp", &["198.51.100.0/24"], &c));
        assert!(h("ArnLike", "aws:SourceArn", &["arn:aws:sagemaker:us-east-1:123456789012:*"], &c));
        assert!(!h("ArnLike", "aws:SourceArn", &["arn:aws:sagemaker:*:999999999999:*"], &c));
        assert!(h("ArnEquals", "aws:SourceArn", &["arn:aws:sagemaker:*:123456789012:training-job/*"], &c));
    }

    #[test]
    fn missing_keys_if_exists_and_null() {
        let c = ctx(&[]);
        assert!(!h("StringEquals", "aws:SourceAccount", &["1"], &c), "a missing key fails a positive operator");
        assert!(h("StringNotEquals", "aws:SourceAccount", &["1"], &c), "and satisfies a negated one");
        assert!(h("StringEqualsIfExists", "aws:SourceAccount", &["1"], &c));
        assert!(h("Null", "aws:SourceAccount", &["true"], &c));
        assert!(!h("Null", "aws:SourceAccount", &["false"], &c));
        let c = ctx(&[("aws:SourceAccount", &["2"])]);
        assert!(!h("StringEqualsIfExists", "aws:SourceAccount", &["1"], &c), "IfExists still applies when present");
        assert!(h("Null", "aws:SourceAccount", &["false"], &c));
    }

    #[test]
    fn set_operators() {
        let tags = ctx(&[("aws:TagKeys", &["env", "team"])]);
        assert!(h("ForAllValues:StringEquals", "aws:TagKeys", &["env", "team", "cost"], &tags));
        assert!(!h("ForAllValues:StringEquals", "aws:TagKeys", &["env"], &tags));
        assert!(h("ForAnyValue:StringEquals", "aws:TagKeys", &["team"], &tags));
        assert!(!h("ForAnyValue:StringEquals", "aws:TagKeys", &["cost"], &tags));
        let none = ctx(&[]);
        assert!(h("ForAllValues:StringEquals", "aws:TagKeys", &["env"], &none), "vacuously true");
        assert!(!h("ForAnyValue:StringEquals", "aws:TagKeys", &["env"], &none));
    }

    #[test]
    fn operators_are_validated() {
        assert!(check_operator("ForAnyValue:StringLikeIfExists").is_ok());
        assert!(check_operator("StringEqualz").is_err());
        assert!(check_operator("NullIfExists").is_err());
    }
}
