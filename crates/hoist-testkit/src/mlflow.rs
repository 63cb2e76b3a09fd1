//! A real MLflow tracking server per test, its artifacts in the emulator's
//! S3, for the model-registry tests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::emulator::{DEFAULT_REGION, emulator_python, free_port, listens, repo_root};
use crate::{Emulator, IsolatedEnv};

/// The emulator bucket the server's default artifact root is in.
pub const ARTIFACT_BUCKET: &str = "hoist-mlflow-artifacts";

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A model version [`MlflowServer::register`] created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredVersion {
    pub version: String,
    /// Where its files are (`MLmodel`, `model.skops`, `requirements.txt`...):
    /// `s3://hoist-mlflow-artifacts/0/models/m-<id>/artifacts`.
    pub artifact_uri: String,
}

/// A running `mlflow server`: sqlite backend store, artifacts written by
/// clients straight to the emulator's S3 (`--no-serve-artifacts`). Killed,
/// with its workers, when dropped.
pub struct MlflowServer {
    /// `None` while stopped.
    child: Option<Child>,
    port: u16,
    /// Home, sqlite store and logs (its temp dir), and the variables both
    /// the server and `register.py` run with.
    env: IsolatedEnv,
    /// Artifacts through the server (`--serve-artifacts`), not straight to S3.
    proxied: bool,
}

/// `mlflow` in the emulator's venv, installed by `scripts/test`.
fn mlflow_program() -> PathBuf {
    let program = emulator_python().with_file_name("mlflow");
    assert!(
        program.exists(),
        "MLflow is not installed at {}.\n\
         Run `scripts/test` (it installs the version pinned in tests/mlflow/requirements.txt \
         into .venv), or set HOIST_EMULATOR_PYTHON to a venv that has it.",
        program.display()
    );
    program
}

impl MlflowServer {
    /// Create the artifact bucket in `emulator` and start a server on a
    /// free loopback port. Panics, with the server's output, if it does
    /// not answer `/health` within a minute.
    pub async fn start(emulator: &Emulator) -> Self {
        Self::start_with(emulator, false).await
    }

    /// As [`start`](Self::start), but the server proxies its artifact store
    /// (`--serve-artifacts`, MLflow's default): clients read and write
    /// artifacts over HTTP (`mlflow-artifacts:/...` URIs) and only the
    /// server touches S3 (the bucket's `proxied/` prefix).
    pub async fn start_proxied(emulator: &Emulator) -> Self {
        Self::start_with(emulator, true).await
    }

