//! `hoist run --backend sagemaker` against the emulator, end to end.
//!
//! What is judged where:
//!
//! - CreateTrainingJob's settings are read back from the emulator
//!   (moto, with patch 11: it keeps every field, refuses a taken name,
//!   validates managed spot's MaxWait, and has StopTrainingJob).
//! - SageMaker's own part (the machines) is played here by [`Runtime`], as
//!   SageMaker documents it: it materializes `/opt/ml` in a temporary
//!   directory (resource config, input channels downloaded from S3,
//!   checkpoints restored), runs the job's ContainerEntrypoint with
//!   `TRAINING_JOB_NAME` and the job's Environment, ships the container's
//!   output to `/aws/sagemaker/TrainingJobs` (`<job>/algo-<n>-<epoch>`),
//!   uploads `/opt/ml/checkpoints`, packs `/opt/ml/model` into
//!   `model.tar.gz`, sends SIGTERM on StopTrainingJob, and reports each
//!   transition through the emulator's control endpoint. Its S3 and Logs
//!   requests are signed as a user holding exactly the workspace's
//!   SageMaker role policy, as SageMaker acts as that role.
//! - The agent (the real `hoist` binary, downloaded from its input
//!   channel) signs as the same role user: the emulator judges its S3
//!   requests; its other requests (Secrets Manager) and every condition
//!   are proven with `hoist-iam` against the role's policy and the
//!   workspace's boundary on the requests it sent.
//! - The user's requests (`run`, `cancel`, `logs`) are proven against
//!   `hoist policy run` the same way, with out-of-scope variants denied.

mod common;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::proof::{authorizations, decide, parse};
use common::{Run, hoist};
use hoist_aws::record::CallLog;
use hoist_iam::{Decision, Policy};
use hoist_testkit::wire::{Authz, Known};
use hoist_testkit::{ACCOUNT, Emulator, EmulatorOptions, IsolatedEnv, Keys};
use serde_json::Value;

const WS: &str = "ml";
const REGION: &str = "us-east-1";
const SECRET: &str = "hf_Secr3tValue_9f8e7d";
const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1";
const TRAINING_LOGS: &str = "/aws/sagemaker/TrainingJobs";

fn bucket() -> String {
    format!("hoist-{WS}-{ACCOUNT}-{REGION}")
}

struct World {
    emu: Emulator,
    env: IsolatedEnv,
    dir: tempfile::TempDir,
    s3: aws_sdk_s3::Client,
    sm: aws_sdk_sagemaker::Client,
    iam: aws_sdk_iam::Client,
}

/// An emulator judging IAM and the workspace set up. The agent binary is
/// the real one (the runtime runs what the training job's channel holds).
async fn world() -> World {
    let emu = Emulator::start_with(EmulatorOptions { enforce_iam: true, ..Default::default() }).await;
    let mut env = emu.env();
    env.set("HOIST_WORKSPACE", WS);
    env.set("HOIST_AGENT_BINARY", env!("CARGO_BIN_EXE_hoist"));
    hoist(&env, &["init", "--yes", "-q"]).expect_code(0);
    let sdk = emu.sdk_config().await;
    World {
        s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build()),
        sm: aws_sdk_sagemaker::Client::new(&sdk),
        iam: aws_sdk_iam::Client::new(&sdk),
        dir: tempfile::tempdir().unwrap(),
        emu,
        env,
    }
}

impl World {
    fn task(&self, name: &str, yaml: &str) -> PathBuf {
        let code = self.dir.path().join("code");
        std::fs::create_dir_all(&code).unwrap();
        std::fs::write(code.join("train.py"), "print('training')\n").unwrap();
        let path = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        path
    }

    fn run(&self, args: &[&str]) -> Run {
        hoist(&self.env, args)
    }

    fn run_recorded(&self, args: &[&str], calls: &Path) -> Run {
        common::hoist_recorded(&self.env, args, calls)
    }

    fn set_secret(&self, name: &str, value: &str) {
        common::set_secret(&self.env, name, value)
    }

    async fn record(&self, id: &str) -> Value {
        let out = self.s3.get_object().bucket(bucket()).key(format!("jobs/{id}/job.json")).send().await.expect("the job record");
        serde_json::from_slice(&out.body.collect().await.unwrap().into_bytes()).unwrap()
    }

    async fn training_jobs(&self) -> Vec<String> {
        let out = self.sm.list_training_jobs().max_results(100).send().await.unwrap();
        out.training_job_summaries().iter().filter_map(|s| s.training_job_name().map(str::to_string)).collect()
    }

    async fn describe(&self, name: &str) -> aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput {
        self.sm.describe_training_job().training_job_name(name).send().await.expect("the training job")
    }

    /// The SageMaker role's own policy, as `init` put it, and the boundary.
    async fn role_policies(&self) -> (Value, Value) {
        let role = format!("hoist-{WS}-sagemaker");
        let inline = self.iam.get_role_policy().role_name(&role).policy_name("hoist").send().await.expect("sagemaker role policy");
        let inline: Value = serde_json::from_str(&hoist_testkit::wire::percent_decode(inline.policy_document(), false)).unwrap();
        let arn = format!("arn:aws:iam::{ACCOUNT}:policy/hoist-{WS}-boundary");
        let p = self.iam.get_policy().policy_arn(&arn).send().await.unwrap();
        let v = p.policy().unwrap().default_version_id().unwrap().to_string();
        let doc = self.iam.get_policy_version().policy_arn(&arn).version_id(v).send().await.unwrap();
        let boundary: Value =
            serde_json::from_str(&hoist_testkit::wire::percent_decode(doc.policy_version().unwrap().document().unwrap(), false)).unwrap();
        (inline, boundary)
    }

