//! `hoist policy`: the IAM policy hoist needs, generated from its own code.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{Value, json};

use super::Context;
use crate::cli::PolicyArgs;
use crate::exit::UsageError;
use crate::footprint::names::Names;
use crate::footprint::policies;
use crate::permissions;
use crate::printer::Report;
use crate::settings::Mode;

/// IAM's default quota of managed policies attached to one user.
const MAX_MANAGED_POLICIES_PER_USER: usize = 10;

/// Commands whose permissions can be asked for, and what `all` means.
pub const COMMANDS: &[&str] = &["init", "status", "run", "deploy", "secret", "destroy"];

/// The catalog's command sets behind each user-facing name, per set-up
/// mode. `run` is what running jobs in AWS needs (`run --backend ec2`,
/// and `jobs`, `logs`, `cancel` on those jobs); on the local backend it
/// needs no AWS permission at all; `deploy` covers `endpoints` and `invoke`;
/// `check` (reading your own policies) is asked for by name, never part of
/// `all`. In admin mode `init` only verifies (it reads what `status`
/// reads) and `destroy` is the administrator's (it refuses).
pub fn catalog_commands(name: &str, mode: Mode) -> &'static [&'static str] {
    match (name, mode) {
        ("init", Mode::SelfService) => &["init"],
        ("init", Mode::Admin) => &["status"],
        ("status", _) => &["status"],
        ("run", _) => &["run"],
        ("deploy", _) => &["deploy"],
        ("secret", _) => &["secret"],
        ("destroy", Mode::SelfService) => &["destroy"],
        ("check", _) => &["check"],
        _ => &[],
    }
}

struct Output(Value);

impl serde::Serialize for Output {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Report for Output {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", serde_json::to_string_pretty(&self.0).map_err(std::io::Error::other)?)
    }
}

pub async fn run(ctx: &Context, args: &PolicyArgs) -> Result<ExitCode> {
    if let Some(crate::cli::PolicyAction::Lint { file }) = &args.action {
        return lint(ctx, file);
    }
    let mut asked: Vec<&str> = Vec::new();
    for c in &args.commands {
        match c.as_str() {
            "all" => asked.extend(COMMANDS),
            // What `deploy` needs covers them.
            "endpoints" | "invoke" => asked.push("deploy"),
            "check" => asked.push("check"),
            c if COMMANDS.contains(&c) => asked.push(COMMANDS.iter().find(|x| **x == c).expect("listed")),
            other => {
                let hint = crate::suggest::did_you_mean(other, COMMANDS.iter().copied().chain(["all"]))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(UsageError(format!("unknown command {other:?}{hint}: expected {}, check or all", COMMANDS.join(", "))).into());
            }
        }
    }
    if asked.is_empty() {
        asked.extend(COMMANDS);
    }
    let names = names_for(ctx, args).await?;
    let mode = args.mode.unwrap_or(ctx.settings.mode.value);

    if args.boundary {
        ctx.printer.report(&Output(policies::boundary(&names)))?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.roles {
        let doc = json!({
            names.sagemaker_role.clone(): {"trust": policies::sagemaker_trust(&names), "inline": {policies::INLINE_POLICY: policies::sagemaker_inline(&names)}},
            names.instance_role.clone(): {"trust": policies::instance_trust(&names), "inline": {policies::INLINE_POLICY: policies::instance_inline(&names)}},
        });
        ctx.printer.report(&Output(doc))?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut catalog: Vec<&str> = asked.iter().flat_map(|c| catalog_commands(c, mode).iter().copied()).collect();
    // An administrator's template also lets users run `hoist check`
    // (read-only, on each user's own policies).
    if args.format != crate::cli::PolicyFormat::Json && !catalog.contains(&"check") {
        catalog.push("check");
    }
    let grants = permissions::grants(&catalog, &names);
    if grants.is_empty() && args.format == crate::cli::PolicyFormat::Json {
        ctx.printer.status(match mode {
            Mode::Admin => "hoist: in admin mode these commands need no AWS permission of the user's",
            Mode::SelfService => "hoist: these commands need no AWS permission (the local backend runs without an account)",
        });
    }
    let docs = permissions::documents(permissions::statements(&grants, &names));
    let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
    let shape = permissions::templates::Shape {
        mode,
        versioning: opts.versioning,
        retention_days: opts.retention_days,
        vpc_id: opts.vpc_id.clone(),
    };
    match args.format {
        crate::cli::PolicyFormat::Json => {}
        crate::cli::PolicyFormat::Cloudformation => {
            ctx.printer.report(&Output(permissions::templates::cloudformation(&names, &shape, &docs)))?;
            return Ok(ExitCode::SUCCESS);
        }
        crate::cli::PolicyFormat::Terraform => {
            ctx.printer.report(&Output(permissions::templates::terraform(&names, &shape, &docs)))?;
            ctx.printer.status("hoist: Terraform JSON syntax: save it as main.tf.json");
            return Ok(ExitCode::SUCCESS);
        }
    }
    if docs.len() > MAX_MANAGED_POLICIES_PER_USER {
        ctx.printer.status(format!(
            "hoist: warning: {} documents exceed the {MAX_MANAGED_POLICIES_PER_USER} managed policies IAM lets you attach to a user by default: attach some to a group the user is in, or ask for a quota increase",
            docs.len()
        ));
    }
    if docs.len() > 1 {
        ctx.printer.status(format!(
            "hoist: the policy is split into {} documents, each within IAM's {}-character limit for a managed policy: attach each as its own managed policy",
            docs.len(),
            permissions::MAX_MANAGED_POLICY_CHARS
        ));
    }
    let out = if docs.len() == 1 { docs.into_iter().next().expect("one") } else { Value::Array(docs) };
    ctx.printer.report(&Output(out))?;
    Ok(ExitCode::SUCCESS)
}

/// The names to fill in: with `--account`, offline; otherwise STS says.
async fn names_for(ctx: &Context, args: &PolicyArgs) -> Result<Names> {
    let ws = ctx.settings.workspace.value.as_str();
    match &args.account {
        Some(account) => {
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UsageError(format!("--account {account:?}: expected a 12-digit AWS account id")).into());
            }
            let region = ctx.settings.region.as_ref().map(|r| r.value.clone()).ok_or_else(|| {
                UsageError("with --account, also give --region (or AWS_REGION): hoist works offline then".into())
            })?;
            let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
            Ok(Names::new(ws, account, &region, &args.partition)?.with_settings(
                opts.kms_key.as_deref(),
                opts.sagemaker_role.as_deref(),
                opts.instance_profile.as_deref(),
            )?)
        }
        None => {
            let session = ctx.session().await?;
            let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
            let mut names = crate::footprint::names(&session, ws, &opts).await?;
            // `hoist check` run as a role reads that role's own policies.
            let id = hoist_aws::identity::caller_identity(&session).await?;
            if let hoist_aws::caller_policies::Principal::Role(role) = hoist_aws::caller_policies::principal_of(&id.arn) {
                names.caller_role = Some(role);
            }
            Ok(names)
        }
    }
}

