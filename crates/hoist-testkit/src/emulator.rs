//! A fresh moto server per test, on a free loopback port.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_types::SdkConfig;
use tempfile::TempDir;

use crate::env::IsolatedEnv;

/// The account moto answers for.
pub const ACCOUNT: &str = "123456789012";

/// Region the harness configures unless a test chooses another.
pub const DEFAULT_REGION: &str = "us-east-1";

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// How the server is started.
#[derive(Debug, Clone, Default)]
pub struct EmulatorOptions {
    /// Judge requests against the signing IAM user's policies (after the
    /// harness has created an all-powerful bootstrap user).
    pub enforce_iam: bool,
    /// Make AWS managed policies (e.g. `arn:aws:iam::aws:policy/...`)
    /// attachable. Slower start-up.
    pub load_managed_policies: bool,
}

/// An access key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// A running moto server. Killed when dropped.
pub struct Emulator {
    child: Child,
    endpoint: String,
    /// Keys with full rights: moto's default ones, or, under enforcement,
    /// those of the bootstrap admin user.
    admin: Keys,
    log_dir: TempDir,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python that has the pinned moto, installed by `scripts/test`.
pub fn emulator_python() -> PathBuf {
    if let Some(path) = std::env::var_os("HOIST_EMULATOR_PYTHON") {
        return PathBuf::from(path);
    }
    repo_root().join(".venv/bin/python")
}

/// moto's server with hoist's documented emulator patches.
fn emulator_script() -> PathBuf {
    repo_root().join("tests/emulator/server.py")
}

impl Emulator {
    /// Start a plain server (no IAM enforcement). Panics, with the server's
    /// own output, if it cannot start.
    pub fn start() -> Self {
        Self::spawn(&EmulatorOptions::default(), None)
    }

    /// Start a server with options. Under `enforce_iam` this creates the
    /// bootstrap admin user, so it is async.
    pub async fn start_with(opts: EmulatorOptions) -> Self {
        if !opts.enforce_iam {
            return Self::spawn(&opts, None);
        }
        // moto lets the first N service requests through unauthenticated,
        // then judges every request. The harness spends exactly those N on
        // creating an admin user, and uses its keys from then on.
        const BOOTSTRAP_REQUESTS: u32 = 3;
        let mut emulator = Self::spawn(&opts, Some(BOOTSTRAP_REQUESTS));
        // No retries: a retried request would spend one of the N (a slow
        // answer under load is retried, then meets "already exists").
        let sdk = aws_sdk_iam::config::Builder::from(&emulator.sdk_config().await)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(aws_config::timeout::TimeoutConfig::builder().operation_attempt_timeout(std::time::Duration::from_secs(60)).build())
            .build();
        let admin = user_with_inline_policy(&aws_sdk_iam::Client::from_conf(sdk), "hoist-test-admin", &allow_all_policy()).await;
        emulator.admin = admin;
        emulator
    }

    fn spawn(opts: &EmulatorOptions, no_auth_count: Option<u32>) -> Self {
        let program = emulator_python();
        assert!(
            program.exists(),
            "the AWS emulator is not installed at {}.\n\
             Run `scripts/test` (it creates .venv and installs the version pinned in \
             tests/emulator/requirements.txt), or set HOIST_EMULATOR_PYTHON.",
            program.display()
        );
        let log_dir = tempfile::Builder::new().prefix("hoist-moto-").tempdir().expect("temp dir");
        let mut last_error = String::new();
        // A port found free can be taken by someone else before moto binds
        // it; try a few times before giving up.
        for _attempt in 0..3 {
            let port = free_port();
            let log_path = log_dir.path().join(format!("moto-{port}.log"));
            let log = std::fs::File::create(&log_path).expect("create moto log");
            let mut cmd = Command::new(&program);
            cmd.arg(emulator_script())
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::piped())
                .env("HOIST_EXIT_ON_STDIN_EOF", "1")
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", if opts.load_managed_policies { "true" } else { "false" })
                .env_remove("AWS_ENDPOINT_URL");
            if let Some(n) = no_auth_count {
                cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
            }
            // If the test process dies without running destructors (killed
            // by a timeout), the server's stdin reaches end of file and it
            // exits (server.py): no orphans. Not PR_SET_PDEATHSIG: that fires
            // when the spawning *thread* exits, and killed servers under
            // tests that start them from short-lived threads.
            let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
            match wait_until_listening(&mut child, port) {
                Ok(()) => {
                    return Self {
                        child,
                        endpoint: format!("http://127.0.0.1:{port}"),
                        admin: Keys {
                            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                            secret_access_key: "testing".into(),
                        },
                        log_dir,
                    };
                }
                Err(reason) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let mut output = String::new();
                    let _ = std::fs::File::open(&log_path).and_then(|mut f| f.read_to_string(&mut output));
                    last_error = format!("{reason}\n--- moto output ---\n{output}");
                }
            }
        }
        panic!("the AWS emulator did not start: {last_error}");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn admin_keys(&self) -> &Keys {
        &self.admin
    }

