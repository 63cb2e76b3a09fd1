//! The call recorder sees every operation a session's clients send.

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
    let call = |s: &str, o: &str| Call { service: s.into(), operation: o.into() };
    assert_eq!(
        log.calls(),
        vec![call("sts", "GetCallerIdentity"), call("s3", "HeadBucket"), call("logs", "DescribeLogGroups")]
    );
}
