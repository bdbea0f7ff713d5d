//! The backtester: history replayed bar by bar through the very domain code the live
//! actors run: the aggregator, indicators, detectors, signals and levels of
//! [`crate::domain::scanner::SymbolScanner`], and the ledger [`crate::domain::ledger::Portfolio`]
//! with its order, exit, trailing and sizing rules. Only the candle source and the clock
//! differ from a live run.
//!
//! Two kinds of strategy: `sma-cross` ([`sma_cross`]), the reference that behaves as
//! backtesting.py's `SmaCross` so the engine can be checked against a peer, and strategies as
//! data ([`strategy::StrategySpec`], TOML) that take the scanner's signals. Each run gives
//! its trades, decisions with reasons, equity curve and [`metrics::Metrics`]; a signal run
//! also gives the [`outcome`] study of every signal.

pub mod broker;
mod error;
pub mod history;
pub mod metrics;
pub mod outcome;
pub mod result;
pub mod rolling_mean;
mod run;
pub mod signal_orders;
pub mod signal_trader;
pub mod sma_cross;
pub mod strategy;

#[cfg(test)]
mod run_tests;

pub use broker::{Account, Broker, Decision, Intent};
pub use error::BacktestError;
pub use result::{BacktestResult, DecisionRecord, TradeRecord};
pub use run::{
    entry_values, run_signal_strategy, run_sma_cross, spec_account, Series, PROGRESS_EVERY_BARS,
};
pub use signal_trader::{QueuedOrder, SignalAtClose, SignalTrader, Verdict};
pub use strategy::StrategySpec;
