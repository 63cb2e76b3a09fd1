//! An MLflow model's files as the `model.tar.gz` SageMaker loads: the
//! model directory at the archive's root (MLmodel, weights, requirements),
//! plus `code/inference.py` (hoist's handler, [`HANDLER`]) and
//! `code/requirements.txt` (the model's own), which AWS's serving
//! containers install and load at start-up.
//!
//! The files are read from the artifact store the registry names: S3 with
//! the caller's AWS credentials, or a tracking server's artifact proxy
//! (`mlflow-artifacts:`) over HTTP.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hoist_aws::s3::Bucket;
use hoist_aws::{AwsError, Session};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{Registry, RegistryError, Resolved, Version};

/// hoist's serving handler for MLflow models (mlflow.pyfunc).
pub const HANDLER: &str = include_str!("serve.py");

/// Where a version's files are.
enum Location {
    S3 { bucket: String, prefix: String },
    /// A path of the tracking server's artifact proxy.
    Proxy(String),
}

fn location(v: &Version) -> Result<Location, RegistryError> {
    let uri = v.artifact_uri.trim_end_matches('/');
    if let Some(rest) = uri.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        return Ok(Location::S3 { bucket: bucket.to_string(), prefix: prefix.to_string() });
    }
    if let Some(rest) = uri.strip_prefix("mlflow-artifacts:") {
        // `mlflow-artifacts:/path` or `mlflow-artifacts://host:port/path`.
        let path = match rest.strip_prefix("//") {
            Some(hosted) => hosted.split_once('/').map(|(_, p)| p).unwrap_or(""),
            None => rest.trim_start_matches('/'),
        };
        return Ok(Location::Proxy(path.to_string()));
    }
    Err(RegistryError::Setup(format!(
        "MLflow model {:?} version {} is stored at {}: hoist reads models from S3 (`s3://…`) or a tracking server's artifact proxy (`mlflow-artifacts:`)",
        v.model, v.version, v.artifact_uri
    )))
}

fn denied_or(uri: &str, e: AwsError) -> anyhow::Error {
    if e.is_access_denied() {
        anyhow::Error::new(RegistryError::ArtifactsDenied { uri: uri.to_string() })
    } else {
        anyhow::Error::new(e)
    }
}

#[derive(Deserialize)]
struct MlModel {
    #[serde(default)]
    flavors: std::collections::BTreeMap<String, IgnoredAny>,
    #[serde(default)]
    mlflow_version: Option<String>,
}

/// What a version's MLmodel file says: its flavours and MLflow version.
pub async fn read_mlmodel(session: &Session, registry: &Registry, v: &Version) -> Result<(Vec<String>, Option<String>)> {
    let uri = format!("{}/MLmodel", v.artifact_uri.trim_end_matches('/'));
    let text = match location(v)? {
        Location::S3 { bucket, prefix } => {
            let key = if prefix.is_empty() { "MLmodel".to_string() } else { format!("{prefix}/MLmodel") };
            Bucket::new(session, &bucket).get(&key).await.map_err(|e| denied_or(&uri, e))?
        }
        Location::Proxy(path) => match registry.download_artifact(&format!("{path}/MLmodel")).await {
            Ok(b) => Some(b.to_vec()),
            Err(RegistryError::Failed { status: 404, .. }) => None,
            Err(e) => return Err(e.into()),
        },
    };
    let Some(text) = text else {
        return Err(RegistryError::NotFound(format!(
            "MLflow model {:?} version {} has no MLmodel file at {uri}: it is not an MLflow model hoist can package",
            v.model, v.version
        ))
        .into());
    };
    let parsed: MlModel = serde_saphyr::from_str(&String::from_utf8_lossy(&text)).map_err(|e| {
        RegistryError::NotFound(format!("{uri} is not a valid MLmodel file: {}", e.without_snippet()))
    })?;
    Ok((parsed.flavors.into_keys().collect(), parsed.mlflow_version))
}

