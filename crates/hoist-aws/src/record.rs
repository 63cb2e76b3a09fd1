//! Recording every operation the SDK really sends, with an SDK
//! interceptor. Tests use it to prove that a command only performs
//! operations declared for it in the catalog, and that a no-op `init`
//! sends no mutating call. Off unless asked for.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::{Deserialize, Serialize};

/// One operation as sent: IAM service prefix and API name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Call {
    pub service: String,
    pub operation: String,
}

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
            // One write per line: appends from concurrent tasks do not tear.
            let _ = f.write_all(format!("{}\n", serde_json::to_string(&call).unwrap_or_default()).as_bytes());
        }
        self.calls.lock().expect("not poisoned").push(call);
    }
}

/// The SDK's service names (as in its operation metadata) to IAM prefixes.
pub fn iam_prefix(sdk_service: &str) -> String {
    match sdk_service {
        "CloudWatch Logs" => "logs".to_string(),
        other => other.to_ascii_lowercase().replace(' ', ""),
    }
}

#[derive(Debug)]
pub struct Recorder(pub CallLog);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "hoist-call-recorder"
    }

    // Once per operation, after the operation's configuration (which holds
    // its name) is loaded and before the retry loop: retries are not new
    // operations. (`read_before_execution` runs too early for a client-level
    // interceptor to see the operation's name.)
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            self.0.push(Call { service: iam_prefix(meta.service()), operation: meta.name().to_string() });
        }
        Ok(())
    }

}