    async fn start_with(emulator: &Emulator, proxied: bool) -> Self {
        mlflow_program();
        let sdk = emulator.sdk_config().await;
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        match s3.create_bucket().bucket(ARTIFACT_BUCKET).send().await {
            Ok(_) => {}
            // A second server on the same emulator shares the bucket.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => {}
            Err(e) => panic!("creating the MLflow artifact bucket: {e:?}"),
        }
        // emulator.env(): a temp HOME and empty AWS config files (nothing
        // of the developer's ~/.aws or ~/.mlflow), the admin keys.
        let mut env = emulator.env();
        env.set("AWS_DEFAULT_REGION", DEFAULT_REGION)
            .set("MLFLOW_S3_ENDPOINT_URL", emulator.endpoint())
            // No usage reports to MLflow's servers from tests.
            .set("MLFLOW_DISABLE_TELEMETRY", "true")
            .set("DO_NOT_TRACK", "true")
            // Otherwise the server starts a job runner and 6 huey consumer
            // processes (GenAI jobs): seconds of start-up, none of use here.
            .set("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false");
        let mut server = Self { child: None, port: 0, env, proxied };
        let mut last_error = String::new();
        // A port found free can be taken by someone else before MLflow
        // binds it; try a few times before giving up.
        for _attempt in 0..3 {
            server.port = free_port();
            match server.spawn() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("the MLflow server did not start: {last_error}");
    }

    fn spawn(&mut self) -> Result<(), String> {
        let port = self.port;
        self.env.set("MLFLOW_TRACKING_URI", self.uri());
        let log_path = self.env.path().join(format!("mlflow-{port}.log"));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).expect("create MLflow log");
        let store = format!("sqlite:///{}", self.env.path().join("mlflow.db").display());
        let mut cmd = self.env.command(emulator_python());
        cmd.arg(repo_root().join("tests/mlflow/server.py"))
            .args(["server", "--backend-store-uri", &store])
            .args(if self.proxied {
                vec!["--serve-artifacts".to_string(), "--artifacts-destination".to_string(), format!("s3://{ARTIFACT_BUCKET}/proxied")]
            } else {
                vec!["--default-artifact-root".to_string(), format!("s3://{ARTIFACT_BUCKET}/"), "--no-serve-artifacts".to_string()]
            })
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--workers", "1"])
            // Its own group, so that stopping it stops uvicorn too; stdin
            // held open so that the group dies with the test process even
            // if this is never dropped (tests/mlflow/server.py).
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run tests/mlflow/server.py: {e}"));
        let child = self.child.insert(child);
        match wait_until_healthy(child, port) {
            Ok(()) => Ok(()),
            Err(reason) => {
                self.kill();
                Err(format!("{reason}\n--- MLflow output ---\n{}", self.log()))
            }
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn artifact_bucket(&self) -> &str {
        ARTIFACT_BUCKET
    }

    /// Log and register one new version of `name` per value, in order
    /// (tests/mlflow/register.py, one process: importing MLflow takes
    /// seconds). Each is a scikit-learn model that predicts its value for
    /// the input `[[1]]`. Panics with the script's output if it fails.
    pub fn register(&self, name: &str, values: &[f64]) -> Vec<RegisteredVersion> {
        assert!(!values.is_empty(), "register at least one value");
        let mut cmd = self.env.command(emulator_python());
        cmd.arg(repo_root().join("tests/mlflow/register.py")).args(["register", "--name", name]);
        for value in values {
            cmd.arg("--value").arg(value.to_string());
        }
        let out = cmd.output().expect("running tests/mlflow/register.py");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "register.py {name} failed ({}):\n{stderr}", out.status);
        let versions: Vec<RegisteredVersion> = stdout
            .lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("register.py printed {line:?}: {e}"));
                RegisteredVersion {
                    version: v["version"].as_str().expect("version").to_string(),
                    artifact_uri: v["artifact_uri"].as_str().expect("artifact_uri").to_string(),
                }
            })
            .collect();
        assert_eq!(versions.len(), values.len(), "register.py printed:\n{stdout}\n{stderr}");
        versions
    }

    /// One request to the server's REST API (`path` with any query string,
    /// already encoded): the status and body. Panics if it cannot connect.
    pub fn request(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> (u16, String) {
        http(self.port, method, path, body).unwrap_or_else(|e| panic!("MLflow {method} {path} at {}: {e}", self.uri()))
    }

    /// Point `alias` of model `name` at `version`.
    pub fn set_alias(&self, name: &str, alias: &str, version: &str) {
        let body = serde_json::json!({"name": name, "alias": alias, "version": version});
        let (status, answer) = self.request("POST", "/api/2.0/mlflow/registered-models/alias", Some(&body));
        assert_eq!(status, 200, "MLflow set alias {name}@{alias} -> {version}: {answer}");
    }

    /// Remove `alias` from model `name`.
    pub fn delete_alias(&self, name: &str, alias: &str) {
        // MLflow reads a DELETE's parameters from a JSON body, as its own
        // client sends them; a query string is "missing value for 'name'".
        let body = serde_json::json!({"name": name, "alias": alias});
        let (status, answer) = self.request("DELETE", "/api/2.0/mlflow/registered-models/alias", Some(&body));
        assert_eq!(status, 200, "MLflow delete alias {name}@{alias}: {answer}");
    }

    /// Kill the server (a registry outage): its port refuses connections
    /// when this returns. [`restart`](Self::restart) brings it back.
    pub fn stop(&mut self) {
        self.kill();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(started.elapsed() < Duration::from_secs(10), "MLflow still listening on {} after being killed", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Start the server again after [`stop`](Self::stop), on the same port
    /// with the same store: what was registered is still there. Panics,
    /// with its output, if it does not come up.
    pub fn restart(&mut self) {
        self.kill();
        if let Err(e) = self.spawn() {
            panic!("the MLflow server did not restart on port {}: {e}", self.port);
        }
    }

    /// The server's own output so far, over restarts (for assertion
    /// messages).
    pub fn log(&self) -> String {
        let mut all = String::new();
        if let Ok(entries) = std::fs::read_dir(self.env.path()) {
            for entry in entries.flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".log")) {
                all.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        all
    }

    /// Kill the server's whole process group: SIGTERM, and SIGKILL for
    /// whatever is left after a grace period.
    fn kill(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let group = child.id() as libc::pid_t;
        // SAFETY: plain kill(2) on the group the server leads.
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let started = Instant::now();
        while matches!(child.try_wait(), Ok(None)) && started.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: as above; ESRCH (nothing left) is fine.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = child.wait();
    }
}

impl Drop for MlflowServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Poll `/health` until it answers, or the server exits, or time runs out.
fn wait_until_healthy(child: &mut Child, port: u16) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("MLflow exited early with {status}"));
        }
        // Answering, and by our server: uvicorn, a child of the one we
        // started, holds the socket (another test's server could have
        // taken the port first).
        let healthy = matches!(http(port, "GET", "/health", None), Ok((200, _)));
        if healthy && (listens(child.id(), port) || children(child.id()).into_iter().any(|c| listens(c, port))) {
            return Ok(());
        }
        if started.elapsed() > STARTUP_TIMEOUT {
            return Err(format!("MLflow did not answer /health on port {port} within {STARTUP_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The direct children of process `pid`.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .collect()
}

/// One plain HTTP/1.1 request on loopback (`Connection: close`; MLflow's
/// uvicorn answers with a Content-Length, so the body is what follows the
/// headers).
fn http(port: u16, method: &str, path: &str, body: Option<&serde_json::Value>) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| std::io::Error::other(format!("not HTTP: {answer:?}")))?;
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}
