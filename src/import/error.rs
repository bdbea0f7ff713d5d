use std::path::PathBuf;

/// One refused row: where it is, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: PathBuf,
    /// CSV: the line number (the header is line 1). JSON: the index in the array.
    pub row: String,
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}, field {}: {}",
            self.file.display(),
            self.row,
            self.field,
            self.message
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{invalid} invalid rows, nothing was imported; first ones:\n{}", listed(.rows))]
    InvalidRows { invalid: usize, rows: Vec<RowError> },
    #[error("the server refused the batch (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    #[error("cannot reach the server at {url}: {message}")]
    Unreachable { url: String, message: String },
}

fn listed(rows: &[RowError]) -> String {
    rows.iter()
        .map(|row| format!("  {row}"))
        .collect::<Vec<_>>()
        .join("\n")
}
