//! Getting the agent onto an EC2 instance: the hoist binary, uploaded once
//! per build and architecture to the bucket's `agent/` prefix, and the
//! instance's user-data, a short script that downloads it with the
//! instance role and runs `hoist agent` on the job.
//!
//! The user-data holds no secret (anyone on the instance can read it from
//! the metadata service): the agent reads the job's secrets from Secrets
//! Manager itself. Whatever happens to the agent, the script ends by
//! powering the instance off, and the instance is launched with
//! `InstanceInitiatedShutdownBehavior=terminate`: an instance never
//! outlives its job, and needs no permission to end itself.
//!
//! Which binary: the one running, when this machine is Linux on the
//! instance's architecture (the common case: nothing to do; a build on
//! Debian 12 needs glibc 2.34 at most, which the default images, Amazon
//! Linux 2023 and the AL2023 DLAMI, have); otherwise
//! `--agent-binary PATH` (or `HOIST_AGENT_BINARY`), a Linux build for the
//! instance's architecture, e.g. a static musl build
//! (`cargo build --release --target x86_64-unknown-linux-musl`), which
//! runs on any distribution's glibc.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::exit::UsageError;
use crate::jobs::store::Store;

/// EC2's architecture names to Rust's.
fn rust_arch(ec2_arch: &str) -> &str {
    match ec2_arch {
        "arm64" => "aarch64",
        other => other,
    }
}

/// ELF's e_machine for an EC2 architecture.
fn elf_machine(ec2_arch: &str) -> Option<u16> {
    match ec2_arch {
        "x86_64" => Some(62),
        "arm64" => Some(183),
        _ => None,
    }
}

/// Refuse, before anything is launched, a file that cannot run on the
/// instance: not a 64-bit little-endian ELF executable for its
/// architecture (an instance booted with it would bill without ever
/// starting the job).
fn check_elf(path: &Path, ec2_arch: &str) -> Result<()> {
    use std::io::Read;
    let mut head = [0u8; 20];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).with_context(|| format!("reading {}", path.display()))?;
    let machine = u16::from_le_bytes([head[18], head[19]]);
    let elf64_le = n == 20 && head[..4] == *b"\x7fELF" && head[4] == 2 && head[5] == 1;
    if !elf64_le || Some(machine) != elf_machine(ec2_arch) {
        let what = if !elf64_le { "not a 64-bit Linux (ELF) executable".to_string() } else { format!("an ELF executable for another architecture (e_machine {machine})") };
        return Err(UsageError(format!(
            "agent binary {} is {what}: the instance is Linux on {ec2_arch}; give a hoist built for it \
             (`cargo build --release --target {}-unknown-linux-musl`)",
            path.display(),
            rust_arch(ec2_arch)
        ))
        .into());
    }
    Ok(())
}

/// The binary to send to an instance of `ec2_arch`.
pub fn agent_binary(ec2_arch: &str, given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        if !path.is_file() {
            return Err(UsageError(format!("--agent-binary {}: no such file", path.display())).into());
        }
        check_elf(path, ec2_arch)?;
        return Ok(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os("HOIST_AGENT_BINARY").filter(|p| !p.is_empty()) {
        return agent_binary(ec2_arch, Some(Path::new(&path)));
    }
    let here = std::env::consts::ARCH;
    if std::env::consts::OS == "linux" && here == rust_arch(ec2_arch) {
        return std::env::current_exe().context("locating the hoist executable");
    }
    Err(UsageError(format!(
        "the instance is Linux on {ec2_arch}, and this hoist is built for {} on {here}: pass `--agent-binary PATH` \
         (or set HOIST_AGENT_BINARY) to a hoist built for Linux on {ec2_arch}, e.g. \
         `cargo build --release --target {}-unknown-linux-musl`",
        std::env::consts::OS,
        rust_arch(ec2_arch)
    ))
    .into())
}

/// [`content_hash`], remembered per file (path, size and modification
/// time) in the data directory: hashing a 100 MB build on every run would
/// cost more than the rest of a submit.
pub(crate) fn cached_content_hash(path: &Path) -> Result<String> {
    cached_content_hash_in(&super::local::data_dir().join("agent-hashes"), path)
}

fn cached_content_hash_in(dir: &Path, path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
    let stamp = format!("{}\t{}\t{mtime}", std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display(), meta.len());
    let mut h = crate::jobs::store::Fnv1a::default();
    h.update(stamp.as_bytes());
    let cache = dir.join(h.hex());
    if let Ok(text) = std::fs::read_to_string(&cache)
        && let Some((seen, hash)) = text.split_once('\n')
        && seen == stamp
    {
        return Ok(hash.trim().to_string());
    }
    let hash = content_hash(path)?;
    if std::fs::create_dir_all(cache.parent().expect("has a parent")).is_ok() {
        let _ = crate::jobs::store::write_atomic(&cache, format!("{stamp}\n{hash}\n").as_bytes());
    }
    Ok(hash)
}

/// FNV-1a over the file: names the build, so an unchanged binary is
/// uploaded once and a rebuilt one is never mistaken for it.
fn content_hash(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = crate::jobs::store::Fnv1a::default();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.hex())
}

