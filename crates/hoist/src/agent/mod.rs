//! The agent: runs one attempt of a job, wherever it is (this machine now,
//! an EC2 instance later), given only the job's store and log store.
//!
//! 1. marks the attempt `running` (with its host and pid) and keeps a
//!    heartbeat;
//! 2. unpacks the code bundle and restores the latest checkpoint;
//! 3. runs `setup`, then `run`, in their own process group, with the
//!    task's envs, its secrets, and `HOIST_JOB_ID`, `HOIST_CHECKPOINT_DIR`,
//!    `HOIST_ARTIFACT_DIR`; every output line goes to the log store, in
//!    order, with secret values masked;
//! 4. syncs the checkpoint directory at an interval and at the end;
//! 5. on SIGTERM, a cancel request or `max_runtime`: SIGTERM to the job's
//!    group, a grace period, SIGKILL, then a final checkpoint sync;
//! 6. uploads artifacts and records the final status and exit code.
//!
//! Any failure of the agent itself is recorded as a `failed` attempt with
//! the reason, never left `running`.

pub mod process;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::time::{MissedTickBehavior, interval_at, sleep_until};

use crate::jobs::checkpoint::{CheckpointSync, upload_tree};
use crate::jobs::logstore::{LogLine, LogStore, LogWriter, Stream};
use crate::jobs::record::{AgentInfo, JobRecord, Status, now};
use crate::jobs::store::{Store, job_key};
use process::{now_ms, signal_group};

pub struct Options {
    pub store: Store,
    pub logs: LogStore,
    pub job_id: String,
    /// Where working copies live while a job runs (removed afterwards).
    pub scratch: PathBuf,
    pub checkpoint_interval: Duration,
    pub heartbeat_interval: Duration,
    /// Time between SIGTERM and SIGKILL when stopping a job.
    pub grace: Duration,
}

/// After the job's main process exits, how long to wait for processes it
/// left behind to close its output before killing them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stop {
    Cancelled,
    Interrupted(String),
    TimedOut(u64),
}

struct Agent {
    opts: Options,
    record: JobRecord,
    log: LogWriter,
    /// Secret values to mask in output (short ones would mask too much).
    masks: Vec<String>,
    stop: Option<Stop>,
    /// The last timestamp written. Lines are stamped by two reader tasks
    /// (stdout, stderr) but logged in the order they arrive; clamping keeps
    /// timestamps in that order too, which CloudWatch requires.
    last_t: i64,
    sigterm: Signal,
    sigint: Signal,
    deadline: Option<Instant>,
}

/// Run the pending attempt of `opts.job_id`. Returns the job's exit code.
pub async fn run(opts: Options) -> Result<i32> {
    // Registered before anything else, so a stop request that arrives
    // while the bundle is unpacking is not lost (and does not kill us).
    let sigterm = signal(SignalKind::terminate())?;
    let sigint = signal(SignalKind::interrupt())?;
    let mut record = opts
        .store
        .load_record(&opts.job_id)
        .await?
        .with_context(|| format!("no job {} in {}", opts.job_id, opts.store.url()))?;
    let attempt = record.attempt().number;
    if record.attempt().status != Status::Pending {
        bail!("attempt {attempt} of job {} is already {}: nothing to run", record.id, record.attempt().status);
    }
    record.attempt_mut().agent = Some(AgentInfo { host: process::hostname(), pid: std::process::id() });
    record.attempt_mut().heartbeat_at = Some(now());
    record.set_status(Status::Running, None);
    opts.store.save_record(&record).await?;
    let log = opts.logs.writer(&record.id, attempt).await?;
    let deadline = record.task.resources.max_runtime.map(|s| Instant::now() + Duration::from_secs(s));
    let mut agent = Agent { opts, record, log, masks: Vec::new(), stop: None, last_t: 0, sigterm, sigint, deadline };

    let outcome = agent.execute().await;
    let code = match outcome {
        Ok(code) => code,
        Err(err) => {
            let reason = format!("{err:#}");
            agent.note(format!("error: {reason}")).await;
            agent.record.set_status(Status::Failed, Some(reason));
            -1
        }
    };
    let _ = agent.log.flush().await;
    agent.record.attempt_mut().heartbeat_at = Some(now());
    agent.opts.store.save_record(&agent.record).await?;
    let _ = std::fs::remove_dir_all(agent.opts.scratch.join(&agent.record.id));
    Ok(code)
}

impl Agent {
    async fn note(&mut self, message: impl Into<String>) {
        let line = LogLine { t: now_ms(), s: Stream::Hoist, l: message.into(), cr: false };
        if let Err(e) = self.write_line(line).await {
            tracing::warn!("could not write to the job log: {e:#}");
        }
    }

