//! Local jobs through the real binary: `run`, `jobs`, `logs`, `cancel`,
//! `--resume`, exit codes, secrets. No AWS involved: the local backend
//! needs no account.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Run, hoist};
use hoist_testkit::IsolatedEnv;

struct Jobs {
    env: IsolatedEnv,
    data: PathBuf,
}

impl Jobs {
    fn new() -> Self {
        let mut env = IsolatedEnv::new();
        let data = env.path().join("data");
        env.set("HOIST_DATA_DIR", &data);
        Self { env, data }
    }

    fn run(&self, args: &[&str]) -> Run {
        hoist(&self.env, args)
    }

    /// Write a task directory with `task.yaml` and extra files.
    fn task(&self, name: &str, yaml: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.env.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let task = dir.join("task.yaml");
        std::fs::write(&task, yaml).unwrap();
        task
    }

    fn record(&self, id: &str) -> serde_json::Value {
        let path = self.data.join("default/jobs").join(id).join("job.json");
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
    }

    fn job_dir(&self, id: &str) -> PathBuf {
        self.data.join("default/jobs").join(id)
    }

    fn job_ids(&self) -> Vec<String> {
        match std::fs::read_dir(self.data.join("default/jobs")) {
            Ok(entries) => entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Poll `hoist logs JOB` until its output contains `needle`.
    fn wait_for_log(&self, id: &str, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let run = self.run(&["logs", id]);
            let all = format!("{}{}", run.stdout, run.stderr);
            if all.contains(needle) {
                return all;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no {needle:?} in the log of {id}:\n{all}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart/task.yaml")
}

#[test]
fn quickstart_trains_locally_and_keeps_checkpoint_and_artifacts() {
    let jobs = Jobs::new();
    let run = jobs.run(&["run", quickstart().to_str().unwrap(), "-e", "STEP_DELAY=0"]);
    run.expect_code(0);
    assert!(run.stdout.contains("training from scratch"), "{}", run.stdout);
    assert!(run.stdout.contains("step  300/300"), "{}", run.stdout);
    assert!(run.stdout.contains("test accuracy"), "{}", run.stdout);
    assert!(run.stderr.contains("succeeded"), "{}", run.stderr);

    let ids = jobs.job_ids();
    assert_eq!(ids.len(), 1);
    let id = &ids[0];
    assert!(id.starts_with("quickstart-"));
    let record = jobs.record(id);
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["attempts"][0]["exit_code"], 0);
    let dir = jobs.job_dir(id);
    let ckpt: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("checkpoints/checkpoint.json")).unwrap()).unwrap();
    assert_eq!(ckpt["step"], 300);
    assert!(dir.join("artifacts/model.json").is_file(), "HOIST_ARTIFACT_DIR content kept");
    assert!(dir.join("artifacts/metrics.json").is_file(), "`artifacts:` paths kept");
    // The working copy is scratch: nothing of it is left behind.
    assert!(!jobs.data.join("default/scratch").join(id).exists());
    // Job records, logs, bundles and checkpoints are private to the user:
    // the data directory and the workspace's are 0700.
    use std::os::unix::fs::PermissionsExt;
    for d in [jobs.data.clone(), jobs.data.join("default")] {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} is {mode:o}", d.display());
    }
}

