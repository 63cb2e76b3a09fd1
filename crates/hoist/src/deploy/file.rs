//! The deploy file: which endpoints should exist and what each serves.
//! Parsing and validation touch nothing but the file (and check that a
//! local model file exists); every error names file:line:column, the
//! field, and what was expected.
//!
//! ```yaml
//! endpoints:
//!   - name: sentiment
//!     model:
//!       image: <container image URI>
//!       data: s3://bucket/model.tar.gz   # or ./model.tar.gz, or job:<job id>
//!       env: {KEY: value}
//!     instance_type: ml.g5.xlarge
//!     instance_count: 1                  # or serverless: {memory_mb: 4096, max_concurrency: 5}
//!   - name: churn
//!     model:
//!       mlflow: {model: churn, alias: champion}   # or version: 7, or stage: Production
//!     instance_type: ml.m5.large
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hoist_aws::endpoints::Capacity;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};

use crate::suggest::did_you_mean;
use crate::task::TaskError as FileError;
use crate::task::raw::{field_path_at, pos};

#[derive(Debug, Deserialize)]
#[serde(rename = "deploy file", deny_unknown_fields)]
struct RawFile {
    endpoints: Option<Spanned<Vec<Spanned<RawEndpoint>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "endpoint", deny_unknown_fields)]
struct RawEndpoint {
    name: Option<Spanned<String>>,
    model: Option<Spanned<RawModel>>,
    instance_type: Option<Spanned<String>>,
    instance_count: Option<Spanned<i64>>,
    serverless: Option<Spanned<RawServerless>>,
    // Known, not yet supported: refused with that said, not as unknown.
    variants: Option<Spanned<IgnoredAny>>,
    autoscaling: Option<Spanned<IgnoredAny>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "model", deny_unknown_fields)]
struct RawModel {
    image: Option<Spanned<String>>,
    data: Option<Spanned<String>>,
    env: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    huggingface: Option<Spanned<String>>,
    task: Option<Spanned<String>>,
    mlflow: Option<Spanned<RawMlflow>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "mlflow", deny_unknown_fields)]
struct RawMlflow {
    model: Option<Spanned<String>>,
    alias: Option<Spanned<String>>,
    version: Option<Spanned<u64>>,
    stage: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "serverless", deny_unknown_fields)]
struct RawServerless {
    memory_mb: Option<Spanned<i64>>,
    max_concurrency: Option<Spanned<i64>>,
}

/// One endpoint as the file declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The name the user gives (the endpoint in SageMaker is
    /// `hoist-<workspace>--<name>`).
    pub name: String,
    /// Where it is declared (1-based line), for messages.
    pub line: usize,
    pub model: Model,
    pub capacity: Capacity,
}

/// What an endpoint serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The serving container; `None` when the source implies one.
    pub image: Option<String>,
    pub data: Option<Data>,
    pub env: BTreeMap<String, String>,
    /// A Hugging Face Hub model id and its pipeline task.
    pub huggingface: Option<(String, String)>,
}

/// Where the model's weights come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// Already in S3.
    S3(String),
    /// A file on this machine (absolute), uploaded to the bucket.
    Local(PathBuf),
    /// The model a hoist job on SageMaker produced.
    Job(String),
    /// A version of a model in the MLflow Model Registry.
    Mlflow(crate::mlflow::ModelRef),
}

/// SageMaker's serverless memory sizes (MiB) and concurrency limit.
pub const SERVERLESS_MEMORY: &[u32] = &[1024, 2048, 3072, 4096, 5120, 6144];
pub const MAX_CONCURRENCY: u32 = 200;
pub const DEFAULT_CONCURRENCY: u32 = 5;

/// The Hugging Face pipeline tasks the inference toolkit serves.
pub const HF_TASKS: &[&str] = &[
    "text-generation",
    "text-classification",
    "token-classification",
    "question-answering",
    "summarization",
    "translation",
    "fill-mask",
    "feature-extraction",
    "sentence-similarity",
    "zero-shot-classification",
    "image-classification",
    "automatic-speech-recognition",
    "text2text-generation",
];

/// Read and validate a deploy file. `max_name` is the longest endpoint
/// name the workspace allows (SageMaker's 63 less hoist's prefix and the
/// 9 characters a content hash takes in derived names).
pub fn load(path: &Path, max_name: usize) -> Result<Vec<Endpoint>, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        message: format!("cannot read the deploy file: {e}"),
        ..FileError::io(path, e)
    })?;
    parse(path, &text, max_name)
}

