//! hoist: run machine-learning work in your own AWS account with the least
//! IAM permission possible.
//!
//! Layout: [`cli`] declares the command line; [`settings`] resolves every
//! configurable value (flag > environment > config file > default) and
//! remembers where it came from; [`commands`] has one module per verb;
//! [`printer`] decides what goes to stdout and stderr; [`exit`] maps errors
//! to exit codes and prints them once.

pub mod agent;
pub mod backends;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod exit;
pub mod footprint;
pub mod humanize;
pub mod jobs;
pub mod mlflow;
pub mod permissions;
pub mod printer;
pub mod progress;
pub mod reconcile;
pub mod resolve;
pub mod settings;
pub mod suggest;
pub mod task;
pub mod workspace;

use std::process::ExitCode;

use clap::Parser;

/// The whole program: parse, run, report. Returns the exit code rather
/// than calling `process::exit`, so destructors (temp files, child
/// processes) always run.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse(); // usage errors exit 2, --help exits 0
    init_tracing(&cli.global);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => return exit::report(&anyhow::Error::new(err).context("starting the async runtime")),
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(code) => code,
        Err(err) => exit::report(&err),
    }
}

/// Logs go to stderr. `-v` shows hoist's progress details, `-vv` adds every
/// AWS call, `-vvv` everything including the SDK's internals. `HOIST_LOG`
/// (a tracing filter such as `hoist_aws=debug`) overrides all of that.
fn init_tracing(global: &cli::GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        // The SDK's own warnings (a region not found in instance metadata,
        // three times over) are noise beside hoist's own message for the
        // same problem; -vv shows them.
        (false, 0) => "warn,aws_config=error",
        (false, 1) => "warn,aws_config=error,hoist=info,hoist_aws=info",
        (false, 2) => "info,hoist=debug,hoist_aws=debug",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("HOIST_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(global.verbose >= 2)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .try_init();
}
