//! Global options, configuration precedence and `--help`, through the real
//! binary. None of these need the emulator: they must work offline.

mod common;

use clap::CommandFactory;
use common::hoist;
use hoist_testkit::IsolatedEnv;

fn setting<'a>(report: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    report["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {report}"))
}

#[test]
fn config_precedence_is_flag_then_env_then_file_then_default() {
    let mut env = IsolatedEnv::new();
    env.write_hoist_config("region = \"eu-west-1\"\nworkspace = \"from-file\"\noutput = \"json\"\n");
    let config_path = env.hoist_config_path();

    // File only.
    let run = hoist(&env, &["config", "show"]);
    run.expect_code(0);
    let v = run.json(); // output = "json" from the file took effect
    assert_eq!(setting(&v, "region")["value"], "eu-west-1");
    assert_eq!(setting(&v, "region")["source"]["kind"], "file");
    assert_eq!(setting(&v, "region")["source"]["line"], 1);
    assert_eq!(setting(&v, "workspace")["value"], "from-file");
    assert_eq!(setting(&v, "output")["source"]["kind"], "file");
    assert_eq!(v["config_file"]["path"], config_path.to_str().unwrap());
    assert_eq!(v["config_file"]["exists"], true);

    // Environment beats the file.
    env.set("AWS_REGION", "us-west-2").set("HOIST_WORKSPACE", "from-env");
    let v = hoist(&env, &["config", "show"]).json();
    assert_eq!(setting(&v, "region")["value"], "us-west-2");
    assert_eq!(setting(&v, "region")["source"]["var"], "AWS_REGION");
    assert_eq!(setting(&v, "workspace")["value"], "from-env");

    // Flags beat the environment.
    let v = hoist(&env, &["config", "show", "--region", "ap-south-1", "-w", "from-flag"]).json();
    assert_eq!(setting(&v, "region")["value"], "ap-south-1");
    assert_eq!(setting(&v, "region")["source"]["flag"], "--region");
    assert_eq!(setting(&v, "workspace")["value"], "from-flag");

    // Defaults when nothing is set.
    let bare = IsolatedEnv::new();
    let v = hoist(&bare, &["config", "show", "-o", "json"]).json();
    assert_eq!(setting(&v, "workspace")["value"], "default");
    assert_eq!(setting(&v, "workspace")["source"]["kind"], "default");
    assert_eq!(v["config_file"]["exists"], false);
}

#[test]
fn config_show_text_lists_each_key_with_its_source() {
    let mut env = IsolatedEnv::new();
    env.set("HOIST_WORKSPACE", "team-a");
    let run = hoist(&env, &["config", "show", "--region", "eu-north-1"]);
    run.expect_code(0);
    let row = |key: &str| run.stdout.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(row("region").contains("eu-north-1") && row("region").ends_with("flag --region"), "{}", run.stdout);
    assert!(row("workspace").contains("team-a") && row("workspace").ends_with("environment HOIST_WORKSPACE"));
    assert!(row("profile").contains("(not set)"));
    assert!(run.stdout.contains("config file:"));
}

#[test]
fn bad_config_file_is_a_usage_error_naming_file_line_and_key() {
    let env = IsolatedEnv::new();
    env.write_hoist_config("region = \"eu-west-1\"\nworksapce = \"x\"\n");
    let run = hoist(&env, &["config", "show"]);
    run.expect_code(2);
    let expected = format!("error: {}:2: unknown key `worksapce` (did you mean `workspace`?)", env.hoist_config_path().display());
    assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
}

