//! `hoist deploy`, `endpoints` and `invoke` against the emulator.
//!
//! What is judged where:
//!
//! - SageMaker's state (models, endpoint configurations, endpoints, their
//!   status and which configuration an endpoint serves) is read back from
//!   the emulator: moto with patch 12, which adds UpdateEndpoint, the
//!   Creating/Updating → InService transitions, refusals of taken names,
//!   paginated listings and an InvokeEndpoint that echoes what reached it.
//! - The user runs `deploy` holding `hoist policy deploy` as managed
//!   policies, with IAM enforced: the emulator judges S3 and IAM requests
//!   on their resources, and SageMaker requests on their action alone
//!   (patch 4). Resources and conditions of the SageMaker requests
//!   (workspace names, iam:PassRole to SageMaker only, request tags) are
//!   proven with `hoist-iam` on the requests hoist sent, against the
//!   same generated policy, with out-of-scope variants denied.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::proof::{authorizations, decide};
use common::{Run, hoist};
use hoist_aws::record::Call;
use hoist_iam::Decision;
use hoist_testkit::wire::{Authz, Known};
use hoist_testkit::{ACCOUNT, Emulator, EmulatorOptions, IsolatedEnv};
use serde_json::Value;

const WS: &str = "ml";
const REGION: &str = "us-east-1";
const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1";
const IMAGE2: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:2";

fn bucket() -> String {
    format!("hoist-{WS}-{ACCOUNT}-{REGION}")
}

fn full(name: &str) -> String {
    format!("hoist-{WS}--{name}")
}

struct World {
    emu: Emulator,
    /// The user's: holding `hoist policy deploy` as managed policies.
    env: IsolatedEnv,
    /// The administrator's (init, destroy).
    admin: IsolatedEnv,
    dir: tempfile::TempDir,
    sm: aws_sdk_sagemaker::Client,
    s3: aws_sdk_s3::Client,
    calls: std::cell::Cell<usize>,
}

async fn world(enforce_iam: bool) -> World {
    let emu = Emulator::start_with(EmulatorOptions { enforce_iam, ..Default::default() }).await;
    let mut admin = emu.env();
    admin.set("HOIST_WORKSPACE", WS);
    hoist(&admin, &["init", "--yes", "-q"]).expect_code(0);
    let env = if enforce_iam {
        let docs = common::policy_documents(&admin, "deploy", ACCOUNT, REGION);
        let keys = emu.create_user_with_managed_policies("deployer", &docs).await;
        let mut env = emu.env_for(&keys);
        env.set("HOIST_WORKSPACE", WS);
        env
    } else {
        let mut env = emu.env();
        env.set("HOIST_WORKSPACE", WS);
        env
    };
    let sdk = emu.sdk_config().await;
    World {
        sm: aws_sdk_sagemaker::Client::new(&sdk),
        s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build()),
        dir: tempfile::tempdir().unwrap(),
        calls: std::cell::Cell::new(0),
        emu,
        env,
        admin,
    }
}

impl World {
    fn file(&self, name: &str, yaml: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, yaml).unwrap();
        path
    }

    /// `hoist ARGS` as the user, its requests recorded.
    fn run(&self, args: &[&str]) -> (Run, Vec<Call>) {
        let n = self.calls.get();
        self.calls.set(n + 1);
        let file = self.dir.path().join(format!("calls-{n}.jsonl"));
        let run = common::hoist_recorded(&self.env, args, &file);
        let calls = common::recorded(&file);
        // Whatever it sent, the catalog declares for the command.
        common::assert_declared(args[0], &file_or_empty(&file));
        (run, calls)
    }

    async fn endpoint(&self, name: &str) -> Option<aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput> {
        self.sm.describe_endpoint().endpoint_name(full(name)).send().await.ok()
    }

    async fn names(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        let e = self.sm.list_endpoints().max_results(100).send().await.unwrap();
        let c = self.sm.list_endpoint_configs().max_results(100).send().await.unwrap();
        let m = self.sm.list_models().max_results(100).send().await.unwrap();
        let mut out = (
            e.endpoints().iter().filter_map(|x| x.endpoint_name().map(str::to_string)).collect::<Vec<_>>(),
            c.endpoint_configs().iter().filter_map(|x| x.endpoint_config_name().map(str::to_string)).collect::<Vec<_>>(),
            m.models().iter().filter_map(|x| x.model_name().map(str::to_string)).collect::<Vec<_>>(),
        );
        out.0.sort();
        out.1.sort();
        out.2.sort();
        out
    }
}

fn file_or_empty(file: &Path) -> PathBuf {
    if !file.exists() {
        std::fs::write(file, "").unwrap();
    }
    file.to_path_buf()
}

fn mutating(calls: &[Call]) -> Vec<String> {
    calls.iter().filter(|c| hoist_aws::catalog::is_mutating_name(&c.operation)).map(|c| c.operation.clone()).collect()
}

