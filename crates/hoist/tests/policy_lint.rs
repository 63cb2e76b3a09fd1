//! parliament and cloudsplaining (pinned in tests/lint/requirements.txt,
//! installed next to the emulator) over every policy document hoist
//! generates: the user's policy in both modes, both roles' inline and
//! trust policies, the permissions boundary, and the bucket's TLS-only
//! policy. Each finding is either fixed or listed in
//! tests/lint/accepted.json with the reason it is accepted; a new finding
//! fails, and so does an accepted entry nothing matches any more.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::hoist;
use hoist_testkit::{ACCOUNT, IsolatedEnv};
use serde_json::{Map, Value, json};

fn policy(env: &IsolatedEnv, extra: &[&str]) -> Value {
    let mut args = vec!["policy", "-w", "team", "--account", ACCOUNT, "--region", "us-east-1", "-o", "json"];
    args.extend(extra);
    let r = hoist(env, &args);
    r.expect_code(0);
    r.json()
}

fn documents() -> Map<String, Value> {
    let env = IsolatedEnv::new();
    let mut docs = Map::new();
    // `all` is split into several managed policies when it outgrows one.
    for (name, mode) in [("user-self-service", "self-service"), ("user-admin", "admin")] {
        match policy(&env, &["all", "--mode", mode]) {
            Value::Array(parts) => {
                for (i, part) in parts.into_iter().enumerate() {
                    docs.insert(format!("{name}-{}", i + 1), part);
                }
            }
            doc => {
                docs.insert(name.into(), doc);
            }
        }
    }
    docs.insert("user-check".into(), policy(&env, &["check"]));
    docs.insert("boundary".into(), policy(&env, &["--boundary"]));
    let roles = policy(&env, &["--roles"]);
    for (role, short) in [("hoist-team-sagemaker", "sagemaker"), ("hoist-team-instance", "instance")] {
        docs.insert(format!("role-{short}-inline"), roles[role]["inline"]["hoist"].clone());
        docs.insert(format!("role-{short}-trust"), roles[role]["trust"].clone());
    }
    // The bucket policy: from the admin template, as init also writes it.
    let cfn = policy(&env, &["--mode", "admin", "--format", "cloudformation"]);
    docs.insert("bucket-policy".into(), cfn["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"].clone());
    for (name, doc) in &docs {
        assert!(doc["Statement"].is_array(), "{name}: {doc}");
    }
    docs
}

/// `*` matches any run of characters; nothing else is special.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            text.starts_with(head) && (head.len()..=text.len()).any(|i| text.is_char_boundary(i) && glob(rest, &text[i..]))
        }
    }
}

#[test]
fn generated_policies_have_only_accepted_linter_findings() {
    let python = std::env::var("HOIST_EMULATOR_PYTHON")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv/bin/python").to_string());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/lint/lint_policies.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python}: {e} (run scripts/test, which installs the linters into .venv)"));
    let input = json!({"documents": documents()});
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the linters failed");
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = findings["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "the linters ran and found nothing at all: suspicious");

    let accepted: Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/lint/accepted.json")).unwrap()).unwrap();
    let accepted = accepted["accepted"].as_array().unwrap();
    let mut used = vec![false; accepted.len()];
    let mut new = Vec::new();
    for f in findings {
        let s = |k: &str| f[k].as_str().unwrap_or_default();
        let hit = accepted.iter().position(|a| {
            let a_s = |k: &str| a[k].as_str().unwrap_or("*");
            a_s("tool") == s("tool") && glob(a_s("document"), s("document")) && glob(a_s("id"), s("id")) && glob(a_s("detail"), s("detail"))
        });
        match hit {
            Some(i) => used[i] = true,
            None => new.push(format!("{} {} {}: {}", s("document"), s("tool"), s("id"), s("detail"))),
        }
    }
    assert!(new.is_empty(), "new linter findings (fix them, or accept each with its reason in tests/lint/accepted.json):\n{}", new.join("\n"));
    let stale: Vec<String> = accepted.iter().zip(&used).filter(|(_, u)| !**u).map(|(a, _)| a.to_string()).collect();
    assert!(stale.is_empty(), "accepted findings that no longer occur (remove them):\n{}", stale.join("\n"));
    eprintln!("linters: {} findings on {} documents, all accepted with a reason", findings.len(), input["documents"].as_object().unwrap().len());
}
