//! `hoist run --backend ec2` against the emulator, end to end.
//!
//! What moto judges and what it does not (AWS-FACTS): moto keeps every
//! RunInstances setting and reads it back, but ignores `ClientToken`,
//! never boots an instance, and judges IAM for S3, IAM and STS only. So:
//!
//! - the launch's settings are read back from the emulator;
//! - the instance's side is the real `hoist agent` binary run here as that
//!   instance: signed as a user holding exactly the instance role's
//!   policy (S3 judged by the emulator), told by a fake metadata service
//!   (`hoist_testkit::imds`) which instance it is and when spot capacity
//!   is reclaimed;
//! - what the emulator does not judge (EC2, Secrets Manager, SSM, CloudWatch
//!   Logs, and every condition) is proven with `hoist-iam` on the requests
//!   hoist sent (`hoist_testkit::wire`): the user's `run` requests against
//!   `hoist policy run`, the agent's against the instance role's policy
//!   and the workspace's boundary.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Run, hoist, hoist_declared};
use hoist_aws::record::{Call, CallLog};
use hoist_iam::{Decision, Policy};
use hoist_testkit::imds::FakeImds;
use hoist_testkit::wire::{Authz, Known};
use hoist_testkit::{ACCOUNT, Emulator, EmulatorOptions, IsolatedEnv, Keys};
use serde_json::Value;

const WS: &str = "ml";
const REGION: &str = "us-east-1";
const SECRET: &str = "hf_Secr3tValue_9f8e7d";
/// A multi-line secret (a key): every line of it is masked.
const PEM: &str = "-----BEGIN KEY-----\nQUJDREVGR0hJSktMTU5PUA==\nUVJTVFVWV1hZWjAxMjM0NQ==\n-----END KEY-----";

struct World {
    emu: Emulator,
    env: IsolatedEnv,
    dir: tempfile::TempDir,
    ec2: aws_sdk_ec2::Client,
    s3: aws_sdk_s3::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    iam: aws_sdk_iam::Client,
}

fn bucket() -> String {
    format!("hoist-{WS}-{ACCOUNT}-{REGION}")
}

