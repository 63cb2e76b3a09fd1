//! From a task's `resources` to one EC2 instance type: the cheapest that
//! satisfies them (for `ordered`, the first alternative that can be
//! satisfied at all), from the region's catalog and the price table.
//!
//! Rules, as SkyPilot's: `cpus: 4` means exactly 4 vCPUs, `4+` at least
//! 4; the same for `memory` (GiB); `accelerators` match by name and exact
//! count, any one of several alternatives; `instance_type` pins the type
//! (and must then satisfy the rest). Without any of those, a task runs on
//! [`DEFAULT_INSTANCE_TYPE`]. The automatic choice considers
//! non-burstable x86_64 types in the price table ([`prices`]: current
//! families; name an arm64 or older type with `instance_type`); a
//! CPU-only request never gets a GPU type.
//! Spot requests rank by the lowest current spot price among the zones
//! allowed, the rest by the on-demand price.

pub mod catalog;
pub mod prices;

use std::fmt::Write as _;

use serde::Serialize;

use crate::task::{Accelerators, Resources};
use catalog::{Catalog, Entry};
use prices::Prices;

/// The instance type of a task that asks for nothing in particular: a
/// current general-purpose type with 2 vCPUs and 8 GiB.
pub const DEFAULT_INSTANCE_TYPE: &str = "m6i.large";

/// The decision, with what it costs and why.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub instance_type: String,
    pub vcpus: u32,
    pub memory_gib: f64,
    /// `A10G:1`, or none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accelerators: Option<String>,
    pub architecture: String,
    /// GPUs (not other accelerators): they decide the default image.
    pub gpus: u32,
    pub spot: bool,
    /// USD per hour in the market chosen, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_hour: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_per_hour: Option<f64>,
    /// Zones it may launch in (the task's zone, or all that offer it).
    pub zones: Vec<String>,
    /// Which alternative of `any_of`/`ordered` it satisfies (0 without).
    pub alternative: usize,
    /// Why this one, in a sentence.
    pub reason: String,
    /// The next cheapest that would also do, with their prices.
    pub runners_up: Vec<(String, Option<f64>)>,
}

/// Nothing satisfies the request: per alternative, the constraint that
/// ruled out the last candidates and the nearest types.
#[derive(Debug, Clone)]
pub struct Unsatisfied {
    pub region: String,
    pub alternatives: Vec<String>,
}

impl std::fmt::Display for Unsatisfied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no instance type in {} satisfies the task's resources", self.region)?;
        if self.alternatives.len() == 1 {
            write!(f, ": {}", self.alternatives[0])
        } else {
            for (i, a) in self.alternatives.iter().enumerate() {
                write!(f, "\n  alternative {}: {a}", i + 1)?;
            }
            Ok(())
        }
    }
}

impl std::error::Error for Unsatisfied {}

/// One candidate type that satisfies an alternative, priced.
struct Priced<'a> {
    entry: &'a Entry,
    price: Option<f64>,
    on_demand: Option<f64>,
    zones: Vec<String>,
}

/// What is being asked beyond resources: machines per job.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub num_nodes: u32,
}

