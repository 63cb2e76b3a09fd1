//! Running one phase (`setup` or `run`) of a job: a shell in its own
//! process group, its stdout and stderr read line by line into a single
//! ordered channel, and the whole group signalled on stop.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::SystemTime;

use anyhow::{Context as _, Result};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::jobs::log_batch::{MAX_EVENT_BYTES, split_message};
use crate::jobs::logstore::{LogLine, Stream};

pub struct Phase {
    pub child: Child,
    pub pid: u32,
    /// Lines from both streams, in the order they were read. Closed when
    /// both streams reach end of file.
    pub lines: mpsc::UnboundedReceiver<LogLine>,
    /// The script file, removed when the phase is dropped.
    _script: tempfile::TempPath,
}

/// The shell that runs `setup` and `run`: bash when present (task files
/// are written for it, as in SkyPilot), otherwise sh.
fn shell() -> &'static str {
    if Path::new("/bin/bash").exists() { "/bin/bash" } else { "/bin/sh" }
}

pub fn spawn(script: &str, cwd: &Path, env: &BTreeMap<String, String>) -> Result<Phase> {
    // The script goes through a file, not `-c`: Linux limits one argument
    // to 128 KiB, and generated `run:` scripts can be longer.
    let mut file = tempfile::Builder::new().prefix("hoist-phase-").suffix(".sh").tempfile().context("writing the job's script")?;
    std::io::Write::write_all(&mut file, script.as_bytes()).context("writing the job's script")?;
    let script_path = file.into_temp_path();
    let mut cmd = Command::new(shell());
    // hoist's own settings (`HOIST_DATA_DIR`, `HOIST_WORKSPACE`, ...) are
    // the agent's, not the job's: the job sees only the HOIST_ variables
    // set for it.
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("HOIST_") && !env.contains_key(k)) {
            cmd.env_remove(&key);
        }
    }
    cmd.arg(&script_path)
        .current_dir(cwd)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that stopping the job reaches every
        // process it started (a training script's data-loader workers).
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn().with_context(|| format!("starting {}", shell()))?;
    let pid = child.id().context("the job process exited before it could be tracked")?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(pump(child.stdout.take().expect("piped"), Stream::Out, tx.clone()));
    tokio::spawn(pump(child.stderr.take().expect("piped"), Stream::Err, tx));
    Ok(Phase { child, pid, lines: rx, _script: script_path })
}

/// Read a stream to its end as the job writes it: a line ends at a newline
/// or at a carriage return (a progress bar redrawing itself, which must
/// show live, not only at the next newline). Bytes, so invalid UTF-8
/// cannot stop it (and is kept: see [`LogLine::b`]); lines longer than one
/// log event can hold are split.
async fn pump(stream: impl AsyncRead + Unpin, s: Stream, tx: mpsc::UnboundedSender<LogLine>) {
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line: Vec<u8> = Vec::new();
    // After a `\r`, a `\n` that follows at once ends the same line (CRLF).
    let mut after_cr = false;
    let emit = |line: &mut Vec<u8>, cr: bool| -> bool {
        let t = now_ms();
        let sent = match std::str::from_utf8(line) {
            Ok(text) => split_message(text, MAX_EVENT_BYTES).into_iter().all(|piece| tx.send(LogLine { t, s, l: piece.to_string(), cr, b: None }).is_ok()),
            // Not text: the bytes themselves go along, so the log keeps
            // them (pieces small enough that their base64 fits an event).
            Err(_) => line.chunks(MAX_EVENT_BYTES / 2).all(|piece| {
                let l = String::from_utf8_lossy(piece).into_owned();
                tx.send(LogLine { t, s, l, cr, b: Some(aws_smithy_types::base64::encode(piece)) }).is_ok()
            }),
        };
        line.clear();
        sent
    };
    loop {
        let chunk = match reader.fill_buf().await {
            Ok([]) => {
                if !line.is_empty() {
                    emit(&mut line, false);
                }
                return;
            }
            Ok(chunk) => chunk,
            Err(e) => {
                let _ = tx.send(LogLine::text(now_ms(), Stream::Hoist, format!("error reading job output: {e}")));
                return;
            }
        };
        let mut used = 0;
        for (i, &b) in chunk.iter().enumerate() {
            match b {
                // CRLF: the line was shown at its `\r`; the `\n` that
                // follows is kept as an empty line, so the log still
                // concatenates to exactly the bytes written.
                b'\n' if after_cr && i == used => {
                    after_cr = false;
                    used = i + 1;
                    if !emit(&mut line, false) {
                        return;
                    }
                }
                b'\n' | b'\r' => {
                    line.extend_from_slice(&chunk[used..i]);
                    used = i + 1;
                    after_cr = b == b'\r';
                    // A redraw that starts with `\r` ends nothing visible.
                    if b == b'\r' && line.is_empty() {
                        continue;
                    }
                    if !emit(&mut line, b == b'\r') {
                        return;
                    }
                }
                _ => after_cr = false,
            }
        }
        line.extend_from_slice(&chunk[used..]);
        let n = chunk.len();
        reader.consume(n);
    }
}

/// Send `signal` to every process in the group led by `pid`.
pub fn signal_group(pid: u32, signal: i32) {
    // SAFETY: kill(2) with a negative pid addresses the process group; it
    // has no memory-safety preconditions.
    unsafe {
        libc::kill(-(pid as i32), signal);
    }
}

/// Whether a process exists (signal 0 checks without sending anything).
pub fn pid_alive(pid: u32) -> bool {
    // SAFETY: as above.
    let r = unsafe { libc::kill(pid as i32, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates
    // within it or truncates.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
