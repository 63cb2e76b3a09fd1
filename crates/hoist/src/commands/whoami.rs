//! `hoist whoami`: who AWS thinks the caller is, and where hoist will act.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::printer::{Report, write_rows};

#[derive(Debug, Serialize)]
pub struct WhoamiReport {
    pub arn: String,
    pub account: String,
    pub user_id: String,
    pub partition: String,
    pub region: String,
    /// The endpoint override in use; `null` means AWS's own endpoints.
    pub endpoint: Option<String>,
    pub workspace: String,
}

impl Report for WhoamiReport {
    fn render_text(&self, out: &mut dyn Write) -> io::Result<()> {
        write_rows(
            out,
            &[
                ("caller", self.arn.clone()),
                ("account", self.account.clone()),
                ("partition", self.partition.clone()),
                ("region", self.region.clone()),
                ("endpoint", self.endpoint.clone().unwrap_or_else(|| "AWS (default endpoints)".into())),
                ("workspace", self.workspace.clone()),
            ],
        )
    }
}

pub async fn run(ctx: &Context) -> Result<ExitCode> {
    let session = ctx.session().await?;
    let id = hoist_aws::identity::caller_identity(&session).await?;
    ctx.printer.report(&WhoamiReport {
        arn: id.arn,
        account: id.account,
        user_id: id.user_id,
        partition: id.partition,
        region: session.region().to_string(),
        endpoint: session.endpoint_url().map(str::to_owned),
        workspace: ctx.settings.workspace.value.to_string(),
    })?;
    Ok(ExitCode::SUCCESS)
}
