//! What a region offers: every instance type with its vCPUs, memory and
//! accelerators (DescribeInstanceTypes), the zones that offer each
//! (DescribeInstanceTypeOfferings), and the current spot price per zone
//! (DescribeSpotPriceHistory). Read-only; the caller caches the result
//! (`hoist::resolve::catalog`), since the whole catalog is a dozen pages.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::LocationType;
use serde::{Deserialize, Serialize};

use crate::catalog::instances as ops;
use crate::error::AwsError;
use crate::session::Session;

/// One instance type, as far as choosing one needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeSpec {
    pub name: String,
    pub vcpus: u32,
    pub memory_mib: u64,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// GPUs and AWS accelerators (Inferentia, Trainium), as EC2 names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accelerators: Vec<Device>,
    /// Burstable (`t*`): CPU credits, not a training machine.
    #[serde(default)]
    pub burstable: bool,
    /// Whether the type can run as spot.
    #[serde(default)]
    pub spot: bool,
    /// Whether the type can go into a cluster placement group.
    #[serde(default)]
    pub cluster_placement: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub name: String,
    pub count: u32,
    /// Memory per device.
    #[serde(default)]
    pub memory_mib: u64,
}

pub struct InstanceTypes<'a> {
    session: &'a Session,
    client: aws_sdk_ec2::Client,
}

impl<'a> InstanceTypes<'a> {
    pub fn new(session: &'a Session) -> Self {
        Self { session, client: session.ec2_client() }
    }

    /// Every instance type of the region (paginated).
    pub async fn all(&self) -> Result<Vec<TypeSpec>, AwsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let req = self.client.describe_instance_types().max_results(100).set_next_token(token.clone()).send();
            let page = self.session.call(ops::DESCRIBE_INSTANCE_TYPES, None, req).await?;
            out.extend(page.instance_types().iter().map(spec));
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// One instance type; `None` if the region does not know it.
    pub async fn one(&self, name: &str) -> Result<Option<TypeSpec>, AwsError> {
        let req = self.client.describe_instance_types().instance_types(name.into()).send();
        match self.session.call(ops::DESCRIBE_INSTANCE_TYPES, Some(name), req).await {
            Ok(out) => Ok(out.instance_types().first().map(spec)),
            Err(e) if e.code() == Some("InvalidInstanceType") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// For each instance type, the zones of the region that offer it.
    pub async fn zones(&self) -> Result<BTreeMap<String, Vec<String>>, AwsError> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let req = self
                .client
                .describe_instance_type_offerings()
                .location_type(LocationType::AvailabilityZone)
                .max_results(1000)
                .set_next_token(token.clone())
                .send();
            let page = self.session.call(ops::DESCRIBE_INSTANCE_TYPE_OFFERINGS, None, req).await?;
            for o in page.instance_type_offerings() {
                if let (Some(t), Some(zone)) = (o.instance_type(), o.location()) {
                    out.entry(t.as_str().to_string()).or_default().push(zone.to_string());
                }
            }
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
            if token.is_none() {
                for zones in out.values_mut() {
                    zones.sort();
                    zones.dedup();
                }
                return Ok(out);
            }
        }
    }

    /// The current Linux spot price of every type, per zone (USD/hour).
    pub async fn spot_prices(&self) -> Result<BTreeMap<String, BTreeMap<String, f64>>, AwsError> {
        let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        let mut token: Option<String> = None;
        // A start time of now asks for the price in force now, one entry
        // per type and zone (not the history).
        let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
        loop {
            let req = self
                .client
                .describe_spot_price_history()
                .start_time(now)
                .product_descriptions("Linux/UNIX")
                .max_results(1000)
                .set_next_token(token.clone())
                .send();
            let page = self.session.call(ops::DESCRIBE_SPOT_PRICE_HISTORY, None, req).await?;
            for p in page.spot_price_history() {
                let (Some(t), Some(zone), Some(price)) = (p.instance_type(), p.availability_zone(), p.spot_price()) else { continue };
                if let Ok(price) = price.parse::<f64>() {
                    out.entry(t.as_str().to_string()).or_default().insert(zone.to_string(), price);
                }
            }
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
            if token.is_none() {
                return Ok(out);
            }
        }
    }
}

/// `t2`, `t3`, `t3a`, `t4g`: burstable families (not `trn1`, Trainium).
fn is_burstable_family(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next() == Some('t') && chars.next().is_some_and(|c| c.is_ascii_digit())
}

fn spec(t: &aws_sdk_ec2::types::InstanceTypeInfo) -> TypeSpec {
    let name = t.instance_type().map(|t| t.as_str().to_string()).unwrap_or_default();
    let mut accelerators: Vec<Device> = Vec::new();
    if let Some(g) = t.gpu_info() {
        accelerators.extend(g.gpus().iter().map(|d| Device {
            name: d.name().unwrap_or_default().to_string(),
            count: d.count().unwrap_or(0).max(0) as u32,
            memory_mib: d.memory_info().and_then(|m| m.size_in_mib()).unwrap_or(0).max(0) as u64,
        }));
    }
    if let Some(n) = t.neuron_info() {
        accelerators.extend(n.neuron_devices().iter().map(|d| Device {
            name: d.name().unwrap_or_default().to_string(),
            count: d.count().unwrap_or(0).max(0) as u32,
            memory_mib: d.memory_info().and_then(|m| m.size_in_mib()).unwrap_or(0).max(0) as u64,
        }));
    }
    if let Some(i) = t.inference_accelerator_info()
        && t.neuron_info().is_none()
    {
        accelerators.extend(i.accelerators().iter().map(|d| Device {
            name: d.name().unwrap_or_default().to_string(),
            count: d.count().unwrap_or(0).max(0) as u32,
            memory_mib: d.memory_info().and_then(|m| m.size_in_mib()).unwrap_or(0).max(0) as u64,
        }));
    }
    TypeSpec {
        burstable: t.burstable_performance_supported().unwrap_or(false) || is_burstable_family(&name),
        architecture: t
            .processor_info()
            .and_then(|p| p.supported_architectures().iter().find(|a| matches!(a.as_str(), "x86_64" | "arm64")).map(|a| a.as_str().to_string()))
            .unwrap_or_else(|| "x86_64".into()),
        vcpus: t.v_cpu_info().and_then(|v| v.default_v_cpus()).unwrap_or(0).max(0) as u32,
        memory_mib: t.memory_info().and_then(|m| m.size_in_mib()).unwrap_or(0).max(0) as u64,
        spot: t.supported_usage_classes().iter().any(|c| c.as_str() == "spot"),
        cluster_placement: t.placement_group_info().is_some_and(|p| p.supported_strategies().iter().any(|s| s.as_str() == "cluster")),
        accelerators,
        name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burstable_families_are_t_and_a_digit_not_trainium() {
        for t in ["t2.micro", "t3.large", "t3a.nano", "t4g.small"] {
            assert!(is_burstable_family(t), "{t}");
        }
        for t in ["trn1.2xlarge", "trn2.48xlarge", "m5.large", "g5.xlarge"] {
            assert!(!is_burstable_family(t), "{t}");
        }
    }
}