/// Download the version's files, add the handler, pack, and upload to
/// `key` in the workspace's bucket. Returns the archive's size.
pub async fn package(session: &Session, registry: &Registry, r: &Resolved, dest: &Bucket, key: &str) -> Result<u64> {
    let v = &r.version;
    let tmp = tempfile::Builder::new().prefix("hoist-mlflow-").tempdir()?;
    let root = tmp.path().join("model");
    let what = || format!("MLflow model {:?} version {} ({})", v.model, v.version, v.artifact_uri);
    match location(v)? {
        Location::S3 { bucket, prefix } => {
            let source = Bucket::new(session, &bucket);
            let dir = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
            let entries = source.list(&dir).await.map_err(|e| denied_or(&v.artifact_uri, e))?;
            for e in entries.iter().filter(|e| !e.key.ends_with('/')) {
                let dest = safe_join(&root, &e.key[dir.len()..])?;
                std::fs::create_dir_all(dest.parent().unwrap_or(&root))?;
                source.get_to_file(&e.key, &dest).await.map_err(|err| denied_or(&v.artifact_uri, err))?;
            }
        }
        Location::Proxy(path) => {
            let mut dirs = vec![String::new()];
            while let Some(sub) = dirs.pop() {
                let at = if sub.is_empty() { path.clone() } else { format!("{path}/{sub}") };
                for (entry, is_dir) in registry.list_artifacts(&at).await? {
                    // The proxy names entries relative to the listed path,
                    // or (some versions) relative to the root.
                    let name = entry.rsplit('/').next().unwrap_or(&entry).to_string();
                    let rel = if sub.is_empty() { name } else { format!("{sub}/{name}") };
                    if is_dir {
                        dirs.push(rel);
                    } else {
                        let bytes = registry.download_artifact(&format!("{path}/{rel}")).await?;
                        let dest = safe_join(&root, &rel)?;
                        std::fs::create_dir_all(dest.parent().unwrap_or(&root))?;
                        std::fs::write(&dest, &bytes)?;
                    }
                }
            }
        }
    }
    if !root.join("MLmodel").is_file() {
        anyhow::bail!(RegistryError::NotFound(format!("{}: no MLmodel file among its artifacts", what())));
    }
    write_handler(&root, r.mlflow_version.as_deref())?;
    let archive = tmp.path().join("model.tar.gz");
    pack(&root, &archive).with_context(|| format!("packing {}", what()))?;
    let size = std::fs::metadata(&archive)?.len();
    dest.put_file(key, &archive).await?;
    Ok(size)
}

/// `rel` under `root`, refusing names that would leave it.
fn safe_join(root: &Path, rel: &str) -> Result<PathBuf> {
    let p = Path::new(rel);
    if rel.is_empty() || p.is_absolute() || p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        anyhow::bail!("refusing an artifact path that leaves the model directory: {rel:?}");
    }
    Ok(root.join(p))
}

/// `code/inference.py` and `code/requirements.txt` (the model's own
/// requirements, with MLflow added when they do not name it).
fn write_handler(root: &Path, mlflow_version: Option<&str>) -> Result<()> {
    let code = root.join("code");
    std::fs::create_dir_all(&code)?;
    std::fs::write(code.join("inference.py"), HANDLER)?;
    let mut reqs = std::fs::read_to_string(root.join("requirements.txt")).unwrap_or_default();
    let names_mlflow = reqs.lines().any(|l| {
        let l = l.trim();
        l.starts_with("mlflow") && !l.starts_with("mlflow-")
    });
    if !names_mlflow {
        if !reqs.is_empty() && !reqs.ends_with('\n') {
            reqs.push('\n');
        }
        reqs.push_str(&match mlflow_version {
            Some(v) => format!("mlflow=={v}\n"),
            None => "mlflow\n".to_string(),
        });
    }
    std::fs::write(code.join("requirements.txt"), reqs)?;
    Ok(())
}

/// A gzip'd tar of `dir`'s contents (at the archive's root, as SageMaker
/// expects), in name order.
fn pack(dir: &Path, archive: &Path) -> Result<()> {
    let file = std::fs::File::create(archive)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    tar.append_dir_all(".", dir)?;
    tar.into_inner()?.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(uri: &str) -> Version {
        Version { model: "m".into(), version: "1".into(), artifact_uri: uri.into(), run_id: None }
    }

    #[test]
    fn artifact_locations() {
        assert!(matches!(location(&v("s3://b/0/models/m-1/artifacts")), Ok(Location::S3 { bucket, prefix }) if bucket == "b" && prefix == "0/models/m-1/artifacts"));
        assert!(matches!(location(&v("mlflow-artifacts:/0/m/artifacts")), Ok(Location::Proxy(p)) if p == "0/m/artifacts"));
        assert!(matches!(location(&v("mlflow-artifacts://host:5000/0/m/artifacts")), Ok(Location::Proxy(p)) if p == "0/m/artifacts"));
        let e = location(&v("gs://b/m")).err().unwrap().to_string();
        assert!(e.contains("gs://b/m") && e.contains("S3"), "{e}");
    }

    #[test]
    fn the_handler_goes_in_with_the_models_requirements_and_mlflow() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("requirements.txt"), "scikit-learn==1.9.1").unwrap();
        write_handler(d.path(), Some("3.17.2")).unwrap();
        assert_eq!(std::fs::read_to_string(d.path().join("code/requirements.txt")).unwrap(), "scikit-learn==1.9.1\nmlflow==3.17.2\n");
        assert!(std::fs::read_to_string(d.path().join("code/inference.py")).unwrap().contains("def model_fn"));
        std::fs::write(d.path().join("requirements.txt"), "mlflow==3.1\nmlflow-skinny\n").unwrap();
        write_handler(d.path(), Some("3.17.2")).unwrap();
        assert_eq!(std::fs::read_to_string(d.path().join("code/requirements.txt")).unwrap(), "mlflow==3.1\nmlflow-skinny\n");
        assert!(safe_join(d.path(), "../x").is_err() && safe_join(d.path(), "/x").is_err() && safe_join(d.path(), "a/b").is_ok());
    }
}