/// Choose the instance type for `resources` from `catalog`.
pub fn resolve(catalog: &Catalog, prices: &Prices, resources: &Resources, shape: Shape) -> Result<Choice, Unsatisfied> {
    let alternatives = resources.alternatives();
    let mut failures = Vec::new();
    let mut best: Option<(usize, Vec<Priced>)> = None;
    for (i, alt) in alternatives.iter().enumerate() {
        match candidates(catalog, prices, alt, shape) {
            Ok(found) => {
                let better = match &best {
                    None => true,
                    Some((_, b)) => !resources.ordered && cheaper(&found[0], &b[0]),
                };
                if better {
                    best = Some((i, found));
                }
                if resources.ordered {
                    break;
                }
            }
            Err(why) => failures.push(why),
        }
    }
    let Some((alternative, found)) = best else {
        return Err(Unsatisfied { region: catalog.region.clone(), alternatives: failures });
    };
    let alt = alternatives[alternative];
    let top = &found[0];
    let spec = &top.entry.spec;
    let market = if alt.use_spot { "spot" } else { "on-demand" };
    let mut reason = match (&alt.instance_type, alternatives.len()) {
        (Some(t), _) => format!("{t} is named in the task"),
        (None, _) if !alt.names_hardware() => format!("the default type ({DEFAULT_INSTANCE_TYPE}): the task asks for no particular hardware"),
        (None, _) => format!("the cheapest {market} type with {}", describe(alt)),
    };
    if alternatives.len() > 1 {
        let how = if resources.ordered { "the first of the `ordered` alternatives that can be met" } else { "the cheapest of the `any_of` alternatives" };
        let _ = write!(reason, "; alternative {} of {}, {how}", alternative + 1, alternatives.len());
    }
    let accel = spec.accelerators.first().map(|d| format!("{}:{}", canonical(d), d.count));
    Ok(Choice {
        instance_type: spec.name.clone(),
        vcpus: spec.vcpus,
        memory_gib: spec.memory_mib as f64 / 1024.0,
        accelerators: accel,
        architecture: spec.architecture.clone(),
        gpus: spec.accelerators.iter().filter(|d| !is_neuron(d)).map(|d| d.count).sum(),
        spot: alt.use_spot,
        price_per_hour: top.price,
        on_demand_per_hour: top.on_demand,
        zones: top.zones.clone(),
        alternative,
        reason,
        runners_up: found.iter().skip(1).take(3).map(|p| (p.entry.spec.name.clone(), p.price)).collect(),
    })
}

