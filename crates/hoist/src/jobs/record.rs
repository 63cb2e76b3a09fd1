//! The job record, `jobs/<id>/job.json`: the single source of truth about
//! a job, written by `hoist run` (pending) and then only by the agent.
//! It stores the task with secret *names*; values never reach it.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::task::{Backend, Task};

/// Bumped when the record's shape changes incompatibly.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
}

impl Status {
    pub fn is_terminal(self) -> bool {
        !matches!(self, Status::Pending | Status::Running)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One execution of the job. `hoist run --resume` adds another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub number: u32,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Where the agent runs: for a local job, the process to signal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentInfo>,
    /// The EC2 instance the attempt runs on (rank 0's, for a multi-node
    /// job).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<Placement>,
    /// A multi-node attempt's machines, by rank: written by `hoist run`
    /// when they launch; each node's agent then writes only its own entry.
    /// Empty for a single-node job.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<Node>,
}

/// One machine of a multi-node attempt. Rank 0 runs the attempt itself
/// (its status is the attempt's); the others report here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub rank: u32,
    pub instance_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    /// `None` until the node's agent starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_at: Option<String>,
}

/// Where an attempt in AWS runs: an EC2 instance, or a SageMaker
/// training job (`instance_id` is then the training job's name, and
/// `image_id` its container image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub instance_id: String,
    pub instance_type: String,
    /// `spot` or `on-demand`.
    pub market: String,
    pub image_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// SageMaker: the `model.tar.gz` it writes from `/opt/ml/model` when
    /// the training job completes (what a deployment of `job:<id>` serves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_artifact: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub host: String,
    pub pid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub schema: u32,
    pub id: String,
    pub name: String,
    pub workspace: String,
    pub backend: Backend,
    /// The latest attempt's status, repeated here for `jq .status`.
    pub status: Status,
    pub created_at: String,
    pub attempts: Vec<Attempt>,
    pub task: Task,
}

impl JobRecord {
    pub fn new(id: String, workspace: &str, backend: Backend, task: Task) -> Self {
        let now = now();
        Self {
            schema: SCHEMA,
            name: task.name.clone(),
            id,
            workspace: workspace.to_string(),
            backend,
            status: Status::Pending,
            created_at: now.clone(),
            attempts: vec![Attempt {
                number: 1,
                status: Status::Pending,
                reason: None,
                created_at: now,
                started_at: None,
                finished_at: None,
                heartbeat_at: None,
                exit_code: None,
                agent: None,
                instance: None,
                nodes: Vec::new(),
            }],
            task,
        }
    }

    pub fn attempt(&self) -> &Attempt {
        self.attempts.last().expect("a record always has an attempt")
    }

    pub fn attempt_mut(&mut self) -> &mut Attempt {
        self.attempts.last_mut().expect("a record always has an attempt")
    }

    /// Set the current attempt's status (and the record's copy of it).
    pub fn set_status(&mut self, status: Status, reason: Option<String>) {
        let attempt = self.attempt_mut();
        attempt.status = status;
        if reason.is_some() {
            attempt.reason = reason;
        }
        if status == Status::Running && attempt.started_at.is_none() {
            attempt.started_at = Some(now());
        }
        if status.is_terminal() {
            attempt.finished_at = Some(now());
        }
        self.status = status;
    }

    /// Start a new attempt (for `--resume`).
    pub fn new_attempt(&mut self) {
        let number = self.attempt().number + 1;
        self.attempts.push(Attempt {
            number,
            status: Status::Pending,
            reason: None,
            created_at: now(),
            started_at: None,
            finished_at: None,
            heartbeat_at: None,
            exit_code: None,
            agent: None,
            instance: None,
            nodes: Vec::new(),
        });
        self.status = Status::Pending;
    }

    /// Copy what an attempt's agent owns (status, times, exit code, where
    /// it runs) from `mine` into this record's attempt of the same number,
    /// keeping what other writers set (the instance, later attempts).
    pub fn merge_attempt(&mut self, mine: &Attempt) {
        let latest = self.attempt().number;
        let Some(a) = self.attempts.iter_mut().find(|a| a.number == mine.number) else { return };
        a.status = mine.status;
        a.reason = mine.reason.clone();
        a.started_at = mine.started_at.clone();
        a.finished_at = mine.finished_at.clone();
        a.heartbeat_at = mine.heartbeat_at.clone();
        a.exit_code = mine.exit_code;
        a.agent = mine.agent.clone();
        if a.instance.is_none() {
            a.instance = mine.instance.clone();
        }
        if mine.number == latest {
            self.status = mine.status;
        }
    }

    /// Copy a worker node's own fields (status, exit code, reason,
    /// heartbeat) into attempt `number`'s entry for its rank.
    pub fn merge_node(&mut self, number: u32, mine: &Node) {
        let Some(a) = self.attempts.iter_mut().find(|a| a.number == number) else { return };
        if let Some(n) = a.nodes.iter_mut().find(|n| n.rank == mine.rank) {
            n.status = mine.status;
            n.exit_code = mine.exit_code;
            n.reason = mine.reason.clone();
            n.heartbeat_at = mine.heartbeat_at.clone();
        }
    }

    /// How long the current attempt ran (or has been running).
    pub fn duration(&self) -> Option<Duration> {
        let a = self.attempt();
        let start = parse_time(a.started_at.as_deref()?)?;
        let end = match &a.finished_at {
            Some(t) => parse_time(t)?,
            None => SystemTime::now(),
        };
        end.duration_since(start).ok()
    }
}

/// Now, as RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

pub fn parse_time(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s).ok()
}

/// A new job id: the task name (as [`crate::task::job_slug`] makes it
/// safe for AWS names) and 8 random hex digits. Short enough to type, and
/// a unique prefix is enough for every command.
pub fn new_job_id(name: &str) -> String {
    let name = crate::task::job_slug(name);
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: fall back to the clock, still unique enough
        // for one user's jobs.
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
        bytes = nanos.to_le_bytes();
    }
    format!("{name}-{:02x}{:02x}{:02x}{:02x}", bytes[0], bytes[1], bytes[2], bytes[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        Task::parse(std::path::Path::new("t.yaml"), "name: t\nrun: x\n", &Default::default()).unwrap()
    }

    #[test]
    fn status_transitions_stamp_times_and_attempts() {
        let mut r = JobRecord::new(new_job_id("t"), "default", Backend::Local, task());
        assert_eq!(r.status, Status::Pending);
        r.set_status(Status::Running, None);
        assert!(r.attempt().started_at.is_some());
        r.set_status(Status::Cancelled, Some("cancelled by user".into()));
        assert!(r.attempt().finished_at.is_some());
        assert!(r.duration().is_some());
        r.new_attempt();
        assert_eq!(r.attempt().number, 2);
        assert_eq!(r.status, Status::Pending);
        assert_eq!(r.attempts[0].status, Status::Cancelled);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<JobRecord>(&json).unwrap(), r);
    }

    #[test]
    fn ids_are_name_plus_8_hex() {
        let id = new_job_id("train");
        assert_eq!(id.len(), "train-".len() + 8);
        assert!(id[6..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(new_job_id("train"), new_job_id("train"));
    }
}
