//! Job logs: a JSON-lines file per attempt on this machine, or a
//! CloudWatch Logs stream per attempt in AWS. The agent writes through
//! [`LogWriter`]; `hoist logs` reads through [`LogReader`]. In a
//! SageMaker training job the agent writes to its standard output, which
//! SageMaker ships to `/aws/sagemaker/TrainingJobs` (a stream per host).

use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use hoist_aws::logs::{Event, LogStream};
use hoist_aws::{ErrorKind, Session};
use serde::{Deserialize, Serialize};

use super::log_batch::Batcher;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Out,
    Err,
    /// hoist's own notes about the job (restored checkpoint, exit code).
    Hoist,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    pub s: Stream,
    pub l: String,
    /// The line ended with a carriage return, not a newline: a progress bar
    /// (tqdm) redrawing itself. Shown live, and redrawn in place when
    /// printed to a terminal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cr: bool,
    /// The line's bytes (base64) when they are not UTF-8 (`l` then holds
    /// them with U+FFFD in place of what is not text): `hoist logs` writes
    /// these bytes back exactly. CloudWatch Logs holds text only, so a
    /// job's log there keeps `l`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<String>,
}

impl LogLine {
    pub fn text(t: i64, s: Stream, l: impl Into<String>) -> Self {
        Self { t, s, l: l.into(), cr: false, b: None }
    }

    /// The bytes the job wrote.
    pub fn bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self.b.as_deref().and_then(|b| aws_smithy_types::base64::decode(b).ok()) {
            Some(raw) => std::borrow::Cow::Owned(raw),
            None => std::borrow::Cow::Borrowed(self.l.as_bytes()),
        }
    }
}

/// In CloudWatch, hoist's own lines carry this prefix; the job's stdout
/// and stderr lines are stored exactly as printed.
const HOIST_PREFIX: &str = "[hoist] ";

/// SageMaker's log group for every training job's output.
pub const SAGEMAKER_TRAINING_GROUP: &str = "/aws/sagemaker/TrainingJobs";

#[derive(Debug, Clone)]
pub enum LogStore {
    Local { root: PathBuf },
    CloudWatch { session: Session, group: String },
    /// The agent's standard output, as CloudWatch lines (SageMaker ships
    /// it). Written only.
    Stdout,
    /// A SageMaker training job's streams. Read only.
    SageMaker { session: Session, names: crate::footprint::names::Names },
}

/// One stream per node: rank 0's is the attempt's (as for a single-node
/// job), the others' carry their rank.
fn stream_name(job: &str, attempt: u32, node: u32) -> String {
    if node == 0 { format!("{job}/{attempt}") } else { format!("{job}/{attempt}/node-{node}") }
}

impl LogStore {
    /// `file:///DIR` or `cloudwatch:GROUP`, as the agent is told.
    pub fn url(&self) -> String {
        match self {
            LogStore::Local { root } => format!("file://{}", root.display()),
            LogStore::CloudWatch { group, .. } => format!("cloudwatch:{group}"),
            LogStore::Stdout => "stdout:".to_string(),
            LogStore::SageMaker { .. } => format!("cloudwatch:{SAGEMAKER_TRAINING_GROUP}"),
        }
    }

