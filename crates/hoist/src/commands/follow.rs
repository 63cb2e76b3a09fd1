//! Shared by `run`, `logs` and `cancel`: finding a job by id prefix, and
//! printing (and following) its log.

use std::io::Write;
use std::time::Duration;

use anyhow::Result;

use crate::backends::Jobs;
use crate::jobs::logstore::{LogLine, Stream};
use crate::jobs::record::{Attempt, JobRecord};

/// How log lines are shown.
#[derive(Debug, Clone, Copy)]
pub struct LineFormat {
    /// One JSON object per line on stdout (`--output json`).
    pub json: bool,
    pub timestamps: bool,
    /// `-q`: hoist's own lines (`hoist: ...`) are left out; the job's are
    /// what was asked for.
    pub quiet: bool,
    /// Which node's log (0: rank 0's, the only one of a single-node job).
    pub node: u32,
}

/// Print one line: the job's stdout to stdout, its stderr and hoist's own
/// notes to stderr, so `hoist logs JOB > out.txt` captures what the job
/// printed.
pub fn print_line(line: &LogLine, format: LineFormat) -> std::io::Result<()> {
    if format.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, line).map_err(std::io::Error::from)?;
        return writeln!(out);
    }
    let stamp = if format.timestamps {
        let t = std::time::UNIX_EPOCH + Duration::from_millis(line.t.max(0) as u64);
        format!("{} ", humantime::format_rfc3339_millis(t))
    } else {
        String::new()
    };
    // A progress bar's redraw ends in `\r`, as the job wrote it, so a
    // terminal redraws it in place; flushed, so it shows at once.
    let end = if line.cr { "\r" } else { "\n" };
    // The job's own bytes, exactly as written (not text included).
    match line.s {
        Stream::Out => {
            let mut out = std::io::stdout().lock();
            write!(out, "{stamp}")?;
            out.write_all(&line.bytes())?;
            write!(out, "{end}")?;
            out.flush()
        }
        Stream::Err => {
            let mut err = std::io::stderr().lock();
            write!(err, "{stamp}")?;
            err.write_all(&line.bytes())?;
            write!(err, "{end}")
        }
        Stream::Hoist if format.quiet => Ok(()),
        Stream::Hoist => writeln!(std::io::stderr().lock(), "{stamp}hoist: {}", line.l),
    }
}

/// What to do on Ctrl-C while following.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInterrupt {
    /// `hoist run` (local): you are watching your own machine's job, so
    /// Ctrl-C stops it, saving its checkpoint.
    Cancel,
    /// `hoist logs -f`: stop following; the job goes on.
    Detach,
}

/// Print the attempt's log from the start and, if `follow`, keep printing
/// until the attempt ends. Returns the attempt as last seen, or `None` if
/// the user detached.
pub async fn show_log(
    jobs: &Jobs,
    job: &JobRecord,
    attempt: u32,
    format: LineFormat,
    follow: bool,
    on_interrupt: OnInterrupt,
    mut agent: Option<std::process::Child>,
) -> Result<Option<Attempt>> {
    let id = job.id.as_str();
    let store = jobs.store(job)?;
    let mut reader = jobs.logs(job)?.reader(id, attempt, format.node);
    let mut interrupted = false;
    let mut poll = Duration::from_millis(50);
    // SIGTERM (a supervisor, `kill`) and SIGHUP (the terminal went away)
    // mean what Ctrl-C means; so does a closed stdout (`hoist run | head`):
    // the watcher is gone, and a job left running unwatched is a leak.
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut sink_closed = false;
    loop {
        for line in reader.next().await? {
            if sink_closed {
                continue;
            }
            match print_line(&line, format) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && on_interrupt == OnInterrupt::Cancel => {
                    sink_closed = true;
                    if !interrupted {
                        interrupted = true;
                        let record = store.load_record(id).await?.ok_or_else(|| anyhow::anyhow!("job {id} disappeared"))?;
                        jobs.request_cancel(&record).await?;
                    }
                }
                other => other?,
            }
        }
        let mut record = store.load_record(id).await?.ok_or_else(|| anyhow::anyhow!("job {id} disappeared"))?;
        jobs.reconcile(&mut record).await?;
        let current = record.attempts.iter().find(|a| a.number == attempt).cloned().expect("attempt exists");
        if !follow || current.status.is_terminal() {
            // The agent flushes its last lines before its final status.
            for line in reader.next().await? {
                match print_line(&line, format) {
                    Err(e) if sink_closed || e.kind() == std::io::ErrorKind::BrokenPipe => break,
                    other => other?,
                }
            }
            return Ok(Some(current));
        }
        // The agent records the final status just before it exits: once it
        // has exited, look again at once instead of sleeping.
        if let Some(child) = agent.as_mut()
            && matches!(child.try_wait(), Ok(Some(_)))
        {
            agent = None;
            continue;
        }
        let stop = async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
                _ = hup.recv() => {}
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop => match (on_interrupt, interrupted) {
                (OnInterrupt::Cancel, false) => {
                    interrupted = true;
                    eprintln!("hoist: cancelling job {id} (its checkpoint is saved); press Ctrl-C again to stop watching");
                    jobs.request_cancel(&record).await?;
                }
                _ => {
                    eprintln!("hoist: stopped watching; job {id} goes on (`hoist logs -f {id}` to watch, `hoist cancel {id}` to stop)");
                    return Ok(None);
                }
            },
        }
        // Fast at first so short jobs feel instant, then gentle on the disk
        // (and, for a job in AWS, on the API: a request per poll).
        let max = if job.backend == crate::task::Backend::Local { 500 } else { 2000 };
        poll = (poll * 2).min(Duration::from_millis(max));
    }
}
