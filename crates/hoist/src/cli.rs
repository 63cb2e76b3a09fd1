//! The command line, declared with clap's derive API.
//!
//! Global options are plain `Option`s (no clap `env =`): hoist resolves
//! environment variables and the config file itself in [`crate::settings`],
//! so that `hoist config show` can say where every value came from.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Run machine-learning work in your own AWS account, with the least IAM permission possible.";

const AFTER_HELP: &str = "\
Configuration precedence: command-line flag > environment variable > config file > default.
See the effective values and where each came from with `hoist config show`.

Exit status: 0 success, 1 failure, 2 invalid usage or input, 3 no usable AWS
credentials, 4 an AWS request failed (denied, unreachable, service error).
`hoist run` exits with the job's own code instead (130 if cancelled), and 125
when hoist itself failed, so the two never mix.

Examples:
  hoist run examples/quickstart/task.yaml   train on this machine (no AWS account needed)
  hoist jobs                                 list jobs
  hoist logs -f JOB                          follow a job's output
  hoist policy                               the IAM policy hoist needs, for your account
  hoist check                                which of those permissions you lack
  hoist init                                 set up the account footprint (asks first)
  hoist config show                          effective settings and their sources";

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
    /// Run a training task from a task file (on this machine by default)
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// List the workspace's jobs, newest first
    #[command(after_help = "Examples:\n  hoist jobs\n  hoist jobs -o json | jq -r '.[] | select(.status == \"running\") | .id'")]
    Jobs,
    /// Print a job's output (the newest job's if none is named)
    #[command(after_help = "The job's stdout goes to stdout, its stderr and hoist's own notes to stderr.\n\n\
        Examples:\n  hoist logs -f quickstart-1a2b3c4d\n  hoist logs quick          (any unique prefix of an id)\n  hoist logs --attempt 1 JOB")]
    Logs(LogsArgs),
    /// Stop a running job; its checkpoint is saved and it can be resumed
    #[command(after_help = "The job's processes get SIGTERM, then SIGKILL after the agent's grace period (10 s);\n\
        its checkpoint directory is synced one last time. A job on EC2 whose agent has not\n\
        answered within --grace (3 min) has its instance terminated; a SageMaker job is stopped\n\
        (StopTrainingJob) at once, and SageMaker ends it. Resume with\n\
        `hoist run --resume JOB`.")]
    Cancel(CancelArgs),
    /// Store the secrets jobs in AWS use (in Secrets Manager; values are never printed)
    #[command(subcommand, after_help = "A task names its secrets (`secrets: [HF_TOKEN]`); on EC2 and SageMaker the agent reads\n\
        each one from Secrets Manager (`hoist/<workspace>/NAME`) with the job's role, and masks its\n\
        value in the job's output. Examples:\n\
        \n  hoist secret set HF_TOKEN            # reads the value from stdin (hidden at a terminal)\n\
        \n  hoist secret set SSH_KEY --from-file ~/.ssh/id_ed25519\n\
        \n  hoist secret list\n\
        \n  hoist secret rm HF_TOKEN")]
    Secret(SecretCommand),
    /// Serve models on SageMaker endpoints declared in a file (plan, apply, watch)
    #[command(subcommand, after_help = DEPLOY_HELP)]
    Deploy(DeployCommand),
    /// List the workspace's endpoints, or delete one
    #[command(after_help = "Examples:\n  hoist endpoints\n  hoist endpoints -o json | jq -r '.[] | select(.status != \"InService\") | .endpoint'\n  \
        hoist endpoints delete sentiment --yes")]
    Endpoints(EndpointsArgs),
    /// Send a request to an endpoint and print its answer
    #[command(after_help = "The answer goes to stdout as the endpoint sent it (bytes, not re-encoded).\n\n\
        Examples:\n  hoist invoke sentiment --body '{\"inputs\": \"I love it\"}'\n  \
        hoist invoke sentiment --body @request.json\n  \
        hoist invoke resnet --body @cat.jpg --content-type image/jpeg > answer.json\n  \
        hoist invoke llm --stream --body '{\"inputs\": \"Once\", \"stream\": true}'")]
    Invoke(InvokeArgs),
    /// Set up (or repair) the workspace's footprint in your AWS account
    #[command(after_help = INIT_HELP)]
    Init(InitArgs),
    /// Show the workspace's footprint: each resource, and whether it exists and matches
    #[command(after_help = "Each resource is ok, missing, drifted (exists, differs from what init makes) or\n\
        conflict (not hoist's, or another workspace's). Reads only.\n\
        Exit status 0 when every resource is ok (ready), 1 when not, like `hoist check`.\n\n\
        Examples:\n  hoist status\n  hoist status -q || hoist init --yes\n  hoist status -o json | jq -r '.resources[] | select(.state != \"ok\") | .name'")]
    Status,
    /// Remove everything hoist created for the workspace
    #[command(after_help = DESTROY_HELP)]
    Destroy(DestroyArgs),
    /// Print the IAM policy hoist needs, generated from its own code
    #[command(after_help = "Every action hoist's commands perform, each on the exact resource it touches,\n\
        filled in for your account, region and workspace: attach it as is.\n\n\
        Examples:\n  hoist policy                       everything (init, status, run, deploy, secret, destroy)\n  \
        hoist policy init destroy\n  hoist policy --account 123456789012 --region eu-west-1   offline\n  \
        hoist policy --roles               the execution roles' trust and inline policies\n  \
        hoist policy --boundary            the permissions boundary the roles carry\n  \
        hoist policy --mode admin --format cloudformation   an administrator's whole set-up")]
    #[command(args_conflicts_with_subcommands = true)]
    Policy(PolicyArgs),
    /// Check that you hold every permission hoist's commands need, and say what is missing
    #[command(after_help = "Uses IAM's policy simulator where it can, otherwise reads your own IAM\n\
        policies (inline, attached, groups, boundary) and evaluates them locally; says\n\
        which, and what it cannot see (SCPs, resource and session policies).\n\
        Exit status 1 when something is missing. Reading your own policies needs\n\
        `hoist policy check` (read-only, on your own user or role), which `hoist policy all` leaves\n\
        out and the administrator's templates include.\n\nExamples:\n  hoist check\n  hoist check init -o json")]
    Check(CheckArgs),
    /// Show who you are to AWS and where hoist will act (account, region, endpoint, workspace)
    #[command(after_help = "Needs no IAM permission: STS GetCallerIdentity is always allowed.\n\n\
        Examples:\n  hoist whoami\n  hoist whoami --output json | jq -r .account")]
    Whoami,
    /// Show or locate hoist's configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run a job's pending attempt (started by hoist itself, locally or on an instance)
    #[command(hide = true)]
    Agent(AgentArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(after_help = "Examples:\n  hoist completions bash > ~/.local/share/bash-completion/completions/hoist\n  \
        hoist completions zsh > \"${fpath[1]}/_hoist\"\n  hoist completions fish > ~/.config/fish/completions/hoist.fish")]
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print hoist's man page (roff)
    #[command(after_help = "Examples:\n  hoist man > ~/.local/share/man/man1/hoist.1 && man hoist\n  hoist man | man -l -")]
    Man,
}

