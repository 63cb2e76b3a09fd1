//! Cases from AWS's documentation of policy evaluation, condition
//! operators and policy variables.

use super::*;
use crate::model::Policy;

struct Case {
    name: &'static str,
    policies: &'static [&'static str],
    boundary: Option<&'static [&'static str]>,
    action: &'static str,
    resource: &'static str,
    context: &'static [(&'static str, &'static str)],
    expect: Decision,
}

const ALLOW_GET: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;

const CASES: &[Case] = &[
    Case { name: "allowed action and resource", policies: &[ALLOW_GET], boundary: None, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &[], expect: Decision::Allow },
    Case { name: "other action is implicitly denied", policies: &[ALLOW_GET], boundary: None, action: "s3:PutObject", resource: "arn:aws:s3:::b/k", context: &[], expect: Decision::ImplicitDeny },
    Case { name: "other bucket is implicitly denied", policies: &[ALLOW_GET], boundary: None, action: "s3:GetObject", resource: "arn:aws:s3:::c/k", context: &[], expect: Decision::ImplicitDeny },
    Case { name: "no policy at all denies", policies: &[], boundary: None, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &[], expect: Decision::ImplicitDeny },
    Case { name: "action names are case-insensitive", policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"S3:getobject","Resource":"*"}]}"#], boundary: None, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &[], expect: Decision::Allow },
    Case { name: "resource ARNs are case-sensitive", policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::B/*"}]}"#], boundary: None, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &[], expect: Decision::ImplicitDeny },
    Case {
        name: "explicit deny overrides allow",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}"#],
        boundary: None, action: "s3:DeleteObject", resource: "arn:aws:s3:::b/k", context: &[], expect: Decision::ExplicitDeny,
    },
    Case {
        name: "deny in one policy overrides allow in another",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#],
        boundary: None, action: "iam:CreateUser", resource: "arn:aws:iam::123456789012:user/x", context: &[], expect: Decision::ExplicitDeny,
    },
    Case {
        name: "NotAction allow covers other services",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#],
        boundary: None, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &[], expect: Decision::Allow,
    },
    Case {
        name: "NotAction allow does not cover the excluded service",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#],
        boundary: None, action: "iam:CreateUser", resource: "*", context: &[], expect: Decision::ImplicitDeny,
    },
    Case {
        name: "NotResource deny fences the account to one bucket",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}"#],
        boundary: None, action: "s3:GetObject", resource: "arn:aws:s3:::other/k", context: &[], expect: Decision::ExplicitDeny,
    },
    Case {
        name: "NotResource deny leaves the fenced bucket allowed",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}"#],
        boundary: None, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &[], expect: Decision::Allow,
    },
    Case {
        name: "policy variable: own home folder",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}"#],
        boundary: None, action: "s3:PutObject", resource: "arn:aws:s3:::home/alice/notes.txt", context: &[("aws:username", "alice")], expect: Decision::Allow,
    },
    Case {
        name: "policy variable: someone else's folder",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}"#],
        boundary: None, action: "s3:PutObject", resource: "arn:aws:s3:::home/bob/notes.txt", context: &[("aws:username", "alice")], expect: Decision::ImplicitDeny,
    },
    Case {
        name: "policy variable without a value matches nothing",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}"#],
        boundary: None, action: "s3:PutObject", resource: "arn:aws:s3:::home//x", context: &[], expect: Decision::ImplicitDeny,
    },
    Case {
        name: "policy variable default value",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username, 'shared'}/*"}]}"#],
        boundary: None, action: "s3:PutObject", resource: "arn:aws:s3:::home/shared/x", context: &[], expect: Decision::Allow,
    },
    Case {
        name: "variables are literal text in 2008-10-17 documents",
        policies: &[r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}"#],
        boundary: None, action: "s3:PutObject", resource: "arn:aws:s3:::home/alice/x", context: &[("aws:username", "alice")], expect: Decision::ImplicitDeny,
    },
    Case {
        name: "Bool deny without MFA: key false",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},{"Effect":"Deny","Action":"ec2:StopInstances","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#],
        boundary: None, action: "ec2:StopInstances", resource: "*", context: &[("aws:MultiFactorAuthPresent", "false")], expect: Decision::ExplicitDeny,
    },
    Case {
        name: "Bool deny without MFA: key absent (long-term keys) is NOT denied",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},{"Effect":"Deny","Action":"ec2:StopInstances","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#],
        boundary: None, action: "ec2:StopInstances", resource: "*", context: &[], expect: Decision::Allow,
    },
    Case {
        name: "BoolIfExists deny without MFA: key absent is denied",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},{"Effect":"Deny","Action":"ec2:StopInstances","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#],
        boundary: None, action: "ec2:StopInstances", resource: "*", context: &[], expect: Decision::ExplicitDeny,
    },
    Case {
        name: "region condition",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}]}"#],
        boundary: None, action: "ec2:RunInstances", resource: "*", context: &[("aws:RequestedRegion", "ap-south-1")], expect: Decision::ImplicitDeny,
    },
    Case {
        name: "terminate only instances tagged with the workspace",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:TerminateInstances","Resource":"arn:aws:ec2:us-east-1:123456789012:instance/*","Condition":{"StringEquals":{"aws:ResourceTag/hoist:workspace":"ws"}}}]}"#],
        boundary: None, action: "ec2:TerminateInstances", resource: "arn:aws:ec2:us-east-1:123456789012:instance/i-1", context: &[("aws:ResourceTag/hoist:workspace", "other")], expect: Decision::ImplicitDeny,
    },
    Case {
        name: "PassRole only to SageMaker",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/hoist-ws-*","Condition":{"StringEquals":{"iam:PassedToService":"sagemaker.amazonaws.com"}}}]}"#],
        boundary: None, action: "iam:PassRole", resource: "arn:aws:iam::123456789012:role/hoist-ws-sagemaker", context: &[("iam:PassedToService", "lambda.amazonaws.com")], expect: Decision::ImplicitDeny,
    },
    Case {
        name: "time window",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2026-12-31T23:59:59Z"}}}]}"#],
        boundary: None, action: "s3:ListBucket", resource: "arn:aws:s3:::b", context: &[("aws:CurrentTime", "2026-11-22T12:00:00Z")], expect: Decision::Allow,
    },
    Case {
        name: "source IP range",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#],
        boundary: None, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &[("aws:SourceIp", "198.51.100.9")], expect: Decision::ExplicitDeny,
    },
    Case {
        name: "boundary intersects: identity allows, boundary does not",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","iam:*"],"Resource":"*"}]}"#],
        boundary: Some(&[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#]),
        action: "iam:CreateUser", resource: "*", context: &[], expect: Decision::ImplicitDeny,
    },
    Case {
        name: "boundary intersects: both allow",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","iam:*"],"Resource":"*"}]}"#],
        boundary: Some(&[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#]),
        action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &[], expect: Decision::Allow,
    },
    Case {
        name: "boundary alone grants nothing",
        policies: &[],
        boundary: Some(&[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#]),
        action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &[], expect: Decision::ImplicitDeny,
    },
    Case {
        name: "boundary deny wins",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#],
        boundary: Some(&[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#]),
        action: "s3:DeleteBucket", resource: "arn:aws:s3:::b", context: &[], expect: Decision::ExplicitDeny,
    },
    Case {
        name: "a trust-policy statement (no Resource) grants nothing to an identity",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#],
        boundary: None, action: "sts:AssumeRole", resource: "arn:aws:iam::123456789012:role/r", context: &[], expect: Decision::ImplicitDeny,
    },
    Case {
        name: "? wildcard matches one character",
        policies: &[r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:logs:us-east-1:123456789012:log-group:/hoist/w?/*"}]}"#],
        boundary: None, action: "logs:PutLogEvents", resource: "arn:aws:logs:us-east-1:123456789012:log-group:/hoist/w1/jobs:log-stream:j/1", context: &[], expect: Decision::Allow,
    },
];

#[test]
fn documented_evaluation_examples() {
    let mut failures = Vec::new();
    for case in CASES {
        let parse = |docs: &[&str]| docs.iter().map(|d| Policy::parse(d).unwrap_or_else(|e| panic!("{}: {e}", case.name))).collect::<Vec<_>>();
        let policies = parse(case.policies);
        let boundary = case.boundary.map(parse);
        let mut ctx = Context::new();
        for (k, v) in case.context {
            ctx = ctx.with(k, *v);
        }
        let req = Request { action: case.action, resource: case.resource, context: &ctx };
        let got = evaluate(&policies, boundary.as_deref(), &req);
        if got.decision != case.expect {
            failures.push(format!("{}: expected {:?}, got {:?}", case.name, case.expect, got));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases wrong:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn the_deciding_statements_are_reported() {
    let p = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}"#).unwrap();
    let ctx = Context::new();
    let e = evaluate(std::slice::from_ref(&p), None, &Request { action: "s3:DeleteObject", resource: "arn:aws:s3:::b/k", context: &ctx });
    assert_eq!(e.decided_by.len(), 1);
    assert_eq!(e.decided_by[0].sid.as_deref(), Some("NoDelete"));
    let e = evaluate(&[p], None, &Request { action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &ctx });
    assert_eq!((e.decision, e.decided_by[0].sid.as_deref()), (Decision::Allow, Some("All")));
}
