//! Turning hoist's profile / region / endpoint settings into an SDK
//! configuration, and the single path every SDK call takes.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::SdkConfig;

use crate::catalog::Op;
use crate::record::{CallLog, Recorder};
use crate::error::{AwsError, classify};

/// How long to wait for a TCP (and TLS) connection. An unreachable
/// endpoint must fail within seconds, not hang: with three attempts this
/// bounds a black-holed address to well under ten seconds.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a single read may stall. Generous, because S3 may take a while
/// to answer CompleteMultipartUpload; stalled streams are caught by the
/// SDK's own stalled-stream protection.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// What the user chose; `None` means "let the SDK's own chain decide"
/// (environment variables, `~/.aws/config`, SSO, instance metadata).
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Append every operation sent to this file (tests set it through
    /// `HOIST_RECORD_CALLS`).
    pub record_calls: Option<std::path::PathBuf>,
}

/// Problems that stop hoist before any request is sent.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(
        "no AWS region is configured\n\
         Set one with `--region`, the AWS_REGION environment variable, \
         `region = \"...\"` in hoist's config file, or `region` in your AWS profile."
    )]
    NoRegion,
    #[error(
        "AWS profile {name:?} not found in your AWS config or credentials files{known}\n\
         Check the name (--profile, AWS_PROFILE, or `profile` in hoist's config), or create it with `aws configure --profile {name}`."
    )]
    NoProfile { name: String, known: String },
}

/// A named profile must exist: otherwise the SDK falls through to instance
/// metadata and reports that instead ("failed to load IMDS session token").
async fn check_profile(name: &str) -> Result<(), SessionError> {
    use aws_types::os_shim_internal::{Env, Fs};
    // The alias is deprecated in favour of aws-runtime's own type, a crate
    // hoist does not otherwise depend on.
    #[allow(deprecated)]
    let files = aws_config::profile::profile_file::ProfileFiles::default();
    // A file that cannot be read or parsed is the SDK's to report.
    let Ok(set) = aws_config::profile::load(&Fs::real(), &Env::real(), &files, None).await else {
        return Ok(());
    };
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut names: Vec<&str> = set.profiles().collect();
    names.sort();
    let known = if names.is_empty() { " (it has no profiles)".to_string() } else { format!(" (it has: {})", names.join(", ")) };
    Err(SessionError::NoProfile { name: name.to_string(), known })
}

/// Requests this process sent through [`Session::call`], and the time
/// spent waiting on them (overlapping calls add up), for `-v`.
static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static CALL_NANOS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many AWS requests this process has sent, and their summed time.
pub fn call_stats() -> (u64, std::time::Duration) {
    (
        CALLS.load(std::sync::atomic::Ordering::Relaxed),
        std::time::Duration::from_nanos(CALL_NANOS.load(std::sync::atomic::Ordering::Relaxed)),
    )
}

/// A ready-to-use SDK configuration plus what hoist needs to explain
/// failures (which endpoint it was talking to). Cheap to clone: every
/// store and client holds one.
#[derive(Debug, Clone)]
pub struct Session {
    sdk: Arc<SdkConfig>,
    recorder: Option<CallLog>,
}