/// Every action hoist's catalog names, in IAM's spelling.
fn canonical_actions() -> Vec<&'static str> {
    hoist_aws::catalog::ALL.iter().flat_map(|op| op.actions()).chain(["iam:PassRole"]).collect()
}

/// Actions hoist knows: every action in its catalog and its roles' policies.
pub fn known_actions() -> std::collections::BTreeSet<String> {
    let n = Names::new("x", "000000000000", "us-east-1", "aws").expect("fits");
    let mut known: std::collections::BTreeSet<String> =
        hoist_aws::catalog::ALL.iter().flat_map(|op| op.actions().into_iter().map(str::to_ascii_lowercase)).collect();
    known.insert("iam:passrole".into());
    for doc in [policies::boundary(&n)] {
        for s in doc["Statement"].as_array().into_iter().flatten() {
            match &s["Action"] {
                Value::String(a) => {
                    known.insert(a.to_ascii_lowercase());
                }
                Value::Array(list) => known.extend(list.iter().filter_map(Value::as_str).map(str::to_ascii_lowercase)),
                _ => {}
            }
        }
    }
    known
}

#[derive(serde::Serialize)]
struct LintFinding {
    statement: usize,
    sid: Option<String>,
    rule: &'static str,
    message: String,
}

struct LintReport(Vec<LintFinding>);

impl serde::Serialize for LintReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Report for LintReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.0.is_empty() {
            return writeln!(out, "no findings");
        }
        for f in &self.0 {
            let sid = f.sid.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
            writeln!(out, "statement {}{sid}: {}: {}", f.statement, f.rule, f.message)?;
        }
        Ok(())
    }
}

fn lint(ctx: &Context, file: &str) -> Result<ExitCode> {
    let text = if file == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).map_err(|e| UsageError(format!("{file}: {e}")))?
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| UsageError(format!("{file}: not JSON: {e}")))?;
    // `hoist policy` prints a list of documents when it splits one.
    let docs = match value {
        Value::Array(docs) => docs,
        doc => vec![doc],
    };
    if docs.is_empty() {
        return Err(UsageError(format!("{file}: an empty list: expected a policy document, or a list of them")).into());
    }
    let known = known_actions();
    // Suggestions in IAM's own spelling (`s3:GetObject`), not the
    // lowercase the comparison uses.
    let canonical: std::collections::BTreeMap<String, &'static str> =
        canonical_actions().into_iter().map(|a| (a.to_ascii_lowercase(), a)).collect();
    let mut findings = Vec::new();
    for doc in &docs {
        let policy = hoist_iam::Policy::from_value(doc).map_err(|e| UsageError(format!("{file}: {e}")))?;
        for f in hoist_iam::lint::lint(&policy, &known) {
            let message = match (f.rule, &f.subject) {
                // hoist knows only part of each service's actions: report an
                // unknown one only when it is a near-miss of a known one.
                ("unknown-action", Some(action)) => {
                    let lower = action.to_ascii_lowercase();
                    match crate::suggest::did_you_mean(&lower, known.iter().map(String::as_str)) {
                        Some(s) => format!("{} (did you mean {}?)", f.message, canonical.get(s).copied().unwrap_or(s)),
                        None => continue,
                    }
                }
                _ => f.message,
            };
            findings.push(LintFinding { statement: f.statement, sid: f.sid, rule: f.rule, message });
        }
    }
    let clean = findings.is_empty();
    ctx.printer.report(&LintReport(findings))?;
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
