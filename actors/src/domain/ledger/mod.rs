//! Paper portfolios: an exact, append-only decimal ledger of trades. Pure and synchronous;
//! the portfolio actor logs each [`Mutation`] durably and replays the log on start.

pub mod analytics;
mod error;
mod exits;
mod model;
mod mutation;
mod portfolio;

#[cfg(test)]
mod reference_tests;

pub use error::LedgerError;
pub use exits::{exit_on_candle, target_share};
pub use model::{
    DecimalText, EntryKind, JournalEntry, LedgerEntry, RiskLimits, Side, Trade, TradeSource,
    TradeStatus,
};
pub use mutation::{Mutation, PortfolioSpec};
pub use portfolio::{check_amount, Outcome, Portfolio, DECIMALS_MAX};