impl Session {
    /// Build the SDK configuration. Reads profile files but sends no
    /// request: credentials are resolved lazily by the first call.
    pub async fn connect(opts: &ConnectOptions) -> Result<Self, SessionError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .read_timeout(READ_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3));
        if let Some(profile) = &opts.profile {
            check_profile(profile).await?;
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &opts.region {
            loader = loader.region(Region::new(region.clone()));
        }
        // The SDK reads AWS_ENDPOINT_URL (and per-service variants) on its
        // own; an explicit value from a flag or hoist's config wins.
        if let Some(url) = &opts.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        // `AWS_REGION=` (set but empty) reaches the SDK as an empty region.
        if sdk.region().is_none_or(|r| r.as_ref().trim().is_empty()) {
            return Err(SessionError::NoRegion);
        }
        Ok(Self { sdk: Arc::new(sdk), recorder: opts.record_calls.clone().map(CallLog::to_file) })
    }

    /// Wrap an existing configuration (tests, and callers that built their
    /// own). The region must be set.
    pub fn from_sdk_config(sdk: SdkConfig) -> Result<Self, SessionError> {
        if sdk.region().is_none() {
            return Err(SessionError::NoRegion);
        }
        Ok(Self { sdk: Arc::new(sdk), recorder: None })
    }

    /// Record every operation this session's clients send into `log`.
    pub fn with_recorder(mut self, log: CallLog) -> Self {
        self.recorder = Some(log);
        self
    }

    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }

    /// An S3 client. With an endpoint override (an emulator, a gateway)
    /// buckets are addressed by path, since `bucket.127.0.0.1` does not
    /// resolve; against AWS itself, virtual-hosted style as AWS requires.
    pub fn s3_client(&self) -> aws_sdk_s3::Client {
        let mut config = aws_sdk_s3::config::Builder::from(self.sdk.as_ref()).force_path_style(self.endpoint_url().is_some());
        if let Some(log) = &self.recorder {
            config = config.interceptor(Recorder(log.clone()));
        }
        aws_sdk_s3::Client::from_conf(config.build())
    }

    pub fn sts_client(&self) -> aws_sdk_sts::Client {
        let mut config = aws_sdk_sts::config::Builder::from(self.sdk.as_ref());
        if let Some(log) = &self.recorder {
            config = config.interceptor(Recorder(log.clone()));
        }
        aws_sdk_sts::Client::from_conf(config.build())
    }

    pub fn iam_client(&self) -> aws_sdk_iam::Client {
        let mut config = aws_sdk_iam::config::Builder::from(self.sdk.as_ref());
        if let Some(log) = &self.recorder {
            config = config.interceptor(Recorder(log.clone()));
        }
        aws_sdk_iam::Client::from_conf(config.build())
    }

    pub fn logs_client(&self) -> aws_sdk_cloudwatchlogs::Client {
        let mut config = aws_sdk_cloudwatchlogs::config::Builder::from(self.sdk.as_ref());
        if let Some(log) = &self.recorder {
            config = config.interceptor(Recorder(log.clone()));
        }
        aws_sdk_cloudwatchlogs::Client::from_conf(config.build())
    }

    pub fn ec2_client(&self) -> aws_sdk_ec2::Client {
        let mut config = aws_sdk_ec2::config::Builder::from(self.sdk.as_ref());
        if let Some(log) = &self.recorder {
            config = config.interceptor(Recorder(log.clone()));
        }
        aws_sdk_ec2::Client::from_conf(config.build())
    }

    pub fn secrets_client(&self) -> aws_sdk_secretsmanager::Client {
        let mut config = aws_sdk_secretsmanager::config::Builder::from(self.sdk.as_ref());
        if let Some(log) = &self.recorder {
            config = config.interceptor(Recorder(log.clone()));
        }
        aws_sdk_secretsmanager::Client::from_conf(config.build())
    }

    pub fn ssm_client(&self) -> aws_sdk_ssm::Client {
        let mut config = aws_sdk_ssm::config::Builder::from(self.sdk.as_ref());
        if let Some(log) = &self.recorder {
            config = config.interceptor(Recorder(log.clone()));
        }
        aws_sdk_ssm::Client::from_conf(config.build())
    }

    pub fn sagemaker_client(&self) -> aws_sdk_sagemaker::Client {
        let mut config = aws_sdk_sagemaker::config::Builder::from(self.sdk.as_ref());
        if let Some(log) = &self.recorder {
            config = config.interceptor(Recorder(log.clone()));
        }
        aws_sdk_sagemaker::Client::from_conf(config.build())
    }

    pub fn sagemaker_runtime_client(&self) -> aws_sdk_sagemakerruntime::Client {
        let mut config = aws_sdk_sagemakerruntime::config::Builder::from(self.sdk.as_ref());
        if let Some(log) = &self.recorder {
            config = config.interceptor(Recorder(log.clone()));
        }
        aws_sdk_sagemakerruntime::Client::from_conf(config.build())
    }

    pub fn region(&self) -> &str {
        self.sdk.region().map(|r| r.as_ref()).unwrap_or_default()
    }

    /// The endpoint override in force, if any (`None`: AWS's own endpoints).
    pub fn endpoint_url(&self) -> Option<&str> {
        self.sdk.endpoint_url()
    }

    /// Human description of where requests go, for messages.
    pub fn endpoint_description(&self, service: &str) -> String {
        match self.endpoint_url() {
            Some(url) => url.to_string(),
            None => format!("the AWS {service} endpoint in {}", self.region()),
        }
    }

    /// Send one SDK request declared in the catalog as `op`, acting on
    /// `resource` (an ARN or name, for messages). Every hoist call to AWS
    /// goes through here, so every failure names its operation.
    pub async fn call<T, E, F>(
        &self,
        op: Op,
        resource: Option<&str>,
        request: F,
    ) -> Result<T, AwsError>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let result = request.await;
        let elapsed = started.elapsed();
        CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        CALL_NANOS.fetch_add(elapsed.as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
        match result {
            Ok(out) => {
                tracing::debug!(op = %op, resource, ?elapsed, "aws call ok");
                Ok(out)
            }
            Err(err) => {
                tracing::debug!(op = %op, resource, ?elapsed, error = ?err, "aws call failed");
                Err(AwsError {
                    op,
                    resource: resource.map(str::to_owned),
                    endpoint: self.endpoint_description(op.service),
                    kind: classify(&err),
                })
            }
        }
    }
}