    pub fn from_url(url: &str, session: Option<&Session>) -> Result<Self> {
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(LogStore::Local { root: PathBuf::from(path) });
        }
        if let Some(group) = url.strip_prefix("cloudwatch:") {
            let session = session.context("a cloudwatch: log store needs AWS settings")?.clone();
            return Ok(LogStore::CloudWatch { session, group: group.to_string() });
        }
        if url == "stdout:" {
            return Ok(LogStore::Stdout);
        }
        bail!("invalid log store URL {url:?}: expected file:///DIR, cloudwatch:GROUP or stdout:")
    }

    fn local_path(root: &std::path::Path, job: &str, attempt: u32, node: u32) -> PathBuf {
        let file = if node == 0 { format!("{attempt}.jsonl") } else { format!("{attempt}-node-{node}.jsonl") };
        root.join("jobs").join(job).join("logs").join(file)
    }

    /// The writer of attempt `attempt`'s log on node `node` (0 for a
    /// single-node job).
    pub async fn writer(&self, job: &str, attempt: u32, node: u32) -> Result<LogWriter> {
        match self {
            LogStore::Local { root } => {
                let path = Self::local_path(root, job, attempt, node);
                std::fs::create_dir_all(path.parent().unwrap())?;
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .with_context(|| format!("opening {}", path.display()))?;
                Ok(LogWriter::Local(std::io::BufWriter::new(file)))
            }
            LogStore::CloudWatch { session, group } => {
                let stream = LogStream::new(session, group, stream_name(job, attempt, node));
                stream.create().await?;
                Ok(LogWriter::CloudWatch(Shipper::new(stream)))
            }
            LogStore::Stdout => Ok(LogWriter::Stdout),
            LogStore::SageMaker { .. } => bail!("a SageMaker training job's log is written by SageMaker, not hoist"),
        }
    }

    pub fn reader(&self, job: &str, attempt: u32, node: u32) -> LogReader {
        match self {
            LogStore::Local { root } => LogReader::Local { path: Self::local_path(root, job, attempt, node), offset: 0 },
            LogStore::CloudWatch { session, group } => LogReader::CloudWatch {
                stream: LogStream::new(session, group, stream_name(job, attempt, node)),
                token: None,
            },
            LogStore::Stdout => LogReader::Nothing,
            LogStore::SageMaker { session, names } => LogReader::SageMaker {
                session: session.clone(),
                // SageMaker names each host's stream `<job>/algo-<n>-<epoch>`;
                // a managed spot restart adds another.
                prefix: format!("{}/{}-", names.training_job(job, attempt), crate::backends::sagemaker::host_name(node)),
                streams: Vec::new(),
            },
        }
    }
}

pub enum LogWriter {
    Local(std::io::BufWriter<std::fs::File>),
    CloudWatch(Shipper),
    Stdout,
}

impl LogWriter {
    pub async fn write(&mut self, line: LogLine) -> Result<()> {
        match self {
            LogWriter::Local(w) => {
                serde_json::to_writer(&mut *w, &line)?;
                w.write_all(b"\n")?;
                Ok(())
            }
            LogWriter::CloudWatch(s) => {
                let message = match line.s {
                    Stream::Hoist => format!("{HOIST_PREFIX}{}", line.l),
                    // PutLogEvents rejects an empty message (and does not
                    // say which): a blank line is shipped as one space.
                    Stream::Out | Stream::Err if line.l.is_empty() => " ".to_string(),
                    Stream::Out | Stream::Err => line.l,
                };
                s.push(Event { timestamp_ms: line.t, message }).await
            }
            LogWriter::Stdout => {
                // One line per line (SageMaker's collector splits on
                // newlines), hoist's own marked as in CloudWatch.
                let prefix = if line.s == Stream::Hoist { HOIST_PREFIX } else { "" };
                let mut out = std::io::stdout().lock();
                writeln!(out, "{prefix}{}", line.l)?;
                Ok(())
            }
        }
    }

    /// Make everything written so far visible to readers.
    pub async fn flush(&mut self) -> Result<()> {
        match self {
            LogWriter::Local(w) => Ok(w.flush()?),
            LogWriter::CloudWatch(s) => s.flush().await,
            LogWriter::Stdout => Ok(std::io::stdout().flush()?),
        }
    }
}

/// Sends batches to CloudWatch, retrying throttling and transient
/// failures with backoff: a line is dropped only if the stream keeps
/// failing for about a minute, and then the error says so.
pub struct Shipper {
    stream: LogStream,
    batcher: Batcher,
    pub events_sent: u64,
    pub batches_sent: u64,
}

const SEND_ATTEMPTS: u32 = 10;

impl Shipper {
    pub fn new(stream: LogStream) -> Self {
        Self { stream, batcher: Batcher::default(), events_sent: 0, batches_sent: 0 }
    }

    pub async fn push(&mut self, event: Event) -> Result<()> {
        match self.batcher.push(event) {
            Some(batch) => self.send(batch).await,
            None => Ok(()),
        }
    }

    pub async fn flush(&mut self) -> Result<()> {
        match self.batcher.take() {
            Some(batch) => self.send(batch).await,
            None => Ok(()),
        }
    }

