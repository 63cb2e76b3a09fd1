//! Asking before changing the account. With `--yes`, no question; at a
//! terminal, a y/N question; anywhere else (CI, a pipe), a refusal: a
//! script that forgot `--yes` must not change an account.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;

use crate::exit::UsageError;

pub fn confirm(yes: bool, question: &str) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(format!(
            "not at a terminal, so nobody can be asked \"{question}?\": nothing was changed. Re-run with --yes to apply the plan above"
        ))
        .into());
    }
    eprint!("{question}? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}
