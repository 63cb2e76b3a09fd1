//! The workspace's secrets in Secrets Manager, `hoist/<workspace>/NAME`.
//! Values go in (`hoist secret set`) and out only to a job on its instance
//! (the agent, as the instance role); hoist never prints one.

use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use serde::Serialize;

use crate::catalog::secrets as ops;
use crate::error::AwsError;
use crate::session::Session;
use crate::tags::Tags;

/// The secret's name in Secrets Manager.
pub fn secret_id(workspace: &str, name: &str) -> String {
    format!("{}{name}", prefix(workspace))
}

/// `hoist/<workspace>/`: the `/` ends the workspace's name.
pub fn prefix(workspace: &str) -> String {
    format!("hoist/{workspace}/")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretInfo {
    /// The name a task uses (`HF_TOKEN`), without the workspace prefix.
    pub name: String,
    pub arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_changed: Option<String>,
    #[serde(skip)]
    pub tags: Tags,
}

pub struct Secrets<'a> {
    session: &'a Session,
    client: aws_sdk_secretsmanager::Client,
    workspace: String,
}

/// Whether `set` created the secret or gave it a new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SetOutcome {
    Created,
    Updated,
}

impl<'a> Secrets<'a> {
    pub fn new(session: &'a Session, workspace: &str) -> Self {
        Self { session, client: session.secrets_client(), workspace: workspace.to_string() }
    }

    /// Create the secret (tagged) or put a new value in it.
    pub async fn set(&self, name: &str, value: &str, tags: &Tags) -> Result<SetOutcome, AwsError> {
        let id = secret_id(&self.workspace, name);
        let req = self
            .client
            .create_secret()
            .name(&id)
            .secret_string(value)
            .description(format!("hoist secret {name} of workspace {}", self.workspace))
            .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
            .send();
        match self.session.call(ops::CREATE_SECRET, Some(&id), req).await {
            Ok(_) => Ok(SetOutcome::Created),
            Err(e) if e.code() == Some("ResourceExistsException") => {
                let req = self.client.put_secret_value().secret_id(&id).secret_string(value).send();
                self.session.call(ops::PUT_SECRET_VALUE, Some(&id), req).await?;
                Ok(SetOutcome::Updated)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the secret exists (and is not scheduled for deletion).
    pub async fn exists(&self, name: &str) -> Result<bool, AwsError> {
        let id = secret_id(&self.workspace, name);
        let req = self.client.describe_secret().secret_id(&id).send();
        match self.session.call(ops::DESCRIBE_SECRET, Some(&id), req).await {
            Ok(out) => Ok(out.deleted_date().is_none()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The workspace's secrets, by name prefix (one paginated listing).
    pub async fn list(&self) -> Result<Vec<SecretInfo>, AwsError> {
        let prefix = prefix(&self.workspace);
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let req = self
                .client
                .list_secrets()
                .filters(Filter::builder().key(FilterNameStringType::Name).values(&prefix).build())
                .max_results(100)
                .set_next_token(token.take())
                .send();
            let page = self.session.call(ops::LIST_SECRETS, None, req).await?;
            for s in page.secret_list() {
                // The filter is a prefix match: keep exactly this workspace's.
                let Some(name) = s.name().and_then(|n| n.strip_prefix(&prefix)) else { continue };
                if name.is_empty() || name.contains('/') {
                    continue;
                }
                out.push(SecretInfo {
                    name: name.to_string(),
                    arn: s.arn().unwrap_or_default().to_string(),
                    last_changed: s.last_changed_date().or(s.created_date()).map(|d| d.to_string()),
                    tags: s.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect(),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Delete at once (no recovery window: `hoist secret rm` and `destroy`
    /// mean it, and a name must be reusable right away). False if there
    /// was no such secret.
    pub async fn delete(&self, name: &str) -> Result<bool, AwsError> {
        if !self.exists(name).await? {
            return Ok(false);
        }
        let id = secret_id(&self.workspace, name);
        let req = self.client.delete_secret().secret_id(&id).force_delete_without_recovery(true).send();
        match self.session.call(ops::DELETE_SECRET, Some(&id), req).await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A secret's value: the agent's, on the instance. `None` if missing.
    pub async fn value(&self, name: &str) -> Result<Option<String>, AwsError> {
        let id = secret_id(&self.workspace, name);
        let req = self.client.get_secret_value().secret_id(&id).send();
        match self.session.call(ops::GET_SECRET_VALUE, Some(&id), req).await {
            Ok(out) => Ok(out.secret_string().map(str::to_string)),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }
}