const INIT_HELP: &str = "\
Creates, or makes match again, the workspace's resources (names start with
hoist-<workspace>-, all tagged hoist:managed=true and hoist:workspace=<name>):
  bucket            hoist-<workspace>-<account>-<region>: public access blocked, default
                    encryption, TLS-only bucket policy, owner-enforced object ownership,
                    incomplete multipart uploads aborted after 7 days
  boundary          hoist-<workspace>-boundary: the permissions boundary both roles carry
                    (created only by an administrator's credentials; see below)
  role              hoist-<workspace>-sagemaker: trusted by SageMaker for this account only
  role              hoist-<workspace>-instance: trusted by EC2; one scoped inline policy each
  instance profile  hoist-<workspace>-instance
  log group         /hoist/<workspace>/jobs, with a retention (config log_retention_days)
  security group    hoist-<workspace>: no inbound rules

Safe to re-run: what exists and matches is left alone (no write is sent); drift is
repaired and reported. A same-named resource without hoist's tags is refused
unless --adopt. Config keys: kms_key, bucket_versioning, log_retention_days, vpc_id.

Two set-up modes (config key `mode`, docs/SECURITY.md):
  self-service  (default) you run init. Roles can only be created carrying the
                workspace's boundary, which you may not change: the first init needs
                an administrator's credentials (or the boundary from
                `hoist policy --format cloudformation`), later ones do not.
  admin         an administrator applies `hoist policy --mode admin --format
                cloudformation|terraform`, which creates everything; init then only
                verifies and reports, and writes nothing.
