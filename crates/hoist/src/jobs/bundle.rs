//! The workdir snapshot a job runs on: a gzipped tarball of the workdir,
//! honouring `.gitignore` (even outside a git checkout) and `.hoistignore`
//! (same syntax, for what git tracks but a job does not need: data sets,
//! notebooks). `.git` itself is never included.

use std::path::Path;

use anyhow::{Context as _, Result};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BundleStats {
    pub files: u64,
    /// Uncompressed bytes of the files bundled.
    pub bytes: u64,
}

/// Write a bundle of `workdir` to `out`.
pub fn create(workdir: &Path, out: &Path) -> Result<BundleStats> {
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(std::io::BufWriter::new(file), Compression::fast()));
    tar.follow_symlinks(false);
    let mut stats = BundleStats::default();
    let walker = ignore::WalkBuilder::new(workdir)
        .hidden(false) // dotfiles are code too (.env.example, .flake8)
        .ignore(false) // ripgrep's own `.ignore` files would surprise
        .git_global(false)
        .require_git(false)
        .add_custom_ignore_filename(".hoistignore")
        .filter_entry(|e| e.file_name() != ".git")
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    for entry in walker {
        let entry = entry.with_context(|| format!("walking {}", workdir.display()))?;
        let Some(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            continue;
        }
        let rel = entry.path().strip_prefix(workdir).expect("walk stays under workdir");
        tar.append_path_with_name(entry.path(), rel).with_context(|| format!("adding {}", entry.path().display()))?;
        stats.files += 1;
        stats.bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
    }
    tar.into_inner()?.finish()?.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(stats)
}

/// Unpack a bundle into `dest`. Entries that would land outside `dest`
/// (`..`, absolute paths) are refused by the tar reader.
pub fn extract(bundle: &Path, dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest)?;
    let file = std::fs::File::open(bundle).with_context(|| format!("opening {}", bundle.display()))?;
    let mut archive = tar::Archive::new(GzDecoder::new(std::io::BufReader::new(file)));
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.unpack(dest).with_context(|| format!("unpacking the code bundle into {}", dest.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honours_gitignore_and_hoistignore_and_skips_dot_git() {
        let src = tempfile::tempdir().unwrap();
        let p = src.path();
        std::fs::create_dir_all(p.join(".git/objects")).unwrap();
        std::fs::create_dir_all(p.join("data")).unwrap();
        std::fs::create_dir_all(p.join("src")).unwrap();
        std::fs::write(p.join(".git/HEAD"), "ref").unwrap();
        std::fs::write(p.join(".gitignore"), "*.pyc\n").unwrap();
        std::fs::write(p.join(".hoistignore"), "data/\n").unwrap();
        std::fs::write(p.join("train.py"), "print(1)").unwrap();
        std::fs::write(p.join("train.pyc"), "x").unwrap();
        std::fs::write(p.join("data/big.bin"), "0123").unwrap();
        std::fs::write(p.join("src/lib.py"), "x = 1").unwrap();

        let out = tempfile::tempdir().unwrap();
        let bundle = out.path().join("b.tar.gz");
        let stats = create(p, &bundle).unwrap();
        let dest = out.path().join("x");
        extract(&bundle, &dest).unwrap();

        let mut files: Vec<String> = ignore::WalkBuilder::new(&dest)
            .hidden(false)
            .ignore(false)
            .git_ignore(false)
            .build()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .map(|e| e.path().strip_prefix(&dest).unwrap().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files, vec![".gitignore", ".hoistignore", "src/lib.py", "train.py"]);
        assert_eq!(stats.files, 4);
        assert_eq!(std::fs::read_to_string(dest.join("train.py")).unwrap(), "print(1)");
    }
}
