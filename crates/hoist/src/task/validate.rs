//! From the raw file to a [`Task`]: every rule a task must satisfy, each
//! failure pointing at the offending value.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use serde_saphyr::Spanned;

use super::error::TaskError;
use super::raw::{RawImage, RawResources, RawSecrets, RawTask, RawWorkdir, pos};
use super::{Accelerators, Amount, Backend, Notice, Overrides, Resources, Task};
use crate::suggest::did_you_mean;

/// Longest task name, as SkyPilot allows it.
pub const MAX_NAME_LEN: usize = 128;
/// Longest name part of a job id: ids (`<slug>-<8 hex>`) must fit AWS
/// name limits (63 for SageMaker training jobs) with room for a prefix.
pub const MAX_SLUG_LEN: usize = 32;
/// Most machines one task may ask for.
pub const MAX_NODES: i64 = 64;

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
    notices: Vec<Notice>,
}

impl Ctx<'_> {
    fn err<T>(&self, s: &Spanned<T>, field: &str, message: impl Into<String>) -> TaskError {
        let (line, column) = pos(&s.referenced);
        TaskError::at(self.path, line, column, Some(field.to_string()), message)
    }

    fn unsupported<T>(&self, s: &Option<Spanned<T>>, field: &str, advice: &str) -> Result<(), TaskError> {
        let Some(s) = s else { return Ok(()) };
        let message = format!("this SkyPilot field is not supported by hoist: {advice}");
        // A top-level key is pointed at itself, not at its value (for a
        // mapping, the value's position is its first entry's).
        match self.top_level_key_line(field) {
            Some(line) => Err(TaskError::at(self.path, line, 1, Some(field.to_string()), message)),
            None => Err(self.err(s, field, message)),
        }
    }

    /// The line (1-based) where top-level key `field:` is written.
    fn top_level_key_line(&self, field: &str) -> Option<usize> {
        if field.contains('.') {
            return None;
        }
        self.text.lines().position(|l| l.strip_prefix(field).is_some_and(|rest| rest.trim_start().starts_with(':'))).map(|i| i + 1)
    }

    /// A field accepted but not applying: noted, shown when the task runs.
    fn notice<T>(&mut self, s: &Option<Spanned<T>>, field: &str, message: &str) {
        if s.is_some() {
            self.notices.push(Notice { field: field.to_string(), message: message.to_string() });
        }
    }
}

