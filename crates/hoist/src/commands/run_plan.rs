//! `hoist run TASK.yaml --plan`: where the task would run and why,
//! creating nothing. On EC2: the instance type its resources resolve to,
//! its price, the zones, the runners-up and where the catalog came from;
//! locally: whether this machine fits, and what does not apply here.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::backends::ec2::Ec2;
use crate::backends::host::{Host, fit};
use crate::cli::RunArgs;
use crate::exit::UsageError;
use crate::printer::Report;
use crate::resolve::{Choice, describe, fmt_num, fmt_price};
use crate::task::{Backend, Task};

#[derive(Debug, Serialize)]
struct Plan<'a> {
    task: &'a str,
    backend: Backend,
    num_nodes: u32,
    /// What the task asks for, in words.
    asks: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    choice: Option<Choice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog: Option<String>,
    /// Whether it can run there: the machine has what the task asks for
    /// (locally), and its secrets are there to be given.
    fits: bool,
    /// Fields that do not apply where it runs.
    notes: Vec<String>,
}

impl Report for Plan<'_> {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let nodes = if self.num_nodes > 1 { format!(", {} nodes", self.num_nodes) } else { String::new() };
        writeln!(out, "task {} on {}{nodes}: asks for {} (nothing is created)", self.task, self.backend, self.asks)?;
        if !self.fits {
            writeln!(out, "  can run        no (the error below says why)")?;
        }
        if let Some(c) = &self.choice {
            let accel = c.accelerators.as_deref().map(|a| format!(", {a}")).unwrap_or_default();
            writeln!(out, "  instance type  {} ({} vCPUs, {} GiB{accel}, {})", c.instance_type, c.vcpus, fmt_num(c.memory_gib), c.architecture)?;
            let market = if c.spot { "spot" } else { "on-demand" };
            let total = match (c.price_per_hour, self.num_nodes) {
                (Some(p), n) if n > 1 => format!(" per node, {} for {n} nodes", fmt_price(Some(p * n as f64))),
                _ => String::new(),
            };
            writeln!(out, "  price          {} {market}{total}", fmt_price(c.price_per_hour))?;
            if c.spot
                && let Some(od) = c.on_demand_per_hour
            {
                writeln!(out, "                 ({} on-demand)", fmt_price(Some(od)))?;
            }
            writeln!(out, "  why            {}", c.reason)?;
            if !c.zones.is_empty() {
                writeln!(out, "  zones          {}", c.zones.join(", "))?;
            }
            if !c.runners_up.is_empty() {
                let list: Vec<String> = c.runners_up.iter().map(|(t, p)| format!("{t} {}", fmt_price(*p))).collect();
                writeln!(out, "  also fits      {}", list.join(", "))?;
            }
        }
        if let Some(region) = &self.region {
            writeln!(out, "  region         {region}")?;
        }
        if let Some(c) = &self.catalog {
            writeln!(out, "  catalog        {c}")?;
        }
        for n in &self.notes {
            writeln!(out, "  note           {n}")?;
        }
        Ok(())
    }
}

pub async fn show(ctx: &Context, args: &RunArgs, task: &Task, backend: Backend) -> Result<ExitCode> {
    let sep = if task.resources.ordered { ", else " } else { " or " };
    let asks = task.resources.alternatives().iter().map(|r| format!("({})", describe(r))).collect::<Vec<_>>().join(sep);
    let asks = if task.resources.alternatives().len() == 1 { asks.trim_start_matches('(').trim_end_matches(')').to_string() } else { asks };
    let mut notes: Vec<String> = task.notices.iter().map(ToString::to_string).collect();
    let mut plan =
        Plan { task: &task.name, backend, num_nodes: task.num_nodes, asks, region: None, choice: None, catalog: None, fits: true, notes: Vec::new() };
    let mut refusal = None;
    match backend {
        Backend::Local => {
            let host = Host::detect();
            let gpus = if host.gpus.is_empty() { "no GPU".to_string() } else { host.gpus.join(", ") };
            notes.push(format!("this machine: {} CPUs, {:.1} GiB, {gpus}", host.cpus, host.memory_gib));
            match fit(task, &host) {
                Ok(n) => notes.extend(n),
                Err(why) => refusal = Some(why),
            }
            // The run would refuse missing secrets before starting: so does
            // the plan.
            if refusal.is_none()
                && let Err(e) = super::run::resolve_secrets(&task.secrets, &args.secrets)
            {
                refusal = Some(e.to_string());
            }
            notes.extend(super::run::ec2_only_flags(args));
        }
        Backend::Sagemaker => {
            notes.extend(super::run_sagemaker::flag_notes(args, task)?);
            let ec2 = Ec2::connect(ctx, ctx.settings.workspace.value.as_str()).await?;
            let sm = crate::backends::sagemaker::SageMaker::new(&ec2, &ctx.settings);
            let opts = crate::backends::sagemaker::Options {
                agent_binary: args.agent_binary.clone(),
                refresh_catalog: args.refresh_catalog,
                network_isolation: args.network_isolation,
                encrypt_inter_node: args.encrypt_inter_node,
                vpc: None,
            };
            let sp = sm.plan(&ec2, task, &opts).await.map_err(|e| super::run_sagemaker::at_field(e, args.task.as_deref()))?;
            if let Err(e) = super::run::check_secrets(&ec2, &task.secrets).await {
                refusal = Some(e.to_string());
            }
            notes.push(format!("image: {} (from {})", sp.image, sp.image_source));
            notes.extend(sp.notes.iter().cloned());
            notes.push(format!("volume: {} GiB", sp.volume_gib));
            notes.push("prices are EC2's for the same machine: SageMaker's training price is higher".into());
            if let Some(wait) = sp.max_wait_s {
                notes.push(format!("managed spot: waits for capacity up to {} in all", crate::humanize::duration(std::time::Duration::from_secs(wait))));
            }
            if task.resources.max_runtime.is_none() {
                notes.push(format!("stops after SageMaker's default runtime: {}", crate::humanize::duration(std::time::Duration::from_secs(sp.max_runtime_s))));
            }
            // In SageMaker's names, and no zones (SageMaker places the job).
            let mut choice = sp.choice.clone();
            let ml = |t: &str| format!("ml.{}", t.trim_start_matches("ml."));
            choice.reason = choice.reason.replace(&choice.instance_type, &sp.instance_type);
            choice.runners_up = choice.runners_up.iter().map(|(t, p)| (ml(t), *p)).collect();
            choice.instance_type = sp.instance_type.clone();
            choice.zones.clear();
            plan.region = Some(ec2.session.region().to_string());
            plan.choice = Some(choice);
        }
        Backend::Ec2 => {
            let ec2 = Ec2::connect(ctx, ctx.settings.workspace.value.as_str()).await?;
            let (choice, catalog) = ec2.choose(task, args.refresh_catalog).await?;
            if let Err(e) = super::run::check_secrets(&ec2, &task.secrets).await {
                refusal = Some(e.to_string());
            }
            plan.region = Some(ec2.session.region().to_string());
            plan.choice = Some(choice);
            plan.catalog = catalog;
        }
    }
    if let Some(t) = task.resources.max_runtime {
        notes.push(format!("stops after max_runtime: {}", crate::humanize::duration(std::time::Duration::from_secs(t))));
    }
    plan.notes = notes;
    plan.fits = refusal.is_none();
    ctx.printer.report(&plan)?;
    match refusal {
        Some(why) => Err(UsageError(why).into()),
        None => Ok(ExitCode::SUCCESS),
    }
}
