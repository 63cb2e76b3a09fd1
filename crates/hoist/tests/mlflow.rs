//! `hoist deploy` with models from the MLflow Model Registry, against a real
//! MLflow tracking server (pinned in tests/mlflow/requirements.txt, started
//! by the test kit with a SQLite store and the emulator's S3 as artifact
//! store) and the emulator.
//!
//! What is judged where:
//!
//! - The registry's answers (aliases, versions, artifact locations) are
//!   MLflow's own; the models are real scikit-learn models logged with
//!   MLflow's client (tests/mlflow/register.py).
//! - The user holds `hoist policy deploy` as managed policies, plus read
//!   access to the MLflow artifact bucket (what hoist's error asks an
//!   administrator for), with IAM enforced: the emulator judges the S3
//!   requests (the workspace bucket and the artifact bucket) on their
//!   resources, SageMaker requests on their action alone (patch 4).
//!   Resources and conditions of the SageMaker requests (AddTags with the
//!   workspace's request tag on the workspace's endpoint) are proven with
//!   `hoist-iam` on the requests hoist sent, against the generated policy.
//! - What an endpoint serves is read back from the emulator: DescribeModel
//!   and an invocation, which patch 12 answers with the serving model's
//!   data URL.

mod common;

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use common::proof::{authorizations, decide};
use common::{Run, eventually, hoist};
use hoist_aws::record::Call;
use hoist_iam::Decision;
use hoist_testkit::wire::Known;
use hoist_testkit::{ACCOUNT, Emulator, EmulatorOptions, IsolatedEnv, MlflowServer};
use serde_json::{Value, json};

const WS: &str = "ml";
const REGION: &str = "us-east-1";
const ENDPOINT: &str = "hoist-ml--churn";

fn bucket() -> String {
    format!("hoist-{WS}-{ACCOUNT}-{REGION}")
}

const FILE: &str = "endpoints:\n  - name: churn\n    model:\n      mlflow: {model: churn, alias: champion}\n    instance_type: ml.m5.large\n";

fn mutating(calls: &[Call]) -> Vec<String> {
    calls.iter().filter(|c| hoist_aws::catalog::is_mutating_name(&c.operation)).map(|c| c.operation.clone()).collect()
}



struct World {
    emu: Emulator,
    mlflow: MlflowServer,
    env: IsolatedEnv,
    dir: tempfile::TempDir,
    sm: aws_sdk_sagemaker::Client,
    s3: aws_sdk_s3::Client,
}

impl World {
    fn run(&self, args: &[&str], calls: &Path) -> (Run, Vec<Call>) {
        let run = common::hoist_recorded(&self.env, args, calls);
        (run, common::recorded(calls))
    }

    /// The model the endpoint serves, as the endpoint answers an invocation.
    fn served_data(&self) -> String {
        let (run, _) = self.run(&["invoke", "churn", "--body", "{\"instances\": [[1]]}"], &self.dir.path().join("invoke.jsonl"));
        run.expect_code(0);
        let answer: Value = serde_json::from_str(&run.stdout).unwrap();
        answer["Model"]["ModelDataUrl"].as_str().unwrap().to_string()
    }

    async fn tags(&self) -> std::collections::BTreeMap<String, String> {
        let arn = format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}");
        let out = self.sm.list_tags().resource_arn(arn).send().await.unwrap();
        out.tags().iter().map(|t| (t.key().unwrap().to_string(), t.value().unwrap_or_default().to_string())).collect()
    }

    async fn serving_config(&self) -> (String, String, Option<String>) {
        let e = self.sm.describe_endpoint().endpoint_name(ENDPOINT).send().await.unwrap();
        (
            e.endpoint_status().unwrap().as_str().to_string(),
            e.endpoint_config_name().unwrap().to_string(),
            e.failure_reason().map(str::to_string),
        )
    }

    async fn archive(&self, key: &str) -> Vec<(String, Vec<u8>)> {
        let obj = self.s3.get_object().bucket(bucket()).key(key).send().await.unwrap();
        let bytes = obj.body.collect().await.unwrap().into_bytes();
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut out = Vec::new();
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.header().entry_type().is_file() {
                let path = entry.path().unwrap().to_string_lossy().trim_start_matches("./").to_string();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                out.push((path, data));
            }
        }
        out
    }
}

