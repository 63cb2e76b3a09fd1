//! Effective settings: each value resolved with the precedence
//! command-line flag > environment variable > config file > default,
//! and remembered with the place it came from.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::suggest::did_you_mean;
use crate::workspace::Workspace;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    Flag { flag: &'static str },
    Env { var: &'static str },
    File { path: PathBuf, line: usize },
    /// Not set by hoist; the AWS SDK found it (e.g. `region` in the AWS profile).
    AwsSdk,
    /// The task file `hoist run` was given (`resources.region` / `infra`).
    Task { path: PathBuf },
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag { flag } => write!(f, "flag {flag}"),
            Source::Env { var } => write!(f, "environment {var}"),
            Source::File { path, line } => write!(f, "config file {}:{line}", path.display()),
            Source::AwsSdk => f.write_str("AWS SDK (profile or instance metadata)"),
            Source::Task { path } => write!(f, "task file {}", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

/// The keys a config file may hold, in display order.
pub const KEYS: &[&str] = &[
    "profile",
    "region",
    "endpoint_url",
    "workspace",
    "output",
    "backend",
    "mode",
    "kms_key",
    "bucket_versioning",
    "log_retention_days",
    "vpc_id",
    "sagemaker_role",
    "instance_profile",
    "subnet_ids",
    "ami_parameter",
    "sagemaker_subnet_ids",
    "mlflow.tracking_uri",
];

/// The retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// Environment variables consulted for each key, first match wins. hoist's
/// own names come first so they can override the AWS ones for hoist alone.
fn env_vars(key: &str) -> &'static [&'static str] {
    match key {
        "profile" => &["HOIST_PROFILE", "AWS_PROFILE"],
        "region" => &["HOIST_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"],
        "endpoint_url" => &["HOIST_ENDPOINT_URL", "AWS_ENDPOINT_URL"],
        "workspace" => &["HOIST_WORKSPACE"],
        "output" => &["HOIST_OUTPUT"],
        "backend" => &["HOIST_BACKEND"],
        "mode" => &["HOIST_MODE"],
        "kms_key" => &["HOIST_KMS_KEY"],
        "bucket_versioning" => &["HOIST_BUCKET_VERSIONING"],
        "log_retention_days" => &["HOIST_LOG_RETENTION_DAYS"],
        "vpc_id" => &["HOIST_VPC_ID"],
        "sagemaker_role" => &["HOIST_SAGEMAKER_ROLE"],
        "instance_profile" => &["HOIST_INSTANCE_PROFILE"],
        "subnet_ids" => &["HOIST_SUBNET_IDS"],
        "ami_parameter" => &["HOIST_AMI_PARAMETER"],
        "sagemaker_subnet_ids" => &["HOIST_SAGEMAKER_SUBNET_IDS"],
        "mlflow.tracking_uri" => &["HOIST_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"],
        _ => &[],
    }
}

fn flag_name(key: &str) -> &'static str {
    match key {
        "profile" => "--profile",
        "region" => "--region",
        "endpoint_url" => "--endpoint-url",
        "workspace" => "--workspace",
        "output" => "--output",
        _ => "",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub profile: Option<Sourced<String>>,
    pub region: Option<Sourced<String>>,
    pub endpoint_url: Option<Sourced<String>>,
    pub workspace: Sourced<Workspace>,
    pub output: Sourced<OutputFormat>,
    /// Where `hoist run` sends a task that names no backend.
    pub backend: Option<Sourced<crate::task::Backend>>,
    /// Who sets up the workspace's footprint: the user (`self-service`,
    /// the default) or an administrator (`admin`).
    pub mode: Sourced<Mode>,
    /// `init`: encrypt the bucket with this KMS key instead of SSE-S3.
    pub kms_key: Option<Sourced<String>>,
    /// `init`: turn bucket versioning on (true) or suspend it (false).
    pub bucket_versioning: Option<Sourced<bool>>,
    /// `init`: how long the job log group keeps logs.
    pub log_retention_days: Sourced<i32>,
    /// `init`: the VPC for the security group (default: the default VPC).
    pub vpc_id: Option<Sourced<String>>,
    /// An administrator's SageMaker role to use instead of creating one.
    pub sagemaker_role: Option<Sourced<String>>,
    /// An administrator's instance profile to use instead of creating one.
    pub instance_profile: Option<Sourced<String>>,
    /// `run --backend ec2`: subnets to launch in, comma-separated, tried in
    /// order on capacity errors (default: the default VPC's subnets).
    pub subnet_ids: Option<Sourced<String>>,
    /// `run --backend ec2`: the SSM parameter naming the image to use when
    /// a task names no `image_id` (default: Amazon Linux 2023, or the Deep
    /// Learning Base AMI for GPU instance types).
    pub ami_parameter: Option<Sourced<String>>,
    /// `run --backend sagemaker`: run training jobs in these subnets
    /// (SageMaker's VPC mode, with the workspace's security group), comma-
    /// separated. They need a route to S3 (a gateway endpoint or a NAT).
    /// Default: SageMaker's own network.
    pub sagemaker_subnet_ids: Option<Sourced<String>>,
    /// `deploy` with `mlflow:` models: the tracking server (MLflow's own
    /// `MLFLOW_TRACKING_URI` is read too; its credentials variables are
    /// read where the registry is used).
    pub mlflow_tracking_uri: Option<Sourced<String>>,
    pub config_file: ConfigFileInfo,
}

/// A region name as AWS spells them (`us-east-1`, `eu-central-2`,
/// `us-gov-west-1`, `ap-southeast-5`): checked before it reaches the SDK
/// or an ARN, where a typo turns into an interceptor message or a policy
/// that matches nothing.
pub fn check_region(region: &str) -> Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid region {region:?}: expected an AWS region name such as us-east-1 or eu-central-1"))
    }
}

