//! The harness itself: the server answers as the account hoist expects,
//! enforcement judges requests by the signer's policy, and the server is
//! gone when the handle is dropped.

use hoist_testkit::{ACCOUNT, Emulator, EmulatorOptions};

#[tokio::test]
async fn plain_server_answers_sts_for_the_test_account() {
    let emu = Emulator::start();
    let iam = aws_sdk_iam::Client::new(&emu.sdk_config().await);
    let users = iam.list_users().send().await.expect("list users");
    assert!(users.users().is_empty());
    assert!(emu.endpoint().starts_with("http://127.0.0.1:"));
    let user = iam.create_user().user_name("u").send().await.unwrap().user.unwrap();
    assert_eq!(user.arn(), format!("arn:aws:iam::{ACCOUNT}:user/u"));
}

#[tokio::test]
async fn enforcement_allows_what_the_policy_grants_and_denies_the_rest() {
    let emu = Emulator::start_with(EmulatorOptions { enforce_iam: true, ..Default::default() }).await;
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]
    });
    let keys = emu.create_user_with_policy("limited", &policy).await;
    let iam = aws_sdk_iam::Client::new(&emu.sdk_config_for(&keys, "us-east-1").await);

    let users = iam.list_users().send().await.expect("ListUsers is allowed");
    let names: Vec<_> = users.users().iter().map(|u| u.user_name().to_string()).collect();
    assert!(names.contains(&"limited".to_string()), "{names:?}");

    let denied = iam.create_user().user_name("nope").send().await.expect_err("CreateUser is not allowed");
    // moto wraps awsQuery errors as <ErrorResponse><Errors><Error>, which
    // the SDK does not parse into a code (hoist-aws reads the body for
    // that); assert on the response itself.
    let raw = denied.raw_response().expect("a response came back");
    let body = String::from_utf8_lossy(raw.body().bytes().unwrap()).into_owned();
    assert_eq!(raw.status().as_u16(), 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(body.contains("not authorized to perform: iam:CreateUser"), "{body}");
}

#[test]
fn dropping_the_handle_stops_the_server() {
    let emu = Emulator::start();
    let addr: std::net::SocketAddr = emu.endpoint().trim_start_matches("http://").parse().unwrap();
    assert!(std::net::TcpStream::connect(addr).is_ok());
    drop(emu);
    assert!(std::net::TcpStream::connect(addr).is_err(), "server still listening after drop");
}

/// Patch 11 (SageMaker training jobs) behaves as AWS documents: every
/// point of `tests/emulator/check_training_jobs.py`, which starts its own
/// server and drives it with boto3.
#[test]
fn the_sagemaker_training_patch_behaves_as_aws_documents() {
    run_check("check_training_jobs.py");
}

/// Patch 12 (SageMaker endpoints) behaves as AWS documents: every point of
/// `tests/emulator/check_endpoints.py`, which starts its own servers (one
/// enforcing IAM) and drives them with boto3.
#[test]
fn the_sagemaker_endpoint_patch_behaves_as_aws_documents() {
    run_check("check_endpoints.py");
}

/// Run one of `tests/emulator/`'s check scripts (each starts its own
/// servers) and require it to pass with no mismatch.
fn run_check(script: &str) {
    let root = hoist_testkit::emulator::repo_root();
    let out = std::process::Command::new(hoist_testkit::emulator::emulator_python())
        .arg(root.join("tests/emulator").join(script))
        .current_dir(&root)
        .output()
        .expect("running the check");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{script}: {text}");
    assert!(text.contains("0 mismatch(es)"), "{script}: {text}");
}

/// The endpoint helper reaches patch 12's control endpoint, and says what
/// it answered when it refuses (here: no such endpoint).
#[test]
#[should_panic(expected = "no endpoint 'hoist-missing'")]
fn setting_a_missing_endpoints_status_panics_with_the_emulators_answer() {
    let emu = Emulator::start();
    hoist_testkit::set_endpoint_status(emu.endpoint(), "hoist-missing", "Failed", Some("no capacity"), false);
}