    async fn write_line(&mut self, mut line: LogLine) -> Result<()> {
        line.t = line.t.max(self.last_t);
        self.last_t = line.t;
        for secret in &self.masks {
            if line.l.contains(secret.as_str()) {
                line.l = line.l.replace(secret.as_str(), "***");
            }
        }
        self.log.write(line).await
    }

    async fn execute(&mut self) -> Result<i32> {
        let id = self.record.id.clone();
        let task = self.record.task.clone();
        let store = self.opts.store.clone();

        let mut secrets = BTreeMap::new();
        for name in &task.secrets {
            let value = std::env::var(name).with_context(|| format!("secret {name} was not passed to the agent"))?;
            if value.len() >= 3 {
                self.masks.push(value.clone());
            }
            secrets.insert(name.clone(), value);
        }

        let job_dir = self.opts.scratch.join(&id);
        let _ = std::fs::remove_dir_all(&job_dir); // a previous attempt's leftovers
        let work = job_dir.join("work");
        std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
        let bundle = job_dir.join("bundle.tar.gz");
        if store.get_to_file(&job_key(&id, "bundle.tar.gz"), &bundle).await? {
            crate::jobs::bundle::extract(&bundle, &work)?;
            std::fs::remove_file(&bundle)?;
        }

        let ckpt_dir = match &task.checkpoints {
            Some(rel) => work.join(rel),
            None => job_dir.join("checkpoints"),
        };
        let artifact_dir = job_dir.join("artifacts");
        std::fs::create_dir_all(&artifact_dir)?;
        let mut ckpt = CheckpointSync::new(store.clone(), job_key(&id, "checkpoints/"), ckpt_dir.clone());
        let restored = ckpt.restore().await.context("restoring the checkpoint")?;
        if restored.uploaded > 0 {
            self.note(format!("restored checkpoint: {}, {}", crate::printer::count(restored.uploaded as usize, "file"), human_bytes(restored.bytes))).await;
        }

        let mut env = task.envs.clone();
        env.extend(secrets);
        env.insert("HOIST_JOB_ID".into(), id.clone());
        env.insert("HOIST_ATTEMPT".into(), self.record.attempt().number.to_string());
        env.insert("HOIST_CHECKPOINT_DIR".into(), ckpt_dir.display().to_string());
        env.insert("HOIST_ARTIFACT_DIR".into(), artifact_dir.display().to_string());
        // Python buffers stdout when it is a pipe; logs should be live.
        env.entry("PYTHONUNBUFFERED".into()).or_insert_with(|| "1".into());

        let mut code = 0;
        let phases = [("setup", task.setup.as_deref()), ("run", Some(task.run.as_str()))];
        for (phase, script) in phases {
            let Some(script) = script else { continue };
            if self.stop.is_some() {
                break;
            }
            self.note(format!("{phase} started")).await;
            let mut p = process::spawn(script, &work, &env)?;
            code = self.supervise(&mut p, &mut ckpt).await?;
            self.note(format!("{phase} exited with code {code}")).await;
            if code != 0 {
                break;
            }
        }
        self.log.flush().await?;

        let saved = ckpt.sync().await.context("saving the final checkpoint")?;
        if saved.uploaded + saved.deleted > 0 {
            self.note(format!("checkpoint saved: {} uploaded, {} removed", crate::printer::count(saved.uploaded as usize, "file"), saved.deleted)).await;
        }
        let mut kept = upload_tree(&store, &artifact_dir, &job_key(&id, "artifacts/")).await?;
        for path in &task.artifacts {
            let src = work.join(path);
            if src.exists() {
                let prefix = if src.is_file() {
                    job_key(&id, &format!("artifacts/{}", parent_of(path)))
                } else {
                    job_key(&id, &format!("artifacts/{path}/"))
                };
                let s = upload_tree(&store, &src, &prefix).await?;
                kept.uploaded += s.uploaded;
                kept.bytes += s.bytes;
            } else {
                self.note(format!("artifact {path} not found in the working copy")).await;
            }
        }
        if kept.uploaded > 0 {
            self.note(format!("artifacts kept: {}, {}", crate::printer::count(kept.uploaded as usize, "file"), human_bytes(kept.bytes))).await;
        }

        let (status, reason) = match &self.stop {
            Some(Stop::Cancelled) => (Status::Cancelled, "cancelled on request".to_string()),
            Some(Stop::Interrupted(why)) => (Status::Interrupted, why.clone()),
            Some(Stop::TimedOut(s)) => (Status::Failed, format!("stopped after max_runtime ({s} s)")),
            None if code == 0 => (Status::Succeeded, "exited with code 0".to_string()),
            None => (Status::Failed, format!("exited with code {code}")),
        };
        self.note(format!("job {status}: {reason}")).await;
        self.record.attempt_mut().exit_code = Some(code);
        self.record.set_status(status, Some(reason));
        Ok(code)
    }

