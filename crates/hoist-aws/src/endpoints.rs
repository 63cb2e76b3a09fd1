//! SageMaker real-time and serverless endpoints: the three resources one
//! endpoint is made of (model, endpoint configuration, endpoint), listing
//! a workspace's of each by name, and invoking an endpoint.
//!
//! Listing is by name (`NameContains`, paginated): the list answers carry
//! no tags, and one describe per endpoint is what makes other tools slow.
//! A workspace's names all start `hoist-<workspace>--`, which no other
//! workspace's can (a workspace name never holds `--`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_sdk_sagemaker::types::{
    ContainerDefinition, OrderKey, ProductionVariant, ProductionVariantInstanceType,
    ProductionVariantServerlessConfig, Tag,
};
use aws_smithy_types::Blob;

use crate::catalog::endpoints as ops;
use crate::error::AwsError;
use crate::session::Session;

/// SageMaker's limit on model, endpoint configuration and endpoint names.
pub const MAX_NAME: usize = 63;

/// The instance types SageMaker serves on (this SDK's list).
pub fn serving_instance_types() -> &'static [&'static str] {
    ProductionVariantInstanceType::values()
}

/// Where a variant runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    Instances { instance_type: String, count: u32 },
    Serverless { memory_mb: u32, max_concurrency: u32 },
}

/// A model: the serving container and what it loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    pub name: String,
    pub role_arn: String,
    pub image: String,
    /// `s3://…/model.tar.gz`, or none (the container fetches its model).
    pub data: Option<String>,
    pub environment: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// An endpoint configuration with one variant serving one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSpec {
    pub name: String,
    pub model: String,
    pub capacity: Capacity,
    pub tags: BTreeMap<String, String>,
}

/// A listed endpoint (what ListEndpoints says of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSummary {
    pub name: String,
    pub arn: String,
    pub status: String,
    pub created: Option<SystemTime>,
    pub modified: Option<SystemTime>,
}

/// A listed endpoint configuration or model: name and creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub created: Option<SystemTime>,
}

/// An endpoint as DescribeEndpoint says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointInfo {
    pub name: String,
    pub status: String,
    pub config: String,
    pub failure_reason: Option<String>,
    pub modified: Option<SystemTime>,
}

/// A model as DescribeModel says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub image: String,
    pub data: Option<String>,
    pub environment: BTreeMap<String, String>,
}

/// The answer of an endpoint.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub variant: Option<String>,
}

pub struct Endpoints<'a> {
    session: &'a Session,
    client: aws_sdk_sagemaker::Client,
}

fn tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

impl<'a> Endpoints<'a> {
    pub fn new(session: &'a Session) -> Self {
        Self { session, client: session.sagemaker_client() }
    }

    pub async fn create_model(&self, spec: &ModelSpec) -> Result<(), AwsError> {
        let container = ContainerDefinition::builder()
            .image(&spec.image)
            .set_model_data_url(spec.data.clone())
            .set_environment((!spec.environment.is_empty()).then(|| spec.environment.clone().into_iter().collect()))
            .build();
        let req = self
            .client
            .create_model()
            .model_name(&spec.name)
            .execution_role_arn(&spec.role_arn)
            .primary_container(container)
            .set_tags(Some(tags(&spec.tags)))
            .send();
        already_exists_is_ok(self.session.call(ops::CREATE_MODEL, Some(&spec.name), req).await.map(drop))
    }

    pub async fn describe_model(&self, name: &str) -> Result<Option<ModelInfo>, AwsError> {
        let req = self.client.describe_model().model_name(name).send();
        let out = match self.session.call(ops::DESCRIBE_MODEL, Some(name), req).await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let c = out.primary_container();
        Ok(Some(ModelInfo {
            image: c.and_then(|c| c.image()).unwrap_or_default().to_string(),
            data: c.and_then(|c| c.model_data_url()).map(str::to_string),
            environment: c.and_then(|c| c.environment()).map(|e| e.clone().into_iter().collect()).unwrap_or_default(),
        }))
    }

