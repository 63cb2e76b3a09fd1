//! Running the real `hoist` binary in an isolated environment.

#![allow(dead_code)] // each test file uses a different subset

use std::time::{Duration, Instant};

use hoist_testkit::IsolatedEnv;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    /// Panic with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

pub fn hoist(env: &IsolatedEnv, args: &[&str]) -> Run {
    hoist_program(std::path::Path::new(env!("CARGO_BIN_EXE_hoist")), env, args)
}

/// As [`hoist`], with another build of it (a benchmark's release binary).
pub fn hoist_program(program: &std::path::Path, env: &IsolatedEnv, args: &[&str]) -> Run {
    let started = Instant::now();
    let out = env.command(program).args(args).output().expect("run hoist");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// `hoist ARGS`, recording the AWS requests it sends to `calls`.
pub fn hoist_recorded(env: &IsolatedEnv, args: &[&str], calls: &std::path::Path) -> Run {
    let started = Instant::now();
    let out = env.command(env!("CARGO_BIN_EXE_hoist")).args(args).env("HOIST_RECORD_CALLS", calls).output().expect("run hoist");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// `hoist secret set NAME`, the value on stdin; fails if hoist printed it.
pub fn set_secret(env: &IsolatedEnv, name: &str, value: &str) {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = env
        .command(env!("CARGO_BIN_EXE_hoist"))
        .args(["secret", "set", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{value}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "secret set: {}", String::from_utf8_lossy(&out.stderr));
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!printed.contains(value.lines().nth(1).unwrap_or(value)), "secret set printed the value: {printed}");
}

/// Run hoist with its AWS calls recorded, and fail if it sent any
/// operation the catalog does not declare for this command
/// (`hoist_aws::commands`): code and declared policy cannot drift apart.
pub fn hoist_declared(env: &IsolatedEnv, args: &[&str]) -> Run {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let file = env.path().join(format!("calls-{}.jsonl", N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)));
    let started = Instant::now();
    let out = env
        .command(env!("CARGO_BIN_EXE_hoist"))
        .args(args)
        .env("HOIST_RECORD_CALLS", &file)
        .output()
        .expect("run hoist");
    assert_declared(args[0], &file);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

#[track_caller]
pub fn assert_declared(command: &str, calls_file: &std::path::Path) {
    let calls = hoist_aws::record::CallLog::read_file(calls_file).expect("read recorded calls");
    let undeclared: Vec<_> =
        calls.iter().filter(|c| !hoist_aws::commands::declares(command, &c.service, &c.operation)).collect();
    assert!(undeclared.is_empty(), "`hoist {command}` sent operations it does not declare: {undeclared:?}");
}

/// Proofs on the wire: what AWS would authorize for each recorded
/// request, decided by `hoist-iam` (for what the emulator does not judge).
pub mod proof {
    use hoist_aws::record::Call;
    use hoist_iam::{Context, Decision, Policy, Request, evaluate};
    use hoist_testkit::ACCOUNT;
    use hoist_testkit::wire::{Authz, Known, authorize};
    use serde_json::Value;

    /// Every authorization of every recorded request, in `known` state,
    /// named by its operation.
    pub fn authorizations(calls: &[Call], region: &str, known: &Known) -> Vec<(String, Authz)> {
        let mut out = Vec::new();
        for call in calls {
            let authz = authorize(call, ACCOUNT, region, "aws", known).unwrap_or_else(|e| panic!("{}:{}: {e}", call.service, call.operation));
            for a in authz {
                out.push((format!("{}:{}", call.service, call.operation), a));
            }
        }
        out
    }

    /// The decision for one authorization, over TLS in `region`.
    pub fn decide(policies: &[Policy], boundary: Option<&Policy>, region: &str, a: &Authz) -> Decision {
        let mut ctx = Context::new().with("aws:SecureTransport", "true").with("aws:RequestedRegion", region).with("aws:PrincipalAccount", ACCOUNT);
        for (k, v) in a.context_map() {
            ctx = ctx.with_all(&k, v);
        }
        evaluate(policies, boundary.map(std::slice::from_ref), &Request { action: &a.action, resource: &a.resource, context: &ctx }).decision
    }

    /// The policy `hoist policy COMMAND` prints for the test account and
    /// `region` (one document or several), parsed.
    pub fn generated(env: &hoist_testkit::IsolatedEnv, command: &str, region: &str) -> Vec<Policy> {
        let policy = super::hoist(env, &["policy", command, "--account", ACCOUNT, "--region", region, "-o", "json"]);
        let docs = match policy.expect_code(0).json() {
            Value::Array(d) => d,
            d => vec![d],
        };
        parse(&docs)
    }

    pub fn parse(docs: &[Value]) -> Vec<Policy> {
        docs.iter().map(|d| Policy::from_value(d).expect("a valid policy")).collect()
    }
}

/// Poll `check` every 100 ms for up to 60 s; panic naming `what`, with the
/// log of the `hoist` process being watched.
pub async fn eventually<F, Fut>(what: &str, log: &std::path::Path, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(60), "{what}: not after 60 s; hoist said:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `hoist policy COMMAND -o json` for the account and region: its documents
/// (the managed policies a user is given in the enforced-IAM tests).
pub fn policy_documents(env: &IsolatedEnv, command: &str, account: &str, region: &str) -> Vec<serde_json::Value> {
    match hoist(env, &["policy", command, "--account", account, "--region", region, "-o", "json"]).expect_code(0).json() {
        serde_json::Value::Array(docs) => docs,
        doc => vec![doc],
    }
}

/// The calls `hoist_recorded` wrote to `file` (none when it sent nothing).
pub fn recorded(file: &std::path::Path) -> Vec<hoist_aws::record::Call> {
    if file.exists() { hoist_aws::record::CallLog::read_file(file).unwrap() } else { Vec::new() }
}