pub fn parse(path: &Path, text: &str, max_name: usize) -> Result<Vec<Endpoint>, FileError> {
    let at = |line: usize, column: usize, field: &str, message: String| FileError::at(path, line, column, Some(field.to_string()), message);
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Err(FileError::at(path, 1, 1, None, "the file is empty: a deploy file lists `endpoints:`"));
    }
    let raw: RawFile = serde_saphyr::from_str(text).map_err(|e| translate(path, text, &e))?;
    let Some(list) = raw.endpoints else {
        return Err(FileError::at(path, 1, 1, None, "no `endpoints:` list: a deploy file lists the endpoints that should exist (`endpoints: []` for none)"));
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for item in list.value {
        let (line, column) = pos(&item.referenced);
        let e = item.value;
        let Some(name) = e.name else {
            return Err(at(line, column, "endpoints.name", "every endpoint needs a `name`, as in `name: sentiment`".into()));
        };
        let (nl, nc) = pos(&name.referenced);
        check_name(&name.value, max_name).map_err(|m| at(nl, nc, "endpoints.name", m))?;
        // SageMaker's names are unique regardless of case.
        if !seen.insert(name.value.to_ascii_lowercase()) {
            return Err(at(nl, nc, "endpoints.name", format!(
                "endpoint {:?} is declared twice (SageMaker's names ignore case): names are unique",
                name.value
            )));
        }
        for (field, given) in [("variants", &e.variants), ("autoscaling", &e.autoscaling)] {
            if let Some(g) = given {
                let (l, c) = pos(&g.referenced);
                return Err(at(l, c, &format!("endpoints.{field}"), format!("`{field}` is not supported yet: an endpoint serves one model on one variant")));
            }
        }
        let Some(model) = e.model else {
            return Err(at(nl, nc, "endpoints.model", format!("endpoint {:?} has no `model`: give `model: {{image: ..., data: ...}}`, `model: {{huggingface: <model id>, task: ...}}` or `model: {{mlflow: {{model: <registered model>, alias: <alias>}}}}`", name.value)));
        };
        let model = validate_model(path, base, model).map_err(|(l, c, f, m)| at(l, c, &format!("endpoints.model.{f}"), m))?;
        let capacity = match (e.serverless, e.instance_type) {
            (Some(s), Some(t)) => {
                let (l, c) = pos(&t.referenced);
                let _ = s;
                return Err(at(l, c, "endpoints.instance_type", "give `instance_type` or `serverless`, not both".into()));
            }
            (Some(s), None) => {
                if let Some(count) = &e.instance_count {
                    let (l, c) = pos(&count.referenced);
                    return Err(at(l, c, "endpoints.instance_count", "a serverless endpoint has no instances: remove `instance_count`".into()));
                }
                serverless(s).map_err(|(l, c, f, m)| at(l, c, &format!("endpoints.serverless.{f}"), m))?
            }
            (None, Some(t)) => {
                let (l, c) = pos(&t.referenced);
                let instance_type = check_instance_type(&t.value).map_err(|m| at(l, c, "endpoints.instance_type", m))?;
                let count = match e.instance_count {
                    None => 1,
                    Some(n) if (1..=100).contains(&n.value) => n.value as u32,
                    Some(n) => {
                        let (l, c) = pos(&n.referenced);
                        return Err(at(l, c, "endpoints.instance_count", format!("{} is not a number of instances from 1 to 100", n.value)));
                    }
                };
                Capacity::Instances { instance_type, count }
            }
            (None, None) => {
                return Err(at(nl, nc, "endpoints.instance_type", format!(
                    "endpoint {:?} says nothing of where it runs: give `instance_type: ml.m5.large` (and `instance_count`), or `serverless: {{memory_mb: 4096}}`",
                    name.value
                )));
            }
        };
        out.push(Endpoint { name: name.value, line: nl, model, capacity });
    }
    Ok(out)
}