#[test]
fn invalid_workspace_names_exit_2_from_any_source() {
    let env = IsolatedEnv::new();
    for bad in ["Team", "a_b", "this-name-is-far-too-long", "9lives"] {
        let run = hoist(&env, &["config", "show", "--workspace", bad]);
        run.expect_code(2);
        assert!(run.stderr.contains("invalid workspace name"), "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("flag --workspace"), "{bad}: {}", run.stderr);
    }
    let mut env = IsolatedEnv::new();
    env.set("HOIST_WORKSPACE", "UPPER");
    let run = hoist(&env, &["whoami"]);
    run.expect_code(2);
    assert!(run.stderr.contains("environment HOIST_WORKSPACE: invalid workspace name \"UPPER\""), "{}", run.stderr);
}

/// Rust users often have RUST_BACKTRACE=1 set: an ordinary error still
/// prints its message chain only.
#[test]
fn errors_print_no_backtrace_even_with_rust_backtrace_set() {
    let mut env = IsolatedEnv::new();
    env.set("RUST_BACKTRACE", "1").set("HOIST_MODE", "bogus");
    let run = hoist(&env, &["config", "show"]);
    run.expect_code(2);
    assert!(run.stderr.contains("invalid mode \"bogus\": expected `self-service` or `admin`"), "{}", run.stderr);
    assert!(!run.stderr.contains("anyhow") && !run.stderr.contains("  0: ") && run.stderr.lines().count() <= 2, "{}", run.stderr);
}

#[test]
fn unknown_flag_and_bad_output_format_are_usage_errors() {
    let env = IsolatedEnv::new();
    hoist(&env, &["whoami", "--no-such-flag"]).expect_code(2);
    let run = hoist(&env, &["whoami", "--output", "yaml"]);
    run.expect_code(2);
    assert!(run.stderr.contains("possible values: text, json"), "{}", run.stderr);
    hoist(&env, &[]).expect_code(2);
}

/// Every command and subcommand, found from the CLI definition itself so
/// that a new command is covered without editing this test.
fn all_command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            let mut path = prefix.clone();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, path, out);
        }
    }
    let mut out = vec![vec![]];
    walk(&hoist::cli::Cli::command(), vec![], &mut out);
    out
}

#[test]
fn help_works_for_every_command() {
    let env = IsolatedEnv::new();
    let paths = all_command_paths();
    assert!(paths.len() >= 4, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let run = hoist(&env, &args);
        run.expect_code(0);
        let usage = format!("Usage: hoist {}", path.join(" "));
        assert!(run.stdout.contains(usage.trim_end()), "{args:?}:\n{}", run.stdout);
        assert!(run.stdout.contains("--workspace"), "global options shown for {args:?}");
    }
}