    /// Deleting what is already gone is not an error.
    pub async fn delete_model(&self, name: &str) -> Result<(), AwsError> {
        let req = self.client.delete_model().model_name(name).send();
        gone_is_ok(self.session.call(ops::DELETE_MODEL, Some(name), req).await.map(drop))
    }

    pub async fn create_config(&self, spec: &ConfigSpec) -> Result<(), AwsError> {
        let mut variant = ProductionVariant::builder().variant_name("main").model_name(&spec.model);
        variant = match &spec.capacity {
            Capacity::Instances { instance_type, count } => variant
                .instance_type(ProductionVariantInstanceType::from(instance_type.as_str()))
                .initial_instance_count(*count as i32)
                .initial_variant_weight(1.0),
            Capacity::Serverless { memory_mb, max_concurrency } => variant.serverless_config(
                ProductionVariantServerlessConfig::builder()
                    .memory_size_in_mb(*memory_mb as i32)
                    .max_concurrency(*max_concurrency as i32)
                    .build(),
            ),
        };
        let req = self
            .client
            .create_endpoint_config()
            .endpoint_config_name(&spec.name)
            .production_variants(variant.build())
            .set_tags(Some(tags(&spec.tags)))
            .send();
        already_exists_is_ok(self.session.call(ops::CREATE_ENDPOINT_CONFIG, Some(&spec.name), req).await.map(drop))
    }

    /// The configuration's one variant: its model and capacity.
    pub async fn describe_config(&self, name: &str) -> Result<Option<(String, Capacity)>, AwsError> {
        let req = self.client.describe_endpoint_config().endpoint_config_name(name).send();
        let out = match self.session.call(ops::DESCRIBE_ENDPOINT_CONFIG, Some(name), req).await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(v) = out.production_variants().first() else { return Ok(None) };
        let capacity = match v.serverless_config() {
            Some(s) => Capacity::Serverless {
                memory_mb: s.memory_size_in_mb().unwrap_or(0) as u32,
                max_concurrency: s.max_concurrency().unwrap_or(0) as u32,
            },
            None => Capacity::Instances {
                instance_type: v.instance_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                count: v.initial_instance_count().unwrap_or(0) as u32,
            },
        };
        Ok(Some((v.model_name().unwrap_or_default().to_string(), capacity)))
    }

    pub async fn delete_config(&self, name: &str) -> Result<(), AwsError> {
        let req = self.client.delete_endpoint_config().endpoint_config_name(name).send();
        gone_is_ok(self.session.call(ops::DELETE_ENDPOINT_CONFIG, Some(name), req).await.map(drop))
    }

    pub async fn create_endpoint(&self, name: &str, config: &str, tag: &BTreeMap<String, String>) -> Result<(), AwsError> {
        let req =
            self.client.create_endpoint().endpoint_name(name).endpoint_config_name(config).set_tags(Some(tags(tag))).send();
        // Created only when the listing showed none of this name: one that
        // exists now is this create's own first attempt, retried.
        already_exists_is_ok(self.session.call(ops::CREATE_ENDPOINT, Some(name), req).await.map(drop))
    }

    /// Switch a live endpoint to another configuration: SageMaker brings
    /// the new one up, moves traffic, then retires the old (no downtime).
    pub async fn update_endpoint(&self, name: &str, config: &str) -> Result<(), AwsError> {
        let req = self.client.update_endpoint().endpoint_name(name).endpoint_config_name(config).send();
        self.session.call(ops::UPDATE_ENDPOINT, Some(name), req).await.map(drop)
    }

    /// Add or replace tags on an endpoint (what an update now serves:
    /// tags given at creation cannot change with UpdateEndpoint).
    pub async fn tag_endpoint(&self, arn: &str, tag: &BTreeMap<String, String>) -> Result<(), AwsError> {
        let req = self.client.add_tags().resource_arn(arn).set_tags(Some(tags(tag))).send();
        self.session.call(ops::TAG_ENDPOINT, Some(arn), req).await.map(drop)
    }

