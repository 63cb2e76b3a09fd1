//! Checkpoints: the job's checkpoint directory mirrored to the store under
//! `jobs/<id>/checkpoints/`, restored before a (resumed) attempt starts,
//! and synced at an interval and at exit. A sync uploads only files whose
//! size or modification time changed, and removes from the store files
//! the job deleted, so the store always holds the latest state.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context as _, Result};

use super::store::Store;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStats {
    pub uploaded: u64,
    pub deleted: u64,
    pub bytes: u64,
}

/// What a local file looked like when last synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    modified: Option<SystemTime>,
}

pub struct CheckpointSync {
    store: Store,
    /// `jobs/<id>/checkpoints/`
    prefix: String,
    dir: PathBuf,
    synced: HashMap<String, Stamp>,
}

impl CheckpointSync {
    pub fn new(store: Store, prefix: String, dir: PathBuf) -> Self {
        Self { store, prefix, dir, synced: HashMap::new() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Download the stored checkpoint into the directory. Returns how many
    /// files and bytes were restored.
    pub async fn restore(&mut self) -> Result<SyncStats> {
        std::fs::create_dir_all(&self.dir)?;
        let mut stats = SyncStats::default();
        for entry in self.store.list(&self.prefix).await? {
            let rel = entry.key[self.prefix.len()..].to_string();
            let dest = self.dir.join(&rel);
            self.store.get_to_file(&entry.key, &dest).await?;
            self.synced.insert(rel, stamp(&dest)?);
            stats.uploaded += 1; // "transferred"
            stats.bytes += entry.size;
        }
        Ok(stats)
    }

    /// Upload what changed since the last sync; delete what disappeared.
    pub async fn sync(&mut self) -> Result<SyncStats> {
        let mut stats = SyncStats::default();
        let mut seen = HashMap::new();
        for path in files_under(&self.dir)? {
            let rel = path.strip_prefix(&self.dir).expect("under dir").to_string_lossy().replace('\\', "/");
            let Ok(now) = stamp(&path) else { continue }; // deleted while we walked
            if self.synced.get(&rel) != Some(&now) {
                self.store
                    .put_file(&format!("{}{rel}", self.prefix), &path)
                    .await
                    .with_context(|| format!("uploading checkpoint file {rel}"))?;
                stats.uploaded += 1;
                stats.bytes += now.size;
            }
            seen.insert(rel, now);
        }
        let gone: Vec<String> =
            self.synced.keys().filter(|k| !seen.contains_key(*k)).map(|k| format!("{}{k}", self.prefix)).collect();
        if !gone.is_empty() {
            self.store.delete(&gone).await?;
            stats.deleted = gone.len() as u64;
        }
        self.synced = seen;
        Ok(stats)
    }
}

/// Upload every file under `dir` to `prefix` + its relative path.
pub async fn upload_tree(store: &Store, dir: &Path, prefix: &str) -> Result<SyncStats> {
    let mut stats = SyncStats::default();
    let files = if dir.is_file() { vec![dir.to_path_buf()] } else { files_under(dir)? };
    for path in files {
        let rel = if dir.is_file() {
            dir.file_name().unwrap_or_default().to_string_lossy().into_owned()
        } else {
            path.strip_prefix(dir).expect("under dir").to_string_lossy().replace('\\', "/")
        };
        store.put_file(&format!("{prefix}{rel}"), &path).await?;
        stats.uploaded += 1;
        stats.bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    }
    Ok(stats)
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    let meta = std::fs::metadata(path)?;
    Ok(Stamp { size: meta.len(), modified: meta.modified().ok() })
}

pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("listing {}", d.display())),
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => out.push(entry.path()),
                _ => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn syncs_only_changes_and_mirrors_deletions_then_restores() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::Local { root: root.path().join("store") };
        let dir = root.path().join("ckpt");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.bin"), "aaaa").unwrap();
        std::fs::write(dir.join("sub/b.bin"), "bb").unwrap();

        let mut sync = CheckpointSync::new(store.clone(), "jobs/j/checkpoints/".into(), dir.clone());
        assert_eq!(sync.sync().await.unwrap(), SyncStats { uploaded: 2, deleted: 0, bytes: 6 });
        assert_eq!(sync.sync().await.unwrap(), SyncStats::default(), "nothing changed");

        std::fs::write(dir.join("a.bin"), "aaaaaa").unwrap();
        std::fs::remove_file(dir.join("sub/b.bin")).unwrap();
        assert_eq!(sync.sync().await.unwrap(), SyncStats { uploaded: 1, deleted: 1, bytes: 6 });

        let keys: Vec<String> = store.list("jobs/j/checkpoints/").await.unwrap().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, vec!["jobs/j/checkpoints/a.bin"]);

        let restored_dir = root.path().join("restored");
        let mut restore = CheckpointSync::new(store, "jobs/j/checkpoints/".into(), restored_dir.clone());
        assert_eq!(restore.restore().await.unwrap().uploaded, 1);
        assert_eq!(std::fs::read_to_string(restored_dir.join("a.bin")).unwrap(), "aaaaaa");
        assert_eq!(restore.sync().await.unwrap(), SyncStats::default(), "restored files are not re-uploaded");
    }
}
