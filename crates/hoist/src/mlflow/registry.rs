//! The MLflow Model Registry over its REST API (`/api/2.0/mlflow/...`):
//! which version an alias, a stage or a number names, and where its
//! artifacts are. Reads only; hoist never changes the registry.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::Value;

use super::{ModelRef, Selector};

/// A request to the registry gives up after this long.
const TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What can go wrong asking the registry. `NotFound` is the file's to fix
/// (exit 2); the others are the registry's or the network's (exit 4).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("the MLflow registry at {uri} cannot be reached ({cause}); endpoints are left as they are")]
    Unreachable { uri: String, cause: String },
    #[error("{0}")]
    NotFound(String),
    #[error("the MLflow registry at {uri} refused hoist (HTTP {status}): {message}; set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD")]
    Denied { uri: String, status: u16, message: String },
    #[error("the MLflow registry at {uri} answered HTTP {status} to {what}: {message}")]
    Failed { uri: String, status: u16, what: String, message: String },
    #[error("{0}")]
    Setup(String),
    #[error("{uri} does not answer as an MLflow tracking server (HTTP {status}{kind} to {what}): check MLFLOW_TRACKING_URI (or `mlflow.tracking_uri`)")]
    NotTracking { uri: String, status: u16, kind: String, what: String },
    #[error("AccessDenied reading {uri}: hoist reads an MLflow model's files with your AWS credentials, and `hoist policy deploy` covers only the workspace's bucket: ask an administrator for s3:ListBucket and s3:GetObject on them")]
    ArtifactsDenied { uri: String },
}

impl RegistryError {
    /// Whether the fix is in the deploy file or settings (exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, RegistryError::NotFound(_) | RegistryError::Setup(_))
    }
}

/// One model version, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub model: String,
    pub version: String,
    /// Where its files are (`s3://…`, `mlflow-artifacts:/…`).
    pub artifact_uri: String,
    pub run_id: Option<String>,
}

