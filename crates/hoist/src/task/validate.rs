//! From the raw file to a [`Task`]: every rule a task must satisfy, each
//! failure pointing at the offending value.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use serde_saphyr::Spanned;

use super::error::TaskError;
use super::raw::{RawResources, RawSecrets, RawTask, pos};
use super::{Accelerators, Backend, Overrides, Resources, Task};
use crate::suggest::did_you_mean;

/// Longest task name: job ids (`<name>-<8 hex>`) must fit AWS name limits
/// (63 for SageMaker training jobs) with room for the workspace prefix.
pub const MAX_NAME_LEN: usize = 32;

struct Ctx<'a> {
    path: &'a Path,
}

impl Ctx<'_> {
    fn err<T>(&self, s: &Spanned<T>, field: &str, message: impl Into<String>) -> TaskError {
        let (line, column) = pos(&s.referenced);
        TaskError::at(self.path, line, column, Some(field.to_string()), message)
    }

    fn unsupported<T>(&self, s: &Option<Spanned<T>>, field: &str, advice: &str) -> Result<(), TaskError> {
        match s {
            Some(s) => Err(self.err(s, field, format!("this SkyPilot field is not supported by hoist: {advice}"))),
            None => Ok(()),
        }
    }
}

pub fn validate(path: &Path, _text: &str, raw: RawTask, overrides: &Overrides) -> Result<Task, TaskError> {
    let cx = Ctx { path };

    if let Some(n) = &raw.num_nodes
        && n.value != 1
    {
        return Err(cx.err(n, "num_nodes", "multi-node tasks are not supported: hoist runs a task on one machine"));
    }
    cx.unsupported(&raw.file_mounts, "file_mounts", "put the files in `workdir`, or fetch them in `setup`")?;
    cx.unsupported(&raw.service, "service", "serve models with `hoist deploy`")?;
    cx.unsupported(&raw.config, "config", "hoist reads its own settings from `hoist config`")?;
    cx.unsupported(&raw.volumes, "volumes", "use `checkpoints` and `artifacts` for state that must outlive the job")?;
    cx.unsupported(&raw.event_callback, "event_callback", "poll `hoist jobs --output json` instead")?;

    let name = match (&overrides.name, &raw.name) {
        (Some(n), _) => {
            check_name(n).map_err(|m| TaskError::at(path, 0, 0, Some("name".into()), format!("--name {n:?}: {m}")))?;
            n.clone()
        }
        (None, Some(n)) => {
            check_name(&n.value).map_err(|m| cx.err(n, "name", format!("invalid name {:?}: {m}", n.value)))?;
            n.value.clone()
        }
        (None, None) => name_from_file(path).ok_or_else(|| {
            TaskError::at(path, 1, 1, Some("name".into()), "no `name` given and none can be made from the file name: add `name: my-task`")
        })?,
    };

    let workdir = match &raw.workdir {
        None => None,
        Some(w) => {
            let dir = expand_home(&w.value);
            let dir = if dir.is_absolute() { dir } else { path.parent().unwrap_or(Path::new(".")).join(dir) };
            if !dir.is_dir() {
                return Err(cx.err(
                    w,
                    "workdir",
                    format!("{} is not a directory (a relative workdir is resolved against the task file's directory)", dir.display()),
                ));
            }
            Some(std::path::absolute(&dir).unwrap_or(dir))
        }
    };

    let mut envs = BTreeMap::new();
    if let Some(map) = &raw.envs {
        for (key, value) in &map.value {
            let field = format!("envs.{key}");
            check_env_name(key).map_err(|m| cx.err(value, &field, m))?;
            let value = match (&value.value, overrides.envs.iter().rev().find(|(k, _)| k == key)) {
                (_, Some((_, v))) => v.clone(),
                (Some(v), None) => v.clone(),
                (None, None) => {
                    return Err(cx.err(value, &field, format!("no value: give one here, or pass `--env {key}=VALUE`")));
                }
            };
            envs.insert(key.clone(), value);
        }
    }
    for (key, value) in &overrides.envs {
        if !envs.contains_key(key) {
            check_env_name(key).map_err(|m| TaskError::at(path, 0, 0, Some(format!("--env {key}")), m))?;
            envs.insert(key.clone(), value.clone());
        }
    }

    let mut secrets: Vec<String> = Vec::new();
    if let Some(s) = &raw.secrets {
        let names: Vec<(&Spanned<String>, Option<&String>)> = match &s.value {
            RawSecrets::Names(names) => names.iter().map(|n| (n, None)).collect(),
            RawSecrets::Map(entries) => entries.iter().map(|(n, v)| (n, v.as_ref())).collect(),
        };
        for (name, value) in names {
            let field = format!("secrets.{}", name.value);
            if value.is_some() {
                return Err(cx.err(
                    name,
                    &field,
                    "secret values do not belong in a task file: leave it null (or list the name) and pass the value with `--secret NAME=VALUE` or an environment variable of the same name",
                ));
            }
            check_env_name(&name.value).map_err(|m| cx.err(name, &field, m))?;
            if envs.contains_key(&name.value) {
                return Err(cx.err(name, &field, "is also in `envs`: a name is either a plain variable or a secret"));
            }
            if secrets.contains(&name.value) {
                return Err(cx.err(name, &field, "listed twice"));
            }
            secrets.push(name.value.clone());
        }
    }

    let setup = raw.setup.as_ref().map(|s| s.value.clone()).filter(|s| !s.trim().is_empty());
    let run = match &raw.run {
        Some(r) if !r.value.trim().is_empty() => r.value.clone(),
        Some(r) => return Err(cx.err(r, "run", "is empty: give the command that runs the job")),
        None => {
            return Err(TaskError::at(path, 1, 1, Some("run".into()), "missing: a task needs a `run` command (e.g. `run: python train.py`)"));
        }
    };

    let checkpoints = match &raw.checkpoints {
        None => None,
        Some(c) => {
            check_relative(&c.value).map_err(|m| cx.err(c, "checkpoints", m))?;
            Some(c.value.trim_end_matches('/').to_string())
        }
    };
    let mut artifacts = Vec::new();
    if let Some(list) = &raw.artifacts {
        for (i, a) in list.value.iter().enumerate() {
            check_relative(&a.value).map_err(|m| cx.err(a, &format!("artifacts[{i}]"), m))?;
            artifacts.push(a.value.trim_end_matches('/').to_string());
        }
    }

    let resources = match &raw.resources {
        Some(r) => resources(&cx, &r.value)?,
        None => Resources::default(),
    };

    let backend = match (overrides.backend, &raw.backend) {
        (Some(b), _) => Some(b),
        (None, None) => None,
        (None, Some(b)) => Some(parse_backend(&b.value).map_err(|m| cx.err(b, "backend", m))?),
    };

    Ok(Task { name, workdir, envs, secrets, setup, run, checkpoints, artifacts, resources, backend })
}

