//! The administrator's path: apply the CloudFormation template `hoist
//! policy --mode admin --format cloudformation` prints (the emulator
//! implements stacks), then `hoist init` as a user holding only the
//! admin-mode policy, which verifies and writes nothing.

mod common;

use common::{hoist, hoist_declared};
use hoist_testkit::{ACCOUNT, Emulator, EmulatorOptions};
use serde_json::{Value, json};

/// The administrator's whole set-up (admin mode): apply the template, then
/// a user holding only the admin-mode user policy runs `init`, which
/// verifies and writes nothing, and `destroy`, which refuses.
#[tokio::test]
async fn the_admin_template_creates_the_whole_footprint_and_init_only_verifies() {
    let emu = Emulator::start_with(EmulatorOptions { enforce_iam: true, ..Default::default() }).await;
    let admin_env = emu.env();
    let offline = ["--account", ACCOUNT, "--region", "us-east-1", "-o", "json"];
    let policy = |extra: &[&str]| {
        let mut args = vec!["policy", "--mode", "admin"];
        args.extend(extra);
        args.extend(offline);
        let r = hoist(&admin_env, &args);
        r.expect_code(0);
        r.json()
    };
    let t = policy(&["--format", "cloudformation"]);
    let r = &t["Resources"];
    assert_eq!(r["SageMakerRole"]["Properties"]["RoleName"], "hoist-default-sagemaker");
    assert_eq!(r["SageMakerRole"]["Properties"]["PermissionsBoundary"], json!({"Ref": "Boundary"}));
    assert_eq!(r["Bucket"]["Properties"]["BucketName"], "hoist-default-123456789012-us-east-1");
    // The users' policy: what every command needs, and `hoist check`.
    // (Split over as many managed policies as IAM's size limit needs.)
    let docs = match policy(&["all", "check"]) {
        Value::Array(d) => d,
        d => vec![d],
    };
    for (i, doc) in docs.iter().enumerate() {
        assert_eq!(&r[format!("UserPolicy{}", i + 1)]["Properties"]["PolicyDocument"], doc);
    }
    assert!(r.get(format!("UserPolicy{}", docs.len() + 1)).is_none());

    let sdk = emu.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let vpcs = ec2.describe_vpcs().filters(aws_sdk_ec2::types::Filter::builder().name("is-default").values("true").build()).send().await.unwrap();
    let vpc = vpcs.vpcs()[0].vpc_id().unwrap().to_string();
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    cfn.create_stack()
        .stack_name("hoist-admin")
        .template_body(t.to_string())
        .parameters(aws_sdk_cloudformation::types::Parameter::builder().parameter_key("VpcId").parameter_value(&vpc).build())
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
        .send()
        .await
        .expect("the template applies");

    // The emulator's CloudFormation applies a bucket's name, encryption and
    // tags but none of its other properties (public access block,
    // ownership controls, lifecycle), nor an AWS::S3::BucketPolicy, and it
    // stores a role's inline `Policies` as a Python repr instead of JSON
    // (so no reader can parse them); real CloudFormation does all of it. The
    // emulator's administrator completes exactly those, with hoist itself;
    // anything else it had to change would be a template defect.
    let completed = hoist(&admin_env, &["init", "--yes", "-o", "json"]);
    completed.expect_code(0);
    for change in completed.json()["changes"].as_array().unwrap() {
        let unchanged = change["action"] == "unchanged";
        let gaps: &[&str] = match change["resource"].as_str().unwrap() {
            "bucket" => &["public access block", "object ownership", "lifecycle", "bucket policy"],
            "role" => &["inline policy \"hoist\" differs"],
            _ => &[],
        };
        let moto_gap = change["details"].as_array().unwrap().iter().all(|d| gaps.iter().any(|p| d.as_str().unwrap().starts_with(p)));
        assert!(unchanged || moto_gap, "the template left this for init to do: {change}");
    }

    // The user: holding the stack's own managed policies (as the
    // administrator attaches them), and `mode = "admin"`.
    let resources = cfn.list_stack_resources().stack_name("hoist-admin").send().await.unwrap();
    let user_policies: Vec<String> = resources
        .stack_resource_summaries()
        .iter()
        .filter(|r| r.logical_resource_id().is_some_and(|id| id.starts_with("UserPolicy")))
        .filter_map(|r| r.physical_resource_id().map(str::to_owned))
        .collect();
    assert!(!user_policies.is_empty() && user_policies.iter().all(|a| a.starts_with("arn:aws:iam::")), "{user_policies:?}");
    let keys = emu.create_user_with_attached("ml-engineer", &user_policies).await;
    let mut env = emu.env_for(&keys);
    env.set("HOIST_MODE", "admin");
    let init = hoist_declared(&env, &["init", "--yes"]);
    init.expect_code(0);
    assert!(init.stderr.contains("nothing to do"), "{}{}", init.stdout, init.stderr);
    let destroy = hoist(&env, &["destroy", "--yes"]);
    destroy.expect_code(2);
    assert!(destroy.stderr.contains("set up by an administrator"), "{}", destroy.stderr);
    // The template's user policy lets the user check their own permissions.
    let check = hoist(&env, &["check", "-o", "json"]);
    check.expect_code(0);
    assert_eq!(check.json()["caller"], format!("arn:aws:iam::{ACCOUNT}:user/ml-engineer"));

    // Drift the user cannot repair: reported, nothing changed, exit 2.
    let iam = aws_sdk_iam::Client::new(&sdk);
    iam.untag_role().role_name("hoist-default-instance").tag_keys("hoist:managed").send().await.unwrap();
    let drifted = hoist_declared(&env, &["init", "--yes"]);
    drifted.expect_code(2);
    assert!(drifted.stderr.contains("hoist changed nothing"), "{}", drifted.stderr);
}

