//! The local backend: jobs run on this machine, their state kept under
//! hoist's data directory in the same layout as the artifact bucket
//! (`<data>/<workspace>/jobs/<id>/...`).

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result};

use crate::agent::process::{hostname, pid_alive};
use crate::jobs::logstore::LogStore;
use crate::jobs::record::{JobRecord, Status, parse_time};
use crate::jobs::store::{Store, job_key};
use crate::workspace::Workspace;

/// A pending attempt whose agent never recorded itself within this long
/// is considered lost (the agent failed to start, or the machine rebooted).
const PENDING_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct Local {
    pub root: PathBuf,
}

/// hoist's data directory: `HOIST_DATA_DIR`, else the platform's
/// (`~/.local/share/hoist` on Linux).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HOIST_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "hoist")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".hoist"))
}

/// Make `dir` (and missing parents) private to the user: 0700. Job
/// records, logs, code bundles and checkpoints live under it, and on a
/// shared machine nobody else may read them; with the top directory
/// private, nothing below it can be reached by another user whatever its
/// own mode. An existing directory of hoist's that is looser is tightened.
pub fn ensure_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let meta = std::fs::metadata(dir)?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

impl Local {
    pub fn new(workspace: &Workspace) -> Self {
        let root = data_dir().join(workspace.as_str());
        // Best effort here: a directory that cannot be made fails the
        // first write below it, with that path in the message.
        let _ = ensure_private_dir(&data_dir()).and_then(|()| ensure_private_dir(&root));
        Self { root }
    }

    pub fn store(&self) -> Store {
        Store::Local { root: self.root.clone() }
    }

    pub fn logs(&self) -> LogStore {
        LogStore::Local { root: self.root.clone() }
    }

    pub fn scratch(&self) -> PathBuf {
        self.root.join("scratch")
    }

    /// Start the agent for the job's pending attempt, detached from this
    /// terminal: its own session, so closing the terminal or pressing
    /// Ctrl-C does not kill it (`hoist cancel` does). Secret values reach
    /// it only through its environment.
    pub fn spawn_agent(&self, id: &str, attempt: u32, secrets: &[(String, String)]) -> Result<Child> {
        let exe = std::env::current_exe().context("locating the hoist executable")?;
        let log_dir = self.root.join("jobs").join(id);
        std::fs::create_dir_all(&log_dir)?;
        let agent_log = std::fs::File::create(log_dir.join(format!("agent-{attempt}.log")))?;
        let mut cmd = Command::new(exe);
        cmd.arg("agent")
            .arg("--store")
            .arg(self.store().url())
            .arg("--logs")
            .arg(self.logs().url())
            .arg("--job")
            .arg(id)
            .arg("--scratch")
            .arg(self.scratch())
            .envs(secrets.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(agent_log.try_clone()?)
            .stderr(agent_log);
        // SAFETY: setsid is async-signal-safe and touches no memory.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.spawn().context("starting the hoist agent")
    }

    /// Ask the job to stop: a marker the agent checks (it tells a cancel
    /// from other stops), then SIGTERM to the agent for an immediate stop.
    pub async fn request_cancel(&self, record: &JobRecord) -> Result<()> {
        let store = self.store();
        store.put(&job_key(&record.id, "cancel"), crate::jobs::record::now().into_bytes()).await?;
        if let Some(agent) = &record.attempt().agent
            && agent.host == hostname()
            && pid_alive(agent.pid)
        {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe {
                libc::kill(agent.pid as i32, libc::SIGTERM);
            }
        }
        Ok(())
    }

    /// Correct a record whose agent is gone without a final status (killed,
    /// machine rebooted): the attempt becomes `interrupted` and can be
    /// resumed. Returns whether the record changed (and was saved).
    pub async fn reconcile(&self, record: &mut JobRecord) -> Result<bool> {
        if record.status.is_terminal() {
            return Ok(false);
        }
        let lost = match &record.attempt().agent {
            Some(agent) => agent.host == hostname() && !pid_alive(agent.pid),
            None => record.status == Status::Pending
                && parse_time(&record.attempt().created_at)
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .is_some_and(|age| age > PENDING_TIMEOUT),
        };
        if !lost {
            return Ok(false);
        }
        // Compare-and-swap: the agent may have recorded its final status
        // just now; that wins.
        let number = record.attempt().number;
        let updated = self.store().end_attempt(&record.id, number, Status::Interrupted, "the agent stopped without recording a final status").await?;
        let changed = updated != *record;
        *record = updated;
        Ok(changed)
    }
}
