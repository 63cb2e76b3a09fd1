//! `hoist check`: can the caller do what each hoist command needs? Says who
//! the caller is, how it decided (IAM's simulator, or the caller's own
//! policies evaluated here), what it cannot see, and for each command what
//! is missing, with the statement to hand to an administrator.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use hoist_aws::caller_policies::{self, Principal};
use hoist_iam::{Context as IamContext, Decision, Policy, Request, evaluate};
use serde::Serialize;

use super::Context;
use super::policy::{COMMANDS, catalog_commands};
use crate::cli::CheckArgs;
use crate::exit::UsageError;
use crate::footprint::names::Names;
use crate::permissions;
use crate::printer::Report;

#[derive(Serialize)]
struct Capability {
    command: String,
    ok: bool,
    /// (action, resource) pairs the caller may not perform.
    missing: Vec<(String, String)>,
    /// The statements to grant, ready for an administrator.
    #[serde(skip_serializing_if = "Option::is_none")]
    grant: Option<serde_json::Value>,
    #[serde(skip)]
    needs: BTreeSet<permissions::Need>,
}

#[derive(Serialize)]
struct CheckReport {
    caller: String,
    principal: Principal,
    account: String,
    region: String,
    workspace: String,
    /// `simulator` (IAM SimulatePrincipalPolicy) or `local` (the caller's
    /// policies read and evaluated by hoist).
    method: String,
    /// Why the simulator was not used, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    method_note: Option<String>,
    not_visible: Vec<String>,
    capabilities: Vec<Capability>,
}

impl Report for CheckReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "caller     {}", self.caller)?;
        writeln!(out, "workspace  {} in account {}, region {}", self.workspace, self.account, self.region)?;
        let how = match self.method.as_str() {
            "simulator" => "IAM's policy simulator".to_string(),
            _ => format!("your IAM policies, read and evaluated by hoist{}", self.method_note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()),
        };
        writeln!(out, "checked    with {how}")?;
        writeln!(out, "not seen   {}\n", self.not_visible.join("; "))?;
        for c in &self.capabilities {
            if c.ok {
                writeln!(out, "  ok       hoist {}", c.command)?;
            } else {
                writeln!(out, "  missing  hoist {}: {}", c.command, crate::printer::count(c.missing.len(), "permission"))?;
                for (action, resource) in &c.missing {
                    writeln!(out, "             {action} on {resource}")?;
                }
            }
        }
        let missing: Vec<&Capability> = self.capabilities.iter().filter(|c| !c.ok).collect();
        if !missing.is_empty() {
            writeln!(out, "\nAsk an administrator to grant this (or to attach `hoist policy {}`):", missing.iter().map(|c| c.command.as_str()).collect::<Vec<_>>().join(" "))?;
            let mut all = BTreeSet::new();
            for c in &missing {
                all.extend(c.needs.iter().cloned());
            }
            for doc in permissions::documents(permissions::statements_plain(&all)) {
                writeln!(out, "{}", serde_json::to_string_pretty(&doc).map_err(std::io::Error::other)?)?;
            }
        }
        Ok(())
    }
}

