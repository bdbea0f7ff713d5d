use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {path} is in use by another cryptolens process (stop it first, or use another --data-dir)")]
    Locked { path: PathBuf },
    #[error("cannot open the store at {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("store I/O failed: {0}")]
    Io(String),
    #[error("a snapshot of {key} cannot be encoded: {source}")]
    Encode {
        key: String,
        source: super::EnvelopeError,
    },
}

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> Self {
        StoreError::Io(error.to_string())
    }
}