type FieldError = (usize, usize, &'static str, String);

fn validate_model(path: &Path, base: &Path, m: Spanned<RawModel>) -> Result<Model, FieldError> {
    let (ml, mc) = pos(&m.referenced);
    let m = m.value;
    let env: BTreeMap<String, String> = match m.env {
        None => BTreeMap::new(),
        Some(env) => {
            for (k, v) in &env.value {
                if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') || k.as_bytes()[0].is_ascii_digit() {
                    let (l, c) = pos(&v.referenced);
                    return Err((l, c, "env", format!("{k:?} is not an environment variable name (letters, digits, `_`; not starting with a digit)")));
                }
            }
            env.value.into_iter().map(|(k, v)| (k, v.value)).collect()
        }
    };
    let image = match m.image {
        Some(i) if i.value.trim().is_empty() || i.value.contains(char::is_whitespace) => {
            let (l, c) = pos(&i.referenced);
            return Err((l, c, "image", "expected a container image URI, as in `123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1`".into()));
        }
        other => other.map(|i| i.value),
    };
    if let Some(ml) = m.mlflow {
        let (l, c) = pos(&ml.referenced);
        let given = [
            ("data", m.data.as_ref().map(|d| &d.referenced)),
            ("huggingface", m.huggingface.as_ref().map(|h| &h.referenced)),
            ("task", m.task.as_ref().map(|t| &t.referenced)),
        ];
        for (field, given) in given {
            if let Some(at) = given {
                let (l, c) = pos(at);
                return Err((l, c, field, format!("the model comes from the MLflow registry: remove `{field}`")));
            }
        }
        let r = mlflow_ref(ml.value).map_err(|(fl, fc, f, msg)| if fl == 0 { (l, c, f, msg) } else { (fl, fc, f, msg) })?;
        return Ok(Model { image, data: Some(Data::Mlflow(r)), env, huggingface: None });
    }
    if let Some(hf) = m.huggingface {
        let (l, c) = pos(&hf.referenced);
        if let Some(d) = &m.data {
            let (l, c) = pos(&d.referenced);
            return Err((l, c, "data", "a Hugging Face model is fetched from the Hub by its container: remove `data`".into()));
        }
        if hf.value.trim().is_empty() || hf.value.contains(char::is_whitespace) {
            return Err((l, c, "huggingface", "expected a Hub model id, as in `distilbert-base-uncased-finetuned-sst-2-english`".into()));
        }
        let Some(task) = m.task else {
            return Err((l, c, "task", format!("a Hugging Face model needs its pipeline `task`, one of: {}", HF_TASKS.join(", "))));
        };
        if !HF_TASKS.contains(&task.value.as_str()) {
            let (l, c) = pos(&task.referenced);
            let hint = did_you_mean(&task.value, HF_TASKS.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
            return Err((l, c, "task", format!("unknown task {:?}{hint}; expected one of: {}", task.value, HF_TASKS.join(", "))));
        }
        return Ok(Model { image, data: None, env, huggingface: Some((hf.value, task.value)) });
    }
    if let Some(t) = m.task {
        let (l, c) = pos(&t.referenced);
        return Err((l, c, "task", "`task` goes with `huggingface: <model id>`".into()));
    }
    let data = match m.data {
        None => None,
        Some(d) => {
            let (l, c) = pos(&d.referenced);
            Some(parse_data(path, base, &d.value).map_err(|msg| (l, c, "data", msg))?)
        }
    };
    if image.is_none() && !matches!(data, Some(Data::Job(_))) {
        return Err((ml, mc, "image", "the model needs its serving container: give `image: <image URI>` (only `data: job:<id>`, `huggingface:` and `mlflow:` imply one)".into()));
    }
    Ok(Model { image, data, env, huggingface: None })
}

/// The stages MLflow promotes versions to (its fourth, `None`, is none).
const MLFLOW_STAGES: &[&str] = &["Staging", "Production", "Archived"];

/// `{model: churn, alias: champion}` (or `version: 7`, or `stage: Production`).
/// Errors without a position of their own carry line 0 (the block's).
fn mlflow_ref(m: RawMlflow) -> Result<crate::mlflow::ModelRef, FieldError> {
    use crate::mlflow::{ModelRef, Selector};
    let Some(model) = m.model.filter(|n| !n.value.trim().is_empty()) else {
        return Err((0, 0, "mlflow.model", "give the registered model's name, as in `mlflow: {model: churn, alias: champion}`".into()));
    };
    let mut chosen = Vec::new();
    if let Some(a) = m.alias {
        chosen.push((pos(&a.referenced), Selector::Alias(a.value)));
    }
    if let Some(v) = m.version {
        chosen.push((pos(&v.referenced), Selector::Version(v.value.to_string())));
    }
    if let Some(s) = m.stage {
        chosen.push((pos(&s.referenced), Selector::Stage(s.value)));
    }
    match chosen.len() {
        0 => Err((0, 0, "mlflow", format!("which version of {:?}? give one of `alias: champion`, `version: 3`, `stage: Production`", model.value))),
        1 => {
            let ((l, c), selector) = chosen.remove(0);
            match &selector {
                Selector::Alias(v) if v.trim().is_empty() => return Err((l, c, "mlflow.alias", "expected an alias's name, as in `alias: champion`".into())),
                Selector::Version(v) if v == "0" => return Err((l, c, "mlflow.version", "MLflow numbers versions from 1".into())),
                // MLflow's stages (ignoring case, as MLflow does); `None`
                // is "no stage", which names no version in particular.
                Selector::Stage(v) if !MLFLOW_STAGES.iter().any(|s| s.eq_ignore_ascii_case(v.trim())) => {
                    return Err((l, c, "mlflow.stage", format!("{v:?} is not a stage a version can be promoted to: one of {}", MLFLOW_STAGES.join(", "))));
                }
                _ => {}
            }
            Ok(ModelRef { model: model.value, selector })
        }
        _ => {
            let ((l, c), _) = chosen[1];
            Err((l, c, "mlflow", "give one of `alias`, `version` or `stage`, not several".into()))
        }
    }
}

fn parse_data(path: &Path, base: &Path, value: &str) -> Result<Data, String> {
    if let Some(job) = value.strip_prefix("job:") {
        let job = job.trim();
        if job.is_empty() {
            return Err("expected `job:<job id>`, as `hoist jobs` lists them".into());
        }
        return Ok(Data::Job(job.to_string()));
    }
    if let Some(rest) = value.strip_prefix("s3://") {
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => return Ok(Data::S3(value.to_string())),
            _ => return Err(format!("{value:?} is not an S3 object URI: expected `s3://bucket/path/model.tar.gz`")),
        }
    }
    if value.contains("://") {
        return Err(format!("{value:?}: expected `s3://…`, a local file, or `job:<job id>`"));
    }
    let local = base.join(value);
    match std::fs::metadata(&local) {
        Ok(m) if m.is_file() => Ok(Data::Local(std::fs::canonicalize(&local).unwrap_or(local))),
        Ok(_) => Err(format!("{value:?} is a directory: SageMaker loads a `model.tar.gz`; pack it with `tar czf model.tar.gz -C {value} .`")),
        Err(e) => Err(format!("cannot read {} (relative to {}): {e}", local.display(), path.display())),
    }
}

