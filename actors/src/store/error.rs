use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {path} is in use by another cryptolens process (stop it first, or use another --data-dir)")]
    Locked { path: PathBuf },
    #[error("cannot open the store at {path}: {source}")]
    Open { path: PathBuf, source: sled::Error },
    #[error("store I/O failed: {0}")]
    Io(#[from] sled::Error),
    #[error("the {tree} tree holds a malformed key {key:?}")]
    MalformedKey { tree: &'static str, key: Vec<u8> },
    #[error("a snapshot of {key} cannot be encoded: {source}")]
    Encode {
        key: String,
        source: super::EnvelopeError,
    },
    #[error("the store's files at {path}: {source}")]
    Compact {
        path: PathBuf,
        source: std::io::Error,
    },
}
