//! MLflow Model Registry as a deploy file's model source (`model: {mlflow:
//! {model: churn, alias: champion}}`): the [`registry`] says which version
//! an alias, stage or number names and where its files are; [`package`]
//! turns those files into the `model.tar.gz` SageMaker loads, with hoist's
//! serving handler, in the workspace's bucket.
//!
//! A registry is read, never written. An endpoint's model, configuration
//! and endpoint carry the served model's name and version as tags.

pub mod package;
pub mod registry;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;

use anyhow::Result;
use hoist_aws::Session;

pub use registry::{Registry, RegistryError, Version};

/// Tags naming what an endpoint serves.
pub const MODEL_TAG: &str = "hoist:mlflow-model";
pub const VERSION_TAG: &str = "hoist:mlflow-version";

/// A registered model and which of its versions to serve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    pub model: String,
    pub selector: Selector,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selector {
    Alias(String),
    Version(String),
    /// MLflow's stages (deprecated by MLflow in favour of aliases).
    Stage(String),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Alias(a) => write!(f, "alias {a}"),
            Selector::Version(v) => write!(f, "version {v}"),
            Selector::Stage(s) => write!(f, "stage {s}"),
        }
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.model, self.selector)
    }
}

/// A version resolved, with what its MLmodel file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub version: Version,
    /// The MLmodel's flavours (`python_function`, `sklearn`, ...); empty
    /// for an artifact that is a `model.tar.gz` already.
    pub flavors: Vec<String>,
    pub mlflow_version: Option<String>,
}

impl Resolved {
    /// The artifact is a `model.tar.gz` in S3 already: served in place.
    pub fn in_place(&self) -> bool {
        self.version.artifact_uri.starts_with("s3://") && self.version.artifact_uri.ends_with(".tar.gz")
    }

    pub fn tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (MODEL_TAG.to_string(), tag_value(&self.version.model)),
            (VERSION_TAG.to_string(), self.version.version.clone()),
        ])
    }
}

/// SageMaker's tag values allow letters, digits, spaces and `_.:/=+-@`;
/// anything else in a model's name becomes `_`.
fn tag_value(v: &str) -> String {
    let ok = |c: char| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c);
    v.chars().map(|c| if ok(c) { c } else { '_' }).take(256).collect()
}

/// What a version's MLmodel says: its flavours and MLflow version.
pub type MlModelInfo = (Vec<String>, Option<String>);

/// Resolves the file's registry models; remembers what each version's
/// MLmodel says (versions are immutable), so a watch that polls the
/// registry reads only the registry.
pub struct Resolver {
    pub registry: Registry,
    mlmodels: Mutex<HashMap<String, MlModelInfo>>,
}

impl Resolver {
    pub fn new(registry: Registry) -> Self {
        Self { registry, mlmodels: Mutex::new(HashMap::new()) }
    }

    /// Only the version numbers the references name now: one registry
    /// request each, no AWS request (a watch's poll).
    pub async fn current(&self, refs: &[ModelRef]) -> Result<Vec<String>, RegistryError> {
        let mut out = Vec::new();
        for r in refs {
            out.push(self.registry.current(r).await?);
        }
        Ok(out)
    }

    /// A version with its MLmodel's flavours (read once per version).
    pub async fn describe(&self, session: &Session, v: Version) -> Result<Resolved> {
        let mut r = Resolved { version: v, flavors: Vec::new(), mlflow_version: None };
        if r.in_place() {
            return Ok(r);
        }
        let known = self.mlmodels.lock().unwrap().get(&r.version.artifact_uri).cloned();
        let (flavors, mlflow_version) = match known {
            Some(k) => k,
            None => {
                let k = package::read_mlmodel(session, &self.registry, &r.version).await?;
                self.mlmodels.lock().unwrap().insert(r.version.artifact_uri.clone(), k.clone());
                k
            }
        };
        r.flavors = flavors;
        r.mlflow_version = mlflow_version;
        Ok(r)
    }
}
