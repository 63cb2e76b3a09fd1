//! Throttling, which the emulator never does: the SDK's replay client
//! answers PutLogEvents with ThrottlingException until both the SDK's own
//! retries and a first round of the shipper's are spent, then succeeds.
//! The batch must arrive once, whole.

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use aws_types::region::Region;
use hoist::jobs::logstore::{LogLine, LogStore, Stream};
use hoist_aws::Session;

fn throttled() -> http::Response<SdkBody> {
    http::Response::builder()
        .status(400)
        .header("content-type", "application/x-amz-json-1.1")
        .body(SdkBody::from(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#))
        .unwrap()
}

fn ok(body: &'static str) -> http::Response<SdkBody> {
    http::Response::builder().status(200).header("content-type", "application/x-amz-json-1.1").body(SdkBody::from(body)).unwrap()
}

fn request() -> http::Request<SdkBody> {
    http::Request::builder().uri("https://logs.us-east-1.amazonaws.com/").body(SdkBody::empty()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn throttled_batches_are_retried_until_they_land() {
    let mut events = vec![ReplayEvent::new(request(), ok("{}"))]; // CreateLogStream
    // The SDK tries 3 times per call; the shipper calls again after a backoff.
    events.extend((0..4).map(|_| ReplayEvent::new(request(), throttled())));
    events.push(ReplayEvent::new(request(), ok("{}")));
    let client = StaticReplayClient::new(events);

    let sdk = aws_config::SdkConfig::builder()
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::for_tests(),
        ))
        .http_client(client.clone())
        .sleep_impl(aws_smithy_async::rt::sleep::SharedAsyncSleep::new(aws_smithy_async::rt::sleep::TokioSleep::new()))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
        .build();
    let session = Session::from_sdk_config(sdk).unwrap();
    let store = LogStore::CloudWatch { session, group: "/hoist/default/jobs".into() };

    let mut writer = store.writer("job-1", 1, 0).await.unwrap();
    for i in 0..100 {
        writer.write(LogLine::text(i, Stream::Out, format!("line {i}"))).await.unwrap();
    }
    writer.flush().await.expect("shipped despite throttling");

    let requests = client.actual_requests().collect::<Vec<_>>();
    assert_eq!(requests.len(), 6, "1 CreateLogStream + 4 throttled + 1 accepted PutLogEvents");
    let last: serde_json::Value = serde_json::from_slice(requests[5].body().bytes().unwrap()).unwrap();
    let sent: Vec<&str> = last["logEvents"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert_eq!(sent.len(), 100);
    assert_eq!(sent[0], "line 0");
    assert_eq!(sent[99], "line 99");
}
