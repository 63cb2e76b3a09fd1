//! The task file: what to run, with what, and where.
//!
//! Field names and meanings follow SkyPilot's task YAML wherever a field
//! means the same thing there (`name`, `workdir`, `envs`, `secrets`,
//! `setup`, `run`, `resources.{instance_type, accelerators, use_spot,
//! disk_size, image_id}`), so a SkyPilot task that uses only those runs
//! unchanged. hoist adds `checkpoints`, `artifacts`, `resources.max_runtime`
//! and `backend`.
//!
//! [`raw`] is the file as written (with source positions); [`Task`] is the
//! validated result. Every error names file:line:column and the field.

mod error;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use error::TaskError;

/// A validated task. This is also what a job record stores: it holds
/// secret *names* only, never values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub name: String,
    /// Absolute path of the directory to bundle, if any. A relative
    /// `workdir` is resolved against the task file's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<PathBuf>,
    #[serde(default)]
    pub envs: BTreeMap<String, String>,
    /// Names of secrets, resolved by the backend at run time.
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<String>,
    pub run: String,
    /// Directory (relative to the working copy) the job writes checkpoints
    /// to; synced during and after the run, restored before a resumed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<String>,
    /// Paths (relative to the working copy) kept after the run.
    #[serde(default)]
    pub artifacts: Vec<String>,
    #[serde(default)]
    pub resources: Resources,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<Backend>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerators: Option<Accelerators>,
    #[serde(default)]
    pub use_spot: bool,
    /// Root volume size in GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// Stop the job after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<u64>,
}

/// `V100:4` or `{V100: 4}` in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accelerators {
    pub name: String,
    pub count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Local,
    Ec2,
    Sagemaker,
}

impl Backend {
    pub const NAMES: &[&str] = &["local", "ec2", "sagemaker"];

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Local => "local",
            Backend::Ec2 => "ec2",
            Backend::Sagemaker => "sagemaker",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Values from the command line that take precedence over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub name: Option<String>,
    /// `--env NAME=VALUE`, in order; a later one wins.
    pub envs: Vec<(String, String)>,
    pub backend: Option<Backend>,
}

impl Task {
    /// Read, parse and validate a task file. Touches nothing but the file
    /// (and checks that `workdir` exists).
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Self, TaskError> {
        let text = std::fs::read_to_string(path).map_err(|e| TaskError::io(path, e))?;
        Self::parse(path, &text, overrides)
    }

    /// Parse and validate `text` as if read from `path` (which names the
    /// file in errors and anchors a relative `workdir`).
    pub fn parse(path: &Path, text: &str, overrides: &Overrides) -> Result<Self, TaskError> {
        let raw = raw::parse(path, text)?;
        validate::validate(path, text, raw, overrides)
    }
}

pub use validate::{check_name, parse_backend};

#[cfg(test)]
mod tests;