/// An emulator judging IAM, the workspace set up by an administrator, and
/// a small stand-in agent binary (a debug build of hoist is large; the
/// automatic upload of the running binary has its own test).
async fn world() -> World {
    let emu = Emulator::start_with(EmulatorOptions { enforce_iam: true, ..Default::default() }).await;
    let mut env = emu.env();
    env.set("HOIST_WORKSPACE", WS);
    let dir = tempfile::tempdir().unwrap();
    // Any small x86-64 executable will do: the emulator never boots it.
    let fake_binary = dir.path().join("hoist-agent-linux");
    std::fs::copy("/bin/true", &fake_binary).unwrap();
    env.set("HOIST_AGENT_BINARY", &fake_binary);
    hoist(&env, &["init", "--yes", "-q"]).expect_code(0);
    let sdk = emu.sdk_config().await;
    World {
        ec2: aws_sdk_ec2::Client::new(&sdk),
        s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build()),
        logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
        iam: aws_sdk_iam::Client::new(&sdk),
        emu,
        env,
        dir,
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

    /// `hoist ARGS`, recording the AWS requests it sends to `calls`.
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

    /// The workspace's instances, by attempt tag, in any state.
    async fn instances(&self) -> Vec<aws_sdk_ec2::types::Instance> {
        let out = self
            .ec2
            .describe_instances()
            .filters(aws_sdk_ec2::types::Filter::builder().name("tag:hoist:workspace").values(WS).build())
            .send()
            .await
            .unwrap();
        out.reservations().iter().flat_map(|r| r.instances().to_vec()).collect()
    }

    /// The instance role's own policy, as `init` put it, and the boundary.
    async fn instance_role_policies(&self) -> (Value, Value) {
        let role = format!("hoist-{WS}-instance");
        let inline = self.iam.get_role_policy().role_name(&role).policy_name("hoist").send().await.expect("instance role policy");
        let inline: Value = serde_json::from_str(&decode(inline.policy_document())).unwrap();
        let arn = format!("arn:aws:iam::{ACCOUNT}:policy/hoist-{WS}-boundary");
        let p = self.iam.get_policy().policy_arn(&arn).send().await.unwrap();
        let v = p.policy().unwrap().default_version_id().unwrap().to_string();
        let doc = self.iam.get_policy_version().policy_arn(&arn).version_id(v).send().await.unwrap();
        let boundary: Value = serde_json::from_str(&decode(doc.policy_version().unwrap().document().unwrap())).unwrap();
        (inline, boundary)
    }

    /// Keys of a user holding exactly the instance role's policy: how the
    /// agent signs on the instance.
    async fn instance_keys(&self) -> Keys {
        let (inline, _) = self.instance_role_policies().await;
        self.emu.create_user_with_managed_policies("instance", &[inline]).await
    }

    /// The agent, run here as the instance `imds` says this is, signed
    /// with `keys`; its requests recorded to `calls`.
    fn agent(&self, keys: &Keys, imds: &FakeImds, id: &str, calls: &Path) -> Child {
        let mut env = self.emu.env_for(keys);
        env.set("HOIST_WORKSPACE", WS).set("HOIST_S3_PART_SIZE", (5u64 << 20).to_string()).set("HOIST_RECORD_CALLS", calls);
        let scratch = self.dir.path().join(format!("scratch-{}", calls.file_stem().unwrap().to_string_lossy()));
        env.command(env!("CARGO_BIN_EXE_hoist"))
            .args(["agent", "--store", &format!("s3://{}", bucket()), "--logs", &format!("cloudwatch:/hoist/{WS}/jobs"), "--job", id])
            .args(["--ec2", imds.url(), "--spot-poll-interval", "200ms", "--heartbeat-interval", "500ms", "--checkpoint-interval", "1h"])
            .args(["--grace", "2s", "--scratch"])
            .arg(scratch)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    async fn log_lines(&self, id: &str, attempt: u32) -> Vec<String> {
        self.stream_lines(&format!("{id}/{attempt}")).await
    }

    async fn stream_lines(&self, stream: &str) -> Vec<String> {
        let out = self
            .logs
            .get_log_events()
            .log_group_name(format!("/hoist/{WS}/jobs"))
            .log_stream_name(stream)
            .start_from_head(true)
            .send()
            .await;
        // Not there yet: the agent has not started.
        let Ok(out) = out else { return Vec::new() };
        out.events().iter().map(|e| e.message().unwrap_or_default().to_string()).collect()
    }
}

fn decode(doc: &str) -> String {
    hoist_testkit::wire::percent_decode(doc, false)
}

fn wait_output(child: Child, what: &str) -> std::process::Output {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.code().is_some(),
        "{what} died by a signal\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn authorizations(calls: &[Call], known: &Known) -> Vec<(String, Authz)> {
    common::proof::authorizations(calls, REGION, known)
}

fn decide(policies: &[Policy], boundary: Option<&Policy>, a: &Authz) -> Decision {
    common::proof::decide(policies, boundary, REGION, a)
}

use common::proof::parse;

/// The tags every EC2 resource has now, and each profile's role: what
/// authorization reads that requests do not carry.
async fn known(w: &World) -> Known {
    let mut known = Known::default();
    for t in w.ec2.describe_tags().send().await.unwrap().tags() {
        known.tags.entry(t.resource_id().unwrap_or_default().to_string()).or_default().push((
            t.key().unwrap_or_default().to_string(),
            t.value().unwrap_or_default().to_string(),
        ));
    }
    known.profile_roles.insert(format!("hoist-{WS}-instance"), format!("hoist-{WS}-instance"));
    known
}

const TASK: &str = "name: train\nworkdir: code\nsecrets: [HF_TOKEN]\nrun: python3 train.py\nresources:\n  instance_type: m5.large\n  use_spot: true\n  disk_size: 50\n";

#[tokio::test(flavor = "multi_thread")]
async fn run_launches_one_instance_with_every_setting_and_the_policy_allows_exactly_it() {
    let w = world().await;
    let task = w.task("train", TASK);
    // Missing secret: refused before anything is created.
    let refused = w.run(&["run", task.to_str().unwrap(), "--backend", "ec2", "--detach"]);
    refused.expect_code(125);
    assert!(refused.stderr.contains("HF_TOKEN") && refused.stderr.contains("hoist secret set"), "{}", refused.stderr);
    assert!(w.instances().await.is_empty(), "a refused run launched something");

    w.set_secret("HF_TOKEN", SECRET);
    let calls_file = w.dir.path().join("run-calls.jsonl");
    let before = known(&w).await;
    let run = w.run_recorded(&["run", task.to_str().unwrap(), "--backend", "ec2", "--detach", "-o", "json"], &calls_file);
    let took = run.elapsed;
    run.expect_code(0);
    let id = run.json()["id"].as_str().unwrap().to_string();
    common::assert_declared("run", &calls_file);
    let calls = CallLog::read_file(&calls_file).unwrap();
    eprintln!("ec2 run --detach: {} API calls, {:.0} ms", calls.len(), took.as_secs_f64() * 1000.0);

    // One instance, every setting read back from the emulator.
    let instances = w.instances().await;
    assert_eq!(instances.len(), 1, "{instances:?}");
    let i = &instances[0];
    let iid = i.instance_id().unwrap();
    let tag = |k: &str| i.tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value()).map(str::to_string);
    assert_eq!(tag("hoist:managed").as_deref(), Some("true"));
    assert_eq!(tag("hoist:workspace").as_deref(), Some(WS));
    assert_eq!(tag("hoist:job").as_deref(), Some(id.as_str()));
    assert_eq!(i.instance_type().unwrap().as_str(), "m5.large");
    assert_eq!(i.instance_lifecycle().map(|l| l.as_str()), Some("spot"));
    let md = i.metadata_options().unwrap();
    assert_eq!(md.http_tokens().unwrap().as_str(), "required", "IMDSv2 only");
    assert_eq!(md.http_put_response_hop_limit(), Some(1));
    assert!(i.iam_instance_profile().unwrap().arn().unwrap().ends_with(&format!("instance-profile/hoist-{WS}-instance")));
    let sg = i.security_groups().first().unwrap();
    assert_eq!(sg.group_name(), Some(format!("hoist-{WS}").as_str()));
    assert!(i.image_id().unwrap().starts_with("ami-"), "the default image, found through SSM");
    let shutdown = w.ec2.describe_instance_attribute().instance_id(iid).attribute("instanceInitiatedShutdownBehavior".into()).send().await.unwrap();
    assert_eq!(shutdown.instance_initiated_shutdown_behavior().and_then(|v| v.value()), Some("terminate"));
    let volumes = w
        .ec2
        .describe_volumes()
        .filters(aws_sdk_ec2::types::Filter::builder().name("attachment.instance-id").values(iid).build())
        .send()
        .await
        .unwrap();
    let root = &volumes.volumes()[0];
    assert_eq!(root.volume_type().unwrap().as_str(), "gp3");
    assert_eq!(root.encrypted(), Some(true));
    assert_eq!(root.size(), Some(50));
    assert!(root.tags().iter().any(|t| t.key() == Some("hoist:job") && t.value() == Some(id.as_str())), "volume tagged at launch");
    let ud = w.ec2.describe_instance_attribute().instance_id(iid).attribute("userData".into()).send().await.unwrap();
    let script = String::from_utf8(aws_smithy_types::base64::decode(ud.user_data().unwrap().value().unwrap()).unwrap()).unwrap();
    assert!(script.starts_with("#!/bin/bash") && script.contains(&format!("--job '{id}'")) && script.contains("shutdown -h now"), "{script}");
    assert!(!script.contains(SECRET), "user-data holds a secret value");

    // The record: pending, on that instance, with secret names only.
    let record = w.record(&id).await;
    assert_eq!(record["status"], "pending");
    assert_eq!(record["attempts"][0]["instance"]["instance_id"], iid);
    assert_eq!(record["attempts"][0]["instance"]["market"], "spot");
    assert!(!record.to_string().contains(SECRET));
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
    let binaries = w.s3.list_objects_v2().bucket(bucket()).prefix("agent/").send().await.unwrap();
    assert_eq!(binaries.contents().len(), 1, "the agent binary, uploaded once");

    // The retried launch of one attempt carries one idempotency token.
    let tokens: Vec<String> = calls
        .iter()
        .filter(|c| c.operation == "RunInstances")
        .filter_map(|c| c.request.as_ref()?.body.as_deref().map(|b| b.split('&').find(|p| p.starts_with("ClientToken=")).unwrap_or("").to_string()))
        .collect();
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].len() > "ClientToken=".len());

    // Proof on the wire: `hoist policy run` allows every authorization of
    // every request `run` sent...
    let policies = common::proof::generated(&w.env, "run", REGION);
    let authz = authorizations(&calls, &before);
    for (op, a) in &authz {
        assert_eq!(decide(&policies, None, a), Decision::Allow, "{op}: {a:?} is denied by `hoist policy run`");
    }
    // ...and the launch aimed elsewhere is denied: an instance not tagged
    // for the workspace, another workspace's security group, passing
    // another role, terminating another workspace's instance.
    let mut denied = 0;
    let variants: Vec<(&str, Box<dyn Fn(&Authz) -> Option<Authz>>)> = vec![
        ("instance tagged for another workspace", Box::new(|a: &Authz| {
            (a.action == "ec2:RunInstances" && a.resource.contains(":instance/")).then(|| Authz {
                context: a.context.iter().map(|(k, v)| (k.clone(), if k.contains("hoist:workspace") { "other".into() } else { v.clone() })).collect(),
                ..a.clone()
            })
        })),
        ("another workspace's security group", Box::new(|a: &Authz| {
            (a.action == "ec2:RunInstances" && a.resource.contains(":security-group/")).then(|| Authz {
                context: a.context.iter().map(|(k, v)| (k.clone(), if k.contains("hoist:workspace") { "other".into() } else { v.clone() })).collect(),
                ..a.clone()
            })
        })),
        ("passing an administrator's role", Box::new(|a: &Authz| {
            (a.action == "iam:PassRole").then(|| Authz { resource: format!("arn:aws:iam::{ACCOUNT}:role/Admin"), ..a.clone() })
        })),
        ("passing the role to another service", Box::new(|a: &Authz| {
            (a.action == "iam:PassRole").then(|| Authz {
                context: vec![("iam:PassedToService".into(), "lambda.amazonaws.com".into())],
                ..a.clone()
            })
        })),
        ("another workspace's secret", Box::new(|a: &Authz| {
            a.action.starts_with("secretsmanager:").then(|| a.resource != "*").filter(|x| *x).map(|_| Authz {
                resource: a.resource.replace(&format!("hoist/{WS}/"), &format!("hoist/{WS}-a/")),
                ..a.clone()
            })
        })),
    ];
    for (what, variant) in &variants {
        let hits: Vec<Authz> = authz.iter().filter_map(|(_, a)| variant(a)).collect();
        assert!(!hits.is_empty(), "no request to vary for: {what}");
        for v in hits {
            assert_ne!(decide(&policies, None, &v), Decision::Allow, "{what}: {v:?} is allowed");
            denied += 1;
        }
    }
    let terminate = Authz::new(
        "ec2:TerminateInstances",
        format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"),
        vec![("aws:ResourceTag/hoist:workspace".into(), "other".into())],
    );
    assert_ne!(decide(&policies, None, &terminate), Decision::Allow, "terminating another workspace's instance");
    eprintln!(
        "least-privilege proof for `run`: {} requests, {} authorizations allowed, {} out-of-scope variants denied",
        calls.len(),
        authz.len(),
        denied + 1
    );
}