    /// An endpoint's tags (one page: hoist's are a handful).
    pub async fn endpoint_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        let req = self.client.list_tags().resource_arn(arn).max_results(100).send();
        let out = match self.session.call(ops::LIST_ENDPOINT_TAGS, Some(arn), req).await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(BTreeMap::new()),
            Err(e) => return Err(e),
        };
        Ok(out.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect())
    }

    pub async fn describe_endpoint(&self, name: &str) -> Result<Option<EndpointInfo>, AwsError> {
        let req = self.client.describe_endpoint().endpoint_name(name).send();
        let out = match self.session.call(ops::DESCRIBE_ENDPOINT, Some(name), req).await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(EndpointInfo {
            name: out.endpoint_name().unwrap_or_default().to_string(),
            status: out.endpoint_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            config: out.endpoint_config_name().unwrap_or_default().to_string(),
            failure_reason: out.failure_reason().map(str::to_string),
            modified: time(out.last_modified_time()),
        }))
    }

    pub async fn delete_endpoint(&self, name: &str) -> Result<(), AwsError> {
        let req = self.client.delete_endpoint().endpoint_name(name).send();
        gone_is_ok(self.session.call(ops::DELETE_ENDPOINT, Some(name), req).await.map(drop))
    }

    /// Every endpoint whose name starts with `prefix` (paginated, 100 a page).
    pub async fn list_endpoints(&self, prefix: &str) -> Result<Vec<EndpointSummary>, AwsError> {
        all_pages(|token| async move {
            let req = self.client.list_endpoints().name_contains(prefix).max_results(100).set_next_token(token).send();
            let page = self.session.call(ops::LIST_ENDPOINTS, Some(prefix), req).await?;
            let items = page
                .endpoints()
                .iter()
                .filter(|e| e.endpoint_name().is_some_and(|n| n.starts_with(prefix)))
                .map(|e| EndpointSummary {
                    name: e.endpoint_name().unwrap_or_default().to_string(),
                    arn: e.endpoint_arn().unwrap_or_default().to_string(),
                    status: e.endpoint_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    created: time(e.creation_time()),
                    modified: time(e.last_modified_time()),
                })
                .collect();
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await
    }

    pub async fn list_configs(&self, prefix: &str) -> Result<Vec<Listed>, AwsError> {
        all_pages(|token| async move {
            let req = self
                .client
                .list_endpoint_configs()
                .name_contains(prefix)
                .max_results(100)
                .sort_order(OrderKey::Ascending)
                .set_next_token(token)
                .send();
            let page = self.session.call(ops::LIST_ENDPOINT_CONFIGS, Some(prefix), req).await?;
            let items = listed(prefix, page.endpoint_configs().iter().map(|c| (c.endpoint_config_name(), c.creation_time())));
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await
    }

    pub async fn list_models(&self, prefix: &str) -> Result<Vec<Listed>, AwsError> {
        all_pages(|token| async move {
            let req = self
                .client
                .list_models()
                .name_contains(prefix)
                .max_results(100)
                .sort_order(OrderKey::Ascending)
                .set_next_token(token)
                .send();
            let page = self.session.call(ops::LIST_MODELS, Some(prefix), req).await?;
            let items = listed(prefix, page.models().iter().map(|m| (m.model_name(), m.creation_time())));
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await
    }

    /// Send `body` to the endpoint and return its answer.
    pub async fn invoke(&self, name: &str, body: Vec<u8>, content_type: &str, accept: Option<&str>) -> Result<Invocation, AwsError> {
        let client = self.session.sagemaker_runtime_client();
        let req = client
            .invoke_endpoint()
            .endpoint_name(name)
            .content_type(content_type)
            .set_accept(accept.map(str::to_string))
            .body(Blob::new(body))
            .send();
        let out = self.session.call(ops::INVOKE_ENDPOINT, Some(name), req).await?;
        Ok(Invocation {
            content_type: out.content_type().map(str::to_string),
            variant: out.invoked_production_variant().map(str::to_string),
            body: out.body().map(|b| b.as_ref().to_vec()).unwrap_or_default(),
        })
    }
}

impl Endpoints<'_> {
    /// Send `body` to the endpoint and hand each part of its answer to
    /// `part` as it arrives (InvokeEndpointWithResponseStream: for
    /// containers that stream, such as text generation). Returns the variant
    /// that answered.
    pub async fn invoke_stream(
        &self,
        name: &str,
        body: Vec<u8>,
        content_type: &str,
        accept: Option<&str>,
        mut part: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<Option<String>, AwsError> {
        use aws_sdk_sagemakerruntime::types::ResponseStream;
        let client = self.session.sagemaker_runtime_client();
        let req = client
            .invoke_endpoint_with_response_stream()
            .endpoint_name(name)
            .content_type(content_type)
            .set_accept(accept.map(str::to_string))
            .body(Blob::new(body))
            .send();
        let mut out = self.session.call(ops::INVOKE_ENDPOINT_WITH_RESPONSE_STREAM, Some(name), req).await?;
        let failed = |message: String| AwsError {
            op: ops::INVOKE_ENDPOINT_WITH_RESPONSE_STREAM,
            resource: Some(name.to_string()),
            endpoint: self.session.endpoint_description("sagemaker"),
            kind: crate::error::ErrorKind::Other(message),
        };
        loop {
            match out.body.recv().await {
                Ok(Some(ResponseStream::PayloadPart(p))) => {
                    if let Some(bytes) = p.bytes() {
                        part(bytes.as_ref()).map_err(|e| failed(format!("writing the answer: {e}")))?;
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => return Ok(out.invoked_production_variant().map(str::to_string)),
                Err(e) => {
                    let detail = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
                    return Err(failed(format!("the endpoint's answer broke off: {detail}")));
                }
            }
        }
    }
}

/// Whether an endpoint in this status is on its way somewhere (wait for it).
pub fn is_in_progress(status: &str) -> bool {
    matches!(status, "Creating" | "Updating" | "SystemUpdating" | "RollingBack" | "Deleting")
}

/// Every page of a listing: `page(token)` fetches one, returning its items
/// and the next token. Stops at a missing, empty or repeated token.
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (items, next) = page(token.clone()).await?;
        out.extend(items);
        match next {
            Some(t) if !t.is_empty() && Some(&t) != token.as_ref() => token = Some(t),
            _ => return Ok(out),
        }
    }
}

/// Names (with creation times) that start with `prefix`: SageMaker's
/// NameContains matches anywhere in the name.
fn listed<'a>(prefix: &str, items: impl Iterator<Item = (Option<&'a str>, Option<&'a aws_smithy_types::DateTime>)>) -> Vec<Listed> {
    items
        .filter_map(|(name, created)| Some((name?, created)))
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(name, created)| Listed { name: name.to_string(), created: time(created) })
        .collect()
}

/// SageMaker answers a request naming an unknown model, configuration or
/// endpoint with a ValidationException "Could not find …".
pub fn is_not_found(e: &AwsError) -> bool {
    crate::training::is_not_found(e)
}

/// A create whose name is taken: a retried create whose first answer was
/// lost. The name carries the content's hash, so the resource is this one.
#[allow(clippy::result_large_err)] // the errors every call here returns
fn already_exists_is_ok(r: Result<(), AwsError>) -> Result<(), AwsError> {
    match r {
        Err(e) if e.code() == Some("ValidationException") && e.message().is_some_and(|m| m.contains("already existing")) => Ok(()),
        other => other,
    }
}

#[allow(clippy::result_large_err)]
fn gone_is_ok(r: Result<(), AwsError>) -> Result<(), AwsError> {
    match r {
        Err(e) if is_not_found(&e) => Ok(()),
        other => other,
    }
}