/// The two ways a workspace is set up (docs/SECURITY.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The user runs `hoist init` and may create and change only roles
    /// that carry the workspace's permissions boundary.
    SelfService,
    /// An administrator creates the whole footprint from `hoist policy
    /// --mode admin --format cloudformation|terraform`; users hold no IAM
    /// write and no bucket-configuration write, and `init` only verifies.
    Admin,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "self-service" => Ok(Mode::SelfService),
            "admin" => Ok(Mode::Admin),
            other => Err(format!("invalid mode {other:?}: expected `self-service` or `admin`")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::SelfService => "self-service",
            Mode::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigFileInfo {
    pub path: PathBuf,
    pub exists: bool,
}

/// A bad value in a flag, variable or config file. Exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{source_desc}: {message}")]
    Invalid { source_desc: String, message: String },
    #[error("could not read config file {path}: {error}")]
    Read { path: PathBuf, error: std::io::Error },
}

/// The parsed config file: each key's value and the line it is on.
#[derive(Debug, Default)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub exists: bool,
    values: Vec<(String, String, usize)>,
}

impl ConfigFile {
    /// Where the config file lives: `HOIST_CONFIG`, else the platform's
    /// config directory (`~/.config/hoist/config.toml` on Linux).
    pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
        if let Some(path) = env("HOIST_CONFIG") {
            return PathBuf::from(path);
        }
        directories::ProjectDirs::from("", "", "hoist")
            .map(|dirs| dirs.config_dir().join("config.toml"))
            .unwrap_or_else(|| PathBuf::from(".hoist.toml"))
    }

    /// Read and validate the file. A missing file is not an error.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Self { path: path.to_path_buf(), exists: false, values: Vec::new() })
            }
            Err(error) => Err(SettingsError::Read { path: path.to_path_buf(), error }),
        }
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, SettingsError> {
        let invalid = |line: Option<usize>, message: String| SettingsError::Invalid {
            source_desc: match line {
                Some(line) => format!("{}:{line}", path.display()),
                None => path.display().to_string(),
            },
            message,
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map(|span| line_of_offset(text, span.start));
            invalid(line, format!("not valid TOML: {}", e.message()))
        })?;
        // `[mlflow]` with `tracking_uri = ...` (or `mlflow.tracking_uri = ...`)
        // is the key `mlflow.tracking_uri`.
        let mut flat = Vec::new();
        for (key, value) in table {
            match value {
                toml::Value::Table(inner) if key == "mlflow" => {
                    flat.extend(inner.into_iter().map(|(k, v)| (format!("{key}.{k}"), v)));
                }
                other => flat.push((key, other)),
            }
        }
        let mut values = Vec::new();
        for (key, value) in flat {
            let line = line_of_key(text, &key);
            if !KEYS.contains(&key.as_str()) {
                let hint = match did_you_mean(&key, KEYS.iter().copied()) {
                    Some(s) => format!(" (did you mean `{s}`?)"),
                    None => String::new(),
                };
                return Err(invalid(
                    line,
                    format!("unknown key `{key}`{hint}; known keys: {}", KEYS.join(", ")),
                ));
            }
            let text = match (&value, key.as_str()) {
                (toml::Value::String(s), _) => s.clone(),
                (toml::Value::Boolean(b), "bucket_versioning") => b.to_string(),
                (toml::Value::Integer(i), "log_retention_days") => i.to_string(),
                _ => {
                    return Err(invalid(
                        line,
                        format!("`{key}` must be a string (in quotes), found {}", value.type_str()),
                    ));
                }
            };
            values.push((key, text, line.unwrap_or(0)));
        }
        Ok(Self { path: path.to_path_buf(), exists: true, values })
    }

    fn get(&self, key: &str) -> Option<(&str, usize)> {
        self.values.iter().find(|(k, _, _)| k == key).map(|(_, v, line)| (v.as_str(), *line))
    }
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line a top-level key is defined on (the first `key =` line). Good
/// enough for hoist's flat file; `None` for quoted or dotted keys.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let found = |key: &str| text.lines().position(|l| {
        let l = l.trim_start();
        l.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
    });
    // `[mlflow]` then `tracking_uri = ...`.
    if let Some((_, last)) = key.split_once('.') {
        return found(key).or_else(|| found(last)).map(|i| i + 1);
    }
    text.lines().position(|l| {
        let l = l.trim_start();
        l.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
    })
    .map(|i| i + 1)
}