#[test]
fn broken_pipe_is_not_an_error() {
    let env = IsolatedEnv::new();
    // Text and JSON alike (`hoist ... -o json | head -1`).
    for extra in [&[][..], &["-o", "json"][..]] {
        let mut child = env
            .command(env!("CARGO_BIN_EXE_hoist"))
            .args(["policy", "init", "--account", "123456789012", "--region", "us-east-1"])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away before hoist writes
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty(), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn policy_works_offline_with_every_arn_filled_in() {
    let env = IsolatedEnv::new();
    let run = hoist(&env, &["policy", "all", "--account", "210987654321", "--region", "eu-west-1", "-w", "team-a", "-o", "json"]);
    run.expect_code(0);
    // All of it is larger than one managed policy: several documents, each
    // within IAM's size limit.
    let docs = match run.json() {
        serde_json::Value::Array(docs) => docs,
        doc => vec![doc],
    };
    let text = serde_json::Value::Array(docs.clone()).to_string();
    assert!(text.contains("arn:aws:s3:::hoist-team-a-210987654321-eu-west-1"), "{text}");
    assert!(text.contains("arn:aws:iam::210987654321:role/hoist-team-a-sagemaker"), "{text}");
    assert!(text.contains("arn:aws:secretsmanager:eu-west-1:210987654321:secret:hoist/team-a/*"), "{text}");
    assert!(!text.contains("role/hoist-team-a-*"), "exact role names, no prefix wildcard: {text}");
    assert!(!text.contains("{account}") && !text.contains("{bucket}") && !text.contains("{region}"), "no template left: {text}");
    for doc in &docs {
        let statements = doc["Statement"].as_array().unwrap();
        assert!(statements.iter().all(|s| s["Effect"] == "Allow" && s["Sid"].is_string()));
        // Parses as a policy, within IAM's managed-policy size.
        hoist_iam::Policy::from_value(doc).unwrap();
        assert!(serde_json::to_string(doc).unwrap().len() <= 6_144);
    }

    let roles = hoist(&env, &["policy", "--roles", "--account", "210987654321", "--region", "eu-west-1", "-o", "json"]).json();
    assert_eq!(roles["hoist-default-sagemaker"]["trust"]["Statement"][0]["Principal"]["Service"], "sagemaker.amazonaws.com");
    assert!(roles["hoist-default-instance"]["inline"]["hoist"]["Statement"].is_array());

    // `run` (jobs in AWS) launches only with the workspace's instance role,
    // passed to EC2 alone.
    let run = hoist(&env, &["policy", "run", "--account", "210987654321", "--region", "eu-west-1", "-o", "json"]);
    let text = run.expect_code(0).stdout.clone();
    assert!(text.contains("ec2:RunInstances") && text.contains("\"iam:PassedToService\": \"ec2.amazonaws.com\""), "{text}");
    // In admin mode `destroy` is the administrator's: nothing for a user.
    let run = hoist(&env, &["policy", "destroy", "--mode", "admin", "--account", "210987654321", "--region", "eu-west-1"]);
    run.expect_code(0);
    assert!(run.stderr.contains("need no AWS permission"), "{}", run.stderr);
}

#[test]
fn policy_input_errors_are_usage_errors() {
    let env = IsolatedEnv::new();
    let run = hoist(&env, &["policy", "intt", "--account", "210987654321", "--region", "eu-west-1"]);
    run.expect_code(2);
    assert!(run.stderr.contains("did you mean `init`?"), "{}", run.stderr);
    let run = hoist(&env, &["policy", "--account", "12345"]);
    run.expect_code(2);
    assert!(run.stderr.contains("12-digit"), "{}", run.stderr);
    let run = hoist(&env, &["policy", "--account", "210987654321"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--region"), "{}", run.stderr);
}

#[test]
fn hoists_own_policies_lint_clean_and_bad_ones_do_not() {
    let env = IsolatedEnv::new();
    let offline = ["--account", "210987654321", "--region", "eu-west-1", "-o", "json"];
    let lint = |doc: &serde_json::Value, name: &str| {
        let path = env.path().join(name);
        std::fs::write(&path, doc.to_string()).unwrap();
        hoist(&env, &["policy", "lint", path.to_str().unwrap()])
    };
    let mut docs = Vec::new();
    for what in [&["policy", "all"][..], &["policy", "check"][..]] {
        let mut args = what.to_vec();
        args.extend(offline);
        docs.push((what.join(" "), hoist(&env, &args).json()));
    }
    let mut args = vec!["policy", "--roles"];
    args.extend(offline);
    let roles = hoist(&env, &args).json();
    for (role, p) in roles.as_object().unwrap() {
        docs.push((format!("{role} trust"), p["trust"].clone()));
        docs.push((format!("{role} inline"), p["inline"]["hoist"].clone()));
    }
    assert_eq!(docs.len(), 6);
    for (i, (name, doc)) in docs.iter().enumerate() {
        let run = lint(doc, &format!("p{i}.json"));
        assert_eq!(run.code, 0, "{name} has findings:\n{}", run.stdout);
        assert_eq!(run.stdout.trim(), "no findings");
    }

    let bad = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Everything", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["iam:PassRole", "s3:GetObjekt"], "Resource": "*"},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}
    ]});
    let run = lint(&bad, "bad.json");
    run.expect_code(1);
    for needle in [
        "statement 0 (Everything): service-wildcard",
        "statement 0 (Everything): write-on-any-resource",
        "statement 1: passrole-unscoped",
        "statement 1: unknown-action: unknown action s3:GetObjekt (did you mean s3:GetObject?)",
        "statement 2: allow-not-action",
    ] {
        assert!(run.stdout.contains(needle), "no {needle:?} in:\n{}", run.stdout);
    }
    let broken = env.path().join("broken.json");
    std::fs::write(&broken, r#"{"Statement":[{"Effect":"Maybe","Action":"s3:GetObject","Resource":"*"}]}"#).unwrap();
    let run = hoist(&env, &["policy", "lint", broken.to_str().unwrap()]);
    run.expect_code(2);
    assert!(run.stderr.contains("/Statement/0/Effect"), "{}", run.stderr);
}

/// A bad region or partition is refused before anything is sent or an ARN
/// is printed; an empty one means "none"; with no region, the SDK's own
/// instance-metadata warnings stay out of the way (IMDS here: a closed
/// loopback port).
#[test]
fn regions_and_partitions_are_checked_up_front() {
    let env = IsolatedEnv::new();
    for args in [
        &["whoami", "--region", "us east 1"][..],
        &["policy", "--account", "123456789012", "--region", "us east"][..],
        &["policy", "--account", "123456789012", "--region", "us-east-1", "--partition", "aws-xx"][..],
    ] {
        let run = hoist(&env, args);
        run.expect_code(2);
        assert!(run.stderr.contains("invalid"), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?} printed: {}", run.stdout);
    }
    let mut env = IsolatedEnv::new();
    env.set("AWS_REGION", "").remove("AWS_EC2_METADATA_DISABLED").set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9");
    for region_var in [true, false] {
        if !region_var {
            env.remove("AWS_REGION");
        }
        let run = hoist(&env, &["whoami"]);
        run.expect_code(2);
        assert!(run.stderr.starts_with("error: no AWS region is configured"), "{}", run.stderr);
        assert!(!run.stderr.contains("IMDS") && !run.stderr.contains('\u{1b}'), "{}", run.stderr);
    }
}

/// `--profile` naming no profile says so (not the SDK's "failed to load
/// IMDS session token"), and lists the profiles there are.
#[test]
fn an_unknown_profile_is_named() {
    let env = IsolatedEnv::new();
    std::fs::write(env.path().join("home/.aws/config"), "[profile work]\nregion = eu-west-1\n").unwrap();
    let run = hoist(&env, &["whoami", "--profile", "nosuch"]);
    run.expect_code(2);
    assert!(run.stderr.contains("AWS profile \"nosuch\" not found"), "{}", run.stderr);
    assert!(!run.stderr.contains("IMDS") && run.stderr.contains("(it has: work)"), "{}", run.stderr);
}

/// Small things a new user trips over: an explicitly named config file
/// that is missing, and `policy lint` handed an empty list.
#[test]
fn a_named_config_file_must_exist_and_lint_needs_a_document() {
    let mut env = IsolatedEnv::new();
    let missing = env.path().join("nope.toml");
    env.set("HOIST_CONFIG", &missing);
    let run = hoist(&env, &["config", "show"]);
    run.expect_code(2);
    assert!(run.stderr.contains("HOIST_CONFIG") && run.stderr.contains("not found"), "{}", run.stderr);

    let env = IsolatedEnv::new();
    let empty = env.path().join("empty.json");
    std::fs::write(&empty, "[]").unwrap();
    let run = hoist(&env, &["policy", "lint", empty.to_str().unwrap()]);
    run.expect_code(2);
    assert!(run.stderr.contains("an empty list"), "{}", run.stderr);
}

/// `run --resume` runs the job as submitted: flags that would change it are
/// refused (exit 2), never silently ignored.
#[test]
fn resume_refuses_flags_it_would_ignore() {
    let env = IsolatedEnv::new();
    for extra in [&["-e", "K=V"][..], &["--name", "other"][..], &["--backend", "local"][..]] {
        let mut args = vec!["run", "--resume", "job-12345678"];
        args.extend(extra);
        let run = hoist(&env, &args);
        run.expect_code(2);
        assert!(run.stderr.contains("cannot be used with"), "{extra:?}: {}", run.stderr);
    }
}

/// Completions and the man page come from the CLI definition: every
/// command is in them, and the bash script is valid bash.
#[test]
fn completions_and_man_page_cover_every_command() {
    let env = IsolatedEnv::new();
    let bash = hoist(&env, &["completions", "bash"]);
    bash.expect_code(0);
    for command in ["init", "status", "destroy", "policy", "check", "run", "jobs", "logs", "cancel", "whoami", "config"] {
        assert!(bash.stdout.contains(command), "bash completion lacks {command}");
    }
    assert!(bash.stdout.contains("--mode") && bash.stdout.contains("self-service"), "flags and their values");
    let script = env.path().join("hoist.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let check = std::process::Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    for shell in ["zsh", "fish"] {
        let run = hoist(&env, &["completions", shell]);
        run.expect_code(0);
        assert!(run.stdout.contains("destroy"), "{shell}");
    }
    let man = hoist(&env, &["man"]);
    man.expect_code(0);
    assert!(man.stdout.contains(".TH hoist 1") && man.stdout.contains("destroy"), "{}", &man.stdout[..200.min(man.stdout.len())]);
    // They need no settings: a broken config does not stop them.
    let mut broken = IsolatedEnv::new();
    broken.set("HOIST_MODE", "bogus");
    hoist(&broken, &["completions", "fish"]).expect_code(0);
}
