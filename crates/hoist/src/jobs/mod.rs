//! Jobs: the record, the stores it lives in, logs, code bundles and
//! checkpoints. Shared by the commands (which create and read jobs) and
//! the agent (which runs them).

pub mod bundle;
pub mod checkpoint;
pub mod log_batch;
pub mod logstore;
pub mod record;
pub mod store;