impl Settings {
    /// Resolve from the real process environment and config file.
    pub fn resolve(flags: &GlobalArgs) -> Result<Self, SettingsError> {
        let env = |name: &str| std::env::var(name).ok();
        let path = ConfigFile::default_path(&env);
        let file = ConfigFile::load(&path)?;
        // The default file is optional; one named on purpose is not.
        if !file.exists && env("HOIST_CONFIG").is_some() {
            return Err(SettingsError::Invalid {
                source_desc: "environment HOIST_CONFIG".into(),
                message: format!("config file {} not found", path.display()),
            });
        }
        Self::resolve_with(flags, &env, &file)
    }

    /// Resolve with an injected environment and file (unit-testable).
    pub fn resolve_with(
        flags: &GlobalArgs,
        env: &dyn Fn(&str) -> Option<String>,
        file: &ConfigFile,
    ) -> Result<Self, SettingsError> {
        let raw = |key: &str, flag: Option<&String>| -> Option<Sourced<String>> {
            if let Some(v) = flag {
                return Some(Sourced { value: v.clone(), source: Source::Flag { flag: flag_name(key) } });
            }
            for var in env_vars(key) {
                if let Some(v) = env(var).filter(|v| !v.is_empty()) {
                    return Some(Sourced { value: v, source: Source::Env { var } });
                }
            }
            file.get(key).map(|(v, line)| Sourced {
                value: v.to_string(),
                source: Source::File { path: file.path.clone(), line },
            })
        };

        let workspace = match raw("workspace", flags.workspace.as_ref()) {
            None => Sourced { value: Workspace::default(), source: Source::Default },
            Some(s) => Sourced {
                value: s.value.parse().map_err(|e: crate::workspace::InvalidWorkspace| {
                    SettingsError::Invalid { source_desc: s.source.to_string(), message: e.to_string() }
                })?,
                source: s.source,
            },
        };

        let output = match (flags.output, raw("output", None)) {
            (Some(value), _) => Sourced { value, source: Source::Flag { flag: "--output" } },
            (None, Some(s)) => Sourced {
                value: match s.value.as_str() {
                    "text" => OutputFormat::Text,
                    "json" => OutputFormat::Json,
                    other => {
                        return Err(SettingsError::Invalid {
                            source_desc: s.source.to_string(),
                            message: format!("invalid output format {other:?}: expected `text` or `json`"),
                        });
                    }
                },
                source: s.source,
            },
            (None, None) => Sourced { value: OutputFormat::Text, source: Source::Default },
        };

        let endpoint_url = raw("endpoint_url", flags.endpoint_url.as_ref());
        if let Some(e) = &endpoint_url
            && !(e.value.starts_with("http://") || e.value.starts_with("https://"))
        {
            return Err(SettingsError::Invalid {
                source_desc: e.source.to_string(),
                message: format!(
                    "invalid endpoint URL {:?}: expected http://HOST[:PORT] or https://HOST[:PORT]",
                    e.value
                ),
            });
        }

        let backend = match raw("backend", None) {
            None => None,
            Some(s) => Some(Sourced {
                value: crate::task::parse_backend(&s.value)
                    .map_err(|message| SettingsError::Invalid { source_desc: s.source.to_string(), message })?,
                source: s.source,
            }),
        };

        let invalid = |s: &Sourced<String>, message: String| SettingsError::Invalid { source_desc: s.source.to_string(), message };
        let bucket_versioning = match raw("bucket_versioning", None) {
            None => None,
            Some(s) => match s.value.as_str() {
                "true" => Some(Sourced { value: true, source: s.source }),
                "false" => Some(Sourced { value: false, source: s.source }),
                other => return Err(invalid(&s, format!("invalid bucket_versioning {other:?}: expected true or false"))),
            },
        };
        let log_retention_days = match raw("log_retention_days", None) {
            None => Sourced { value: 30, source: Source::Default },
            Some(s) => match s.value.parse::<i32>() {
                Ok(days) if RETENTION_DAYS.contains(&days) => Sourced { value: days, source: s.source },
                _ => {
                    let allowed: Vec<String> = RETENTION_DAYS.iter().map(i32::to_string).collect();
                    return Err(invalid(&s, format!("invalid log_retention_days {:?}: CloudWatch Logs accepts {}", s.value, allowed.join(", "))));
                }
            },
        };

        let region = raw("region", flags.region.as_ref());
        if let Some(r) = &region {
            check_region(&r.value).map_err(|message| invalid(r, message))?;
        }
        let mode = match raw("mode", None) {
            None => Sourced { value: Mode::SelfService, source: Source::Default },
            Some(s) => Sourced { value: Mode::parse(&s.value).map_err(|message| invalid(&s, message))?, source: s.source },
        };

        Ok(Self {
            mode,
            kms_key: raw("kms_key", None),
            bucket_versioning,
            log_retention_days,
            vpc_id: raw("vpc_id", None),
            sagemaker_role: raw("sagemaker_role", None),
            instance_profile: raw("instance_profile", None),
            subnet_ids: raw("subnet_ids", None),
            ami_parameter: raw("ami_parameter", None),
            sagemaker_subnet_ids: raw("sagemaker_subnet_ids", None),
            mlflow_tracking_uri: raw("mlflow.tracking_uri", None),
            backend,
            profile: raw("profile", flags.profile.as_ref()),
            region,
            endpoint_url,
            workspace,
            output,
            config_file: ConfigFileInfo { path: file.path.clone(), exists: file.exists },
        })
    }

