//! `iam:SimulatePrincipalPolicy`, which the emulator does not implement,
//! through the SDK's replay client: the request names the principal, the
//! actions and the resource, and each action's verdict is read back.

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use hoist_aws::Session;

const RESPONSE: &str = r#"<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <SimulatePrincipalPolicyResult>
    <IsTruncated>false</IsTruncated>
    <EvaluationResults>
      <member>
        <EvalActionName>s3:CreateBucket</EvalActionName>
        <EvalResourceName>arn:aws:s3:::hoist-default-123456789012-us-east-1</EvalResourceName>
        <EvalDecision>allowed</EvalDecision>
        <MatchedStatements/>
        <MissingContextValues/>
      </member>
      <member>
        <EvalActionName>s3:DeleteBucket</EvalActionName>
        <EvalResourceName>arn:aws:s3:::hoist-default-123456789012-us-east-1</EvalResourceName>
        <EvalDecision>implicitDeny</EvalDecision>
        <MatchedStatements/>
        <MissingContextValues/>
      </member>
    </EvaluationResults>
  </SimulatePrincipalPolicyResult>
  <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
</SimulatePrincipalPolicyResponse>"#;

#[tokio::test]
async fn simulator_verdicts_are_read_per_action() {
    let client = StaticReplayClient::new(vec![ReplayEvent::new(
        http::Request::builder().uri("https://iam.amazonaws.com/").body(SdkBody::empty()).unwrap(),
        http::Response::builder().status(200).body(SdkBody::from(RESPONSE)).unwrap(),
    )]);
    let sdk = aws_config::SdkConfig::builder()
        .region(aws_types::region::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::for_tests(),
        ))
        .http_client(client.clone())
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let session = Session::from_sdk_config(sdk).unwrap();
    let actions = vec!["s3:CreateBucket".to_string(), "s3:DeleteBucket".to_string()];
    let verdicts = hoist_aws::caller_policies::simulate(
        &session,
        "arn:aws:iam::123456789012:user/alice",
        &actions,
        "arn:aws:s3:::hoist-default-123456789012-us-east-1",
        &[("aws:ResourceTag/hoist:workspace".to_string(), "default".to_string())],
    )
    .await
    .unwrap();
    assert_eq!(
        verdicts,
        vec![("s3:CreateBucket".into(), "allowed".into()), ("s3:DeleteBucket".into(), "implicitDeny".into())]
    );
    let sent = client.actual_requests().next().expect("one request");
    let body = String::from_utf8(sent.body().bytes().unwrap().to_vec()).unwrap();
    for part in [
        "Action=SimulatePrincipalPolicy",
        "PolicySourceArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Auser%2Falice",
        "ActionNames.member.1=s3%3ACreateBucket",
        "ResourceArns.member.1=arn%3Aaws%3As3%3A%3A%3Ahoist-default-123456789012-us-east-1",
        // The request context a conditioned grant is judged under.
        "ContextEntries.member.1.ContextKeyName=aws%3AResourceTag%2Fhoist%3Aworkspace",
        "ContextEntries.member.1.ContextKeyValues.member.1=default",
        "ContextEntries.member.1.ContextKeyType=string",
    ] {
        assert!(body.contains(part), "{part} not in {body}");
    }
}
