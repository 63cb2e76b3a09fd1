//! `hoist config show`: every setting's effective value and its source.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::printer::Report;
use crate::settings::{ConfigFileInfo, Source, Sourced};

#[derive(Debug, Serialize)]
pub struct ConfigReport {
    pub config_file: ConfigFileInfo,
    pub settings: Vec<Entry>,
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub key: &'static str,
    /// `null` when unset (the AWS SDK's own defaults apply).
    pub value: Option<String>,
    pub source: Source,
}

impl Report for ConfigReport {
    fn render_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let value = |e: &Entry| e.value.clone().unwrap_or_else(|| "(not set)".into());
        let kw = self.settings.iter().map(|e| e.key.len()).max().unwrap_or(0);
        let vw = self.settings.iter().map(|e| value(e).len()).max().unwrap_or(0);
        for e in &self.settings {
            writeln!(out, "{:<kw$}  {:<vw$}  {}", e.key, value(e), e.source)?;
        }
        let state = if self.config_file.exists { "" } else { " (not found; optional)" };
        writeln!(out, "\nconfig file: {}{state}", self.config_file.path.display())
    }
}

fn entry(key: &'static str, s: &Option<Sourced<String>>) -> Entry {
    match s {
        Some(s) => Entry { key, value: Some(s.value.clone()), source: s.source.clone() },
        None => Entry { key, value: None, source: Source::Default },
    }
}

pub async fn show(ctx: &Context) -> Result<ExitCode> {
    let s = &ctx.settings;
    let mut region = entry("region", &s.region);
    if region.value.is_none() {
        // hoist leaves the region to the SDK (AWS profile, instance
        // metadata); report what the SDK found so the user sees what
        // commands will actually use.
        if let Ok(session) = ctx.session().await {
            region = Entry { key: "region", value: Some(session.region().to_string()), source: Source::AwsSdk };
        }
    }
    let report = ConfigReport {
        config_file: s.config_file.clone(),
        settings: vec![
            entry("profile", &s.profile),
            region,
            entry("endpoint_url", &s.endpoint_url),
            Entry { key: "workspace", value: Some(s.workspace.value.to_string()), source: s.workspace.source.clone() },
            Entry {
                key: "output",
                value: Some(format!("{:?}", s.output.value).to_lowercase()),
                source: s.output.source.clone(),
            },
            match &s.backend {
                Some(b) => Entry { key: "backend", value: Some(b.value.to_string()), source: b.source.clone() },
                None => Entry { key: "backend", value: Some("local".into()), source: Source::Default },
            },
            Entry { key: "mode", value: Some(s.mode.value.as_str().into()), source: s.mode.source.clone() },
            entry("kms_key", &s.kms_key),
            match &s.bucket_versioning {
                Some(v) => Entry { key: "bucket_versioning", value: Some(v.value.to_string()), source: v.source.clone() },
                None => Entry { key: "bucket_versioning", value: None, source: Source::Default },
            },
            Entry {
                key: "log_retention_days",
                value: Some(s.log_retention_days.value.to_string()),
                source: s.log_retention_days.source.clone(),
            },
            entry("vpc_id", &s.vpc_id),
            entry("subnet_ids", &s.subnet_ids),
            entry("ami_parameter", &s.ami_parameter),
            entry("sagemaker_subnet_ids", &s.sagemaker_subnet_ids),
            entry("mlflow.tracking_uri", &s.mlflow_tracking_uri),
            entry("sagemaker_role", &s.sagemaker_role),
            entry("instance_profile", &s.instance_profile),
        ],
    };
    ctx.printer.report(&report)?;
    Ok(ExitCode::SUCCESS)
}
