use std::collections::BTreeMap;
use std::path::Path;

use hoist_aws::instance_types::{Device, TypeSpec};

use super::catalog::{Catalog, Entry};
use super::prices::Prices;
use super::*;
use crate::task::{Overrides, Task};

fn entry(name: &str, vcpus: u32, mem_gib: u64, acc: Option<(&str, u32, u64)>, spot: f64) -> Entry {
    Entry {
        spec: TypeSpec {
            name: name.into(),
            vcpus,
            memory_mib: mem_gib * 1024,
            architecture: if name.contains("g.") && !name.starts_with('g') { "arm64".into() } else { "x86_64".into() },
            accelerators: acc.map(|(n, c, m)| Device { name: n.into(), count: c, memory_mib: m * 1024 }).into_iter().collect(),
            burstable: name.starts_with('t'),
            spot: true,
            cluster_placement: !name.starts_with('t'),
        },
        zones: vec!["us-east-1a".into(), "us-east-1b".into()],
        spot_prices: BTreeMap::from([("us-east-1a".to_string(), spot), ("us-east-1b".to_string(), spot * 1.1)]),
    }
}

fn catalog() -> Catalog {
    let mut types = vec![
        entry("m6i.large", 2, 8, None, 0.04),
        entry("m6i.xlarge", 4, 16, None, 0.08),
        entry("c6i.xlarge", 4, 8, None, 0.07),
        entry("r6i.xlarge", 4, 32, None, 0.09),
        entry("t3.xlarge", 4, 16, None, 0.01),
        entry("m7g.xlarge", 4, 16, None, 0.02),
        entry("c3.xlarge", 4, 7, None, 0.005),
        entry("g5.xlarge", 4, 16, Some(("A10G", 1, 24)), 0.45),
        entry("g5.2xlarge", 8, 32, Some(("A10G", 1, 24)), 0.40),
        entry("g4dn.xlarge", 4, 16, Some(("T4", 1, 16)), 0.20),
        entry("p4d.24xlarge", 96, 1152, Some(("A100", 8, 40)), 9.0),
        entry("p4de.24xlarge", 96, 1152, Some(("A100", 8, 80)), 12.0),
    ];
    types[0].zones = vec!["us-east-1a".into()];
    Catalog { region: "us-east-1".into(), fetched_at: crate::jobs::record::now(), types }
}

fn resources(yaml: &str) -> (Resources, u32) {
    let t = Task::parse(Path::new("/tmp/t.yaml"), &format!("run: x\n{yaml}"), &Overrides::default()).unwrap();
    (t.resources, t.num_nodes)
}

fn choose(yaml: &str) -> Result<Choice, Unsatisfied> {
    let (r, n) = resources(yaml);
    resolve(&catalog(), &Prices::default(), &r, Shape { num_nodes: n })
}

#[test]
fn nothing_asked_gives_the_default_type() {
    let c = choose("").unwrap();
    assert_eq!(c.instance_type, DEFAULT_INSTANCE_TYPE);
    assert_eq!(c.price_per_hour, Some(0.096));
}

#[test]
fn cpus_at_least_picks_the_cheapest_current_x86_type_without_gpus() {
    let c = choose("resources:\n  cpus: 4+\n").unwrap();
    // Not t3 (burstable), m7g (arm64) or g4dn (a GPU type).
    assert_eq!(c.instance_type, "c6i.xlarge");
    assert_eq!(c.runners_up[0].0, "m6i.xlarge");
    let c = choose("resources:\n  cpus: 4+\n  memory: 32+\n").unwrap();
    assert_eq!(c.instance_type, "r6i.xlarge");
}

#[test]
fn accelerators_match_name_and_count_and_alternatives() {
    assert_eq!(choose("resources:\n  accelerators: A10G:1\n").unwrap().instance_type, "g5.xlarge");
    assert_eq!(choose("resources:\n  accelerators: {H100: 8, A100-80GB: 8}\n").unwrap().instance_type, "p4de.24xlarge");
    assert_eq!(choose("resources:\n  accelerators: [A100:8, A100-80GB:8]\n").unwrap().instance_type, "p4d.24xlarge");
    assert_eq!(choose("resources:\n  accelerators: a10g\n").unwrap().instance_type, "g5.xlarge");
}