An administrator's own roles can be named with --sagemaker-role and --instance-profile
(config keys sagemaker_role, instance_profile): init checks they are usable, never
changes them.

Examples:
  hoist init --plan          show what would change, change nothing
  hoist init                 show the plan, ask, apply
  hoist init --yes -o json   for scripts";

const DESTROY_HELP: &str = "\
Finds the workspace's resources in AWS itself (by their exact names and hoist's tags,
never from a local file), shows them, asks, and deletes them in dependency order. The
bucket is emptied first: every object version, delete marker and unfinished upload.
Resources without hoist's tags, and other workspaces' resources (even `team-a`'s
from workspace `team`), are never read or touched. The permissions boundary is
deleted when your credentials may (an administrator's); otherwise it is left and
said so. In admin mode destroy refuses: delete the administrator's stack instead.
Safe to re-run.

Examples:
  hoist destroy --plan
  hoist destroy --keep-bucket --yes";

const RUN_HELP: &str = "\
The task file is SkyPilot's task YAML (docs/SKYPILOT.md: every field):
  name: train                  # job ids are NAME-<8 hex digits>
  workdir: .                   # bundled (honours .gitignore and .hoistignore), relative to the task file
  envs: {EPOCHS: 3}
  secrets: [HF_TOKEN]          # names only: locally from --secret or your environment;
                               # on EC2 and SageMaker from Secrets Manager (`hoist secret set HF_TOKEN`)
  setup: pip install -r requirements.txt
  run: python train.py
  checkpoints: ckpt            # synced while running, restored on --resume
  artifacts: [model.pt]        # kept after the run
  resources:                   # in AWS: the cheapest type that satisfies them (--plan shows it)
    cpus: 4+                   # at least 4 vCPUs (`4`: exactly 4); memory: 16+ (GiB)
    accelerators: A10G:1       # or alternatives: {H100: 8, A100-80GB: 8}
    use_spot: true             # or instance_type: g5.xlarge (ml.g5.xlarge); any_of/ordered: [...]
    image_id: docker:URI       # SageMaker: the container image (default: AWS's PyTorch one)
    max_runtime: 2h
  backend: local

Fields that do not apply where the task runs are accepted with a printed note;
a local run that needs hardware this machine lacks is refused.

The job sees HOIST_JOB_ID, HOIST_CHECKPOINT_DIR, HOIST_ARTIFACT_DIR and, as
SkyPilot sets them, HOIST_/SKYPILOT_NODE_RANK, _NODE_IPS, _NUM_NODES. Attached
(the default), hoist streams the job's output and exits with its exit code;
Ctrl-C cancels the job (checkpoint saved) and exits 130. When hoist itself
fails (bad task file, a flag value it cannot use, credentials, AWS), it exits
125, never a code a job could have returned by itself; a command line that
cannot be parsed (an unknown flag, a missing value) exits 2 before anything
runs.

Examples:
  hoist run examples/quickstart/task.yaml
  hoist run task.yaml --detach --env EPOCHS=10
  hoist run task.yaml --backend ec2 --plan   # which instance type, at what price, and why
  hoist run task.yaml --backend sagemaker -d # a SageMaker training job; `hoist logs -f` follows it
  hoist run --resume train-1a2b3c4d";

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Show what would change, and change nothing
    #[arg(long)]
    pub plan: bool,

    /// Apply without asking (required when not at a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Take over same-named resources that were not created by hoist
    #[arg(long)]
    pub adopt: bool,

    /// Encrypt the bucket with this KMS key (id or ARN; IAM policies name keys, not aliases)
    /// instead of SSE-S3. Set it in the config for good: the policies and later inits read it
    /// [config: kms_key]
    #[arg(long, value_name = "KEY")]
    pub kms_key: Option<String>,

    /// Use this existing SageMaker execution role (name or ARN) instead of creating one;
    /// for users who may not create IAM roles [config: sagemaker_role]
    #[arg(long, value_name = "ROLE")]
    pub sagemaker_role: Option<String>,

    /// Use this existing instance profile (name or ARN) instead of creating a role and
    /// profile [config: instance_profile]
    #[arg(long, value_name = "PROFILE")]
    pub instance_profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub action: Option<PolicyAction>,

    /// Commands to cover: init, status, run, deploy (also endpoints, invoke), secret, destroy, check, all [default: all, which leaves out check]
    #[arg(value_name = "COMMAND")]
    pub commands: Vec<String>,

    /// Fill in this account instead of asking STS (works offline)
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,

    /// Partition for ARNs with --account
    #[arg(long, default_value = "aws", value_name = "PARTITION", value_parser = ["aws", "aws-cn", "aws-us-gov"])]
    pub partition: String,

    /// Print the policies of the execution roles init creates instead
    #[arg(long, conflicts_with = "boundary")]
    pub roles: bool,

    /// Print the permissions boundary every role hoist creates carries instead
    #[arg(long)]
    pub boundary: bool,

    /// Who sets up the footprint: self-service (the user runs init, and may
    /// create only roles bounded by the workspace's permissions boundary) or
    /// admin (an administrator applies the template; the user's policy holds
    /// no IAM write and no bucket-configuration write) [config: mode]
    #[arg(long, value_enum, value_name = "MODE")]
    pub mode: Option<crate::settings::Mode>,

    /// json: the user's policy. cloudformation / terraform: what an
    /// administrator applies. In self-service mode: the permissions boundary and
    /// the user's managed policies; in admin mode: the whole footprint (bucket,
    /// roles, instance profile, log group, security group, boundary) and the
    /// user's managed policies
    #[arg(long, value_enum, default_value = "json")]
    pub format: PolicyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFormat {
    Json,
    Cloudformation,
    Terraform,
}

#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    /// Report broad grants in a policy document (exit 1 if any)
    #[command(after_help = "Rules: service-wildcard, write-on-any-resource (write or permissions-management\n\
        action on \"*\" without a condition), passrole-unscoped, allow-not-action,\n\
        allow-not-resource, unknown-action (a near-miss of an action hoist knows),\n\
        full-access-policy.\n\nExamples:\n  hoist policy lint my-policy.json\n  hoist policy all | hoist policy lint -")]
    Lint {
        /// The policy document (JSON), or - for standard input
        #[arg(value_name = "FILE")]
        file: String,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Commands to check: init, status, run, secret, destroy, all [default: all]
    #[arg(value_name = "COMMAND")]
    pub commands: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Show what would be deleted, and delete nothing
    #[arg(long)]
    pub plan: bool,

    /// Delete without asking (required when not at a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Keep the artifact bucket and everything in it
    #[arg(long)]
    pub keep_bucket: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The task file (YAML)
    #[arg(value_name = "TASK.yaml", required_unless_present = "resume", conflicts_with = "resume")]
    pub task: Option<PathBuf>,

    /// Start a new attempt of a finished job, from its last checkpoint (or carry on an EC2 launch that was interrupted)
    #[arg(long, value_name = "JOB")]
    pub resume: Option<String>,

    // A resumed attempt runs the job as it was submitted (same backend,
    // name and environment, so its checkpoint means the same thing):
    // these are refused with --resume rather than silently ignored.
    /// Where to run: local (this machine), ec2 (an instance in your account) or
    /// sagemaker (a SageMaker training job)
    /// [default: the task's `backend`, then config, then local]
    #[arg(long, value_name = "BACKEND", conflicts_with = "resume")]
    pub backend: Option<String>,

    /// Job name, instead of the task's `name`
    #[arg(long, value_name = "NAME", conflicts_with = "resume")]
    pub name: Option<String>,

    /// Set an environment variable for the job (repeatable); overrides the task's `envs`
    #[arg(long = "env", short = 'e', value_name = "NAME=VALUE", conflicts_with = "resume")]
    pub envs: Vec<String>,

    /// Value of one of the task's secrets (repeatable). Prefer an environment
    /// variable of the same name: flags are visible to other local users
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,

    /// Print the job id and return instead of streaming its output
    #[arg(long, short = 'd')]
    pub detach: bool,

    /// Show where the task would run and why (the instance type chosen
    /// for its resources, and its price per hour); create nothing
    #[arg(long, conflicts_with_all = ["resume", "detach"])]
    pub plan: bool,

    /// EC2: read the region's instance types and spot prices again instead
    /// of using the cached catalog (kept for a week)
    #[arg(long)]
    pub refresh_catalog: bool,

    /// EC2: when a spot instance is reclaimed, start up to N new attempts
    /// from the last checkpoint (while `hoist run` is attached)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retry_on_interruption: u32,

    /// EC2: when no spot capacity is found in any subnet, launch on-demand
    #[arg(long)]
    pub fallback_on_demand: bool,

    /// EC2 and SageMaker: the hoist binary to run on the instance, when this
    /// machine's is not a Linux build for the instance's architecture [env: HOIST_AGENT_BINARY]
    #[arg(long, value_name = "PATH")]
    pub agent_binary: Option<PathBuf>,

    /// SageMaker: run the job's container with no network access
    /// (EnableNetworkIsolation); a task with secrets cannot
    #[arg(long)]
    pub network_isolation: bool,

    /// SageMaker: encrypt traffic between the nodes of a multi-node job
    /// (EnableInterContainerTrafficEncryption)
    #[arg(long)]
    pub encrypt_inter_node: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Job id, or a unique prefix of one [default: the newest job]
    #[arg(value_name = "JOB")]
    pub job: Option<String>,

    /// Keep printing new output until the job ends (Ctrl-C stops watching, not the job)
    #[arg(long, short = 'f')]
    pub follow: bool,

    /// Which attempt's output [default: the latest]
    #[arg(long, value_name = "N")]
    pub attempt: Option<u32>,

    /// Prefix each line with its time (RFC 3339, UTC)
    #[arg(long, short = 't')]
    pub timestamps: bool,

    /// A multi-node job: which node's output, by rank [default: 0, the
    /// node whose exit decides the job]
    #[arg(long, value_name = "RANK", default_value_t = 0)]
    pub node: u32,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// Job id, or a unique prefix of one
    #[arg(value_name = "JOB")]
    pub job: String,

    /// Return once the stop is requested, without waiting for the job to end
    #[arg(long)]
    pub no_wait: bool,

    /// How long to wait for the job to stop and save its checkpoint before
    /// terminating its EC2 instance
    #[arg(long, value_name = "DURATION", default_value = "3m")]
    pub grace: humantime::Duration,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Job store: file:///DIR or s3://BUCKET[/PREFIX]
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// Log store: file:///DIR or cloudwatch:GROUP
    #[arg(long, value_name = "URL")]
    pub logs: String,
    #[arg(long, value_name = "ID")]
    pub job: String,
    /// Directory for working copies
    #[arg(long, value_name = "DIR")]
    pub scratch: Option<PathBuf>,
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub checkpoint_interval: humantime::Duration,
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub heartbeat_interval: humantime::Duration,
    /// Time between SIGTERM and SIGKILL when stopping the job
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub grace: humantime::Duration,
    /// Running on an EC2 instance: read the job's secrets from Secrets
    /// Manager, and watch the instance metadata service (at this URL) for a
    /// spot interruption notice
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = hoist_aws::metadata::DEFAULT_ENDPOINT)]
    pub ec2: Option<String>,
    /// How often to ask the metadata service for a spot interruption notice
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub spot_poll_interval: humantime::Duration,
    /// Running as a SageMaker training job's entrypoint, with SageMaker's
    /// directory (/opt/ml) here: rank and peers from its resource config,
    /// checkpoints and artifacts in its directories, secrets from Secrets
    /// Manager
    #[arg(long, value_name = "DIR", conflicts_with = "ec2")]
    pub sagemaker: Option<PathBuf>,
}

