//! What `deploy` must do: the file's endpoints resolved into what
//! SageMaker is asked for, the workspace's endpoints observed with list
//! calls, and per endpoint a change (create / update / recreate / delete /
//! unchanged) with the steps that make it. Planning sends only reads; an
//! unchanged file plans no step.
//!
//! Naming carries the state, so no describe is needed for an endpoint that
//! matches: endpoint `hoist-<ws>--<name>` serves model and configuration
//! `hoist-<ws>--<name>-<hash>` (both one name), where the hash covers
//! everything the model and configuration are made of. An endpoint whose
//! only configuration is the one the file asks for is unchanged. Anything
//! else (another hash, several configurations left by an interrupted
//! apply) is resolved with one DescribeEndpoint for that endpoint alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Result, bail};
use hoist_aws::endpoints::{Capacity, ConfigSpec, EndpointSummary, Endpoints, Listed, ModelSpec, is_in_progress};
use serde::Serialize;

use super::file::{Data, Endpoint};
use crate::mlflow::Resolved;
use crate::footprint::names::Names;
use crate::jobs::store::Store;
use crate::reconcile::Work;

/// An endpoint of the file, resolved: the names and specs SageMaker gets.
#[derive(Debug, Clone)]
pub struct Desired {
    pub decl: Endpoint,
    /// The endpoint's name in SageMaker.
    pub endpoint: String,
    /// The model's and configuration's name (`<endpoint>-<hash>`).
    pub part: String,
    pub model: ModelSpec,
    pub config: ConfigSpec,
    /// A model file apply puts in the bucket first.
    pub upload: Option<Upload>,
    /// An MLflow model: after an update, the endpoint's tags say which
    /// version it serves.
    pub mlflow: Option<Box<Resolved>>,
}

impl Desired {
    /// Give the endpoint the tags of what it is to serve (after an update:
    /// the MLflow version changes with it).
    fn retag(&self, n: &Names) -> Step {
        Step::TagEndpoint { arn: n.endpoint_arn(&self.endpoint), tags: self.model.tags.clone() }
    }
}

/// A model file for the bucket's `models/`, and where it comes from.
#[derive(Debug, Clone)]
pub struct Upload {
    pub source: UploadSource,
    pub key: String,
}

#[derive(Debug, Clone)]
pub enum UploadSource {
    /// A file on this machine.
    File(PathBuf),
    /// An MLflow model version's files, packaged by apply.
    Mlflow(Box<Resolved>),
}

/// What exists in SageMaker for the workspace (three paginated listings).
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub endpoints: Vec<EndpointSummary>,
    pub configs: Vec<Listed>,
    pub models: Vec<Listed>,
}

impl Observed {
    pub async fn read(sm: &Endpoints<'_>, n: &Names) -> Result<Self> {
        let prefix = n.endpoint_prefix();
        let (endpoints, configs, models) =
            tokio::join!(sm.list_endpoints(&prefix), sm.list_configs(&prefix), sm.list_models(&prefix));
        Ok(Self { endpoints: endpoints?, configs: configs?, models: models? })
    }