pub async fn run(ctx: &Context, args: &CheckArgs) -> Result<ExitCode> {
    let mut asked: Vec<&str> = args.commands.iter().map(String::as_str).collect();
    if asked.is_empty() || asked.contains(&"all") {
        asked = COMMANDS.to_vec();
    }
    if let Some(bad) = asked.iter().find(|c| !COMMANDS.contains(c)) {
        return Err(UsageError(format!("unknown command {bad:?}: expected {} or all", COMMANDS.join(", "))).into());
    }
    let session = ctx.session().await?;
    let id = hoist_aws::identity::caller_identity(&session).await?;
    let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
    let principal = caller_policies::principal_of(&id.arn);
    let mut names = Names::new(ctx.settings.workspace.value.as_str(), &id.account, session.region(), &id.partition)?.with_settings(
        opts.kms_key.as_deref(),
        opts.sagemaker_role.as_deref(),
        opts.instance_profile.as_deref(),
    )?;
    if let Principal::Role(role) = &principal {
        names.caller_role = Some(role.clone());
    }
    let mode = ctx.settings.mode.value;
    let needs: Vec<(&str, BTreeSet<permissions::Need>)> =
        asked.iter().map(|c| (*c, permissions::grants(catalog_commands(c, mode), &names))).collect();

    let (method, method_note, denied) = decide(&session, &principal, &id.arn, &names, &needs).await?;
    let capabilities: Vec<Capability> = needs
        .iter()
        .map(|(command, grants)| {
            let missing_needs: BTreeSet<permissions::Need> = grants.iter().filter(|g| denied.contains(*g)).cloned().collect();
            let grant = (!missing_needs.is_empty())
                .then(|| serde_json::json!({"Version": "2012-10-17", "Statement": permissions::statements_plain(&missing_needs)}));
            // One line per action and resource, whatever conditions the
            // grants behind it carry.
            let mut missing: Vec<(String, String)> = missing_needs.iter().map(|(a, r, _)| (a.clone(), r.clone())).collect();
            missing.dedup();
            Capability { command: command.to_string(), ok: missing.is_empty(), missing, grant, needs: missing_needs }
        })
        .collect();
    let all_ok = capabilities.iter().all(|c| c.ok);
    ctx.printer.report(&CheckReport {
        caller: id.arn.clone(),
        principal,
        account: names.account.clone(),
        region: names.region.clone(),
        workspace: names.workspace.clone(),
        method,
        method_note,
        not_visible: vec![
            "service control policies (AWS Organizations)".into(),
            "resource-based policies".into(),
            "session policies".into(),
        ],
        capabilities,
    })?;
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The set of (action, resource) pairs the caller may NOT perform, and how
/// that was decided.
async fn decide(
    session: &hoist_aws::Session,
    principal: &Principal,
    caller_arn: &str,
    names: &Names,
    needs: &[(&str, BTreeSet<permissions::Need>)],
) -> Result<(String, Option<String>, BTreeSet<permissions::Need>)> {
    let all: BTreeSet<permissions::Need> = needs.iter().flat_map(|(_, g)| g.iter().cloned()).collect();
    let source = match principal {
        Principal::User(_) => Some(caller_arn.to_string()),
        // An assumed-role ARN lacks the role's path; IAM's own answer has it.
        Principal::Role(role) => Some(
            caller_policies::own_role_arn(session, role)
                .await
                .unwrap_or_else(|_| format!("arn:{}:iam::{}:role/{role}", names.partition, names.account)),
        ),
        Principal::Other(_) => None,
    };
    // IAM's simulator first: it also sees what hoist cannot evaluate. The
    // first request doubles as the probe: if it fails, evaluate locally.
    let mut note = None;
    if let Some(source) = source.as_ref().filter(|_| !all.is_empty()) {
        // One request per resource and condition: the request context is
        // what a condition names (a resource's workspace tag), as hoist's
        // own requests carry it.
        let mut by_resource: std::collections::BTreeMap<(&str, &str), Vec<String>> = Default::default();
        for (a, r, c) in &all {
            by_resource.entry((r, c)).or_default().push(a.clone());
        }
        let mut denied = BTreeSet::new();
        let mut simulated = true;
        for (i, ((resource, condition), actions)) in by_resource.into_iter().enumerate() {
            let context = permissions::context_of(&(String::new(), String::new(), condition.to_string()));
            let verdicts = match caller_policies::simulate(session, source, &actions, resource, &context).await {
                Ok(v) => v,
                Err(e) if i == 0 => {
                    note = Some(format!("the simulator was not available: {}", e.code().unwrap_or("no answer")));
                    simulated = false;
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            for (action, decision) in verdicts {
                if decision != "allowed" {
                    denied.extend(all.iter().filter(|(a, r, c)| *a == action && r == resource && c == condition).cloned());
                }
            }
        }
        if simulated {
            return Ok(("simulator".into(), None, denied));
        }
    }
    let gathered = caller_policies::gather(session, principal).await?;
    let parse = |(label, doc): &(String, serde_json::Value)| {
        Policy::from_value(doc).map_err(|e| anyhow::anyhow!("cannot read {label}: {e}"))
    };
    let policies: Vec<Policy> = gathered.policies.iter().map(parse).collect::<Result<_>>()?;
    let boundary: Option<Vec<Policy>> = gathered.boundary.as_ref().map(|b| parse(b).map(|p| vec![p])).transpose()?;
    let mut ctx = IamContext::new()
        .with("aws:PrincipalAccount", names.account.clone())
        .with("aws:RequestedRegion", names.region.clone())
        .with("aws:SecureTransport", "true")
        .with("aws:CurrentTime", humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string());
    if let Principal::User(user) = principal {
        ctx = ctx.with("aws:username", user.clone());
    }
    let denied = all
        .into_iter()
        .filter(|need| {
            // The request as hoist makes it: with the values the need's
            // condition names (e.g. the resource's workspace tag).
            let mut ctx = ctx.clone();
            for (key, value) in permissions::context_of(need) {
                ctx = ctx.with(&key, value);
            }
            let req = Request { action: &need.0, resource: &need.1, context: &ctx };
            evaluate(&policies, boundary.as_deref(), &req).decision != Decision::Allow
        })
        .collect();
    Ok(("local".into(), note, denied))
}