#[test]
fn spot_ranks_by_the_spot_price_among_the_price_tables_families() {
    // c3 (an old family, not in the table) has the lowest spot price.
    let c = choose("resources:\n  cpus: 4\n  use_spot: true\n").unwrap();
    assert_eq!(c.instance_type, "c6i.xlarge");
}

#[test]
fn equal_spot_prices_go_to_the_machine_cheaper_on_demand() {
    let mut cat = catalog();
    for e in &mut cat.types {
        for p in e.spot_prices.values_mut() {
            *p = 0.01;
        }
    }
    let (r, _) = resources("resources:\n  accelerators: A10G:1\n  use_spot: true\n");
    let c = resolve(&cat, &Prices::default(), &r, Shape { num_nodes: 1 }).unwrap();
    assert_eq!(c.instance_type, "g5.xlarge");
}

#[test]
fn spot_ranks_by_the_spot_price() {
    let c = choose("resources:\n  accelerators: A10G:1\n  use_spot: true\n").unwrap();
    assert_eq!(c.instance_type, "g5.2xlarge");
    assert_eq!(c.price_per_hour, Some(0.40));
    assert!(c.spot);
}

#[test]
fn any_of_takes_the_cheapest_and_ordered_the_first_possible() {
    let any = "resources:\n  any_of:\n    - accelerators: A10G:1\n    - accelerators: T4:1\n";
    let c = choose(any).unwrap();
    assert_eq!((c.instance_type.as_str(), c.alternative), ("g4dn.xlarge", 1));
    let ordered = "resources:\n  ordered:\n    - accelerators: H100:8\n    - accelerators: A10G:1\n    - accelerators: T4:1\n";
    let c = choose(ordered).unwrap();
    assert_eq!((c.instance_type.as_str(), c.alternative), ("g5.xlarge", 1));
}

#[test]
fn a_zone_limits_where_it_launches() {
    let c = choose("resources:\n  cpus: 2\n  zone: us-east-1b\n");
    let err = c.unwrap_err().to_string();
    assert!(err.contains("not offered in zone us-east-1b"), "{err}");
    let c = choose("resources:\n  infra: aws/us-east-1/us-east-1b\n  cpus: 4\n  memory: 16\n").unwrap();
    assert_eq!(c.zones, vec!["us-east-1b"]);
}

#[test]
fn unsatisfiable_requests_name_the_constraint_and_the_nearest() {
    let err = choose("resources:\n  accelerators: A100:4\n").unwrap_err().to_string();
    assert!(err.contains("exactly A100:4") && err.contains("A100:8 (p4d.24xlarge)"), "{err}");
    let err = choose("resources:\n  accelerators: A10:1\n").unwrap_err().to_string();
    assert!(err.contains("has A10 (did you mean") && err.contains("offered here: A100, A100-80GB, A10G, T4"), "{err}");
    let err = choose("resources:\n  cpus: 3\n").unwrap_err().to_string();
    assert!(err.contains("3 vCPUs (exactly") && err.contains("nearest:"), "{err}");
    let err = choose("resources:\n  instance_type: g5.xlarge\n  accelerators: T4:1\n").unwrap_err().to_string();
    assert!(err.contains("g5.xlarge has no T4 (it has A10G:1)"), "{err}");
    let err = choose("resources:\n  instance_type: g9.xlarge\n").unwrap_err().to_string();
    assert!(err.contains("not offered in us-east-1"), "{err}");
}

#[test]
fn multi_node_needs_cluster_placement() {
    let err = choose("num_nodes: 2\nresources:\n  instance_type: t3.xlarge\n").unwrap_err().to_string();
    assert!(err.contains("cluster placement group"), "{err}");
}