    fn endpoint(&self, name: &str) -> Option<&EndpointSummary> {
        self.endpoints.iter().find(|e| e.name == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    /// A failed endpoint whose spec changed: deleted and made again.
    Recreate,
    Delete,
    Unchanged,
    /// Creating, updating or deleting: waited for before anything else.
    Busy,
    /// Failed, and the file asks for what failed: left as it is.
    Failed,
    /// Not in the file, left because `--prune` was not given.
    Kept,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The name in the file (for endpoints only in AWS, the name after
    /// hoist's prefix).
    pub endpoint: String,
    /// The endpoint's name in SageMaker.
    pub name: String,
    pub action: Action,
    /// What is created, which fields change and how, or why nothing is.
    pub details: Vec<String>,
    /// The MLflow model version the file's endpoint is to serve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mlflow: Option<Served>,
    #[serde(skip)]
    pub steps: Vec<Step>,
}

/// An MLflow model version, as plans and `hoist endpoints` show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Served {
    pub model: String,
    pub version: String,
}

/// One call (or wait) of an apply.
#[derive(Debug, Clone)]
pub enum Step {
    Upload(Upload),
    CreateModel(ModelSpec),
    CreateConfig(ConfigSpec),
    CreateEndpoint { name: String, config: String, tags: BTreeMap<String, String> },
    UpdateEndpoint { name: String, config: String },
    DeleteEndpoint(String),
    AwaitInService(String),
    /// After an update: InService on `config`. InService on another one
    /// means the update failed and SageMaker kept the previous fleet.
    AwaitUpdated { name: String, config: String },
    /// Replace the endpoint's tags naming what it serves (after an update).
    TagEndpoint { arn: String, tags: BTreeMap<String, String> },
    AwaitGone(String),
    DeleteConfig(String),
    DeleteModel(String),
    /// A model file hoist uploaded (its bucket key) that nothing serves any more.
    DeleteUpload(String),
}

impl crate::reconcile::Step for Step {
    /// An endpoint's steps run in order; only the final clean-up of its
    /// old configurations and models goes out together.
    fn goes_first(&self) -> bool {
        !matches!(self, Step::DeleteConfig(_) | Step::DeleteModel(_) | Step::DeleteUpload(_))
    }
}

impl Step {
    pub fn is_mutating(&self) -> bool {
        !matches!(self, Step::AwaitInService(_) | Step::AwaitUpdated { .. } | Step::AwaitGone(_))
    }
}

/// The default serving containers: AWS's Deep Learning Containers.
const PYTORCH_GPU: &str = "pytorch-inference:2.5.1-gpu-py311-cu124-ubuntu22.04-sagemaker";
const PYTORCH_CPU: &str = "pytorch-inference:2.5.1-cpu-py311-ubuntu22.04-sagemaker";
const HF_GPU: &str = "huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04";
const HF_CPU: &str = "huggingface-pytorch-inference:2.1.0-transformers4.37.0-cpu-py310-ubuntu22.04";
const HF_TGI: &str = "huggingface-pytorch-tgi-inference:2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04";

fn has_gpu(capacity: &Capacity) -> bool {
    match capacity {
        Capacity::Instances { instance_type, .. } => {
            let family = instance_type.trim_start_matches("ml.");
            family.starts_with('g') || family.starts_with('p')
        }
        Capacity::Serverless { .. } => false,
    }
}

/// The container an endpoint's model source implies, when the file names
/// none. An MLflow model's by its flavours: `transformers` on the Hugging
/// Face container, anything with a `python_function` loader on the PyTorch
/// one (both run hoist's mlflow.pyfunc handler).
fn default_image(e: &Endpoint, region: &str, mlflow: Option<&Resolved>) -> Result<String, String> {
    let gpu = has_gpu(&e.capacity);
    let tag = match (&e.model.huggingface, mlflow) {
        (Some((_, task)), _) if task == "text-generation" && gpu => HF_TGI,
        (Some(_), _) if gpu => HF_GPU,
        (Some(_), _) => HF_CPU,
        (None, Some(r)) if r.in_place() => {
            return Err(format!(
                "MLflow model {:?} version {} is a packaged model.tar.gz ({}): give the `image` that serves it",
                r.version.model, r.version.version, r.version.artifact_uri
            ));
        }
        (None, Some(r)) if r.flavors.iter().any(|f| f == "transformers") => if gpu { HF_GPU } else { HF_CPU },
        (None, Some(r)) if !r.flavors.iter().any(|f| f == "python_function") => {
            return Err(format!(
                "MLflow model {:?} version {} has flavours {} and no `python_function`: give the `image` that serves it",
                r.version.model,
                r.version.version,
                r.flavors.join(", ")
            ));
        }
        (None, _) if gpu => PYTORCH_GPU,
        (None, _) => PYTORCH_CPU,
    };
    if let Capacity::Instances { instance_type, .. } = &e.capacity
        && (instance_type.starts_with("ml.inf") || instance_type.starts_with("ml.trn"))
    {
        return Err(format!("{instance_type} runs AWS Neuron: give the model's `image` (the default containers are for CUDA and CPUs)"));
    }
    let regions = crate::backends::sagemaker::DLC_REGIONS;
    if !regions.contains(&region) {
        return Err(format!("hoist has no default serving container for {region}: give the model's `image`"));
    }
    Ok(format!("{}.dkr.ecr.{region}.amazonaws.com/{tag}", crate::backends::sagemaker::DLC_ACCOUNT))
}

/// Resolve the file's endpoints: images, model data (a local file is
/// hashed, a job's record read, an MLflow model's version as `registry`
/// has it, by endpoint name), names with their content hash.
pub async fn resolve(
    n: &Names,
    role_arn: &str,
    store: &Store,
    decls: &[Endpoint],
    registry: &BTreeMap<String, Resolved>,
    file: &std::path::Path,
) -> Result<Vec<Desired>> {
    let mut out = Vec::new();
    for e in decls {
        // As the file's own errors are given: file:line, the field.
        let at = |field: &str, m: String| anyhow::anyhow!(crate::exit::UsageError(format!("{}:{}: `endpoints.{field}`: {m}", file.display(), e.line)));
        let endpoint = n.endpoint(&e.name);
        let mlflow = match &e.model.data {
            Some(Data::Mlflow(r)) => Some(registry.get(&e.name).ok_or_else(|| anyhow::anyhow!("internal: {r} was not resolved"))?),
            _ => None,
        };
        let image = match &e.model.image {
            Some(i) => i.clone(),
            None => default_image(e, &n.region, mlflow).map_err(|m| at("model.image", m))?,
        };
        let mut environment = e.model.env.clone();
        if let Some((id, task)) = &e.model.huggingface {
            environment.entry("HF_MODEL_ID".into()).or_insert_with(|| id.clone());
            environment.entry("HF_TASK".into()).or_insert_with(|| task.clone());
        }
        let (data, upload) = match &e.model.data {
            None => (None, None),
            Some(Data::S3(uri)) => (Some(uri.clone()), None),
            Some(Data::Local(path)) => {
                let hash = crate::backends::bootstrap::cached_content_hash(path)?;
                let file_name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| "model.tar.gz".into());
                let key = format!("models/{endpoint}/{hash}/{file_name}");
                (Some(format!("s3://{}/{key}", n.bucket)), Some(Upload { source: UploadSource::File(path.clone()), key }))
            }
            Some(Data::Mlflow(_)) => {
                let r = mlflow.expect("resolved above");
                if r.in_place() {
                    (Some(r.version.artifact_uri.clone()), None)
                } else {
                    // The serving handler and its settings (the file's env wins).
                    environment.entry("SAGEMAKER_PROGRAM".into()).or_insert_with(|| "inference.py".into());
                    environment.entry("SAGEMAKER_SUBMIT_DIRECTORY".into()).or_insert_with(|| "/opt/ml/model/code".into());
                    let key = mlflow_key(&endpoint, r);
                    (Some(format!("s3://{}/{key}", n.bucket)), Some(Upload { source: UploadSource::Mlflow(Box::new(r.clone())), key }))
                }
            }
            Some(Data::Job(id)) => match job_model(store, id).await {
                Ok(uri) => (Some(uri), None),
                Err(err) if err.is::<crate::exit::UsageError>() => return Err(at("model.data", err.to_string())),
                Err(err) => return Err(err),
            },
        };
        let mut tags = crate::deploy::tags(n, &e.name);
        if let Some(r) = mlflow {
            tags.extend(r.tags());
        }
        let part = n.endpoint_part(&endpoint, &content_hash(&endpoint, role_arn, &image, data.as_deref(), &environment, &e.capacity));
        out.push(Desired {
            decl: e.clone(),
            model: ModelSpec {
                name: part.clone(),
                role_arn: role_arn.to_string(),
                image,
                data,
                environment,
                tags: tags.clone(),
            },
            config: ConfigSpec { name: part.clone(), model: part.clone(), capacity: e.capacity.clone(), tags },
            endpoint,
            part,
            upload,
            mlflow: mlflow.map(|r| Box::new(r.clone())),
        });
    }
    Ok(out)
}

/// Where an MLflow version's package goes: readable (model and version),
/// unique (a hash of the model, version and artifact location).
fn mlflow_key(endpoint: &str, r: &Resolved) -> String {
    let v = &r.version;
    let mut h = crate::jobs::store::Fnv1a::default();
    h.update(format!("{}\n{}\n{}", v.model, v.version, v.artifact_uri).as_bytes());
    let name = super::file::sanitize(&v.model);
    let name: String = name.chars().take(40).collect();
    format!("models/{endpoint}/mlflow-{name}-v{}-{}/model.tar.gz", v.version, &h.hex()[..8])
}

/// The model a job trained (the `model.tar.gz` SageMaker wrote).
async fn job_model(store: &Store, id: &str) -> Result<String> {
    let Some(record) = store.load_record(id).await? else {
        bail!(crate::exit::UsageError(format!("no job {id:?} in this workspace (`hoist jobs` lists them)")));
    };
    let attempt = record.attempts.last();
    let artifact = attempt.and_then(|a| a.instance.as_ref()).and_then(|p| p.model_artifact.clone());
    match (record.status, artifact) {
        (crate::jobs::record::Status::Succeeded, Some(uri)) => Ok(uri),
        (crate::jobs::record::Status::Succeeded, None) => bail!(crate::exit::UsageError(format!(
            "job {id} ran on {}: only jobs on SageMaker leave a model.tar.gz to serve; give `data: s3://…` instead",
            record.backend.as_str()
        ))),
        (status, _) => bail!(crate::exit::UsageError(format!("job {id} is {status}: only a succeeded job's model can be served"))),
    }
}

/// Eight hex digits over everything the model and configuration are made of.
fn content_hash(endpoint: &str, role: &str, image: &str, data: Option<&str>, env: &BTreeMap<String, String>, capacity: &Capacity) -> String {
    let canonical = serde_json::json!({
        "endpoint": endpoint, "role": role, "image": image, "data": data, "env": env, "capacity": capacity,
    });
    let mut h = crate::jobs::store::Fnv1a::default();
    h.update(canonical.to_string().as_bytes());
    h.hex()[..8].to_string()
}

/// Options of a plan.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Delete the workspace's endpoints the file does not list.
    pub prune: bool,
    /// Wait for endpoints to be InService (and gone), then clean up.
    pub wait: bool,
}