#[test]
fn logs_are_complete_and_in_order_and_jobs_lists_the_job() {
    let jobs = Jobs::new();
    let task = jobs.task("count", "name: count\nrun: |\n  for i in $(seq 1 3000); do echo \"out $i\"; echo \"err $i\" >&2; done\n", &[]);
    let run = jobs.run(&["run", task.to_str().unwrap(), "--detach"]);
    run.expect_code(0);
    let id = run.stdout.trim().to_string();
    assert!(id.starts_with("count-"), "{}", run.stdout);
    jobs.wait_for_log(&id, "job succeeded");

    let logs = jobs.run(&["logs", &id, "-o", "json"]);
    logs.expect_code(0);
    let lines: Vec<serde_json::Value> = logs.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let outs: Vec<&str> = lines.iter().filter(|l| l["s"] == "out").map(|l| l["l"].as_str().unwrap()).collect();
    let errs: Vec<&str> = lines.iter().filter(|l| l["s"] == "err").map(|l| l["l"].as_str().unwrap()).collect();
    let expect_out: Vec<String> = (1..=3000).map(|i| format!("out {i}")).collect();
    let expect_err: Vec<String> = (1..=3000).map(|i| format!("err {i}")).collect();
    assert_eq!(outs, expect_out, "stdout lines complete and in order");
    assert_eq!(errs, expect_err, "stderr lines complete and in order");
    let times: Vec<i64> = lines.iter().map(|l| l["t"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "timestamps never go backwards");

    let text = jobs.run(&["logs", &id[..8]]); // a unique prefix is enough
    text.expect_code(0);
    assert_eq!(text.stdout.lines().count(), 3000, "stdout has exactly the job's stdout");

    let list = jobs.run(&["jobs", "-o", "json"]);
    list.expect_code(0);
    let v = list.json();
    assert_eq!(v[0]["id"], id.as_str());
    assert_eq!(v[0]["status"], "succeeded");
    let table = jobs.run(&["jobs"]);
    let row = table.stdout.lines().nth(1).unwrap();
    assert!(row.starts_with(&id) && row.contains("succeeded"), "{}", table.stdout);
}

#[test]
fn a_failing_job_ends_failed_and_hoist_exits_with_its_code() {
    let jobs = Jobs::new();
    let task = jobs.task("fails", "name: fails\nsetup: echo preparing\nrun: echo about to fail; exit 3\n", &[]);
    let run = jobs.run(&["run", task.to_str().unwrap()]);
    // The job's own 3 (which is also hoist's "no credentials" elsewhere):
    // `run` passes it through, and its own failures are 125.
    run.expect_code(3);
    assert!(run.stdout.contains("preparing") && run.stdout.contains("about to fail"), "{}", run.stdout);
    assert!(run.stderr.contains("failed"), "{}", run.stderr);
    let id = &jobs.job_ids()[0];
    let record = jobs.record(id);
    assert_eq!(record["status"], "failed");
    assert_eq!(record["attempts"][0]["exit_code"], 3);

    // A failing setup stops the job before `run`.
    let task = jobs.task("badsetup", "name: badsetup\nsetup: exit 7\nrun: echo never\n", &[]);
    let run = jobs.run(&["run", task.to_str().unwrap()]);
    run.expect_code(7);
    assert!(!run.stdout.contains("never"));
}

#[test]
fn cancel_saves_the_checkpoint_and_resume_continues_from_it() {
    let jobs = Jobs::new();
    let run = jobs.run(&[
        "run",
        quickstart().to_str().unwrap(),
        "--detach",
        "-e",
        "STEPS=100",
        "-e",
        "CHECKPOINT_EVERY=10",
        "-e",
        "STEP_DELAY=0.05",
    ]);
    run.expect_code(0);
    let id = run.stdout.trim().to_string();
    jobs.wait_for_log(&id, "checkpoint saved at step 10");

    let cancel = jobs.run(&["cancel", &id]);
    cancel.expect_code(0);
    assert!(cancel.stdout.contains("cancelled"), "{}", cancel.stdout);
    let record = jobs.record(&id);
    assert_eq!(record["status"], "cancelled");
    let ckpt: serde_json::Value =
        serde_json::from_slice(&std::fs::read(jobs.job_dir(&id).join("checkpoints/checkpoint.json")).unwrap()).unwrap();
    let stopped_at = ckpt["step"].as_u64().unwrap();
    assert!((10..100).contains(&stopped_at), "checkpoint at step {stopped_at}");

    // Cancelling again changes nothing.
    let again = jobs.run(&["cancel", &id]);
    again.expect_code(0);
    assert!(again.stdout.contains("already finished"), "{}", again.stdout);

    let resumed = jobs.run(&["run", "--resume", &id]);
    resumed.expect_code(0);
    assert!(
        resumed.stdout.contains(&format!("resuming from checkpoint at step {stopped_at}")),
        "{}",
        resumed.stdout
    );
    assert!(!resumed.stdout.contains("training from scratch"));
    assert!(resumed.stdout.contains("step  100/100"));
    let record = jobs.record(&id);
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(record["attempts"][0]["status"], "cancelled");
    // Each attempt keeps its own log.
    let first = jobs.run(&["logs", &id, "--attempt", "1"]);
    assert!(first.stdout.contains("training from scratch") && !first.stdout.contains("resuming"));
}

#[test]
fn resuming_a_running_job_is_refused() {
    let jobs = Jobs::new();
    let task = jobs.task("sleepy", "name: sleepy\nrun: echo started; sleep 30\n", &[]);
    let id = jobs.run(&["run", task.to_str().unwrap(), "-d"]).stdout.trim().to_string();
    jobs.wait_for_log(&id, "started");
    let run = jobs.run(&["run", "--resume", &id]);
    run.expect_code(125);
    assert!(run.stderr.contains("still running"), "{}", run.stderr);
    jobs.run(&["cancel", &id]).expect_code(0);
}

#[test]
fn secrets_reach_the_job_but_never_the_record_logs_or_output() {
    let jobs = Jobs::new();
    let task = jobs.task(
        "secret",
        "name: secret\nsecrets: [API_TOKEN]\nrun: |\n  echo token length ${#API_TOKEN}\n  echo leaked: $API_TOKEN\n",
        &[],
    );
    // Missing: refused before anything is created (hoist's failure: 125).
    let run = jobs.run(&["run", task.to_str().unwrap()]);
    run.expect_code(125);
    assert!(run.stderr.contains("API_TOKEN"), "{}", run.stderr);
    assert!(jobs.job_ids().is_empty());

    let run = jobs.run(&["run", task.to_str().unwrap(), "--secret", "API_TOKEN=s3cr3t-value"]);
    run.expect_code(0);
    assert!(run.stdout.contains("token length 12"), "the job saw the value: {}", run.stdout);
    assert!(run.stdout.contains("leaked: ***"), "{}", run.stdout);
    let id = &jobs.job_ids()[0];
    for entry in walk(&jobs.job_dir(id)) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        assert!(!text.contains("s3cr3t-value"), "secret value written to {}", entry.display());
    }
    assert!(!run.stdout.contains("s3cr3t-value") && !run.stderr.contains("s3cr3t-value"));
    assert_eq!(jobs.record(id)["task"]["secrets"][0], "API_TOKEN");
}

