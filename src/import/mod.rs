//! `cryptolens import`: read candle files, check every row, post them to a running server.

mod client;
mod error;
mod formats;
pub mod timestamp;

pub use client::{run_import, ImportOptions, ImportSummary};
pub use error::{ImportError, RowError};
pub use formats::read_candle_file;
