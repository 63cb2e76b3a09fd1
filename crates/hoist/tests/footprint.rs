//! `hoist init`, `status` and `destroy` against the emulator: what they
//! create is read back from the emulator and checked setting by setting.

mod common;

use std::collections::BTreeMap;

use common::{Run, hoist_declared};
use hoist_aws::record::CallLog;
use hoist_testkit::{ACCOUNT, Emulator, IsolatedEnv};

const BUCKET: &str = "hoist-default-123456789012-us-east-1";

struct Aws {
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    ec2: aws_sdk_ec2::Client,
}

async fn clients(emu: &Emulator, region: &str) -> Aws {
    let sdk = emu.sdk_config_for(emu.admin_keys(), region).await;
    Aws {
        s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build()),
        iam: aws_sdk_iam::Client::new(&sdk),
        logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
        ec2: aws_sdk_ec2::Client::new(&sdk),
    }
}

/// Every run here also checks that hoist sent only operations declared
/// for the command.
fn run(env: &IsolatedEnv, args: &[&str]) -> Run {
    hoist_declared(env, args)
}

fn decode(doc: &str) -> serde_json::Value {
    hoist_aws::iam::decode_policy(doc)
}

async fn role_tags(aws: &Aws, role: &str) -> BTreeMap<String, String> {
    let r = aws.iam.get_role().role_name(role).send().await.unwrap().role.unwrap();
    r.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

#[tokio::test]
async fn init_from_empty_creates_exactly_the_hardened_footprint() {
    let emu = Emulator::start();
    let env = emu.env();
    let plan = run(&env, &["init", "--plan"]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("7 to create"), "{}", plan.stdout);
    assert!(emu.hoist_resources("us-east-1").await.is_empty(), "--plan changed nothing");

    let quiet = run(&env, &["init", "--yes", "-q"]);
    quiet.expect_code(0);
    assert!(quiet.stdout.is_empty() && quiet.stderr.is_empty(), "-q --yes prints nothing: {}{}", quiet.stdout, quiet.stderr);
    assert_eq!(
        emu.hoist_resources("us-east-1").await,
        vec![
            format!("bucket {BUCKET}"),
            "instance-profile hoist-default-instance".to_string(),
            "log-group /hoist/default/jobs".to_string(),
            "policy hoist-default-boundary".to_string(),
            "role hoist-default-instance".to_string(),
            "role hoist-default-sagemaker".to_string(),
            "security-group hoist-default".to_string(),
        ]
    );
    let aws = clients(&emu, "us-east-1").await;

    // Both roles carry the workspace's permissions boundary, whose document
    // is `hoist policy --boundary`.
    let boundary_arn = format!("arn:aws:iam::{}:policy/hoist-default-boundary", ACCOUNT);
    for role in ["hoist-default-sagemaker", "hoist-default-instance"] {
        let r = aws.iam.get_role().role_name(role).send().await.unwrap().role.unwrap();
        assert_eq!(r.permissions_boundary().and_then(|b| b.permissions_boundary_arn()), Some(boundary_arn.as_str()), "{role}");
    }
    let printed = common::hoist(&env, &["policy", "--boundary", "-o", "json"]).json();
    let p = aws.iam.get_policy().policy_arn(&boundary_arn).send().await.unwrap().policy.unwrap();
    let v = aws.iam.get_policy_version().policy_arn(&boundary_arn).version_id(p.default_version_id().unwrap()).send().await.unwrap();
    let doc = hoist_aws::iam::decode_policy(v.policy_version.unwrap().document.as_deref().unwrap());
    assert!(hoist::footprint::policies::same_policy(&doc, &printed), "{doc} vs {printed}");

    // The bucket, hardened.
    let pab = aws.s3.get_public_access_block().bucket(BUCKET).send().await.unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        (pab.block_public_acls(), pab.ignore_public_acls(), pab.block_public_policy(), pab.restrict_public_buckets()),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let enc = aws.s3.get_bucket_encryption().bucket(BUCKET).send().await.unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(rule.apply_server_side_encryption_by_default().unwrap().sse_algorithm().as_str(), "AES256");
    let policy: serde_json::Value =
        serde_json::from_str(aws.s3.get_bucket_policy().bucket(BUCKET).send().await.unwrap().policy().unwrap()).unwrap();
    let deny = &policy["Statement"][0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Condition"]["Bool"]["aws:SecureTransport"], "false");
    assert_eq!(deny["Action"], "s3:*");
    let own = aws.s3.get_bucket_ownership_controls().bucket(BUCKET).send().await.unwrap();
    assert_eq!(own.ownership_controls().unwrap().rules()[0].object_ownership().as_str(), "BucketOwnerEnforced");
    let life = aws.s3.get_bucket_lifecycle_configuration().bucket(BUCKET).send().await.unwrap();
    assert_eq!(life.rules()[0].abort_incomplete_multipart_upload().unwrap().days_after_initiation(), Some(7));
    let tags = aws.s3.get_bucket_tagging().bucket(BUCKET).send().await.unwrap();
    let tags: BTreeMap<_, _> = tags.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
    assert_eq!(tags.get("hoist:managed").map(String::as_str), Some("true"));
    assert_eq!(tags.get("hoist:workspace").map(String::as_str), Some("default"));

    // The roles: trusted by their service for this account only, one
    // scoped inline policy, no managed policy.
    for (role, service) in [("hoist-default-sagemaker", "sagemaker.amazonaws.com"), ("hoist-default-instance", "ec2.amazonaws.com")] {
        let r = aws.iam.get_role().role_name(role).send().await.unwrap().role.unwrap();
        let trust = decode(r.assume_role_policy_document().unwrap());
        assert_eq!(trust["Statement"][0]["Principal"]["Service"], service);
        assert!(trust.to_string().contains(&format!("\"aws:SourceAccount\":\"{ACCOUNT}\"")), "{trust}");
        let names = aws.iam.list_role_policies().role_name(role).send().await.unwrap();
        assert_eq!(names.policy_names(), ["hoist"]);
        let doc = aws.iam.get_role_policy().role_name(role).policy_name("hoist").send().await.unwrap();
        let doc = decode(doc.policy_document());
        assert!(doc.to_string().contains(BUCKET), "scoped to the bucket: {doc}");
        assert!(!doc.to_string().contains("\"Resource\":\"arn:aws:s3:::*"), "{doc}");
        assert!(aws.iam.list_attached_role_policies().role_name(role).send().await.unwrap().attached_policies().is_empty());
        assert_eq!(role_tags(&aws, role).await.get("hoist:workspace").map(String::as_str), Some("default"));
    }
    let profile = aws.iam.get_instance_profile().instance_profile_name("hoist-default-instance").send().await.unwrap();
    let roles: Vec<&str> = profile.instance_profile().unwrap().roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(roles, ["hoist-default-instance"]);

    // The log group, with its retention; the security group, closed.
    let groups = aws.logs.describe_log_groups().log_group_name_prefix("/hoist/default/").send().await.unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));
    let sgs = aws
        .ec2
        .describe_security_groups()
        .filters(aws_sdk_ec2::types::Filter::builder().name("group-name").values("hoist-default").build())
        .send()
        .await
        .unwrap();
    let sg = &sgs.security_groups()[0];
    // One inbound rule: all traffic from the group itself (the nodes of a
    // multi-node job), from no address range.
    let rules = sg.ip_permissions();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert!(rules[0].ip_ranges().is_empty() && rules[0].ipv6_ranges().is_empty(), "{rules:?}");
    assert_eq!(rules[0].user_id_group_pairs().iter().filter_map(|g| g.group_id()).collect::<Vec<_>>(), vec![sg.group_id().unwrap()]);
    assert!(sg.tags().iter().any(|t| t.key() == Some("hoist:workspace") && t.value() == Some("default")));
}

