//! Retrying one call on specific error codes: IAM's eventual consistency
//! (a role just created is not yet usable by EC2 or an instance profile),
//! and dependency errors while something else is being torn down. Never
//! a fixed sleep: the call is retried with backoff until it succeeds, fails
//! otherwise, or the time budget is spent.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::AwsError;

pub async fn on_codes<T, F, Fut>(codes: &[&str], budget: Duration, mut call: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        match call().await {
            Err(e) if e.code().is_some_and(|c| codes.contains(&c)) && started.elapsed() + delay < budget => {
                tracing::info!(op = %e.op, code = e.code(), ?delay, "not ready yet, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}
