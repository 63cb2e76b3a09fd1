//! The agent: runs one attempt of a job, wherever it is (this machine, or
//! an EC2 instance), given only the job's store and log store.
//!
//! 1. marks the attempt `running` (with its host and pid) and keeps a
//!    heartbeat;
//! 2. unpacks the code bundle and restores the latest checkpoint;
//! 3. runs `setup`, then `run`, in their own process group, with the
//!    task's envs, its secrets, and `HOIST_JOB_ID`, `HOIST_CHECKPOINT_DIR`,
//!    `HOIST_ARTIFACT_DIR`; every output line goes to the log store, in
//!    order, with secret values masked;
//! 4. syncs the checkpoint directory at an interval (in the background, so
//!    a large upload never holds up the heartbeat or a stop) and at the end;
//! 5. on SIGTERM, a cancel request, `max_runtime` or (on EC2) a spot
//!    interruption notice: SIGTERM to the job's group, a grace period,
//!    SIGKILL, then a final checkpoint sync;
//! 6. uploads artifacts and records the final status and exit code.
//!
//! A multi-node job runs one agent per node. Each finds its rank by its
//! instance id among the attempt's nodes (which `hoist run` records at
//! launch). Rank 0 does all of the above for the attempt; the others run
//! the same phases, write only their own node entry, and neither sync
//! checkpoints nor keep artifacts. Rank 0's exit decides the job: a
//! failed (or interrupted) node stops it, and the other nodes stop when
//! rank 0's attempt ends.
//!
//! In a SageMaker training job (`--sagemaker /opt/ml`) the same agent is
//! the container's entrypoint, with SageMaker doing part of the work:
//! each node's rank and peers come from `resourceconfig.json`; the
//! checkpoint directory is `/opt/ml/checkpoints`, which SageMaker restores
//! and uploads itself (CheckpointConfig); artifacts go to `/opt/ml/model`,
//! which SageMaker packs into the job's `model.tar.gz`; output goes to
//! standard output, which SageMaker ships to CloudWatch. A SIGTERM without
//! a cancel request (a managed spot interruption, most often) leaves the
//! attempt `pending`: SageMaker restarts the container, whose agent takes
//! the attempt up again; whether the job really ended is SageMaker's to
//! say (`hoist` reconciles the record with DescribeTrainingJob).
//!
//! Any failure of the agent itself is recorded as a `failed` attempt with
//! the reason, never left `running`, and never leaves the job's processes
//! running unsupervised. The record has other writers (`hoist cancel`,
//! `hoist run --resume`, reconciling); every write is a compare-and-swap
//! that changes only this attempt's own fields.

pub mod process;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::Mutex;
use tokio::time::{MissedTickBehavior, interval_at, sleep_until};

use crate::jobs::checkpoint::{CheckpointSync, SyncStats, upload_tree};
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
    /// Set when the agent runs on an EC2 instance.
    pub ec2: Option<Ec2Options>,
    /// Set when the agent is a SageMaker training job's entrypoint.
    pub sagemaker: Option<SageMakerOptions>,
}

/// What the agent uses in a SageMaker training job.
pub struct SageMakerOptions {
    /// `/opt/ml`.
    pub root: PathBuf,
    /// The job's role: secrets come from Secrets Manager.
    pub session: hoist_aws::Session,
}

/// What the agent uses on an EC2 instance.
pub struct Ec2Options {
    pub metadata: hoist_aws::metadata::Metadata,
    /// The instance role's session: secrets come from Secrets Manager.
    pub session: hoist_aws::Session,
    pub spot_poll_interval: Duration,
}

/// After the job's main process exits, how long to wait for processes it
/// left behind to close its output before killing them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Heartbeat writes that may fail in a row (S3 briefly unreachable)
/// before the agent gives up on the job: past this, nobody can see or
/// stop it, so it is stopped.
const MAX_HEARTBEAT_FAILURES: u32 = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stop {
    Cancelled,
    Interrupted(String),
    TimedOut(u64),
    /// The agent itself cannot go on (its record cannot be written).
    AgentFailed(String),
    /// Multi-node: another node failed (rank 0 stops the job), or rank 0
    /// ended (a worker stops).
    NodeFailed(String),
    PeerEnded(String),
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
    heartbeat_failures: u32,
    node: NodeInfo,
    /// A worker node's last look at its attempt as rank 0 left it.
    latest: Option<crate::jobs::record::Attempt>,
}

