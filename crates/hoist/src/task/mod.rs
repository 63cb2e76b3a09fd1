//! The task file: what to run, with what, and where.
//!
//! Field names and meanings follow SkyPilot's task YAML wherever a field
//! means the same thing there (`name`, `workdir`, `envs`, `secrets`,
//! `num_nodes`, `setup`, `run`, `resources.{cpus, memory, accelerators,
//! instance_type, use_spot, disk_size, image_id, region, zone, infra,
//! any_of, ordered}`), so a SkyPilot task that uses only those runs
//! unchanged; docs/SKYPILOT.md lists every SkyPilot field and what hoist
//! does with it. hoist adds `checkpoints`, `artifacts`,
//! `resources.max_runtime` and `backend`.
//!
//! [`raw`] is the file as written (with source positions); [`Task`] is the
//! validated result. Every error names file:line:column and the field.

mod error;
pub(crate) mod raw;
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
    /// Machines to run on (`num_nodes`); 1 unless the task says more.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub num_nodes: u32,
    /// Fields the file sets that do not apply to hoist, with what hoist
    /// does instead: shown once when the task runs, never silently
    /// dropped. Not stored.
    #[serde(skip)]
    pub notices: Vec<Notice>,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// A field that was accepted but does not apply, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Any one of these will do (SkyPilot's list and set forms); empty
    /// when the task needs no accelerator. Records written before
    /// alternatives existed hold a single object: read as one.
    #[serde(default, deserialize_with = "one_or_many", skip_serializing_if = "Vec::is_empty")]
    pub accelerators: Vec<Accelerators>,
    /// vCPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Amount>,
    /// Memory in GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Amount>,
    #[serde(default)]
    pub use_spot: bool,
    /// Root volume size in GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// SkyPilot's per-region form of `image_id`: region to AMI id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub image_by_region: BTreeMap<String, String>,
    /// Stop the job after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// `any_of` / `ordered`: alternatives, each already merged over the
    /// fields above. Empty when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Resources>,
    /// Whether `candidates` are in order of preference (`ordered`) rather
    /// than equally good (`any_of`, the cheapest wins).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ordered: bool,
}

impl Resources {
    /// The image for `region`: `image_id`, or the per-region entry.
    pub fn image_for(&self, region: &str) -> Result<Option<String>, String> {
        if self.image_by_region.is_empty() {
            return Ok(self.image_id.clone());
        }
        match self.image_by_region.get(region) {
            Some(i) => Ok(Some(i.clone())),
            None => Err(format!(
                "resources.image_id names images for {} only, and hoist acts in {region}",
                self.image_by_region.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// What the task accepts, as a list of alternatives: the candidates,
    /// or the resources themselves.
    pub fn alternatives(&self) -> Vec<&Resources> {
        if self.candidates.is_empty() { vec![self] } else { self.candidates.iter().collect() }
    }

    /// The accelerators asked for, in words: `A10G:1 or T4:1`.
    pub fn accelerators_text(&self) -> String {
        self.accelerators.iter().map(Accelerators::to_string).collect::<Vec<_>>().join(" or ")
    }

    /// Whether anything in the task chooses hardware (so the default
    /// instance type does not apply).
    pub fn names_hardware(&self) -> bool {
        self.alternatives()
            .iter()
            .any(|r| r.instance_type.is_some() || !r.accelerators.is_empty() || r.cpus.is_some() || r.memory.is_some())
    }
}

/// `V100:4` or `{V100: 4}` in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accelerators {
    pub name: String,
    pub count: u32,
}

impl std::fmt::Display for Accelerators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.count)
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Accelerators>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Accelerators),
        Many(Vec<Accelerators>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(a)) => vec![a],
        Some(OneOrMany::Many(v)) => v,
    })
}

/// A quantity as SkyPilot writes it: `4` (exactly) or `4+` (at least),
/// kept in thousandths so that it compares exactly. Stored as that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub thousandths: u64,
    pub or_more: bool,
}

impl Amount {
    pub fn new(value: f64, or_more: bool) -> Self {
        Self { thousandths: (value * 1000.0).round() as u64, or_more }
    }

    pub fn value(&self) -> f64 {
        self.thousandths as f64 / 1000.0
    }

    /// Whether `have` satisfies this amount.
    pub fn admits(&self, have: f64) -> bool {
        let have = (have * 1000.0).round() as u64;
        if self.or_more { have >= self.thousandths } else { have == self.thousandths }
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.value(), if self.or_more { "+" } else { "" })
    }
}

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let (num, or_more) = match s.strip_suffix('+') {
            Some(n) => (n, true),
            None => (s.as_str(), false),
        };
        num.parse::<f64>().map(|v| Amount::new(v, or_more)).map_err(serde::de::Error::custom)
    }
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

pub use validate::{check_name, job_slug, parse_backend};

#[cfg(test)]
mod tests;