/// Plan every endpoint of the file and every endpoint of the workspace.
pub async fn plan(sm: &Endpoints<'_>, n: &Names, desired: &[Desired], seen: &Observed, opts: Options) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    for d in desired {
        let mut change = plan_one(sm, n, d, seen, opts).await?;
        if !change.steps.is_empty()
            && let Some(note) = foreign_data_note(d, &n.bucket)
        {
            change.details.push(note);
        }
        changes.push(change);
    }
    // The workspace's endpoints the file does not list, and what is left
    // of endpoints that are gone (an interrupted delete).
    let wanted: BTreeSet<&str> = desired.iter().map(|d| d.endpoint.as_str()).collect();
    let prefix = n.endpoint_prefix();
    let mut others: BTreeSet<String> = seen.endpoints.iter().map(|e| e.name.clone()).filter(|e| !wanted.contains(e.as_str())).collect();
    for part in seen.configs.iter().chain(&seen.models) {
        if let Some(owner) = owner_of(&part.name)
            && !wanted.contains(owner)
        {
            others.insert(owner.to_string());
        }
    }
    for name in others {
        let short = name.strip_prefix(&prefix).unwrap_or(&name).to_string();
        let exists = seen.endpoint(&name).is_some();
        let mut change = Change { endpoint: short, name: name.clone(), action: Action::Kept, details: Vec::new(), mlflow: None, steps: Vec::new() };
        let parts = parts_of(seen, &name);
        if !opts.prune {
            change.details.push(match exists {
                true => "not in the file: kept (`--prune` deletes it)".into(),
                false => format!("left-over model and configuration {}: kept (`--prune` deletes them)", parts.0.join(", ")),
            });
        } else {
            change.action = Action::Delete;
            if exists {
                change.details.push("not in the file: to delete (--prune)".into());
                change.steps.push(Step::DeleteEndpoint(name.clone()));
                if opts.wait {
                    change.steps.push(Step::AwaitGone(name.clone()));
                }
            } else {
                change.details.push("left-over model and configuration: to delete (--prune)".into());
            }
            let uploads = uploads_of(sm, n, &name, &parts.1).await?;
            change.steps.extend(parts.0.into_iter().map(Step::DeleteConfig));
            change.steps.extend(parts.1.into_iter().map(Step::DeleteModel));
            change.steps.extend(uploads.into_iter().map(Step::DeleteUpload));
        }
        changes.push(change);
    }
    Ok(changes)
}

