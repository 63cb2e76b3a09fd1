//! Where job state lives: a directory on this machine (the local backend)
//! or the workspace's S3 bucket (the AWS backends). Both have the same
//! layout, so the agent and every command work unchanged on either:
//!
//! ```text
//! jobs/<id>/job.json          the record
//! jobs/<id>/bundle.tar.gz     the workdir snapshot
//! jobs/<id>/checkpoints/...   mirror of the checkpoint directory
//! jobs/<id>/artifacts/...     kept outputs
//! jobs/<id>/cancel            present once cancellation was requested
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use hoist_aws::s3::Bucket;

use super::record::{JobRecord, Status};

#[derive(Debug, Clone)]
pub enum Store {
    Local { root: PathBuf },
    S3 { bucket: Bucket, prefix: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Key relative to the store's root.
    pub key: String,
    pub size: u64,
}

pub fn job_key(id: &str, rest: &str) -> String {
    format!("jobs/{id}/{rest}")
}

impl Store {
    /// `file:///abs/dir` or `s3://bucket[/prefix]`, as the agent is told.
    pub fn url(&self) -> String {
        match self {
            Store::Local { root } => format!("file://{}", root.display()),
            Store::S3 { bucket, prefix } => format!("s3://{}/{}", bucket.name(), prefix.trim_end_matches('/')),
        }
    }

    /// Parse a store URL. S3 needs a session to talk to AWS.
    pub fn from_url(url: &str, session: Option<&hoist_aws::Session>) -> Result<Self> {
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(Store::Local { root: PathBuf::from(path) });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let session = session.context("an s3:// store needs AWS settings")?;
            let prefix = if prefix.is_empty() { String::new() } else { format!("{}/", prefix.trim_end_matches('/')) };
            return Ok(Store::S3 { bucket: Bucket::new(session, bucket), prefix });
        }
        bail!("invalid store URL {url:?}: expected file:///DIR or s3://BUCKET[/PREFIX]")
    }

    fn local_path(root: &Path, key: &str) -> PathBuf {
        root.join(key)
    }

    pub async fn put(&self, key: &str, data: Vec<u8>) -> Result<()> {
        match self {
            Store::Local { root } => {
                let path = Self::local_path(root, key);
                write_atomic(&path, &data).with_context(|| format!("writing {}", path.display()))
            }
            Store::S3 { bucket, prefix } => Ok(bucket.put(&format!("{prefix}{key}"), data).await?),
        }
    }

