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

/// Commands whose permissions can be asked for, and what `all` means.
pub const COMMANDS: &[&str] = &["init", "status", "run", "destroy"];

/// The catalog's command sets behind each user-facing name. `run` on the
/// local backend needs no AWS permission at all; `check` (reading your own
/// policies) is asked for by name, never part of `all`.
pub fn catalog_commands(name: &str) -> &'static [&'static str] {
    match name {
        "init" => &["init"],
        "status" => &["status"],
        "destroy" => &["destroy"],
        "check" => &["check"],
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
    let mut asked: Vec<&str> = Vec::new();
    for c in &args.commands {
        match c.as_str() {
            "all" => asked.extend(COMMANDS),
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

    if args.roles {
        let doc = json!({
            names.sagemaker_role.clone(): {"trust": policies::sagemaker_trust(&names), "inline": {policies::INLINE_POLICY: policies::sagemaker_inline(&names)}},
            names.instance_role.clone(): {"trust": policies::instance_trust(&names), "inline": {policies::INLINE_POLICY: policies::instance_inline(&names)}},
        });
        ctx.printer.report(&Output(doc))?;
        return Ok(ExitCode::SUCCESS);
    }

    let catalog: Vec<&str> = asked.iter().flat_map(|c| catalog_commands(c).iter().copied()).collect();
    let grants = permissions::grants(&catalog, &names);
    if grants.is_empty() {
        ctx.printer.status("hoist: these commands need no AWS permission (the local backend runs without an account)");
    }
    let docs = permissions::documents(permissions::statements(&grants, &names));
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
            Ok(Names::new(ws, account, &region, &args.partition)?)
        }
        None => {
            let session = ctx.session().await?;
            crate::footprint::names(&session, ws).await
        }
    }
}