const DEPLOY_HELP: &str = "A deploy file lists the endpoints that should exist:\n\n\
    endpoints:\n\
    \x20 - name: sentiment\n\
    \x20   model:\n\
    \x20     image: <image URI>               # the serving container\n\
    \x20     data: s3://bucket/model.tar.gz   # or ./model.tar.gz (uploaded), or job:<job id>\n\
    \x20     env: {KEY: value}\n\
    \x20   instance_type: ml.g5.xlarge\n\
    \x20   instance_count: 1                  # or serverless: {memory_mb: 4096, max_concurrency: 5}\n\
    \x20 - name: summarize\n\
    \x20   model: {huggingface: facebook/bart-large-cnn, task: summarization}\n\
    \x20   instance_type: ml.g5.xlarge\n\
    \x20 - name: churn\n\
    \x20   model:\n\
    \x20     mlflow: {model: churn, alias: champion}   # or version: 7, or stage: Production\n\
    \x20   instance_type: ml.m5.large\n\n\
    Each endpoint is `hoist-<workspace>--<name>` in SageMaker, serving a model and endpoint\n\
    configuration whose names carry a hash of their content. A change makes a new model and\n\
    configuration and switches the endpoint with UpdateEndpoint (no downtime), then deletes the\n\
    old ones. Applying an unchanged file changes nothing.\n\n\
    An `mlflow:` model is resolved in the MLflow Model Registry (MLFLOW_TRACKING_URI, or\n\
    `mlflow.tracking_uri` in the config; MLFLOW_TRACKING_TOKEN or _USERNAME/_PASSWORD), packaged with\n\
    hoist's mlflow.pyfunc handler into the workspace's bucket, and served on AWS's PyTorch container\n\
    (Hugging Face's for `transformers`) unless `image` is given. With --watch, an alias or stage that\n\
    moves rolls the endpoint to the new version; a version that fails to come up is rolled back.\n\n\
    Examples:\n  hoist deploy plan serve.yaml\n  hoist deploy apply serve.yaml\n  \
    hoist deploy apply serve.yaml --prune --yes     also delete endpoints the file no longer lists\n  \
    hoist deploy apply serve.yaml --watch           keep reconciling until Ctrl-C";