pub fn validate(path: &Path, text: &str, raw: RawTask, overrides: &Overrides) -> Result<Task, TaskError> {
    let mut cx = Ctx { path, text, notices: Vec::new() };

    let num_nodes = match &raw.num_nodes {
        None => 1,
        Some(n) if (1..=MAX_NODES).contains(&n.value) => n.value as u32,
        Some(n) => return Err(cx.err(n, "num_nodes", format!("{} machines: expected 1 to {MAX_NODES}", n.value))),
    };
    cx.unsupported(&raw.file_mounts, "file_mounts", "put the files in `workdir`, or fetch them in `setup` (e.g. `aws s3 cp`)")?;
    cx.unsupported(
        &raw.service,
        "service",
        "hoist runs training tasks; serving a model is not part of a task file (SageMaker endpoints are planned as `hoist deploy`)",
    )?;
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
            let RawWorkdir::Path(value) = &w.value else {
                return Err(cx.err(
                    w,
                    "workdir",
                    "a git repository as `workdir` (`url`, `ref`) is not supported: clone it in `setup`, or give a local directory",
                ));
            };
            let dir = expand_home(value);
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
            // SkyPilot writes `NAME: ""` or `NAME: null` for "supplied at
            // run time"; a real value does not belong in a file.
            if value.is_some_and(|v| !v.is_empty()) {
                return Err(cx.err(
                    name,
                    &field,
                    "secret values do not belong in a task file: leave it empty (`\"\"` or null) and pass the value with `--secret NAME=VALUE` or an environment variable of the same name",
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
            // `run:` written with nothing after it is empty, not missing.
            return Err(match cx.top_level_key_line("run") {
                Some(line) => TaskError::at(path, line, 1, Some("run".into()), "is empty: give the command that runs the job (e.g. `run: python train.py`)"),
                None => TaskError::at(path, 1, 1, Some("run".into()), "missing: a task needs a `run` command (e.g. `run: python train.py`)"),
            });
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
        Some(r) => resources(&mut cx, &r.value)?,
        None => Resources::default(),
    };

    let backend = match (overrides.backend, &raw.backend) {
        (Some(b), _) => Some(b),
        (None, None) => None,
        (None, Some(b)) => Some(parse_backend(&b.value).map_err(|m| cx.err(b, "backend", m))?),
    };

    Ok(Task { name, workdir, envs, secrets, setup, run, checkpoints, artifacts, resources, backend, num_nodes, notices: cx.notices })
}

fn resources(cx: &mut Ctx, r: &RawResources) -> Result<Resources, TaskError> {
    let base = block(cx, &Resources::default(), r, "resources")?;
    let (list, ordered, field) = match (&r.any_of, &r.ordered) {
        (Some(_), Some(o)) => return Err(cx.err(o, "resources.ordered", "give either `any_of` or `ordered`, not both")),
        (Some(a), None) => (Some(a), false, "resources.any_of"),
        (None, Some(o)) => (Some(o), true, "resources.ordered"),
        (None, None) => (None, false, ""),
    };
    let Some(list) = list else { return Ok(base) };
    if list.value.is_empty() {
        return Err(cx.err(list, field, "is empty: give at least one alternative, or remove it"));
    }
    let mut candidates = Vec::new();
    for (i, c) in list.value.iter().enumerate() {
        let here = format!("{field}[{i}]");
        // SkyPilot's alternatives often span clouds: the AWS ones are
        // kept, the rest noted and skipped.
        let elsewhere = [&c.value.cloud, &c.value.infra]
            .into_iter()
            .flatten()
            .map(|v| v.value.split('/').next().unwrap_or_default().to_string())
            .find(|cloud| !cloud.eq_ignore_ascii_case("aws"));
        if let Some(cloud) = elsewhere {
            cx.notices.push(Notice { field: here, message: format!("skipped: this alternative is for {cloud}, and hoist runs on AWS") });
            continue;
        }
        if let Some(nested) = c.value.any_of.as_ref().map(|s| s.referenced).or(c.value.ordered.as_ref().map(|s| s.referenced)) {
            let (line, column) = pos(&nested);
            return Err(TaskError::at(cx.path, line, column, Some(here), "alternatives cannot be nested"));
        }
        candidates.push(block(cx, &base, &c.value, &here)?);
    }
    if candidates.is_empty() {
        return Err(cx.err(list, field, "none of the alternatives is for AWS: give at least one with `infra: aws` (or no cloud at all)"));
    }
    Ok(Resources { candidates, ordered, ..base })
}

/// One resources mapping, over `base` (the top-level fields, for an
/// `any_of` entry): what it sets replaces what `base` has.
fn block(cx: &mut Ctx, base: &Resources, r: &RawResources, at: &str) -> Result<Resources, TaskError> {
    let f = |name: &str| format!("{at}.{name}");
    let mut out = Resources { candidates: Vec::new(), ordered: false, ..base.clone() };

    if let Some(c) = &r.cloud
        && !c.value.eq_ignore_ascii_case("aws")
    {
        return Err(cx.err(c, &f("cloud"), format!("{:?}: hoist runs on AWS only; remove the field or set it to `aws`", c.value)));
    }
    if let Some(infra) = &r.infra {
        let mut parts = infra.value.split('/');
        let cloud = parts.next().unwrap_or_default();
        if !cloud.eq_ignore_ascii_case("aws") {
            return Err(cx.err(
                infra,
                &f("infra"),
                format!("{:?}: hoist runs on AWS only; use `aws`, `aws/REGION` or `aws/REGION/ZONE`", infra.value),
            ));
        }
        match (parts.next(), parts.next(), parts.next()) {
            (region, zone, None) => {
                if let Some(region) = region.filter(|r| !r.is_empty() && *r != "*") {
                    out.region = Some(region.to_string());
                }
                if let Some(zone) = zone.filter(|z| !z.is_empty() && *z != "*") {
                    out.zone = Some(zone.to_string());
                }
            }
            _ => return Err(cx.err(infra, &f("infra"), format!("{:?}: expected `aws`, `aws/REGION` or `aws/REGION/ZONE`", infra.value))),
        }
    }
    if let Some(region) = &r.region {
        if out.region.as_ref().is_some_and(|from_infra| r.infra.is_some() && *from_infra != region.value) {
            return Err(cx.err(region, &f("region"), "differs from the region in `infra`: give it once"));
        }
        out.region = Some(region.value.clone());
    }
    if let Some(zone) = &r.zone {
        out.zone = Some(zone.value.clone());
    }
    if let (Some(region), Some(zone)) = (&out.region, &out.zone)
        && !zone.starts_with(region.as_str())
    {
        let span = r.zone.as_ref().map(|z| z.referenced).or(r.infra.as_ref().map(|i| i.referenced)).expect("a zone came from one of them");
        let (line, column) = pos(&span);
        return Err(TaskError::at(cx.path, line, column, Some(f("zone")), format!("zone {zone} is not in region {region}")));
    }

    cx.unsupported(&r.ports, &f("ports"), "hoist opens no inbound port on training machines (serving models is planned as a separate command)")?;
    cx.notice(&r.disk_tier, &f("disk_tier"), "ignored: hoist's disks are encrypted gp3 volumes");
    cx.notice(&r.network_tier, &f("network_tier"), "ignored: hoist uses the instance type's own network");
    cx.notice(&r.labels, &f("labels"), "ignored: hoist tags what it creates with the workspace and job");
    cx.notice(
        &r.job_recovery,
        &f("job_recovery"),
        "ignored: hoist does not restart jobs by itself; use `hoist run --retry-on-interruption N` or `hoist run --resume JOB`",
    );
    cx.notice(&r.autostop, &f("autostop"), "ignored: hoist's machines stop when the job ends");
    cx.notice(&r.accelerator_args, &f("accelerator_args"), "ignored: not needed on AWS");

    if let Some(t) = &r.instance_type {
        let ok = t.value.split_once('.').is_some_and(|(family, size)| {
            !family.is_empty() && !size.is_empty() && t.value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        });
        if !ok {
            return Err(cx.err(t, &f("instance_type"), format!("{:?} is not an instance type: expected e.g. `g5.xlarge` or `ml.g5.xlarge`", t.value)));
        }
        out.instance_type = Some(t.value.clone());
    }
    if let Some(a) = &r.accelerators {
        let field = f("accelerators");
        if a.value.0.is_empty() {
            return Err(cx.err(a, &field, "is empty: expected e.g. `A10G:1`, or remove it"));
        }
        let mut list = Vec::new();
        for (name, count) in &a.value.0 {
            if name.is_empty() {
                return Err(cx.err(a, &field, "empty accelerator name: expected e.g. `A10G:1`"));
            }
            let n = count.0;
            if n.fract() != 0.0 {
                return Err(cx.err(a, &field, format!("{name}:{n}: AWS has no fractional accelerators; ask for a whole number")));
            }
            if !(1.0..=64.0).contains(&n) {
                return Err(cx.err(a, &field, format!("{name}:{n}: the count must be from 1 to 64")));
            }
            list.push(Accelerators { name: name.clone(), count: n as u32 });
        }
        out.accelerators = list;
    }
    for (raw, field, slot, unit) in [(&r.cpus, "cpus", &mut out.cpus, "vCPUs"), (&r.memory, "memory", &mut out.memory, "GiB")] {
        if let Some(a) = raw {
            if a.value.value <= 0.0 || a.value.value > 100_000.0 {
                return Err(cx.err(a, &f(field), format!("{} {unit} is out of range: expected a positive number such as `4` or `4+`", a.value.value)));
            }
            *slot = Some(Amount::new(a.value.value, a.value.or_more));
        }
    }
    if let Some(s) = &r.use_spot {
        out.use_spot = s.value;
    }
    if let Some(d) = &r.disk_size {
        let gib = d.value.value;
        if d.value.or_more || gib.fract() != 0.0 || !(1.0..=16_384.0).contains(&gib) {
            return Err(cx.err(d, &f("disk_size"), format!("{gib} GiB: expected a whole number from 1 to 16384, as in `100`")));
        }
        out.disk_size = Some(gib as u32);
    }
    if let Some(m) = &r.max_runtime {
        if m.value.0 == 0 {
            return Err(cx.err(m, &f("max_runtime"), "must be longer than zero"));
        }
        out.max_runtime = Some(m.value.0);
    }
    if let Some(i) = &r.image_id {
        let empty = "is empty: give an AMI id (`ami-...`) or `docker:IMAGE`, or remove it";
        match &i.value {
            RawImage::One(image) if image.trim().is_empty() => return Err(cx.err(i, &f("image_id"), empty)),
            RawImage::One(image) => {
                if let Some(tag) = image.strip_prefix("skypilot:") {
                    return Err(cx.err(
                        i,
                        &f("image_id"),
                        format!("`skypilot:{tag}` names one of SkyPilot's own images: give an AMI id (`ami-...`), or remove it for hoist's default (Amazon Linux, or the Deep Learning AMI on GPU types)"),
                    ));
                }
                out.image_id = Some(image.clone());
                out.image_by_region.clear();
            }
            RawImage::PerRegion(map) if map.is_empty() || map.values().any(|v| v.trim().is_empty()) => {
                return Err(cx.err(i, &f("image_id"), empty));
            }
            RawImage::PerRegion(map) => {
                out.image_by_region = map.clone();
                out.image_id = None;
            }
        }
    }
    Ok(out)
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

/// Task names as SkyPilot accepts them: letters, digits, and `-`, `_`,
/// `.` between them. Job ids and AWS names use [`job_slug`] of it.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!("expected 1 to {MAX_NAME_LEN} characters"));
    }
    let b = name.as_bytes();
    if !name.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        || !b[0].is_ascii_alphanumeric()
        || !b[b.len() - 1].is_ascii_alphanumeric()
    {
        return Err("expected letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit".into());
    }
    Ok(())
}

/// The job-id form of a task name: lowercase letters, digits and single
/// dashes, at most [`MAX_SLUG_LEN`] characters, starting with a letter
/// (AWS names such as SageMaker's need that). Deterministic: a name that
/// had to be shortened ends with a hash of the whole, so two long names
/// that share a beginning stay apart.
pub fn job_slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_end_matches('-').to_string();
    if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        slug.insert_str(0, "job-");
    }
    if slug.len() > MAX_SLUG_LEN {
        let mut h = crate::jobs::store::Fnv1a::default();
        h.update(name.as_bytes());
        let hash = &h.hex()[..6];
        let keep = slug[..MAX_SLUG_LEN - 7].trim_end_matches('-').to_string();
        slug = format!("{keep}-{hash}");
    }
    slug.trim_end_matches('-').to_string()
}

/// A name for a task file without `name:`: its file stem, made valid.
fn name_from_file(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let name: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' }).collect();
    let name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric()).chars().take(MAX_NAME_LEN).collect::<String>();
    let name = name.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).to_string();
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