#[tokio::test]
async fn second_init_sends_no_mutating_call() {
    let emu = Emulator::start();
    let mut env = emu.env();
    run(&env, &["init", "--yes"]).expect_code(0);
    let calls = env.path().join("calls.jsonl");
    env.set("HOIST_RECORD_CALLS", &calls);
    let again = common::hoist(&env, &["init", "--yes"]);
    again.expect_code(0);
    common::assert_declared("init", &calls);
    assert!(again.stdout.contains("7 unchanged") && again.stderr.contains("nothing to do"), "{}{}", again.stdout, again.stderr);
    let recorded = CallLog::read_file(&calls).unwrap();
    assert!(recorded.len() >= 15, "the run was recorded: {recorded:?}");
    let writes: Vec<_> = recorded.iter().filter(|c| hoist_aws::catalog::is_mutating_name(&c.operation)).collect();
    assert!(writes.is_empty(), "a no-op init sent writes: {writes:?}");
}

#[tokio::test]
async fn drift_is_repaired_and_reported() {
    let emu = Emulator::start();
    let env = emu.env();
    run(&env, &["init", "--yes"]).expect_code(0);
    let aws = clients(&emu, "us-east-1").await;

    // Out of band: a wider trust policy, a wider inline policy, public
    // access unblocked, the managed tag removed, a shorter retention.
    let open_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    aws.iam.update_assume_role_policy().role_name("hoist-default-sagemaker").policy_document(open_trust).send().await.unwrap();
    let star = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    aws.iam.put_role_policy().role_name("hoist-default-instance").policy_name("hoist").policy_document(star).send().await.unwrap();
    aws.s3.delete_public_access_block().bucket(BUCKET).send().await.unwrap();
    aws.iam.untag_role().role_name("hoist-default-sagemaker").tag_keys("hoist:managed").send().await.unwrap();
    aws.logs.put_retention_policy().log_group_name("/hoist/default/jobs").retention_in_days(1).send().await.unwrap();

    let quiet = run(&env, &["status", "-q"]);
    quiet.expect_code(1);
    assert!(quiet.stdout.is_empty() && quiet.stderr.is_empty(), "-q: the exit status is the answer: {}{}", quiet.stdout, quiet.stderr);
    let status = run(&env, &["status"]);
    status.expect_code(1);
    assert!(status.stdout.contains("drifted") && status.stdout.contains("not ready"), "{}", status.stdout);
    let json = run(&env, &["status", "-o", "json"]);
    json.expect_code(1);
    let states: Vec<String> = json.json()["resources"].as_array().unwrap().iter().map(|r| r["state"].as_str().unwrap().to_string()).collect();
    assert!(states.contains(&"drifted".to_string()) && states.iter().all(|s| ["ok", "drifted"].contains(&s.as_str())), "{states:?}");

    let fix = run(&env, &["init", "--yes", "-o", "json"]);
    fix.expect_code(0);
    let report = fix.json();
    let details: Vec<String> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["details"].as_array().unwrap().iter().map(|d| {
                format!("{} {}: {}", c["resource"].as_str().unwrap(), c["name"].as_str().unwrap(), d.as_str().unwrap())
            })
        })
        .collect();
    let has = |needle: &str| assert!(details.iter().any(|d| d.contains(needle)), "no {needle:?} in {details:#?}");
    has("hoist-default-sagemaker: trust policy differs");
    has("hoist-default-sagemaker: missing tags hoist:managed=true");
    has("hoist-default-instance: inline policy \"hoist\" differs");
    has("public access block not fully on");
    has("retention 1 day -> 30 days");
    assert_eq!(report["applied"], true);

    // And it is all back.
    let trust = decode(aws.iam.get_role().role_name("hoist-default-sagemaker").send().await.unwrap().role.unwrap().assume_role_policy_document().unwrap());
    assert_eq!(trust["Statement"][0]["Principal"]["Service"], "sagemaker.amazonaws.com");
    let doc = decode(aws.iam.get_role_policy().role_name("hoist-default-instance").policy_name("hoist").send().await.unwrap().policy_document());
    assert!(!doc.to_string().contains("\"Action\":\"*\""), "{doc}");
    assert!(aws.s3.get_public_access_block().bucket(BUCKET).send().await.is_ok());
    assert_eq!(role_tags(&aws, "hoist-default-sagemaker").await.get("hoist:managed").map(String::as_str), Some("true"));
    let groups = aws.logs.describe_log_groups().log_group_name_prefix("/hoist/default/").send().await.unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));
    assert!(run(&env, &["status"]).stdout.contains("ready"));
}