    /// SDK configuration with the admin keys, for setting up and inspecting
    /// state directly.
    pub async fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_for(&self.admin, DEFAULT_REGION).await
    }

    /// SDK configuration with the given keys and region.
    pub async fn sdk_config_for(&self, keys: &Keys, region: &str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(
                &keys.access_key_id,
                &keys.secret_access_key,
                None,
                None,
                "hoist-testkit",
            ))
            // The harness's own requests (creating users, reading state
            // back) wait as long as a loaded emulator takes: stalled-stream
            // protection (1 s without a byte) is for hoist, not for them.
            .stalled_stream_protection(aws_config::stalled_stream_protection::StalledStreamProtectionConfig::disabled())
            .load()
            .await
    }

    /// An isolated environment whose AWS settings point at this server,
    /// signed with the admin keys.
    pub fn env(&self) -> IsolatedEnv {
        self.env_for(&self.admin)
    }

    /// An isolated environment signed with `keys`.
    pub fn env_for(&self, keys: &Keys) -> IsolatedEnv {
        let mut env = IsolatedEnv::new();
        env.set("AWS_ACCESS_KEY_ID", &keys.access_key_id)
            .set("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
            .set("AWS_REGION", DEFAULT_REGION)
            .set("AWS_ENDPOINT_URL", &self.endpoint);
        env
    }

    /// Create an IAM user holding exactly `policy` (one inline policy) and
    /// return its access keys. Requests signed with them are judged by
    /// that policy when the server enforces IAM.
    pub async fn create_user_with_policy(&self, user: &str, policy: &serde_json::Value) -> Keys {
        user_with_inline_policy(&aws_sdk_iam::Client::new(&self.sdk_config().await), user, policy).await
    }

    /// Create an IAM user holding `documents` as customer-managed policies
    /// (one each, attached to the user), as an administrator hands out
    /// `hoist policy` output, and return its access keys.
    pub async fn create_user_with_managed_policies(&self, user: &str, documents: &[serde_json::Value]) -> Keys {
        let iam = aws_sdk_iam::Client::new(&self.sdk_config().await);
        let mut arns = Vec::new();
        for (i, doc) in documents.iter().enumerate() {
            let p = iam
                .create_policy()
                .policy_name(format!("{user}-{}", i + 1))
                .policy_document(doc.to_string())
                .send()
                .await
                .expect("iam:CreatePolicy");
            arns.push(p.policy.and_then(|p| p.arn).expect("policy ARN"));
        }
        self.create_user_with_attached(user, &arns).await
    }

    /// Create an IAM user with these managed policies (by ARN) attached.
    pub async fn create_user_with_attached(&self, user: &str, policy_arns: &[String]) -> Keys {
        let iam = aws_sdk_iam::Client::new(&self.sdk_config().await);
        iam.create_user().user_name(user).send().await.expect("iam:CreateUser");
        for arn in policy_arns {
            iam.attach_user_policy().user_name(user).policy_arn(arn).send().await.expect("iam:AttachUserPolicy");
        }
        access_keys(&iam, user).await
    }

    /// The server's own log so far (for assertion messages).
    pub fn log(&self) -> String {
        let mut all = String::new();
        if let Ok(entries) = std::fs::read_dir(self.log_dir.path()) {
            for entry in entries.flatten() {
                all.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        all
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn allow_all_policy() -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    })
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free loopback port")
}

/// Poll until the server accepts connections, or it exits, or time runs out.
fn wait_until_listening(child: &mut Child, port: u16) -> Result<(), String> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(20);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("moto exited early with {status}"));
        }
        // Listening, and by our child: a port found free can be bound by
        // another test's server first, which would then answer for ours
        // (two tests bootstrapping one server) while ours fails to bind.
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok() && listens(child.id(), port) {
            return Ok(());
        }
        if started.elapsed() > STARTUP_TIMEOUT {
            return Err(format!("moto did not listen on port {port} within {STARTUP_TIMEOUT:?}"));
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(200));
    }
}

