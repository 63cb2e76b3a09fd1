//! Progress on a terminal, the way cargo and uv show it: one line on
//! stderr, redrawn in place. Nothing is drawn when stderr is not a
//! terminal, with `-q`, or with `HOIST_PROGRESS=0`; hoist's own status
//! lines then print as they always do. While a bar shows, status lines
//! print above it (see [`crate::printer::Printer::status`]).
//!
//! Bars stack, as uv's do: a command's own steps (init, destroy, deploy),
//! and under them each large file transfer (a code bundle, the agent
//! binary, a model file) through [`hoist_aws::s3::observe_transfers`].

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::printer::Printer;

/// The bars on screen (status lines go above them), and how many there are.
static BARS: Mutex<Option<(MultiProgress, usize)>> = Mutex::new(None);

/// Transfers smaller than this finish before a bar is worth drawing.
const SMALLEST_TRANSFER: u64 = 4 << 20;

fn enabled(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal() && std::env::var("HOIST_PROGRESS").map(|v| v != "0").unwrap_or(true)
}

/// A bar, removed from the screen when dropped.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    fn start(quiet: bool, bar: impl FnOnce() -> ProgressBar) -> Self {
        if !enabled(quiet) {
            return Self(None);
        }
        let mut bars = BARS.lock().unwrap_or_else(|e| e.into_inner());
        let (multi, count) = bars.get_or_insert_with(|| (MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), 0));
        let bar = multi.add(bar());
        bar.enable_steady_tick(Duration::from_millis(120));
        *count += 1;
        Self(Some(bar))
    }

    /// `what [=====>    ] 3/8 (4s)`: a command's steps.
    pub fn steps(printer: &Printer, total: u64, what: &str) -> Self {
        let what = what.to_string();
        Self::start(printer.quiet, move || {
            let bar = ProgressBar::new(total).with_message(what);
            bar.set_style(
                ProgressStyle::with_template("{spinner:.green} {msg} [{bar:30.cyan/blue}] {pos}/{len} ({elapsed})")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        })
    }

    /// `what [=====>    ] 12.0 MiB/48.0 MiB 20 MiB/s (2s)`: bytes.
    fn bytes(quiet: bool, total: u64, what: &str) -> Self {
        let what = what.to_string();
        Self::start(quiet, move || {
            let bar = ProgressBar::new(total).with_message(what);
            bar.set_style(
                ProgressStyle::with_template("{spinner:.green} {msg} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} ({eta})")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        })
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }

    pub fn set_message(&self, message: impl Into<String>) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.into());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
            let mut bars = BARS.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((multi, count)) = bars.as_mut() {
                multi.remove(&bar);
                *count -= 1;
                if *count == 0 {
                    *bars = None;
                }
            }
        }
    }
}

/// Print a status line above the bars on screen. False when there are
/// none (the caller prints it as usual).
pub fn println(line: &str) -> bool {
    match BARS.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        Some((multi, _)) => multi.println(line).is_ok(),
        None => false,
    }
}

/// Shows uploads of the CLI's large files (not the agent's: it never has a
/// terminal).
struct Transfers {
    quiet: bool,
    bars: Mutex<Vec<(String, Progress)>>,
}

impl hoist_aws::s3::TransferObserver for Transfers {
    fn started(&self, key: &str, total: u64) {
        if total < SMALLEST_TRANSFER {
            return;
        }
        let name = key.rsplit('/').next().unwrap_or(key);
        let bar = Progress::bytes(self.quiet, total, &format!("uploading {name}"));
        self.bars.lock().unwrap_or_else(|e| e.into_inner()).push((key.to_string(), bar));
    }

    fn advanced(&self, key: &str, bytes: u64) {
        if let Some((_, bar)) = self.bars.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|(k, _)| k == key) {
            bar.inc(bytes);
        }
    }

    fn finished(&self, key: &str) {
        self.bars.lock().unwrap_or_else(|e| e.into_inner()).retain(|(k, _)| k != key);
    }
}

/// Show this process's uploads (called once, by the CLI).
pub fn observe_transfers(quiet: bool) {
    if enabled(quiet) {
        hoist_aws::s3::observe_transfers(Box::new(Transfers { quiet, bars: Mutex::new(Vec::new()) }));
    }
}