#[test]
fn the_terraform_configuration_holds_the_same_policies() {
    let env = hoist_testkit::IsolatedEnv::new();
    let offline = ["--account", ACCOUNT, "--region", "us-east-1", "-o", "json"];
    let run = |extra: &[&str]| {
        let mut args = vec!["policy"];
        args.extend(extra);
        args.extend(offline);
        let r = common::hoist(&env, &args);
        r.expect_code(0);
        r.json()
    };
    let tf = run(&["--mode", "admin", "--format", "terraform"]);
    let roles = run(&["--roles"]);
    let user = run(&["all", "check", "--mode", "admin"]);
    let boundary = run(&["--boundary"]);
    let parse = |v: &serde_json::Value| serde_json::from_str::<serde_json::Value>(v.as_str().unwrap()).unwrap();
    let r = &tf["resource"];
    assert_eq!(parse(&r["aws_iam_role"]["sagemaker"]["assume_role_policy"]), roles["hoist-default-sagemaker"]["trust"]);
    assert_eq!(parse(&r["aws_iam_role_policy"]["instance"]["policy"]), roles["hoist-default-instance"]["inline"]["hoist"]);
    assert_eq!(r["aws_iam_instance_profile"]["instance"]["role"], "${aws_iam_role.instance.name}");
    let user = match user {
        serde_json::Value::Array(d) => d,
        d => vec![d],
    };
    for (i, doc) in user.iter().enumerate() {
        assert_eq!(&parse(&r["aws_iam_policy"][format!("user_{}", i + 1)]["policy"]), doc);
    }
    assert!(r["aws_iam_policy"][format!("user_{}", user.len() + 1)].is_null());
    assert_eq!(parse(&r["aws_iam_policy"]["boundary"]["policy"]), boundary);
    assert_eq!(r["aws_iam_role"]["instance"]["permissions_boundary"], "${aws_iam_policy.boundary.arn}");
    assert_eq!(r["aws_s3_bucket"]["artifacts"]["bucket"], "hoist-default-123456789012-us-east-1");
    // Self-service: the boundary and the user's policies, no roles.
    let ss = run(&["--format", "terraform"]);
    assert!(ss["resource"]["aws_iam_role"].is_null() && !ss["resource"]["aws_iam_policy"]["boundary"].is_null(), "{ss}");
}
