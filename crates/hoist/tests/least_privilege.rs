//! The proof that `hoist policy` is right, against the emulator with IAM
//! enforcement on (moto judges every action, and resources for S3 and IAM):
//!
//! - sufficient: a fresh user holding exactly the generated policy runs the
//!   whole scenario (init, drift repair, status, destroy);
//! - minimal: for each action in it, a user holding the policy minus that
//!   action fails the scenario, with hoist's AccessDenied message naming it.
//!
//! The scenario drives every code path that needs a permission, including
//! the repair paths (drift is introduced between runs by an administrator).

mod common;

use common::hoist;
use hoist_testkit::{ACCOUNT, Emulator, EmulatorOptions, Keys};
use serde_json::Value;

const BUCKET: &str = "hoist-default-123456789012-us-east-1";

async fn enforced() -> Emulator {
    Emulator::start_with(EmulatorOptions { enforce_iam: true, ..Default::default() }).await
}

/// What the footprint scenario runs (`init`, `status`, `destroy`); the
/// policies of `run` and `secret` are proven in tests/ec2_backend.rs.
const FOOTPRINT: &[&str] = &["init", "status", "destroy"];

/// The footprint commands' policy, generated offline, as one document.
fn generated_policy(emu: &Emulator) -> Value {
    let mut args = vec!["policy"];
    args.extend(FOOTPRINT);
    args.extend(["--account", ACCOUNT, "--region", "us-east-1", "-o", "json"]);
    let run = hoist(&emu.env(), &args);
    run.expect_code(0);
    let v = run.json();
    let statements: Vec<Value> = match v {
        Value::Array(docs) => docs.iter().flat_map(|d| d["Statement"].as_array().unwrap().clone()).collect(),
        doc => doc["Statement"].as_array().unwrap().clone(),
    };
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

/// Every action in a policy document.
fn actions(policy: &Value) -> Vec<String> {
    let mut out: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn without(policy: &Value, action: &str) -> Value {
    let statements: Vec<Value> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            let kept: Vec<Value> = s["Action"].as_array().unwrap().iter().filter(|a| *a != action).cloned().collect();
            (!kept.is_empty()).then(|| {
                let mut s = s.clone();
                s["Action"] = Value::Array(kept);
                s
            })
        })
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

/// Run the scenario as the user with `keys`. Ok, or the failing step's
/// stderr.
async fn scenario(emu: &Emulator, keys: &Keys) -> Result<(), String> {
    let env = {
        let e = emu.env_for(keys);
        e.write_hoist_config("bucket_versioning = true\n");
        e
    };
    let step = |args: &[&str]| {
        let r = hoist(&env, args);
        if r.code == 0 { Ok(r) } else { Err(format!("`hoist {}` exited {}: {}", args.join(" "), r.code, r.stderr)) }
    };
    // Self-service mode: an administrator has made the workspace's
    // permissions boundary (the user may not: they could widen it).
    let admin = emu.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&admin);
    let boundary = hoist(&emu.env(), &["policy", "--boundary", "--account", ACCOUNT, "--region", "us-east-1", "-o", "json"]);
    boundary.expect_code(0);
    iam.create_policy()
        .policy_name("hoist-default-boundary")
        .policy_document(boundary.stdout.trim())
        .tags(aws_sdk_iam::types::Tag::builder().key("hoist:managed").value("true").build().unwrap())
        .tags(aws_sdk_iam::types::Tag::builder().key("hoist:workspace").value("default").build().unwrap())
        .send()
        .await
        .unwrap();

    step(&["init", "--yes"])?;

    // An administrator's changes, which the next init must repair.
    let ec2 = aws_sdk_ec2::Client::new(&admin);
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&admin).force_path_style(true).build());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&admin);
    let open = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    iam.update_assume_role_policy().role_name("hoist-default-sagemaker").policy_document(open).send().await.unwrap();
    iam.untag_role().role_name("hoist-default-instance").tag_keys("hoist:managed").send().await.unwrap();
    iam.delete_role_permissions_boundary().role_name("hoist-default-instance").send().await.unwrap();
    iam.untag_instance_profile().instance_profile_name("hoist-default-instance").tag_keys("hoist:managed").send().await.unwrap();
    iam.create_role().role_name("stray").assume_role_policy_document(open).send().await.unwrap();
    iam.remove_role_from_instance_profile().instance_profile_name("hoist-default-instance").role_name("hoist-default-instance").send().await.unwrap();
    iam.add_role_to_instance_profile().instance_profile_name("hoist-default-instance").role_name("stray").send().await.unwrap();
    let read_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let extra = iam.create_policy().policy_name("extra").policy_document(read_only).send().await.unwrap();
    let extra_arn = extra.policy().unwrap().arn().unwrap().to_string();
    iam.attach_role_policy().role_name("hoist-default-instance").policy_arn(&extra_arn).send().await.unwrap();
    let sgs = ec2
        .describe_security_groups()
        .filters(aws_sdk_ec2::types::Filter::builder().name("group-name").values("hoist-default").build())
        .send()
        .await
        .unwrap();
    let sg = sgs.security_groups()[0].group_id().unwrap().to_string();
    let all = aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("-1")
        .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    ec2.authorize_security_group_ingress().group_id(&sg).ip_permissions(all.clone()).send().await.unwrap();
    ec2.revoke_security_group_egress().group_id(&sg).ip_permissions(all).send().await.unwrap();
    ec2.delete_tags().resources(&sg).tags(aws_sdk_ec2::types::Tag::builder().key("hoist:managed").build()).send().await.unwrap();
    let group_arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/hoist/default/jobs");
    logs.untag_resource().resource_arn(&group_arn).tag_keys("hoist:managed").send().await.unwrap();
    let only_workspace = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("hoist:workspace").value("default").build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_tagging().bucket(BUCKET).tagging(only_workspace).send().await.unwrap();
    s3.put_object().bucket(BUCKET).key("jobs/x/job.json").body(b"{}".to_vec().into()).send().await.unwrap();
    s3.create_multipart_upload().bucket(BUCKET).key("jobs/x/big").send().await.unwrap();
    // What jobs leave for destroy: an instance still running, a secret...
    let tags = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
        .tags(aws_sdk_ec2::types::Tag::builder().key("hoist:managed").value("true").build())
        .tags(aws_sdk_ec2::types::Tag::builder().key("hoist:workspace").value("default").build())
        .build();
    ec2.run_instances().image_id("ami-12c6146b").instance_type("m5.large".into()).min_count(1).max_count(1).tag_specifications(tags).send().await.unwrap();
    // ...and a multi-node job's placement group.
    let pg_tags = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::PlacementGroup)
        .tags(aws_sdk_ec2::types::Tag::builder().key("hoist:managed").value("true").build())
        .tags(aws_sdk_ec2::types::Tag::builder().key("hoist:workspace").value("default").build())
        .build();
    ec2.create_placement_group()
        .group_name("hoist-default")
        .strategy(aws_sdk_ec2::types::PlacementStrategy::Cluster)
        .tag_specifications(pg_tags)
        .send()
        .await
        .unwrap();
    let sm = aws_sdk_secretsmanager::Client::new(&admin);
    let tag = |k: &str, v: &str| aws_sdk_secretsmanager::types::Tag::builder().key(k).value(v).build();
    sm.create_secret().name("hoist/default/TOKEN").secret_string("v").tags(tag("hoist:managed", "true")).tags(tag("hoist:workspace", "default")).send().await.unwrap();
    // ...and a SageMaker training job still running, which destroy stops
    // and waits for (SageMaker's end of it played by `stopper` below).
    let training = "hoist-default--x-1";
    let sagemaker = aws_sdk_sagemaker::Client::new(&admin);
    sagemaker
        .create_training_job()
        .training_job_name(training)
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/hoist-default-sagemaker"))
        .algorithm_specification(
            aws_sdk_sagemaker::types::AlgorithmSpecification::builder()
                .training_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1")
                .training_input_mode(aws_sdk_sagemaker::types::TrainingInputMode::File)
                .build(),
        )
        .output_data_config(aws_sdk_sagemaker::types::OutputDataConfig::builder().s3_output_path(format!("s3://{BUCKET}/jobs/x/output/")).build())
        .resource_config(
            aws_sdk_sagemaker::types::ResourceConfig::builder()
                .instance_type(aws_sdk_sagemaker::types::TrainingInstanceType::MlM5Large)
                .instance_count(1)
                .volume_size_in_gb(30)
                .build(),
        )
        .stopping_condition(aws_sdk_sagemaker::types::StoppingCondition::builder().max_runtime_in_seconds(3600).build())
        .tags(aws_sdk_sagemaker::types::Tag::builder().key("hoist:workspace").value("default").build())
        .send()
        .await
        .unwrap();
    // ...and an endpoint serving a model, which destroy deletes with its
    // configuration and model.
    let part = "hoist-default--serve-0123abcd";
    sagemaker
        .create_model()
        .model_name(part)
        .execution_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/hoist-default-sagemaker"))
        .primary_container(aws_sdk_sagemaker::types::ContainerDefinition::builder().image("123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1").build())
        .send()
        .await
        .unwrap();
    sagemaker
        .create_endpoint_config()
        .endpoint_config_name(part)
        .production_variants(
            aws_sdk_sagemaker::types::ProductionVariant::builder()
                .variant_name("main")
                .model_name(part)
                .instance_type(aws_sdk_sagemaker::types::ProductionVariantInstanceType::MlM5Large)
                .initial_instance_count(1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    sagemaker.create_endpoint().endpoint_name("hoist-default--serve").endpoint_config_name(part).send().await.unwrap();
    // A thread of its own: the steps block this test's runtime while hoist
    // runs.
    let endpoint = emu.endpoint().to_string();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopper = {
        let done = done.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let Ok(d) = sagemaker.describe_training_job().training_job_name(training).send().await else { return };
                    if d.training_job_status().map(|s| s.as_str()) == Some("Stopping") {
                        hoist_testkit::set_training_job_status(&endpoint, training, Some("Stopped"), "Stopped", None);
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            })
        })
    };

    step(&["init", "--yes"])?;
    let status = step(&["status"])?;
    if !status.stdout.contains("ready") {
        return Err(format!("not ready after repair:\n{}", status.stdout));
    }
    let destroyed = step(&["destroy", "--yes"]);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = stopper.join();
    let destroyed = destroyed?;
    // The boundary is the administrator's to delete: the user's destroy
    // leaves it, and says so.
    if !destroyed.stderr.contains("kept     boundary hoist-default-boundary") {
        return Err(format!("destroy did not say it left the boundary:\n{}", destroyed.stderr));
    }
    let left: Vec<String> =
        emu.hoist_resources("us-east-1").await.into_iter().filter(|r| r != "policy hoist-default-boundary").collect();
    if !left.is_empty() {
        return Err(format!("left behind: {left:?}"));
    }
    Ok(())
}

