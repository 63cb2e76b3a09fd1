//! The task file as written, with source positions, and the translation of
//! YAML/serde errors into [`TaskError`]s.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

use super::error::TaskError;
use crate::suggest::did_you_mean;

// `rename` sets the name serde uses in messages ("expected struct task").
#[derive(Debug, Deserialize)]
#[serde(rename = "task", deny_unknown_fields)]
pub struct RawTask {
    pub name: Option<Spanned<String>>,
    pub workdir: Option<Spanned<RawWorkdir>>,
    pub num_nodes: Option<Spanned<i64>>,
    pub envs: Option<Spanned<BTreeMap<String, Spanned<Option<String>>>>>,
    pub secrets: Option<Spanned<RawSecrets>>,
    pub setup: Option<Spanned<String>>,
    pub run: Option<Spanned<String>>,
    pub checkpoints: Option<Spanned<String>>,
    pub artifacts: Option<Spanned<Vec<Spanned<String>>>>,
    pub resources: Option<Spanned<RawResources>>,
    pub backend: Option<Spanned<String>>,
    // SkyPilot fields hoist knows but does not support: accepted by the
    // parser only so that validation can say exactly that, rather than
    // "unknown field".
    pub file_mounts: Option<Spanned<IgnoredAny>>,
    pub service: Option<Spanned<IgnoredAny>>,
    pub config: Option<Spanned<IgnoredAny>>,
    pub volumes: Option<Spanned<IgnoredAny>>,
    pub event_callback: Option<Spanned<IgnoredAny>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "resources", deny_unknown_fields)]
pub struct RawResources {
    pub instance_type: Option<Spanned<String>>,
    pub accelerators: Option<Spanned<RawAccelerators>>,
    pub cpus: Option<Spanned<RawAmount>>,
    pub memory: Option<Spanned<RawAmount>>,
    pub use_spot: Option<Spanned<bool>>,
    pub disk_size: Option<Spanned<RawAmount>>,
    pub image_id: Option<Spanned<RawImage>>,
    pub max_runtime: Option<Spanned<RawDuration>>,
    pub cloud: Option<Spanned<String>>,
    pub infra: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub zone: Option<Spanned<String>>,
    pub any_of: Option<Spanned<Vec<Spanned<RawResources>>>>,
    pub ordered: Option<Spanned<Vec<Spanned<RawResources>>>>,
    // Accepted, and reported as not applying to hoist (validation says
    // what hoist does instead).
    pub ports: Option<Spanned<IgnoredAny>>,
    pub disk_tier: Option<Spanned<IgnoredAny>>,
    pub network_tier: Option<Spanned<IgnoredAny>>,
    pub labels: Option<Spanned<IgnoredAny>>,
    pub job_recovery: Option<Spanned<IgnoredAny>>,
    pub autostop: Option<Spanned<IgnoredAny>>,
    pub accelerator_args: Option<Spanned<IgnoredAny>>,
}

/// `workdir:` as a local path, or SkyPilot's git form (`url`, `ref`),
/// which hoist refuses with advice rather than a type error.
#[derive(Debug)]
pub enum RawWorkdir {
    Path(String),
    Git,
}

impl<'de> Deserialize<'de> for RawWorkdir {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawWorkdir;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a directory path")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(RawWorkdir::Path(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(RawWorkdir::Git)
            }
        }
        d.deserialize_any(V)
    }
}

/// `image_id:` as one image, or a mapping of region to image.
#[derive(Debug)]
pub enum RawImage {
    One(String),
    PerRegion(BTreeMap<String, String>),
}

