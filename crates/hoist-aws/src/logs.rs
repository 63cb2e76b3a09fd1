//! One CloudWatch Logs stream: where a job attempt's output goes when it
//! runs in AWS.

use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use crate::catalog::logs as ops;
use crate::error::AwsError;
use crate::session::Session;

#[derive(Debug, Clone)]
pub struct LogStream {
    session: Session,
    client: aws_sdk_cloudwatchlogs::Client,
    group: String,
    stream: String,
    /// How reads are declared: a job's own stream, or one SageMaker
    /// wrote for a training job.
    read_op: crate::catalog::Op,
}

/// One event: milliseconds since the Unix epoch, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub timestamp_ms: i64,
    pub message: String,
}

/// Events CloudWatch refused in a PutLogEvents request, as index bounds
/// into the batch (see the PutLogEvents API's RejectedLogEventsInfo).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejected {
    pub too_old_end_index: Option<i32>,
    pub too_new_start_index: Option<i32>,
    pub expired_end_index: Option<i32>,
}

impl Rejected {
    pub fn any(&self) -> bool {
        self.too_old_end_index.is_some() || self.too_new_start_index.is_some() || self.expired_end_index.is_some()
    }
}

/// A page of events read forward from the start of the stream.
#[derive(Debug, Clone)]
pub struct Page {
    pub events: Vec<Event>,
    /// Pass back to continue. CloudWatch returns the same token again
    /// when there is nothing new yet.
    pub next_token: Option<String>,
}

impl LogStream {
    pub fn new(session: &Session, group: impl Into<String>, stream: impl Into<String>) -> Self {
        Self {
            client: session.logs_client(),
            session: session.clone(),
            group: group.into(),
            stream: stream.into(),
            read_op: ops::GET_LOG_EVENTS,
        }
    }

    /// A stream SageMaker writes for a training job (read only).
    pub fn sagemaker(session: &Session, group: impl Into<String>, stream: impl Into<String>) -> Self {
        Self { read_op: crate::catalog::training::GET_LOG_EVENTS, ..Self::new(session, group, stream) }
    }

    /// The names of the group's streams that start with `prefix`, in name
    /// order (SageMaker's training job streams: `<job>/algo-<n>-<epoch>`).
    pub async fn names_with_prefix(session: &Session, group: &str, prefix: &str) -> Result<Vec<String>, AwsError> {
        let client = session.logs_client();
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let req = client
                .describe_log_streams()
                .log_group_name(group)
                .log_stream_name_prefix(prefix)
                .set_next_token(token.clone())
                .send();
            let out = match session.call(crate::catalog::training::DESCRIBE_LOG_STREAMS, Some(&format!("log-group:{group}")), req).await {
                Ok(out) => out,
                // No training job has logged yet in this account and region.
                Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(names),
                Err(e) => return Err(e),
            };
            names.extend(out.log_streams().iter().filter_map(|s| s.log_stream_name()).map(str::to_string));
            match out.next_token() {
                Some(t) if Some(t) != token.as_deref() => token = Some(t.to_string()),
                _ => break,
            }
        }
        names.sort();
        Ok(names)
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    pub fn stream(&self) -> &str {
        &self.stream
    }

    fn resource(&self) -> String {
        format!("log-group:{}:log-stream:{}", self.group, self.stream)
    }

    /// Create the stream; an existing one is fine (re-runnable).
    pub async fn create(&self) -> Result<(), AwsError> {
        let req = self.client.create_log_stream().log_group_name(&self.group).log_stream_name(&self.stream).send();
        match self.session.call(ops::CREATE_LOG_STREAM, Some(&self.resource()), req).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ResourceAlreadyExistsException") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Send one batch. The caller keeps batches within PutLogEvents'
    /// limits and in timestamp order (see the agent's log shipper).
    pub async fn put(&self, events: &[Event]) -> Result<Rejected, AwsError> {
        let input: Vec<InputLogEvent> = events
            .iter()
            .map(|e| {
                InputLogEvent::builder().timestamp(e.timestamp_ms).message(&e.message).build().expect("fields are set")
            })
            .collect();
        let req = self
            .client
            .put_log_events()
            .log_group_name(&self.group)
            .log_stream_name(&self.stream)
            .set_log_events(Some(input))
            .send();
        let out = self.session.call(ops::PUT_LOG_EVENTS, Some(&self.resource()), req).await?;
        Ok(out
            .rejected_log_events_info()
            .map(|r| Rejected {
                too_old_end_index: r.too_old_log_event_end_index(),
                too_new_start_index: r.too_new_log_event_start_index(),
                expired_end_index: r.expired_log_event_end_index(),
            })
            .unwrap_or_default())
    }

    /// Read forward from the start (or from `token`).
    pub async fn read(&self, token: Option<String>) -> Result<Page, AwsError> {
        let req = self
            .client
            .get_log_events()
            .log_group_name(&self.group)
            .log_stream_name(&self.stream)
            .start_from_head(true)
            .set_next_token(token)
            .send();
        let out = self.session.call(self.read_op, Some(&self.resource()), req).await?;
        Ok(Page {
            events: out
                .events()
                .iter()
                .map(|e| Event { timestamp_ms: e.timestamp().unwrap_or(0), message: e.message().unwrap_or_default().to_string() })
                .collect(),
            next_token: out.next_forward_token().map(str::to_owned),
        })
    }
}
