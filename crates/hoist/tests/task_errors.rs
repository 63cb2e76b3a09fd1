//! Malformed and invalid task files: each is refused before anything is
//! created, with an error naming file:line:column, the field, and what was
//! expected.

mod common;

use common::hoist;
use hoist_testkit::IsolatedEnv;

/// (file contents, line, column or 0 for "any", field, text the message must contain)
const CASES: &[(&str, usize, usize, Option<&str>, &str)] = &[
    ("", 1, 1, None, "the file is empty"),
    ("# only a comment\n", 1, 1, None, "a task needs at least a `run` command"),
    ("name: t\nrunn: python train.py\n", 2, 1, Some("runn"), "unknown field `runn` (did you mean `run`?)"),
    ("run: x\nresources:\n  instance_typ: g5.xlarge\n", 3, 3, Some("resources.instance_typ"), "did you mean `instance_type`?"),
    ("run: x\nresources:\n  disk_size: big\n", 3, 14, Some("resources.disk_size"), "it should be a whole number of GiB"),
    ("run: x\nresources:\n  use_spot: maybe\n", 3, 13, Some("resources.use_spot"), "it should be true or false"),
    ("run: x\nenvs: [A, B]\n", 2, 7, Some("envs"), "it should be a mapping of names to values"),
    ("run: x\nartifacts: model.pt\n", 2, 12, Some("artifacts"), "it should be a list of paths"),
    ("name: t\nsetup: echo hi\n", 1, 1, Some("run"), "missing: a task needs a `run` command"),
    ("name: My Task\nrun: x\n", 1, 7, Some("name"), "expected letters, digits, `-`, `_` and `.`"),
    ("run: x\nworkdir: ./no-such-dir\n", 2, 10, Some("workdir"), "is not a directory"),
    ("run: x\nenvs:\n  1BAD: v\n", 3, 9, Some("envs.1BAD"), "not a valid environment variable name"),
    ("run: x\nenvs:\n  HOIST_JOB_ID: mine\n", 3, 17, Some("envs.HOIST_JOB_ID"), "reserved"),
    ("run: x\nsecrets:\n  TOKEN: hunter2\n", 3, 3, Some("secrets.TOKEN"), "secret values do not belong in a task file"),
    ("run: x\nbackend: ec3\n", 2, 10, Some("backend"), "did you mean `ec2`?"),
    ("run: x\nresources:\n  max_runtime: forever\n", 3, 16, Some("resources.max_runtime"), "invalid duration"),
    ("run: x\nresources:\n  accelerators: A10G:many\n", 3, 17, Some("resources.accelerators"), "invalid accelerator count"),
    ("run: x\ncheckpoints: ../outside\n", 2, 14, Some("checkpoints"), "must stay inside the working copy"),
    ("run: x\nfile_mounts:\n  /data: s3://bucket\n", 2, 1, Some("file_mounts"), "SkyPilot field is not supported"),
    ("name: a\nrun:\n", 2, 1, Some("run"), "is empty: give the command"),
    ("run: x\nnum_nodes: 0\n", 2, 12, Some("num_nodes"), "0 machines: expected 1 to 64"),
    ("run: x\nworkdir:\n  url: https://github.com/a/b\n  ref: main\n", 3, 3, Some("workdir"), "clone it in `setup`"),
    ("run: x\nresources:\n  accelerators: [A100:8\n", 3, 17, Some("resources.accelerators"), "this is not valid YAML"),
    ("run: x\n---\nrun: y\n", 2, 1, None, "more than one YAML document"),
    ("run: x\nresources:\n  infra: gcp/us-central1\n", 3, 10, Some("resources.infra"), "hoist runs on AWS only"),
    ("run: x\nresources:\n  accelerators: A100:0.5\n", 3, 17, Some("resources.accelerators"), "no fractional accelerators"),
    ("run: x\nresources: {accelerators: A10G:1, cpus: lots}\n", 2, 41, Some("resources.cpus"), "\"lots\" is not an amount"),
    ("run: x\nresources:\n  memory: 4x\n", 3, 11, Some("resources.memory"), "memory per vCPU (`4x`) is not supported"),
    ("run: x\nnum_nodes: two\n", 2, 12, Some("num_nodes"), "not a whole number"),
    ("run: [a, b]\n", 1, 6, Some("run"), "expected a single value, not a list or mapping"),
    ("name: t\nrun: [python, train.py\n", 0, 0, None, ""),
    ("name: a\nname: b\nrun: x\n", 2, 1, Some("name"), "`name` is given twice"),
    ("run: x\nresources:\n  instance_type: big-machine\n", 3, 18, Some("resources.instance_type"), "is not an instance type"),
];

#[test]
fn every_malformed_task_is_refused_with_file_line_and_field_and_creates_nothing() {
    let mut env = IsolatedEnv::new();
    let data = env.path().join("data");
    env.set("HOIST_DATA_DIR", &data);
    let mut failures = Vec::new();
    for (i, (yaml, line, column, field, text)) in CASES.iter().enumerate() {
        let path = env.path().join(format!("task{i}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let run = hoist(&env, &["run", path.to_str().unwrap()]);
        let first = run.stderr.lines().next().unwrap_or_default().to_string();
        let mut expected = format!("error: {}:", path.display());
        if *line > 0 {
            expected.push_str(&format!("{line}:"));
            if *column > 0 {
                expected.push_str(&format!("{column}: "));
            }
        }
        let field_ok = field.is_none_or(|f| first.contains(&format!("`{f}`: ")));
        if run.code != 125 || !first.starts_with(&expected) || !field_ok || !run.stderr.contains(text) {
            failures.push(format!(
                "case {i} {yaml:?}: exit {}; expected prefix {expected:?}, field {field:?}, text {text:?}; got:\n{}",
                run.code, run.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases wrong:\n{}", failures.len(), CASES.len(), failures.join("\n"));
    assert!(!data.join("default/jobs").exists(), "no job may be created for an invalid task");
}

#[test]
fn a_missing_task_file_is_a_usage_error() {
    let env = IsolatedEnv::new();
    let run = hoist(&env, &["run", "nope.yaml"]);
    // hoist's own failure in `run`: 125, never a code the job could return.
    run.expect_code(125);
    assert!(run.stderr.starts_with("error: nope.yaml: cannot read the task file"), "{}", run.stderr);
}
