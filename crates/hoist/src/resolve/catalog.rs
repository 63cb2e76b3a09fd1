//! The region's instance-type catalog, cached on disk so that resolving
//! resources works offline and costs no call on most runs.
//!
//! `<data dir>/catalog/<region>.v<format>.json`: every instance type with its
//! zones and current spot prices, as [`hoist_aws::instance_types`] reads
//! them. Fresh for [`MAX_AGE`]; `hoist run --refresh-catalog` fetches it
//! again. When AWS cannot be reached, a stale copy is used (and said so).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result};
use hoist_aws::Session;
use hoist_aws::instance_types::{InstanceTypes, TypeSpec};
use serde::{Deserialize, Serialize};

use crate::jobs::record::{now, parse_time};

/// How long a fetched catalog is used before it is fetched again: types
/// and zones change rarely; spot prices drift, and a week-old spot price
/// still ranks well.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    pub region: String,
    pub fetched_at: String,
    pub types: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub spec: TypeSpec,
    /// Zones of the region that offer the type.
    #[serde(default)]
    pub zones: Vec<String>,
    /// Current spot price per zone, USD per hour.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub spot_prices: BTreeMap<String, f64>,
}

/// Where a catalog came from, for the plan's "why".
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Fetched,
    Cached { age: Duration },
    /// AWS could not be reached: an older copy, and why.
    Stale { age: Duration, error: String },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ago = |d: &Duration| crate::humanize::duration(*d);
        match self {
            Source::Fetched => f.write_str("fetched from EC2 just now"),
            Source::Cached { age } => write!(f, "cached {} ago", ago(age)),
            Source::Stale { age, error } => write!(f, "cached {} ago (could not refresh: {error})", ago(age)),
        }
    }
}

impl Catalog {
    fn age(&self) -> Duration {
        parse_time(&self.fetched_at).and_then(|t| SystemTime::now().duration_since(t).ok()).unwrap_or(Duration::MAX)
    }
}

/// Bumped when what a cached entry means changes (2: Trainium types were
/// cached as burstable), so an older cache is fetched again, not trusted.
const CACHE_FORMAT: u32 = 2;

pub fn path(region: &str) -> PathBuf {
    crate::backends::local::data_dir().join("catalog").join(format!("{region}.v{CACHE_FORMAT}.json"))
}

/// The cached catalog of `region`, however old.
pub fn cached(region: &str) -> Option<Catalog> {
    let data = std::fs::read(path(region)).ok()?;
    serde_json::from_slice::<Catalog>(&data).ok().filter(|c| c.region == region)
}

/// Read the whole catalog from EC2 (three paginated listings, together).
pub async fn fetch(session: &Session) -> Result<Catalog> {
    let api = InstanceTypes::new(session);
    let (types, zones, spot) = tokio::join!(api.all(), api.zones(), api.spot_prices());
    let (types, mut zones, mut spot) = (types?, zones?, spot?);
    let types = types
        .into_iter()
        .map(|spec| Entry { zones: zones.remove(&spec.name).unwrap_or_default(), spot_prices: spot.remove(&spec.name).unwrap_or_default(), spec })
        .collect();
    Ok(Catalog { region: session.region().to_string(), fetched_at: now(), types })
}

fn save(catalog: &Catalog) -> Result<()> {
    let file = path(&catalog.region);
    let dir = file.parent().expect("has a parent");
    crate::backends::local::ensure_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    crate::jobs::store::write_atomic(&file, &serde_json::to_vec(catalog)?).with_context(|| format!("writing {}", file.display()))
}

/// The catalog for the session's region: the cached one while fresh
/// (unless `refresh`), else fetched and cached; a stale copy if fetching
/// fails.
pub async fn load(session: &Session, refresh: bool) -> Result<(Catalog, Source)> {
    let region = session.region();
    let old = cached(region);
    if !refresh
        && let Some(c) = &old
        && c.age() < MAX_AGE
    {
        let age = c.age();
        return Ok((old.expect("checked"), Source::Cached { age }));
    }
    match fetch(session).await {
        Ok(c) => {
            if let Err(e) = save(&c) {
                tracing::warn!("could not cache the instance catalog: {e:#}");
            }
            Ok((c, Source::Fetched))
        }
        Err(e) => match old {
            Some(c) => {
                let age = c.age();
                Ok((c, Source::Stale { age, error: format!("{e:#}") }))
            }
            None => Err(e.context(format!("reading the instance types of {region} (to choose one for the task's resources)"))),
        },
    }
}
