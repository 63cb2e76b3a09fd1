//! The agent run as a local process against the emulator, with the S3 job
//! store and the CloudWatch log store: exactly how it runs on an instance.

mod common;

use std::path::Path;
use std::time::Instant;

use hoist::jobs::logstore::{LogStore, Stream};
use hoist::jobs::record::{JobRecord, new_job_id};
use hoist::jobs::store::{Store, job_key};
use hoist::task::{Backend, Overrides, Task};
use hoist_aws::Session;
use hoist_aws::s3::Bucket;
use hoist_testkit::Emulator;

const BUCKET: &str = "hoist-default-123456789012-us-east-1";
const GROUP: &str = "/hoist/default/jobs";

struct Aws {
    emu: Emulator,
    store: Store,
    logs: LogStore,
}

async fn setup() -> Aws {
    let emu = Emulator::start();
    let sdk = emu.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket(BUCKET).send().await.expect("create bucket");
    aws_sdk_cloudwatchlogs::Client::new(&sdk).create_log_group().log_group_name(GROUP).send().await.expect("create log group");
    let session = Session::from_sdk_config(sdk).unwrap();
    Aws {
        store: Store::S3 { bucket: Bucket::new(&session, BUCKET), prefix: String::new() },
        logs: LogStore::CloudWatch { session, group: GROUP.into() },
        emu,
    }
}

/// Create a pending job in the bucket, as `hoist run --backend ec2` will.
async fn submit(aws: &Aws, dir: &Path, yaml: &str) -> JobRecord {
    let path = dir.join("task.yaml");
    std::fs::write(&path, yaml).unwrap();
    let task = Task::load(&path, &Overrides::default()).unwrap();
    let record = JobRecord::new(new_job_id(&task.name), "default", Backend::Ec2, task);
    if let Some(workdir) = &record.task.workdir {
        let bundle = dir.join("bundle.tar.gz");
        hoist::jobs::bundle::create(workdir, &bundle).unwrap();
        aws.store.put_file(&job_key(&record.id, "bundle.tar.gz"), &bundle).await.unwrap();
    }
    aws.store.save_record(&record).await.unwrap();
    record
}

fn run_agent(aws: &Aws, id: &str, scratch: &Path) -> common::Run {
    let env = aws.emu.env();
    let calls = scratch.with_extension("calls.jsonl");
    let started = Instant::now();
    let out = env
        .command(env!("CARGO_BIN_EXE_hoist"))
        .env("HOIST_RECORD_CALLS", &calls)
        .args(["agent", "--store", &format!("s3://{BUCKET}"), "--logs", &format!("cloudwatch:{GROUP}"), "--job", id])
        .arg("--scratch")
        .arg(scratch)
        .output()
        .unwrap();
    common::assert_declared("agent", &calls);
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

#[tokio::test]
async fn agent_runs_a_job_with_s3_store_and_cloudwatch_logs() {
    let aws = setup().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("code")).unwrap();
    std::fs::write(dir.path().join("code/train.sh"), "echo \"restored: $(cat $HOIST_CHECKPOINT_DIR/state.txt)\"\n").unwrap();
    let record = submit(
        &aws,
        dir.path(),
        "name: remote\nworkdir: code\ncheckpoints: ckpt\nartifacts: [report.txt]\nrun: |\n  bash train.sh\n  for i in $(seq 1 500); do echo \"line $i\"; done\n  echo\n  echo after-blank\n  echo step-2 > ckpt/state.txt\n  echo done > report.txt\n  echo '{}' > $HOIST_ARTIFACT_DIR/model.json\n",
    )
    .await;
    // A checkpoint from an earlier attempt, which the agent must restore.
    aws.store.put(&job_key(&record.id, "checkpoints/state.txt"), b"step-1\n".to_vec()).await.unwrap();

    let scratch = dir.path().join("scratch");
    let run = run_agent(&aws, &record.id, &scratch);
    run.expect_code(0);

    let after = aws.store.load_record(&record.id).await.unwrap().unwrap();
    assert_eq!(after.status.as_str(), "succeeded", "{after:?}");
    assert_eq!(after.attempt().exit_code, Some(0));
    assert!(after.attempt().heartbeat_at.is_some() && after.attempt().agent.is_some());

    let lines = aws.logs.reader(&record.id, 1, 0).next().await.unwrap();
    let out: Vec<&str> = lines.iter().filter(|l| l.s == Stream::Out).map(|l| l.l.as_str()).collect();
    assert_eq!(out[0], "restored: step-1", "checkpoint restored from S3 before the run");
    let expected: Vec<String> = (1..=500).map(|i| format!("line {i}")).collect();
    assert_eq!(out[1..501], expected.iter().map(String::as_str).collect::<Vec<_>>()[..], "every line, in order");
    // A blank line: CloudWatch rejects an empty message, so it is shipped
    // as one space, and the job goes on.
    assert_eq!(out[501..], [" ", "after-blank"], "blank line shipped");
    assert!(lines.iter().any(|l| l.s == Stream::Hoist && l.l.contains("job succeeded")));

    let get = |key: String| {
        let store = aws.store.clone();
        async move { String::from_utf8(store.get(&key).await.unwrap().unwrap_or_default()).unwrap() }
    };
    assert_eq!(get(job_key(&record.id, "checkpoints/state.txt")).await, "step-2\n", "final checkpoint synced");
    assert_eq!(get(job_key(&record.id, "artifacts/report.txt")).await, "done\n");
    assert_eq!(get(job_key(&record.id, "artifacts/model.json")).await, "{}\n");
    assert!(!scratch.join(&record.id).exists(), "working copy removed");

    // The agent does not run an attempt twice.
    let again = run_agent(&aws, &record.id, &scratch);
    again.expect_code(1);
    assert!(again.stderr.contains("already succeeded"), "{}", again.stderr);
}

#[tokio::test]
async fn log_shipper_loses_none_of_200000_lines() {
    const LINES: usize = 200_000;
    let aws = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let record = submit(&aws, dir.path(), &format!("name: chatty\nrun: seq 1 {LINES}\n")).await;
    let run = run_agent(&aws, &record.id, &dir.path().join("scratch"));
    run.expect_code(0);
    let shipped_in = run.elapsed;

    let mut reader = aws.logs.reader(&record.id, 1, 0);
    let mut out = Vec::with_capacity(LINES);
    loop {
        let batch = reader.next().await.unwrap();
        if batch.is_empty() {
            break;
        }
        out.extend(batch.into_iter().filter(|l| l.s == Stream::Out).map(|l| l.l));
    }
    assert_eq!(out.len(), LINES, "lines lost");
    assert!(out.iter().enumerate().all(|(i, l)| *l == (i + 1).to_string()), "lines out of order");
    eprintln!(
        "shipped {LINES} lines through the agent in {shipped_in:?} ({:.0} lines/s against the emulator)",
        LINES as f64 / shipped_in.as_secs_f64()
    );
}
