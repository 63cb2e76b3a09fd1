//! `hoist invoke NAME --body TEXT|@FILE`: one request to an endpoint's
//! runtime API; the answer's bytes go to stdout as they came.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use hoist_aws::endpoints::Endpoints;

use super::Context;
use crate::cli::InvokeArgs;
use crate::exit::UsageError;

/// SageMaker's limit on a real-time request's payload.
const MAX_BODY: usize = 25 << 20;

pub async fn run(ctx: &Context, args: &InvokeArgs) -> Result<ExitCode> {
    let body = read_body(&args.body)?;
    if body.len() > MAX_BODY {
        return Err(UsageError(format!("the request is {} bytes; SageMaker takes at most 25 MiB in one invocation", body.len())).into());
    }
    let session = ctx.session().await?;
    let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
    let n = crate::footprint::names(&session, ctx.settings.workspace.value.as_str(), &opts).await?;
    crate::deploy::file::check_name(&args.name, n.max_endpoint_name()).map_err(UsageError)?;
    let answer = Endpoints::new(&session).invoke(&n.endpoint(&args.name), body, &args.content_type, args.accept.as_deref()).await?;
    if let Some(variant) = &answer.variant {
        tracing::info!("answered by variant {variant} ({})", answer.content_type.as_deref().unwrap_or("no content type"));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(&answer.body)?;
    // A text answer ends its line at a terminal; bytes are left as sent.
    if std::io::IsTerminal::is_terminal(&out) && !answer.body.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `TEXT`, `@FILE`, or `@-` (stdin).
fn read_body(given: &str) -> Result<Vec<u8>> {
    match given.strip_prefix('@') {
        Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).context("reading the request from stdin")?;
            Ok(buf)
        }
        Some(path) => std::fs::read(path).map_err(|e| UsageError(format!("--body @{path}: cannot read {path}: {e}")).into()),
        None => Ok(given.as_bytes().to_vec()),
    }
}