    pub async fn put_file(&self, key: &str, file: &Path) -> Result<()> {
        match self {
            Store::Local { root } => {
                let path = Self::local_path(root, key);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let tmp = tmp_path(&path);
                std::fs::copy(file, &tmp).with_context(|| format!("copying {} to {}", file.display(), path.display()))?;
                std::fs::rename(&tmp, &path)?;
                Ok(())
            }
            Store::S3 { bucket, prefix } => Ok(bucket.put_file(&format!("{prefix}{key}"), file).await?),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Store::Local { root } => match std::fs::read(Self::local_path(root, key)) {
                Ok(data) => Ok(Some(data)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).with_context(|| format!("reading {key}")),
            },
            Store::S3 { bucket, prefix } => Ok(bucket.get(&format!("{prefix}{key}")).await?),
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool> {
        match self {
            Store::Local { root } => Ok(Self::local_path(root, key).exists()),
            Store::S3 { bucket, prefix } => Ok(bucket.exists(&format!("{prefix}{key}")).await?),
        }
    }

    /// Download `key` to `dest` (parents created). False if no such key.
    pub async fn get_to_file(&self, key: &str, dest: &Path) -> Result<bool> {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match self {
            Store::Local { root } => match std::fs::copy(Self::local_path(root, key), dest) {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(e).with_context(|| format!("copying {key} to {}", dest.display())),
            },
            Store::S3 { bucket, prefix } => Ok(bucket.get_to_file(&format!("{prefix}{key}"), dest).await?),
        }
    }

    /// Every object under `prefix` (a key prefix ending in `/`).
    pub async fn list(&self, prefix: &str) -> Result<Vec<Entry>> {
        match self {
            Store::Local { root } => {
                let mut out = Vec::new();
                let dir = Self::local_path(root, prefix);
                walk(&dir, &mut |path, size| {
                    if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(".tmp-")) {
                        return; // an unfinished atomic write
                    }
                    let rel = path.strip_prefix(root).expect("under root");
                    out.push(Entry { key: rel.to_string_lossy().replace('\\', "/"), size });
                })?;
                out.sort_by(|a, b| a.key.cmp(&b.key));
                Ok(out)
            }
            Store::S3 { bucket, prefix: p } => Ok(bucket
                .list(&format!("{p}{prefix}"))
                .await?
                .into_iter()
                .map(|o| Entry { key: o.key[p.len()..].to_string(), size: o.size })
                .collect()),
        }
    }

    pub async fn delete(&self, keys: &[String]) -> Result<()> {
        match self {
            Store::Local { root } => {
                for key in keys {
                    match std::fs::remove_file(Self::local_path(root, key)) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e).with_context(|| format!("deleting {key}")),
                    }
                }
                Ok(())
            }
            Store::S3 { bucket, prefix } => {
                let full: Vec<String> = keys.iter().map(|k| format!("{prefix}{k}")).collect();
                Ok(bucket.delete(&full).await?)
            }
        }
    }

    pub async fn load_record(&self, id: &str) -> Result<Option<JobRecord>> {
        let key = job_key(id, "job.json");
        match self.get(&key).await? {
            Some(data) => Ok(Some(serde_json::from_slice(&data).with_context(|| format!("{key} is not a valid job record"))?)),
            None => Ok(None),
        }
    }

    /// The record and the version it was read at (for [`Self::save_record_if`]).
    pub async fn load_versioned(&self, id: &str) -> Result<Option<(JobRecord, String)>> {
        let key = job_key(id, "job.json");
        let found = match self {
            Store::Local { root } => match std::fs::read(Self::local_path(root, &key)) {
                Ok(data) => {
                    let version = content_version(&data);
                    Some((data, version))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e).with_context(|| format!("reading {key}")),
            },
            Store::S3 { bucket, prefix } => bucket.get_versioned(&format!("{prefix}{key}")).await?,
        };
        match found {
            Some((data, version)) => {
                let record = serde_json::from_slice(&data).with_context(|| format!("{key} is not a valid job record"))?;
                Ok(Some((record, version)))
            }
            None => Ok(None),
        }
    }

    /// Compare-and-swap: save the record only if it is still at `expect`
    /// (`None`: only if there is no record yet). `Ok(None)` when another
    /// writer got there first; else the new version. On S3 this is a
    /// conditional write (If-Match / If-None-Match); locally, the same
    /// check under an exclusive lock of the job's directory.
    pub async fn save_record_if(&self, record: &JobRecord, expect: Option<&str>) -> Result<Option<String>> {
        let data = serde_json::to_vec_pretty(record)?;
        let key = job_key(&record.id, "job.json");
        match self {
            Store::S3 { bucket, prefix } => Ok(bucket.put_if(&format!("{prefix}{key}"), data, expect).await?),
            Store::Local { root } => {
                let path = Self::local_path(root, &key);
                let _lock = lock_dir(path.parent().expect("a record has a directory"))?;
                let current = match std::fs::read(&path) {
                    Ok(d) => Some(content_version(&d)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
                };
                if current.as_deref() != expect {
                    return Ok(None);
                }
                write_atomic(&path, &data).with_context(|| format!("writing {}", path.display()))?;
                Ok(Some(content_version(&data)))
            }
        }
    }

    /// Read-modify-write the record without losing another writer's
    /// change: `change` is applied to the latest record and saved
    /// conditionally, again on a conflict. `change` returns whether it
    /// changed anything (nothing is written otherwise). Returns the
    /// record as saved (or as found, unchanged).
    /// End attempt `attempt` of job `id` with `status` and `reason`, unless
    /// it has already ended or a newer attempt has started (whoever ended
    /// it first, the agent or a reconciler, is right). Returns the record
    /// as saved.
    pub async fn end_attempt(&self, id: &str, attempt: u32, status: Status, reason: &str) -> Result<JobRecord> {
        self.update_record(id, |r| {
            if r.attempt().number != attempt || r.status.is_terminal() {
                return Ok(false);
            }
            r.set_status(status, Some(reason.to_string()));
            Ok(true)
        })
        .await
    }

    pub async fn update_record<F>(&self, id: &str, mut change: F) -> Result<JobRecord>
    where
        F: FnMut(&mut JobRecord) -> Result<bool>,
    {
        for _ in 0..MAX_CAS_ATTEMPTS {
            let (mut record, version) = self.load_versioned(id).await?.with_context(|| format!("no job {id} in {}", self.url()))?;
            if !change(&mut record)? {
                return Ok(record);
            }
            if self.save_record_if(&record, Some(&version)).await?.is_some() {
                return Ok(record);
            }
            tracing::debug!(job = id, "job record changed while updating it; trying again");
        }
        anyhow::bail!("job {id}'s record kept changing under {MAX_CAS_ATTEMPTS} attempts to update it")
    }

    /// Save a new record: fails if one with its id exists.
    pub async fn create_record(&self, record: &JobRecord) -> Result<()> {
        match self.save_record_if(record, None).await? {
            Some(_) => Ok(()),
            // The SDK's retry of a create whose answer was lost meets the
            // record its first attempt wrote: that one is ours.
            None if self.load_record(&record.id).await?.as_ref() == Some(record) => Ok(()),
            None => anyhow::bail!("a job {} already exists", record.id),
        }
    }

    /// Unconditional write: only for a record no one else can be writing
    /// (tests, and the local store's own migrations).
    pub async fn save_record(&self, record: &JobRecord) -> Result<()> {
        let data = serde_json::to_vec_pretty(record)?;
        self.put(&job_key(&record.id, "job.json"), data).await
    }

    /// Every job record, newest first.
    pub async fn list_records(&self) -> Result<Vec<JobRecord>> {
        let mut records = Vec::new();
        match self {
            Store::Local { root } => {
                let jobs = root.join("jobs");
                let entries = match std::fs::read_dir(&jobs) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(records),
                    Err(e) => return Err(e).with_context(|| format!("listing {}", jobs.display())),
                };
                for entry in entries.flatten() {
                    let path = entry.path().join("job.json");
                    if let Ok(data) = std::fs::read(&path) {
                        match serde_json::from_slice::<JobRecord>(&data) {
                            Ok(r) => records.push(r),
                            Err(e) => tracing::warn!("skipping {}: not a valid job record ({e})", path.display()),
                        }
                    }
                }
            }
            Store::S3 { .. } => {
                let keys: Vec<String> =
                    self.list("jobs/").await?.into_iter().map(|e| e.key).filter(|k| k.ends_with("/job.json")).collect();
                for key in keys {
                    if let Some(data) = self.get(&key).await? {
                        records.push(serde_json::from_slice(&data).with_context(|| format!("{key} is not a valid job record"))?);
                    }
                }
            }
        }
        records.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        Ok(records)
    }
}

/// Conflicting writers get this many tries before giving up.
const MAX_CAS_ATTEMPTS: usize = 20;

/// FNV-1a (64 bits): a fast, stable content hash (not a cryptographic
/// one). Feed bytes with [`Fnv1a::update`] in as many pieces as wanted.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    pub fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// 16 hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// A local record's version: a hash of its bytes.
fn content_version(data: &[u8]) -> String {
    let mut h = Fnv1a::default();
    h.update(data);
    h.hex()
}

/// An exclusive lock on a directory (flock on `.lock` in it), released
/// when dropped: serializes local compare-and-swap writers, across
/// processes.
fn lock_dir(dir: &Path) -> Result<std::fs::File> {
    use std::os::unix::io::AsRawFd;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(".lock");
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).with_context(|| format!("opening {}", path.display()))?;
    // SAFETY: flock on a descriptor we own; blocks until granted.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error()).with_context(|| format!("locking {}", path.display()));
    }
    Ok(file)
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// Write via a temporary file and rename, so a reader never sees half a
/// record and a crash never leaves one.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = tmp_path(path);
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path, u64)) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    for entry in entries {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(&entry.path(), f)?;
        } else {
            f(&entry.path(), meta.len());
        }
    }
    Ok(())
}
