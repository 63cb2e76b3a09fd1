//! An environment for running `hoist` that cannot see the developer's own
//! AWS credentials, profiles, config or home directory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A temporary home with empty AWS config files and no hoist config, and
/// the variables that point at them. Dropping it deletes the directory.
pub struct IsolatedEnv {
    dir: TempDir,
    vars: Vec<(OsString, OsString)>,
}

impl IsolatedEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("hoist-test-").tempdir().expect("create temp dir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".aws")).expect("create temp home");
        // Existing but empty files: the SDK then finds no profile, and does
        // not warn about a missing override file.
        let aws_config = home.join(".aws/config");
        let aws_credentials = home.join(".aws/credentials");
        std::fs::write(&aws_config, "").unwrap();
        std::fs::write(&aws_credentials, "").unwrap();
        let mut env = Self { dir, vars: Vec::new() };
        env.set("HOME", &home);
        env.set("XDG_CONFIG_HOME", home.join(".config"));
        env.set("XDG_DATA_HOME", home.join(".local/share"));
        env.set("AWS_CONFIG_FILE", aws_config);
        env.set("AWS_SHARED_CREDENTIALS_FILE", aws_credentials);
        // Never let the SDK's credential or region chain reach for the
        // instance metadata service: tests talk to loopback only.
        env.set("AWS_EC2_METADATA_DISABLED", "true");
        // hoist's config file is found at its default place under
        // XDG_CONFIG_HOME (HOIST_CONFIG, when set, must name a file that
        // exists).
        if let Some(path) = std::env::var_os("PATH") {
            env.set("PATH", path);
        }
        env
    }

    /// Set (or replace) a variable.
    pub fn set(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> &mut Self {
        let key = key.into();
        self.vars.retain(|(k, _)| *k != key);
        self.vars.push((key, value.into()));
        self
    }

    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.vars.retain(|(k, _)| k != key);
        self
    }

    pub fn vars(&self) -> &[(OsString, OsString)] {
        &self.vars
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where hoist will look for its config file in this environment.
    pub fn hoist_config_path(&self) -> PathBuf {
        self.home().join(".config/hoist/config.toml")
    }

    /// Write hoist's config file.
    pub fn write_hoist_config(&self, text: &str) {
        let path = self.hoist_config_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A `Command` for `program` with exactly this environment (everything
    /// inherited is cleared first, including RUST_BACKTRACE and any AWS_*).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.env_clear().envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd.current_dir(self.dir.path());
        cmd
    }
}

impl Default for IsolatedEnv {
    fn default() -> Self {
        Self::new()
    }
}
