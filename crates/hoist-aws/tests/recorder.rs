//! The call recorder sees every operation a session's clients send, once
//! each, with the HTTP request as it went on the wire.

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use hoist_aws::Session;
use hoist_aws::record::{Call, CallLog};
use hoist_testkit::Emulator;

#[tokio::test]
async fn records_each_operation_once_with_its_iam_prefix() {
    let emu = Emulator::start();
    let log = CallLog::new();
    let session = Session::from_sdk_config(emu.sdk_config().await).unwrap().with_recorder(log.clone());
    hoist_aws::identity::caller_identity(&session).await.unwrap();
    let bucket = hoist_aws::bucket::Bucket::new(&session, "recorded");
    assert!(bucket.observe().await.unwrap().is_none());
    let logs = hoist_aws::log_group::LogGroups::new(&session);
    assert!(logs.observe("/nope").await.unwrap().is_none());
    let names: Vec<Call> = log.calls().iter().map(Call::without_request).collect();
    assert_eq!(
        names,
        vec![Call::named("sts", "GetCallerIdentity"), Call::named("s3", "HeadBucket"), Call::named("logs", "DescribeLogGroups")]
    );

    // The request as transmitted, per protocol.
    let calls = log.calls();
    let sts = calls[0].request.as_ref().expect("sts request recorded");
    assert_eq!(sts.method, "POST");
    assert!(sts.uri.starts_with(emu.endpoint()), "{}", sts.uri);
    assert!(sts.header("content-type").unwrap().starts_with("application/x-www-form-urlencoded"), "{sts:?}");
    assert!(sts.body.as_deref().unwrap().contains("Action=GetCallerIdentity"), "{sts:?}");

    let head = calls[1].request.as_ref().expect("s3 request recorded");
    assert_eq!(head.method, "HEAD");
    assert_eq!(head.uri, format!("{}/recorded/", emu.endpoint()), "path-style against an endpoint override");

    let describe = calls[2].request.as_ref().expect("logs request recorded");
    assert_eq!(describe.header("x-amz-target"), Some("Logs_20140328.DescribeLogGroups"));
    let body: serde_json::Value = serde_json::from_str(describe.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["logGroupNamePrefix"], "/nope", "{body}");

    // Credentials never reach the recording.
    for call in &calls {
        let r = call.request.as_ref().unwrap();
        assert!(!r.headers.contains_key("authorization") && !r.headers.contains_key("x-amz-security-token"), "{r:?}");
    }
}

