//! Test support for hoist: a real AWS emulator (moto) per test, a real
//! MLflow tracking server backed by it, and an isolated environment for
//! running the `hoist` binary against them.
//!
//! Integration tests talk to a real server over loopback, never to mocks,
//! so the production code path (SDK, signing, endpoint resolution, error
//! parsing) is the one under test. If the emulator cannot be started the
//! test panics with the reason: it never skips silently.

pub mod emulator;
mod env;
pub mod imds;
mod leaks;
pub mod mlflow;
pub mod proxy;
pub mod wire;

pub use emulator::{Emulator, EmulatorOptions, Keys, ACCOUNT, fail_next_endpoint_update, set_endpoint_status, set_training_job_status};
pub use env::IsolatedEnv;
pub use mlflow::MlflowServer;