/// The watching `hoist`, killed if the test fails before it stops it.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The workspace set up by its administrator (whose environment is
/// returned first), and a user holding `hoist policy deploy` as managed
/// policies, and `extra` too when given.
async fn deployer(emu: &Emulator, extra: Option<Value>) -> (IsolatedEnv, IsolatedEnv) {
    let mut admin = emu.env();
    admin.set("HOIST_WORKSPACE", WS);
    hoist(&admin, &["init", "--yes", "-q"]).expect_code(0);
    let mut docs = common::policy_documents(&admin, "deploy", ACCOUNT, REGION);
    docs.extend(extra);
    let keys = emu.create_user_with_managed_policies("deployer", &docs).await;
    let mut env = emu.env_for(&keys);
    env.set("HOIST_WORKSPACE", WS);
    (admin, env)
}

fn key_of(data_url: &str) -> String {
    data_url.strip_prefix(&format!("s3://{}/", bucket())).unwrap_or_else(|| panic!("not in the workspace bucket: {data_url}")).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alias_drives_the_endpoint_through_moves_outages_rollbacks_and_removal() {
    let emu = Emulator::start_with(EmulatorOptions { enforce_iam: true, ..Default::default() }).await;
    let mlflow = MlflowServer::start(&emu).await;
    // What hoist's "AccessDenied reading ..." message asks an administrator for.
    let artifacts = mlflow.artifact_bucket().to_string();
    let read_artifacts = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{artifacts}")},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{artifacts}/*")},
    ]});
    let (admin, mut env) = deployer(&emu, Some(read_artifacts)).await;
    env.set("MLFLOW_TRACKING_URI", mlflow.uri());
    let sdk = emu.sdk_config().await;
    let dir = tempfile::tempdir().unwrap();

    let versions = mlflow.register("churn", &[1.0, 2.0, 3.0]);
    assert_eq!(versions.iter().map(|v| v.version.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
    mlflow.set_alias("churn", "champion", "1");
    let mut w = World {
        sm: aws_sdk_sagemaker::Client::new(&sdk),
        s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build()),
        emu,
        mlflow,
        env,
        dir,
    };
    let file = w.dir.path().join("serve.yaml");
    std::fs::write(&file, FILE).unwrap();
    let f = file.to_str().unwrap();

    // Plan names the version the alias points at; nothing is changed.
    let (plan, plan_calls) = w.run(&["deploy", "plan", f], &w.dir.path().join("plan.jsonl"));
    plan.expect_code(0);
    assert!(plan.stdout.contains("MLflow model churn version 1"), "{}", plan.stdout);
    assert!(mutating(&plan_calls).is_empty(), "{:?}", mutating(&plan_calls));

    // Apply: packaged into the workspace's bucket, served on the default
    // container for a python_function model, tagged with what it serves.
    let (applied, create_calls) = w.run(&["deploy", "apply", f], &w.dir.path().join("create.jsonl"));
    applied.expect_code(0);
    assert!(applied.stderr.contains("package  MLflow model churn version 1"), "{}", applied.stderr);
    let served = w.served_data();
    assert!(served.contains("/mlflow-churn-v1-"), "the endpoint serves {served}");
    let (status, config, _) = w.serving_config().await;
    assert_eq!(status, "InService");
    let model = w.sm.describe_model().model_name(&config).send().await.unwrap();
    let container = model.primary_container().unwrap();
    assert_eq!(container.image(), Some(format!("763104351884.dkr.ecr.{REGION}.amazonaws.com/pytorch-inference:2.5.1-cpu-py311-ubuntu22.04-sagemaker").as_str()));
    let env_of = container.environment().unwrap();
    assert_eq!(env_of.get("SAGEMAKER_PROGRAM").map(String::as_str), Some("inference.py"));
    let files = w.archive(&key_of(&served)).await;
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for want in ["MLmodel", "model.skops", "requirements.txt", "code/inference.py", "code/requirements.txt"] {
        assert!(names.contains(&want), "{want} is not in the package: {names:?}");
    }
    let reqs = String::from_utf8_lossy(&files.iter().find(|(p, _)| p == "code/requirements.txt").unwrap().1).into_owned();
    assert!(reqs.contains("mlflow==") && reqs.contains("scikit-learn"), "{reqs}");
    let mlmodel = String::from_utf8_lossy(&files.iter().find(|(p, _)| p == "MLmodel").unwrap().1).into_owned();
    assert!(mlmodel.contains(versions[0].artifact_uri.rsplit('/').nth(1).unwrap()), "the package holds version 1's files: {mlmodel}");
    let tags = w.tags().await;
    assert_eq!((tags["hoist:mlflow-model"].as_str(), tags["hoist:mlflow-version"].as_str()), ("churn", "1"), "{tags:?}");
    let listed = hoist(&w.env, &["endpoints"]);
    listed.expect_code(0);
    assert!(listed.stdout.contains("churn v1"), "{}", listed.stdout);
    let listed = hoist(&w.env, &["endpoints", "-o", "json"]).expect_code(0).json();
    assert_eq!(listed[0]["mlflow"], json!({"model": "churn", "version": "1"}));

    // Applied again: nothing to change.
    let (again, again_calls) = w.run(&["deploy", "apply", f], &w.dir.path().join("again.jsonl"));
    again.expect_code(0);
    assert!(mutating(&again_calls).is_empty(), "{:?}", mutating(&again_calls));

    // Watching: a registry poll that finds nothing new sends no AWS request.
    let watch_calls = w.dir.path().join("watch.jsonl");
    let log = w.dir.path().join("watch.log");
    let mut child = Killed(
        w.env
            .command(env!("CARGO_BIN_EXE_hoist"))
            .args(["deploy", "apply", f, "--watch", "--interval", "1h", "--registry-interval", "1s"])
            .env("HOIST_RECORD_CALLS", &watch_calls)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let said = |needle: &'static str| {
        let log = log.clone();
        move || {
            let log = log.clone();
            async move { std::fs::read_to_string(&log).unwrap_or_default().contains(needle) }
        }
    };
    eventually("the first round", &log, said("nothing to change")).await;
    let before = common::recorded(&watch_calls).len();
    // (The server logs each request it answers: one line per request.)
    let count = |what: &str| w.mlflow.log().matches(what).count();
    let (polls_before, requests_before) = (count("registered-models/alias"), count("/api/2.0/mlflow"));
    tokio::time::sleep(Duration::from_secs(4)).await;
    let idle_aws = common::recorded(&watch_calls).len() - before;
    let (polls, requests) = (count("registered-models/alias") - polls_before, count("/api/2.0/mlflow") - requests_before);
    assert_eq!(idle_aws, 0, "idle polls sent AWS requests: {:?}", &common::recorded(&watch_calls)[before..]);
    assert!(polls >= 3, "the registry was polled {polls} times in 4 s");
    assert_eq!(requests, polls, "a poll is one request (the alias)");
    eprintln!("idle: {polls} registry polls in 4 s, {requests} registry requests, {idle_aws} AWS requests");

    // The alias moves: the endpoint is updated to version 2, with no
    // mutating call beyond the update's own.
    let before = common::recorded(&watch_calls).len();
    let moved = Instant::now();
    w.mlflow.set_alias("churn", "champion", "2");
    let wc = watch_calls.clone();
    eventually("UpdateEndpoint", &log, || {
        let wc = wc.clone();
        async move { common::recorded(&wc).iter().any(|c| c.operation == "UpdateEndpoint") }
    })
    .await;
    let to_update = moved.elapsed();
    eventually("the update is applied", &log, said("] applied ")).await;
    let update_calls: Vec<Call> = common::recorded(&watch_calls)[before..].to_vec();
    assert_eq!(
        mutating(&update_calls),
        ["PutObject", "CreateModel", "CreateEndpointConfig", "UpdateEndpoint", "AddTags", "DeleteEndpointConfig", "DeleteModel", "DeleteObjects"],
        "{:?}",
        update_calls.iter().map(|c| &c.operation).collect::<Vec<_>>()
    );
    let served2 = w.served_data();
    assert!(served2.contains("/mlflow-churn-v2-"), "the endpoint serves {served2}");
    assert_eq!(w.tags().await["hoist:mlflow-version"], "2");
    assert!(w.s3.head_object().bucket(bucket()).key(key_of(&served)).send().await.is_err(), "version 1's package is left");
    eprintln!(
        "alias moved -> UpdateEndpoint sent: {:.2} s (registry interval 1 s); the update: {} requests, {} mutating",
        to_update.as_secs_f64(),
        update_calls.len(),
        mutating(&update_calls).len()
    );

    // The registry goes down: the outage is reported once, nothing changes.
    w.mlflow.stop();
    let before = common::recorded(&watch_calls).len();
    eventually("the outage is reported", &log, said("cannot be reached")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(mutating(&common::recorded(&watch_calls)[before..]).is_empty());
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("cannot be reached").count(), 1, "{text}");
    assert!(text.contains(&w.mlflow.uri()), "the message names the registry: {text}");
    let (down, down_calls) = w.run(&["deploy", "apply", f], &w.dir.path().join("down.jsonl"));
    assert_eq!(down.code, 4, "{}", down.stderr);
    assert!(down.stderr.contains("MLflow registry") && down.stderr.contains("left as they are"), "{}", down.stderr);
    assert!(mutating(&down_calls).is_empty(), "an apply with the registry down sent {:?}", mutating(&down_calls));
    assert!(w.served_data().contains("/mlflow-churn-v2-"));
    w.mlflow.restart();
    eventually("the registry is back", &log, said("answers again")).await;

    // Version 3 fails to come up: SageMaker keeps version 2 serving; hoist
    // reports it, keeps version 2's parts and does not retry it.
    hoist_testkit::fail_next_endpoint_update(w.emu.endpoint(), ENDPOINT, "The primary container for production variant AllTraffic did not pass the ping health check.");
    let before = common::recorded(&watch_calls).len();
    w.mlflow.set_alias("churn", "champion", "3");
    eventually("the rollback is reported", &log, said("rolled it back")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = common::recorded(&watch_calls)[before..].to_vec();
    assert_eq!(after.iter().filter(|c| c.operation == "UpdateEndpoint").count(), 1, "version 3 was tried again");
    assert!(!mutating(&after).iter().any(|o| o.starts_with("Delete")), "something was deleted: {:?}", mutating(&after));
    let (status, _, reason) = w.serving_config().await;
    assert_eq!(status, "InService");
    assert!(reason.unwrap_or_default().contains("ping health check"));
    assert!(w.served_data().contains("/mlflow-churn-v2-"), "version 2 serves on");
    assert_eq!(w.tags().await["hoist:mlflow-version"], "2", "the tags say what serves");
    // A new apply (the user's explicit retry) tries version 3 again; when
    // it fails again, apply says so and exits 1.
    hoist_testkit::fail_next_endpoint_update(w.emu.endpoint(), ENDPOINT, "The primary container for production variant AllTraffic did not pass the ping health check.");
    let (retry, retry_calls) = w.run(&["deploy", "apply", f], &w.dir.path().join("retry.jsonl"));
    assert_eq!(retry.code, 1, "{}", retry.stderr);
    assert!(retry.stderr.contains("rolled it back") && retry.stderr.contains("ping health check"), "{}", retry.stderr);
    assert_eq!(retry_calls.iter().filter(|c| c.operation == "UpdateEndpoint").count(), 1);
    assert!(w.served_data().contains("/mlflow-churn-v2-"), "version 2 serves on");

    // The alias is deleted: a clear message naming model and alias; the
    // endpoint is untouched.
    w.mlflow.set_alias("churn", "champion", "2");
    // (Which round also deletes what version 3's failed update left.)
    let lg = log.clone();
    eventually("back to version 2, its round done", &log, || {
        let lg = lg.clone();
        async move {
            let text = std::fs::read_to_string(&lg).unwrap_or_default();
            text.split_once("version 3 -> 2").is_some_and(|(_, after)| after.contains("] applied ") || after.contains("nothing to change"))
        }
    })
    .await;
    let before = common::recorded(&watch_calls).len();
    w.mlflow.delete_alias("churn", "champion");
    eventually("the missing alias is reported", &log, said("has no alias \"champion\"")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(mutating(&common::recorded(&watch_calls)[before..]).is_empty());
    let (gone, gone_calls) = w.run(&["deploy", "apply", f], &w.dir.path().join("gone.jsonl"));
    assert_eq!(gone.code, 2, "{}", gone.stderr);
    assert!(gone.stderr.contains("MLflow model \"churn\" has no alias \"champion\""), "{}", gone.stderr);
    assert!(mutating(&gone_calls).is_empty());
    assert!(w.served_data().contains("/mlflow-churn-v2-"));

    unsafe { assert_eq!(libc::kill(child.0.id() as i32, libc::SIGINT), 0) };
    let status = child.0.wait().unwrap();
    let said_all = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(130), "{said_all}");

    // An apply stopped between switching the endpoint and retagging it
    // (here: `--no-wait` switches and tags, and the tags are then put back
    // as an interrupted update leaves them): the next apply retags it and
    // deletes what it replaced, the package included.
    w.mlflow.set_alias("churn", "champion", "3");
    let (switched, _) = w.run(&["deploy", "apply", f, "--no-wait"], &w.dir.path().join("no-wait.jsonl"));
    switched.expect_code(0);
    let arn = format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}");
    let stale = aws_sdk_sagemaker::types::Tag::builder().key("hoist:mlflow-version").value("2").build();
    w.sm.add_tags().resource_arn(&arn).tags(stale).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (healed, healed_calls) = w.run(&["deploy", "apply", f], &w.dir.path().join("healed.jsonl"));
    healed.expect_code(0);
    assert_eq!(w.tags().await["hoist:mlflow-version"], "3", "{}", healed.stderr);
    assert!(w.served_data().contains("/mlflow-churn-v3-"));
    assert!(mutating(&healed_calls).contains(&"DeleteObjects".to_string()), "version 2's package is left: {:?}", mutating(&healed_calls));
    assert!(w.s3.head_object().bucket(bucket()).key(key_of(&served2)).send().await.is_err(), "version 2's package is left");
    let configs = w.sm.list_endpoint_configs().name_contains(ENDPOINT).send().await.unwrap();
    assert_eq!(configs.endpoint_configs().len(), 1, "{configs:?}");

    // Proof on the wire: `hoist policy deploy` allows every authorization of
    // what deploy sent to AWS outside the MLflow artifact store (read with
    // the administrator's extra grant, judged by the emulator's S3).
    let policies = common::proof::generated(&admin, "deploy", REGION);
    let mut known = Known::default();
    let mut proven = 0;
    let all: Vec<Call> = create_calls.iter().chain(&common::recorded(&watch_calls)).chain(&healed_calls).cloned().collect();
    for c in &all {
        known.apply(c, ACCOUNT, REGION, "aws");
        for (op, a) in authorizations(std::slice::from_ref(c), REGION, &known) {
            if a.resource.contains(&artifacts) {
                continue;
            }
            assert_eq!(decide(&policies, None, REGION, &a), Decision::Allow, "{op}: {a:?} is denied by `hoist policy deploy`");
            proven += 1;
        }
    }
    eprintln!("least-privilege proof for `deploy` with MLflow: {proven} authorizations allowed");
}