fn serverless(s: Spanned<RawServerless>) -> Result<Capacity, FieldError> {
    let (l, c) = pos(&s.referenced);
    let s = s.value;
    let Some(memory) = s.memory_mb else {
        return Err((l, c, "memory_mb", format!("a serverless endpoint needs `memory_mb`, one of {SERVERLESS_MEMORY:?}")));
    };
    if !SERVERLESS_MEMORY.iter().any(|m| i64::from(*m) == memory.value) {
        let (l, c) = pos(&memory.referenced);
        return Err((l, c, "memory_mb", format!("{} is not a serverless memory size: expected one of {SERVERLESS_MEMORY:?} (MiB)", memory.value)));
    }
    let concurrency = match s.max_concurrency {
        None => DEFAULT_CONCURRENCY,
        Some(n) if (1..=i64::from(MAX_CONCURRENCY)).contains(&n.value) => n.value as u32,
        Some(n) => {
            let (l, c) = pos(&n.referenced);
            return Err((l, c, "max_concurrency", format!("{} is not from 1 to {MAX_CONCURRENCY}", n.value)));
        }
    };
    Ok(Capacity::Serverless { memory_mb: memory.value as u32, max_concurrency: concurrency })
}

/// An endpoint name: SageMaker's pattern, and short enough that hoist's
/// prefix and a content hash still fit SageMaker's 63 characters.
pub fn check_name(name: &str, max: usize) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if !valid {
        let suggestion = sanitize(name);
        let hint = if suggestion.is_empty() { String::new() } else { format!(" (such as {suggestion:?})") };
        return Err(format!(
            "{name:?} is not an endpoint name: use letters, digits and single hyphens, starting and ending with a letter or digit{hint}"
        ));
    }
    if name.len() > max {
        return Err(format!(
            "{name:?} is {} characters; in this workspace an endpoint name has at most {max} (SageMaker allows 63, and hoist's names add the workspace and a content hash)",
            name.len()
        ));
    }
    Ok(())
}

