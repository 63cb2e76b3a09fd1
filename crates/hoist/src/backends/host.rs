//! What this machine has, for the local backend: a task that asks for
//! more than it has (a GPU it lacks, more CPUs or memory) is refused
//! before anything starts; fields that only choose cloud hardware run
//! with one visible note each. Nothing in a task is silently ignored.

use crate::task::{Resources, Task};

#[derive(Debug, Clone)]
pub struct Host {
    pub cpus: u32,
    pub memory_gib: f64,
    /// GPU names as the driver reports them (`NVIDIA A10G`).
    pub gpus: Vec<String>,
}

impl Host {
    pub fn detect() -> Self {
        let cpus = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| m.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
            .map(|kib| kib / 1024.0 / 1024.0)
            .unwrap_or(0.0);
        Self { cpus, memory_gib, gpus: gpu_names() }
    }
}

/// NVIDIA GPUs, from `nvidia-smi` when present (the driver's own list).
pub fn gpu_names() -> Vec<String> {
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name", "--format=csv,noheader"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Whether the task can run here: `Ok` with the notes to show (fields
/// that do not apply on this machine), or `Err` saying what is missing.
pub fn fit(task: &Task, host: &Host) -> Result<Vec<String>, String> {
    if task.num_nodes > 1 {
        return Err(format!(
            "`num_nodes: {}`: the local backend runs a task on this one machine; run it on several with `--backend ec2`",
            task.num_nodes
        ));
    }
    let alternatives = task.resources.alternatives();
    let mut why_not = Vec::new();
    let mut fitting = None;
    for (i, alt) in alternatives.iter().enumerate() {
        match lacks(alt, host) {
            None => {
                fitting = Some(i);
                break;
            }
            Some(why) => why_not.push(why),
        }
    }
    let Some(i) = fitting else {
        let which = if why_not.len() > 1 { "none of the task's resource alternatives fits: " } else { "" };
        return Err(format!(
            "{which}{}; run it on EC2 (`--backend ec2`), which chooses a machine that has it",
            why_not.join("; ")
        ));
    };
    let alt = alternatives[i];
    let mut notes = Vec::new();
    let here = "on the local backend the task runs on this machine";
    if alternatives.len() > 1 {
        notes.push(format!("resources: alternative {} ({}) fits this machine", i + 1, crate::resolve::describe(alt)));
    }
    if let Some(t) = &alt.instance_type {
        notes.push(format!("`resources.instance_type` {t}: {here} ({} CPUs, {:.0} GiB), not on a {t}", host.cpus, host.memory_gib));
    }
    if alt.use_spot {
        notes.push(format!("`resources.use_spot`: {here}; spot applies on EC2"));
    }
    if let Some(d) = alt.disk_size {
        notes.push(format!("`resources.disk_size` {d}: {here}, with this machine's disk"));
    }
    if let Some(image) = &alt.image_id {
        notes.push(format!("`resources.image_id` {image}: {here}, with its own software, not in that image"));
    }
    if let Some(region) = &alt.region {
        notes.push(format!("`resources.region` {region}: {here}"));
    }
    if let Some(zone) = &alt.zone {
        notes.push(format!("`resources.zone` {zone}: {here}"));
    }
    Ok(notes)
}

/// What this machine lacks for one set of resources, in the task's terms.
fn lacks(r: &Resources, host: &Host) -> Option<String> {
    if !r.accelerators.is_empty() {
        let ok = r.accelerators.iter().any(|a| {
            let matching = host.gpus.iter().filter(|g| g.to_ascii_lowercase().contains(&a.name.to_ascii_lowercase())).count();
            matching >= a.count as usize
        });
        if !ok {
            let wanted = r.accelerators_text();
            let have = if host.gpus.is_empty() { "no GPU".to_string() } else { host.gpus.join(", ") };
            return Some(format!("`resources.accelerators` asks for {wanted}, and this machine has {have}"));
        }
    }
    if let Some(c) = &r.cpus
        && (host.cpus as f64) < c.value()
    {
        return Some(format!("`resources.cpus` asks for {c}, and this machine has {} CPUs", host.cpus));
    }
    if let Some(m) = &r.memory
        && host.memory_gib + 0.5 < m.value()
    {
        return Some(format!("`resources.memory` asks for {m} GiB, and this machine has {:.1} GiB", host.memory_gib));
    }
    None
}