#[test]
fn skypilot_style_task_runs_unchanged() {
    let jobs = Jobs::new();
    let task = jobs.task(
        "sky",
        "# A SkyPilot task file\n\
         name: sky-train\n\
         workdir: .\n\
         resources:\n  cloud: aws\n  cpus: 1+\n  use_spot: true\n  disk_size: 256\n\
         num_nodes: 1\n\
         envs:\n  EPOCHS: 2\n  MODEL_NAME: tiny\n\
         setup: |\n  echo \"setup for $MODEL_NAME\"\n  echo \"node $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES at $SKYPILOT_NODE_IPS, $HOIST_NUM_NODES; data=${HOIST_DATA_DIR:-unset}\"\n\
         run: |\n  python3 train.py --epochs $EPOCHS\n",
        &[("train.py", "import sys, os\nprint('epochs', sys.argv[2], os.environ['MODEL_NAME'])\n")],
    );
    let run = jobs.run(&["run", task.to_str().unwrap()]);
    run.expect_code(0);
    assert!(run.stdout.contains("setup for tiny"), "{}", run.stdout);
    assert!(run.stdout.contains("epochs 2 tiny"), "{}", run.stdout);
    // SkyPilot's node variables, for one node; hoist's own settings stay
    // hoist's.
    assert!(run.stdout.contains("node 0 of 1 at 127.0.0.1, 1; data=unset"), "{}", run.stdout);
    // What does not apply on this machine is said, once each.
    for field in ["resources.use_spot", "resources.disk_size"] {
        assert_eq!(run.stderr.matches(field).count(), 1, "{field}: {}", run.stderr);
    }
    // A GPU this machine lacks is refused before anything starts.
    let gpu = jobs.task("gpu", "name: gpu\nrun: nvidia-smi\nresources:\n  accelerators: A10G:1\n", &[]);
    let refused = jobs.run(&["run", gpu.to_str().unwrap()]);
    refused.expect_code(125);
    assert!(refused.stderr.contains("asks for A10G:1") && refused.stderr.contains("--backend ec2"), "{}", refused.stderr);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&entry.path()));
        } else {
            out.push(entry.path());
        }
    }
    out
}

#[test]
fn attached_json_run_prints_only_the_final_record() {
    let jobs = Jobs::new();
    // The output is computed, so it is not also in the record's `run` text.
    let task = jobs.task("quiet", "name: quiet\nrun: echo computed-$((40+2)); exit 4\n", &[]);
    let run = jobs.run(&["run", task.to_str().unwrap(), "-o", "json"]);
    run.expect_code(4);
    let record = run.json();
    assert_eq!(record["status"], "failed");
    assert_eq!(record["attempts"][0]["exit_code"], 4);
    assert!(!run.stdout.contains("computed-42"), "{}", run.stdout);
    let id = record["id"].as_str().unwrap();
    assert!(jobs.run(&["logs", id]).stdout.contains("computed-42"));
}