    pub fn connect_options(&self) -> hoist_aws::ConnectOptions {
        hoist_aws::ConnectOptions {
            profile: self.profile.as_ref().map(|s| s.value.clone()),
            region: self.region.as_ref().map(|s| s.value.clone()),
            endpoint_url: self.endpoint_url.as_ref().map(|s| s.value.clone()),
            // Only tests set this: every operation sent is appended to the
            // file, to check commands against the catalog.
            record_calls: std::env::var_os("HOIST_RECORD_CALLS").filter(|v| !v.is_empty()).map(Into::into),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn flags() -> GlobalArgs {
        GlobalArgs {
            profile: None,
            region: None,
            endpoint_url: None,
            workspace: None,
            output: None,
            verbose: 0,
            quiet: false,
        }
    }

    fn file(text: &str) -> ConfigFile {
        ConfigFile::parse(Path::new("/cfg/config.toml"), text).unwrap()
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn regions_are_checked_before_use() {
        for good in ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-5", "cn-north-1", "il-central-1"] {
            assert!(check_region(good).is_ok(), "{good}");
        }
        for bad in ["", "us east 1", "US-EAST-1", "us-east", "useast1", "us--east-1", "us-east-1 "] {
            assert!(check_region(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let f = file("region = \"eu-west-1\"\nworkspace = \"from-file\"\n");
        let env = env_of(&[("AWS_REGION", "us-west-2"), ("HOIST_WORKSPACE", "from-env")]);
        let mut args = flags();

        let s = Settings::resolve_with(&args, &env, &f).unwrap();
        assert_eq!(s.region.unwrap().value, "us-west-2");
        assert_eq!(s.workspace.value.as_str(), "from-env");
        assert_eq!(s.workspace.source, Source::Env { var: "HOIST_WORKSPACE" });

        args.region = Some("ap-south-1".into());
        let s = Settings::resolve_with(&args, &env, &f).unwrap();
        assert_eq!(s.region.as_ref().unwrap().value, "ap-south-1");
        assert_eq!(s.region.unwrap().source, Source::Flag { flag: "--region" });

        let s = Settings::resolve_with(&flags(), &env_of(&[]), &f).unwrap();
        let region = s.region.unwrap();
        assert_eq!(region.value, "eu-west-1");
        assert_eq!(region.source, Source::File { path: "/cfg/config.toml".into(), line: 1 });
        assert_eq!(s.workspace.source, Source::File { path: "/cfg/config.toml".into(), line: 2 });

        let s = Settings::resolve_with(&flags(), &env_of(&[]), &ConfigFile::default()).unwrap();
        assert!(s.region.is_none());
        assert_eq!(s.workspace.value.as_str(), "default");
        assert_eq!(s.workspace.source, Source::Default);
        assert_eq!(s.output.value, OutputFormat::Text);
    }

    #[test]
    fn hoist_variables_override_aws_ones_and_empty_means_unset() {
        let env = env_of(&[("HOIST_REGION", "eu-central-1"), ("AWS_REGION", "us-east-1")]);
        let s = Settings::resolve_with(&flags(), &env, &ConfigFile::default()).unwrap();
        assert_eq!(s.region.unwrap().value, "eu-central-1");

        let env = env_of(&[("HOIST_REGION", ""), ("AWS_DEFAULT_REGION", "sa-east-1")]);
        let s = Settings::resolve_with(&flags(), &env, &ConfigFile::default()).unwrap();
        assert_eq!(s.region.unwrap().source, Source::Env { var: "AWS_DEFAULT_REGION" });
    }

    #[test]
    fn unknown_key_names_file_line_and_suggests() {
        let err = ConfigFile::parse(Path::new("/c.toml"), "region = \"x\"\nregin = \"y\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("/c.toml:2: unknown key `regin` (did you mean `region`?)"), "{text}");
    }

    #[test]
    fn wrong_type_and_bad_toml_name_the_line() {
        let err = ConfigFile::parse(Path::new("/c.toml"), "\nworkspace = 3\n").unwrap_err();
        assert!(err.to_string().starts_with("/c.toml:2: `workspace` must be a string"), "{err}");
        let err = ConfigFile::parse(Path::new("/c.toml"), "region = \"a\"\nregion = = 1\n").unwrap_err();
        assert!(err.to_string().starts_with("/c.toml:2: not valid TOML"), "{err}");
    }

    #[test]
    fn invalid_values_name_their_source() {
        let f = file("workspace = \"Bad_Name\"\n");
        let err = Settings::resolve_with(&flags(), &env_of(&[]), &f).unwrap_err();
        assert!(err.to_string().starts_with("config file /cfg/config.toml:1: invalid workspace"), "{err}");

        let env = env_of(&[("HOIST_OUTPUT", "yaml")]);
        let err = Settings::resolve_with(&flags(), &env, &ConfigFile::default()).unwrap_err();
        assert!(err.to_string().contains("environment HOIST_OUTPUT: invalid output format"), "{err}");

        let mut args = flags();
        args.endpoint_url = Some("localhost:5000".into());
        let err = Settings::resolve_with(&args, &env_of(&[]), &ConfigFile::default()).unwrap_err();
        assert!(err.to_string().contains("flag --endpoint-url: invalid endpoint URL"), "{err}");
    }
}
