//! Decisions per second of the evaluator, on a policy shaped like the one
//! `hoist policy all` generates (twenty statements, scoped ARNs, a
//! condition) and a mix of allowed and denied requests.
//!
//!     cargo run --release -p hoist-iam --example decisions

use std::time::Instant;

use hoist_iam::{Context, Decision, Policy, Request, evaluate};

fn main() {
    let mut statements = Vec::new();
    for i in 0..18 {
        statements.push(format!(
            r#"{{"Sid":"S{i}","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","iam:GetRole","logs:PutLogEvents"],"Resource":"arn:aws:s3:::hoist-ws{i}-123456789012-us-east-1/*"}}"#
        ));
    }
    statements.push(r#"{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/hoist-default-*","Condition":{"StringEquals":{"iam:PassedToService":"sagemaker.amazonaws.com"}}}"#.into());
    statements.push(r#"{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}"#.into());
    let policy = Policy::parse(&format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","))).unwrap();
    let policies = [policy];
    let ctx = Context::new().with("iam:PassedToService", "sagemaker.amazonaws.com").with("aws:username", "alice");
    let requests = [
        ("s3:GetObject", "arn:aws:s3:::hoist-ws17-123456789012-us-east-1/jobs/a/job.json"),
        ("s3:GetObject", "arn:aws:s3:::someone-else/x"),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/hoist-default-sagemaker"),
        ("s3:DeleteBucket", "arn:aws:s3:::hoist-ws1-123456789012-us-east-1"),
    ];
    const N: usize = 400_000;
    let started = Instant::now();
    let mut allowed = 0usize;
    for i in 0..N {
        let (action, resource) = requests[i % requests.len()];
        if evaluate(&policies, None, &Request { action, resource, context: &ctx }).decision == Decision::Allow {
            allowed += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(allowed, N / 2);
    println!("{:.0} decisions/s ({N} decisions against a 20-statement policy in {secs:.2} s)", N as f64 / secs);
}