    /// SageMaker's part, acting as a user holding the role's policy.
    async fn runtime(&self) -> Runtime {
        let (inline, _) = self.role_policies().await;
        static USERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let user = format!("sagemaker-role-{}", USERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let keys = self.emu.create_user_with_managed_policies(&user, &[inline]).await;
        let sdk = self.emu.sdk_config_for(&keys, REGION).await;
        Runtime {
            sm: self.sm.clone(),
            s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build()),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            endpoint: self.emu.endpoint().to_string(),
            env: {
                let mut env = self.emu.env_for(&keys);
                env.set("HOIST_WORKSPACE", WS);
                env
            },
            dir: self.dir.path().join("sagemaker"),
            keys,
        }
    }

    /// `hoist run TASK --backend sagemaker --detach` (plus `extra`); the
    /// job's id.
    fn submit(&self, task: &Path, extra: &[&str]) -> String {
        let mut args = vec!["run", task.to_str().unwrap(), "--backend", "sagemaker", "--detach", "-o", "json"];
        args.extend(extra);
        self.run(&args).expect_code(0).json()["id"].as_str().unwrap().to_string()
    }

    /// Wait for the newest training job of the workspace.
    async fn wait_for_training_job(&self, attached: Option<&mut Child>) -> String {
        let started = Instant::now();
        let mut attached = attached;
        loop {
            if let Some(name) = self.training_jobs().await.into_iter().find(|n| n.starts_with(&format!("hoist-{WS}--"))) {
                return name;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "no training job was created");
            if let Some(child) = attached.as_deref_mut() {
                assert!(child.try_wait().unwrap().is_none(), "hoist run ended before creating a training job");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// SageMaker's part of a training job, played here (see the module's doc).
struct Runtime {
    sm: aws_sdk_sagemaker::Client,
    s3: aws_sdk_s3::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    endpoint: String,
    env: IsolatedEnv,
    dir: PathBuf,
    #[allow(dead_code)]
    keys: Keys,
}

/// One host's container.
struct Container {
    host: String,
    root: PathBuf,
    child: Child,
    output: std::thread::JoinHandle<Vec<String>>,
}

fn split_s3(uri: &str) -> (String, String) {
    let rest = uri.strip_prefix("s3://").expect("an s3:// URI");
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (bucket.to_string(), key.to_string())
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as i64
}

impl Runtime {
    /// Report a transition (what SageMaker's control plane does itself).
    fn set_status(&self, name: &str, status: Option<&str>, secondary: &str, failure: Option<&str>) {
        hoist_testkit::set_training_job_status(&self.endpoint, name, status, secondary, failure);
    }

    async fn status(&self, name: &str) -> (String, String) {
        let d = self.sm.describe_training_job().training_job_name(name).send().await.unwrap();
        (
            d.training_job_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            d.secondary_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        )
    }

    async fn download_prefix(&self, uri: &str, dest: &Path, keep_tree: bool) {
        let (bucket, prefix) = split_s3(uri);
        let listed = self.s3.list_objects_v2().bucket(&bucket).prefix(&prefix).send().await.expect("listing as the role");
        for o in listed.contents() {
            let key = o.key().unwrap();
            let rel = if keep_tree { key[prefix.len()..].to_string() } else { key.rsplit('/').next().unwrap().to_string() };
            let path = dest.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let got = self.s3.get_object().bucket(&bucket).key(key).send().await.expect("reading as the role");
            std::fs::write(&path, got.body.collect().await.unwrap().into_bytes()).unwrap();
        }
    }

    /// Start host `rank` of the job: `/opt/ml` made in a directory of its
    /// own, channels and checkpoint downloaded, the entrypoint run.
    async fn start(&self, name: &str, rank: u32, calls: &Path) -> Container {
        let job = self.sm.describe_training_job().training_job_name(name).send().await.unwrap();
        let count = job.resource_config().unwrap().instance_count().unwrap();
        let host = format!("algo-{}", rank + 1);
        let root = self.dir.join(format!("{name}-{host}-{}", now_ms()));
        let hosts: Vec<String> = (1..=count).map(|i| format!("algo-{i}")).collect();
        std::fs::create_dir_all(root.join("input/config")).unwrap();
        std::fs::write(
            root.join("input/config/resourceconfig.json"),
            serde_json::json!({"current_host": host, "hosts": hosts, "network_interface_name": "eth0"}).to_string(),
        )
        .unwrap();
        std::fs::write(root.join("input/config/hyperparameters.json"), "{}").unwrap();
        for channel in job.input_data_config() {
            let uri = channel.data_source().unwrap().s3_data_source().unwrap().s3_uri().unwrap();
            self.download_prefix(uri, &root.join("input/data").join(channel.channel_name().unwrap()), false).await;
        }
        let ckpt = job.checkpoint_config().unwrap();
        assert_eq!(ckpt.local_path(), Some("/opt/ml/checkpoints"));
        self.download_prefix(ckpt.s3_uri().unwrap(), &root.join("checkpoints"), true).await;
        if rank == 0 {
            self.set_status(name, None, "Training", None);
        }
        let entry: Vec<String> = job
            .algorithm_specification()
            .unwrap()
            .container_entrypoint()
            .iter()
            .map(|a| a.replace("/opt/ml", root.to_str().unwrap()))
            .collect();
        let mut cmd = self.env.command(&entry[0]);
        cmd.env("TRAINING_JOB_NAME", name).env("HOIST_RECORD_CALLS", calls);
        for (k, v) in job.environment().unwrap() {
            cmd.env(k, v);
        }
        let mut child = cmd.args(&entry[1..]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // SageMaker ships both streams, one line an event.
        let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let output = std::thread::spawn(move || {
            let err = std::thread::spawn(move || std::io::BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>());
            let mut lines: Vec<String> = std::io::BufReader::new(stdout).lines().map_while(Result::ok).collect();
            lines.extend(err.join().unwrap());
            lines
        });
        Container { host, root, child, output }
    }

    /// The container's end, as SageMaker handles it: output shipped to
    /// CloudWatch, checkpoints uploaded. Returns the exit code, the lines
    /// it printed and its `/opt/ml`.
    async fn end(&self, name: &str, mut c: Container) -> (i32, Vec<String>, PathBuf) {
        let job = self.sm.describe_training_job().training_job_name(name).send().await.unwrap();
        let checkpoint_s3 = job.checkpoint_config().unwrap().s3_uri().unwrap().to_string();
        let status = tokio::task::spawn_blocking(move || {
            let s = c.child.wait().unwrap();
            (s, c.output.join().unwrap(), c.host, c.root)
        })
        .await
        .unwrap();
        let (exit, lines, host, root) = status;
        let _ = self.logs.create_log_group().log_group_name(TRAINING_LOGS).send().await;
        let stream = format!("{name}/{host}-{}", now_ms() / 1000);
        self.logs.create_log_stream().log_group_name(TRAINING_LOGS).log_stream_name(&stream).send().await.unwrap();
        if !lines.is_empty() {
            let t = now_ms();
            let events = lines
                .iter()
                .map(|l| aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(t).message(if l.is_empty() { " " } else { l }).build().unwrap())
                .collect();
            self.logs.put_log_events().log_group_name(TRAINING_LOGS).log_stream_name(&stream).set_log_events(Some(events)).send().await.unwrap();
        }
        // CheckpointConfig: /opt/ml/checkpoints goes up as it is.
        let (bucket, prefix) = split_s3(&checkpoint_s3);
        let ckpt = root.join("checkpoints");
        for file in walk(&ckpt) {
            let rel = file.strip_prefix(&ckpt).unwrap().to_string_lossy().to_string();
            let body = aws_sdk_s3::primitives::ByteStream::from(std::fs::read(&file).unwrap());
            self.s3.put_object().bucket(&bucket).key(format!("{prefix}{rel}")).body(body).send().await.expect("uploading as the role");
        }
        (exit.code().unwrap_or(128 + std::os::unix::process::ExitStatusExt::signal(&exit).unwrap_or(0)), lines, root)
    }

    /// The job's end: `/opt/ml/model` packed into the output path's
    /// `model.tar.gz` (as the role), and the final status.
    async fn complete(&self, name: &str, root: &Path, exit: i32, stopped: bool) {
        if stopped {
            self.set_status(name, Some("Stopped"), "Stopped", None);
            return;
        }
        if exit != 0 {
            self.set_status(name, Some("Failed"), "Failed", Some(&format!("AlgorithmError: the container exited with code {exit}")));
            return;
        }
        self.set_status(name, None, "Uploading", None);
        let job = self.sm.describe_training_job().training_job_name(name).send().await.unwrap();
        let output = job.output_data_config().unwrap().s3_output_path().unwrap().trim_end_matches('/').to_string();
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        let model = root.join("model");
        std::fs::create_dir_all(&model).unwrap();
        tar.append_dir_all(".", &model).unwrap();
        let bytes = tar.into_inner().unwrap().finish().unwrap();
        let (bucket, prefix) = split_s3(&format!("{output}/{name}/output/model.tar.gz"));
        self.s3.put_object().bucket(bucket).key(prefix).body(bytes.into()).send().await.expect("writing the model as the role");
        self.set_status(name, Some("Completed"), "Completed", None);
    }

    /// Until the job is Stopping (a StopTrainingJob), or `limit` passes.
    async fn wait_for_stopping(&self, name: &str, limit: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.status(name).await.0 == "Stopping" {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }
}

fn sigterm(c: &Container) {
    unsafe { libc::kill(c.child.id() as i32, libc::SIGTERM) };
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The tags of the workspace's training jobs (what StopTrainingJob's
/// aws:ResourceTag reads).
async fn known(w: &World) -> Known {
    let mut known = Known::default();
    for name in w.training_jobs().await {
        let arn = format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{name}");
        let tags = w.sm.list_tags().resource_arn(&arn).send().await.unwrap();
        known.tags.insert(
            arn,
            tags.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect(),
        );
    }
    known
}


const TASK: &str = r#"name: train
workdir: code
secrets: [HF_TOKEN]
run: python3 train.py
num_nodes: 2
resources:
  instance_type: ml.g5.xlarge
  use_spot: true
  disk_size: 50
  max_runtime: 3600
  image_id: docker:123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1
"#;

#[tokio::test(flavor = "multi_thread")]
async fn run_creates_one_training_job_with_every_setting_and_the_policy_allows_exactly_it() {
    let w = world().await;
    let task = w.task("train", TASK);
    // Bad input changes nothing: an AMI where SageMaker needs an image, a
    // type SageMaker does not train on, a missing secret.
    let ami = w.task("ami", &TASK.replace("docker:123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1", "ami-0123456789abcdef0"));
    let refused = w.run(&["run", ami.to_str().unwrap(), "--backend", "sagemaker", "--detach"]);
    assert!(refused.stderr.contains("docker:") && refused.code == 125, "{}", refused.stderr);
    assert!(refused.stderr.contains(&format!("{}:11: resources.image_id", ami.display())), "the file and line of the field: {}", refused.stderr);
    let burst = w.task("burst", &TASK.replace("ml.g5.xlarge", "ml.t2.nano"));
    let refused = w.run(&["run", burst.to_str().unwrap(), "--backend", "sagemaker", "--detach"]);
    assert!(refused.stderr.contains("ml.t2.nano") && refused.code == 125, "{}", refused.stderr);
    let refused = w.run(&["run", task.to_str().unwrap(), "--backend", "sagemaker", "--detach"]);
    refused.expect_code(125);
    assert!(refused.stderr.contains("HF_TOKEN"), "{}", refused.stderr);
    // VPC mode needs a role with EC2 network-interface permissions.
    let vpc = w.env.command(env!("CARGO_BIN_EXE_hoist")).args(["run", task.to_str().unwrap(), "--backend", "sagemaker", "-d"]).env("HOIST_SAGEMAKER_SUBNET_IDS", "subnet-0123").output().unwrap();
    let vpc_err = String::from_utf8_lossy(&vpc.stderr);
    assert!(vpc.status.code() == Some(125) && vpc_err.contains("sagemaker_role"), "{vpc_err}");
    assert!(w.training_jobs().await.is_empty(), "a refused run created a training job");

    w.set_secret("HF_TOKEN", SECRET);
    let calls_file = w.dir.path().join("run-calls.jsonl");
    let before = known(&w).await;
    let run = w.run_recorded(
        &["run", task.to_str().unwrap(), "--backend", "sagemaker", "--detach", "--encrypt-inter-node", "-o", "json"],
        &calls_file,
    );
    let took = run.elapsed;
    run.expect_code(0);
    let id = run.json()["id"].as_str().unwrap().to_string();
    common::assert_declared("run", &calls_file);
    let calls = CallLog::read_file(&calls_file).unwrap();
    let uploads = calls.iter().filter(|c| c.operation == "UploadPart").count();
    eprintln!("sagemaker run --detach: {} API calls ({uploads} of them agent binary parts), {:.0} ms", calls.len(), took.as_secs_f64() * 1000.0);

    // One training job, every setting read back from the emulator.
    let jobs = w.training_jobs().await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let name = &jobs[0];
    assert_eq!(name, &format!("hoist-{WS}--{id}-1"));
    let d = w.describe(name).await;
    assert_eq!(d.role_arn(), Some(format!("arn:aws:iam::{ACCOUNT}:role/hoist-{WS}-sagemaker").as_str()));
    let algo = d.algorithm_specification().unwrap();
    assert_eq!(algo.training_image(), Some(IMAGE));
    let entry = algo.container_entrypoint();
    assert_eq!(&entry[..2], &["/bin/sh", "-c"]);
    assert!(entry[2].contains(&format!("agent --sagemaker /opt/ml --store s3://{} --logs stdout: --job '{id}'", bucket())), "{}", entry[2]);
    assert!(!entry.concat().contains(SECRET) && !format!("{d:?}").contains(SECRET), "a secret value reached SageMaker");
    let rc = d.resource_config().unwrap();
    assert_eq!(rc.instance_type().map(|t| t.as_str()), Some("ml.g5.xlarge"));
    assert_eq!(rc.instance_count(), Some(2), "num_nodes");
    assert_eq!(rc.volume_size_in_gb(), Some(50), "disk_size");
    let stop = d.stopping_condition().unwrap();
    assert_eq!(stop.max_runtime_in_seconds(), Some(3600), "max_runtime");
    assert!(stop.max_wait_time_in_seconds().unwrap() >= 3600, "managed spot waits at least the runtime");
    assert_eq!(d.enable_managed_spot_training(), Some(true));
    assert_eq!(d.enable_inter_container_traffic_encryption(), Some(true));
    assert_eq!(d.enable_network_isolation(), Some(false));
    let ckpt = d.checkpoint_config().unwrap();
    assert_eq!(ckpt.s3_uri(), Some(format!("s3://{}/jobs/{id}/checkpoints/", bucket()).as_str()));
    assert_eq!(ckpt.local_path(), Some("/opt/ml/checkpoints"));
    assert_eq!(d.output_data_config().unwrap().s3_output_path(), Some(format!("s3://{}/jobs/{id}/output/", bucket()).as_str()));
    let channels = d.input_data_config();
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0].channel_name(), Some("hoist"));
    let uri = channels[0].data_source().unwrap().s3_data_source().unwrap().s3_uri().unwrap();
    let (_, key) = split_s3(uri);
    let binary = w.s3.head_object().bucket(bucket()).key(&key).send().await.expect("the agent binary, where the channel points");
    assert_eq!(binary.content_length(), Some(std::fs::metadata(env!("CARGO_BIN_EXE_hoist")).unwrap().len() as i64));
    assert_eq!(d.environment().unwrap().get("HOIST_JOB_ID"), Some(&id));
    let tags = w.sm.list_tags().resource_arn(d.training_job_arn().unwrap()).send().await.unwrap();
    let tag = |k: &str| tags.tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value()).map(str::to_string);
    assert_eq!(tag("hoist:workspace").as_deref(), Some(WS));
    assert_eq!(tag("hoist:managed").as_deref(), Some("true"));
    assert_eq!(tag("hoist:job").as_deref(), Some(id.as_str()));

    // The record: pending, as that training job, its nodes algo-1 and
    // algo-2, and where the model will be.
    let record = w.record(&id).await;
    assert_eq!(record["status"], "pending");
    assert_eq!(record["backend"], "sagemaker");
    let placement = &record["attempts"][0]["instance"];
    assert_eq!(placement["instance_id"], name.as_str());
    assert_eq!(placement["instance_type"], "ml.g5.xlarge");
    assert_eq!(placement["market"], "spot");
    assert_eq!(placement["model_artifact"], format!("s3://{}/jobs/{id}/output/{name}/output/model.tar.gz", bucket()));
    let nodes: Vec<&str> = record["attempts"][0]["nodes"].as_array().unwrap().iter().map(|n| n["instance_id"].as_str().unwrap()).collect();
    assert_eq!(nodes, ["algo-1", "algo-2"]);
    assert!(!record.to_string().contains(SECRET));

    let listed = w.run(&["jobs", "-o", "json"]);
    assert!(listed.expect_code(0).stdout.contains(&id), "{}", listed.stdout);
    // The usual submit: the agent binary already in the bucket.
    let warm_file = w.dir.path().join("warm-calls.jsonl");
    let warm = w.run_recorded(&["run", task.to_str().unwrap(), "--backend", "sagemaker", "--detach", "-o", "json"], &warm_file);
    warm.expect_code(0);
    let warm_calls = CallLog::read_file(&warm_file).unwrap();
    assert!(!warm_calls.iter().any(|c| c.operation == "UploadPart" || c.operation == "CreateMultipartUpload"), "the binary went up again");
    eprintln!("sagemaker run --detach, binary already uploaded: {} API calls, {:.0} ms", warm_calls.len(), warm.elapsed.as_secs_f64() * 1000.0);

    // Proof on the wire: `hoist policy run` allows every authorization of
    // every request `run` sent...
    let policies = common::proof::generated(&w.env, "run", REGION);
    let authz = authorizations(&calls, REGION, &before);
    for (op, a) in &authz {
        assert_eq!(decide(&policies, None, REGION, a), Decision::Allow, "{op}: {a:?} is denied by `hoist policy run`");
    }
    assert!(authz.iter().any(|(_, a)| a.action == "iam:PassRole"), "CreateTrainingJob passes the role");
    // ...and the same requests aimed elsewhere are denied.
    let other_ws = |a: &Authz| Authz {
        context: a.context.iter().map(|(k, v)| (k.clone(), if k.contains("hoist:workspace") { "other".into() } else { v.clone() })).collect(),
        ..a.clone()
    };
    let variants: Vec<(&str, Box<dyn Fn(&Authz) -> Option<Authz>>)> = vec![
        ("a training job tagged for another workspace", Box::new(move |a: &Authz| (a.action == "sagemaker:CreateTrainingJob").then(|| other_ws(a)))),
        ("a training job named as another workspace's", Box::new(|a: &Authz| {
            a.action.starts_with("sagemaker:").then(|| a.resource.contains("training-job/")).filter(|x| *x).map(|_| Authz {
                resource: a.resource.replace(&format!("training-job/hoist-{WS}--"), &format!("training-job/hoist-{WS}-a--")),
                ..a.clone()
            })
        })),
        ("passing an administrator's role", Box::new(|a: &Authz| {
            (a.action == "iam:PassRole").then(|| Authz { resource: format!("arn:aws:iam::{ACCOUNT}:role/Admin"), ..a.clone() })
        })),
        ("passing the role to another service", Box::new(|a: &Authz| {
            (a.action == "iam:PassRole").then(|| Authz { context: vec![("iam:PassedToService".into(), "ec2.amazonaws.com".into())], ..a.clone() })
        })),
    ];
    let mut denied = 0;
    for (what, variant) in &variants {
        let hits: Vec<Authz> = authz.iter().filter_map(|(_, a)| variant(a)).collect();
        assert!(!hits.is_empty(), "no request to vary for: {what}");
        for v in hits {
            assert_ne!(decide(&policies, None, REGION, &v), Decision::Allow, "{what}: {v:?} is allowed");
            denied += 1;
        }
    }
    let stop_other = Authz::new(
        "sagemaker:StopTrainingJob",
        format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/hoist-{WS}--x-1"),
        vec![("aws:ResourceTag/hoist:workspace".into(), "other".into())],
    );
    assert_ne!(decide(&policies, None, REGION, &stop_other), Decision::Allow, "stopping a job tagged for another workspace");
    eprintln!(
        "least-privilege proof for `run --backend sagemaker`: {} requests, {} authorizations allowed, {} out-of-scope variants denied",
        calls.len(),
        authz.len(),
        denied + 1
    );
}

/// Prints a secret, writes a checkpoint and an artifact.
const AGENT_TASK: &str = r#"name: smjob
workdir: code
secrets: [HF_TOKEN]
checkpoints: ckpt
artifacts: [out/model.txt]
run: |
  echo "start on $SKYPILOT_NODE_RANK of $HOIST_NUM_NODES"
  echo "token=$HF_TOKEN"
  echo "ckpt dir $HOIST_CHECKPOINT_DIR"
  mkdir -p out
  echo weights > out/model.txt
  echo step-3 > ckpt/step
  echo done
resources:
  instance_type: ml.m5.large
  image_id: docker:123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_as_entrypoint_completes_the_job_with_only_the_sagemaker_role() {
    let w = world().await;
    w.set_secret("HF_TOKEN", SECRET);
    let task = w.task("smjob", AGENT_TASK);
    // Attached, as a user would: SageMaker's progress, then the log.
    let mut attached = w
        .env
        .command(env!("CARGO_BIN_EXE_hoist"))
        .args(["run", task.to_str().unwrap(), "--backend", "sagemaker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let name = w.wait_for_training_job(Some(&mut attached)).await;
    let sm = w.runtime().await;
    let calls = w.dir.path().join("agent-calls.jsonl");
    let c = sm.start(&name, 0, &calls).await;
    let (code, lines, root) = sm.end(&name, c).await;
    assert_eq!(code, 0, "the container failed:\n{}", lines.join("\n"));
    sm.complete(&name, &root, code, false).await;
    common::assert_declared("sagemaker", &calls);

    let out = tokio::task::spawn_blocking(move || attached.wait_with_output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "attached run:\n{stdout}\n{stderr}");
    assert!(stderr.contains("sagemaker: Starting"), "SageMaker's progress shown:\n{stderr}");
    assert!(stdout.contains("token=***") && stdout.contains("start on 0 of 1"), "the job's output, from SageMaker's log group, masked:\n{stdout}");
    for shown in [stdout.to_string(), stderr.to_string(), lines.join("\n")] {
        assert!(!shown.contains(SECRET), "a secret leaked:\n{shown}");
    }

    let id = w.record_id_of(&name).await;
    let record = w.record(&id).await;
    assert_eq!(record["status"], "succeeded", "{record:#}");
    assert_eq!(record["attempts"][0]["exit_code"], 0);
    assert!(record["attempts"][0]["agent"]["host"].as_str().unwrap().ends_with("/algo-1"), "{record:#}");
    // The task's `checkpoints: ckpt` is SageMaker's checkpoint directory,
    // which it uploaded to the job's prefix.
    assert!(lines.iter().any(|l| l.ends_with("/checkpoints") && l.starts_with("ckpt dir")), "{lines:?}");
    let step = w.s3.get_object().bucket(bucket()).key(format!("jobs/{id}/checkpoints/step")).send().await.expect("the checkpoint");
    assert_eq!(step.body.collect().await.unwrap().into_bytes().as_ref(), b"step-3\n");
    // The artifact is in the model.tar.gz the record names.
    let artifact = record["attempts"][0]["instance"]["model_artifact"].as_str().unwrap();
    let (b, key) = split_s3(artifact);
    let tgz = w.s3.get_object().bucket(b).key(key).send().await.expect("model.tar.gz").body.collect().await.unwrap().into_bytes();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&tgz[..]));
    let names: Vec<String> = archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().to_string()).collect();
    assert!(names.iter().any(|n| n.ends_with("out/model.txt")), "{names:?}");
    // `hoist logs` reads SageMaker's stream.
    let logs = w.run(&["logs", &id]);
    assert!(logs.expect_code(0).stdout.contains("token=***"), "{}", logs.stdout);

    // The agent's requests, proven against the role's policy and the
    // boundary (the emulator judged only its S3 requests).
    let (inline, boundary) = w.role_policies().await;
    let policies = parse(&[inline]);
    let boundary = Policy::from_value(&boundary).unwrap();
    let recorded = CallLog::read_file(&calls).unwrap();
    let authz = authorizations(&recorded, REGION, &known(&w).await);
    assert!(authz.iter().any(|(_, a)| a.action == "secretsmanager:GetSecretValue"), "the agent read its secret");
    for (op, a) in &authz {
        assert_eq!(decide(&policies, Some(&boundary), REGION, a), Decision::Allow, "{op}: {a:?}");
    }
    let other_secret = Authz::new("secretsmanager:GetSecretValue", format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:hoist/{WS}-a/HF_TOKEN-AbC123"), vec![]);
    assert_ne!(decide(&policies, Some(&boundary), REGION, &other_secret), Decision::Allow, "another workspace's secret");
}

impl World {
    /// The job id a training job runs (its `HOIST_JOB_ID`).
    async fn record_id_of(&self, name: &str) -> String {
        self.describe(name).await.environment().unwrap()["HOIST_JOB_ID"].clone()
    }
}

const LONG_TASK: &str = r#"name: long
checkpoints: ckpt
run: |
  trap 'echo "got SIGTERM"; exit 143' TERM
  if [ -f ckpt/step ]; then echo "resumed at $(cat ckpt/step)"; exit 0; fi
  echo 7 > ckpt/step
  echo "rank $HOIST_NODE_RANK of $SKYPILOT_NUM_NODES peers $(echo $HOIST_NODE_IPS | tr '\n' ',')"
  sleep 120 & wait
resources:
  instance_type: ml.m5.large
  use_spot: true
  image_id: docker:123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1
"#;

#[tokio::test(flavor = "multi_thread")]
async fn cancel_stops_the_training_job_and_destroy_stops_what_runs() {
    let w = world().await;
    let task = w.task("long", LONG_TASK);
    let id = w.submit(&task, &[]);
    let name = w.wait_for_training_job(None).await;
    let sm = w.runtime().await;
    let calls = w.dir.path().join("cancel-agent-calls.jsonl");
    let c = sm.start(&name, 0, &calls).await;
    // Wait until the job runs (its record says so).
    let started = Instant::now();
    while w.record(&id).await["status"] != "running" {
        assert!(started.elapsed() < Duration::from_secs(60), "the agent never started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cancel_calls = w.dir.path().join("cancel-calls.jsonl");
    let mut cancel = w.env.command(env!("CARGO_BIN_EXE_hoist")).args(["cancel", &id]).env("HOIST_RECORD_CALLS", &cancel_calls).spawn().unwrap();
    // SageMaker's part: StopTrainingJob sends the container SIGTERM.
    assert!(sm.wait_for_stopping(&name, Duration::from_secs(60)).await, "cancel did not stop the training job");
    sigterm(&c);
    let (code, lines, root) = sm.end(&name, c).await;
    sm.complete(&name, &root, code, true).await;
    assert!(lines.iter().any(|l| l.contains("cancel requested")), "{lines:?}");
    let status = tokio::task::spawn_blocking(move || cancel.wait().unwrap()).await.unwrap();
    assert!(status.success(), "hoist cancel failed");
    common::assert_declared("cancel", &cancel_calls);
    let record = w.record(&id).await;
    assert_eq!(record["status"], "cancelled", "{record:#}");
    assert_eq!(sm.status(&name).await.0, "Stopped");

    // destroy stops the workspace's running training jobs (they cannot be
    // deleted), and leaves another workspace's alone.
    let second = w.submit(&task, &[]);
    let second_job = format!("hoist-{WS}--{second}-1");
    let mut other_env = w.emu.env();
    other_env.set("HOIST_WORKSPACE", "ml-a").set("HOIST_AGENT_BINARY", env!("CARGO_BIN_EXE_hoist"));
    hoist(&other_env, &["init", "--yes", "-q"]).expect_code(0);
    let theirs = hoist(&other_env, &["run", task.to_str().unwrap(), "--backend", "sagemaker", "--detach", "-o", "json"]);
    let theirs = format!("hoist-ml-a--{}-1", theirs.expect_code(0).json()["id"].as_str().unwrap());
    // SageMaker ends a stopped job that never started (played here).
    let stopper = {
        let sm = w.runtime().await;
        let name = second_job.clone();
        tokio::spawn(async move {
            if sm.wait_for_stopping(&name, Duration::from_secs(120)).await {
                sm.set_status(&name, Some("Stopped"), "Stopped", None);
            }
        })
    };
    let destroy = w.run(&["destroy", "--yes", "-o", "json"]);
    destroy.expect_code(0);
    stopper.await.unwrap();
    assert!(destroy.stdout.contains(&second_job), "destroy lists the training job it stopped:\n{}", destroy.stdout);
    assert_eq!(sm.status(&second_job).await.0, "Stopped");
    assert_eq!(sm.status(&theirs).await.0, "InProgress", "another workspace's training job was touched");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_see_their_ranks_and_a_spot_restart_resumes_from_the_checkpoint() {
    let w = world().await;
    let task = w.task("long", &LONG_TASK.replace("run: |", "num_nodes: 2\nrun: |"));
    let id = w.submit(&task, &[]);
    let name = w.wait_for_training_job(None).await;
    let sm = w.runtime().await;
    let calls = w.dir.path().join("node-calls.jsonl");
    let lead = sm.start(&name, 0, &calls).await;
    let worker = sm.start(&name, 1, &calls).await;
    let started = Instant::now();
    loop {
        let r = w.record(&id).await;
        let nodes = r["attempts"][0]["nodes"].as_array().cloned().unwrap_or_default();
        if r["status"] == "running" && nodes.iter().any(|n| n["rank"] == 1 && n["status"] == "running") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the nodes never ran: {r:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Spot capacity reclaimed: SageMaker stops both containers, keeps
    // their checkpoint, and restarts the job when capacity is back.
    sm.set_status(&name, None, "Interrupted", None);
    sigterm(&lead);
    sigterm(&worker);
    let (_, worker_lines, _) = sm.end(&name, worker).await;
    let (_, lead_lines, _) = sm.end(&name, lead).await;
    assert!(lead_lines.iter().any(|l| l.starts_with("rank 0 of 2 peers ")), "{lead_lines:?}");
    assert!(worker_lines.iter().any(|l| l.starts_with("rank 1 of 2 peers ")), "{worker_lines:?}");
    let record = w.record(&id).await;
    assert_eq!(record["status"], "pending", "an interrupted SageMaker attempt waits for SageMaker's restart: {record:#}");
    assert_eq!(w.run(&["jobs", "-o", "json"]).json()[0]["status"], "pending", "reconciling keeps it: the training job is InProgress");

    sm.set_status(&name, None, "Restarting", None);
    let lead = sm.start(&name, 0, &calls).await;
    let worker = sm.start(&name, 1, &calls).await;
    let (lead_code, lead_lines, root) = sm.end(&name, lead).await;
    let (_, _, _) = sm.end(&name, worker).await;
    assert!(lead_lines.iter().any(|l| l == "resumed at 7"), "the restart resumed from the checkpoint: {lead_lines:?}");
    sm.complete(&name, &root, lead_code, false).await;
    let record = w.record(&id).await;
    assert_eq!(record["status"], "succeeded", "{record:#}");
    assert_eq!(record["attempts"].as_array().unwrap().len(), 1, "SageMaker's restart is the same attempt");
    // Each host's output is its own stream; `--node 1` reads the worker's.
    let node1 = w.run(&["logs", &id, "--node", "1"]);
    assert!(node1.expect_code(0).stdout.contains("rank 1 of 2"), "{}", node1.stdout);
    common::assert_declared("sagemaker", &calls);

    // `--resume` is a new attempt: a new training job on the same
    // checkpoint prefix.
    let resumed = w.run(&["run", "--resume", &id, "--detach"]);
    resumed.expect_code(0);
    let second = format!("hoist-{WS}--{id}-2");
    let d = w.describe(&second).await;
    assert_eq!(d.checkpoint_config().unwrap().s3_uri(), Some(format!("s3://{}/jobs/{id}/checkpoints/", bucket()).as_str()));
}

/// The answer to CreateTrainingJob is lost after SageMaker created the job:
/// the SDK sends the request again, SageMaker answers ResourceInUse (the
/// name is taken, by this very attempt's job: names carry the job and the
/// attempt), and hoist takes that job as the attempt's: one training job,
/// the run succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_create_answer_is_the_same_training_job() {
    use hoist_testkit::proxy::{Fault, FaultConfig, FaultProxy};
    let w = world().await;
    let task = w.task("sleeper", "name: sleeper\nrun: sleep 1\nresources:\n  image_id: docker:123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1\n");
    let proxy = FaultProxy::start(w.emu.endpoint(), FaultConfig::default().fault_at("CreateTrainingJob", 1, Fault::LostResponse));
    let mut env = w.emu.env();
    env.set("HOIST_WORKSPACE", WS).set("AWS_ENDPOINT_URL", proxy.endpoint()).set("HOIST_AGENT_BINARY", env!("CARGO_BIN_EXE_hoist"));
    let run = hoist(&env, &["run", task.to_str().unwrap(), "--backend", "sagemaker", "-d", "-o", "json"]);
    run.expect_code(0);
    let creates: Vec<_> = proxy.exchanges().into_iter().filter(|e| e.operation == "CreateTrainingJob").collect();
    assert_eq!(creates.len(), 2, "the lost answer was retried: {creates:?}");
    assert_eq!(creates[0].injected, Some(Fault::LostResponse));
    assert!(run.stderr.contains("already exists: it is this attempt's"), "{}", run.stderr);
    let id = run.json()["id"].as_str().unwrap().to_string();
    assert_eq!(w.training_jobs().await, vec![format!("hoist-{WS}--{id}-1")]);
    assert_eq!(w.record(&id).await["attempts"][0]["instance"]["instance_id"], format!("hoist-{WS}--{id}-1"));
}

/// `--network-isolation`: the container reaches nothing, so the record and
/// the bundle come as input channels and the agent works on a copy;
/// SageMaker's status is what `hoist` then records.
#[tokio::test(flavor = "multi_thread")]
async fn an_isolated_job_runs_from_its_channels_and_sagemaker_says_how_it_ended() {
    let w = world().await;
    let task = w.task(
        "iso",
        "name: iso\nworkdir: code\nrun: python3 train.py && echo isolated-ok\nresources:\n  image_id: docker:123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1\n",
    );
    let id = w.submit(&task, &["--network-isolation"]);
    let name = w.wait_for_training_job(None).await;
    let d = w.describe(&name).await;
    assert_eq!(d.enable_network_isolation(), Some(true));
    let channels: Vec<&str> = d.input_data_config().iter().filter_map(|c| c.channel_name()).collect();
    assert_eq!(channels, ["hoist", "job", "code"]);
    let sm = w.runtime().await;
    let calls = w.dir.path().join("iso-agent-calls.jsonl");
    let c = sm.start(&name, 0, &calls).await;
    let (code, lines, root) = sm.end(&name, c).await;
    assert_eq!(code, 0, "{lines:?}");
    assert!(lines.iter().any(|l| l == "training") && lines.iter().any(|l| l == "isolated-ok"), "the bundle's code ran: {lines:?}");
    let sent = CallLog::read_file(&calls).unwrap_or_default();
    assert!(sent.is_empty(), "an isolated agent sent requests: {:?}", sent.iter().map(|c| &c.operation).collect::<Vec<_>>());
    assert_eq!(w.record(&id).await["status"], "pending", "nothing in AWS heard from the agent");
    sm.complete(&name, &root, code, false).await;
    let jobs = w.run(&["jobs", "-o", "json"]);
    let listed = jobs.expect_code(0).json();
    let job = listed.as_array().unwrap().iter().find(|j| j["id"] == id.as_str()).unwrap().clone();
    assert_eq!(job["status"], "succeeded", "reconciled with SageMaker's status: {job:#}");
}