fn resources(cx: &Ctx, r: &RawResources) -> Result<Resources, TaskError> {
    for (value, field) in [(&r.cloud, "resources.cloud"), (&r.infra, "resources.infra")] {
        if let Some(v) = value
            && !v.value.eq_ignore_ascii_case("aws")
        {
            return Err(cx.err(v, field, format!("{:?}: hoist runs on AWS only; remove the field or set it to `aws`", v.value)));
        }
    }
    cx.unsupported(&r.region, "resources.region", "the region comes from `--region` or hoist's config")?;
    cx.unsupported(&r.zone, "resources.zone", "hoist picks the zone")?;
    cx.unsupported(&r.cpus, "resources.cpus", "name an `instance_type`")?;
    cx.unsupported(&r.memory, "resources.memory", "name an `instance_type`")?;
    cx.unsupported(&r.ports, "resources.ports", "hoist opens no inbound port on training machines")?;
    cx.unsupported(&r.disk_tier, "resources.disk_tier", "hoist uses encrypted gp3 volumes")?;
    cx.unsupported(&r.any_of, "resources.any_of", "name one `instance_type`")?;
    cx.unsupported(&r.ordered, "resources.ordered", "name one `instance_type`")?;
    cx.unsupported(&r.labels, "resources.labels", "hoist tags resources with its workspace")?;
    cx.unsupported(&r.job_recovery, "resources.job_recovery", "resume with `hoist run --resume JOB`")?;
    cx.unsupported(&r.autostop, "resources.autostop", "use `resources.max_runtime`")?;
    cx.unsupported(&r.accelerator_args, "resources.accelerator_args", "not needed on AWS")?;

    let instance_type = match &r.instance_type {
        None => None,
        Some(t) => {
            let ok = t.value.split_once('.').is_some_and(|(family, size)| {
                !family.is_empty() && !size.is_empty() && t.value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            });
            if !ok {
                return Err(cx.err(t, "resources.instance_type", format!("{:?} is not an instance type: expected e.g. `g5.xlarge` or `ml.g5.xlarge`", t.value)));
            }
            Some(t.value.clone())
        }
    };
    let accelerators = match &r.accelerators {
        None => None,
        Some(a) => {
            if a.value.name.is_empty() {
                return Err(cx.err(a, "resources.accelerators", "empty accelerator name: expected e.g. `A10G:1`"));
            }
            if a.value.count == 0 {
                return Err(cx.err(a, "resources.accelerators", "the count must be at least 1"));
            }
            Some(Accelerators { name: a.value.name.clone(), count: a.value.count })
        }
    };
    let disk_size = match &r.disk_size {
        None => None,
        Some(d) if (1..=16_384).contains(&d.value) => Some(d.value),
        Some(d) => return Err(cx.err(d, "resources.disk_size", format!("{} GiB is out of range: expected 1 to 16384", d.value))),
    };
    let max_runtime = match &r.max_runtime {
        None => None,
        Some(m) if m.value.0 > 0 => Some(m.value.0),
        Some(m) => return Err(cx.err(m, "resources.max_runtime", "must be longer than zero")),
    };
    Ok(Resources {
        instance_type,
        accelerators,
        use_spot: r.use_spot.as_ref().is_some_and(|s| s.value),
        disk_size,
        image_id: r.image_id.as_ref().map(|s| s.value.clone()),
        max_runtime,
    })
}

