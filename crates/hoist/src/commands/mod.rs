//! One module per command. Each takes the resolved [`Context`] and its own
//! arguments, does its work, and prints through the [`Printer`].

mod agent;
mod cancel;
mod check;
mod completions;
mod config;
mod confirm;
mod deploy;
mod destroy;
mod endpoints;
mod follow;
mod init;
mod invoke;
mod jobs;
mod logs;
mod policy;
mod run;
mod run_plan;
mod run_sagemaker;
mod secret;
mod status;
mod whoami;

use std::process::ExitCode;

use anyhow::Result;
use hoist_aws::Session;

use crate::cli::{Cli, Command, ConfigCommand};
use crate::printer::Printer;
use crate::settings::Settings;

/// Everything a command needs from the global options.
pub struct Context {
    pub settings: Settings,
    pub printer: Printer,
}

impl Context {
    /// The AWS session for commands that talk to AWS. Reads profile files
    /// but sends nothing; read-only local commands never call this.
    pub async fn session(&self) -> Result<Session> {
        let s = &self.settings;
        let shown = |v: &Option<crate::settings::Sourced<String>>| match v {
            Some(v) => format!("{} (from {})", v.value, v.source),
            None => "not set".into(),
        };
        tracing::info!(
            "region {}, profile {}, endpoint {}, workspace {} (from {})",
            shown(&s.region),
            shown(&s.profile),
            shown(&s.endpoint_url),
            s.workspace.value,
            s.workspace.source
        );
        Ok(Session::connect(&s.connect_options()).await?)
    }
}

fn name(command: &Command) -> &'static str {
    match command {
        Command::Init(_) => "init",
        Command::Status => "status",
        Command::Destroy(_) => "destroy",
        Command::Policy(_) => "policy",
        Command::Check(_) => "check",
        Command::Whoami => "whoami",
        Command::Config(_) => "config",
        Command::Run(_) => "run",
        Command::Jobs => "jobs",
        Command::Logs(_) => "logs",
        Command::Cancel(_) => "cancel",
        Command::Secret(_) => "secret",
        Command::Deploy(_) => "deploy",
        Command::Endpoints(_) => "endpoints",
        Command::Invoke(_) => "invoke",
        Command::Agent(_) => "agent",
        Command::Completions { .. } => "completions",
        Command::Man => "man",
    }
}

pub async fn dispatch(cli: Cli) -> Result<ExitCode> {
    let _ = crate::exit::COMMAND.set(name(&cli.command));
    // Generated from the CLI definition alone: they work whatever the
    // settings say.
    match &cli.command {
        Command::Completions { shell } => return completions::completions(*shell),
        Command::Man => return completions::man(),
        _ => {}
    }
    let settings = Settings::resolve(&cli.global)?;
    let printer = Printer { format: settings.output.value, quiet: cli.global.quiet };
    // Large uploads show a bar on a terminal (never the agent's).
    if !matches!(cli.command, Command::Agent(_)) {
        crate::progress::observe_transfers(printer.quiet);
    }
    let ctx = Context { settings, printer };
    let started = std::time::Instant::now();
    let result = run_command(&ctx, cli.command).await;
    let (calls, waited) = hoist_aws::session::call_stats();
    if calls > 0 {
        tracing::info!("{calls} AWS requests, {} ms waiting on AWS, {} ms in all", waited.as_millis(), started.elapsed().as_millis());
    }
    result
}

async fn run_command(ctx: &Context, command: Command) -> Result<ExitCode> {
    match command {
        Command::Whoami => whoami::run(ctx).await,
        Command::Init(args) => init::run(ctx, &args).await,
        Command::Status => status::run(ctx).await,
        Command::Destroy(args) => destroy::run(ctx, &args).await,
        Command::Policy(args) => policy::run(ctx, &args).await,
        Command::Check(args) => check::run(ctx, &args).await,
        Command::Config(ConfigCommand::Show) => config::show(ctx).await,
        Command::Run(args) => run::run(ctx, &args).await,
        Command::Jobs => jobs::run(ctx).await,
        Command::Logs(args) => logs::run(ctx, &args).await,
        Command::Cancel(args) => cancel::run(ctx, &args).await,
        Command::Secret(cmd) => secret::run(ctx, &cmd).await,
        Command::Deploy(cmd) => deploy::run(ctx, &cmd).await,
        Command::Endpoints(args) => endpoints::run(ctx, &args).await,
        Command::Invoke(args) => invoke::run(ctx, &args).await,
        Command::Agent(args) => agent::run(ctx, &args).await,
        Command::Completions { .. } | Command::Man => unreachable!("answered above"),
    }
}
