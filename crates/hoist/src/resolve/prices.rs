//! On-demand prices, bundled: Linux list prices in us-east-1, USD per
//! hour, as published on the AWS price list (recorded 2025-06; AWS cut
//! P4/P5 prices that month, and these are the cut prices). They rank
//! candidates and show what a choice costs; they are not a bill. Other
//! regions cost a few percent to ~30% more; the ranking rarely changes.
//!
//! Why bundled: the Pricing API is a separate service (endpoints in two
//! regions only, a separate permission, ~100 MB of offers per region to
//! page through), and resolution must work offline. Spot prices, which
//! move, come live from `ec2:DescribeSpotPriceHistory` with the catalog.
//! A file named by `HOIST_PRICE_TABLE` (lines `TYPE USD_PER_HOUR`)
//! overrides any entry, for negotiated rates or another region's prices.

use std::collections::BTreeMap;

/// Families priced linearly by vCPU: (family, USD per vCPU-hour).
const PER_VCPU: &[(&str, f64)] = &[
    ("m5", 0.048),
    ("m5a", 0.043),
    ("m5n", 0.0595),
    ("m6i", 0.048),
    ("m6a", 0.0432),
    ("m6id", 0.05933),
    ("m7i", 0.0504),
    ("m7i-flex", 0.04788),
    ("m7a", 0.05796),
    ("c5", 0.0425),
    ("c5a", 0.0385),
    ("c5n", 0.054),
    ("c6i", 0.0425),
    ("c6a", 0.03825),
    ("c6in", 0.0567),
    ("c7i", 0.04463),
    ("c7a", 0.05131),
    ("r5", 0.063),
    ("r5a", 0.0565),
    ("r6i", 0.063),
    ("r6a", 0.0567),
    ("r7i", 0.06615),
    ("r7a", 0.07607),
    ("m6g", 0.0385),
    ("m7g", 0.0408),
    ("c6g", 0.034),
    ("c7g", 0.03625),
    ("r6g", 0.0504),
    ("r7g", 0.05355),
];

/// Accelerated types, each priced on its own.
const BY_TYPE: &[(&str, f64)] = &[
    ("g4dn.xlarge", 0.526),
    ("g4dn.2xlarge", 0.752),
    ("g4dn.4xlarge", 1.204),
    ("g4dn.8xlarge", 2.176),
    ("g4dn.12xlarge", 3.912),
    ("g4dn.16xlarge", 4.352),
    ("g4dn.metal", 7.824),
    ("g5.xlarge", 1.006),
    ("g5.2xlarge", 1.212),
    ("g5.4xlarge", 1.624),
    ("g5.8xlarge", 2.448),
    ("g5.12xlarge", 5.672),
    ("g5.16xlarge", 4.096),
    ("g5.24xlarge", 8.144),
    ("g5.48xlarge", 16.288),
    ("g5g.xlarge", 0.42),
    ("g5g.2xlarge", 0.556),
    ("g5g.4xlarge", 0.828),
    ("g5g.8xlarge", 1.372),
    ("g5g.16xlarge", 2.744),
    ("g6.xlarge", 0.8048),
    ("g6.2xlarge", 0.9776),
    ("g6.4xlarge", 1.3232),
    ("g6.8xlarge", 2.0144),
    ("g6.12xlarge", 4.6016),
    ("g6.16xlarge", 3.3968),
    ("g6.24xlarge", 6.6752),
    ("g6.48xlarge", 13.3504),
    ("g6e.xlarge", 1.861),
    ("g6e.2xlarge", 2.24208),
    ("g6e.4xlarge", 3.00424),
    ("g6e.8xlarge", 4.52856),
    ("g6e.12xlarge", 10.49264),
    ("g6e.16xlarge", 7.57719),
    ("g6e.24xlarge", 15.06559),
    ("g6e.48xlarge", 30.13118),
    ("p3.2xlarge", 3.06),
    ("p3.8xlarge", 12.24),
    ("p3.16xlarge", 24.48),
    ("p3dn.24xlarge", 31.212),
    ("p4d.24xlarge", 21.96),
    ("p4de.24xlarge", 27.45),
    ("p5.48xlarge", 55.04),
    ("p5e.48xlarge", 60.0),
    ("p5en.48xlarge", 63.30),
    ("inf2.xlarge", 0.7582),
    ("inf2.8xlarge", 1.9679),
    ("inf2.24xlarge", 6.4906),
    ("inf2.48xlarge", 12.9813),
    ("trn1.2xlarge", 1.3438),
    ("trn1.32xlarge", 21.50),
    ("trn1n.32xlarge", 24.78),
];

/// The price table: bundled entries, then the override file's.
#[derive(Debug, Clone, Default)]
pub struct Prices {
    overrides: BTreeMap<String, f64>,
}

impl Prices {
    /// The bundled table, with `HOIST_PRICE_TABLE`'s entries over it.
    pub fn load() -> anyhow::Result<Self> {
        let Some(path) = std::env::var_os("HOIST_PRICE_TABLE") else { return Ok(Self::default()) };
        let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("HOIST_PRICE_TABLE {}: {e}", path.to_string_lossy()))?;
        let mut overrides = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split([' ', '\t', ',']).filter(|s| !s.is_empty());
            match (parts.next(), parts.next().and_then(|p| p.parse::<f64>().ok())) {
                (Some(t), Some(p)) if p >= 0.0 => {
                    overrides.insert(t.to_string(), p);
                }
                _ => anyhow::bail!("HOIST_PRICE_TABLE {}:{}: expected `TYPE USD_PER_HOUR`", path.to_string_lossy(), i + 1),
            }
        }
        Ok(Self { overrides })
    }

    /// On-demand USD per hour of `instance_type` with `vcpus`, if known.
    pub fn on_demand(&self, instance_type: &str, vcpus: u32) -> Option<f64> {
        if let Some(p) = self.overrides.get(instance_type) {
            return Some(*p);
        }
        if let Some((_, p)) = BY_TYPE.iter().find(|(t, _)| *t == instance_type) {
            return Some(*p);
        }
        let family = instance_type.split('.').next()?;
        if instance_type.ends_with(".metal") || instance_type.contains("metal-") {
            return None;
        }
        PER_VCPU.iter().find(|(f, _)| *f == family).map(|(_, rate)| rate * vcpus as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_families_and_listed_types() {
        let p = Prices::default();
        assert_eq!(p.on_demand("m6i.large", 2), Some(0.096));
        assert!((p.on_demand("c6i.4xlarge", 16).unwrap() - 0.68).abs() < 1e-9);
        assert_eq!(p.on_demand("g5.xlarge", 4), Some(1.006));
        assert_eq!(p.on_demand("x1e.xlarge", 4), None);
        assert_eq!(p.on_demand("m6i.metal", 128), None);
    }
}