pub fn parse_backend(s: &str) -> Result<Backend, String> {
    match s {
        "local" => Ok(Backend::Local),
        "ec2" => Ok(Backend::Ec2),
        "sagemaker" => Ok(Backend::Sagemaker),
        other => {
            let hint = did_you_mean(other, Backend::NAMES.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            Err(format!("unknown backend {other:?}{hint}: expected one of {}", Backend::NAMES.join(", ")))
        }
    }
}

/// Task names become part of job ids and AWS resource names.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!("expected 1 to {MAX_NAME_LEN} characters"));
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || !name.as_bytes()[0].is_ascii_lowercase()
        || name.ends_with('-')
    {
        return Err("expected lowercase letters, digits and dashes, starting with a letter".into());
    }
    Ok(())
}

/// A name for a task file without `name:`: its file stem, made valid.
fn name_from_file(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
    let mut name: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    name = name.trim_matches('-').chars().take(MAX_NAME_LEN).collect::<String>().trim_end_matches('-').to_string();
    check_name(&name).ok().map(|_| name)
}

fn check_env_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if !valid {
        return Err(format!("{name:?} is not a valid environment variable name: expected letters, digits and `_`, not starting with a digit"));
    }
    if name.starts_with("HOIST_") {
        return Err(format!("{name:?}: names starting with HOIST_ are reserved for the variables hoist sets"));
    }
    Ok(())
}

fn check_relative(p: &str) -> Result<(), String> {
    let path = Path::new(p);
    if p.trim().is_empty() {
        return Err("is empty: expected a path relative to the working copy".into());
    }
    if path.is_absolute() || path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(format!("{p:?} must stay inside the working copy: a relative path without `..`"));
    }
    Ok(())
}

fn expand_home(p: &str) -> std::path::PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => p.into(),
    }
}