/// As a real user holds it: each document `hoist policy init status
/// destroy` prints, attached as a customer-managed policy.
#[tokio::test]
async fn the_generated_policy_is_sufficient() {
    let emu = enforced().await;
    let mut args = vec!["policy"];
    args.extend(FOOTPRINT);
    args.extend(["--account", ACCOUNT, "--region", "us-east-1", "-o", "json"]);
    let run = hoist(&emu.env(), &args);
    run.expect_code(0);
    let documents = match run.json() {
        Value::Array(docs) => docs,
        doc => vec![doc],
    };
    let keys = emu.create_user_with_managed_policies("ml-engineer", &documents).await;
    scenario(&emu, &keys).await.unwrap_or_else(|e| panic!("a user holding exactly `hoist policy all` (managed policies) failed: {e}"));
}

/// Actions AWS requires that the emulator does not check, so removing them
/// cannot fail a scenario here. Each is a documented hidden requirement.
const UNCHECKED_BY_EMULATOR: &[(&str, &str)] = &[
    ("iam:PassRole", "AWS checks it on the role AddRoleToInstanceProfile places; moto does not"),
    ("s3:DeleteObjectVersion", "AWS checks it per key when DeleteObjects names versions; moto checks s3:DeleteObject only"),
];

// Many short scenarios, each with its own server. Each blocks its worker
// thread while the hoist binary runs, so they are spawned onto a
// multi-threaded runtime to really run several at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_action_in_the_generated_policy_is_needed() {
    let policy = generated_policy(&enforced().await);
    let all = actions(&policy);
    assert!(all.len() > 40, "{all:?}");
    let started = std::time::Instant::now();
    // A few emulators at a time: each is a Python server, and dozens at
    // once on a small machine make every request slow enough to time out.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(6));
    let runs: Vec<_> = all
        .iter()
        .map(|action| {
            let policy = without(&policy, action);
            let action = action.clone();
            let slots = slots.clone();
            tokio::spawn(async move {
                let _slot = slots.acquire_owned().await.expect("not closed");
                let emu = enforced().await;
                let keys = emu.create_user_with_policy("ml-engineer", &policy).await;
                let result = scenario(&emu, &keys).await;
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
            // The failure must be hoist's own AccessDenied message,
            // naming the missing action.
            Err(e) if e.contains("was denied") && e.contains(&action) && e.contains("`hoist check ") => {}
            Err(e) => unclear.push(format!("{action}: {e}")),
        }
    }
    eprintln!("minimality: {} scenarios in {:?}", all.len(), started.elapsed());
    eprintln!("minimality: {} of {} actions shown needed", all.len() - unneeded.len(), all.len());
    let unchecked: Vec<String> = UNCHECKED_BY_EMULATOR.iter().map(|(a, _)| a.to_string()).collect();
    assert_eq!(unneeded, unchecked, "actions the scenario succeeds without (beyond those the emulator cannot check)");
    assert!(unclear.is_empty(), "failures without hoist's AccessDenied message naming the action:\n{}", unclear.join("\n"));
}

/// `hoist policy check`: what reading one's own policies needs.
fn check_policy(emu: &Emulator) -> Vec<Value> {
    let run = hoist(&emu.env(), &["policy", "check", "--account", ACCOUNT, "--region", "us-east-1", "-o", "json"]);
    run.expect_code(0);
    // Renamed so they can join another generated document (Sids are unique).
    let mut statements = run.json()["Statement"].as_array().unwrap().clone();
    for s in &mut statements {
        s["Sid"] = Value::String(format!("Check{}", s["Sid"].as_str().unwrap()));
    }
    statements
}

#[tokio::test]
async fn check_names_exactly_what_is_missing() {
    let emu = enforced().await;
    let mut policy = without(&without(&generated_policy(&emu), "s3:CreateBucket"), "iam:DeleteRole");
    policy["Statement"].as_array_mut().unwrap().extend(check_policy(&emu));
    let keys = emu.create_user_with_policy("ml-engineer", &policy).await;
    let env = emu.env_for(&keys);

    let run = hoist(&env, &["check", "-o", "json"]);
    run.expect_code(1);
    eprintln!("hoist check against the emulator (local evaluation): {:?}", run.elapsed);
    let report = run.json();
    assert_eq!(report["caller"], format!("arn:aws:iam::{ACCOUNT}:user/ml-engineer"));
    assert_eq!(report["method"], "local", "the emulator has no simulator: {report}");
    let capability = |name: &str| report["capabilities"].as_array().unwrap().iter().find(|c| c["command"] == name).unwrap().clone();
    let missing = |name: &str| -> Vec<(String, String)> {
        capability(name)["missing"].as_array().unwrap().iter().map(|m| (m[0].as_str().unwrap().to_string(), m[1].as_str().unwrap().to_string())).collect()
    };
    assert_eq!(missing("init"), vec![("s3:CreateBucket".to_string(), format!("arn:aws:s3:::{BUCKET}"))]);
    assert_eq!(
        missing("destroy"),
        vec![
            ("iam:DeleteRole".to_string(), format!("arn:aws:iam::{ACCOUNT}:role/hoist-default-instance")),
            ("iam:DeleteRole".to_string(), format!("arn:aws:iam::{ACCOUNT}:role/hoist-default-sagemaker")),
        ]
    );
    assert_eq!(capability("status")["ok"], true);
    // The footprint's policy does not run jobs in AWS: check says what
    // `run` lacks.
    assert_eq!(capability("run")["ok"], false);
    assert!(missing("run").iter().any(|(a, _)| a == "ec2:RunInstances"), "{:?}", missing("run"));

    let text = hoist(&env, &["check"]);
    assert!(text.stdout.contains("missing  hoist init: 1 permission"), "{}", text.stdout);
    assert!(text.stdout.contains("\"s3:CreateBucket\""), "the statement to hand over: {}", text.stdout);

    // With everything granted (`policy all`, and `policy check`), check
    // passes.
    let all = hoist(&emu.env(), &["policy", "all", "--account", ACCOUNT, "--region", "us-east-1", "-o", "json"]);
    let mut full = match all.expect_code(0).json() {
        Value::Array(docs) => docs,
        doc => vec![doc],
    };
    full.push(serde_json::json!({"Version": "2012-10-17", "Statement": check_policy(&emu)}));
    let keys = emu.create_user_with_policy("complete", &Value::Array(full)).await;
    let ok = hoist(&emu.env_for(&keys), &["check"]);
    ok.expect_code(0);
    assert!(ok.stdout.contains("ok       hoist init") && ok.stdout.contains("ok       hoist destroy"), "{}", ok.stdout);
}

/// Workspace `team`'s destroy, under exactly `hoist policy all -w team`,
/// with workspace `team-a`'s roles and a hand-made `hoist-team-notes` role
/// in the account (their names share the prefix `hoist-team-`): it neither
/// reads nor counts them, and deletes only `team`'s own.
#[tokio::test]
async fn destroy_never_reaches_a_workspace_whose_name_extends_its_own() {
    let emu = enforced().await;
    let admin = emu.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&admin);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    for role in ["hoist-team-a-sagemaker", "hoist-team-a-instance", "hoist-team-notes"] {
        iam.create_role().role_name(role).assume_role_policy_document(trust).send().await.unwrap();
    }
    iam.create_instance_profile().instance_profile_name("hoist-team-a-instance").send().await.unwrap();
    let run = hoist(&emu.env(), &["policy", "all", "-w", "team", "--account", ACCOUNT, "--region", "us-east-1", "-o", "json"]);
    run.expect_code(0);
    let keys = emu.create_user_with_policy("ml-engineer", &run.json()).await;
    let env = emu.env_for(&keys);

    let plan = hoist(&env, &["destroy", "-w", "team", "--plan", "-o", "json"]);
    plan.expect_code(0);
    let report = plan.json();
    assert_eq!(report["delete"], serde_json::json!([]), "{report}");
    assert_eq!(report["skipped"], serde_json::json!([]), "other workspaces' and hand-made roles are not even mentioned: {report}");
    let destroy = hoist(&env, &["destroy", "-w", "team", "--yes"]);
    destroy.expect_code(0);
    let left = emu.inventory("us-east-1").await;
    for r in ["role hoist-team-a-sagemaker", "role hoist-team-a-instance", "role hoist-team-notes", "instance-profile hoist-team-a-instance"] {
        assert!(left.contains(&r.to_string()), "{r} was touched: {left:?}");
    }
}

