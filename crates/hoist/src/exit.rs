//! Exit codes say whose problem an error is, and errors print once, with
//! their causes, and without a Rust backtrace unless RUST_BACKTRACE asks.

use std::io::Write;
use std::process::ExitCode;

use hoist_aws::{AwsError, ErrorKind};
use hoist_aws::session::SessionError;

use crate::settings::SettingsError;

/// The documented exit codes (also in `hoist --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// Something failed that is not covered below (a job failed, a local
    /// file could not be written).
    Failure = 1,
    /// Invalid usage or input: flags, config file, task file.
    Usage = 2,
    /// No usable AWS credentials.
    Credentials = 3,
    /// An AWS request failed: denied, unreachable, or a service error (or
    /// the MLflow registry `deploy` reads).
    Aws = 4,
    /// `hoist run` only: hoist itself failed (a bad task file, no
    /// credentials, an AWS error), so its code cannot be mistaken for the
    /// job's, which `hoist run` passes through. The convention of
    /// `timeout`, `env` and `nice`.
    RunFailed = 125,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// An error in what the user asked for. Exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Which exit code an error deserves, from the first typed error in its
/// chain that decides it.
pub fn classify(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(aws) = cause.downcast_ref::<AwsError>() {
            return match aws.kind {
                ErrorKind::Credentials(_) => Exit::Credentials,
                _ => Exit::Aws,
            };
        }
        if let Some(r) = cause.downcast_ref::<crate::mlflow::RegistryError>() {
            return if r.is_usage() { Exit::Usage } else { Exit::Aws };
        }
        if cause.is::<UsageError>() || cause.is::<SettingsError>() || cause.is::<crate::task::TaskError>() {
            return Exit::Usage;
        }
        if let Some(SessionError::NoRegion | SessionError::NoProfile { .. }) = cause.downcast_ref::<SessionError>() {
            return Exit::Usage;
        }
    }
    Exit::Failure
}

/// True when the error is only that stdout was closed (`hoist ... | head`):
/// that is success, as in ripgrep.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The command being run (`init`, `destroy`...), for hints that name it.
pub static COMMAND: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// For an access-denied error: the commands that show what is missing
/// and print the policy to ask for.
fn access_hint(err: &anyhow::Error) -> Option<String> {
    let denied = err.chain().find_map(|c| c.downcast_ref::<AwsError>().filter(|e| e.is_access_denied()))?;
    // The boundary is an administrator's by design: no user policy holds
    // these, so pointing at `hoist policy` would mislead.
    let admin_only = ["init", "destroy"].iter().any(|c| hoist_aws::commands::admin_ops(c).contains(&denied.op));
    if admin_only {
        return Some(
            "The workspace's permissions boundary is created and changed only by an administrator (a user who could edit it could widen it): \
             ask one to run `hoist init` once with their credentials, or to apply `hoist policy --format cloudformation` (or terraform). \
             Then run `hoist init` again."
                .into(),
        );
    }
    if COMMAND.get() == Some(&"check") {
        return Some(
            "`hoist check` reads your own IAM policies: it needs `hoist policy check` (read-only, on your own user or role), which `hoist policy all` leaves out."
                .into(),
        );
    }
    // `jobs`, `logs` and `cancel` on jobs in AWS need what `run` needs;
    // `endpoints` and `invoke` what `deploy` needs.
    let command = COMMAND.get().copied().and_then(|c| match c {
        "init" | "status" | "destroy" | "run" | "deploy" | "secret" => Some(c),
        "jobs" | "logs" | "cancel" => Some("run"),
        "endpoints" | "invoke" => Some("deploy"),
        _ => None,
    });
    Some(match command {
        Some(c) => format!(
            "`hoist check {c}` lists every permission `hoist {c}` needs that you lack; `hoist policy {c}` prints the policy to ask an administrator for."
        ),
        None => "`hoist check` lists every permission you lack; `hoist policy` prints the policy to ask an administrator for.".into(),
    })
}

/// Print the error chain once to stderr and return its exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    let mut stderr = std::io::stderr().lock();
    let mut first = true;
    for cause in err.chain() {
        let text = cause.to_string();
        let mut lines = text.lines();
        let head = lines.next().unwrap_or_default();
        if first {
            let _ = writeln!(stderr, "error: {head}");
            first = false;
        } else {
            let _ = writeln!(stderr, "  caused by: {head}");
        }
        for line in lines {
            let _ = writeln!(stderr, "  {line}");
        }
    }
    if let Some(hint) = access_hint(err) {
        let _ = writeln!(stderr, "  {hint}");
    }
    // No backtrace, whatever RUST_BACKTRACE says: an error is the user's
    // to read, and its chain says all there is. Backtraces are for panics
    // (the default hook still prints them).
    match COMMAND.get() {
        Some(&"run") => Exit::RunFailed.into(),
        _ => classify(err).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_typed_cause() {
        let usage = anyhow::Error::new(UsageError("bad".into())).context("while parsing");
        assert_eq!(classify(&usage), Exit::Usage);
        let other = anyhow::anyhow!("disk full");
        assert_eq!(classify(&other), Exit::Failure);
        let aws = AwsError {
            op: hoist_aws::catalog::sts::GET_CALLER_IDENTITY,
            resource: None,
            endpoint: "e".into(),
            kind: ErrorKind::Credentials("none".into()),
        };
        assert_eq!(classify(&anyhow::Error::new(aws)), Exit::Credentials);
    }

    #[test]
    fn access_denied_names_the_commands_that_fix_it() {
        let _ = COMMAND.set("init");
        let denied = AwsError {
            op: hoist_aws::catalog::s3::CREATE_BUCKET,
            resource: Some("arn:aws:s3:::b".into()),
            endpoint: "e".into(),
            kind: ErrorKind::AccessDenied { code: "AccessDenied".into(), message: "no".into() },
        };
        let hint = access_hint(&anyhow::Error::new(denied)).unwrap();
        assert!(hint.contains("`hoist check init`") && hint.contains("`hoist policy init`"), "{hint}");
        assert_eq!(access_hint(&anyhow::anyhow!("other")), None);
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let err = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("writing the report");
        assert!(is_broken_pipe(&err));
    }
}