/// Whether process `pid` holds the socket listening on loopback `port`:
/// the LISTEN entry's inode in /proc/net/tcp among the process's open
/// sockets.
pub(crate) fn listens(pid: u32, port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else { return true };
    let want = format!(":{port:04X}");
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (f.len() > 9 && f[1].ends_with(&want) && f[3] == "0A").then(|| f[9].to_string())
        })
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    fds.flatten().filter_map(|fd| std::fs::read_link(fd.path()).ok()).any(|target| {
        let t = target.to_string_lossy();
        inodes.iter().any(|i| t == format!("socket:[{i}]"))
    })
}

/// A new access key for `user`.
async fn access_keys(iam: &aws_sdk_iam::Client, user: &str) -> Keys {
    let key = iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .expect("iam:CreateAccessKey")
        .access_key
        .expect("access key in response");
    Keys { access_key_id: key.access_key_id, secret_access_key: key.secret_access_key }
}

/// Create `user` holding `policy` inline (an array of documents, as
/// `hoist policy` prints a policy too large for one: one inline policy
/// each), with an access key.
async fn user_with_inline_policy(iam: &aws_sdk_iam::Client, user: &str, policy: &serde_json::Value) -> Keys {
    iam.create_user().user_name(user).send().await.expect("iam:CreateUser");
    let docs = match policy {
        serde_json::Value::Array(docs) => docs.clone(),
        doc => vec![doc.clone()],
    };
    for (i, doc) in docs.iter().enumerate() {
        iam.put_user_policy()
            .user_name(user)
            .policy_name(format!("policy-{}", i + 1))
            .policy_document(doc.to_string())
            .send()
            .await
            .expect("iam:PutUserPolicy");
    }
    access_keys(iam, user).await
}

/// Move a SageMaker training job on, as SageMaker's machines would report
/// it (`Training`, `Interrupted`, `Completed`...), through the emulator's
/// control endpoint (patch 11 in `tests/emulator/server.py`). `endpoint`:
/// [`Emulator::endpoint`]. Panics unless the emulator accepts it.
pub fn set_training_job_status(endpoint: &str, name: &str, status: Option<&str>, secondary: &str, failure: Option<&str>) {
    let mut body = serde_json::json!({"TrainingJobName": name, "SecondaryStatus": secondary});
    if let Some(s) = status {
        body["TrainingJobStatus"] = s.into();
    }
    if let Some(f) = failure {
        body["FailureReason"] = f.into();
    }
    post_control(endpoint, "/hoist-emulator/sagemaker/training-job-status", &body);
}

/// Set a SageMaker endpoint's status (`Failed`, `Creating`, `InService`...)
/// as SageMaker would, through the emulator's control endpoint (patch 12 in
/// `tests/emulator/server.py`), with `failure` as its `FailureReason`. By
/// itself a `Creating` or `Updating` endpoint becomes `InService` once
/// `HOIST_EMULATOR_ENDPOINT_SETTLE_SECONDS` (0.3 s) have passed; with `hold`
/// it stays in `status` until set again. `endpoint`: [`Emulator::endpoint`].
/// Panics unless the emulator accepts it.
pub fn set_endpoint_status(endpoint: &str, name: &str, status: &str, failure: Option<&str>, hold: bool) {
    let mut body = serde_json::json!({"EndpointName": name, "EndpointStatus": status, "Hold": hold});
    if let Some(f) = failure {
        body["FailureReason"] = f.into();
    }
    post_control(endpoint, "/hoist-emulator/sagemaker/endpoint-status", &body);
}

/// Make the endpoint's next update fail as a blue/green update does on
/// AWS: once settled it is InService again on its previous configuration,
/// with `reason` as its FailureReason (patch 12's `FailNextUpdate`).
pub fn fail_next_endpoint_update(endpoint: &str, name: &str, reason: &str) {
    post_control(endpoint, "/hoist-emulator/sagemaker/endpoint-status", &serde_json::json!({"EndpointName": name, "FailNextUpdate": reason}));
}

/// POST `body` to one of the emulator's (unsigned) control endpoints;
/// panics with the answer unless it is 200.
fn post_control(endpoint: &str, path: &str, body: &serde_json::Value) {
    use std::io::{Read as _, Write as _};
    let body = body.to_string();
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host).expect("the emulator's port");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"), "the emulator's SageMaker control endpoint {path}: {answer}");
}
