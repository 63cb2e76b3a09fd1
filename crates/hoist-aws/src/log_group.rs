//! The workspace's CloudWatch Logs group.

use serde::Serialize;

use crate::catalog::logs as ops;
use crate::error::AwsError;
use crate::session::Session;
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogGroupState {
    /// Without the trailing `:*` that DescribeLogGroups adds.
    pub arn: String,
    pub retention_days: Option<i32>,
    pub tags: Tags,
}

pub struct LogGroups<'a> {
    session: &'a Session,
    client: aws_sdk_cloudwatchlogs::Client,
}

impl<'a> LogGroups<'a> {
    pub fn new(session: &'a Session) -> Self {
        Self { session, client: session.logs_client() }
    }

    /// Log groups whose name starts with `prefix`: (name, arn, retention).
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, String, Option<i32>)>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let req = self.client.describe_log_groups().log_group_name_prefix(prefix).set_next_token(token.take()).send();
            let page = self.session.call(ops::DESCRIBE_LOG_GROUPS, Some(prefix), req).await?;
            for g in page.log_groups() {
                let name = g.log_group_name().unwrap_or_default().to_string();
                let arn = g.arn().unwrap_or_default().trim_end_matches(":*").to_string();
                out.push((name, arn, g.retention_in_days()));
            }
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(out),
            }
        }
    }

    pub async fn observe(&self, name: &str) -> Result<Option<LogGroupState>, AwsError> {
        let Some((_, arn, retention_days)) = self.list(name).await?.into_iter().find(|(n, _, _)| n == name) else {
            return Ok(None);
        };
        let req = self.client.list_tags_for_resource().resource_arn(&arn).send();
        let tags = self.session.call(ops::LIST_TAGS_FOR_RESOURCE, Some(name), req).await?;
        let tags = tags.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
        Ok(Some(LogGroupState { arn, retention_days, tags }))
    }

    pub async fn create(&self, name: &str, tags: &Tags) -> Result<(), AwsError> {
        let req = self.client.create_log_group().log_group_name(name).set_tags(Some(tags.clone().into_iter().collect())).send();
        match self.session.call(ops::CREATE_LOG_GROUP, Some(name), req).await {
            // The SDK retried a request whose first attempt landed (its
            // response was lost): the group is there, which is the point.
            Err(e) if e.code() == Some("ResourceAlreadyExistsException") => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn set_retention(&self, name: &str, days: i32) -> Result<(), AwsError> {
        let req = self.client.put_retention_policy().log_group_name(name).retention_in_days(days).send();
        self.session.call(ops::PUT_RETENTION_POLICY, Some(name), req).await.map(drop)
    }

    pub async fn tag(&self, name: &str, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let req = self.client.tag_resource().resource_arn(arn).set_tags(Some(tags.clone().into_iter().collect())).send();
        self.session.call(ops::TAG_RESOURCE, Some(name), req).await.map(drop)
    }

    pub async fn delete(&self, name: &str) -> Result<(), AwsError> {
        match self.session.call(ops::DELETE_LOG_GROUP, Some(name), self.client.delete_log_group().log_group_name(name).send()).await {
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(()),
            other => other.map(drop),
        }
    }
}