/// `cancel --no-wait` says what it did (asked), not the status the job
/// still has at that moment.
#[test]
fn cancel_without_waiting_says_it_was_requested() {
    let jobs = Jobs::new();
    let run = jobs.run(&["run", quickstart().to_str().unwrap(), "--detach", "-e", "STEPS=2000", "-e", "STEP_DELAY=0.05"]);
    run.expect_code(0);
    let id = run.stdout.trim().to_string();
    jobs.wait_for_log(&id, "step");
    let cancel = jobs.run(&["cancel", &id, "--no-wait", "-o", "json"]);
    cancel.expect_code(0);
    let v = cancel.json();
    assert_eq!(v["cancel_requested"], true, "{v}");
    let text = jobs.run(&["cancel", &id, "--no-wait"]);
    text.expect_code(0);
    assert!(text.stdout.contains("cancel requested") || text.stdout.contains("already finished"), "{}", text.stdout);
    assert!(!text.stdout.trim_end().ends_with("running"), "{}", text.stdout);
    let done = jobs.run(&["cancel", &id]);
    done.expect_code(0);
}

/// An attached `hoist run` whose watcher goes away (SIGTERM, SIGHUP, or
/// its stdout closed, as in `hoist run task.yaml | head -1`) treats it as
/// Ctrl-C: the job is cancelled with its checkpoint saved, and hoist exits
/// 130, never 0 with the job still running unwatched.
#[test]
fn a_watcher_going_away_cancels_the_attached_job() {
    use std::io::BufRead;
    for how in ["SIGTERM", "SIGHUP", "closed stdout"] {
        let jobs = Jobs::new();
        let mut child = jobs
            .env
            .command(env!("CARGO_BIN_EXE_hoist"))
            .args(["run", quickstart().to_str().unwrap(), "-e", "STEPS=3000", "-e", "STEP_DELAY=0.05", "-e", "CHECKPOINT_EVERY=10"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("checkpoint saved") {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "{how}: the job printed nothing");
        }
        match how {
            "SIGTERM" => unsafe { assert_eq!(libc::kill(child.id() as i32, libc::SIGTERM), 0) },
            "SIGHUP" => unsafe { assert_eq!(libc::kill(child.id() as i32, libc::SIGHUP), 0) },
            _ => drop(out),
        }
        let started = Instant::now();
        let status = child.wait().unwrap();
        assert!(started.elapsed() < Duration::from_secs(30), "{how}: hoist took {:?} to stop", started.elapsed());
        assert_eq!(status.code(), Some(130), "{how}");
        let id = &jobs.job_ids()[0];
        assert_eq!(jobs.record(id)["status"], "cancelled", "{how}");
        assert!(jobs.job_dir(id).join("checkpoints/checkpoint.json").is_file(), "{how}: checkpoint saved");
    }
}

/// `-q` leaves the job's own output and drops hoist's notes.
#[test]
fn quiet_run_prints_only_the_job() {
    let jobs = Jobs::new();
    let task = jobs.task("hello", "name: hello\nrun: echo hello from the job\n", &[]);
    let run = jobs.run(&["run", "-q", task.to_str().unwrap()]);
    run.expect_code(0);
    assert!(run.stdout.contains("hello from the job"), "{}", run.stdout);
    assert!(!run.stderr.contains("hoist:"), "{}", run.stderr);
    let id = &jobs.job_ids()[0];
    let logs = jobs.run(&["logs", "-q", id]);
    assert!(logs.stdout.contains("hello from the job") && !logs.stderr.contains("hoist:"), "{}", logs.stderr);
}

/// Output written with `\r` (a tqdm progress bar) shows as it is written,
/// not at the next newline, and the log keeps each redraw; a `run:` script
/// over Linux's 128 KiB argument limit runs.
#[test]
fn progress_bars_stream_live_and_long_scripts_run() {
    use std::io::Read;
    let jobs = Jobs::new();
    let task = jobs.task(
        "bar",
        "name: bar\nrun: |\n  printf 'progress 1/3\\r'; sleep 0.3; printf 'progress 2/3\\r'; sleep 4; printf 'progress 3/3\\r\\ndone\\r\\n'\n",
        &[],
    );
    let mut child = jobs
        .env
        .command(env!("CARGO_BIN_EXE_hoist"))
        .args(["run", "-q", task.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("progress 2/3") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended early: {:?}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    // The job sleeps 4 s after its second redraw: it was shown live.
    assert!(started.elapsed() < Duration::from_secs(3), "shown only after {:?}", started.elapsed());
    out.read_to_end(&mut seen).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let text = String::from_utf8_lossy(&seen);
    // Exactly the bytes the job wrote, CRLF included.
    assert!(text.contains("progress 1/3\rprogress 2/3\rprogress 3/3\r\ndone\r\n"), "{text:?}");

    let id = jobs.job_ids().pop().unwrap();
    let logs = jobs.run(&["logs", &id, "-o", "json"]);
    let lines: Vec<serde_json::Value> = logs.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let job: Vec<(&str, bool)> =
        lines.iter().filter(|l| l["s"] == "out").map(|l| (l["l"].as_str().unwrap(), l["cr"].as_bool().unwrap_or(false))).collect();
    assert_eq!(
        job,
        vec![("progress 1/3", true), ("progress 2/3", true), ("progress 3/3", true), ("", false), ("done", true), ("", false)]
    );

    let long = format!("name: long\nrun: |\n{}  echo long script ran\n", "  # padding padding padding padding padding padding padding\n".repeat(3000));
    assert!(long.len() > 160 * 1024);
    let task = jobs.task("long", &long, &[]);
    let run = jobs.run(&["run", task.to_str().unwrap()]);
    run.expect_code(0);
    assert!(run.stdout.contains("long script ran"), "{}", run.stderr);
}

/// The README's quickstart transcript shows every line hoist prints, in
/// order (job ids, sizes and times aside).
#[test]
fn the_readme_transcript_matches_the_quickstart() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let block = readme.split("prints what you will see:").nth(1).unwrap().split("```").nth(1).unwrap();
    // A line's leading plain words: `hoist: job quickstart-1a2b... (attempt 1)`
    // and `hoist: artifacts kept: 2 files` compare as `hoist: job` and
    // `hoist: artifacts kept:` (ids, paths, sizes and times differ).
    let shape = |l: &str| -> String {
        l.split_whitespace()
            .take_while(|w| w.trim_end_matches(':').chars().all(|c| c.is_ascii_alphabetic()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let documented: Vec<String> = block.lines().filter(|l| l.starts_with("hoist:")).map(shape).collect();
    let jobs = Jobs::new();
    let run = jobs.run(&["run", quickstart().to_str().unwrap(), "-e", "STEP_DELAY=0"]);
    run.expect_code(0);
    let printed: Vec<String> = run.stderr.lines().filter(|l| l.starts_with("hoist:")).map(shape).collect();
    assert_eq!(documented, printed, "README.md's quickstart transcript is out of date");
}

/// `--plan` on this machine: what it has, the notes, and whether the run
/// would start; nothing is created.
#[test]
fn plan_says_whether_a_local_run_would_start_and_creates_nothing() {
    let jobs = Jobs::new();
    let ok = jobs.task("plan-ok", "name: p\nrun: echo hi\nresources:\n  use_spot: true\n", &[]);
    let plan = jobs.run(&["run", ok.to_str().unwrap(), "--plan", "-o", "json"]);
    let json = plan.expect_code(0).json();
    assert_eq!(json["fits"], true);
    let notes = json["notes"].as_array().unwrap();
    assert!(notes.iter().any(|n| n.as_str().unwrap().starts_with("this machine:")), "{notes:?}");
    assert!(notes.iter().any(|n| n.as_str().unwrap().contains("resources.use_spot")), "{notes:?}");

    let secret = jobs.task("plan-secret", "name: s\nrun: echo hi\nsecrets: [PLAN_TOKEN]\n", &[]);
    let plan = jobs.run(&["run", secret.to_str().unwrap(), "--plan"]);
    plan.expect_code(125);
    assert!(plan.stdout.contains("can run        no"), "{}", plan.stdout);
    assert!(plan.stderr.contains("PLAN_TOKEN"), "{}", plan.stderr);
    assert!(!jobs.data.join("default/jobs").exists(), "a plan created a job");
}

/// Output that is not text (a job printing raw bytes) comes back exactly
/// as written, live and from `hoist logs`, and a secret inside it is
/// still masked.
#[test]
fn binary_output_is_kept_byte_for_byte_and_still_masked() {
    let jobs = Jobs::new();
    let task = jobs.task(
        "bin",
        "name: bin\nsecrets: [API_TOKEN]\nrun: |\n  printf 'text line\\n'\n  printf '\\377\\376bin\\000ary\\n'\n  printf '\\377 %s\\n' \"$API_TOKEN\"\n",
        &[],
    );
    let run = |args: &[&str]| {
        let out = jobs.env.command(env!("CARGO_BIN_EXE_hoist")).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let want: &[u8] = b"text line\n\xff\xfebin\x00ary\n\xff ***\n";
    assert_eq!(run(&["run", "-q", task.to_str().unwrap(), "--secret", "API_TOKEN=s3cr3t-value"]), want);
    let id = jobs.job_ids().pop().unwrap();
    assert_eq!(run(&["logs", &id, "-q"]), want);
    for entry in walk(&jobs.job_dir(&id)) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!bytes.windows(12).any(|w| w == b"s3cr3t-value"), "secret value written to {}", entry.display());
    }
}