/// The nearest valid name: lower case (SageMaker ignores case), other
/// characters become hyphens, runs of hyphens one, none at either end.
pub fn sanitize(name: &str) -> String {
    let mapped: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    mapped.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

/// `ml.g5.xlarge` or `g5.xlarge`, among the types SageMaker serves on.
pub fn check_instance_type(given: &str) -> Result<String, String> {
    let t = if given.starts_with("ml.") { given.to_string() } else { format!("ml.{given}") };
    let known = hoist_aws::endpoints::serving_instance_types();
    if known.contains(&t.as_str()) {
        return Ok(t);
    }
    let hint = did_you_mean(&t, known.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
    Err(format!("{given:?} is not an instance type SageMaker serves on{hint}; see `aws sagemaker` ProductionVariantInstanceType, e.g. ml.m5.large, ml.g5.xlarge"))
}

/// The YAML layer's error in the file's terms.
fn translate(path: &Path, text: &str, err: &serde_saphyr::Error) -> FileError {
    let (line, column) = err.location().map(|l| (l.line() as usize, l.column() as usize)).unwrap_or((1, 1));
    let field = field_path_at(text, line);
    let field = (!field.is_empty()).then_some(field);
    let message = match err.without_snippet() {
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => match key {
            Some(k) => format!("`{k}` is given twice: keep one"),
            None => "a key is given twice: keep one".to_string(),
        },
        serde_saphyr::Error::SerdeUnknownField { field: key, expected, .. } => {
            let hint = did_you_mean(key, expected.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
            format!("unknown field `{key}`{hint}; expected one of: {}", expected.join(", "))
        }
        inner => {
            let said = UserMessageFormatter.format_message(inner).into_owned();
            crate::task::raw::plain_words(&said)
                .replace("expected struct deploy file", "expected `endpoints:` with a list of endpoints")
                .replace("expected struct endpoint", "expected an endpoint (`name:`, `model:`, ...)")
                .replace("expected struct model", "expected `image:`, `data:`, `env:` entries")
                .replace("expected struct serverless", "expected `memory_mb:` and `max_concurrency:`")
                .replace("expected struct mlflow", "expected `model:` and one of `alias:`, `version:`, `stage:`")
        }
    };
    FileError::at(path, line, column, field, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Vec<Endpoint> {
        parse(Path::new("deploy.yaml"), text, 39).unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse(Path::new("deploy.yaml"), text, 39).unwrap_err().to_string()
    }

    #[test]
    fn a_full_file_parses() {
        let eps = parse_ok(
            "endpoints:\n  - name: sentiment\n    model:\n      image: img:1\n      data: s3://b/m.tar.gz\n      env: {A: '1', B: x}\n    instance_type: g5.xlarge\n    instance_count: 2\n  - name: small\n    model: {huggingface: distilbert, task: text-classification}\n    serverless: {memory_mb: 2048}\n",
        );
        assert_eq!(eps.len(), 2);
        assert_eq!(eps[0].name, "sentiment");
        assert_eq!(eps[0].line, 2);
        assert_eq!(eps[0].capacity, Capacity::Instances { instance_type: "ml.g5.xlarge".into(), count: 2 });
        assert_eq!(eps[0].model.data, Some(Data::S3("s3://b/m.tar.gz".into())));
        assert_eq!(eps[0].model.env.get("A").map(String::as_str), Some("1"));
        assert_eq!(eps[1].capacity, Capacity::Serverless { memory_mb: 2048, max_concurrency: DEFAULT_CONCURRENCY });
        assert_eq!(eps[1].model.huggingface, Some(("distilbert".into(), "text-classification".into())));
        assert!(parse_ok("endpoints: []\n").is_empty());
    }

    #[test]
    fn an_mlflow_model_names_one_version() {
        use crate::mlflow::{ModelRef, Selector};
        let eps = parse_ok("endpoints:\n  - name: churn\n    model: {mlflow: {model: churn, alias: champion}}\n    instance_type: ml.m5.large\n");
        assert_eq!(eps[0].model.data, Some(Data::Mlflow(ModelRef { model: "churn".into(), selector: Selector::Alias("champion".into()) })));
        assert_eq!(eps[0].model.image, None);
        let eps = parse_ok("endpoints:\n  - name: churn\n    model:\n      mlflow: {model: churn, version: 7}\n      image: img:1\n    instance_type: ml.m5.large\n");
        assert_eq!(eps[0].model.data, Some(Data::Mlflow(ModelRef { model: "churn".into(), selector: Selector::Version("7".into()) })));
        let e = parse_err("endpoints:\n  - name: a\n    model:\n      mlflow: {model: churn, alias: a, stage: Production}\n    instance_type: ml.m5.large\n");
        assert!(e.starts_with("deploy.yaml:4:") && e.contains("`endpoints.model.mlflow`") && e.contains("not several"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model:\n      mlflow: {model: churn}\n    instance_type: ml.m5.large\n");
        assert!(e.starts_with("deploy.yaml:4:") && e.contains("which version"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model:\n      mlflow: {alias: champion}\n    instance_type: ml.m5.large\n");
        assert!(e.contains("`endpoints.model.mlflow.model`"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model:\n      mlflow: {model: churn, alais: champion}\n    instance_type: ml.m5.large\n");
        assert!(e.contains("deploy.yaml:4") && e.contains("did you mean `alias`"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model:\n      mlflow: {model: churn, version: 1}\n      data: s3://b/k\n    instance_type: ml.m5.large\n");
        assert!(e.starts_with("deploy.yaml:5:") && e.contains("remove `data`"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model:\n      mlflow: {model: churn, version: 1}\n      task: summarization\n    instance_type: ml.m5.large\n");
        assert!(e.starts_with("deploy.yaml:5:") && e.contains("remove `task`"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model:\n      mlflow: {model: churn, stage: None}\n    instance_type: ml.m5.large\n");
        assert!(e.contains("`endpoints.model.mlflow.stage`") && e.contains("Staging, Production, Archived"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model:\n      mlflow: {model: churn, version: 0}\n    instance_type: ml.m5.large\n");
        assert!(e.contains("`endpoints.model.mlflow.version`") && e.contains("from 1"), "{e}");
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let e = parse_err("endpoints:\n  - name: a\n    model: {image: i}\n    instance_type: ml.g5.xlarg\n");
        assert!(e.starts_with("deploy.yaml:4:"), "{e}");
        assert!(e.contains("`endpoints.instance_type`") && e.contains("did you mean `ml.g5.xlarge`"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model: {image: i}\n    instance_typ: ml.g5.xlarge\n");
        assert!(e.contains("deploy.yaml:4") && e.contains("unknown field `instance_typ`") && e.contains("did you mean `instance_type`"), "{e}");
        let e = parse_err("endpoints:\n  - name: My_Model\n    model: {image: i}\n    instance_type: ml.m5.large\n");
        assert!(e.contains("deploy.yaml:2") && e.contains("\"my-model\""), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model: {data: s3://b/k}\n    instance_type: ml.m5.large\n");
        assert!(e.contains("`endpoints.model.image`") && e.contains("serving container"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model: {image: i}\n    serverless: {memory_mb: 1000}\n");
        assert!(e.contains("`endpoints.serverless.memory_mb`") && e.contains("1024"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model: {image: i}\n    instance_type: ml.m5.large\n  - name: a\n    model: {image: i}\n    instance_type: ml.m5.large\n");
        assert!(e.contains("deploy.yaml:5") && e.contains("declared twice"), "{e}");
        let e = parse_err("endpoints:\n  - name: Abc\n    model: {image: i}\n    instance_type: ml.m5.large\n  - name: abc\n    model: {image: i}\n    instance_type: ml.m5.large\n");
        assert!(e.contains("deploy.yaml:5") && e.contains("ignore case"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model: {huggingface: gpt2, task: text-generaton}\n    instance_type: ml.g5.xlarge\n");
        assert!(e.contains("did you mean `text-generation`"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model: {image: i, data: ./nope.tar.gz}\n    instance_type: ml.m5.large\n");
        assert!(e.contains("`endpoints.model.data`") && e.contains("nope.tar.gz"), "{e}");
        let e = parse_err("endpoints:\n  - name: a\n    model: {image: i}\n    instance_type: ml.m5.large\n    variants: []\n");
        assert!(e.contains("deploy.yaml:5") && e.contains("not supported yet"), "{e}");
        let e = parse_err(&format!("endpoints:\n  - name: {}\n    model: {{image: i}}\n    instance_type: ml.m5.large\n", "a".repeat(40)));
        assert!(e.contains("at most 39"), "{e}");
        // No parser type names reach the user.
        let e = parse_err("endpoints:\n  - name: a\n    model: {image: i}\n    instance_count: many\n    instance_type: ml.m5.large\n");
        assert!(e.contains("deploy.yaml:4") && !e.contains("i64"), "{e}");
    }

    #[test]
    fn names_are_sanitised_deterministically() {
        assert_eq!(sanitize("My_Model.v2"), "my-model-v2");
        assert_eq!(sanitize("--a__b--"), "a-b");
        assert!(check_name("a-b-1", 10).is_ok());
        assert!(check_name("a--b", 10).is_err());
    }
}