#[tokio::test]
async fn an_unowned_same_named_role_is_refused_unless_adopted() {
    let emu = Emulator::start();
    let env = emu.env();
    let aws = clients(&emu, "us-east-1").await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    aws.iam.create_role().role_name("hoist-default-instance").assume_role_policy_document(trust).send().await.unwrap();

    let refused = run(&env, &["init", "--yes"]);
    refused.expect_code(2);
    assert!(refused.stdout.contains("conflict") && refused.stdout.contains("--adopt"), "{}", refused.stdout);
    assert!(refused.stderr.contains("nothing was changed"), "{}", refused.stderr);
    assert_eq!(emu.hoist_resources("us-east-1").await, vec!["role hoist-default-instance"], "nothing created");

    let adopted = run(&env, &["init", "--yes", "--adopt"]);
    adopted.expect_code(0);
    assert!(adopted.stdout.contains("adopt: add tags"), "{}", adopted.stdout);
    let tags = role_tags(&aws, "hoist-default-instance").await;
    assert_eq!(tags.get("hoist:workspace").map(String::as_str), Some("default"));
    let names = aws.iam.list_role_policies().role_name("hoist-default-instance").send().await.unwrap();
    assert_eq!(names.policy_names(), ["hoist"]);
    run(&env, &["init", "--yes"]).expect_code(0); // adopted: no conflict any more
}