#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Show what apply would do, per endpoint (reads only)
    #[command(after_help = "Per endpoint: create, update (and which fields change: image, data, env +added\n\
        -removed ~changed, capacity), recreate (a Failed endpoint whose spec changed), delete (with\n\
        --prune), kept (not in the file, without --prune), failed, busy, or ok. Exits 2 on a bad file.\n\n\
        Examples:\n  hoist deploy plan serve.yaml\n  hoist deploy plan serve.yaml --prune -o json | jq '.changes[] | select(.action != \"ok\")'")]
    Plan(DeployPlanArgs),
    /// Make the workspace's endpoints what the file says
    #[command(after_help = "Waits until each endpoint is InService (progress on a terminal), then deletes the models and\n\
        configurations it replaced. Deleting or recreating an endpoint asks first (--yes for scripts).\n\
        Ctrl-C lets the call under way finish and starts no other (exit 130); apply again to go on.\n\
        Exit status: 0 when every endpoint is as the file says, 1 when one is Failed (or an update was\n\
        rolled back), 2 for a bad file or a missing MLflow model/alias/version, 4 when an AWS request\n\
        or the MLflow registry failed.\n\n\
        Examples:\n  hoist deploy apply serve.yaml\n  hoist deploy apply serve.yaml --prune --yes\n  \
        hoist deploy apply serve.yaml --no-wait        return once SageMaker has the request\n  \
        hoist deploy apply serve.yaml --watch --interval 1m\n  \
        hoist deploy apply serve.yaml --watch --registry-interval 5s   follow MLflow aliases closely")]
    Apply(DeployApplyArgs),
}