/// The endpoint a model or configuration name belongs to: the name less
/// its `-<8 hex>` suffix.
fn owner_of(part: &str) -> Option<&str> {
    let (owner, hash) = part.rsplit_once('-')?;
    (hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(owner)
}

/// The configurations and models of an endpoint, by name.
pub fn parts_of(seen: &Observed, endpoint: &str) -> (Vec<String>, Vec<String>) {
    let of = |list: &[Listed]| list.iter().filter(|p| owner_of(&p.name) == Some(endpoint)).map(|p| p.name.clone()).collect::<Vec<_>>();
    (of(&seen.configs), of(&seen.models))
}

/// A model's data in another bucket: the SageMaker role cannot read it
/// unless an administrator grants it (the role's policy and the boundary
/// name the workspace's bucket only).
fn foreign_data_note(d: &Desired, bucket: &str) -> Option<String> {
    let data = d.model.data.as_deref()?;
    let other = data.strip_prefix("s3://")?.split('/').next()?;
    (other != bucket).then(|| {
        format!(
            "note: the SageMaker role reads only s3://{bucket}/jobs/ and models/: SageMaker will fail to load {data} unless an administrator lets the role (and its boundary) read it; a local file (`data: ./model.tar.gz`) is uploaded where it can"
        )
    })
}

async fn plan_one(sm: &Endpoints<'_>, n: &Names, d: &Desired, seen: &Observed, opts: Options) -> Result<Change> {
    let mut change =
        Change {
            endpoint: d.decl.name.clone(),
            name: d.endpoint.clone(),
            action: Action::Unchanged,
            details: Vec::new(),
            mlflow: d.mlflow.as_ref().map(|r| Served { model: r.version.model.clone(), version: r.version.version.clone() }),
            steps: Vec::new(),
        };
    let (configs, models) = parts_of(seen, &d.endpoint);
    let have_config = configs.contains(&d.part);
    let have_model = models.contains(&d.part);
    // What makes the new model and configuration (those already made by an
    // interrupted apply are kept: their names carry their content).
    let mut make = Vec::new();
    if let Some(upload) = &d.upload
        && !have_model
    {
        make.push(Step::Upload(upload.clone()));
    }
    if !have_model {
        make.push(Step::CreateModel(d.model.clone()));
    }
    if !have_config {
        make.push(Step::CreateConfig(d.config.clone()));
    }
    let Some(listed) = seen.endpoint(&d.endpoint) else {
        create(&mut change, d, make, opts);
        // Parts of an earlier, never-created endpoint of this name.
        cleanup(&mut change, opts, configs.iter().chain(&models).filter(|p| **p != d.part), &configs, &models);
        return Ok(change);
    };
    if is_in_progress(&listed.status) {
        change.action = Action::Busy;
        change.details.push(format!("{}: waited for, then planned again", listed.status));
        return Ok(change);
    }
    // The steady state: InService on its one configuration, the file's.
    if listed.status == "InService" && configs == [d.part.clone()] {
        return Ok(change);
    }
    let info = sm.describe_endpoint(&d.endpoint).await?;
    let Some(info) = info else {
        // Deleted since it was listed: made anew.
        create(&mut change, d, make, opts);
        return Ok(change);
    };
    let stale = configs.iter().chain(&models).filter(|p| **p != d.part && **p != info.config).cloned().collect::<Vec<_>>();
    if info.config == d.part {
        if info.status == "Failed" {
            change.action = Action::Failed;
            change.details.push(format!(
                "SageMaker's reason: {}",
                info.failure_reason.as_deref().unwrap_or("none given").trim_end_matches('.')
            ));
            change.details.push(format!(
                "the file asks for what failed: change it to recreate the endpoint, or `hoist endpoints delete {}`",
                d.decl.name
            ));
        } else if info.status != "InService" {
            change.details.push(format!("status {}", info.status));
        }
        // Only clean-up is left: old parts an interrupted apply kept (and,
        // for an MLflow model, the tags it may not have got to; their
        // package files).
        if !stale.is_empty() && opts.wait {
            if change.action == Action::Unchanged {
                change.action = Action::Update;
            }
            change.details.push(format!("delete {} left by an earlier apply", crate::printer::count(stale.len(), "old model/configuration")));
            if d.mlflow.is_some() && info.status == "InService" {
                change.steps.push(d.retag(n));
            }
            cleanup(&mut change, opts, stale.iter(), &configs, &models);
            let stale_models: Vec<String> = stale.iter().filter(|p| models.contains(p)).cloned().collect();
            for key in uploads_of(sm, n, &d.endpoint, &stale_models).await? {
                if d.upload.as_ref().is_none_or(|u| u.key != key) {
                    change.steps.push(Step::DeleteUpload(key));
                }
            }
        }
        return Ok(change);
    }
    let (mut details, old_data) = diff(sm, d, &info.config).await?;
    if let Some(r) = &d.mlflow {
        details.insert(0, format!("MLflow model {}: to version {}", r.version.model, r.version.version));
    }
    change.details = details;
    change.steps = make;
    if info.status == "Failed" {
        change.action = Action::Recreate;
        change.details.insert(
            0,
            format!(
                "Failed ({}): to delete and create again",
                info.failure_reason.as_deref().unwrap_or("SageMaker gave no reason").trim_end_matches('.')
            ),
        );
        change.steps.push(Step::DeleteEndpoint(d.endpoint.clone()));
        change.steps.push(Step::AwaitGone(d.endpoint.clone()));
        change.steps.push(Step::CreateEndpoint { name: d.endpoint.clone(), config: d.part.clone(), tags: d.model.tags.clone() });
    } else {
        change.action = Action::Update;
        change.steps.push(Step::UpdateEndpoint { name: d.endpoint.clone(), config: d.part.clone() });
    }
    if opts.wait {
        if change.action == Action::Update {
            change.steps.push(Step::AwaitUpdated { name: d.endpoint.clone(), config: d.part.clone() });
        } else {
            change.steps.push(Step::AwaitInService(d.endpoint.clone()));
        }
        // Once it serves the new version (a recreated endpoint has its tags).
        if d.mlflow.is_some() && change.action == Action::Update {
            change.steps.push(d.retag(n));
        }
        // The old configuration and model go once the new one serves (an
        // update that fails rolls back to them).
        let old: Vec<&String> = configs.iter().chain(&models).filter(|p| **p != d.part).collect();
        cleanup(&mut change, opts, old.into_iter(), &configs, &models);
        // The model file hoist uploaded for what it replaced.
        if let Some(key) = old_data.as_deref().and_then(|u| upload_key(n, &d.endpoint, u))
            && d.upload.as_ref().is_none_or(|new| new.key != key)
        {
            change.steps.push(Step::DeleteUpload(key));
        }
    } else if d.mlflow.is_some() && change.action == Action::Update {
        change.steps.push(d.retag(n));
    }
    Ok(change)
}

/// A new endpoint: its model and configuration (`make`), then the endpoint.
fn create(change: &mut Change, d: &Desired, make: Vec<Step>, opts: Options) {
    change.action = Action::Create;
    change.details = describe_spec(d);
    change.steps = make;
    change.steps.push(Step::CreateEndpoint { name: d.endpoint.clone(), config: d.part.clone(), tags: d.model.tags.clone() });
    if opts.wait {
        change.steps.push(Step::AwaitInService(d.endpoint.clone()));
    }
}

/// Delete steps for these parts (each a configuration, a model, or both).
fn cleanup<'a>(change: &mut Change, opts: Options, parts: impl Iterator<Item = &'a String>, configs: &[String], models: &[String]) {
    if !opts.wait {
        return;
    }
    let parts: BTreeSet<&String> = parts.collect();
    for p in parts {
        if configs.contains(p) {
            change.steps.push(Step::DeleteConfig(p.clone()));
        }
        if models.contains(p) {
            change.steps.push(Step::DeleteModel(p.clone()));
        }
    }
}

