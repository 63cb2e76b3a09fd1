//! The administrator's path: apply the CloudFormation template `hoist
//! policy --format cloudformation` prints (the emulator implements stacks),
//! then `hoist init` with the roles it made, which writes nothing to IAM.

mod common;

use common::hoist_declared;
use hoist_testkit::{ACCOUNT, Emulator};

#[tokio::test]
async fn the_cloudformation_template_creates_what_init_needs() {
    let emu = Emulator::start();
    let env = emu.env();
    let template = hoist_declared(&env, &["policy", "--format", "cloudformation", "--account", ACCOUNT, "-o", "json"]);
    template.expect_code(0);
    let t = template.json();
    assert_eq!(t["Resources"]["SageMakerRole"]["Properties"]["RoleName"], "hoist-default-sagemaker");
    assert!(t["Resources"]["UserPolicy1"]["Properties"]["PolicyDocument"]["Statement"].is_array());

    let cfn = aws_sdk_cloudformation::Client::new(&emu.sdk_config().await);
    cfn.create_stack()
        .stack_name("hoist-admin")
        .template_body(t.to_string())
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
        .send()
        .await
        .expect("the template applies");
    let outputs = cfn.describe_stacks().stack_name("hoist-admin").send().await.unwrap();
    let stack = &outputs.stacks()[0];
    let init_line = stack
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("HoistInit"))
        .and_then(|o| o.output_value())
        .expect("the stack says how to run init")
        .to_string();
    assert_eq!(init_line, "hoist init --sagemaker-role hoist-default-sagemaker --instance-profile hoist-default-instance");

    // Run exactly what the stack says (plus --yes for a test).
    let mut args: Vec<&str> = init_line.split_whitespace().skip(1).collect();
    args.push("--yes");
    let init = hoist_declared(&env, &args);
    init.expect_code(0);
    assert!(init.stdout.contains("provided by an administrator"), "{}", init.stdout);
    let inventory = emu.inventory("us-east-1").await;
    assert!(inventory.contains(&"role hoist-default-sagemaker".to_string()), "{inventory:?}");
    assert!(inventory.contains(&"bucket hoist-default-123456789012-us-east-1".to_string()), "{inventory:?}");
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
    let tf = run(&["--format", "terraform"]);
    let roles = run(&["--roles"]);
    let user = run(&["all"]);
    let parse = |v: &serde_json::Value| serde_json::from_str::<serde_json::Value>(v.as_str().unwrap()).unwrap();
    let r = &tf["resource"];
    assert_eq!(parse(&r["aws_iam_role"]["sagemaker"]["assume_role_policy"]), roles["hoist-default-sagemaker"]["trust"]);
    assert_eq!(parse(&r["aws_iam_role_policy"]["instance"]["policy"]), roles["hoist-default-instance"]["inline"]["hoist"]);
    assert_eq!(r["aws_iam_instance_profile"]["instance"]["role"], "${aws_iam_role.instance.name}");
    assert_eq!(parse(&r["aws_iam_policy"]["user_1"]["policy"]), user);
}