#[tokio::test]
async fn object_data_is_not_recorded_but_its_length_and_xml_bodies_are() {
    let emu = Emulator::start();
    let admin = emu.sdk_config().await;
    let s3 = aws_sdk_s3_client(&admin);
    s3.create_bucket().bucket("data").send().await.unwrap();
    let log = CallLog::new();
    let session = Session::from_sdk_config(admin).unwrap().with_recorder(log.clone());
    let objects = hoist_aws::s3::Bucket::new(&session, "data");
    objects.put("jobs/a b/job.json", b"{\"secret\":\"payload\"}".to_vec()).await.unwrap();
    objects.delete(&["jobs/a b/job.json".to_string(), "jobs/x&y".to_string()]).await.unwrap();
    let calls = log.calls();
    assert_eq!(calls.iter().map(|c| c.operation.as_str()).collect::<Vec<_>>(), ["PutObject", "DeleteObjects"]);

    let put = calls[0].request.as_ref().unwrap();
    assert_eq!(put.method, "PUT");
    assert!(put.uri.starts_with(&format!("{}/data/jobs/a%20b/job.json", emu.endpoint())), "{}", put.uri);
    assert_eq!(put.body, None, "object data is not recorded");
    assert_eq!(put.body_len, Some(20));

    let delete = calls[1].request.as_ref().unwrap();
    assert_eq!(delete.method, "POST");
    assert!(delete.uri.starts_with(&format!("{}/data/?delete", emu.endpoint())), "{}", delete.uri);
    let xml = delete.body.as_deref().expect("DeleteObjects' XML body");
    assert!(xml.contains("<Key>jobs/a b/job.json</Key>") && xml.contains("<Key>jobs/x&amp;y</Key>"), "{xml}");

    // Old recordings (no request) and new ones parse alike from a file.
    let file = std::env::temp_dir().join(format!("hoist-recorder-{}.jsonl", std::process::id()));
    let old = r#"{"service":"s3","operation":"HeadBucket"}"#;
    let new = serde_json::to_string(&calls[1]).unwrap();
    std::fs::write(&file, format!("{old}\n{new}\n")).unwrap();
    let read = CallLog::read_file(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    assert_eq!(read, vec![Call::named("s3", "HeadBucket"), calls[1].clone()]);
}

fn aws_sdk_s3_client(sdk: &aws_types::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
}

#[tokio::test]
async fn a_large_json_body_keeps_the_fields_authorization_reads() {
    let emu = Emulator::start();
    let admin = emu.sdk_config().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&admin);
    logs.create_log_group().log_group_name("/big").send().await.unwrap();
    logs.create_log_stream().log_group_name("/big").log_stream_name("s").send().await.unwrap();
    let log = CallLog::new();
    let session = Session::from_sdk_config(admin).unwrap().with_recorder(log.clone());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let events: Vec<_> = (0..300)
        .map(|i| aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(now).message(format!("{i:01000}")).build().unwrap())
        .collect();
    session.logs_client().put_log_events().log_group_name("/big").log_stream_name("s").set_log_events(Some(events)).send().await.unwrap();
    let calls = log.calls();
    let req = calls[0].request.as_ref().unwrap();
    assert!(req.body_len.unwrap() > hoist_aws::record::MAX_RECORDED_BODY as u64);
    let body: serde_json::Value = serde_json::from_str(req.body.as_deref().unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({"logGroupName": "/big", "logStreamName": "s"}));
}

#[tokio::test]
async fn a_retried_operation_is_recorded_once() {
    let request = || http::Request::builder().uri("https://sts.us-east-1.amazonaws.com/").body(SdkBody::empty()).unwrap();
    let unavailable = http::Response::builder().status(503).body(SdkBody::from("")).unwrap();
    let ok = http::Response::builder()
        .status(200)
        .body(SdkBody::from(
            r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
            <Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDA</UserId><Account>123456789012</Account>
            </GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#,
        ))
        .unwrap();
    let client = StaticReplayClient::new(vec![ReplayEvent::new(request(), unavailable), ReplayEvent::new(request(), ok)]);
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::for_tests())
        .http_client(client.clone())
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(std::time::Duration::from_millis(1)),
        )
        .load()
        .await;
    let log = CallLog::new();
    let session = Session::from_sdk_config(sdk).unwrap().with_recorder(log.clone());
    hoist_aws::identity::caller_identity(&session).await.unwrap();
    assert_eq!(client.actual_requests().count(), 2, "the first attempt failed and was retried");
    let calls = log.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].request.as_ref().unwrap().body.as_deref().unwrap().contains("Action=GetCallerIdentity"));
}

#[tokio::test]
async fn an_operation_that_never_reached_the_wire_is_recorded_without_a_request() {
    // No credentials: signing fails before anything is transmitted.
    let client = StaticReplayClient::new(vec![]);
    let sdk = aws_config::SdkConfig::builder()
        .region(aws_types::region::Region::new("us-east-1"))
        .http_client(client.clone())
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let log = CallLog::new();
    let session = Session::from_sdk_config(sdk).unwrap().with_recorder(log.clone());
    assert!(hoist_aws::identity::caller_identity(&session).await.is_err());
    assert_eq!(client.actual_requests().count(), 0);
    assert_eq!(log.calls(), vec![Call::named("sts", "GetCallerIdentity")]);
}
