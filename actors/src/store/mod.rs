//! The embedded store: one sled database in the data directory, opened once and shared.
//! Every value is an [`envelope`] (magic, format version, checksum, bincode payload), so a
//! damaged or foreign value is detected and reported, never served as truth.
//!
//! Trees: `symbol_chunks` (one snapshot per symbol, compressed (see `packed`) and cut into
//! small chunks (see `chunks`): candles of every timeframe and the whole
//! analysis state, written together so they always match), `ledger` (each portfolio's
//! append-only log of creation and mutation records, flushed before a mutation is
//! acknowledged), `users`, `sessions` and `api_keys` (the auth records; secrets only as
//! hashes), and `quarantine` (values that failed verification at start-up, kept for
//! inspection).

mod backup;
mod chunks;
mod compact;
mod database;
mod disk_reserve;
mod envelope;
mod error;
pub mod journal;
mod packed;
#[cfg(test)]
pub(crate) mod recovery_tests;
mod repair;
#[cfg(test)]
mod round_trip_tests;

pub use backup::{restore, BackupReport, RestoredBackup};
pub use compact::{compact, directory_bytes, CompactReport};
pub use database::{CheckReport, LastStop, Loaded, RecordTree, Store, StoreProblem, TreeCount};
pub use envelope::{decode, digest, encode, EnvelopeError, FORMAT_VERSION};
pub use error::StoreError;
pub use repair::{repair, RepairReport, TreeSalvage};