    /// Pump the phase's output into the log until it exits, while keeping
    /// the heartbeat, syncing checkpoints and handling stop requests.
    async fn supervise(&mut self, p: &mut process::Phase, ckpt: &mut CheckpointSync) -> Result<i32> {
        let start = tokio::time::Instant::now();
        let mut heartbeat = interval_at(start + self.opts.heartbeat_interval, self.opts.heartbeat_interval);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut sync = interval_at(start + self.opts.checkpoint_interval, self.opts.checkpoint_interval);
        sync.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
        let deadline = self.deadline.map(tokio::time::Instant::from_std).unwrap_or(far);
        let mut kill_at = far;
        let mut drain_until = far;
        let mut status = None;
        let mut lines_open = true;

        while status.is_none() || lines_open {
            tokio::select! {
                line = p.lines.recv(), if lines_open => match line {
                    Some(line) => {
                        self.write_line(line).await?;
                        while let Ok(line) = p.lines.try_recv() {
                            self.write_line(line).await?;
                        }
                        self.log.flush().await?;
                    }
                    None => lines_open = false,
                },
                exit = p.child.wait(), if status.is_none() => {
                    status = Some(exit.context("waiting for the job process")?);
                    drain_until = tokio::time::Instant::now() + DRAIN_TIMEOUT;
                }
                _ = sleep_until(drain_until), if status.is_some() && lines_open => {
                    // Processes the job left behind still hold its output
                    // open: stop them, keep what they already wrote.
                    signal_group(p.pid, libc::SIGKILL);
                    while let Ok(line) = p.lines.try_recv() {
                        self.write_line(line).await?;
                    }
                    lines_open = false;
                }
                _ = heartbeat.tick() => {
                    self.record.attempt_mut().heartbeat_at = Some(now());
                    self.opts.store.save_record(&self.record).await?;
                    if self.stop.is_none() && self.cancel_requested().await? {
                        self.begin_stop(Stop::Cancelled, p.pid, &mut kill_at).await;
                    }
                }
                _ = sync.tick(), if self.stop.is_none() => {
                    if let Err(e) = ckpt.sync().await {
                        self.note(format!("checkpoint sync failed (will retry): {e:#}")).await;
                    }
                }
                _ = self.sigterm.recv() => self.on_signal("SIGTERM", p.pid, &mut kill_at).await?,
                _ = self.sigint.recv() => self.on_signal("SIGINT", p.pid, &mut kill_at).await?,
                _ = sleep_until(deadline), if self.stop.is_none() && status.is_none() => {
                    let secs = self.record.task.resources.max_runtime.unwrap_or_default();
                    self.begin_stop(Stop::TimedOut(secs), p.pid, &mut kill_at).await;
                }
                _ = sleep_until(kill_at), if status.is_none() => {
                    self.note("the job did not stop within the grace period: sending SIGKILL").await;
                    signal_group(p.pid, libc::SIGKILL);
                    kill_at = far;
                }
            }
        }
        let status = status.expect("loop ends after exit");
        use std::os::unix::process::ExitStatusExt;
        Ok(status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
    }

    async fn on_signal(&mut self, name: &str, pid: u32, kill_at: &mut tokio::time::Instant) -> Result<()> {
        if self.stop.is_some() {
            return Ok(());
        }
        // `hoist cancel` leaves a marker before signalling: that tells a
        // cancellation from any other stop (shutdown, spot reclaim).
        let stop = if self.cancel_requested().await? { Stop::Cancelled } else { Stop::Interrupted(format!("the agent received {name}")) };
        self.begin_stop(stop, pid, kill_at).await;
        Ok(())
    }

    async fn begin_stop(&mut self, stop: Stop, pid: u32, kill_at: &mut tokio::time::Instant) {
        let why = match &stop {
            Stop::Cancelled => "cancel requested".to_string(),
            Stop::Interrupted(why) => why.clone(),
            Stop::TimedOut(s) => format!("max_runtime of {s} s reached"),
        };
        self.stop = Some(stop);
        signal_group(pid, libc::SIGTERM);
        *kill_at = tokio::time::Instant::now() + self.opts.grace;
        self.note(format!("stopping ({why}): sent SIGTERM, waiting up to {} s", self.opts.grace.as_secs())).await;
    }

    async fn cancel_requested(&self) -> Result<bool> {
        self.opts.store.exists(&job_key(&self.record.id, "cancel")).await
    }
}

fn parent_of(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/"),
        None => String::new(),
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}