/// A tracking server that proxies its artifact store (`mlflow server`'s
/// default): hoist reads the version's files through the server, so the
/// user needs nothing beyond `hoist policy deploy`. The legacy stage
/// selector, the tracking URI from hoist's config file, and the errors a
/// user meets first (no tracking URI; a version that does not exist).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxied_registry_serves_a_stage_with_only_the_deploy_policy() {
    let emu = Emulator::start_with(EmulatorOptions { enforce_iam: true, ..Default::default() }).await;
    let mlflow = MlflowServer::start_proxied(&emu).await;
    let (_, env) = deployer(&emu, None).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fraud.yaml");
    std::fs::write(&file, "endpoints:\n  - name: fraud\n    model:\n      mlflow: {model: fraud, stage: Production}\n    serverless: {memory_mb: 2048}\n").unwrap();
    let f = file.to_str().unwrap();

    // No tracking URI: said before anything is sent, naming the file's line.
    let calls = dir.path().join("no-uri.jsonl");
    let no_uri = common::hoist_recorded(&env, &["deploy", "apply", f], &calls);
    assert_eq!(no_uri.code, 2, "{}", no_uri.stderr);
    assert!(no_uri.stderr.contains("fraud.yaml:2") && no_uri.stderr.contains("MLFLOW_TRACKING_URI"), "{}", no_uri.stderr);
    assert!(common::recorded(&calls).is_empty());

    let v = mlflow.register("fraud", &[7.0]);
    assert!(v[0].artifact_uri.starts_with("mlflow-artifacts:"), "not proxied: {}", v[0].artifact_uri);
    let body = json!({"name": "fraud", "version": v[0].version, "stage": "Production", "archive_existing_versions": false});
    let (status, answer) = mlflow.request("POST", "/api/2.0/mlflow/model-versions/transition-stage", Some(&body));
    assert_eq!(status, 200, "{answer}");
    env.write_hoist_config(&format!("[mlflow]\ntracking_uri = \"{}\"\n", mlflow.uri()));

    let applied = hoist(&env, &["deploy", "apply", f]);
    applied.expect_code(0);
    assert!(applied.stderr.contains("package  MLflow model fraud version 1"), "{}", applied.stderr);
    let sdk = emu.sdk_config().await;
    let sm = aws_sdk_sagemaker::Client::new(&sdk);
    let e = sm.describe_endpoint().endpoint_name("hoist-ml--fraud").send().await.unwrap();
    assert_eq!(e.endpoint_status().unwrap().as_str(), "InService");
    let model = sm.describe_model().model_name(e.endpoint_config_name().unwrap()).send().await.unwrap();
    let data = model.primary_container().unwrap().model_data_url().unwrap().to_string();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let obj = s3.get_object().bucket(bucket()).key(key_of(&data)).send().await.unwrap();
    let bytes = obj.body.collect().await.unwrap().into_bytes();
    let mut names = Vec::new();
    for entry in tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..])).entries().unwrap() {
        names.push(entry.unwrap().path().unwrap().to_string_lossy().trim_start_matches("./").to_string());
    }
    for want in ["MLmodel", "model.skops", "code/inference.py", "code/requirements.txt"] {
        assert!(names.iter().any(|n| n == want), "{want} is not in the package: {names:?}");
    }

    // A URI that is not a tracking server's (here the AWS emulator's): said
    // so, exit 4, not "no such model".
    // (The environment variable wins over the config file.)
    let wrong = env.command(env!("CARGO_BIN_EXE_hoist")).args(["deploy", "plan", f]).env("MLFLOW_TRACKING_URI", emu.endpoint()).output().unwrap();
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(4), "{said}");
    assert!(said.contains("does not answer as an MLflow tracking server") && said.contains("fraud.yaml:2"), "{said}");

    // A version that does not exist: exit 2, naming model, version and
    // the versions there are.
    std::fs::write(&file, "endpoints:\n  - name: fraud\n    model:\n      mlflow: {model: fraud, version: 9}\n    serverless: {memory_mb: 2048}\n").unwrap();
    let calls = dir.path().join("missing.jsonl");
    let missing = common::hoist_recorded(&env, &["deploy", "apply", f], &calls);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("MLflow model \"fraud\" has no version 9 (its versions: 1)") && missing.stderr.contains("fraud.yaml:2: endpoint \"fraud\""), "{}", missing.stderr);
    assert!(mutating(&common::recorded(&calls)).is_empty());
}