/// Run the pending attempt of `opts.job_id`. Returns the job's exit code.
pub async fn run(opts: Options) -> Result<i32> {
    // Registered before anything else, so a stop request that arrives
    // while the bundle is unpacking is not lost (and does not kill us).
    let sigterm = signal(SignalKind::terminate())?;
    let sigint = signal(SignalKind::interrupt())?;
    let instance_id = match &opts.ec2 {
        Some(ec2) => Some(ec2.metadata.instance_id().await.map_err(anyhow::Error::msg)?),
        None => None,
    };
    let (node, host) = match &opts.sagemaker {
        Some(sm) => {
            let (node, current) = sagemaker_node(&sm.root)?;
            let job = std::env::var("TRAINING_JOB_NAME").unwrap_or_default();
            (node, format!("{job}/{current}"))
        }
        None => {
            let host = instance_id.clone().unwrap_or_else(process::hostname);
            (find_node(&opts, instance_id.as_deref()).await?, host)
        }
    };
    // SageMaker restarts a container (managed spot) on the same attempt.
    let restartable = opts.sagemaker.is_some();
    let record = if node.rank == 0 { claim(&opts, &host, restartable).await? } else { join(&opts, node.rank, restartable).await? };
    let attempt = record.attempt().number;
    let log = match opts.logs.writer(&record.id, attempt, node.rank).await {
        Ok(log) => log,
        Err(e) => {
            // Nothing can be logged, but the record must not say running.
            let reason = format!("could not open the job log: {e:#}");
            let mut failed = record.clone();
            failed.set_status(Status::Failed, Some(reason.clone()));
            let mine = failed.attempt().clone();
            let rank = node.rank;
            opts.store.update_record(&record.id, |r| {
                if rank == 0 {
                    r.merge_attempt(&mine);
                } else {
                    r.merge_node(mine.number, &node_state(rank, &mine));
                }
                Ok(true)
            })
            .await?;
            bail!(reason);
        }
    };
    let deadline = record.task.resources.max_runtime.map(|s| Instant::now() + Duration::from_secs(s));
    let mut agent =
        Agent { opts, record, log, masks: Vec::new(), stop: None, last_t: 0, sigterm, sigint, deadline, heartbeat_failures: 0, node, latest: None };

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
    agent.save().await?;
    let _ = std::fs::remove_dir_all(agent.opts.scratch.join(&agent.record.id));
    Ok(code)
}

impl Agent {
    /// Write this attempt's state into the latest record.
    async fn save(&mut self) -> Result<()> {
        let mine = self.record.attempt().clone();
        if self.node.rank > 0 {
            // A worker node writes only its own entry, and keeps its own
            // view of its attempt; it looks at the latest record for
            // what rank 0 did.
            let state = node_state(self.node.rank, &mine);
            let latest = self
                .opts
                .store
                .update_record(&self.record.id, |r| {
                    r.merge_node(mine.number, &state);
                    Ok(true)
                })
                .await?;
            self.latest = latest.attempts.into_iter().find(|a| a.number == mine.number);
            return Ok(());
        }
        let latest = self
            .opts
            .store
            .update_record(&self.record.id, |r| {
                r.merge_attempt(&mine);
                Ok(true)
            })
            .await?;
        // Keep what others wrote (the instance, the nodes), with our own
        // attempt.
        let mut view = latest;
        if let Some(a) = view.attempts.iter_mut().find(|a| a.number == mine.number) {
            let instance = a.instance.clone();
            let nodes = std::mem::take(&mut a.nodes);
            *a = mine;
            a.instance = instance;
            a.nodes = nodes;
        }
        self.record.attempts = view.attempts;
        Ok(())
    }

    async fn note(&mut self, message: impl Into<String>) {
        let line = LogLine::text(now_ms(), Stream::Hoist, message);
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
        // The raw bytes of a line that is not text are masked as bytes.
        if let Some(b) = &line.b {
            let mut raw = aws_smithy_types::base64::decode(b).unwrap_or_default();
            for secret in &self.masks {
                raw = replace_bytes(&raw, secret.as_bytes(), b"***");
            }
            line.b = Some(aws_smithy_types::base64::encode(&raw));
        }
        self.log.write(line).await
    }