pub struct Registry {
    base: String,
    auth: Option<String>,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

#[derive(Deserialize)]
struct RawVersion {
    version: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    run_id: Option<String>,
}

impl Registry {
    /// A client for the tracking server at `uri` (http or https), with
    /// MLflow's usual credentials from the environment.
    pub fn new(uri: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, RegistryError> {
        let base = uri.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(RegistryError::Setup(format!(
                "MLflow tracking URI {uri:?}: hoist talks to a tracking server over HTTP(S), as in `http://mlflow.internal:5000`"
            )));
        }
        if let Err(e) = base.parse::<hyper::Uri>() {
            return Err(RegistryError::Setup(format!("MLflow tracking URI {uri:?} is not a valid URL ({e}), as in `http://mlflow.internal:5000`")));
        }
        let auth = match (env("MLFLOW_TRACKING_TOKEN"), env("MLFLOW_TRACKING_USERNAME"), env("MLFLOW_TRACKING_PASSWORD")) {
            (Some(token), _, _) => Some(format!("Bearer {token}")),
            (None, Some(user), Some(password)) => {
                Some(format!("Basic {}", aws_smithy_types::base64::encode(format!("{user}:{password}"))))
            }
            _ => None,
        };
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.enforce_http(false);
        // No system roots (a minimal container): plain http still works,
        // and https fails naming the certificate, not here.
        let builder = match hyper_rustls::HttpsConnectorBuilder::new().with_provider_and_native_roots(provider.clone()) {
            Ok(b) => b,
            Err(_) => {
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| RegistryError::Setup(format!("cannot set up TLS for the MLflow registry: {e}")))?
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
            }
        };
        let https = builder
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self { base, auth, client: Client::builder(TokioExecutor::new()).build(https) })
    }

    pub fn uri(&self) -> &str {
        &self.base
    }

    /// The version `r` names, and where its artifacts are.
    pub async fn resolve(&self, r: &ModelRef) -> Result<Version, RegistryError> {
        let raw = self.version_of(r).await?;
        let name = &r.model;
        let uri = self.get("model-versions/get-download-uri", &[("name", name), ("version", &raw.version)]).await?;
        let Some(artifact_uri) = uri.get("artifact_uri").and_then(Value::as_str) else {
            return Err(self.bad_answer("no artifact_uri"));
        };
        Ok(Version { model: name.clone(), version: raw.version, artifact_uri: artifact_uri.to_string(), run_id: raw.run_id })
    }

    /// Only the version number `r` names now: one request (a watch's poll).
    pub async fn current(&self, r: &ModelRef) -> Result<String, RegistryError> {
        Ok(self.version_of(r).await?.version)
    }

    async fn version_of(&self, r: &ModelRef) -> Result<RawVersion, RegistryError> {
        let name = &r.model;
        let raw = match &r.selector {
            Selector::Alias(alias) => {
                match self.get("registered-models/alias", &[("name", name), ("alias", alias)]).await {
                    Ok(v) => self.version_in(v.get("model_version"))?,
                    Err(e) => return Err(self.not_found(e, r).await),
                }
            }
            Selector::Version(v) => match self.get("model-versions/get", &[("name", name), ("version", v)]).await {
                Ok(v) => self.version_in(v.get("model_version"))?,
                Err(e) => return Err(self.not_found(e, r).await),
            },
            Selector::Stage(stage) => {
                let body = serde_json::json!({"name": name, "stages": [stage]});
                let answer = match self.post("registered-models/get-latest-versions", &body).await {
                    Ok(v) => v,
                    Err(e) => return Err(self.not_found(e, r).await),
                };
                match answer.get("model_versions").and_then(Value::as_array).and_then(|v| v.first()) {
                    Some(v) => self.version_in(Some(v))?,
                    None => return Err(RegistryError::NotFound(format!("MLflow model {name:?} has no version in stage {stage:?}"))),
                }
            }
        };
        if let Some(status) = raw.status.as_deref().filter(|s| *s != "READY") {
            return Err(RegistryError::NotFound(format!(
                "MLflow model {name:?} version {} ({}) is {status}, not READY: it cannot be served yet",
                raw.version, r.selector
            )));
        }
        Ok(raw)
    }

    /// A registry "does not exist" answer in the file's terms: which of the
    /// model, alias or version is missing, and what there is instead.
    async fn not_found(&self, e: RegistryError, r: &ModelRef) -> RegistryError {
        let RegistryError::Failed { status: 400 | 404, message, .. } = &e else { return e };
        let name = &r.model;
        let model = match self.get("registered-models/get", &[("name", name)]).await {
            Ok(m) => m,
            Err(RegistryError::Failed { status: 400 | 404, .. }) => {
                return RegistryError::NotFound(format!("the MLflow registry at {} has no registered model {name:?}", self.uri()));
            }
            Err(other) => return other,
        };
        let aliases: Vec<String> = model
            .pointer("/registered_model/aliases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| Some(format!("{} (version {})", a.get("alias")?.as_str()?, a.get("version")?.as_str()?)))
            .collect();
        let have = if aliases.is_empty() { "it has no aliases".to_string() } else { format!("its aliases: {}", aliases.join(", ")) };
        let versions = || async {
            let filter = format!("name='{}'", name.replace('\'', "\\'"));
            let found = self.get("model-versions/search", &[("filter", &filter), ("max_results", "200")]).await.ok()?;
            let mut v: Vec<u64> = found.get("model_versions")?.as_array()?.iter().filter_map(|m| m.get("version")?.as_str()?.parse().ok()).collect();
            v.sort_unstable();
            Some(v.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
        };
        RegistryError::NotFound(match &r.selector {
            Selector::Alias(a) => format!("MLflow model {name:?} has no alias {a:?} ({have})"),
            Selector::Version(v) => match versions().await.filter(|v| !v.is_empty()) {
                Some(list) => format!("MLflow model {name:?} has no version {v} (its versions: {list})"),
                None => format!("MLflow model {name:?} has no version {v}"),
            },
            Selector::Stage(s) => format!("MLflow model {name:?}: stage {s:?}: {message}"),
        })
    }

    /// A model version object of an answer.
    fn version_in(&self, v: Option<&Value>) -> Result<RawVersion, RegistryError> {
        serde_json::from_value(v.cloned().unwrap_or(Value::Null)).map_err(|e| self.bad_answer(e))
    }

    fn bad_answer(&self, e: impl std::fmt::Display) -> RegistryError {
        RegistryError::Failed { uri: self.base.clone(), status: 200, what: "a model version request".into(), message: format!("unexpected answer: {e}") }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, RegistryError> {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        self.json(self.send(hyper::Method::GET, &format!("mlflow/{path}?{}", q.join("&")), None).await?)
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, RegistryError> {
        self.json(self.send(hyper::Method::POST, &format!("mlflow/{path}"), Some(body.to_string())).await?)
    }

    fn json(&self, bytes: Bytes) -> Result<Value, RegistryError> {
        serde_json::from_slice(&bytes).map_err(|e| self.bad_answer(format!("not JSON: {e}")))
    }

    /// The files under `path` of a server that proxies its artifact store
    /// (`mlflow-artifacts:` URIs): (path relative to `path`, is a directory).
    pub async fn list_artifacts(&self, path: &str) -> Result<Vec<(String, bool)>, RegistryError> {
        let v = self.json(self.send(hyper::Method::GET, &format!("mlflow-artifacts/artifacts?path={}", encode(path)), None).await?)?;
        let files = v.get("files").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(files
            .iter()
            .filter_map(|f| Some((f.get("path")?.as_str()?.to_string(), f.get("is_dir").and_then(Value::as_bool).unwrap_or(false))))
            .collect())
    }

    /// One file of a proxied artifact store.
    pub async fn download_artifact(&self, path: &str) -> Result<Bytes, RegistryError> {
        let encoded: Vec<String> = path.split('/').map(encode).collect();
        self.send(hyper::Method::GET, &format!("mlflow-artifacts/artifacts/{}", encoded.join("/")), None).await
    }

    /// `path` under `/api/2.0/`; the answer's body when it is a success.
    async fn send(&self, method: hyper::Method, path: &str, body: Option<String>) -> Result<Bytes, RegistryError> {
        let url = format!("{}/api/2.0/{path}", self.base);
        let mut req = hyper::Request::builder().method(method).uri(&url).header("accept", "application/json");
        if let Some(auth) = &self.auth {
            req = req.header("authorization", auth);
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(Full::new(Bytes::from(body.unwrap_or_default()))).map_err(|e| RegistryError::Setup(e.to_string()))?;
        let unreachable = |cause: String| RegistryError::Unreachable { uri: self.base.clone(), cause };
        let answer = tokio::time::timeout(TIMEOUT, async {
            let resp = self.client.request(req).await.map_err(|e| unreachable(connect_cause(&e)))?;
            let status = resp.status().as_u16();
            let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(|t| t.split(';').next().unwrap_or(t).to_string());
            let bytes = resp.into_body().collect().await.map_err(|e| unreachable(e.to_string()))?.to_bytes();
            Ok::<_, RegistryError>((status, content_type, bytes))
        })
        .await
        .map_err(|_| unreachable(format!("no answer in {} s", TIMEOUT.as_secs())))??;
        let (status, content_type, bytes) = answer;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        let kind = content_type.map(|t| format!(", {t}")).unwrap_or_default();
        // MLflow's errors are JSON with an error_code; anything else (a web
        // page, another service) is not a tracking server's answer.
        let from_mlflow = json.as_ref().is_some_and(|j| j.get("error_code").is_some());
        if !(200..=299).contains(&status) && !from_mlflow && status != 401 && status != 403 {
            return Err(RegistryError::NotTracking { uri: self.base.clone(), status, kind, what: format!("/api/2.0/{}", path.split('?').next().unwrap_or(path)) });
        }
        let message = || {
            json.as_ref()
                .and_then(|j| j.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect())
        };
        match status {
            200..=299 => Ok(bytes),
            401 | 403 => Err(RegistryError::Denied { uri: self.base.clone(), status, message: message() }),
            _ => Err(RegistryError::Failed { uri: self.base.clone(), status, what: path.split('?').next().unwrap_or(path).to_string(), message: message() }),
        }
    }
}

/// The innermost cause of a connection failure ("Connection refused"),
/// not hyper's "client error (Connect)".
fn connect_cause(e: &hyper_util::client::legacy::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn encode(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn only_http_tracking_servers_and_mlflows_credentials() {
        for bad in ["file:///tmp/mlruns", "sqlite:///mlflow.db", "databricks", "mlflow.internal:5000", ""] {
            let e = Registry::new(bad, &env(&[])).err().expect(bad).to_string();
            assert!(e.contains("HTTP(S)"), "{bad}: {e}");
        }
        let r = Registry::new("https://mlflow.internal/", &env(&[])).unwrap();
        assert_eq!((r.uri(), r.auth.as_deref()), ("https://mlflow.internal", None));
        let r = Registry::new("http://m:5000", &env(&[("MLFLOW_TRACKING_USERNAME", "ana"), ("MLFLOW_TRACKING_PASSWORD", "pw")])).unwrap();
        assert_eq!(r.auth.as_deref(), Some("Basic YW5hOnB3"));
        let r = Registry::new("http://m:5000", &env(&[("MLFLOW_TRACKING_TOKEN", "t"), ("MLFLOW_TRACKING_USERNAME", "ana")])).unwrap();
        assert_eq!(r.auth.as_deref(), Some("Bearer t"));
    }

    #[tokio::test]
    async fn an_unreachable_registry_is_said_as_such_and_is_not_the_files_fault() {
        // A port nothing listens on (bound, then closed).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let r = Registry::new(&format!("http://127.0.0.1:{port}"), &env(&[])).unwrap();
        let e = r.resolve(&ModelRef { model: "m".into(), selector: Selector::Alias("a".into()) }).await.unwrap_err();
        assert!(matches!(e, RegistryError::Unreachable { .. }) && !e.is_usage(), "{e}");
        assert!(e.to_string().contains(&format!("127.0.0.1:{port}")) && e.to_string().to_lowercase().contains("refused"), "{e}");
    }
}