fn three(image_a: &str) -> String {
    format!(
        "endpoints:\n\
         \x20 - name: sentiment\n\
         \x20   model:\n\
         \x20     image: {image_a}\n\
         \x20     data: s3://models-bucket/sentiment/model.tar.gz\n\
         \x20     env: {{LOG_LEVEL: info}}\n\
         \x20   instance_type: ml.g5.xlarge\n\
         \x20   instance_count: 2\n\
         \x20 - name: local\n\
         \x20   model: {{image: {IMAGE}, data: ./model.tar.gz}}\n\
         \x20   instance_type: m5.large\n\
         \x20 - name: summarize\n\
         \x20   model: {{huggingface: facebook/bart-large-cnn, task: summarization}}\n\
         \x20   serverless: {{memory_mb: 4096, max_concurrency: 3}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_created_updated_pruned_invoked_and_destroyed_with_least_privilege() {
    let w = world(true).await;
    std::fs::write(w.dir.path().join("model.tar.gz"), b"weights").unwrap();
    let file = w.file("serve.yaml", &three(IMAGE));
    let f = file.to_str().unwrap();

    // Plan from empty: three creates, reads only.
    let (plan, calls) = w.run(&["deploy", "plan", f, "-o", "json"]);
    let plan = plan.expect_code(0).json();
    let actions: Vec<(&str, &str)> = plan["changes"].as_array().unwrap().iter().map(|c| (c["endpoint"].as_str().unwrap(), c["action"].as_str().unwrap())).collect();
    assert_eq!(actions, [("sentiment", "create"), ("local", "create"), ("summarize", "create")]);
    assert!(mutating(&calls).is_empty(), "plan changed something: {:?}", mutating(&calls));

    // Apply: every endpoint InService on its model and configuration.
    let started = Instant::now();
    let (apply, create_calls) = w.run(&["deploy", "apply", f]);
    apply.expect_code(0);
    eprintln!("apply 3 endpoints from empty: {} calls, {:.2} s", create_calls.len(), started.elapsed().as_secs_f64());
    for name in ["sentiment", "local", "summarize"] {
        let e = w.endpoint(name).await.unwrap_or_else(|| panic!("endpoint {name} missing:\n{}", apply.stderr));
        assert_eq!(e.endpoint_status().unwrap().as_str(), "InService", "{name}");
        let tags = w.sm.list_tags().resource_arn(e.endpoint_arn().unwrap()).send().await.unwrap();
        let tags: Vec<(String, String)> = tags.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect();
        assert!(tags.contains(&("hoist:workspace".into(), WS.into())) && tags.contains(&("hoist:endpoint".into(), name.into())), "{tags:?}");
    }
    let sentiment = w.endpoint("sentiment").await.unwrap();
    let config_a = sentiment.endpoint_config_name().unwrap().to_string();
    assert!(config_a.starts_with(&format!("{}-", full("sentiment"))) && config_a.len() == full("sentiment").len() + 9, "{config_a}");
    let cfg = w.sm.describe_endpoint_config().endpoint_config_name(&config_a).send().await.unwrap();
    let v = &cfg.production_variants()[0];
    assert_eq!(v.instance_type().unwrap().as_str(), "ml.g5.xlarge");
    assert_eq!(v.initial_instance_count(), Some(2));
    assert_eq!(v.model_name(), Some(config_a.as_str()));
    let model = w.sm.describe_model().model_name(&config_a).send().await.unwrap();
    let c = model.primary_container().unwrap();
    assert_eq!(c.image(), Some(IMAGE));
    assert_eq!(c.model_data_url(), Some("s3://models-bucket/sentiment/model.tar.gz"));
    assert_eq!(c.environment().unwrap().get("LOG_LEVEL").map(String::as_str), Some("info"));
    assert_eq!(model.execution_role_arn(), Some(format!("arn:aws:iam::{ACCOUNT}:role/hoist-{WS}-sagemaker").as_str()));
    // The local file went to the bucket, and the model names it there.
    let local = w.endpoint("local").await.unwrap();
    let local_model = w.sm.describe_model().model_name(local.endpoint_config_name().unwrap()).send().await.unwrap();
    let data = local_model.primary_container().unwrap().model_data_url().unwrap().to_string();
    let key = data.strip_prefix(&format!("s3://{}/", bucket())).unwrap_or_else(|| panic!("{data}"));
    assert!(key.starts_with(&format!("models/{}/", full("local"))), "{key}");
    let object = w.s3.get_object().bucket(bucket()).key(key).send().await.unwrap();
    assert_eq!(object.body.collect().await.unwrap().into_bytes().as_ref(), b"weights");
    // The Hugging Face model: the AWS container, the model id in its environment.
    let summarize = w.endpoint("summarize").await.unwrap();
    let hf = w.sm.describe_model().model_name(summarize.endpoint_config_name().unwrap()).send().await.unwrap();
    let hc = hf.primary_container().unwrap();
    assert!(hc.image().unwrap().starts_with("763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:"), "{:?}", hc.image());
    assert_eq!(hc.environment().unwrap().get("HF_MODEL_ID").map(String::as_str), Some("facebook/bart-large-cnn"));
    assert_eq!(hc.environment().unwrap().get("HF_TASK").map(String::as_str), Some("summarization"));
    assert_eq!(hc.model_data_url(), None);
    let scfg = w.sm.describe_endpoint_config().endpoint_config_name(summarize.endpoint_config_name().unwrap()).send().await.unwrap();
    let sv = scfg.production_variants()[0].serverless_config().unwrap();
    assert_eq!((sv.memory_size_in_mb(), sv.max_concurrency()), (Some(4096), Some(3)));

    // Re-applying the same file changes nothing.
    let (again, calls) = w.run(&["deploy", "apply", f]);
    again.expect_code(0);
    assert!(mutating(&calls).is_empty(), "re-apply sent {:?}", mutating(&calls));
    assert!(!calls.iter().any(|c| c.operation.starts_with("Describe") && c.service == "sagemaker"), "an unchanged endpoint was described: {calls:?}");
    assert!(again.stderr.contains("nothing to change"), "{}", again.stderr);

    // A new image for one endpoint: only it changes, with no downtime
    // (UpdateEndpoint), and its old model and configuration are deleted.
    let file = w.file("serve.yaml", &three(IMAGE2));
    let (plan, _) = w.run(&["deploy", "plan", f, "-o", "json"]);
    let plan = plan.expect_code(0).json();
    let changed: Vec<&Value> = plan["changes"].as_array().unwrap().iter().filter(|c| c["action"] != "unchanged").collect();
    assert_eq!(changed.len(), 1, "{plan}");
    assert_eq!(changed[0]["endpoint"], "sentiment");
    assert_eq!(changed[0]["action"], "update");
    assert!(changed[0]["details"].to_string().contains(&format!("image: {IMAGE} -> {IMAGE2}")), "{}", changed[0]);
    let started = Instant::now();
    let (update, update_calls) = w.run(&["deploy", "apply", file.to_str().unwrap()]);
    update.expect_code(0);
    eprintln!("apply one changed image: {} calls, {:.2} s", update_calls.len(), started.elapsed().as_secs_f64());
    // Exactly the change's calls: the two deletes go out together, last.
    let sent = mutating(&update_calls);
    assert_eq!(sent[..3], ["CreateModel", "CreateEndpointConfig", "UpdateEndpoint"], "{sent:?}");
    let mut cleanup = sent[3..].to_vec();
    cleanup.sort();
    assert_eq!(cleanup, ["DeleteEndpointConfig", "DeleteModel"], "{sent:?}");
    let sentiment = w.endpoint("sentiment").await.unwrap();
    let config_b = sentiment.endpoint_config_name().unwrap().to_string();
    assert_ne!(config_b, config_a);
    assert_eq!(sentiment.endpoint_status().unwrap().as_str(), "InService");
    let (_, configs, models) = w.names().await;
    assert!(!configs.contains(&config_a) && !models.contains(&config_a), "the old configuration and model are left: {configs:?} {models:?}");
    assert!(configs.contains(&config_b) && models.contains(&config_b));

    // A new local model file: the endpoint switches to it, and the file it
    // replaced is deleted from the bucket.
    let old_key = key.to_string();
    std::fs::write(w.dir.path().join("model.tar.gz"), b"weights v2").unwrap();
    let (relocal, relocal_calls) = w.run(&["deploy", "apply", f]);
    relocal.expect_code(0);
    assert!(w.s3.head_object().bucket(bucket()).key(&old_key).send().await.is_err(), "the replaced model file is left: {old_key}");
    let local = w.endpoint("local").await.unwrap();
    let new_data = w.sm.describe_model().model_name(local.endpoint_config_name().unwrap()).send().await.unwrap();
    let new_key = new_data.primary_container().unwrap().model_data_url().unwrap().strip_prefix(&format!("s3://{}/", bucket())).unwrap().to_string();
    assert_ne!(new_key, old_key);
    assert!(w.s3.head_object().bucket(bucket()).key(&new_key).send().await.is_ok());

    // Invoke: the body and content type reach the runtime API; the answer
    // (the emulator's echo) comes back as sent.
    let (invoked, _) = w.run(&["invoke", "sentiment", "--body", r#"{"inputs": "I love it"}"#, "--content-type", "application/json"]);
    let echo = invoked.expect_code(0).json();
    assert_eq!(echo["Body"], r#"{"inputs": "I love it"}"#);
    assert_eq!(echo["ContentType"], "application/json");
    assert_eq!(echo["Model"]["Image"], IMAGE2);
    std::fs::write(w.dir.path().join("req.csv"), "1,2,3\n").unwrap();
    let at = format!("@{}", w.dir.path().join("req.csv").display());
    let (invoked, _) = w.run(&["invoke", "local", "--body", &at, "--content-type", "text/csv"]);
    let echo = invoked.expect_code(0).json();
    assert_eq!((echo["Body"].as_str(), echo["ContentType"].as_str()), (Some("1,2,3\n"), Some("text/csv")));
    let (missing, _) = w.run(&["invoke", "sentimnet", "--body", "x"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains(r#"no endpoint "sentimnet""#) && missing.stderr.contains(r#"did you mean "sentiment"?"#), "{}", missing.stderr);
    // Streamed: the parts arrive as the endpoint sends them, and make the
    // same answer.
    let (streamed, calls) = w.run(&["invoke", "sentiment", "--stream", "--body", r#"{"inputs": "I love it"}"#]);
    let echo = streamed.expect_code(0).json();
    assert_eq!((echo["Body"].as_str(), echo["Model"]["Image"].as_str()), (Some(r#"{"inputs": "I love it"}"#), Some(IMAGE2)));
    assert!(calls.iter().any(|c| c.operation == "InvokeEndpointWithResponseStream"), "{calls:?}");
    // The name in SageMaker works too.
    let (invoked, _) = w.run(&["invoke", &full("sentiment"), "--body", "@@x"]);
    assert_eq!(invoked.expect_code(0).json()["Body"], "@x");

    // `hoist endpoints`: each with its status and capacity.
    let (listed, _) = w.run(&["endpoints", "-o", "json"]);
    let listed = listed.expect_code(0).json();
    let rows: Vec<(String, String, Value)> = listed.as_array().unwrap().iter().map(|r| (r["endpoint"].as_str().unwrap().to_string(), r["status"].as_str().unwrap().to_string(), r["capacity"].clone())).collect();
    assert_eq!(rows.len(), 3, "{listed}");
    assert!(rows.contains(&("sentiment".into(), "InService".into(), serde_json::json!({"instances": {"instance_type": "ml.g5.xlarge", "count": 2}}))), "{rows:?}");

    // Removed from the file: kept (and said so) without --prune, deleted with it.
    let two = three(IMAGE2).split("  - name: summarize").next().unwrap().to_string();
    let file = w.file("serve.yaml", &two);
    let (kept, calls) = w.run(&["deploy", "apply", file.to_str().unwrap()]);
    kept.expect_code(0);
    assert!(mutating(&calls).is_empty(), "{:?}", mutating(&calls));
    assert!(kept.stderr.contains("1 kept"), "{}", kept.stderr);
    assert!(w.endpoint("summarize").await.is_some());
    let (refused, _) = w.run(&["deploy", "apply", f, "--prune"]);
    assert_eq!(refused.code, 2, "deleting without --yes and no terminal: {}", refused.stderr);
    assert!(w.endpoint("summarize").await.is_some());
    let (pruned, prune_calls) = w.run(&["deploy", "apply", f, "--prune", "--yes"]);
    pruned.expect_code(0);
    assert!(w.endpoint("summarize").await.is_none());
    let (endpoints, configs, models) = w.names().await;
    assert_eq!(endpoints, [full("local"), full("sentiment")]);
    assert!(!configs.iter().chain(&models).any(|n| n.starts_with(&full("summarize"))), "{configs:?} {models:?}");

    // `endpoints delete`: the endpoint, its configuration, model and the
    // model file hoist uploaded for it.
    let (deleted, delete_calls) = w.run(&["endpoints", "delete", "local", "--yes"]);
    deleted.expect_code(0);
    assert!(w.endpoint("local").await.is_none());
    assert!(w.s3.head_object().bucket(bucket()).key(&new_key).send().await.is_err(), "the model file is left: {new_key}");

    // Proof on the wire: `hoist policy deploy` allows every authorization
    // of what deploy and invoke sent, and nothing out of the workspace.
    let policies = common::proof::generated(&w.admin, "deploy", REGION);
    let mut known = Known::default();
    let mut authz = Vec::new();
    for c in create_calls.iter().chain(&update_calls).chain(&relocal_calls).chain(&prune_calls).chain(&delete_calls) {
        known.apply(c, ACCOUNT, REGION, "aws");
        authz.extend(authorizations(std::slice::from_ref(c), REGION, &known));
    }
    for (op, a) in &authz {
        assert_eq!(decide(&policies, None, REGION, a), Decision::Allow, "{op}: {a:?} is denied by `hoist policy deploy`");
    }
    for action in ["sagemaker:CreateModel", "sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint", "iam:PassRole", "sagemaker:AddTags", "s3:DeleteObject"] {
        assert!(authz.iter().any(|(_, a)| a.action == action), "no {action} was proven");
    }
    type Variant = Box<dyn Fn(&Authz) -> Option<Authz>>;
    let variants: Vec<(&str, Variant)> = vec![
        ("another workspace's names", Box::new(|a: &Authz| {
            (a.action.starts_with("sagemaker:") && a.resource.contains(&format!("/hoist-{WS}--"))).then(|| Authz { resource: a.resource.replace(&format!("/hoist-{WS}--"), &format!("/hoist-{WS}-b--")), ..a.clone() })
        })),
        ("tagged for another workspace", Box::new(|a: &Authz| {
            a.context.iter().any(|(k, _)| k == "aws:RequestTag/hoist:workspace").then(|| Authz {
                context: a.context.iter().map(|(k, v)| (k.clone(), if k == "aws:RequestTag/hoist:workspace" { "other".into() } else { v.clone() })).collect(),
                ..a.clone()
            })
        })),
        ("passing an administrator's role", Box::new(|a: &Authz| (a.action == "iam:PassRole").then(|| Authz { resource: format!("arn:aws:iam::{ACCOUNT}:role/Admin"), ..a.clone() }))),
        ("passing the role to another service", Box::new(|a: &Authz| {
            (a.action == "iam:PassRole").then(|| Authz { context: vec![("iam:PassedToService".into(), "lambda.amazonaws.com".into())], ..a.clone() })
        })),
    ];
    let mut denied = 0;
    for (what, variant) in &variants {
        let hits: Vec<Authz> = authz.iter().filter_map(|(_, a)| variant(a)).collect();
        assert!(!hits.is_empty(), "nothing to vary for: {what}");
        for v in hits {
            assert_ne!(decide(&policies, None, REGION, &v), Decision::Allow, "{what}: {v:?} is allowed");
            denied += 1;
        }
    }
    eprintln!("least-privilege proof for `deploy`: {} authorizations allowed, {denied} out-of-scope variants denied", authz.len());

    // Destroy (the administrator's): nothing of the workspace's endpoints
    // is left; another workspace's endpoint stays.
    let mut other = w.emu.env();
    other.set("HOIST_WORKSPACE", "mlb");
    hoist(&other, &["init", "--yes", "-q"]).expect_code(0);
    let other_file = w.file("other.yaml", &format!("endpoints:\n  - name: sentiment\n    model: {{image: {IMAGE}}}\n    instance_type: ml.m5.large\n"));
    hoist(&other, &["deploy", "apply", other_file.to_str().unwrap(), "-q"]).expect_code(0);
    let destroyed = hoist(&w.admin, &["destroy", "--yes"]);
    destroyed.expect_code(0);
    let (endpoints, configs, models) = w.names().await;
    assert!(!endpoints.iter().chain(&configs).chain(&models).any(|n| n.starts_with(&format!("hoist-{WS}--"))), "{endpoints:?} {configs:?} {models:?}");
    assert_eq!(endpoints, ["hoist-mlb--sentiment"]);
    assert_eq!((configs.len(), models.len()), (1, 1));
}

fn one(name: &str, image: &str) -> String {
    format!("endpoints:\n  - name: {name}\n    model: {{image: {image}}}\n    instance_type: ml.m5.large\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_change_nothing_and_failed_endpoints_are_reported_then_recreated() {
    let w = world(false).await;
    // Invalid or too long names, and other mistakes: exit 2, file:line,
    // and not one mutating call.
    let max = 63 - full("").len() - 9;
    for (yaml, says) in [
        ("endpoints:\n  - name: Bad_Name\n    model: {image: i}\n    instance_type: ml.m5.large\n".to_string(), "bad.yaml:2".to_string()),
        (one(&"a".repeat(max + 1), IMAGE), format!("at most {max}")),
        ("endpoints:\n  - name: a\n    model: {image: i}\n    instance_type: ml.x9.huge\n".to_string(), "`endpoints.instance_type`".to_string()),
        ("endpoint:\n  - name: a\n".to_string(), "did you mean `endpoints`".to_string()),
    ] {
        let bad = w.file("bad.yaml", &yaml);
        let (run, calls) = w.run(&["deploy", "apply", bad.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{yaml}: {}", run.stderr);
        assert!(run.stderr.contains(&says), "{yaml}: expected {says:?} in: {}", run.stderr);
        assert!(mutating(&calls).is_empty(), "{:?}", mutating(&calls));
    }
    let ok = w.file("ok.yaml", &one(&"a".repeat(max), IMAGE));
    w.run(&["deploy", "plan", ok.to_str().unwrap()]).0.expect_code(0);

    // An endpoint that failed: the plan and apply say why, change nothing
    // while the file asks for the same, and exit 1.
    let file = w.file("serve.yaml", &one("a", IMAGE));
    let f = file.to_str().unwrap();
    w.run(&["deploy", "apply", f, "--no-wait"]).0.expect_code(0);
    let reason = "The primary container for production variant main did not pass the ping health check.";
    hoist_testkit::set_endpoint_status(w.emu.endpoint(), &full("a"), "Failed", Some(reason), true);
    let (plan, _) = w.run(&["deploy", "plan", f, "-o", "json"]);
    let plan = plan.expect_code(0).json();
    assert_eq!(plan["changes"][0]["action"], "failed", "{plan}");
    assert!(plan["changes"][0]["details"].to_string().contains(reason.trim_end_matches('.')), "{plan}");
    let (apply, calls) = w.run(&["deploy", "apply", f]);
    assert_eq!(apply.code, 1, "{}", apply.stderr);
    assert!(apply.stderr.contains(reason.trim_end_matches('.')), "{}", apply.stderr);
    assert!(mutating(&calls).is_empty(), "{:?}", mutating(&calls));
    // Its spec changes: deleted and created again on the new model.
    let file = w.file("serve.yaml", &one("a", IMAGE2));
    let (plan, _) = w.run(&["deploy", "plan", f, "-o", "json"]);
    assert_eq!(plan.expect_code(0).json()["changes"][0]["action"], "recreate");
    let (apply, calls) = w.run(&["deploy", "apply", file.to_str().unwrap(), "--yes"]);
    apply.expect_code(0);
    let sent = mutating(&calls);
    assert_eq!(sent[..4], ["CreateModel", "CreateEndpointConfig", "DeleteEndpoint", "CreateEndpoint"], "{sent:?}");
    let a = w.endpoint("a").await.unwrap();
    assert_eq!(a.endpoint_status().unwrap().as_str(), "InService");
    let (_, configs, models) = w.names().await;
    let ours = |l: &[String]| l.iter().filter(|n| n.starts_with(&full("a-"))).cloned().collect::<Vec<_>>();
    assert_eq!(ours(&configs), [a.endpoint_config_name().unwrap().to_string()], "the failed one's configuration is gone");
    assert_eq!(ours(&models).len(), 1);

    // An endpoint that fails while apply waits for it: SageMaker's reason,
    // exit 1.
    let file = w.file("serve.yaml", &one("a", IMAGE));
    w.run(&["deploy", "apply", f, "--no-wait"]).0.expect_code(0);
    hoist_testkit::set_endpoint_status(w.emu.endpoint(), &full("a"), "Updating", None, true);
    let run = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| hoist(&w.env, &["deploy", "apply", file.to_str().unwrap()]));
        std::thread::sleep(std::time::Duration::from_millis(1500));
        assert!(!waiting.is_finished(), "apply did not wait for the updating endpoint");
        hoist_testkit::set_endpoint_status(w.emu.endpoint(), &full("a"), "Failed", Some("CUDA out of memory"), true);
        waiting.join().unwrap()
    });
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("CUDA out of memory"), "{}", run.stderr);

    // Ctrl-C while apply waits for an endpoint that does not come up: it
    // stops waiting at once (exit 130); the endpoint goes on in AWS.
    hoist_testkit::set_endpoint_status(w.emu.endpoint(), &full("a"), "InService", None, false);
    let file = w.file("serve.yaml", &one("a", IMAGE2));
    w.run(&["deploy", "apply", f, "--no-wait"]).0.expect_code(0);
    hoist_testkit::set_endpoint_status(w.emu.endpoint(), &full("a"), "Updating", None, true);
    let child = w
        .env
        .command(env!("CARGO_BIN_EXE_hoist"))
        .args(["deploy", "apply", file.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    unsafe { assert_eq!(libc::kill(child.id() as i32, libc::SIGINT), 0) };
    let signalled = Instant::now();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{said}");
    assert!(signalled.elapsed().as_secs() < 3, "took {:?} to stop: {said}", signalled.elapsed());
    assert!(said.contains("interrupted"), "{said}");
    hoist_testkit::set_endpoint_status(w.emu.endpoint(), &full("a"), "InService", None, false);

    // `hoist endpoints delete`: the endpoint, its configurations and models.
    let (deleted, _) = w.run(&["endpoints", "delete", "a", "--yes"]);
    deleted.expect_code(0);
    let (endpoints, configs, models) = w.names().await;
    assert!(endpoints.iter().chain(&configs).chain(&models).all(|n| !n.starts_with(&full("a"))), "{endpoints:?} {configs:?} {models:?}");
    let (unknown, _) = w.run(&["endpoints", "delete", "nope", "--yes"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
}

/// 50 endpoints, then one changed: the calls a change costs are the
/// change's, and listing costs pages, not one describe per endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_endpoints_then_one_change_costs_only_the_change() {
    let w = world(false).await;
    let yaml = |changed: &str| {
        let mut s = String::from("endpoints:\n");
        for i in 0..50 {
            let image = if i == 7 { changed } else { IMAGE };
            s.push_str(&format!("  - name: e{i:02}\n    model: {{image: {image}}}\n    instance_type: ml.m5.large\n"));
        }
        s
    };
    let file = w.file("fifty.yaml", &yaml(IMAGE));
    let f = file.to_str().unwrap();
    let started = Instant::now();
    let (apply, calls) = w.run(&["deploy", "apply", f, "-q"]);
    apply.expect_code(0);
    let created = started.elapsed();
    let sent = mutating(&calls);
    assert_eq!(sent.len(), 150, "a model, configuration and endpoint each");
    let lists = |calls: &[Call]| calls.iter().filter(|c| c.operation.starts_with("List")).count();
    assert_eq!(lists(&calls), 3, "one page each of endpoints, configurations and models");
    eprintln!("apply 50 endpoints from empty: {} calls ({} mutating, {} lists), {:.2} s", calls.len(), sent.len(), lists(&calls), created.as_secs_f64());

    let started = Instant::now();
    let (again, calls) = w.run(&["deploy", "apply", f, "-q"]);
    again.expect_code(0);
    assert!(mutating(&calls).is_empty());
    assert_eq!(calls.iter().filter(|c| c.service == "sagemaker").count(), 3, "{:?}", calls.iter().map(|c| &c.operation).collect::<Vec<_>>());
    eprintln!("re-apply 50 unchanged: {} calls, {:.2} s", calls.len(), started.elapsed().as_secs_f64());

    let file = w.file("fifty.yaml", &yaml(IMAGE2));
    let started = Instant::now();
    let (change, calls) = w.run(&["deploy", "apply", file.to_str().unwrap(), "-q"]);
    change.expect_code(0);
    let sent = mutating(&calls);
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert_eq!(lists(&calls), 3);
    let describes: Vec<&Call> = calls.iter().filter(|c| c.operation == "DescribeEndpointConfig" || c.operation == "DescribeModel").collect();
    assert_eq!(describes.len(), 2, "the changed endpoint's old configuration and model, for the plan's diff");
    eprintln!("apply 50 with one changed: {} calls ({} mutating), {:.2} s", calls.len(), sent.len(), started.elapsed().as_secs_f64());

    hoist(&w.admin, &["destroy", "--yes", "-q"]).expect_code(0);
    let left = w.emu.hoist_resources(REGION).await;
    assert!(left.is_empty(), "destroy left: {left:?}");
}

use common::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_the_file_and_repairs_drift_until_interrupted() {
    let w = world(false).await;
    let file = w.file("serve.yaml", &one("a", IMAGE));
    let log = w.dir.path().join("watch.log");
    let mut child = w
        .env
        .command(env!("CARGO_BIN_EXE_hoist"))
        .args(["deploy", "apply", file.to_str().unwrap(), "--watch", "--interval", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let in_service = |w: &World| {
        let sm = w.sm.clone();
        async move {
            let e = sm.describe_endpoint().endpoint_name(full("a")).send().await.ok();
            e.filter(|e| e.endpoint_status().map(|s| s.as_str()) == Some("InService")).and_then(|e| e.endpoint_config_name().map(str::to_string))
        }
    };
    // Each round of the watch that changes something ends with one
    // "hoist: [time] applied" line.
    let rounds = |n: usize| {
        let log = log.clone();
        move || {
            let log = log.clone();
            async move { std::fs::read_to_string(&log).unwrap_or_default().lines().filter(|l| l.starts_with("hoist: [") && l.contains("] applied ")).count() >= n }
        }
    };
    eventually("the endpoint is created", &log, rounds(1)).await;
    let first = in_service(&w).await.expect("InService once applied");

    // The file changes: the endpoint follows, on a new configuration.
    w.file("serve.yaml", &one("a", IMAGE2));
    eventually("the endpoint is updated", &log, rounds(2)).await;
    let second = in_service(&w).await.expect("InService once applied");
    assert_ne!(second, first);
    let model = w.sm.describe_model().model_name(&second).send().await.unwrap();
    assert_eq!(model.primary_container().unwrap().image(), Some(IMAGE2));
    let (_, configs, _) = w.names().await;
    assert_eq!(configs, std::slice::from_ref(&second), "the old configuration is deleted");

    // Drift: the endpoint deleted behind hoist's back is made again.
    w.sm.delete_endpoint().endpoint_name(full("a")).send().await.unwrap();
    eventually("the endpoint is made again", &log, rounds(3)).await;
    assert_eq!(in_service(&w).await.as_deref(), Some(second.as_str()));

    // Ctrl-C: it stops watching, cleanly, with the exit status of an
    // interrupted command (as an interrupted apply).
    unsafe { assert_eq!(libc::kill(child.id() as i32, libc::SIGINT), 0) };
    let status = child.wait().unwrap();
    let said = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(130), "{said}");
    assert!(said.contains("stopped watching"), "{said}");
}

/// Actions AWS requires that the emulator does not check, so removing one
/// cannot fail the scenario: proven on the wire with hoist-iam instead
/// (`endpoints_are_created_..._with_least_privilege`).
const UNCHECKED_BY_EMULATOR: &[(&str, &str)] = &[
    ("iam:PassRole", "AWS checks it when CreateModel names the role; moto does not"),
    ("s3:AbortMultipartUpload", "sent only when a multipart upload of a model file fails"),
    ("sagemaker:AddTags", "AWS checks it for tags given at creation; moto does not"),
];

/// Minimal: for each action in `hoist policy deploy`, a user holding the
/// policy without it fails the deploy scenario (create from a local model
/// file, list, update, invoke, delete) with hoist's AccessDenied message
/// naming the action and `hoist check deploy`. One emulator; each user
/// works on an endpoint of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_action_in_the_deploy_policy_is_needed() {
    let w = world(false).await;
    let docs = common::policy_documents(&w.admin, "deploy", ACCOUNT, REGION);
    let statements: Vec<Value> = docs.iter().flat_map(|d| d["Statement"].as_array().unwrap().clone()).collect();
    let mut actions: Vec<String> = statements
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
        .collect();
    actions.sort();
    actions.dedup();
    // The emulator judges only with enforcement on: a second one, where
    // the workspace is set up by its administrator.
    let emu = Emulator::start_with(EmulatorOptions { enforce_iam: true, ..Default::default() }).await;
    let mut admin = emu.env();
    admin.set("HOIST_WORKSPACE", WS);
    hoist(&admin, &["init", "--yes", "-q"]).expect_code(0);
    let started = Instant::now();
    // Each scenario blocks a thread on the hoist binary: a few at a time.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(3));
    let emu = std::sync::Arc::new(emu);
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let runs: Vec<_> = actions
        .iter()
        .enumerate()
        .map(|(i, action)| {
            let policy = serde_json::json!({
                "Version": "2012-10-17",
                "Statement": statements.iter().filter_map(|s| {
                    let kept: Vec<Value> = s["Action"].as_array().unwrap().iter().filter(|a| a.as_str() != Some(action.as_str())).cloned().collect();
                    (!kept.is_empty()).then(|| { let mut s = s.clone(); s["Action"] = Value::Array(kept); s })
                }).collect::<Vec<_>>(),
            });
            let (action, slots, emu, dir) = (action.clone(), slots.clone(), emu.clone(), dir.clone());
            tokio::spawn(async move {
                let _slot = slots.acquire_owned().await.expect("not closed");
                let keys = emu.create_user_with_managed_policies(&format!("user{i}"), &[policy]).await;
                let result = tokio::task::spawn_blocking(move || deploy_scenario(&emu, &keys, dir.path(), i)).await.expect("scenario");
                (action, result)
            })
        })
        .collect();
    let mut unneeded = Vec::new();
    let mut unclear = Vec::new();
    for run in runs {
        let (action, result) = run.await.expect("scenario task");
        match result {
            Ok(()) => unneeded.push(action),
            Err(e) if e.contains("was denied") && e.contains(&action) && e.contains("`hoist check deploy`") => {}
            Err(e) => unclear.push(format!("{action}: {e}")),
        }
    }
    eprintln!("deploy minimality: {} of {} actions shown needed, {} scenarios in {:.1} s", actions.len() - unneeded.len(), actions.len(), actions.len(), started.elapsed().as_secs_f64());
    let unchecked: Vec<String> = UNCHECKED_BY_EMULATOR.iter().map(|(a, _)| a.to_string()).collect();
    assert_eq!(unneeded, unchecked, "actions the scenario succeeds without (beyond those the emulator cannot check)");
    assert!(unclear.is_empty(), "failures without hoist's AccessDenied message naming the action:\n{}", unclear.join("\n"));
}

/// Create, list, update, invoke and delete endpoint `m<i>` as the user with
/// `keys`. Ok, or the failing step's output.
fn deploy_scenario(emu: &Emulator, keys: &hoist_testkit::Keys, dir: &Path, i: usize) -> Result<(), String> {
    let mut env = emu.env_for(keys);
    env.set("HOIST_WORKSPACE", WS);
    let name = format!("m{i}");
    // A model file of its own: its upload is this scenario's.
    let model = dir.join(format!("model-{i}.tar.gz"));
    std::fs::write(&model, format!("weights {i}")).unwrap();
    let file = dir.join(format!("serve-{i}.yaml"));
    let write = |level: &str| {
        let yaml = format!(
            "endpoints:\n  - name: {name}\n    model: {{image: {IMAGE}, data: {}, env: {{LEVEL: {level}}}}}\n    instance_type: ml.m5.large\n",
            model.display()
        );
        std::fs::write(&file, yaml).unwrap();
    };
    let f = file.to_str().unwrap().to_string();
    let step = |args: &[&str]| {
        let run = hoist(&env, args);
        if run.code == 0 { Ok(run) } else { Err(format!("hoist {}: exit {}\n{}", args.join(" "), run.code, run.stderr)) }
    };
    write("info");
    step(&["deploy", "apply", &f])?;
    step(&["endpoints"])?;
    write("debug");
    step(&["deploy", "apply", &f])?;
    step(&["invoke", &name, "--body", "x"])?;
    step(&["endpoints", "delete", &name, "--yes"])?;
    Ok(())
}
