//! Recording every operation the SDK really sends, with an SDK
//! interceptor. Tests use it to prove that a command only performs
//! operations declared for it in the catalog, that a no-op `init` sends no
//! mutating call, and (from the HTTP request as transmitted) that the
//! generated IAM policy allows exactly what AWS will check for each
//! request (`hoist_testkit::wire`). Off unless asked for.
//!
//! One JSON object a line: `{"service", "operation", "request"?}`. The
//! `request` field was added later and is optional, so older files (and
//! readers that ignore it) keep working.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use serde::{Deserialize, Serialize};

/// One operation as sent: IAM service prefix and API name, and (when it
/// reached the wire) the HTTP request of its first attempt.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Call {
    pub service: String,
    pub operation: String,
    /// `None` when the operation failed before anything was transmitted
    /// (no credentials, an endpoint that does not resolve), and in files
    /// written before requests were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<WireRequest>,
}

impl Call {
    /// A call without a recorded request (for comparisons by name).
    pub fn named(service: &str, operation: &str) -> Self {
        Self { service: service.to_string(), operation: operation.to_string(), request: None }
    }

    /// The same call without its request: what older readers compared.
    pub fn without_request(&self) -> Self {
        Self { request: None, ..self.clone() }
    }
}

/// The HTTP request as transmitted (after signing), reduced to what IAM
/// authorization depends on. Credentials never appear: only the headers
/// in [`RECORDED_HEADERS`] are kept (no `authorization`, no
/// `x-amz-security-token`), and secret values in JSON bodies are redacted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WireRequest {
    /// `GET`, `PUT`, `POST`, `DELETE`, `HEAD`.
    pub method: String,
    /// The full URI: scheme, host, path (still percent-encoded) and query.
    pub uri: String,
    /// The recorded headers, names lowercase.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body as UTF-8 text: form-encoded (awsQuery, EC2), JSON or XML,
    /// up to [`MAX_RECORDED_BODY`]; a larger JSON body keeps only its
    /// top-level scalar fields. `None` for object data (S3 PutObject,
    /// UploadPart), streaming bodies, binary or other larger bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body's length in bytes, when known (also when `body` is omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_len: Option<u64>,
}

impl WireRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// Headers that change how a request is authorized: which operation
/// (JSON protocols name it in `x-amz-target`), the body's format, a copy's
/// source, tags set with an object, conditional writes, ACLs, encryption
/// and object lock.
pub const RECORDED_HEADERS: &[&str] = &[
    "x-amz-target",
    "content-type",
    "content-length",
    "x-amz-copy-source",
    "x-amz-tagging",
    "if-match",
    "if-none-match",
    "x-amz-acl",
    "x-amz-object-ownership",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-bucket-object-lock-enabled",
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
    "x-amz-bypass-governance-retention",
];

/// Header-name prefixes recorded as well (`x-amz-grant-read`, ...).
const RECORDED_HEADER_PREFIXES: &[&str] = &["x-amz-grant-"];

/// Bodies larger than this are not kept as text (only their length).
pub const MAX_RECORDED_BODY: usize = 256 * 1024;

/// Shared log of calls; optionally appended to a file as JSON lines, so a
/// test can read what a `hoist` subprocess sent.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<Call>>>,
    file: Option<PathBuf>,
}

impl CallLog {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn to_file(path: PathBuf) -> Self {
        Self { calls: Arc::default(), file: Some(path) }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("not poisoned").clone()
    }

    /// Read a file written by a `CallLog::to_file` (one JSON call a line).
    /// Lines written before requests were recorded parse too.
    pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<Call>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        text.lines().map(|l| serde_json::from_str(l).map_err(std::io::Error::other)).collect()
    }

    fn push(&self, call: Call) {
        if let Some(path) = &self.file
            && let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path)
        {
            // One write per line: appends from concurrent tasks (and
            // processes) do not tear.
            let _ = f.write_all(format!("{}\n", serde_json::to_string(&call).unwrap_or_default()).as_bytes());
        }
        self.calls.lock().expect("not poisoned").push(call);
    }
}

/// The SDK's service names (as in its operation metadata) to IAM prefixes.
pub fn iam_prefix(sdk_service: &str) -> String {
    match sdk_service {
        "CloudWatch Logs" => "logs".to_string(),
        // InvokeEndpoint is authorized as sagemaker:InvokeEndpoint.
        "SageMaker Runtime" => "sagemaker".to_string(),
        other => other.to_ascii_lowercase().replace(' ', ""),
    }
}

