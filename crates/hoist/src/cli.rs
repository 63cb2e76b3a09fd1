//! The command line, declared with clap's derive API.
//!
//! Global options are plain `Option`s (no clap `env =`): hoist resolves
//! environment variables and the config file itself in [`crate::settings`],
//! so that `hoist config show` can say where every value came from.

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Run machine-learning work in your own AWS account, with the least IAM permission possible.";

const AFTER_HELP: &str = "\
Configuration precedence: command-line flag > environment variable > config file > default.
See the effective values and where each came from with `hoist config show`.

Exit status: 0 success, 1 failure, 2 invalid usage or input, 3 no usable AWS
credentials, 4 an AWS request failed (denied, unreachable, service error).

Examples:
  hoist whoami                          who AWS thinks you are, and where hoist will act
  hoist --region eu-west-1 whoami --output json
  hoist config show                     effective settings and their sources";

#[derive(Debug, Parser)]
#[command(name = "hoist", version, about = ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// AWS profile from ~/.aws/config [env: HOIST_PROFILE, AWS_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// AWS region, e.g. us-east-1 [env: HOIST_REGION, AWS_REGION, AWS_DEFAULT_REGION]
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// Send AWS requests to this URL instead of AWS's own endpoints (an
    /// emulator, a VPC endpoint) [env: HOIST_ENDPOINT_URL, AWS_ENDPOINT_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Workspace: the namespace of every resource hoist creates. Lowercase
    /// letters, digits and dashes, at most 16 characters [env: HOIST_WORKSPACE] [default: default]
    #[arg(long, short = 'w', global = true, value_name = "NAME")]
    pub workspace: Option<String>,

    /// Output format: `text` for people, `json` for scripts [env: HOIST_OUTPUT] [default: text]
    #[arg(long, short = 'o', global = true, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,

    /// More detail on stderr: -v progress details, -vv every AWS call, -vvv SDK internals
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Print only results and errors
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show who you are to AWS and where hoist will act (account, region, endpoint, workspace)
    #[command(after_help = "Needs no IAM permission: STS GetCallerIdentity is always allowed.\n\n\
        Examples:\n  hoist whoami\n  hoist whoami --output json | jq -r .account")]
    Whoami,

    /// Show or locate hoist's configuration
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective value of every setting and where it came from
    #[command(after_help = "The config file is TOML with the keys profile, region, endpoint_url,\n\
        workspace and output, e.g.\n\n  region = \"eu-west-1\"\n  workspace = \"team-a\"\n\n\
        Its location is printed here; HOIST_CONFIG=PATH points hoist at another file.")]
    Show,
}