fn capacity_text(c: &Capacity) -> String {
    match c {
        Capacity::Instances { instance_type, count } => format!("{instance_type} × {count}"),
        Capacity::Serverless { memory_mb, max_concurrency } => format!("serverless, {memory_mb} MiB, concurrency {max_concurrency}"),
    }
}

fn describe_spec(d: &Desired) -> Vec<String> {
    let mut out = vec![format!("image {}", d.model.image)];
    if let Some(r) = &d.mlflow {
        out.push(format!("MLflow model {} version {}", r.version.model, r.version.version));
    }
    if let Some(data) = &d.model.data {
        let from = match d.upload.as_ref().map(|u| &u.source) {
            Some(UploadSource::File(path)) => format!(" (from {}, uploaded by apply)", path.display()),
            Some(UploadSource::Mlflow(r)) => format!(" (packaged by apply from {})", r.version.artifact_uri),
            None => String::new(),
        };
        out.push(format!("data {data}{from}"));
    }
    if !d.model.environment.is_empty() {
        out.push(format!("env {}", d.model.environment.keys().cloned().collect::<Vec<_>>().join(", ")));
    }
    out.push(capacity_text(&d.config.capacity));
    out
}

/// Which fields differ between what the endpoint serves and the file, and
/// the model data it serves now.
async fn diff(sm: &Endpoints<'_>, d: &Desired, current: &str) -> Result<(Vec<String>, Option<String>)> {
    let Some((model_name, capacity)) = sm.describe_config(current).await? else {
        return Ok((vec![format!("its configuration {current} is gone: switch to the file's")], None));
    };
    let mut old_data = None;
    let mut out = Vec::new();
    if capacity != d.config.capacity {
        out.push(format!("capacity: {} -> {}", capacity_text(&capacity), capacity_text(&d.config.capacity)));
    }
    match sm.describe_model(&model_name).await? {
        None => out.push(format!("its model {model_name} is gone: switch to the file's")),
        Some(m) => {
            old_data = m.data.clone();
            if m.image != d.model.image {
                out.push(format!("image: {} -> {}", m.image, d.model.image));
            }
            if m.data != d.model.data {
                let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
                out.push(format!("data: {} -> {}", show(&m.data), show(&d.model.data)));
            }
            let mut env = Vec::new();
            for (k, v) in &d.model.environment {
                match m.environment.get(k) {
                    None => env.push(format!("+{k}")),
                    Some(old) if old != v => env.push(format!("~{k}")),
                    _ => {}
                }
            }
            env.extend(m.environment.keys().filter(|k| !d.model.environment.contains_key(*k)).map(|k| format!("-{k}")));
            if !env.is_empty() {
                out.push(format!("env: {}", env.join(" ")));
            }
        }
    }
    if out.is_empty() {
        out.push("the model's role or definition changed".into());
    }
    Ok((out, old_data))
}