/// `hoist check` as a role (SSO, an assumed role): the role sits at a path,
/// which its assumed-role ARN omits; `hoist policy check` run as the role
/// names that role's own policies (any path), and check reads them and
/// reports exactly what is missing.
#[tokio::test]
async fn check_as_an_assumed_role_at_a_path() {
    let emu = enforced().await;
    let admin = emu.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&admin);
    // Trusting the emulator's administrator by name: moto does not read an
    // account-root principal as covering the account's users.
    let trust = format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/hoist-test-admin"}},"Action":"sts:AssumeRole"}}]}}"#);
    let role = iam.create_role().role_name("ml-runner").path("/team/").assume_role_policy_document(&trust).send().await.unwrap();
    assert_eq!(role.role.unwrap().arn, format!("arn:aws:iam::{ACCOUNT}:role/team/ml-runner"));
    let sts = aws_sdk_sts::Client::new(&admin);
    let creds = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/team/ml-runner"))
        .role_session_name("alice")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let mut env = emu.env();
    env.set("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .set("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .set("AWS_SESSION_TOKEN", creds.session_token());

    // Online, as the role: the check policy names the role's own policies.
    let check_policy = hoist(&env, &["policy", "check", "-o", "json"]);
    check_policy.expect_code(0);
    let own = check_policy.json();
    let text = own.to_string();
    assert!(
        text.contains(&format!("arn:aws:iam::{ACCOUNT}:role/ml-runner")) && text.contains(&format!("arn:aws:iam::{ACCOUNT}:role/*/ml-runner")),
        "{text}"
    );
    let mut policy = without(&generated_policy(&emu), "iam:DeleteRole");
    let mut statements = own["Statement"].as_array().unwrap().clone();
    for s in &mut statements {
        s["Sid"] = Value::String(format!("Check{}", s["Sid"].as_str().unwrap()));
    }
    policy["Statement"].as_array_mut().unwrap().extend(statements);
    iam.put_role_policy().role_name("ml-runner").policy_name("hoist").policy_document(policy.to_string()).send().await.unwrap();

    let run = hoist(&env, &["check", "-o", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["principal"], serde_json::json!({"kind": "role", "name": "ml-runner"}), "{report}");
    let destroy = report["capabilities"].as_array().unwrap().iter().find(|c| c["command"] == "destroy").unwrap().clone();
    let missing: Vec<String> = destroy["missing"].as_array().unwrap().iter().map(|m| m[0].as_str().unwrap().to_string()).collect();
    assert_eq!(missing, vec!["iam:DeleteRole", "iam:DeleteRole"], "{report}");
    let init = report["capabilities"].as_array().unwrap().iter().find(|c| c["command"] == "init").unwrap().clone();
    assert_eq!(init["ok"], true, "tag- and boundary-conditioned grants are judged with their request context: {report}");
}

/// Self-service without the boundary: the user may not create it (or they
/// could widen it), and is told who can.
#[tokio::test]
async fn a_user_cannot_create_the_boundary_and_is_told_who_can() {
    let emu = enforced().await;
    let keys = emu.create_user_with_policy("ml-engineer", &generated_policy(&emu)).await;
    let env = emu.env_for(&keys);
    let run = hoist(&env, &["init", "--yes"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("iam:CreatePolicy on") && run.stderr.contains("was denied"), "{}", run.stderr);
    assert!(run.stderr.contains("only by an administrator") && run.stderr.contains("hoist policy --format cloudformation"), "{}", run.stderr);
    assert!(!run.stderr.contains("The caller needs IAM permission iam:CreatePolicy"), "users are never told to ask for it: {}", run.stderr);
    assert!(run.stdout.contains("needs an administrator's credentials"), "the plan says so: {}", run.stdout);
    // The boundary is tried first and alone: nothing else was changed.
    assert_eq!(emu.hoist_resources("us-east-1").await, Vec::<String>::new());
}
