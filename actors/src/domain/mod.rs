//! Pure, synchronous domain code: no actix, no I/O, no clock reads (time is passed in).

pub mod analysis;
pub mod backtest;
mod error;
pub mod ledger;
pub mod market;
pub mod money;
pub mod notify;
pub mod scanner;
#[cfg(test)]
mod scanner_prepend_tests;
pub mod study;
#[cfg(test)]
pub(crate) mod test_candles;

pub use error::DomainError;