/// Marks, in an operation's own configuration, that it has been recorded:
/// retries transmit again but are not new operations.
#[derive(Debug, Clone, Copy)]
struct Recorded;

impl Storable for Recorded {
    type Storer = StoreReplace<Self>;
}

/// Whether a request's body is object data (not recorded as text).
fn is_object_data(service: &str, operation: &str) -> bool {
    service == "s3" && matches!(operation, "PutObject" | "UploadPart" | "WriteGetObjectResponse")
}

/// JSON fields whose values are secrets (Secrets Manager): replaced, so a
/// recording never holds one.
const SECRET_FIELDS: &[&str] = &["SecretString", "SecretBinary"];

fn redact(body: String) -> String {
    if !SECRET_FIELDS.iter().any(|f| body.contains(f)) {
        return body;
    }
    match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(mut map)) => {
            for f in SECRET_FIELDS {
                if let Some(v) = map.get_mut(*f) {
                    *v = serde_json::Value::String("<redacted>".into());
                }
            }
            serde_json::Value::Object(map).to_string()
        }
        // Not a JSON object that could be redacted: keep nothing.
        _ => "<redacted>".into(),
    }
}

/// A JSON body too large to keep (PutLogEvents with many events): its
/// top-level scalar fields only (`logGroupName`, `logStreamName`, ...),
/// which are what authorization reads; arrays and objects are dropped.
fn json_scalars(body: &str) -> Option<String> {
    let serde_json::Value::Object(map) = serde_json::from_str::<serde_json::Value>(body).ok()? else { return None };
    let kept: serde_json::Map<String, serde_json::Value> =
        map.into_iter().filter(|(_, v)| !v.is_array() && !v.is_object()).collect();
    Some(serde_json::Value::Object(kept).to_string())
}

/// The parts of `req` that IAM authorization depends on.
pub fn wire_request(service: &str, operation: &str, req: &HttpRequest) -> WireRequest {
    let headers: BTreeMap<String, String> = req
        .headers()
        .iter()
        .filter(|(name, _)| {
            let name = name.to_ascii_lowercase();
            RECORDED_HEADERS.contains(&name.as_str()) || RECORDED_HEADER_PREFIXES.iter().any(|p| name.starts_with(p))
        })
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
        .collect();
    let bytes = req.body().bytes();
    let body_len = bytes
        .map(|b| b.len() as u64)
        .or_else(|| req.body().content_length())
        .or_else(|| headers.get("content-length").and_then(|v| v.parse().ok()));
    let body = bytes
        .filter(|_| !is_object_data(service, operation))
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| if s.len() <= MAX_RECORDED_BODY { Some(s.to_string()) } else { json_scalars(s) })
        .map(redact);
    WireRequest { method: req.method().to_string(), uri: req.uri().to_string(), headers, body, body_len }
}

#[derive(Debug)]
pub struct Recorder(pub CallLog);

impl Recorder {
    fn record(&self, cfg: &mut ConfigBag, request: Option<WireRequest>) {
        if cfg.load::<Recorded>().is_some() {
            return;
        }
        let Some(meta) = cfg.load::<Metadata>() else { return };
        let call = Call { service: iam_prefix(meta.service()), operation: meta.name().to_string(), request };
        cfg.interceptor_state().store_put(Recorded);
        self.0.push(call);
    }
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "hoist-call-recorder"
    }

    // The request as it goes on the wire (signed), once per operation: the
    // first attempt records it and marks the operation's configuration, so
    // retries are not recorded again. (The operation's name comes from
    // its `Metadata`, which a client-level interceptor sees from
    // `read_before_serialization` on.)
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<Recorded>().is_none()
            && let Some(meta) = cfg.load::<Metadata>()
        {
            let request = wire_request(&iam_prefix(meta.service()), meta.name(), context.request());
            self.record(cfg, Some(request));
        }
        Ok(())
    }

    // An operation that failed before transmitting (no credentials, say)
    // is still an operation the command attempted: recorded without a
    // request, as before requests were recorded.
    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.record(cfg, None);
        Ok(())
    }
}
