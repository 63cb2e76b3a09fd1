//! Task-file errors: always file:line:column, the field, and what was
//! expected.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    pub file: PathBuf,
    /// 1-based; 0 when the whole file is at fault (unreadable).
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, e.g. `resources.disk_size`.
    pub field: Option<String>,
    pub message: String,
}

impl TaskError {
    pub fn at(file: &Path, line: usize, column: usize, field: Option<String>, message: impl Into<String>) -> Self {
        Self { file: file.to_path_buf(), line, column, field, message: message.into() }
    }

    pub fn io(file: &Path, err: std::io::Error) -> Self {
        Self {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            field: None,
            message: format!("cannot read the task file: {err}"),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "`{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for TaskError {}
