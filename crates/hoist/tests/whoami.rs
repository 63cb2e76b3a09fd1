//! `hoist whoami` against the emulator, and the error paths every AWS
//! command shares: missing credentials, unreachable endpoint, bad input.

mod common;

use std::time::Duration;

use common::hoist;
use hoist_testkit::{ACCOUNT, Emulator, IsolatedEnv};

#[test]
fn whoami_text_names_caller_account_region_endpoint_workspace() {
    let emu = Emulator::start();
    let run = hoist(&emu.env(), &["whoami"]);
    run.expect_code(0);
    let line = |key: &str| {
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no `{key}` line in:\n{}", run.stdout))
    };
    assert_eq!(line("account"), ACCOUNT);
    assert!(line("caller").starts_with("arn:aws:"), "{}", run.stdout);
    assert!(line("caller").contains(ACCOUNT));
    assert_eq!(line("partition"), "aws");
    assert_eq!(line("region"), "us-east-1");
    assert_eq!(line("endpoint"), emu.endpoint());
    assert_eq!(line("workspace"), "default");
}

#[test]
fn whoami_json_with_explicit_endpoint_flag() {
    let emu = Emulator::start();
    let mut env = emu.env();
    env.remove("AWS_ENDPOINT_URL");
    let run = hoist(&env, &["whoami", "--endpoint-url", emu.endpoint(), "--output", "json", "-w", "team-a"]);
    run.expect_code(0);
    let v = run.json();
    assert_eq!(v["account"], ACCOUNT);
    assert_eq!(v["partition"], "aws");
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["endpoint"], emu.endpoint());
    assert_eq!(v["workspace"], "team-a");
    assert!(v["arn"].as_str().unwrap().contains(ACCOUNT));
    assert!(run.stderr.is_empty(), "nothing on stderr for a JSON success: {}", run.stderr);
}

#[test]
fn region_from_flag_is_used_and_other_regions_work() {
    let emu = Emulator::start();
    let run = hoist(&emu.env(), &["whoami", "--region", "eu-west-1", "-o", "json"]);
    run.expect_code(0);
    assert_eq!(run.json()["region"], "eu-west-1");
}

#[test]
fn missing_credentials_exit_3_and_explain_how_to_provide_them() {
    let emu = Emulator::start();
    let mut env = emu.env();
    env.remove("AWS_ACCESS_KEY_ID").remove("AWS_SECRET_ACCESS_KEY");
    let run = hoist(&env, &["whoami"]);
    run.expect_code(3);
    assert!(run.stderr.starts_with("error: sts:GetCallerIdentity failed: no usable AWS credentials"), "{}", run.stderr);
    for how in ["AWS_ACCESS_KEY_ID", "--profile", "sso login", "instance role"] {
        assert!(run.stderr.contains(how), "message lacks {how:?}:\n{}", run.stderr);
    }
    assert!(run.stdout.is_empty());
}

#[test]
fn rejected_credentials_exit_3() {
    // Under IAM enforcement moto rejects keys it never issued, as AWS does.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(Emulator::start_with(hoist_testkit::EmulatorOptions {
        enforce_iam: true,
        ..Default::default()
    }));
    let bogus = hoist_testkit::Keys { access_key_id: "AKIABOGUSBOGUSBOGUS1".into(), secret_access_key: "nope".into() };
    let run = hoist(&emu.env_for(&bogus), &["whoami"]);
    run.expect_code(3);
    assert!(run.stderr.contains("InvalidClientTokenId"), "{}", run.stderr);
}

#[test]
fn unreachable_endpoint_fails_fast_with_exit_4_naming_it() {
    // A loopback port with nothing listening: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut env = IsolatedEnv::new();
    env.set("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE").set("AWS_SECRET_ACCESS_KEY", "x");
    let run = hoist(&env, &["whoami", "--region", "us-east-1", "--endpoint-url", &endpoint]);
    run.expect_code(4);
    assert!(run.elapsed < Duration::from_secs(10), "took {:?}", run.elapsed);
    assert!(run.stderr.contains(&format!("could not reach {endpoint}")), "{}", run.stderr);
    assert!(run.stderr.contains("sts:GetCallerIdentity"), "{}", run.stderr);
    assert!(!run.stderr.contains("Backtrace") && !run.stderr.contains("  0: "), "{}", run.stderr);
}

#[test]
fn no_region_anywhere_is_a_usage_error() {
    let emu = Emulator::start();
    let mut env = emu.env();
    env.remove("AWS_REGION");
    let run = hoist(&env, &["whoami"]);
    run.expect_code(2);
    assert!(run.stderr.contains("no AWS region is configured"), "{}", run.stderr);
    assert!(run.stderr.contains("--region"), "{}", run.stderr);
}

/// `-v` says where each setting came from and what talking to AWS cost;
/// without it, stderr stays empty. (status and run print the same.)
#[test]
fn verbose_names_the_settings_sources_and_the_requests_sent() {
    let emu = Emulator::start();
    let mut env = emu.env();
    env.set("AWS_REGION", "us-east-1");
    let plain = hoist(&env, &["whoami"]);
    plain.expect_code(0);
    assert_eq!(plain.stderr, "", "without -v");
    for command in [&["whoami", "-v"][..], &["status", "-v"][..]] {
        let run = hoist(&env, command);
        assert!(run.code == 0 || run.code == 1, "{command:?}: {}", run.stderr);
        assert!(run.stderr.contains("region us-east-1 (from environment AWS_REGION)"), "{command:?}: {}", run.stderr);
        assert!(run.stderr.contains("workspace default (from default)"), "{command:?}: {}", run.stderr);
        let requests = run.stderr.lines().find(|l| l.contains("AWS requests")).unwrap_or_else(|| panic!("{command:?}: {}", run.stderr));
        let n: u64 = requests.split_whitespace().find_map(|w| w.parse().ok()).expect("a count");
        assert!(n >= 1, "{requests}");
        assert!(!run.stderr.contains('\u{1b}'), "no colour off a terminal: {:?}", run.stderr);
    }
    // A local run: how its code was bundled and stored.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("code")).unwrap();
    std::fs::write(dir.path().join("code/train.py"), "print(1)\n").unwrap();
    std::fs::write(dir.path().join("task.yaml"), "workdir: code\nrun: cat train.py\n").unwrap();
    let run = hoist(&env, &["run", dir.path().join("task.yaml").to_str().unwrap(), "-v"]);
    run.expect_code(0);
    assert!(run.stderr.contains("bundle: ") && run.stderr.contains("compressed, packed in"), "{}", run.stderr);
    assert!(run.stderr.contains("stored at file://"), "{}", run.stderr);
}