#[tokio::test]
async fn init_works_outside_us_east_1() {
    let emu = Emulator::start();
    let mut env = emu.env();
    env.set("AWS_REGION", "eu-west-1");
    run(&env, &["init", "--yes"]).expect_code(0);
    let aws = clients(&emu, "eu-west-1").await;
    let bucket = "hoist-default-123456789012-eu-west-1";
    let loc = aws.s3.get_bucket_location().bucket(bucket).send().await.unwrap();
    assert_eq!(loc.location_constraint().map(|c| c.as_str()), Some("eu-west-1"));
    run(&env, &["init", "--yes"]).expect_code(0);
    run(&env, &["destroy", "--yes"]).expect_code(0);
    assert!(emu.hoist_resources("eu-west-1").await.is_empty());
}

#[tokio::test]
async fn destroy_leaves_nothing_and_spares_other_workspaces() {
    let emu = Emulator::start();
    let env = emu.env();
    let mut other = emu.env();
    other.set("HOIST_WORKSPACE", "other");
    run(&env, &["init", "--yes"]).expect_code(0);
    run(&other, &["init", "--yes"]).expect_code(0);
    let aws = clients(&emu, "us-east-1").await;

    // A bucket with history: versions, delete markers, an unfinished upload.
    aws.s3
        .put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .unwrap();
    for i in 0..3 {
        aws.s3.put_object().bucket(BUCKET).key("jobs/a/job.json").body(format!("v{i}").into_bytes().into()).send().await.unwrap();
    }
    aws.s3.delete_object().bucket(BUCKET).key("jobs/a/job.json").send().await.unwrap();
    aws.s3.create_multipart_upload().bucket(BUCKET).key("jobs/a/big.bin").send().await.unwrap();
    // Something hoist-named that hoist did not make: left alone.
    aws.logs.create_log_group().log_group_name("/hoist/default/handmade").send().await.unwrap();

    let plan = run(&env, &["destroy", "--plan"]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("7 to delete") && plan.stdout.contains("handmade"), "{}", plan.stdout);

    // Not at a terminal and no --yes: refused, nothing deleted.
    let refused = run(&env, &["destroy"]);
    refused.expect_code(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(emu.hoist_resources("us-east-1").await.iter().any(|r| r.contains(BUCKET)));

    run(&env, &["destroy", "--yes"]).expect_code(0);
    let left = emu.hoist_resources("us-east-1").await;
    assert_eq!(
        left,
        vec![
            "bucket hoist-other-123456789012-us-east-1",
            "instance-profile hoist-other-instance",
            "log-group /hoist/default/handmade",
            "log-group /hoist/other/jobs",
            "policy hoist-other-boundary",
            "role hoist-other-instance",
            "role hoist-other-sagemaker",
            "security-group hoist-other",
        ]
    );
    // Again: nothing to do. Then init works again.
    let again = run(&env, &["destroy", "--yes"]);
    again.expect_code(0);
    assert!(again.stdout.contains("nothing to delete"), "{}", again.stdout);
    run(&env, &["init", "--yes"]).expect_code(0);
    assert!(run(&env, &["status"]).stdout.contains("ready"));
}

#[tokio::test]
async fn init_without_yes_away_from_a_terminal_changes_nothing() {
    let emu = Emulator::start();
    let env = emu.env();
    let run = run(&env, &["init"]);
    run.expect_code(2);
    assert!(run.stdout.contains("7 to create"), "the plan is shown: {}", run.stdout);
    assert!(run.stderr.contains("nothing was changed") && run.stderr.contains("--yes"), "{}", run.stderr);
    assert!(emu.hoist_resources("us-east-1").await.is_empty());
}

#[tokio::test]
async fn roles_made_by_an_administrator_are_checked_and_never_changed() {
    let emu = Emulator::start();
    let mut env = emu.env();
    let aws = clients(&emu, "us-east-1").await;
    let trust = |service: &str| {
        format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#)
    };
    env.write_hoist_config("sagemaker_role = \"ml-sagemaker\"\ninstance_profile = \"arn:aws:iam::123456789012:instance-profile/ml-instance\"\n");

    // Missing: refused, nothing created.
    let refused = run(&env, &["init", "--yes"]);
    refused.expect_code(2);
    assert!(refused.stdout.contains("ml-sagemaker") && refused.stdout.contains("does not exist"), "{}", refused.stdout);
    assert!(emu.hoist_resources("us-east-1").await.is_empty());

    // The administrator makes them; the SageMaker role first with the wrong trust.
    aws.iam.create_role().role_name("ml-sagemaker").assume_role_policy_document(trust("ec2.amazonaws.com")).send().await.unwrap();
    aws.iam.create_role().role_name("ml-instance").assume_role_policy_document(trust("ec2.amazonaws.com")).send().await.unwrap();
    aws.iam.create_instance_profile().instance_profile_name("ml-instance").send().await.unwrap();
    aws.iam.add_role_to_instance_profile().instance_profile_name("ml-instance").role_name("ml-instance").send().await.unwrap();
    let refused = run(&env, &["init", "--yes"]);
    refused.expect_code(2);
    assert!(refused.stdout.contains("does not let sagemaker.amazonaws.com assume it"), "{}", refused.stdout);

    aws.iam.update_assume_role_policy().role_name("ml-sagemaker").policy_document(trust("sagemaker.amazonaws.com")).send().await.unwrap();
    let calls = env.path().join("calls.jsonl");
    env.set("HOIST_RECORD_CALLS", &calls);
    let ok = common::hoist(&env, &["init", "--yes"]);
    ok.expect_code(0);
    common::assert_declared("init", &calls);
    env.remove("HOIST_RECORD_CALLS");
    assert!(ok.stdout.contains("provided by an administrator"), "{}", ok.stdout);
    let iam_writes: Vec<_> = CallLog::read_file(&calls)
        .unwrap()
        .into_iter()
        .filter(|c| c.service == "iam" && hoist_aws::catalog::is_mutating_name(&c.operation))
        .collect();
    assert!(iam_writes.is_empty(), "init changed IAM: {iam_writes:?}");
    assert!(!emu.inventory("us-east-1").await.iter().any(|r| r.starts_with("role hoist-")), "no hoist role made");
    assert!(run(&env, &["status"]).stdout.contains("ready"));

    // Destroy removes hoist's resources and leaves the administrator's.
    run(&env, &["destroy", "--yes"]).expect_code(0);
    let left = emu.inventory("us-east-1").await;
    assert!(left.contains(&"role ml-sagemaker".to_string()) && left.contains(&"instance-profile ml-instance".to_string()), "{left:?}");
    assert!(emu.hoist_resources("us-east-1").await.is_empty());
}

/// What an administrator's CloudFormation stack made (CloudFormation tags
/// it `aws:cloudformation:stack-name`) is never deleted by `destroy`, even
/// though it carries hoist's tags: that would leave the stack half-deleted.
/// An untagged instance profile holding the workspace's own role (a
/// template cannot tag profiles) is the workspace's.
#[tokio::test]
async fn destroy_leaves_a_stacks_resources_to_the_stack() {
    let emu = Emulator::start();
    let env = emu.env();
    run(&env, &["init", "--yes"]).expect_code(0);
    let aws = clients(&emu, "us-east-1").await;
    // The emulator's CloudFormation does not tag; the stack's tag is added
    // by hand, as CloudFormation would have.
    let tag = aws_sdk_iam::types::Tag::builder().key("aws:cloudformation:stack-name").value("hoist-admin").build().unwrap();
    aws.iam.tag_role().role_name("hoist-default-sagemaker").tags(tag).send().await.unwrap();
    aws.iam.untag_instance_profile().instance_profile_name("hoist-default-instance").tag_keys("hoist:managed").tag_keys("hoist:workspace").tag_keys("hoist:region").send().await.unwrap();

    let plan = run(&env, &["destroy", "--plan", "-o", "json"]);
    plan.expect_code(0);
    let report = plan.json();
    let names = |key: &str| -> Vec<String> { report[key].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect() };
    assert!(names("delete").contains(&"hoist-default-instance".to_string()), "{report}");
    assert!(!names("delete").contains(&"hoist-default-sagemaker".to_string()), "{report}");
    let kept = report["skipped"].as_array().unwrap().iter().find(|s| s["name"] == "hoist-default-sagemaker").expect("said so").clone();
    assert!(kept["reason"].as_str().unwrap().contains("CloudFormation stack \"hoist-admin\""), "{kept}");
    run(&env, &["destroy", "--yes"]).expect_code(0);
    assert_eq!(emu.hoist_resources("us-east-1").await, vec!["policy hoist-default-boundary", "role hoist-default-sagemaker"]);
}

/// `cmd` run at a terminal (util-linux `script` gives it a pseudo-terminal):
/// what the terminal showed.
fn at_terminal(env: &IsolatedEnv, args: &str) -> String {
    let out = env
        .command("script")
        // A terminal's own setting (the isolated environment has none).
        .env("TERM", "xterm-256color")
        .args(["-qec", &format!("{} {args}", env!("CARGO_BIN_EXE_hoist")), "/dev/null"])
        .output()
        .expect("util-linux `script`");
    assert!(out.status.success(), "{args}: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn progress_shows_at_a_terminal_only_and_never_with_q() {
    let emu = Emulator::start();
    let env = emu.env();
    // At a terminal: init's and destroy's bars, drawn and then cleared.
    let shown = at_terminal(&env, "init --yes");
    assert!(shown.contains("setting up [") && shown.contains("/8 ("), "{shown}");
    assert!(shown.contains("\u{1b}[2K"), "the bar is cleared: {shown:?}");
    assert!(shown.contains("set up: 7 created"), "{shown}");
    let shown = at_terminal(&env, "destroy --yes");
    assert!(shown.contains("deleting ["), "{shown}");
    // With -q at a terminal, or with stderr not a terminal: no bar, no
    // escape codes.
    let quiet = at_terminal(&env, "init --yes -q");
    assert!(!quiet.contains("setting up") && !quiet.contains('\u{1b}'), "{quiet:?}");
    let piped = run(&env, &["destroy", "--yes"]);
    piped.expect_code(0);
    assert!(!piped.stderr.contains("deleting [") && !piped.stderr.contains('\u{1b}'), "{:?}", piped.stderr);
    assert!(piped.stderr.contains("deleted  bucket"), "{}", piped.stderr);
}