fn cheaper(a: &Priced, b: &Priced) -> bool {
    match (a.price, b.price) {
        (Some(x), Some(y)) => x < y,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The requested constraints, in words (`A10G:1, 8+ vCPUs`).
pub fn describe(r: &Resources) -> String {
    let mut parts = Vec::new();
    if !r.accelerators.is_empty() {
        parts.push(r.accelerators_text());
    }
    if let Some(c) = &r.cpus {
        parts.push(format!("{c} vCPUs"));
    }
    if let Some(m) = &r.memory {
        parts.push(format!("{m} GiB"));
    }
    if let Some(z) = &r.zone {
        parts.push(format!("in {z}"));
    }
    if parts.is_empty() { "no particular hardware".into() } else { parts.join(", ") }
}

/// The name SkyPilot uses for a device: EC2 calls both A100 sizes `A100`.
pub fn canonical(d: &hoist_aws::instance_types::Device) -> String {
    if d.name.eq_ignore_ascii_case("A100") && d.memory_mib >= 70 * 1024 { "A100-80GB".into() } else { d.name.clone() }
}

fn is_neuron(d: &hoist_aws::instance_types::Device) -> bool {
    let n = d.name.to_ascii_lowercase();
    n.starts_with("inferentia") || n.starts_with("trainium")
}

/// Whether a device answers to the name a task uses (`Inferentia` and
/// `Trainium` cover their generations).
fn answers_to(d: &hoist_aws::instance_types::Device, wanted: &str) -> bool {
    let name = canonical(d);
    name.eq_ignore_ascii_case(wanted)
        || (matches!(wanted.to_ascii_lowercase().as_str(), "inferentia" | "trainium") && name.to_ascii_lowercase().starts_with(&wanted.to_ascii_lowercase()))
}

fn has(e: &Entry, acc: &Accelerators, count_too: bool) -> bool {
    e.spec.accelerators.iter().any(|d| answers_to(d, &acc.name) && (!count_too || d.count == acc.count))
}

/// Every type that satisfies one alternative, cheapest first; or the
/// constraint that ruled the last ones out, with the nearest.
fn candidates<'a>(catalog: &'a Catalog, prices: &Prices, r: &Resources, shape: Shape) -> Result<Vec<Priced<'a>>, String> {
    let region = &catalog.region;
    let mut pool: Vec<&Entry> = catalog.types.iter().collect();
    let pinned = r.instance_type.clone().or_else(|| (!r.names_hardware()).then(|| DEFAULT_INSTANCE_TYPE.to_string()));
    if let Some(t) = &pinned {
        pool.retain(|e| &e.spec.name == t);
        if pool.is_empty() {
            let names = catalog.types.iter().map(|e| e.spec.name.as_str());
            let hint = crate::suggest::did_you_mean(t, names).map(|s| format!(" (did you mean {s}?)")).unwrap_or_default();
            return Err(format!("instance type {t} is not offered in {region}{hint}"));
        }
    } else {
        // Families without a price in the table (older ones) are left out
        // below: the table is what the automatic choice considers.
        pool.retain(|e| !e.spec.burstable && e.spec.architecture == "x86_64");
    }

    if !r.accelerators.is_empty() {
        let by_name: Vec<&Entry> = pool.iter().copied().filter(|e| r.accelerators.iter().any(|a| has(e, a, false))).collect();
        if by_name.is_empty() {
            let wanted = r.accelerators.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(" or ");
            if let Some(t) = &pinned {
                return Err(format!("{t} has no {wanted}{}", accelerators_of(pool.first().copied())));
            }
            let mut known: Vec<String> = catalog.types.iter().flat_map(|e| e.spec.accelerators.iter().map(canonical)).collect();
            known.sort();
            known.dedup();
            let hint = r
                .accelerators
                .iter()
                .find_map(|a| crate::suggest::did_you_mean(&a.name, known.iter().map(String::as_str)))
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            return Err(format!("no instance type in {region} has {wanted}{hint}; accelerators offered here: {}", known.join(", ")));
        }
        let exact: Vec<&Entry> = by_name.iter().copied().filter(|e| r.accelerators.iter().any(|a| has(e, a, true))).collect();
        if exact.is_empty() {
            // Each count on offer once, with the types that have it.
            let mut offered: std::collections::BTreeMap<(String, u32), Vec<&Entry>> = Default::default();
            for e in &by_name {
                for d in &e.spec.accelerators {
                    offered.entry((canonical(d), d.count)).or_default().push(e);
                }
            }
            let counts: Vec<String> = offered
                .into_iter()
                .take(6)
                .map(|((n, c), mut types)| {
                    let cost = |e: &Entry| prices.on_demand(&e.spec.name, e.spec.vcpus).unwrap_or(f64::MAX);
                    types.sort_by(|a, b| cost(a).total_cmp(&cost(b)).then_with(|| a.spec.name.cmp(&b.spec.name)));
                    let names: Vec<&str> = types.iter().take(2).map(|e| e.spec.name.as_str()).collect();
                    let more = if types.len() > 2 { format!(", +{} more", types.len() - 2) } else { String::new() };
                    format!("{n}:{c} ({}{more})", names.join(", "))
                })
                .collect();
            return Err(format!("no instance type has exactly {}; nearest: {}", r.accelerators_text(), counts.join(", ")));
        }
        pool = exact;
    } else if pinned.is_none() {
        pool.retain(|e| e.spec.accelerators.is_empty());
    }

    for (amount, what, of) in [(&r.cpus, "vCPUs", vcpus as fn(&Entry) -> f64), (&r.memory, "GiB of memory", memory_gib)] {
        let Some(amount) = amount else { continue };
        let before = pool.clone();
        pool.retain(|e| amount.admits(of(e)));
        if pool.is_empty() {
            let mut near = before;
            near.sort_by(|a, b| (of(a) - amount.value()).abs().total_cmp(&(of(b) - amount.value()).abs()));
            let near: Vec<String> = near.iter().take(3).map(|e| format!("{} ({} vCPUs, {} GiB)", e.spec.name, e.spec.vcpus, fmt_num(memory_gib(e)))).collect();
            let exact = if amount.or_more { "" } else { " (exactly; write `+` for \"at least\")" };
            return Err(format!("nothing{} has {amount} {what}{exact}; nearest: {}", with(r), near.join(", ")));
        }
    }

    let mut priced: Vec<Priced> = Vec::new();
    let mut zone_miss = Vec::new();
    let mut spot_miss = Vec::new();
    let mut placement_miss = Vec::new();
    for e in pool {
        // A type read on its own (not from the catalog) has no zone list:
        // any zone, as far as hoist knows.
        let zones: Vec<String> = match &r.zone {
            Some(z) => e.zones.iter().filter(|x| *x == z).cloned().collect(),
            None => e.zones.clone(),
        };
        if zones.is_empty() && (r.zone.is_some() || !e.zones.is_empty()) {
            zone_miss.push(e.spec.name.clone());
            continue;
        }
        if r.use_spot && !e.spec.spot {
            spot_miss.push(e.spec.name.clone());
            continue;
        }
        if shape.num_nodes > 1 && !e.spec.cluster_placement {
            placement_miss.push(e.spec.name.clone());
            continue;
        }
        let on_demand = prices.on_demand(&e.spec.name, e.spec.vcpus);
        let price = if r.use_spot {
            zones.iter().filter_map(|z| e.spot_prices.get(z)).copied().reduce(f64::min).or(on_demand)
        } else {
            on_demand
        };
        // The automatic choice is among the price table's families (for
        // spot too: an old family with a spot price is still an old family).
        if on_demand.is_none() && pinned.is_none() {
            continue;
        }
        priced.push(Priced { entry: e, price, on_demand, zones });
    }
    if priced.is_empty() {
        let list = |v: &[String]| v.iter().take(4).cloned().collect::<Vec<_>>().join(", ");
        return Err(if !zone_miss.is_empty() {
            format!("{} not offered in zone {}", list(&zone_miss), r.zone.as_deref().unwrap_or("?"))
        } else if !spot_miss.is_empty() {
            format!("{} cannot run as spot; set `use_spot: false`", list(&spot_miss))
        } else if !placement_miss.is_empty() {
            format!("{} cannot share a cluster placement group, which a {}-node job needs", list(&placement_miss), shape.num_nodes)
        } else {
            format!("the types with {} have no known price; name one with `instance_type`", describe(r))
        });
    }
    // Equal prices (spot prices often are) go to the smaller machine: the
    // one cheaper on demand.
    let by_on_demand = |a: &Priced, b: &Priced| a.on_demand.unwrap_or(f64::MAX).total_cmp(&b.on_demand.unwrap_or(f64::MAX));
    priced.sort_by(|a, b| match (a.price, b.price) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| by_on_demand(a, b)).then_with(|| a.entry.spec.name.cmp(&b.entry.spec.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.entry.spec.name.cmp(&b.entry.spec.name),
    });
    Ok(priced)
}

fn vcpus(e: &Entry) -> f64 {
    e.spec.vcpus as f64
}

fn memory_gib(e: &Entry) -> f64 {
    e.spec.memory_mib as f64 / 1024.0
}

fn with(r: &Resources) -> String {
    if r.accelerators.is_empty() { String::new() } else { format!(" with {}", r.accelerators_text()) }
}

fn accelerators_of(e: Option<&Entry>) -> String {
    match e.map(|e| &e.spec.accelerators) {
        Some(a) if !a.is_empty() => format!(" (it has {})", a.iter().map(|d| format!("{}:{}", canonical(d), d.count)).collect::<Vec<_>>().join(", ")),
        _ => " (it has no accelerator)".into(),
    }
}

pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.1}") }
}

/// `$1.006/h`, or `price unknown`.
pub fn fmt_price(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.01 => format!("${p:.5}/h"),
        Some(p) => format!("${p:.3}/h"),
        None => "price unknown".into(),
    }
}

#[cfg(test)]
mod tests;