#[derive(Debug, Args)]
pub struct DeployPlanArgs {
    /// The deploy file (YAML)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Plan deleting the workspace's endpoints the file does not list
    #[arg(long)]
    pub prune: bool,
}

#[derive(Debug, Args)]
pub struct DeployApplyArgs {
    /// The deploy file (YAML)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Delete the workspace's endpoints the file does not list (only the workspace's are ever considered)
    #[arg(long)]
    pub prune: bool,
    /// Delete or recreate endpoints without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Do not wait for endpoints to be InService (old models and configurations are then deleted by the next apply)
    #[arg(long, conflicts_with = "watch")]
    pub no_wait: bool,
    /// Keep reconciling when the file changes or an endpoint drifts, until Ctrl-C
    #[arg(long)]
    pub watch: bool,
    /// With --watch: how often to look for drift
    #[arg(long, value_name = "DURATION", default_value = "30s", requires = "watch")]
    pub interval: humantime::Duration,
    /// With --watch: how often to ask the MLflow registry which version each `mlflow:` alias or stage names (an answer that moved rolls the endpoint to it; no AWS call otherwise)
    #[arg(long, value_name = "DURATION", default_value = "10s", requires = "watch")]
    pub registry_interval: humantime::Duration,
}

#[derive(Debug, Args)]
pub struct EndpointsArgs {
    #[command(subcommand)]
    pub command: Option<EndpointsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum EndpointsCommand {
    /// List the workspace's endpoints (the default)
    List,
    /// Delete an endpoint, its configurations and models
    Delete {
        /// The endpoint's name, as the deploy file gives it
        #[arg(value_name = "NAME")]
        name: String,
        /// Do not ask
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The endpoint's name, as the deploy file gives it
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The request: text, @FILE for a file's bytes, @- for stdin, @@TEXT for text starting with @
    #[arg(long, value_name = "TEXT|@FILE")]
    pub body: String,
    /// The request's content type
    #[arg(long, value_name = "TYPE", default_value = "application/json")]
    pub content_type: String,
    /// The content type asked for in the answer
    #[arg(long, value_name = "TYPE")]
    pub accept: Option<String>,
    /// Print the answer as the endpoint streams it (a container that streams, such as text generation)
    #[arg(long)]
    pub stream: bool,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Create a secret, or give it a new value
    Set(SecretSetArgs),
    /// List the workspace's secrets (names only)
    List,
    /// Delete a secret at once (no recovery window)
    Rm {
        /// The secret's name
        #[arg(value_name = "NAME")]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct SecretSetArgs {
    /// The name a task uses (letters, digits and _, not starting with a digit)
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The value (visible to other local users in the process list: prefer stdin)
    #[arg(long, value_name = "VALUE", conflicts_with = "from_file")]
    pub value: Option<String>,
    /// Read the value from a file, exactly as it is (a key, a certificate)
    #[arg(long, value_name = "PATH")]
    pub from_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective value of every setting and where it came from
    #[command(after_help = "The config file is TOML with the keys profile, region, endpoint_url,\n\
        workspace and output, e.g.\n\n  region = \"eu-west-1\"\n  workspace = \"team-a\"\n\n\
        Its location is printed here; HOIST_CONFIG=PATH points hoist at another file.")]
    Show,
}
