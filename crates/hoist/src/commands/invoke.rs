//! `hoist invoke NAME --body TEXT|@FILE`: one request to an endpoint's
//! runtime API; the answer's bytes go to stdout as they came.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use hoist_aws::endpoints::Endpoints;

use super::Context;
use crate::cli::InvokeArgs;
use crate::exit::UsageError;

/// SageMaker's limit on a real-time request's payload (6 MB).
const MAX_BODY: usize = 6_000_000;

pub async fn run(ctx: &Context, args: &InvokeArgs) -> Result<ExitCode> {
    let body = read_body(&args.body)?;
    if body.is_empty() {
        return Err(UsageError("--body: the request is empty; give its text, or @FILE".into()).into());
    }
    if body.len() > MAX_BODY {
        return Err(UsageError(format!(
            "--body: the request is {} bytes; a real-time endpoint takes at most 6 MB in one invocation",
            body.len()
        ))
        .into());
    }
    let session = ctx.session().await?;
    let opts = crate::footprint::plan::Options::from_settings(&ctx.settings);
    let n = crate::footprint::names(&session, ctx.settings.workspace.value.as_str(), &opts).await?;
    // The file's name, or the name in SageMaker (`hoist endpoints -o json`).
    let name = args.name.strip_prefix(&n.endpoint_prefix()).unwrap_or(&args.name);
    crate::deploy::file::check_name(name, n.max_endpoint_name()).map_err(UsageError)?;
    let sm = Endpoints::new(&session);
    if args.stream {
        let stdout = std::io::stdout();
        let mut ends_line = true;
        let streamed = sm
            .invoke_stream(&n.endpoint(name), body, &args.content_type, args.accept.as_deref(), |part| {
                let mut out = stdout.lock();
                out.write_all(part)?;
                ends_line = part.ends_with(b"\n");
                out.flush()
            })
            .await;
        return match streamed {
            Ok(variant) => {
                if let Some(v) = variant {
                    tracing::info!("answered by variant {v}");
                }
                if std::io::IsTerminal::is_terminal(&std::io::stdout()) && !ends_line {
                    std::io::stdout().write_all(b"\n")?;
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(not_found(&sm, &n, name, e).await),
        };
    }
    let answer = match sm.invoke(&n.endpoint(name), body, &args.content_type, args.accept.as_deref()).await {
        Ok(answer) => answer,
        Err(e) => return Err(not_found(&sm, &n, name, e).await),
    };
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

/// An endpoint that is not there, said in the workspace's terms (with the
/// nearest name); any other error as it is.
async fn not_found(sm: &Endpoints<'_>, n: &crate::footprint::names::Names, name: &str, e: hoist_aws::AwsError) -> anyhow::Error {
    if !(e.code() == Some("ValidationError") && e.message().is_some_and(|m| m.contains("not found"))) {
        return e.into();
    }
    let known: Vec<String> = sm
        .list_endpoints(&n.endpoint_prefix())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.name.trim_start_matches(&n.endpoint_prefix()).to_string())
        .collect();
    let hint = crate::suggest::did_you_mean(name, known.iter().map(String::as_str)).map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default();
    UsageError(format!("no endpoint {name:?} in workspace {}{hint}; `hoist endpoints` lists them", n.workspace)).into()
}

/// `TEXT`, `@FILE`, `@-` (stdin), or `@@TEXT` for text that starts with `@`.
fn read_body(given: &str) -> Result<Vec<u8>> {
    if let Some(text) = given.strip_prefix("@@") {
        return Ok(format!("@{text}").into_bytes());
    }
    match given.strip_prefix('@') {
        Some("") => Err(UsageError("--body @: expected @FILE (a path), @- for stdin, or @@TEXT for text starting with @".into()).into()),
        Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).context("reading the request from stdin")?;
            Ok(buf)
        }
        Some(path) => std::fs::read(path).map_err(|e| UsageError(format!("--body @{path}: cannot read {path}: {e}")).into()),
        None => Ok(given.as_bytes().to_vec()),
    }
}
