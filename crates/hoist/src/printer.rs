//! The one place that decides what goes where: results to stdout (as text
//! or JSON), progress and notices to stderr (suppressed by `-q`).
//!
//! Nothing in hoist uses `println!`: it panics on a closed pipe, while
//! these methods return the error so `hoist jobs | head -1` exits cleanly.

use std::io::{self, Write};

use serde::Serialize;

use crate::cli::OutputFormat;

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub format: OutputFormat,
    pub quiet: bool,
}

/// A command's result: serializable for `--output json`, renderable for
/// people.
pub trait Report: Serialize {
    fn render_text(&self, out: &mut dyn Write) -> io::Result<()>;
}

impl Printer {
    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Print a command's result in the chosen format.
    pub fn report(&self, report: &impl Report) -> io::Result<()> {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        match self.format {
            OutputFormat::Json => {
                // `From` keeps an I/O error's kind (a closed pipe stays BrokenPipe).
                serde_json::to_writer_pretty(&mut out, report).map_err(io::Error::from)?;
                writeln!(out)?;
            }
            OutputFormat::Text => report.render_text(&mut out)?,
        }
        out.flush()
    }

    /// A progress line or notice, on stderr, unless `-q`.
    pub fn status(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            let line = message.to_string();
            // Above a progress bar when one is on screen.
            if !crate::progress::println(&line) {
                let _ = writeln!(io::stderr(), "{line}");
            }
        }
    }
}

impl Printer {
    /// A problem a long-running command goes on after (a watch's failed
    /// round): on stderr even with `-q`, which quiets progress, not errors.
    pub fn problem(&self, message: impl std::fmt::Display) {
        let line = message.to_string();
        if !crate::progress::println(&line) {
            let _ = writeln!(io::stderr(), "{line}");
        }
    }
}

/// `1 resource`, `2 resources`: a count with its noun (regular plurals).
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Write aligned `key  value` rows, the text form of most reports.
pub fn write_rows(out: &mut dyn Write, rows: &[(&str, String)]) -> io::Result<()> {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in rows {
        writeln!(out, "{key:<width$}  {value}")?;
    }
    Ok(())
}