    /// Remember a secret's value to mask it: the whole value, and each
    /// line of a multi-line one (output is logged line by line, so a PEM
    /// key printed whole still never shows).
    fn mask(&mut self, value: &str) {
        let mut parts: Vec<&str> = vec![value];
        if value.contains('\n') {
            parts.extend(value.lines().map(str::trim).filter(|l| l.len() >= 4));
        }
        for part in parts {
            if part.len() >= 3 && !self.masks.iter().any(|m| m == part) {
                self.masks.push(part.to_string());
            }
        }
        // Longest first, so a line of a secret never masks part of the
        // whole value before the whole value is masked.
        self.masks.sort_by_key(|m| std::cmp::Reverse(m.len()));
    }

    /// The task's secrets: from the agent's environment (the local
    /// backend passes them so), else, on EC2 and SageMaker, from Secrets
    /// Manager.
    async fn secrets(&mut self) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for name in self.record.task.secrets.clone() {
            let value = match std::env::var(&name) {
                Ok(v) => v,
                Err(_) => match self.opts.ec2.as_ref().map(|e| &e.session).or(self.opts.sagemaker.as_ref().map(|s| &s.session)) {
                    Some(session) => {
                        let secrets = hoist_aws::secrets::Secrets::new(session, &self.record.workspace);
                        secrets.value(&name).await?.with_context(|| {
                            format!("secret {name} is not in workspace {} (`hoist secret set {name}`)", self.record.workspace)
                        })?
                    }
                    None => bail!("secret {name} was not passed to the agent"),
                },
            };
            self.mask(&value);
            out.insert(name, value);
        }
        Ok(out)
    }

    async fn execute(&mut self) -> Result<i32> {
        let id = self.record.id.clone();
        let task = self.record.task.clone();
        let store = self.opts.store.clone();

        let secrets = self.secrets().await?;

        let job_dir = self.opts.scratch.join(&id);
        let _ = std::fs::remove_dir_all(&job_dir); // a previous attempt's leftovers
        let work = job_dir.join("work");
        std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
        let bundle = job_dir.join("bundle.tar.gz");
        if store.get_to_file(&job_key(&id, "bundle.tar.gz"), &bundle).await? {
            crate::jobs::bundle::extract(&bundle, &work)?;
            std::fs::remove_file(&bundle)?;
        }

        let sagemaker = self.opts.sagemaker.as_ref().map(|s| s.root.clone());
        let (ckpt_dir, artifact_dir) = match &sagemaker {
            // SageMaker's directories: it syncs the one, packs the other.
            Some(root) => {
                let ckpt = root.join("checkpoints");
                std::fs::create_dir_all(&ckpt)?;
                if let Some(rel) = &task.checkpoints {
                    link_into(&work.join(rel), &ckpt)?;
                }
                (ckpt, root.join("model"))
            }
            None => match &task.checkpoints {
                Some(rel) => (work.join(rel), job_dir.join("artifacts")),
                None => (job_dir.join("checkpoints"), job_dir.join("artifacts")),
            },
        };
        std::fs::create_dir_all(&artifact_dir)?;
        let mut ckpt = CheckpointSync::new(store.clone(), job_key(&id, "checkpoints/"), ckpt_dir.clone());
        if sagemaker.is_some() {
            // SageMaker restored it before the container started.
            let files = crate::jobs::checkpoint::files_under(&ckpt_dir).map(|f| f.len()).unwrap_or(0);
            if files > 0 {
                self.note(format!("checkpoint restored by SageMaker: {}", crate::printer::count(files, "file"))).await;
            }
        } else {
            let restored = ckpt.restore().await.context("restoring the checkpoint")?;
            if restored.uploaded > 0 {
                self.note(format!("restored checkpoint: {}, {}", crate::printer::count(restored.uploaded as usize, "file"), human_bytes(restored.bytes))).await;
            }
        }
        let ckpt = Arc::new(Mutex::new(ckpt));

        let mut env = task.envs.clone();
        env.extend(secrets);
        env.insert("HOIST_JOB_ID".into(), id.clone());
        env.insert("HOIST_ATTEMPT".into(), self.record.attempt().number.to_string());
        env.insert("HOIST_CHECKPOINT_DIR".into(), ckpt_dir.display().to_string());
        env.insert("HOIST_ARTIFACT_DIR".into(), artifact_dir.display().to_string());
        // Where this node stands in the job, under hoist's names and
        // SkyPilot's (so its distributed examples run unchanged).
        let gpus = crate::backends::host::gpu_names().len() as u32;
        for (k, v) in node_env(&self.node, gpus) {
            env.insert(k, v);
        }
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
            let supervised = self.supervise(&mut p, &ckpt).await;
            code = match supervised {
                Ok(code) => code,
                Err(e) => {
                    // Whatever went wrong, the job's processes do not go on
                    // unsupervised (dropping the child kills only the shell).
                    signal_group(p.pid, libc::SIGKILL);
                    let _ = p.child.wait().await;
                    return Err(e);
                }
            };
            self.note(format!("{phase} exited with code {code}")).await;
            if code != 0 {
                break;
            }
        }
        self.log.flush().await?;

        // Rank 0 keeps the job's checkpoints and artifacts (as in SkyPilot's
        // distributed examples, where rank 0 saves): the other nodes'
        // copies are not uploaded over it.
        let lead = self.node.rank == 0;
        if let Some(root) = &sagemaker {
            // SageMaker uploads the checkpoint directory and packs
            // /opt/ml/model into model.tar.gz once the container exits.
            let model = root.join("model");
            for path in task.artifacts.iter().filter(|_| lead) {
                let src = work.join(path);
                if src.exists() {
                    copy_tree(&src, &model.join(path)).with_context(|| format!("copying artifact {path} into {}", model.display()))?;
                } else {
                    self.note(format!("artifact {path} not found in the working copy")).await;
                }
            }
            return Ok(self.conclude(code).await);
        }
        let saved = if lead { ckpt.lock().await.sync().await.context("saving the final checkpoint")? } else { SyncStats::default() };
        if saved.uploaded + saved.deleted > 0 {
            self.note(format!("checkpoint saved: {} uploaded, {} removed", crate::printer::count(saved.uploaded as usize, "file"), saved.deleted)).await;
        }
        let mut kept = if lead { upload_tree(&store, &artifact_dir, &job_key(&id, "artifacts/")).await? } else { SyncStats::default() };
        for path in task.artifacts.iter().filter(|_| lead) {
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

        Ok(self.conclude(code).await)
    }

    /// Record how the attempt ended, from the job's exit code and why it
    /// was stopped.
    async fn conclude(&mut self, code: i32) -> i32 {
        let (status, reason) = match &self.stop {
            // SageMaker restarts an interrupted container itself: the
            // attempt goes on (SageMaker says if it does not).
            Some(Stop::Interrupted(why)) if self.opts.sagemaker.is_some() => {
                (Status::Pending, format!("{why}; SageMaker restarts it from its checkpoint if it was a managed spot interruption"))
            }
            Some(Stop::Cancelled) => (Status::Cancelled, "cancelled on request".to_string()),
            Some(Stop::Interrupted(why)) => (Status::Interrupted, why.clone()),
            Some(Stop::TimedOut(s)) => (Status::Failed, format!("stopped after max_runtime ({s} s)")),
            Some(Stop::AgentFailed(why)) | Some(Stop::NodeFailed(why)) => (Status::Failed, why.clone()),
            Some(Stop::PeerEnded(why)) => (Status::Cancelled, why.clone()),
            None if code == 0 => (Status::Succeeded, "exited with code 0".to_string()),
            None => (Status::Failed, format!("exited with code {code}")),
        };
        self.note(format!("job {status}: {reason}")).await;
        self.record.attempt_mut().exit_code = Some(code);
        self.record.set_status(status, Some(reason));
        code
    }

    /// Pump the phase's output into the log until it exits, while keeping
    /// the heartbeat, syncing checkpoints and handling stop requests.
    async fn supervise(&mut self, p: &mut process::Phase, ckpt: &Arc<Mutex<CheckpointSync>>) -> Result<i32> {
        let start = tokio::time::Instant::now();
        let mut heartbeat = interval_at(start + self.opts.heartbeat_interval, self.opts.heartbeat_interval);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut sync = interval_at(start + self.opts.checkpoint_interval, self.opts.checkpoint_interval);
        sync.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let spot_every = self.opts.ec2.as_ref().map(|e| e.spot_poll_interval).unwrap_or(Duration::from_secs(3600));
        let mut spot = interval_at(start, spot_every);
        spot.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
        let deadline = self.deadline.map(tokio::time::Instant::from_std).unwrap_or(far);
        let mut kill_at = far;
        let mut drain_until = far;
        let mut status = None;
        let mut lines_open = true;
        // The periodic checkpoint sync runs as its own task: uploading tens
        // of GiB must not hold up heartbeats, output or a stop.
        let mut syncing: Option<tokio::task::JoinHandle<Result<SyncStats>>> = None;

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
                _ = heartbeat.tick() => self.beat(p.pid, &mut kill_at).await,
                _ = sync.tick(), if self.stop.is_none() && syncing.is_none() && self.node.rank == 0 && self.opts.sagemaker.is_none() => {
                    let ckpt = ckpt.clone();
                    syncing = Some(tokio::spawn(async move { ckpt.lock().await.sync().await }));
                }
                done = async { syncing.as_mut().expect("guarded").await }, if syncing.is_some() => {
                    syncing = None;
                    match done {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => self.note(format!("checkpoint sync failed (will retry): {e:#}")).await,
                        Err(e) => self.note(format!("checkpoint sync stopped: {e}")).await,
                    }
                }
                _ = spot.tick(), if self.opts.ec2.is_some() && self.stop.is_none() => {
                    let notice = self.opts.ec2.as_ref().expect("guarded").metadata.interruption().await;
                    match notice {
                        Ok(Some(notice)) => {
                            let why = format!("spot interruption notice from EC2: {}", notice.trim());
                            self.begin_stop(Stop::Interrupted(why), p.pid, &mut kill_at).await;
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!("{e}"),
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
        // A sync still in flight finishes before the final one starts (the
        // final sync takes the same lock).
        if let Some(handle) = syncing {
            let _ = handle.await;
        }
        let status = status.expect("loop ends after exit");
        use std::os::unix::process::ExitStatusExt;
        Ok(status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
    }

    /// One heartbeat: record that the agent is alive, and look for a cancel
    /// request. A failed write is retried at the next beat; only a run of
    /// failures stops the job (no one could see or stop it any more).
    async fn beat(&mut self, pid: u32, kill_at: &mut tokio::time::Instant) {
        self.record.attempt_mut().heartbeat_at = Some(now());
        match self.save().await {
            Ok(()) => self.heartbeat_failures = 0,
            Err(e) => {
                self.heartbeat_failures += 1;
                self.note(format!("could not record the heartbeat ({} in a row): {e:#}", self.heartbeat_failures)).await;
                if self.heartbeat_failures >= MAX_HEARTBEAT_FAILURES && self.stop.is_none() {
                    let why = format!("the agent could not write the job record {MAX_HEARTBEAT_FAILURES} times in a row: {e:#}");
                    self.begin_stop(Stop::AgentFailed(why), pid, kill_at).await;
                }
                return;
            }
        }
        match self.cancel_requested().await {
            Ok(true) if self.stop.is_none() => self.begin_stop(Stop::Cancelled, pid, kill_at).await,
            Ok(_) => {}
            Err(e) => tracing::warn!("could not look for a cancel request: {e:#}"),
        }
        if self.stop.is_none()
            && let Some(stop) = self.peers_say_stop()
        {
            self.begin_stop(stop, pid, kill_at).await;
        }
    }

    /// Multi-node: rank 0 stops the job when another node failed; a
    /// worker stops when rank 0's attempt has ended (its exit decides).
    fn peers_say_stop(&self) -> Option<Stop> {
        if self.node.rank == 0 {
            // A failed node fails the job; an interrupted one (its spot
            // capacity reclaimed) interrupts it, so it can be resumed.
            let lost = self.record.attempt().nodes.iter().find(|n| matches!(n.status, Some(Status::Failed | Status::Interrupted)))?;
            let why = lost.reason.clone().unwrap_or_else(|| "no reason recorded".into());
            let what = format!("node {} ({}) {}: {why}", lost.rank, lost.instance_id, lost.status.expect("matched"));
            return Some(if lost.status == Some(Status::Failed) { Stop::NodeFailed(what) } else { Stop::Interrupted(what) });
        }
        let latest = self.latest.as_ref()?;
        latest.status.is_terminal().then(|| Stop::PeerEnded(format!("rank 0 ended ({})", latest.status)))
    }

    async fn on_signal(&mut self, name: &str, pid: u32, kill_at: &mut tokio::time::Instant) -> Result<()> {
        if self.stop.is_some() {
            return Ok(());
        }
        // `hoist cancel` leaves a marker before signalling: that tells a
        // cancellation from any other stop (shutdown, spot reclaim).
        let stop = if self.cancel_requested().await.unwrap_or(false) { Stop::Cancelled } else { Stop::Interrupted(format!("the agent received {name}")) };
        self.begin_stop(stop, pid, kill_at).await;
        Ok(())
    }

    async fn begin_stop(&mut self, stop: Stop, pid: u32, kill_at: &mut tokio::time::Instant) {
        let why = match &stop {
            Stop::Cancelled => "cancel requested".to_string(),
            Stop::Interrupted(why) | Stop::AgentFailed(why) | Stop::NodeFailed(why) | Stop::PeerEnded(why) => why.clone(),
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

/// How long a node of a multi-node job waits for `hoist run` to record
/// the job's nodes (it writes them right after the launch returns).
const NODE_WAIT: Duration = Duration::from_secs(600);

/// Which node this agent is: rank 0 of 1 for a single-node job; for a
/// multi-node one, its place in the attempt's nodes (found by its
/// instance id), with every node's address.
async fn find_node(opts: &Options, instance_id: Option<&str>) -> Result<NodeInfo> {
    let started = Instant::now();
    loop {
        let record = opts.store.load_record(&opts.job_id).await?.with_context(|| format!("job {} has no record", opts.job_id))?;
        if record.task.num_nodes <= 1 {
            return Ok(NodeInfo::single("127.0.0.1"));
        }
        let me = instance_id.context("a multi-node job's agent runs on an EC2 instance (`--ec2`)")?;
        let nodes = &record.attempt().nodes;
        if let Some(n) = nodes.iter().find(|n| n.instance_id == me) {
            let ips = nodes.iter().map(|n| n.private_ip.clone().unwrap_or_default()).collect();
            return Ok(NodeInfo { rank: n.rank, ips });
        }
        if record.attempt().status.is_terminal() {
            bail!("attempt {} of job {} ended before this node ({me}) joined it", record.attempt().number, record.id);
        }
        if started.elapsed() > NODE_WAIT {
            bail!("instance {me} is not among the nodes of job {} after {} s", record.id, NODE_WAIT.as_secs());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Rank 0 claims the pending attempt: a compare-and-swap, so two agents
/// started for one attempt (a retried launch) never both run it.
async fn claim(opts: &Options, host: &str, restartable: bool) -> Result<JobRecord> {
    let mut claimed = None;
    let record = opts
        .store
        .update_record(&opts.job_id, |r| {
            let attempt = r.attempt().number;
            let restart = restartable && r.attempt().status == Status::Running;
            if r.attempt().status != Status::Pending && !restart {
                claimed = Some(Err(format!("attempt {attempt} of job {} is already {}: nothing to run", r.id, r.attempt().status)));
                return Ok(false);
            }
            r.attempt_mut().agent = Some(AgentInfo { host: host.to_string(), pid: std::process::id() });
            r.attempt_mut().heartbeat_at = Some(now());
            r.set_status(Status::Running, None);
            claimed = Some(Ok(()));
            Ok(true)
        })
        .await?;
    if let Some(Err(why)) = claimed {
        bail!(why);
    }
    Ok(record)
}

/// A worker node joins the attempt: its own entry goes `running` (once).
async fn join(opts: &Options, rank: u32, restartable: bool) -> Result<JobRecord> {
    let mut refused = None;
    let record = opts
        .store
        .update_record(&opts.job_id, |r| {
            let number = r.attempt().number;
            let ended = r.attempt().status.is_terminal();
            let id = r.id.clone();
            let Some(n) = r.attempt_mut().nodes.iter_mut().find(|n| n.rank == rank) else {
                refused = Some(format!("attempt {number} of job {id} has no node {rank}"));
                return Ok(false);
            };
            let restart = restartable && matches!(n.status, Some(Status::Running | Status::Pending));
            if ended || (n.status.is_some() && !restart) {
                refused = Some(format!("node {rank} of attempt {number} of job {id} is already {}", n.status.map(|s| s.as_str()).unwrap_or("ended")));
                return Ok(false);
            }
            n.status = Some(Status::Running);
            n.heartbeat_at = Some(now());
            refused = None;
            Ok(true)
        })
        .await?;
    if let Some(why) = refused {
        bail!(why);
    }
    // The worker's own view: its attempt as running.
    let mut mine = record.clone();
    mine.attempt_mut().status = Status::Running;
    mine.attempt_mut().started_at = Some(now());
    mine.attempt_mut().reason = None;
    mine.attempt_mut().exit_code = None;
    Ok(mine)
}

/// A worker's own fields, from its view of the attempt.
fn node_state(rank: u32, mine: &crate::jobs::record::Attempt) -> crate::jobs::record::Node {
    crate::jobs::record::Node {
        rank,
        instance_id: String::new(),
        private_ip: None,
        status: Some(mine.status),
        exit_code: mine.exit_code,
        reason: mine.reason.clone(),
        heartbeat_at: mine.heartbeat_at.clone(),
    }
}

/// This node's place in the job: its rank, and every node's address in
/// rank order (one, for a single-node job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub rank: u32,
    pub ips: Vec<String>,
}

impl NodeInfo {
    /// A job on one machine: rank 0 of 1.
    pub fn single(ip: &str) -> Self {
        Self { rank: 0, ips: vec![ip.to_string()] }
    }
}

/// The variables a job's processes see about the nodes: hoist's, and
/// SkyPilot's under their names (`SKYPILOT_NODE_IPS` is one address a
/// line, as SkyPilot sets it).
pub fn node_env(node: &NodeInfo, gpus_per_node: u32) -> Vec<(String, String)> {
    let ips = node.ips.join("\n");
    let n = node.ips.len().to_string();
    let rank = node.rank.to_string();
    let mut env = Vec::new();
    for prefix in ["HOIST", "SKYPILOT"] {
        env.push((format!("{prefix}_NODE_RANK"), rank.clone()));
        env.push((format!("{prefix}_NODE_IPS"), ips.clone()));
        env.push((format!("{prefix}_NUM_NODES"), n.clone()));
        env.push((format!("{prefix}_NUM_GPUS_PER_NODE"), gpus_per_node.to_string()));
    }
    env
}

/// This node in a SageMaker training job, from SageMaker's
/// `input/config/resourceconfig.json`: its rank is its host's place among
/// the hosts (`algo-1` is rank 0), its peers' addresses the hosts'
/// (resolved when the container's resolver knows them, as SageMaker's
/// does; the host names otherwise). Returns the node and its host name.
pub fn sagemaker_node(root: &std::path::Path) -> Result<(NodeInfo, String)> {
    #[derive(serde::Deserialize)]
    struct ResourceConfig {
        current_host: String,
        hosts: Vec<String>,
    }
    let path = root.join("input/config/resourceconfig.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {} (is this a SageMaker training job?)", path.display()))?;
    let config: ResourceConfig = serde_json::from_str(&text).with_context(|| format!("{} is not SageMaker's resource config", path.display()))?;
    let mut hosts = config.hosts;
    // `algo-10` after `algo-9`.
    hosts.sort_by_key(|h| (h.trim_start_matches(|c: char| !c.is_ascii_digit()).parse::<u64>().unwrap_or(u64::MAX), h.clone()));
    let rank = hosts
        .iter()
        .position(|h| *h == config.current_host)
        .with_context(|| format!("{}: current_host {} is not among its hosts", path.display(), config.current_host))?;
    let ips = hosts.iter().map(|h| resolve_host(h)).collect();
    Ok((NodeInfo { rank: rank as u32, ips }, config.current_host))
}

fn resolve_host(host: &str) -> String {
    use std::net::ToSocketAddrs;
    match (host, 0).to_socket_addrs() {
        Ok(addrs) => addrs.into_iter().find(|a| a.is_ipv4()).map(|a| a.ip().to_string()).unwrap_or_else(|| host.to_string()),
        Err(_) => host.to_string(),
    }
}

/// Make `link` point at `target` (a task's relative `checkpoints:` path,
/// on SageMaker, is its checkpoint directory), unless the bundle has
/// something there already.
fn link_into(link: &std::path::Path, target: &std::path::Path) -> Result<()> {
    if link.symlink_metadata().is_ok() {
        return Ok(());
    }
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::os::unix::fs::symlink(target, link).with_context(|| format!("linking {} to {}", link.display(), target.display()))
}

/// Copy a file or a directory tree.
fn copy_tree(src: &std::path::Path, dest: &std::path::Path) -> Result<()> {
    if src.is_file() {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(src, dest)?;
        return Ok(());
    }
    for file in crate::jobs::checkpoint::files_under(src)? {
        let rel = file.strip_prefix(src).expect("under src");
        copy_tree(&file, &dest.join(rel))?;
    }
    Ok(())
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

/// `haystack` with every `needle` replaced by `with`.
fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    if needle.is_empty() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}
