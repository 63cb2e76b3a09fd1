//! `hoist secret set/list/rm`: the workspace's secrets in Secrets Manager,
//! which jobs in AWS receive. A value goes from the user (stdin, a file,
//! or a flag) to Secrets Manager and from there only to a job's agent;
//! hoist never prints, logs or records one.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use hoist_aws::secrets::{SecretInfo, Secrets, SetOutcome};
use serde::Serialize;

use super::Context;
use crate::cli::{SecretCommand, SecretSetArgs};
use crate::exit::UsageError;
use crate::printer::Report;

/// Secrets Manager's limit on a secret's value.
const MAX_VALUE_BYTES: usize = 65_536;

/// A secret's name is an environment variable's: that is how the job
/// receives it.
pub fn check_secret_name(name: &str) -> Result<(), UsageError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.as_bytes()[0].is_ascii_digit()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(UsageError(format!(
            "invalid secret name {name:?}: a job receives it as an environment variable, so use letters, digits and _ (not starting with a digit), at most 128"
        )))
    }
}

#[derive(Serialize)]
struct SetReport<'a> {
    name: &'a str,
    outcome: SetOutcome,
}

impl Report for SetReport<'_> {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let what = match self.outcome {
            SetOutcome::Created => "created",
            SetOutcome::Updated => "updated",
        };
        writeln!(out, "secret {} {what}", self.name)
    }
}

#[derive(Serialize)]
#[serde(transparent)]
struct ListReport(Vec<SecretInfo>);

impl Report for ListReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for s in &self.0 {
            writeln!(out, "{}", s.name)?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct RmReport<'a> {
    name: &'a str,
    deleted: bool,
}

impl Report for RmReport<'_> {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.deleted {
            writeln!(out, "secret {} deleted", self.name)
        } else {
            writeln!(out, "no secret {} (nothing to delete)", self.name)
        }
    }
}

pub async fn run(ctx: &Context, cmd: &SecretCommand) -> Result<ExitCode> {
    let workspace = ctx.settings.workspace.value.as_str();
    match cmd {
        SecretCommand::Set(args) => {
            check_secret_name(&args.name)?;
            // The value is read before AWS is asked anything: a mistake in
            // it changes nothing.
            let value = read_value(args)?;
            let session = ctx.session().await?;
            let secrets = Secrets::new(&session, workspace);
            let outcome = secrets.set(&args.name, &value, &hoist_aws::tags::for_workspace(workspace)).await?;
            ctx.printer.report(&SetReport { name: &args.name, outcome })?;
        }
        SecretCommand::List => {
            let session = ctx.session().await?;
            let list = Secrets::new(&session, workspace).list().await?;
            if list.is_empty() && !ctx.printer.is_json() {
                ctx.printer.status(format!("no secrets in workspace {workspace}: add one with `hoist secret set NAME`"));
                return Ok(ExitCode::SUCCESS);
            }
            ctx.printer.report(&ListReport(list))?;
        }
        SecretCommand::Rm { name } => {
            check_secret_name(name)?;
            let session = ctx.session().await?;
            let deleted = Secrets::new(&session, workspace).delete(name).await?;
            ctx.printer.report(&RmReport { name, deleted })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The value from `--value`, `--from-file` (exact bytes), or stdin (one
/// trailing newline dropped; typed without echo at a terminal).
fn read_value(args: &SecretSetArgs) -> Result<String> {
    let value = if let Some(v) = &args.value {
        v.clone()
    } else if let Some(path) = &args.from_file {
        std::fs::read_to_string(path).with_context(|| format!("reading the secret's value from {}", path.display()))?
    } else {
        let stdin = std::io::stdin();
        let mut text = String::new();
        if stdin.is_terminal() {
            eprint!("value of {} (not shown; Enter to finish): ", args.name);
            let _ = std::io::stderr().flush();
            let _echo = EchoOff::new();
            stdin.read_line(&mut text).context("reading the secret's value")?;
            eprintln!();
        } else {
            stdin.lock().read_to_string(&mut text).context("reading the secret's value from stdin")?;
        }
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        text
    };
    if value.is_empty() {
        return Err(UsageError(format!("the value of secret {} is empty", args.name)).into());
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(UsageError(format!("the value of secret {} is {} bytes: Secrets Manager takes at most 64 KiB", args.name, value.len())).into());
    }
    Ok(value)
}

/// Terminal echo off while a secret is typed; restored when dropped
/// (including on an error).
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> Self {
        // SAFETY: tcgetattr/tcsetattr on stdin with a valid termios buffer.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return Self(None);
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &t);
            Self(Some(saved))
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            // SAFETY: restoring the settings read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, saved);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_environment_variable_names() {
        for ok in ["HF_TOKEN", "_x", "a1"] {
            assert!(check_secret_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1A", "HF-TOKEN", "a/b", "x y"] {
            assert!(check_secret_name(bad).is_err(), "{bad}");
        }
    }
}
