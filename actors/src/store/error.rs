use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {path} is in use by another cryptolens process (stop it first, or use another --data-dir)")]
    Locked { path: PathBuf },
    #[error("cannot open the store at {path}: {source}")]
    Open { path: PathBuf, source: sled::Error },
    #[error("the store at {path} could not be read: {message}")]
    Unreadable { path: PathBuf, message: String },
    #[error("the disk holding the store has {available_bytes} bytes free, below its reserve of {reserve_bytes}: writes are refused until space is freed")]
    DiskFull {
        available_bytes: u64,
        reserve_bytes: u64,
    },
    #[error("store I/O failed: {0}")]
    Io(#[from] sled::Error),
    #[error("the {tree} tree holds a malformed key {key:?}")]
    MalformedKey { tree: &'static str, key: Vec<u8> },
    #[error("a snapshot of {key} cannot be encoded: {source}")]
    Encode {
        key: String,
        source: super::EnvelopeError,
    },
    #[error("the ledger journal at {path}: {source}")]
    Journal {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the ledger journal could not make records durable: {0}")]
    JournalSync(std::sync::Arc<std::io::Error>),
    #[error("the store's files at {path}: {source}")]
    Compact {
        path: PathBuf,
        source: std::io::Error,
    },
}