impl<'de> Deserialize<'de> for RawImage {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawImage;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an image (`ami-...` or `docker:IMAGE`), or a mapping of region to image")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(RawImage::One(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((region, image)) = map.next_entry::<String, String>()? {
                    out.insert(region, image);
                }
                Ok(RawImage::PerRegion(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `secrets:` as a list of names, or SkyPilot's mapping form whose values
/// are null or `""` (supplied at run time).
#[derive(Debug)]
pub enum RawSecrets {
    Names(Vec<Spanned<String>>),
    Map(Vec<(Spanned<String>, Option<String>)>),
}

impl<'de> Deserialize<'de> for RawSecrets {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSecrets;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of secret names, or a mapping of names to null")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<Spanned<String>>()? {
                    names.push(name);
                }
                Ok(RawSecrets::Names(names))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(name) = map.next_key::<Spanned<String>>()? {
                    entries.push((name, map.next_value::<Option<String>>()?));
                }
                Ok(RawSecrets::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// `cpus:` / `memory:` as SkyPilot writes them: `4`, `4+`, `"16+"`, `0.5`.
#[derive(Debug, Clone, Copy)]
pub struct RawAmount {
    pub value: f64,
    pub or_more: bool,
}

impl<'de> Deserialize<'de> for RawAmount {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawAmount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or a number followed by `+` for \"at least\" (e.g. `4+`)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(RawAmount { value: v as f64, or_more: false })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(RawAmount { value: v as f64, or_more: false })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(RawAmount { value: v, or_more: false })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                let t = s.trim();
                let (num, or_more) = match t.strip_suffix('+') {
                    Some(n) => (n.trim(), true),
                    None => (t, false),
                };
                // SkyPilot allows a unit on sizes (`32GB`, `1TB`): read as
                // GiB, as SkyPilot does.
                let digits = num.trim_end_matches(|c: char| c.is_ascii_alphabetic()).trim();
                if digits.is_empty() {
                    return Err(E::custom(format!("{s:?} is not an amount: expected a number such as `4` or `4+` (at least 4)")));
                }
                let unit = num[digits.len()..].trim().to_ascii_lowercase();
                let scale = match unit.as_str() {
                    "" | "g" | "gb" | "gib" => 1.0,
                    "t" | "tb" | "tib" => 1024.0,
                    "m" | "mb" | "mib" => 1.0 / 1024.0,
                    "x" => {
                        return Err(E::custom(format!(
                            "{s:?}: memory per vCPU (`4x`) is not supported: give GiB, as in `16` or `16+`"
                        )));
                    }
                    other => return Err(E::custom(format!("{s:?}: unknown unit {other:?}: expected a number of GiB, or GB/TB/MB"))),
                };
                match digits.parse::<f64>() {
                    Ok(value) if value.is_finite() => Ok(RawAmount { value: value * scale, or_more }),
                    _ => Err(E::custom(format!("{s:?} is not an amount: expected a number such as `4` or `4+` (at least 4)"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `A10G`, `A10G:4`, `{A10G: 4}`, a list `[A100:8, H100:8]` or a mapping
/// of several `{H100: 8, A100-80GB: 8}`: the last two are alternatives,
/// any one of which will do.
#[derive(Debug)]
pub struct RawAccelerators(pub Vec<(String, RawCount)>);

/// An accelerator count as written (validated later, with its position).
#[derive(Debug, Clone, Copy)]
pub struct RawCount(pub f64);

fn accelerator_from_str<E: de::Error>(s: &str) -> Result<(String, RawCount), E> {
    match s.split_once(':') {
        Some((name, count)) => {
            let n = count.trim().parse::<f64>().map_err(|_| {
                E::custom(format!("invalid accelerator count {count:?} in {s:?}: expected a whole number, as in `A10G:4`"))
            })?;
            Ok((name.trim().to_string(), RawCount(n)))
        }
        None => Ok((s.trim().to_string(), RawCount(1.0))),
    }
}

impl<'de> Deserialize<'de> for RawCount {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawCount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number of accelerators")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(RawCount(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(RawCount(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(RawCount(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RawCount(1.0))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RawCount(1.0))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                s.trim().parse::<f64>().map(RawCount).map_err(|_| E::custom(format!("invalid accelerator count {s:?}: expected a whole number")))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawAccelerators {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawAccelerators;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an accelerator like `A10G`, `A10G:4` or `{A10G: 4}`, or a list of alternatives")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(RawAccelerators(vec![accelerator_from_str(s)?]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(accelerator_from_str::<A::Error>(&s)?);
                }
                Ok(RawAccelerators(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((name, count)) = map.next_entry::<String, Option<RawCount>>()? {
                    // `{L4:1, A10G:1}` (no space after the colon) is how
                    // SkyPilot's docs write a set: YAML reads the keys
                    // `L4:1` with no value.
                    match (name.contains(':'), count) {
                        (true, None) => out.push(accelerator_from_str::<A::Error>(&name)?),
                        (_, count) => out.push((name, count.unwrap_or(RawCount(1.0)))),
                    }
                }
                Ok(RawAccelerators(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `max_runtime: 3600` (seconds) or `max_runtime: 2h30m`.
#[derive(Debug)]
pub struct RawDuration(pub u64);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as `90m`, `2h30m` or a number of seconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(RawDuration(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v).map(RawDuration).map_err(|_| E::custom("a duration cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                humantime::parse_duration(s)
                    .map(|d| RawDuration(d.as_secs()))
                    .map_err(|e| E::custom(format!("invalid duration {s:?} ({e}): expected e.g. `90m`, `2h30m` or seconds")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parse the YAML into the raw model. Errors carry file:line:column and
/// the dotted field path.
pub fn parse(path: &Path, text: &str) -> Result<RawTask, TaskError> {
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Err(TaskError::at(path, 1, 1, None, "the file is empty: a task needs at least a `run` command"));
    }
    // A job group (several documents) is named as such before its first
    // document's own fields (`execution:`) are reported as unknown.
    let mut seen_content = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") {
            if seen_content {
                return Err(TaskError::at(
                    path,
                    i + 1,
                    1,
                    None,
                    "this file holds more than one YAML document (a SkyPilot job group or pipeline?): hoist runs one task per file; put each task in its own file",
                ));
            }
        } else if !t.trim_start().is_empty() && !t.trim_start().starts_with('#') {
            seen_content = true;
        }
    }
    serde_saphyr::from_str::<RawTask>(text).map_err(|e| translate(path, text, &e))
}

fn translate(path: &Path, text: &str, err: &serde_saphyr::Error) -> TaskError {
    let (line, column) = err.location().map(|l| (l.line() as usize, l.column() as usize)).unwrap_or((1, 1));
    let mut field = field_path_at(text, line);
    if let Some(key) = text.lines().nth(line.saturating_sub(1)).and_then(|l| flow_key_at(l, column)) {
        field = if field.is_empty() || field.ends_with(&format!(".{key}")) { key } else { format!("{field}.{key}") };
    }
    let field = (!field.is_empty()).then_some(field);
    let message = match err.without_snippet() {
        serde_saphyr::Error::MultipleDocuments { .. } => {
            // Point at the separator that starts the second document.
            let line = text.lines().skip(1).position(|l| l.trim_end() == "---").map(|i| i + 2).unwrap_or(line);
            return TaskError::at(
                path,
                line,
                1,
                None,
                "this file holds more than one YAML document (a SkyPilot job group?): hoist runs one task per file; put each task in its own file",
            );
        }
        // The YAML itself is malformed: the parser's words, with no guess
        // at what the field should be (the field is not the problem).
        e @ (serde_saphyr::Error::ExternalMessage { .. }
        | serde_saphyr::Error::Eof { .. }
        | serde_saphyr::Error::IndentationError { .. }
        | serde_saphyr::Error::ContainerEndMismatch { .. }
        | serde_saphyr::Error::UnexpectedSequenceEnd { .. }
        | serde_saphyr::Error::UnexpectedMappingEnd { .. }) => {
            let said = UserMessageFormatter.format_message(e).into_owned();
            let hint = if said.contains("tab") {
                " (indent with spaces, not tabs)"
            } else if said.contains("mapping values") || said.contains("indentation") {
                " (check the indentation of this line and the one above)"
            } else {
                ""
            };
            return TaskError::at(path, line, column, field, format!("this is not valid YAML: {said}{hint}"));
        }
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => match key {
            Some(k) => format!("`{k}` is given twice: keep one"),
            None => "a key is given twice: keep one".to_string(),
        },
        serde_saphyr::Error::Budget { .. } => {
            "the file is too large or too deeply nested to be a task file (hoist reads at most 250,000 YAML values)".to_string()
        }
        serde_saphyr::Error::SerdeUnknownField { field: key, expected, .. } => {
            let hint = match did_you_mean(key, expected.iter().copied()) {
                Some(s) => format!(" (did you mean `{s}`?)"),
                None => String::new(),
            };
            // The fields hoist knows only to refuse are not offered.
            const REFUSED: &[&str] = &["file_mounts", "service", "config", "volumes", "event_callback", "ports"];
            let hint = if key == "gpus" { " (did you mean `accelerators`?)".to_string() } else { hint };
            let offered: Vec<&str> = expected.iter().copied().filter(|f| !REFUSED.contains(f)).collect();
            format!("unknown field `{key}`{hint}; expected one of: {}", offered.join(", "))
        }
        inner => {
            let said = plain_words(&UserMessageFormatter.format_message(inner));
            match field.as_deref().and_then(expected_form) {
                Some(form) => format!("{said}; it should be {form}"),
                None => said,
            }
        }
    };
    TaskError::at(path, line, column, field, message)
}

/// The YAML layer's words for types, in the user's.
pub(crate) fn plain_words(said: &str) -> String {
    let mut out = said.to_string();
    for (from, to) in [
        ("invalid i64", "not a whole number"),
        ("invalid u64", "not a whole number"),
        ("invalid u32", "not a whole number"),
        ("invalid f64", "not a number"),
        ("expected string scalar", "expected a single value, not a list or mapping"),
        ("expected mapping start", "expected `key: value` entries"),
        ("expected sequence start", "expected a list"),
        ("expected struct task", "expected a task (`key: value` entries)"),
        ("expected struct resources", "expected `key: value` entries"),
        (" (expected number at 0)", ""),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// What a field's value looks like, for messages about a value of the
/// wrong type (the YAML layer says only "invalid u32" or "expected mapping").
fn expected_form(field: &str) -> Option<&'static str> {
    // `envs.NAME` and `secrets.NAME` are entries of their mappings.
    let field = match field.split_once('.') {
        Some(("envs" | "secrets", _)) => return Some("a string value, as in `EPOCHS: \"3\"`"),
        _ => field,
    };
    Some(match field {
        "name" => "a name such as `train-gpt`",
        "workdir" | "checkpoints" => "a path, as in `ckpt`",
        "envs" => "a mapping of names to values, as in `envs: {EPOCHS: 3}`",
        "secrets" => "a list of names, as in `secrets: [HF_TOKEN]`",
        "setup" | "run" => "a shell command (use `|` for several lines)",
        "artifacts" => "a list of paths, as in `artifacts: [model.pt]`",
        "resources" => "a mapping, as in `resources: {instance_type: g5.xlarge}`",
        "resources.disk_size" => "a whole number of GiB, as in `disk_size: 100` or `100GB`",
        "resources.image_id" => "an AMI id (`ami-...`), `docker:IMAGE`, or a mapping of region to AMI id",
        "resources.use_spot" => "true or false",
        "resources.instance_type" => "an instance type, as in `g5.xlarge`",
        "resources.accelerators" => "an accelerator, as in `A10G:1`, or alternatives, as in `{H100: 8, A100-80GB: 8}`",
        "resources.cpus" => "a number of vCPUs, as in `4` or `4+` (at least 4)",
        "resources.memory" => "GiB of memory, as in `32` or `32+` (at least 32)",
        "resources.region" | "resources.zone" | "resources.infra" | "resources.cloud" => "a string, as in `us-east-1`",
        "resources.any_of" | "resources.ordered" => "a list of resource mappings, as in `- {accelerators: A10G:1}`",
        "resources.max_runtime" => "a duration, as in `2h` or `90m`",
        "num_nodes" => "a whole number of machines, as in `num_nodes: 2`",
        "backend" => "one of local, ec2, sagemaker",
        _ => return None,
    })
}

/// Position of a spanned value, as (line, column).
pub fn pos(loc: &Location) -> (usize, usize) {
    (loc.line() as usize, loc.column() as usize)
}

/// The dotted path of the mapping key in force on `line` (1-based) of a
/// block-style YAML document, e.g. `resources.disk_size`. Used to name the
/// field in errors the YAML layer reports only by position. Block scalars
/// (`run: |`) are skipped so their contents are not mistaken for keys.
pub fn field_path_at(text: &str, line: usize) -> String {
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut block_scalar_indent: Option<usize> = None;
    for raw_line in text.lines().take(line) {
        let trimmed = raw_line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut indent = raw_line.len() - trimmed.len();
        if let Some(block) = block_scalar_indent {
            if indent > block {
                continue;
            }
            block_scalar_indent = None;
        }
        let mut content = trimmed;
        while let Some(rest) = content.strip_prefix("- ") {
            indent += 2;
            content = rest.trim_start();
        }
        let Some((key, value)) = split_key(content) else { continue };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key.to_string()));
        let value = value.trim();
        if value.starts_with('|') || value.starts_with('>') {
            block_scalar_indent = Some(indent);
        }
    }
    stack.into_iter().map(|(_, k)| k).collect::<Vec<_>>().join(".")
}

/// In a flow mapping (`resources: {cpus: lots}`), the key whose value is
/// at `column` (1-based): the last `key:` before it inside the braces.
fn flow_key_at(line: &str, column: usize) -> Option<String> {
    let upto: String = line.chars().take(column.saturating_sub(1)).collect();
    let open = upto.rfind('{')?;
    let inner = &upto[open + 1..];
    let entry = inner.rsplit(',').next()?;
    let key = entry.split(':').next()?.trim().trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then(|| key.to_string())
}

/// `key: value` → (key, value); `None` for lines that are not a plain
/// mapping entry.
fn split_key(content: &str) -> Option<(&str, &str)> {
    let idx = content.find(':')?;
    let (key, rest) = content.split_at(idx);
    let rest = &rest[1..];
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    if key.is_empty() || key.contains(' ') && !key.is_ascii() {
        return None;
    }
    Some((key, rest))
}

#[cfg(test)]
mod tests {
    use super::field_path_at;

    #[test]
    fn field_paths_follow_indentation_and_skip_block_scalars() {
        let text = "name: a\nrun: |\n  echo a: b\n  x: y\nresources:\n  disk_size: big\n  use_spot: 3\nenvs:\n  A: 1\n";
        assert_eq!(field_path_at(text, 1), "name");
        assert_eq!(field_path_at(text, 4), "run");
        assert_eq!(field_path_at(text, 6), "resources.disk_size");
        assert_eq!(field_path_at(text, 7), "resources.use_spot");
        assert_eq!(field_path_at(text, 9), "envs.A");
    }
}