/// The model files hoist uploaded that these models of `endpoint` serve
/// (one DescribeModel each), to delete with them.
pub async fn uploads_of(sm: &Endpoints<'_>, n: &Names, endpoint: &str, models: &[String]) -> Result<Vec<String>> {
    let mut keys = BTreeSet::new();
    for m in models {
        if let Some(data) = sm.describe_model(m).await?.and_then(|m| m.data) {
            keys.extend(upload_key(n, endpoint, &data));
        }
    }
    Ok(keys.into_iter().collect())
}

/// The bucket key of a model file hoist uploaded for `endpoint`
/// (`s3://<bucket>/models/<endpoint>/…`), if `uri` is one.
pub fn upload_key(n: &Names, endpoint: &str, uri: &str) -> Option<String> {
    let key = uri.strip_prefix(&format!("s3://{}/", n.bucket))?;
    key.starts_with(&format!("models/{endpoint}/")).then(|| key.to_string())
}

/// The plan as the applier's work: endpoints are independent of each other.
pub fn work(changes: &[Change]) -> Vec<Work<Step>> {
    changes
        .iter()
        .filter(|c| !c.steps.is_empty())
        .map(|c| Work { key: format!("endpoint {}", c.endpoint), after: Vec::new(), steps: c.steps.clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_belong_to_the_endpoint_their_name_ends_with_a_hash_of() {
        assert_eq!(owner_of("hoist-ml--a-0123abcd"), Some("hoist-ml--a"));
        assert_eq!(owner_of("hoist-ml--a-b-0123abcd"), Some("hoist-ml--a-b"));
        assert_eq!(owner_of("hoist-ml--a-b"), None);
        assert_eq!(owner_of("hoist-ml--a-0123abcx"), None);
    }

    #[test]
    fn the_hash_covers_every_field() {
        let env = BTreeMap::new();
        let cap = Capacity::Instances { instance_type: "ml.m5.large".into(), count: 1 };
        let base = content_hash("e", "r", "i", None, &env, &cap);
        assert_eq!(base, content_hash("e", "r", "i", None, &env, &cap));
        assert_ne!(base, content_hash("e", "r", "i2", None, &env, &cap));
        assert_ne!(base, content_hash("e", "r", "i", Some("s3://b/k"), &env, &cap));
        assert_ne!(base, content_hash("e", "r2", "i", None, &env, &cap));
        let more = Capacity::Instances { instance_type: "ml.m5.large".into(), count: 2 };
        assert_ne!(base, content_hash("e", "r", "i", None, &env, &more));
        let env2: BTreeMap<String, String> = [("A".to_string(), "1".to_string())].into();
        assert_ne!(base, content_hash("e", "r", "i", None, &env2, &cap));
    }
}