/// The bucket key of a binary: `agent/<version>/<arch>/hoist-<hash>`.
pub fn binary_key(ec2_arch: &str, path: &Path) -> Result<String> {
    Ok(format!("agent/{}/{ec2_arch}/hoist-{}", env!("CARGO_PKG_VERSION"), cached_content_hash(path)?))
}

/// Upload the binary unless the bucket has it. Returns its key and
/// whether it was uploaded now.
pub async fn ensure_uploaded(store: &Store, ec2_arch: &str, path: &Path) -> Result<(String, bool)> {
    let key = binary_key(ec2_arch, path)?;
    if store.exists(&key).await? {
        return Ok((key, false));
    }
    store.put_file(&key, path).await.with_context(|| format!("uploading the agent binary {}", path.display()))?;
    Ok((key, true))
}

/// What the bootstrap needs to know.
pub struct Boot<'a> {
    pub bucket: &'a str,
    pub binary_key: &'a str,
    pub region: &'a str,
    pub log_group: &'a str,
    pub job: &'a str,
    pub attempt: u32,
    /// An endpoint override in force (a VPC endpoint, a gateway).
    pub endpoint_url: Option<&'a str>,
}

/// Single-quote for the shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The instance's user-data script.
pub fn user_data(b: &Boot<'_>) -> String {
    let endpoint = b.endpoint_url.map(|u| format!(" --endpoint-url {}", quote(u))).unwrap_or_default();
    format!(
        r#"#!/bin/bash
# hoist bootstrap: job {job}, attempt {attempt}.
# Holds no secret: the agent reads the job's secrets from Secrets Manager
# with the instance role.
set -u
exec >>/var/log/hoist-bootstrap.log 2>&1
export AWS_DEFAULT_REGION={region}
BIN=/usr/local/bin/hoist-agent
for try in 1 2 3 4 5; do
  aws s3 cp --only-show-errors{endpoint} s3://{bucket}/{key} "$BIN" && break
  sleep $((try * 5))
done
chmod 0755 "$BIN"
mkdir -p /var/lib/hoist
"$BIN" --region {region}{endpoint} agent --store s3://{bucket} --logs cloudwatch:{group} --job {job_q} --scratch /var/lib/hoist --ec2
echo "hoist agent exited with $?"
# The instance ends with its job: it was launched to terminate on shutdown.
shutdown -h now
"#,
        job = b.job,
        attempt = b.attempt,
        region = quote(b.region),
        bucket = b.bucket,
        key = b.binary_key,
        group = b.log_group,
        job_q = quote(b.job),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_downloads_runs_and_powers_off() {
        let script = user_data(&Boot {
            bucket: "hoist-ws-1-us-east-1",
            binary_key: "agent/0.1.0/x86_64/hoist-abc",
            region: "us-east-1",
            log_group: "/hoist/ws/jobs",
            job: "train-1234abcd",
            attempt: 2,
            endpoint_url: None,
        });
        assert!(script.starts_with("#!/bin/bash\n"));
        assert!(script.contains("aws s3 cp --only-show-errors s3://hoist-ws-1-us-east-1/agent/0.1.0/x86_64/hoist-abc"));
        assert!(script.contains("agent --store s3://hoist-ws-1-us-east-1 --logs cloudwatch:/hoist/ws/jobs --job 'train-1234abcd'"));
        assert!(script.contains("--ec2"));
        let (_, after) = script.split_once("\"$BIN\" --region").unwrap();
        assert!(after.contains("shutdown -h now"), "the instance powers off after the agent, whatever its exit");
    }

    #[test]
    fn only_an_elf_executable_for_the_instance_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("agent");
        std::fs::write(&script, "#!/bin/sh\necho not a binary\n").unwrap();
        let err = agent_binary("x86_64", Some(&script)).unwrap_err().to_string();
        assert!(err.contains("not a 64-bit Linux (ELF) executable"), "{err}");
        let mut elf = vec![0u8; 64];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[18] = 62; // x86-64
        let bin = dir.path().join("hoist");
        std::fs::write(&bin, &elf).unwrap();
        assert!(agent_binary("x86_64", Some(&bin)).is_ok());
        assert!(agent_binary("arm64", Some(&bin)).unwrap_err().to_string().contains("another architecture"));
    }

    #[test]
    fn a_binary_is_hashed_once_and_a_rebuilt_one_again() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let bin = dir.path().join("hoist");
        std::fs::write(&bin, b"build one").unwrap();
        let first = cached_content_hash_in(&cache, &bin).unwrap();
        assert_eq!(first, content_hash(&bin).unwrap());
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1, "remembered");
        assert_eq!(cached_content_hash_in(&cache, &bin).unwrap(), first);
        // A rebuild: new content, new modification time.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&bin, b"build two").unwrap();
        let second = cached_content_hash_in(&cache, &bin).unwrap();
        assert_ne!(second, first);
        assert_eq!(second, content_hash(&bin).unwrap());
    }

    #[test]
    fn foreign_architectures_need_a_binary() {
        let other = if std::env::consts::ARCH == "x86_64" { "arm64" } else { "x86_64" };
        let err = agent_binary(other, None).unwrap_err().to_string();
        assert!(err.contains("--agent-binary"), "{err}");
        assert!(agent_binary(other, Some(Path::new("/nonexistent/hoist"))).unwrap_err().to_string().contains("no such file"));
    }
}