    async fn send(&mut self, batch: Vec<Event>) -> Result<()> {
        let mut delay = Duration::from_millis(200);
        for attempt in 1..=SEND_ATTEMPTS {
            match self.stream.put(&batch).await {
                Ok(rejected) => {
                    if rejected.any() {
                        tracing::warn!(?rejected, "CloudWatch rejected some log events (outside its accepted time range)");
                    }
                    self.events_sent += batch.len() as u64;
                    self.batches_sent += 1;
                    return Ok(());
                }
                Err(e) if e.code() == Some("ResourceNotFoundException") => {
                    // The stream was deleted under us (or never made): make
                    // it again and resend.
                    self.stream.create().await?;
                }
                Err(e) if is_transient(&e) && attempt < SEND_ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "retrying PutLogEvents");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "{} log lines could not be shipped to {}/{}",
                        batch.len(),
                        self.stream.group(),
                        self.stream.stream()
                    )));
                }
            }
        }
        unreachable!("the last attempt returns")
    }
}

fn is_transient(e: &hoist_aws::AwsError) -> bool {
    match &e.kind {
        ErrorKind::Timeout(_) | ErrorKind::Unreachable(_) => true,
        ErrorKind::Service { code, .. } => matches!(
            code.as_str(),
            "ThrottlingException" | "ServiceUnavailableException" | "ServiceUnavailable" | "InternalFailure" | "HTTP 500" | "HTTP 503"
        ),
        _ => false,
    }
}

pub enum LogReader {
    Local { path: PathBuf, offset: u64 },
    CloudWatch { stream: LogStream, token: Option<String> },
    /// Every stream of one host of a training job, in order.
    SageMaker { session: Session, prefix: String, streams: Vec<(LogStream, Option<String>)> },
    Nothing,
}

impl LogReader {
    /// Lines written since the previous call (none yet is fine).
    pub async fn next(&mut self) -> Result<Vec<LogLine>> {
        match self {
            LogReader::Local { path, offset } => {
                let mut file = match std::fs::File::open(&*path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
                };
                file.seek(SeekFrom::Start(*offset))?;
                let mut reader = BufReader::new(file);
                let mut lines = Vec::new();
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    let n = reader.read_until(b'\n', &mut buf)?;
                    // Stop at end of file or at a line still being written.
                    if n == 0 || buf.last() != Some(&b'\n') {
                        break;
                    }
                    *offset += n as u64;
                    lines.push(serde_json::from_slice(&buf).with_context(|| format!("{} is corrupt", path.display()))?);
                }
                Ok(lines)
            }
            LogReader::CloudWatch { stream, token } => read_stream(stream, token).await,
            LogReader::SageMaker { session, prefix, streams } => {
                let names = hoist_aws::logs::LogStream::names_with_prefix(session, SAGEMAKER_TRAINING_GROUP, prefix).await?;
                for name in names {
                    if !streams.iter().any(|(s, _)| s.stream() == name) {
                        streams.push((LogStream::sagemaker(session, SAGEMAKER_TRAINING_GROUP, name), None));
                    }
                }
                let mut lines = Vec::new();
                for (stream, token) in streams.iter_mut() {
                    lines.extend(read_stream(stream, token).await?);
                }
                Ok(lines)
            }
            LogReader::Nothing => Ok(Vec::new()),
        }
    }
}

/// The events of a CloudWatch stream written since `token`.
async fn read_stream(stream: &LogStream, token: &mut Option<String>) -> Result<Vec<LogLine>> {
    let mut lines = Vec::new();
    loop {
        let page = match stream.read(token.clone()).await {
            Ok(p) => p,
            // Not created yet: the agent has not started.
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(lines),
            Err(e) => return Err(e.into()),
        };
        let done = page.events.is_empty() || page.next_token == *token;
        for e in page.events {
            let (s, l) = match e.message.strip_prefix(HOIST_PREFIX) {
                Some(rest) => (Stream::Hoist, rest.to_string()),
                None => (Stream::Out, e.message),
            };
            lines.push(LogLine { t: e.timestamp_ms, s, l, cr: false, b: None });
        }
        if page.next_token.is_some() {
            *token = page.next_token;
        }
        if done {
            return Ok(lines);
        }
    }
}