/// A job whose `run` prints a blank line, its secrets, and writes a
/// checkpoint larger than a multipart part.
const AGENT_TASK: &str = r#"name: agentjob
workdir: code
secrets: [HF_TOKEN, SSH_KEY]
checkpoints: ckpt
run: |
  echo "start"
  echo ""
  echo "token=$HF_TOKEN"
  echo "$SSH_KEY"
  mkdir -p ckpt
  head -c 6291456 /dev/urandom > ckpt/model.bin
  echo "done"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_on_the_instance_completes_the_job_with_only_the_instance_role() {
    let w = world().await;
    w.set_secret("HF_TOKEN", SECRET);
    w.set_secret("SSH_KEY", PEM);
    let task = w.task("agentjob", AGENT_TASK);
    // Attached, as a user would: it follows the log and ends with the job.
    let mut attached = w
        .env
        .command(env!("CARGO_BIN_EXE_hoist"))
        .args(["run", task.to_str().unwrap(), "--backend", "ec2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let (id, iid) = loop {
        let found = w.instances().await;
        if let Some(i) = found.first() {
            let tag = |k: &str| i.tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value()).unwrap().to_string();
            break (tag("hoist:job"), i.instance_id().unwrap().to_string());
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no instance launched");
        assert!(attached.try_wait().unwrap().is_none(), "hoist run ended before launching");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let keys = w.instance_keys().await;
    let imds = FakeImds::start(&iid);
    let calls = w.dir.path().join("agent-calls.jsonl");
    let agent = wait_output(w.agent(&keys, &imds, &id, &calls), "the agent");
    assert_eq!(agent.status.code(), Some(0), "agent failed:\n{}", String::from_utf8_lossy(&agent.stderr));
    common::assert_declared("agent", &calls);
    assert_eq!(imds.tokenless_requests(), 0, "the agent asked the metadata service without an IMDSv2 token");
    assert!(imds.requests() >= 2, "the agent never asked the metadata service");

    let out = attached.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "attached run:\n{stdout}\n{stderr}");
    assert!(stdout.contains("token=***"), "the job's output streamed from CloudWatch, masked:\n{stdout}");
    for shown in [&stdout, &stderr] {
        assert!(!shown.contains(SECRET) && !shown.contains("QUJDREVGR0hJSktMTU5PUA=="), "a secret leaked:\n{shown}");
    }

    let record = w.record(&id).await;
    assert_eq!(record["status"], "succeeded", "{record:#}");
    assert_eq!(record["attempts"][0]["agent"]["host"], iid.as_str(), "the agent knows its instance");
    let lines = w.log_lines(&id, 1).await;
    assert!(lines.iter().any(|l| l == "start") && lines.iter().any(|l| l == "done"), "{lines:?}");
    assert!(lines.iter().any(|l| l.trim().is_empty()), "the blank line reached CloudWatch (as a space): {lines:?}");
    assert!(lines.iter().any(|l| l == "token=***"), "{lines:?}");
    let joined = lines.join("\n");
    assert!(!joined.contains(SECRET) && !joined.contains("QUJDREVGR0hJSktMTU5PUA==") && !joined.contains("UVJTVFVWV1hZWjAxMjM0NQ=="), "{joined}");

    let ckpt = w.s3.head_object().bucket(bucket()).key(format!("jobs/{id}/checkpoints/model.bin")).send().await.expect("the checkpoint");
    assert_eq!(ckpt.content_length(), Some(6 << 20));
    let recorded = CallLog::read_file(&calls).unwrap();
    assert!(recorded.iter().any(|c| c.operation == "UploadPart"), "a checkpoint over the part size goes up in parts");

    // The instance ends with its job: the attached run terminated it (on
    // AWS the bootstrap also powers it off, and it was launched to
    // terminate on shutdown).
    let state = w.instances().await.into_iter().find(|i| i.instance_id() == Some(iid.as_str())).unwrap();
    assert_eq!(state.state().unwrap().name().unwrap().as_str(), "terminated");

    // The agent's requests, proven against the instance role's policy and
    // the boundary (moto judged only its S3 requests).
    let (inline, boundary) = w.instance_role_policies().await;
    let policies = parse(&[inline]);
    let boundary = Policy::from_value(&boundary).unwrap();
    let authz = authorizations(&recorded, &known(&w).await);
    for (op, a) in &authz {
        assert_eq!(decide(&policies, Some(&boundary), a), Decision::Allow, "{op}: {a:?}");
    }
    let other_secret = Authz::new("secretsmanager:GetSecretValue", format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:hoist/{WS}-a/HF_TOKEN-AbC123"), vec![]);
    assert_ne!(decide(&policies, Some(&boundary), &other_secret), Decision::Allow, "another workspace's secret");
}

const SPOT_TASK: &str = r#"name: spotjob
checkpoints: ckpt
run: |
  mkdir -p ckpt
  if [ -f ckpt/step ]; then echo "resumed at $(cat ckpt/step)"; exit 0; fi
  echo 7 > ckpt/step
  echo "waiting to be interrupted"
  sleep 60
resources:
  use_spot: true
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_spot_notice_interrupts_and_the_retry_resumes_from_the_checkpoint() {
    let w = world().await;
    let task = w.task("spotjob", SPOT_TASK);
    let attached = w
        .env
        .command(env!("CARGO_BIN_EXE_hoist"))
        .args(["run", task.to_str().unwrap(), "--backend", "ec2", "--retry-on-interruption", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let keys = w.instance_keys().await;
    let mut attempt_ids = Vec::new();
    for attempt in 1..=2 {
        let started = Instant::now();
        let (id, iid) = loop {
            let found = w.instances().await;
            let tagged = found.iter().find(|i| i.tags().iter().any(|t| t.key() == Some("hoist:attempt") && t.value() == Some(&attempt.to_string())));
            if let Some(i) = tagged {
                let id = i.tags().iter().find(|t| t.key() == Some("hoist:job")).unwrap().value().unwrap().to_string();
                break (id, i.instance_id().unwrap().to_string());
            }
            assert!(started.elapsed() < Duration::from_secs(60), "attempt {attempt} was never launched");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        attempt_ids.push(iid.clone());
        let imds = FakeImds::start(&iid);
        let calls = w.dir.path().join(format!("spot-{attempt}.jsonl"));
        let agent = w.agent(&keys, &imds, &id, &calls);
        if attempt == 1 {
            // Once the job is running and has its checkpoint, EC2 reclaims
            // the capacity.
            let started = Instant::now();
            while !w.log_lines(&id, 1).await.iter().any(|l| l.contains("waiting to be interrupted")) {
                assert!(started.elapsed() < Duration::from_secs(60), "attempt 1 never started");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            imds.schedule_interruption();
            let out = wait_output(agent, "agent 1");
            assert_eq!(out.status.code(), Some(143), "the job was stopped with SIGTERM: {}", String::from_utf8_lossy(&out.stderr));
            let record = w.record(&id).await;
            assert_eq!(record["attempts"][0]["status"], "interrupted");
            assert!(record["attempts"][0]["reason"].as_str().unwrap().contains("spot interruption"), "{record:#}");
            w.s3.head_object().bucket(bucket()).key(format!("jobs/{id}/checkpoints/step")).send().await.expect("checkpoint saved on the notice");
        } else {
            let out = wait_output(agent, "agent 2");
            assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
            let lines = w.log_lines(&id, 2).await;
            assert!(lines.iter().any(|l| l == "resumed at 7"), "attempt 2 resumed from the checkpoint: {lines:?}");
        }
    }
    let out = attached.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("starting attempt 2"), "{stderr}");
    assert_ne!(attempt_ids[0], attempt_ids[1], "a new instance for the new attempt");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_max_runtime_concurrent_resumes_and_destroy() {
    let w = world().await;
    w.set_secret("HF_TOKEN", SECRET);
    let keys = w.instance_keys().await;

    // Cancel before the agent starts: the instance is terminated at once.
    let task = w.task("train", TASK);
    let id = w.run(&["run", task.to_str().unwrap(), "--backend", "ec2", "-d", "-q"]).expect_code(0).stdout.trim().to_string();
    let cancel = hoist_declared(&w.env, &["cancel", &id]);
    cancel.expect_code(0);
    assert!(cancel.stdout.contains("cancelled"), "{}", cancel.stdout);
    assert_eq!(w.record(&id).await["status"], "cancelled");
    let gone = w.instances().await.into_iter().all(|i| i.state().unwrap().name().unwrap().as_str() == "terminated");
    assert!(gone, "the cancelled job's instance was terminated");

    // A running job: the agent sees the request at its next heartbeat.
    let sleeper = w.task("sleeper", "name: sleeper\nrun: echo up; sleep 60\n");
    let id = w.run(&["run", sleeper.to_str().unwrap(), "--backend", "ec2", "-d", "-q"]).expect_code(0).stdout.trim().to_string();
    let iid = w.record(&id).await["attempts"][0]["instance"]["instance_id"].as_str().unwrap().to_string();
    let imds = FakeImds::start(&iid);
    let agent = w.agent(&keys, &imds, &id, &w.dir.path().join("cancel-agent.jsonl"));
    let started = Instant::now();
    while w.record(&id).await["status"] != "running" {
        assert!(started.elapsed() < Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.run(&["cancel", &id]).expect_code(0);
    wait_output(agent, "the cancelled agent");
    let record = w.record(&id).await;
    assert_eq!(record["status"], "cancelled", "{record:#}");
    assert_eq!(record["attempts"][0]["reason"], "cancelled on request");
    let state = w.instances().await.into_iter().find(|i| i.instance_id() == Some(iid.as_str())).unwrap();
    assert_eq!(state.state().unwrap().name().unwrap().as_str(), "terminated", "the cancelled job's instance");

    // Two `--resume` at once: one new attempt, the other told so.
    let resume = || w.env.command(env!("CARGO_BIN_EXE_hoist")).args(["run", "--resume", &id, "-d", "-q"]).stderr(Stdio::piped()).spawn().unwrap();
    let (a, b) = (resume(), resume());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut codes = [a.status.code(), b.status.code()];
    codes.sort();
    // The loser is told why (exit 2, hoist's own failure 125 in `run`).
    assert_eq!(codes, [Some(0), Some(125)], "{}\n{}", String::from_utf8_lossy(&a.stderr), String::from_utf8_lossy(&b.stderr));
    let loser = if a.status.success() { &b } else { &a };
    assert!(String::from_utf8_lossy(&loser.stderr).contains("only a finished job can be resumed"));
    let record = w.record(&id).await;
    assert_eq!(record["attempts"].as_array().unwrap().len(), 2, "exactly one new attempt ({codes:?})");
    let attempt2 = w.instances().await.into_iter().filter(|i| i.tags().iter().any(|t| t.key() == Some("hoist:attempt") && t.value() == Some("2"))).count();
    assert_eq!(attempt2, 1, "one instance for attempt 2");

    // max_runtime: the agent stops the job and records why.
    let slow = w.task("slow", "name: slow\nrun: sleep 30\nresources:\n  max_runtime: 2\n");
    let id = w.run(&["run", slow.to_str().unwrap(), "--backend", "ec2", "-d", "-q"]).expect_code(0).stdout.trim().to_string();
    let iid = w.record(&id).await["attempts"][0]["instance"]["instance_id"].as_str().unwrap().to_string();
    let imds = FakeImds::start(&iid);
    wait_output(w.agent(&keys, &imds, &id, &w.dir.path().join("slow.jsonl")), "the slow agent");
    let record = w.record(&id).await;
    assert_eq!(record["status"], "failed");
    assert!(record["attempts"][0]["reason"].as_str().unwrap().contains("max_runtime"), "{record:#}");

    // `hoist jobs` lists them all, from one listing of the bucket.
    let jobs = hoist(&w.env, &["jobs", "-o", "json"]);
    assert_eq!(jobs.expect_code(0).json().as_array().unwrap().len(), 3);

    // destroy: no instance, volume, security group or secret of the
    // workspace is left.
    hoist_declared(&w.env, &["destroy", "--yes", "-q"]).expect_code(0);
    let live: Vec<_> = w.instances().await.into_iter().filter(|i| i.state().unwrap().name().unwrap().as_str() != "terminated").collect();
    assert!(live.is_empty(), "{live:?}");
    let vols = w.ec2.describe_volumes().filters(aws_sdk_ec2::types::Filter::builder().name("tag:hoist:workspace").values(WS).build()).send().await.unwrap();
    let attached_vols: Vec<_> = vols.volumes().iter().filter(|v| v.state().map(|s| s.as_str()) != Some("deleted")).collect();
    assert!(attached_vols.is_empty(), "volumes left: {attached_vols:?}");
    let sgs = w.ec2.describe_security_groups().filters(aws_sdk_ec2::types::Filter::builder().name("tag:hoist:workspace").values(WS).build()).send().await.unwrap();
    assert!(sgs.security_groups().is_empty());
    let sm = aws_sdk_secretsmanager::Client::new(&w.emu.sdk_config().await);
    let left = sm.list_secrets().send().await.unwrap();
    assert!(left.secret_list().is_empty(), "{:?}", left.secret_list());
}

/// Wait for `child`, returning its exit code and peak resident memory
/// (KiB), from wait4(2)'s rusage for that process alone.
fn wait_rusage(child: Child) -> (i32, i64) {
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: wait4 on our own child with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    std::mem::forget(child); // reaped above
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

/// Checkpoint throughput of the agent against the emulator: a job writes
/// a checkpoint of HOIST_BENCH_CHECKPOINT_MIB (default 1024) MiB, the
/// agent uploads it at the end (multipart, 64 MiB parts, 4 at a time,
/// streamed from disk); a resumed attempt restores it (streamed to disk).
/// Times come from the agent's own log lines; peak memory is the agent
/// process's. Run by `bench/checkpoint.py`; not a timed test.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run by bench/checkpoint.py"]
async fn bench_checkpoint_transfer() {
    let mib: u64 = std::env::var("HOIST_BENCH_CHECKPOINT_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let w = world().await;
    let yaml = format!(
        "name: ckpt\ncheckpoints: ckpt\nrun: |\n  mkdir -p ckpt\n  if [ -f ckpt/model.bin ]; then exit 0; fi\n  head -c {} /dev/zero > ckpt/model.bin\n",
        mib << 20
    );
    let task = w.task("ckpt", &yaml);
    let id = w.run(&["run", task.to_str().unwrap(), "--backend", "ec2", "-d", "-q"]).expect_code(0).stdout.trim().to_string();
    let keys = w.instance_keys().await;
    let mut results = Vec::new();
    for attempt in 1..=2u32 {
        if attempt == 2 {
            w.run(&["run", "--resume", &id, "-d", "-q"]).expect_code(0);
        }
        let iid = w.record(&id).await["attempts"][(attempt - 1) as usize]["instance"]["instance_id"].as_str().unwrap().to_string();
        let imds = FakeImds::start(&iid);
        let mut env = w.emu.env_for(&keys);
        env.set("HOIST_WORKSPACE", WS);
        let scratch = w.dir.path().join(format!("bench-scratch-{attempt}"));
        let spawned = Instant::now();
        let child = env
            .command(env!("CARGO_BIN_EXE_hoist"))
            .args(["agent", "--store", &format!("s3://{}", bucket()), "--logs", &format!("cloudwatch:/hoist/{WS}/jobs"), "--job", &id])
            .args(["--ec2", imds.url(), "--checkpoint-interval", "1h", "--scratch"])
            .arg(&scratch)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let spawned_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
            - spawned.elapsed().as_millis() as i64;
        let (code, peak_kib) = wait_rusage(child);
        assert_eq!(code, 0);
        let events = w
            .logs
            .get_log_events()
            .log_group_name(format!("/hoist/{WS}/jobs"))
            .log_stream_name(format!("{id}/{attempt}"))
            .start_from_head(true)
            .send()
            .await
            .unwrap();
        let at = |needle: &str| events.events().iter().find(|e| e.message().unwrap_or_default().contains(needle)).and_then(|e| e.timestamp());
        let (what, ms) = if attempt == 1 {
            ("upload", at("checkpoint saved").unwrap() - at("run exited").unwrap())
        } else {
            ("restore", at("restored checkpoint").unwrap() - spawned_ms)
        };
        let rate = mib as f64 / (ms.max(1) as f64 / 1000.0);
        eprintln!("BENCH {what} {mib} MiB: {ms} ms, {rate:.0} MiB/s, agent peak RSS {} MiB", peak_kib / 1024);
        results.push((what, ms, peak_kib));
    }
}

/// The answer to RunInstances is lost after EC2 launched the instance:
/// the SDK sends the request again, with the same ClientToken, so AWS
/// answers with the instance it already launched (AWS's documented
/// idempotency; moto ignores the token and would launch a second one, so
/// what is proven here is that the retry carries the same token, and that
/// hoist then records one instance).
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_launch_answer_is_retried_with_the_same_client_token() {
    use hoist_testkit::proxy::{Fault, FaultConfig, FaultProxy};
    let w = world().await;
    let task = w.task("sleeper", "name: sleeper\nrun: sleep 1\n");
    let proxy = FaultProxy::start(w.emu.endpoint(), FaultConfig::default().fault_at("RunInstances", 1, Fault::LostResponse));
    let mut env = w.emu.env();
    env.set("HOIST_WORKSPACE", WS).set("AWS_ENDPOINT_URL", proxy.endpoint()).set("HOIST_AGENT_BINARY", w.dir.path().join("hoist-agent-linux"));
    let run = hoist(&env, &["run", task.to_str().unwrap(), "--backend", "ec2", "-d", "-o", "json"]);
    run.expect_code(0);
    let launches: Vec<_> = proxy.exchanges().into_iter().filter(|e| e.operation == "RunInstances").collect();
    assert_eq!(launches.len(), 2, "the lost answer was retried: {launches:?}");
    assert_eq!(launches[0].injected, Some(Fault::LostResponse));
    assert_eq!(launches[0].identity, launches[1].identity, "the retry is the same request, ClientToken included");
    let id = run.json()["id"].as_str().unwrap().to_string();
    let record = w.record(&id).await;
    assert_eq!(record["attempts"].as_array().unwrap().len(), 1);
    assert!(record["attempts"][0]["instance"]["instance_id"].as_str().unwrap().starts_with("i-"));
}

/// No capacity in the first zone (EC2 answers InsufficientInstanceCapacity
/// to every try there): hoist says so and launches in the next subnet.
#[tokio::test(flavor = "multi_thread")]
async fn no_capacity_in_one_zone_tries_the_next_subnet() {
    use hoist_testkit::proxy::{Fault, FaultConfig, FaultProxy};
    let w = world().await;
    let task = w.task("sleeper", "name: sleeper\nrun: sleep 1\nresources:\n  use_spot: true\n");
    // The SDK retries a 500 (three attempts in all): every one of them.
    let cfg = (1..=3).fold(FaultConfig::default(), |c, n| c.fault_at("RunInstances", n, Fault::NoCapacity));
    let proxy = FaultProxy::start(w.emu.endpoint(), cfg);
    let mut env = w.emu.env();
    env.set("HOIST_WORKSPACE", WS).set("AWS_ENDPOINT_URL", proxy.endpoint()).set("HOIST_AGENT_BINARY", w.dir.path().join("hoist-agent-linux"));
    let run = hoist(&env, &["run", task.to_str().unwrap(), "--backend", "ec2", "-d", "-o", "json"]);
    run.expect_code(0);
    assert!(run.stderr.contains("no capacity") && run.stderr.contains("trying elsewhere"), "{}", run.stderr);
    let launches: Vec<_> = proxy.exchanges().into_iter().filter(|e| e.operation == "RunInstances").collect();
    assert_eq!(launches.len(), 4, "three refused tries in one subnet, then the next: {launches:?}");
    assert_ne!(launches[0].identity, launches[3].identity, "another subnet, so another request (and ClientToken)");
    let id = run.json()["id"].as_str().unwrap().to_string();
    let record = w.record(&id).await;
    assert!(record["attempts"][0]["instance"]["subnet_id"].as_str().unwrap().starts_with("subnet-"));
    assert_eq!(w.instances().await.len(), 1);
}

/// An agent that stopped heartbeating (the instance hangs, or lost its
/// network): `hoist jobs` records the attempt interrupted, with the reason,
/// and terminates the instance so it stops billing.
#[tokio::test(flavor = "multi_thread")]
async fn a_silent_agent_is_found_out_and_its_instance_terminated() {
    let w = world().await;
    let task = w.task("sleeper", "name: sleeper\nrun: sleep 1\n");
    let id = w.run(&["run", task.to_str().unwrap(), "--backend", "ec2", "-d", "-q"]).expect_code(0).stdout.trim().to_string();
    let mut record = w.record(&id).await;
    let iid = record["attempts"][0]["instance"]["instance_id"].as_str().unwrap().to_string();
    // As the agent left it an hour ago.
    record["status"] = "running".into();
    record["attempts"][0]["status"] = "running".into();
    record["attempts"][0]["started_at"] = "2026-01-01T00:00:00.000Z".into();
    record["attempts"][0]["heartbeat_at"] = "2026-01-01T00:00:00.000Z".into();
    record["attempts"][0]["agent"] = serde_json::json!({"host": iid, "pid": 4242});
    w.s3.put_object().bucket(bucket()).key(format!("jobs/{id}/job.json")).body(record.to_string().into_bytes().into()).send().await.unwrap();

    let jobs = hoist_declared(&w.env, &["jobs", "-o", "json"]);
    let listed = jobs.expect_code(0).json();
    let job = listed.as_array().unwrap().iter().find(|j| j["id"] == id.as_str()).unwrap().clone();
    assert_eq!(job["status"], "interrupted", "{job:#}");
    assert!(job["attempts"][0]["reason"].as_str().unwrap().contains("stopped sending heartbeats"), "{job:#}");
    assert_eq!(w.record(&id).await["status"], "interrupted", "written back to the record");
    let state = w.instances().await.into_iter().find(|i| i.instance_id() == Some(iid.as_str())).unwrap();
    assert_eq!(state.state().unwrap().name().unwrap().as_str(), "terminated");
}

/// `hoist run --plan` with the task's own output: the choice as JSON and
/// the calls it sent.
fn plan(w: &World, name: &str, yaml: &str) -> (Run, Vec<Call>) {
    let task = w.task(name, yaml);
    let calls_file = w.dir.path().join(format!("{name}-plan-calls.jsonl"));
    let run = w.run_recorded(&["run", task.to_str().unwrap(), "--backend", "ec2", "--plan", "-o", "json"], &calls_file);
    if run.code == 0 {
        common::assert_declared("run", &calls_file);
    }
    (run, CallLog::read_file(&calls_file).unwrap())
}

fn calls_of_first_plan(w: &World) -> Vec<Call> {
    CallLog::read_file(&w.dir.path().join("gpu-plan-calls.jsonl")).unwrap()
}

/// What the emulator says an instance type has: (vCPUs, MiB, GPUs).
async fn type_facts(w: &World, name: &str) -> (i32, i64, Vec<(String, i32)>) {
    let out = w.ec2.describe_instance_types().instance_types(name.into()).send().await.unwrap();
    let t = &out.instance_types()[0];
    let gpus = t.gpu_info().map(|g| g.gpus().iter().map(|d| (d.name().unwrap().to_string(), d.count().unwrap())).collect()).unwrap_or_default();
    (t.v_cpu_info().unwrap().default_v_cpus().unwrap(), t.memory_info().unwrap().size_in_mib().unwrap(), gpus)
}

/// SkyPilot-style resources resolve against the region's real catalog
/// (the emulator's instance types, offerings and spot prices): the choice
/// satisfies the request and nothing cheaper that also does was passed
/// over; the catalog is read once and then comes from the cache; an
/// impossible request names the constraint and the nearest; and a run
/// launches the type the plan chose.
#[tokio::test(flavor = "multi_thread")]
async fn resources_resolve_against_the_region_catalog_cached_and_launch_as_planned() {
    let w = world().await;

    let (gpu, calls) = plan(&w, "gpu", "name: gpu\nrun: x\nresources:\n  accelerators: A10G:1\n");
    gpu.expect_code(0);
    let first: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
    for op in ["DescribeInstanceTypes", "DescribeInstanceTypeOfferings", "DescribeSpotPriceHistory"] {
        assert!(first.contains(&op), "the first plan reads the catalog ({op}): {first:?}");
    }
    assert!(!first.iter().any(|op| op.starts_with("Run") || op.starts_with("Create") || op.starts_with("Put")), "a plan changes nothing: {first:?}");
    let choice = gpu.json()["choice"].clone();
    let chosen = choice["instance_type"].as_str().unwrap().to_string();
    let (_, _, gpus) = type_facts(&w, &chosen).await;
    assert_eq!(gpus, vec![("A10G".to_string(), 1)], "{chosen} as the emulator describes it");
    let price = choice["price_per_hour"].as_f64().unwrap();
    for alt in choice["runners_up"].as_array().unwrap() {
        assert!(alt[1].as_f64().unwrap() >= price, "{alt} is cheaper than {chosen} at {price}");
    }
    assert!(!choice["runners_up"].as_array().unwrap().is_empty(), "other A10G:1 types exist in the region");

    // From the cache: no catalog call at all.
    let (cpu, calls) = plan(&w, "cpu", "name: cpu\nrun: x\nresources:\n  cpus: 4+\n  memory: 16+\n");
    cpu.expect_code(0);
    assert!(!calls.iter().any(|c| c.operation.starts_with("DescribeInstanceType") || c.operation == "DescribeSpotPriceHistory"), "{calls:?}");
    assert!(cpu.json()["catalog"].as_str().unwrap().starts_with("cached"), "{}", cpu.stdout);
    let cpu_type = cpu.json()["choice"]["instance_type"].as_str().unwrap().to_string();
    let (vcpus, mib, gpus) = type_facts(&w, &cpu_type).await;
    assert!(vcpus >= 4 && mib >= 16 * 1024 && gpus.is_empty(), "{cpu_type}: {vcpus} vCPUs, {mib} MiB, {gpus:?}");

    // Spot ranks by the region's spot price, read from EC2.
    let (spot, _) = plan(&w, "spot", "name: spot\nrun: x\nresources:\n  accelerators: A10G:1\n  use_spot: true\n");
    let c = &spot.expect_code(0).json()["choice"];
    assert_eq!(c["spot"], true);
    assert!(c["price_per_hour"].as_f64().unwrap() < c["on_demand_per_hour"].as_f64().unwrap(), "{c}");

    // Impossible: which constraint, and the nearest.
    let (none, _) = plan(&w, "none", "name: none\nrun: x\nresources:\n  accelerators: A10G:3\n");
    none.expect_code(125);
    assert!(none.stderr.contains("exactly A10G:3") && none.stderr.contains("nearest: A10G:1"), "{}", none.stderr);

    // The catalog reads are allowed by `hoist policy run` (EC2 is not
    // judged by the emulator: proven on the requests sent).
    let policies = common::proof::generated(&w.env, "run", REGION);
    let before = known(&w).await;
    let authz = authorizations(&calls_of_first_plan(&w), &before);
    assert!(authz.iter().any(|(op, _)| op == "ec2:DescribeSpotPriceHistory"), "{authz:?}");
    for (op, a) in &authz {
        assert_eq!(decide(&policies, None, a), Decision::Allow, "{op}: {a:?} is denied by `hoist policy run`");
    }

    // A run launches what the plan chose.
    let task = w.task("cpu-run", "name: cpu-run\nrun: x\nresources:\n  cpus: 4+\n  memory: 16+\n");
    let run = w.run(&["run", task.to_str().unwrap(), "--backend", "ec2", "--detach"]);
    run.expect_code(0);
    assert!(run.stderr.contains(&format!("{cpu_type} chosen: the cheapest on-demand type with 4+ vCPUs, 16+ GiB")), "{}", run.stderr);
    let launched: Vec<String> = w.instances().await.iter().map(|i| i.instance_type().unwrap().as_str().to_string()).collect();
    assert_eq!(launched, vec![cpu_type]);
}

/// Resolution speed from a cached catalog (`bench/resolve.py` runs it and
/// prints the report): the region's catalog as the emulator serves it
/// (every instance type of us-east-1), fetched once by `--plan`; then, in
/// process, loading the cached file and resolving typical requests, and,
/// end to end, `hoist run --plan` with the cache against without it.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: bench/resolve.py"]
async fn bench_resolution() {
    use hoist::resolve::catalog::Catalog;
    use hoist::resolve::{Shape, prices::Prices, resolve};
    let w = world().await;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let cache = w.env.home().join(".local/share/hoist/catalog/us-east-1.v2.json");
    for i in 0..5 {
        let _ = std::fs::remove_file(&cache);
        let t = Instant::now();
        plan(&w, &format!("cold{i}"), "name: b\nrun: x\nresources:\n  accelerators: A10G:1\n").0.expect_code(0);
        cold.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        plan(&w, &format!("warm{i}"), "name: b\nrun: x\nresources:\n  cpus: 4+\n  memory: 16+\n").0.expect_code(0);
        warm.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let bytes = std::fs::metadata(&cache).unwrap().len();
    let mut load = Vec::new();
    let mut catalog = None;
    for _ in 0..20 {
        let t = Instant::now();
        let c: Catalog = serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
        load.push(t.elapsed().as_secs_f64() * 1000.0);
        catalog = Some(c);
    }
    let catalog = catalog.unwrap();
    let prices = Prices::default();
    println!("| measure | median |\n|---|---|");
    println!("| catalog: {} instance types, {} KiB on disk | |", catalog.types.len(), bytes / 1024);
    println!("| `hoist run --plan`, catalog fetched from EC2 (process, STS, 3 listings) | {:.0} ms |", median(cold));
    println!("| `hoist run --plan`, catalog from the cache (process, STS) | {:.0} ms |", median(warm));
    println!("| read + parse the cached catalog | {:.2} ms |", median(load));
    for (what, yaml) in [
        ("`accelerators: A10G:1`", "resources:\n  accelerators: A10G:1\n"),
        ("`cpus: 4+`, `memory: 16+`", "resources:\n  cpus: 4+\n  memory: 16+\n"),
        ("`any_of` of 3 accelerator sets, spot", "resources:\n  use_spot: true\n  any_of:\n    - accelerators: {H100: 8, A100-80GB: 8}\n    - accelerators: A100:8\n    - accelerators: L40S:4\n"),
    ] {
        let task = hoist::task::Task::parse(Path::new("/tmp/t.yaml"), &format!("run: x\n{yaml}"), &Default::default()).unwrap();
        let mut times = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let c = resolve(&catalog, &prices, &task.resources, Shape { num_nodes: 1 }).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(c);
        }
        println!("| resolve {what} | {:.0} µs |", median(times));
    }
}


/// A SkyPilot-style distributed task: each node prints what SkyPilot's
/// examples read (rank, node count, the peers, one a line).
const DDP_TASK: &str = r#"name: minGPT-ddp
num_nodes: 2
run: |
  echo "rank=$SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES (hoist: $HOIST_NODE_RANK of $HOIST_NUM_NODES)"
  echo "peers=$(echo "$SKYPILOT_NODE_IPS" | paste -sd, -)"
  if [ "$SKYPILOT_NODE_RANK" = "$FAIL_RANK" ]; then echo "node fails"; exit 3; fi
  if [ "$SKYPILOT_NODE_RANK" = 0 ]; then sleep "$LEAD_SLEEP"; fi
  echo "rank $SKYPILOT_NODE_RANK done"
envs:
  FAIL_RANK: none
  LEAD_SLEEP: "1"
resources:
  instance_type: m5.large
"#;

/// `num_nodes: 2` on EC2: two instances from one launch, in the
/// workspace's cluster placement group and one subnet, behind a security
/// group whose only inbound rule is from itself; each node's agent (run
/// here as that instance, with only the instance role) learns its rank and
/// its peers from the record; one log stream per node; rank 0's exit
/// decides the job, and a failed node fails it; destroy removes the
/// placement group. The launch is proven against `hoist policy run` on
/// the wire (the emulator judges no EC2 request; placement groups are an
/// emulator patch).
#[tokio::test(flavor = "multi_thread")]
async fn a_two_node_job_runs_with_ranks_and_peers_in_one_placement_group() {
    let w = world().await;
    let sg = w
        .ec2
        .describe_security_groups()
        .filters(aws_sdk_ec2::types::Filter::builder().name("group-name").values(format!("hoist-{WS}")).build())
        .send()
        .await
        .unwrap();
    let sg = &sg.security_groups()[0];
    let rules = sg.ip_permissions();
    assert_eq!(rules.len(), 1, "one inbound rule: {rules:?}");
    assert_eq!(rules[0].ip_protocol(), Some("-1"));
    assert!(rules[0].ip_ranges().is_empty(), "no address range may reach the nodes: {rules:?}");
    assert_eq!(rules[0].user_id_group_pairs().iter().map(|g| g.group_id().unwrap()).collect::<Vec<_>>(), vec![sg.group_id().unwrap()]);

    let task = w.task("ddp", DDP_TASK);
    let calls_file = w.dir.path().join("ddp-run-calls.jsonl");
    let before = known(&w).await;
    let run = w.run_recorded(&["run", task.to_str().unwrap(), "--backend", "ec2", "--detach", "-o", "json"], &calls_file);
    let id = run.expect_code(0).json()["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("mingpt-ddp-"), "{id}");
    common::assert_declared("run", &calls_file);

    let instances = w.instances().await;
    assert_eq!(instances.len(), 2, "{instances:?}");
    for i in &instances {
        assert_eq!(i.placement().unwrap().group_name(), Some(format!("hoist-{WS}").as_str()));
        assert_eq!(i.subnet_id(), instances[0].subnet_id(), "one subnet");
        assert_eq!(i.instance_type().unwrap().as_str(), "m5.large");
    }
    let runs = CallLog::read_file(&calls_file).unwrap().into_iter().filter(|c| c.operation == "RunInstances").count();
    assert_eq!(runs, 1, "one RunInstances for both nodes: all or none");
    let record = w.record(&id).await;
    let nodes = record["attempts"][0]["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 2);
    let ips: Vec<String> = nodes.iter().map(|n| n["private_ip"].as_str().unwrap().to_string()).collect();

    // The launch on the wire: `hoist policy run` allows it all.
    let policies = common::proof::generated(&w.env, "run", REGION);
    let authz = authorizations(&CallLog::read_file(&calls_file).unwrap(), &before);
    assert!(authz.iter().any(|(op, a)| op == "ec2:RunInstances" && a.resource.ends_with(&format!("placement-group/hoist-{WS}"))), "{authz:?}");
    assert!(authz.iter().any(|(op, _)| op == "ec2:CreatePlacementGroup"), "{authz:?}");
    for (op, a) in &authz {
        assert_eq!(decide(&policies, None, a), Decision::Allow, "{op}: {a:?} is denied by `hoist policy run`");
    }
    let elsewhere = Authz::new("ec2:CreatePlacementGroup", format!("arn:aws:ec2:{REGION}:{ACCOUNT}:placement-group/hoist-{WS}-b"), vec![("aws:RequestTag/hoist:workspace".into(), format!("{WS}-b"))]);
    assert_ne!(decide(&policies, None, &elsewhere), Decision::Allow, "another workspace's placement group");

    // Each node's agent, as its instance: the worker first (it waits for
    // nothing), then rank 0.
    let keys = w.instance_keys().await;
    let node = |rank: usize| nodes[rank]["instance_id"].as_str().unwrap().to_string();
    let (imds0, imds1) = (FakeImds::start(&node(0)), FakeImds::start(&node(1)));
    let calls1 = w.dir.path().join("ddp-agent1.jsonl");
    let worker = w.agent(&keys, &imds1, &id, &calls1);
    let lead = w.agent(&keys, &imds0, &id, &w.dir.path().join("ddp-agent0.jsonl"));
    let (lead, worker) = (wait_output(lead, "rank 0"), wait_output(worker, "rank 1"));
    assert_eq!(lead.status.code(), Some(0), "{}", String::from_utf8_lossy(&lead.stderr));
    assert_eq!(worker.status.code(), Some(0), "{}", String::from_utf8_lossy(&worker.stderr));
    common::assert_declared("agent", &calls1);

    let record = w.record(&id).await;
    assert_eq!(record["status"], "succeeded", "{record:#}");
    assert_eq!(record["attempts"][0]["nodes"][1]["status"], "succeeded", "{record:#}");
    let peers = format!("peers={}", ips.join(","));
    let rank0 = w.log_lines(&id, 1).await;
    let rank1 = w.stream_lines(&format!("{id}/1/node-1")).await;
    assert!(rank0.iter().any(|l| l == "rank=0 of 2 (hoist: 0 of 2)") && rank0.contains(&peers), "{rank0:?}");
    assert!(rank1.iter().any(|l| l == "rank=1 of 2 (hoist: 1 of 2)") && rank1.contains(&peers), "{rank1:?}");
    let shown = hoist(&w.env, &["logs", &id, "--node", "1"]);
    assert!(shown.expect_code(0).stdout.contains("rank=1 of 2"), "{}", shown.stdout);

    // A node that fails stops the job: rank 0 is told at its next
    // heartbeat and ends `failed`, naming the node.
    let failing = w.task("ddp-fail", &DDP_TASK.replace("FAIL_RANK: none", "FAIL_RANK: \"1\"").replace("LEAD_SLEEP: \"1\"", "LEAD_SLEEP: \"60\""));
    let run = w.run(&["run", failing.to_str().unwrap(), "--backend", "ec2", "--detach", "-o", "json"]);
    let id2 = run.expect_code(0).json()["id"].as_str().unwrap().to_string();
    let record = w.record(&id2).await;
    let node = |rank: usize| record["attempts"][0]["nodes"][rank]["instance_id"].as_str().unwrap().to_string();
    let (imds0, imds1) = (FakeImds::start(&node(0)), FakeImds::start(&node(1)));
    let started = Instant::now();
    let worker = w.agent(&keys, &imds1, &id2, &w.dir.path().join("fail-agent1.jsonl"));
    let lead = w.agent(&keys, &imds0, &id2, &w.dir.path().join("fail-agent0.jsonl"));
    let (lead, worker) = (wait_output(lead, "rank 0"), wait_output(worker, "rank 1"));
    assert!(started.elapsed() < Duration::from_secs(40), "rank 0 ran on after its peer failed: {:?}", started.elapsed());
    assert_eq!(worker.status.code(), Some(3));
    assert_ne!(lead.status.code(), Some(0));
    let record = w.record(&id2).await;
    assert_eq!(record["status"], "failed", "{record:#}");
    let reason = record["attempts"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("node 1") && reason.contains("exited with code 3"), "{reason}");

    // destroy: every node and the placement group go.
    hoist_declared(&w.env, &["destroy", "--yes", "-q"]).expect_code(0);
    let live: Vec<_> = w.instances().await.into_iter().filter(|i| i.state().unwrap().name().unwrap().as_str() != "terminated").collect();
    assert!(live.is_empty(), "{live:?}");
    let groups = w.ec2.describe_placement_groups().send().await.unwrap();
    assert!(groups.placement_groups().is_empty(), "{:?}", groups.placement_groups());
}
