//! The instance metadata service, as the agent on an instance sees it:
//! IMDSv2 only (a session token for every request), which instance this
//! is, and whether EC2 has scheduled a spot interruption. The endpoint can
//! be overridden, so tests serve a fake one.

use std::time::Duration;

use aws_config::imds::client::error::ImdsError;

/// EC2's metadata endpoint.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";

#[derive(Debug, Clone)]
pub struct Metadata {
    client: aws_config::imds::Client,
    endpoint: String,
}

impl Metadata {
    pub fn new(endpoint: &str) -> Result<Self, String> {
        let client = aws_config::imds::Client::builder()
            .endpoint(endpoint)
            .map_err(|e| format!("invalid metadata endpoint {endpoint:?}: {e}"))?
            .connect_timeout(Duration::from_secs(1))
            .read_timeout(Duration::from_secs(2))
            .max_attempts(2)
            .build();
        Ok(Self { client, endpoint: endpoint.to_string() })
    }

    async fn get(&self, path: &str) -> Result<Option<String>, String> {
        match self.client.get(path).await {
            Ok(v) => Ok(Some(v.as_ref().to_string())),
            Err(ImdsError::ErrorResponse(r)) if r.response().status().as_u16() == 404 => Ok(None),
            Err(e) => Err(format!("instance metadata {}{path}: {e}", self.endpoint)),
        }
    }

    /// This instance's id.
    pub async fn instance_id(&self) -> Result<String, String> {
        self.get("/latest/meta-data/instance-id").await?.ok_or_else(|| "instance metadata has no instance-id".to_string())
    }

    /// The spot interruption notice, if EC2 has scheduled one: its action
    /// and time (`{"action": "terminate", "time": "..."}`), about two
    /// minutes ahead. Absent (404) until then.
    pub async fn interruption(&self) -> Result<Option<String>, String> {
        self.get("/latest/meta-data/spot/instance-action").await
    }
}
